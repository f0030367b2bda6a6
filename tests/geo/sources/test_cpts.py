"""Existing CPTS perimeters: snapping, import of commune lists and polygons, errors, CLI, map layer.

No open file of CPTS perimeters exists, so the input files are test fixtures
written in tmp_path from the real commune base: the EPCIs of Ariège (dep 09)
stand in for CPTS.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import folium
import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
import shapely

from geo.base.snapping import snap_polygon_to_communes
from geo.errors import DataError
from geo.sources.cpts import (
    cpts_perimeters,
    import_cpts,
    parse_cpts,
)
from geo.store import layers as store
from layers.cpts import cpts_layer, perimeter_features
from tests.conftest import REPO


@pytest.fixture(scope="module")
def communes(communes_in_use):
    """Expectations add up the populations in use (legal populations in force), never the 2017 ones."""
    return communes_in_use


ARIEGE = "09"


@pytest.fixture(scope="module")
def ariege(communes):
    return communes[communes["dep"] == ARIEGE].copy()


@pytest.fixture(scope="module")
def epcis(ariege):
    """The Ariège EPCIs (code -> member communes), largest first: the pseudo-CPTS of these tests."""
    groups = ariege.groupby("epci")["insee"].apply(sorted)
    return groups.loc[groups.map(len).sort_values(ascending=False).index].to_dict()


def pop_of(communes, codes) -> int:
    return int(
        communes.set_index("insee")["population"].fillna(0).reindex(sorted(set(codes))).sum()
    )


def write(path: Path, text: str, encoding="utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def list_file(
    path: Path, cpts: list[tuple], sep=";", header=("cpts_id", "cpts_nom", "code_insee", "statut")
) -> Path:
    """Test fixture: one line per (CPTS, commune); ``cpts`` holds (id, name, statut, codes)."""
    lines = [sep.join(header)]
    for cid, name, statut, codes in cpts:
        for code in codes:
            lines.append(sep.join([cid, name, code, statut][: len(header)]))
    return write(path, "\n".join(lines) + "\n")


def layer_state():
    return store.read_meta("cpts"), store.read_layer("cpts")


def three_cpts(ariege, epcis):
    names = ariege.drop_duplicates("epci").set_index("epci")["epci_name"]
    codes = list(epcis)[:3]
    statuts = ["Contractualisee", "EN FONCTIONNEMENT", ""]
    return [(f"C{i}", f"CPTS {names[e]}", statuts[i], epcis[e]) for i, e in enumerate(codes)]


# --------------------------------------------------------------------------- commune lists


def test_commune_list_counts_population_and_meta(isolated_data, communes, ariege, epcis, tmp_path):
    from geo.territory.context import context

    cpts = three_cpts(ariege, epcis)
    report = import_cpts(list_file(tmp_path / "cpts.csv", cpts), vintage="2025-06-30")
    members = [c for *_, codes in cpts for c in codes]
    assert report.to_dict()["cpts_count"] == 3
    assert report.to_dict()["communes_count"] == len(members) == len(set(members))
    assert report.to_dict()["population"] == pop_of(communes, members)
    assert (
        report.to_dict()["unknown_codes"] == []
        and report.to_dict()["overlaps"] == []
        and report.to_dict()["duplicates"] == []
    )
    assert report.to_dict()["statuts"] == {
        "contractualisée": 1,
        "en fonctionnement": 1,
        "non précisé": 1,
    }
    by_id = {c["cpts_id"]: c for c in report.to_dict()["cpts"]}
    for cid, _, _, codes in cpts:
        assert by_id[cid]["communes"] == len(codes) and by_id[cid]["population"] == pop_of(
            communes, codes
        )
        assert by_id[cid]["parts"] == 1  # an EPCI is in one piece
    frame = store.read_layer("cpts")
    assert list(frame.columns) == ["cpts_id", "cpts_nom", "statut", "insee"]
    assert len(frame) == len(members)
    assert set(frame.loc[frame["cpts_id"] == "C0", "statut"]) == {"contractualisée"}
    assert frame.loc[frame["cpts_id"] == "C2", "statut"].isna().all()
    meta = store.read_meta("cpts")
    assert meta["source"] == "Fichier fourni par l'utilisateur"
    assert meta["licence"] == "selon le fournisseur du fichier"
    assert meta["vintage"] == "2025-06-30" and meta["file"] == "cpts.csv" and meta["imported_at"]
    ctx = context()
    first = cpts[0][3][0]
    assert ctx.cpts_members[first] == [("C0", cpts[0][1])]
    lines = report.lines()
    assert any("3 CPTS" in line for line in lines)


def test_default_vintage_is_import_date(isolated_data, ariege, epcis, tmp_path):
    from datetime import date

    report = import_cpts(list_file(tmp_path / "cpts.csv", three_cpts(ariege, epcis)))
    assert (
        report.to_dict()["vintage"]
        == date.today().isoformat()
        == store.read_meta("cpts")["vintage"]
    )


def test_overlap_reported_not_refused(isolated_data, communes, ariege, epcis, tmp_path):
    cpts = three_cpts(ariege, epcis)
    shared = cpts[0][3][0]
    cpts[1] = (*cpts[1][:3], cpts[1][3] + [shared])
    report = import_cpts(list_file(tmp_path / "chevauchement.csv", cpts))
    assert report.to_dict()["overlap_count"] == 1
    (over,) = report.to_dict()["overlaps"]
    assert over["insee"] == shared and sorted(over["cpts"]) == sorted([cpts[0][1], cpts[1][1]])
    assert over["population"] == pop_of(communes, [shared])
    assert over["name"] == communes.set_index("insee").at[shared, "name"]
    assert report.to_dict()["population"] == pop_of(
        communes, [c for *_, codes in cpts for c in codes]
    )  # counted once
    frame = store.read_layer("cpts")
    assert sorted(frame.loc[frame["insee"] == shared, "cpts_id"]) == ["C0", "C1"]
    assert any("plusieurs CPTS" in line for line in report.lines())


def test_non_contiguous_cpts_detected(isolated_data, ariege, epcis, tmp_path):
    from geo.base.adjacency import graph

    west = ariege.loc[ariege.representative_point().x.idxmin(), "insee"]
    east = ariege.loc[ariege.representative_point().x.idxmax(), "insee"]
    assert len(graph().parts([west, east])) == 2
    cpts = three_cpts(ariege, epcis)[:1] + [("LOIN", "CPTS éclatée", "projet", [west, east])]
    report = import_cpts(list_file(tmp_path / "eclatee.csv", cpts))
    (item,) = report.to_dict()["non_contiguous"]
    assert item["cpts_id"] == "LOIN" and item["parts"] == 2 and item["part_sizes"] == [1, 1]
    assert any("CPTS éclatée" in line and "2 parties" in line for line in report.lines())


def test_unknown_codes_listed_and_dropped(isolated_data, ariege, epcis, tmp_path):
    cpts = three_cpts(ariege, epcis)
    cpts[0] = (
        *cpts[0][:3],
        cpts[0][3] + ["09999", "Foix", "9122"],
    )  # 9122: leading zero lost, kept as 09122
    report = parse_cpts(list_file(tmp_path / "inconnus.csv", cpts))[1]
    assert report.to_dict()["unknown_codes"] == ["09999", "Foix"]
    assert report.to_dict()["communes_count"] == len(
        {c for *_, codes in three_cpts(ariege, epcis) for c in codes} | {"09122"}
    )
    assert any("09999" in w and "Foix" in w for w in report.to_dict()["warnings"])


def test_duplicates_reported(isolated_data, ariege, epcis, tmp_path):
    cpts = three_cpts(ariege, epcis)
    again = cpts[2][3][0]
    cpts[2] = (*cpts[2][:3], cpts[2][3] + [again])
    frame, report = parse_cpts(list_file(tmp_path / "doublons.csv", cpts))
    (dup,) = report.to_dict()["duplicates"]
    assert dup["insee"] == again and dup["cpts_id"] == "C2" and len(dup["lines"]) == 2
    assert not frame.duplicated(["cpts_id", "insee"]).any()


def test_xlsx_with_header_aliases_and_numeric_codes(
    isolated_data, communes, ariege, epcis, tmp_path
):
    cpts = three_cpts(ariege, epcis)[:2]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["ID", "Nom", "Code commune", "Statut"])
    for cid, name, _statut, codes in cpts:
        for code in codes:
            sheet.append(
                [cid, name, int(code), "Initiative"]
            )  # a spreadsheet drops the leading zero
    path = tmp_path / "cpts.xlsx"
    book.save(path)
    report = import_cpts(path)
    assert report.to_dict()["cpts_count"] == 2 and report.to_dict()["statuts"] == {"initiative": 2}
    assert set(store.read_layer("cpts")["insee"]) == {c for *_, codes in cpts for c in codes}


def test_round_trip_with_export_csv(isolated_data, communes, ariege, epcis, tmp_path):
    from geo.territory.export import to_csv

    territories = [
        {"id": f"T{i}", "name": name, "communes": codes}
        for i, (_, name, _, codes) in enumerate(three_cpts(ariege, epcis))
    ]
    path = tmp_path / "export.csv"
    path.write_bytes(to_csv(territories))
    report = import_cpts(path)
    frame = store.read_layer("cpts")
    for terr in territories:
        assert sorted(frame.loc[frame["cpts_id"] == terr["id"], "insee"]) == sorted(
            terr["communes"]
        )
        assert set(frame.loc[frame["cpts_id"] == terr["id"], "cpts_nom"]) == {terr["name"]}
    assert report.to_dict()["population"] == pop_of(
        communes, [c for t in territories for c in t["communes"]]
    )


def test_importer_registry(isolated_data, ariege, epcis, tmp_path):
    from geo.sources.registry import IMPORTERS

    importer = IMPORTERS["cpts"]
    report = importer.run(list_file(tmp_path / "cpts.csv", three_cpts(ariege, epcis)))
    assert report.to_dict()["cpts_count"] == 3
    assert importer.lines(report) == report.lines()


# --------------------------------------------------------------------------- polygons


def epci_polygons(ariege, epcis, crs="EPSG:2154") -> tuple[gpd.GeoDataFrame, dict]:
    """Test fixture: the two largest Ariège EPCIs dissolved into polygons, reprojected."""
    chosen = list(epcis)[:2]
    sub = ariege[ariege["epci"].isin(chosen)]
    shapes = sub.dissolve(by="epci")[["epci_name", "geometry"]].reset_index()
    frame = gpd.GeoDataFrame(
        {
            "cpts_id": shapes["epci"],
            "nom": "CPTS " + shapes["epci_name"],
            "statut": ["projet", "Contractualisée"],
        },
        geometry=shapes.geometry,
        crs=ariege.crs,
    ).to_crs(crs)
    return frame, {e: epcis[e] for e in chosen}


@pytest.mark.parametrize("driver,suffix", [("GeoJSON", ".geojson"), ("GPKG", ".gpkg")])
def test_polygons_snap_back_to_their_communes(
    isolated_data, communes, ariege, epcis, tmp_path, driver, suffix
):
    frame, expected = epci_polygons(ariege, epcis)
    path = tmp_path / f"perimetres{suffix}"
    frame.to_file(path, driver=driver)
    report = import_cpts(path)
    assert report.to_dict()["format"] == ("GeoJSON" if driver == "GeoJSON" else "GeoPackage")
    layer = store.read_layer("cpts")
    for epci, codes in expected.items():
        assert sorted(layer.loc[layer["cpts_id"] == epci, "insee"]) == codes
    assert report.to_dict()["population"] == pop_of(
        communes, [c for codes in expected.values() for c in codes]
    )
    assert set(layer["statut"]) == {"projet", "contractualisée"}
    assert report.to_dict()["overlaps"] == []
    # neighbours outside only touch the boundary: nothing is cut by more than 1 %
    assert report.to_dict()["split_communes"] == []


def test_polygon_cutting_communes_reports_them(isolated_data, communes, ariege, tmp_path):
    box = shapely.box(1.35, 42.85, 1.75, 43.1)
    frame = gpd.GeoDataFrame({"name": ["CPTS <b>Rectangle</b>"]}, geometry=[box], crs="EPSG:4326")
    path = tmp_path / "rectangle.geojson"
    frame.to_file(path, driver="GeoJSON")
    report = import_cpts(path)
    members, split = snap_polygon_to_communes(box, communes, rule="half_area")
    layer = store.read_layer("cpts")
    assert sorted(layer["insee"]) == members
    assert sorted(s["insee"] for s in report.to_dict()["split_communes"]) == split and split
    assert all(s["kept"] == (s["share"] >= 0.5) for s in report.to_dict()["split_communes"])
    assert set(layer["cpts_id"]) == {"CPTS-001"}  # generated id
    assert any("coupée" in line for line in report.lines())


# --------------------------------------------------------------------------- bad inputs


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10"
BAD_INPUTS = {
    "empty": ("mauvais.csv", b"\n \n", "est vide"),
    "zero_bytes": ("mauvais.csv", b"", "vide (0 octet)"),
    "png_renamed": ("mauvais.csv", PNG, "binaire"),
    "png_renamed_geojson": ("mauvais.geojson", PNG, "binaire"),
    "truncated": (
        "mauvais.csv",
        b"cpts_id;cpts_nom;code_insee\nA;CPTS A;09122\nA;CPTS A\n",
        "ligne 3 : ligne tronquée",
    ),
    "wrong_separator": (
        "mauvais.csv",
        b"cpts_id:cpts_nom:code_insee\nA:CPTS A:09122\n",
        "séparateur",
    ),
    "missing_column": (
        "mauvais.csv",
        b"cpts_id;cpts_nom;commune\nA;CPTS A;09122\n",
        "« code_insee »",
    ),
    "invalid_statut": (
        "mauvais.csv",
        b"cpts_id;cpts_nom;code_insee;statut\nA;CPTS A;09122;projet\nA;CPTS A;09225;active\n",
        "ligne 3 « active »",
    ),
    "same_id_two_names": (
        "mauvais.csv",
        b"cpts_id;cpts_nom;code_insee\nA;CPTS Foix;09122\nA;CPTS Pamiers;09225\n",
        "identifiant A : « CPTS Foix » (ligne 2) / « CPTS Pamiers » (ligne 3)",
    ),
    "all_codes_unknown": (
        "mauvais.csv",
        b"cpts_id;cpts_nom;code_insee\nA;CPTS A;09999\nA;CPTS A;Foix\n",
        "aucun code commune reconnu",
    ),
    "broken_geojson": (
        "mauvais.geojson",
        b'{"type": "FeatureCollection", "features": [{"type": "Feat',
        "mauvais.geojson, ligne 1, colonne 53 : GeoJSON mal formé",
    ),
    "json_not_geojson": ("mauvais.json", b'{"cpts": ["09122"]}', "une FeatureCollection GeoJSON"),
    "points_geojson": (
        "mauvais.geojson",
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"nom": "X"},
                        "geometry": {"type": "Point", "coordinates": [1.6, 42.9]},
                    }
                ],
            }
        ).encode(),
        "objet n° 1 (Point)",
    ),
    "projected_without_crs": (
        "mauvais.geojson",
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"nom": "X"},
                        "geometry": {
                            "type": "Polygon",
                            "coordinates": [
                                [
                                    [580000, 6200000],
                                    [600000, 6200000],
                                    [600000, 6220000],
                                    [580000, 6200000],
                                ]
                            ],
                        },
                    }
                ],
            }
        ).encode(),
        "coordonnées hors des bornes",
    ),
    "not_sqlite_gpkg": (
        "mauvais.gpkg",
        b"nom;geometrie\nX;POINT(1 2)\n",
        "n'est pas un GeoPackage",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_inputs_keep_previous_layer(isolated_data, ariege, epcis, tmp_path, case):
    import_cpts(list_file(tmp_path / "bon.csv", three_cpts(ariege, epcis)))
    before_meta, before = layer_state()
    filename, data, expected = BAD_INPUTS[case]
    bad = tmp_path / filename
    bad.write_bytes(data)
    with pytest.raises(DataError) as err:
        import_cpts(bad)
    message = str(err.value)
    assert expected in message and filename in message, message
    after_meta, after = layer_state()
    assert after_meta == before_meta
    pd.testing.assert_frame_equal(after, before)


# --------------------------------------------------------------------------- command line


def run_cli(data_dir: Path, *args):
    env = {**os.environ, "CARTOCPTS_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "geo", "import", "cpts", *map(str, args)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_json_and_error(isolated_data, communes, ariege, epcis, tmp_path):
    cpts = three_cpts(ariege, epcis)
    done = run_cli(
        isolated_data, list_file(tmp_path / "cpts.csv", cpts), "--json", "--vintage", "2024"
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["cpts_count"] == 3 and report["vintage"] == "2024"
    assert report["population"] == pop_of(communes, [c for *_, codes in cpts for c in codes])
    before = store.read_meta("cpts")
    assert before["file"] == "cpts.csv"
    bad = write(tmp_path / "vide.csv", "")
    failed = run_cli(isolated_data, bad, "--json")
    assert failed.returncode == 2 and failed.stdout == ""
    assert "Erreur : Le fichier CPTS vide.csv est vide (0 octet)" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert store.read_meta("cpts") == before
    text = run_cli(isolated_data, list_file(tmp_path / "cpts2.csv", cpts))
    assert text.returncode == 0 and "3 CPTS" in text.stdout


# --------------------------------------------------------------------------- perimeters and map layer


def test_perimeters_geometry_and_population(communes, ariege, epcis):
    cpts = three_cpts(ariege, epcis)
    frame = pd.DataFrame(
        [(cid, name, "projet", code) for cid, name, _, codes in cpts for code in codes],
        columns=["cpts_id", "cpts_nom", "statut", "insee"],
    )
    perimeters = cpts_perimeters(frame, communes)
    assert list(perimeters.columns) == [
        "cpts_id",
        "cpts_nom",
        "statut",
        "commune_count",
        "population",
        "geometry",
    ]
    assert perimeters.crs.to_epsg() == 4326 and len(perimeters) == 3
    assert perimeters.geometry.is_valid.all()
    areas = communes.set_index("insee").to_crs("EPSG:6933").area
    for row, (cid, name, _, codes) in zip(perimeters.itertuples(), cpts):
        assert (row.cpts_id, row.cpts_nom, row.commune_count) == (cid, name, len(codes))
        assert row.population == pop_of(communes, codes)
        area = gpd.GeoSeries([row.geometry], crs="EPSG:4326").to_crs("EPSG:6933").area.iloc[0]
        assert area == pytest.approx(areas.reindex(codes).sum(), rel=0.01)
        assert len(shapely.get_parts(row.geometry)) == 1  # an EPCI is in one piece
    assert cpts_perimeters(frame.iloc[:0], communes).empty


def test_cpts_layer_escapes_names(communes, ariege, epcis):
    codes = list(epcis.values())[0]
    frame = pd.DataFrame(
        {"cpts_id": "X", "cpts_nom": "<script>alert(1)</script>", "statut": None, "insee": codes}
    )
    perimeters = cpts_perimeters(frame, communes)
    group = cpts_layer(perimeters)
    assert isinstance(group, folium.FeatureGroup)
    m = folium.Map()
    group.add_to(m)
    cpts_layer_html = m.get_root().render()
    assert "<script>alert(1)</script>" not in cpts_layer_html
    # folium writes the escaped name as JSON, "&" itself being encoded as \u0026
    assert "\\u0026lt;script\\u0026gt;alert(1)\\u0026lt;/script\\u0026gt;" in cpts_layer_html
    assert "dashArray" in cpts_layer_html
    props = perimeter_features(perimeters).iloc[0]
    assert (
        props["nom"] == "&lt;script&gt;alert(1)&lt;/script&gt;" and props["statut"] == "non précisé"
    )
    assert props["communes"] == str(len(codes))
    # geometry is simplified before serialisation: fewer vertices than the dissolved perimeter
    simplified = perimeter_features(perimeters).geometry.iloc[0]
    assert shapely.get_num_coordinates(simplified) < shapely.get_num_coordinates(
        perimeters.geometry.iloc[0]
    )
    assert simplified.is_valid
    assert len(cpts_layer(perimeters.iloc[:0])._children) == 0
