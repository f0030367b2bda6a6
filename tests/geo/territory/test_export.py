"""Export to GeoJSON (RFC 7946) and CSV, and re-import into a scenario (round trip)."""

import json
import subprocess
import sys

import pyogrio
import pytest
import shapely

from geo.errors import DataError
from geo.store.scenarios import ScenarioStore
from geo.territory.context import context
from geo.territory.export import geojson_bytes, read_export, to_csv, to_geojson


@pytest.fixture(scope="module")
def territories(base_dir):
    ctx = context()
    communes = ctx.communes[ctx.communes["dep"] == "09"]
    groups = list(communes.groupby("epci").groups.values())[:3]
    return ctx, [{"name": f"CPTS test {i}", "communes": sorted(g)} for i, g in enumerate(groups)]


def test_geojson_rfc7946(territories, tmp_path):
    ctx, terrs = territories
    collection = to_geojson(terrs, ctx, scenario="Essai")
    path = tmp_path / "export.geojson"
    path.write_bytes(geojson_bytes(collection))
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert "crs" not in raw
    frame = pyogrio.read_dataframe(path)
    assert len(frame) == 3
    assert frame.crs.to_epsg() == 4326
    for geom in frame.geometry:
        for poly in shapely.get_parts(geom):
            assert shapely.is_ccw(poly.exterior)
            assert all(not shapely.is_ccw(ring) for ring in poly.interiors)
    props = raw["features"][0]["properties"]
    for key in (
        "name",
        "status",
        "population",
        "population_vintage",
        "aci_size",
        "communes",
        "commune_count",
        "msp_count",
        "centres_sante_count",
        "irdes_mix",
        "apl",
        "contiguous",
        "parts",
        "departements",
        "regions",
        "area_km2",
        "scenario",
        "exported_at",
        "sources",
    ):
        assert key in props
    assert props["population"] == int(ctx.population_series.loc[terrs[0]["communes"]].sum())
    base_2017 = ctx.communes.loc[terrs[0]["communes"], "population"].fillna(0).sum()
    assert props["population_2017"] == int(base_2017)
    minx, miny, maxx, maxy = frame.total_bounds
    assert 0 < minx < maxx < 3 and 42 < miny < maxy < 44  # Ariège, longitude first


def test_round_trip_geojson_and_csv(territories, tmp_path):
    ctx, terrs = territories
    store = ScenarioStore(tmp_path / "s.sqlite")
    for label, data in (("geojson", geojson_bytes(to_geojson(terrs, ctx))), ("csv", to_csv(terrs))):
        scen = store.create_from(f"Retour {label}", read_export(data, f"export.{label}"))
        got = {t.name: t.communes for t in scen.territories}
        assert got == {t["name"]: set(t["communes"]) for t in terrs}


def test_read_export_errors():
    with pytest.raises(DataError, match="vide"):
        read_export(b"", "a.csv")
    with pytest.raises(DataError, match="ligne 1"):
        read_export(b"id,nom,insee\n1,a,09122\n", "a.csv")
    with pytest.raises(DataError, match="ligne 3"):
        read_export("cpts_id;cpts_nom;code_insee\n1;A;09122\n2;B\n".encode(), "a.csv")


def test_cli_export_and_import(territories, tmp_path):
    ctx, terrs = territories
    out = tmp_path / "t.geojson"
    codes = ",".join(terrs[0]["communes"])
    subprocess.run(
        [
            sys.executable,
            "-m",
            "geo",
            "export",
            "--communes",
            codes,
            "--name",
            "CPTS A",
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    feature = json.loads(out.read_text())["features"][0]
    assert feature["properties"]["communes"] == terrs[0]["communes"]
    csv_out = tmp_path / "t.csv"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "geo",
            "export",
            "--communes",
            codes,
            "--name",
            "CPTS A",
            "--out",
            str(csv_out),
            "--format",
            "csv",
        ],
        check=True,
        capture_output=True,
    )
    assert csv_out.read_text(encoding="utf-8-sig").splitlines()[0] == "cpts_id;cpts_nom;code_insee"
    bad = subprocess.run(
        [sys.executable, "-m", "geo", "export", "--communes", "09122,12345678", "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "inconnus" in bad.stderr and "Traceback" not in bad.stderr
