"""Issue #9 §4, CPTS perimeters importer: reading limits, hostile GeoJSON/GeoPackage, CSV-injection round trip.

Inputs are built in tmp_path from the real commune base (Ariège, dep 09).
"""

import json
import sqlite3

import geopandas as gpd
import pytest

from geo.errors import DataError
from geo.formats.csv_cells import csv_bytes
from geo.sources import cpts
from geo.sources.limits import MAX_JSON_DEPTH
from geo.store import layers as store


@pytest.fixture(scope="module")
def ariege(communes):
    return communes[communes["dep"] == "09"].reset_index(drop=True)


def square(x=1.5, y=42.95, d=0.05):
    return {
        "type": "Polygon",
        "coordinates": [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]],
    }


def feature(geometry=None, **props):
    return {
        "type": "Feature",
        "properties": props or {"nom": "CPTS Test"},
        "geometry": geometry or square(),
    }


def collection(*features):
    return {"type": "FeatureCollection", "features": list(features)}


def refused(path, *expected):
    with pytest.raises(DataError) as err:
        cpts.import_cpts(path)
    message = str(err.value)
    assert path.name in message, message
    for part in expected:
        assert part in message, message
    return message


def write_json(path, doc):
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- GeoJSON structure


HOSTILE_GEOJSON = {
    "features_not_list": ({"type": "FeatureCollection", "features": 5}, ["« features »", "nombre"]),
    "features_scalars": (
        {"type": "FeatureCollection", "features": [1, "x", None]},
        ["objet n° 1", "« Feature »"],
    ),
    "second_feature_null": (collection(feature(), None), ["objet n° 2"]),
    "geometry_string": (
        collection(
            feature(), {"type": "Feature", "properties": {"nom": "B"}, "geometry": "POLYGON"}
        ),
        ["objet n° 2", "« geometry »"],
    ),
    "geometry_list": (
        collection({"type": "Feature", "properties": {}, "geometry": [1, 2]}),
        ["objet n° 1", "« geometry »"],
    ),
    "properties_list": (
        collection({"type": "Feature", "properties": ["nom"], "geometry": square()}),
        ["objet n° 1", "« properties »"],
    ),
    "properties_string": (
        collection(feature(), {"type": "Feature", "properties": "x", "geometry": square()}),
        ["objet n° 2", "« properties »"],
    ),
    "coordinates_string": (
        collection(feature({"type": "Polygon", "coordinates": "1,2"})),
        ["objet n° 1"],
    ),
    "position_text": (
        collection(
            feature({"type": "Polygon", "coordinates": [[["1", "2"], [1, 3], [2, 3], [1, 2]]]})
        ),
        ["objet n° 1", "position invalide"],
    ),
    "position_bool": (
        collection(
            feature({"type": "Polygon", "coordinates": [[[True, 2], [1, 3], [2, 3], [1, 2]]]})
        ),
        ["objet n° 1", "position invalide"],
    ),
    "ring_too_short": (
        collection(feature({"type": "Polygon", "coordinates": [[[1, 42], [2, 43]]]})),
        ["objet n° 1", "moins de 4 positions"],
    ),
    "huge_integer": (
        collection(feature({"type": "Polygon", "coordinates": [[[10**320, 2], [1, 3], [2, 3]]]})),
        ["objet n° 1", "position invalide"],
    ),
    "multipolygon_number": (
        collection(feature({"type": "MultiPolygon", "coordinates": 7})),
        ["objet n° 1"],
    ),
    "unknown_geometry_type": (
        collection(feature({"type": "Circle", "coordinates": [1, 2]})),
        ["objet n° 1", "« Circle »"],
    ),
    "geometry_type_object": (
        collection(feature({"type": {"a": 1}, "coordinates": [1, 2]})),
        ["objet n° 1"],
    ),
    "top_level_list": ([collection(feature())], ["commencer par « { »"]),
    "empty_collection": (collection(), ["aucun objet"]),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_GEOJSON))
def test_hostile_geojson_refused_in_french(isolated_data, tmp_path, case):
    doc, expected = HOSTILE_GEOJSON[case]
    refused(write_json(tmp_path / "hostile.geojson", doc), *expected)
    assert store.read_layer("cpts") is None


def test_deeply_nested_json_refused_without_recursion(isolated_data, tmp_path):
    path = tmp_path / "profond.geojson"
    depth = 200_000
    path.write_text('{"type": "FeatureCollection", "features": ' + "[" * depth + "]" * depth + "}")
    refused(path, f"plus de {MAX_JSON_DEPTH} niveaux")


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_refused(isolated_data, tmp_path, literal):
    path = tmp_path / "nonfini.geojson"
    text = json.dumps(collection(feature())).replace("1.5,", f"{literal},", 1)
    assert literal in text
    path.write_text(text)
    refused(path, "GeoJSON refusé")


def test_feature_cap(isolated_data, tmp_path, monkeypatch):
    monkeypatch.setattr(cpts, "MAX_FEATURES", 3)
    refused(
        write_json(tmp_path / "nombreux.geojson", collection(*[feature() for _ in range(4)])),
        "4 objets",
        "3 au plus",
    )
    report = cpts.import_cpts(
        write_json(tmp_path / "trois.geojson", collection(*[feature() for _ in range(3)]))
    )
    assert report.to_dict()["rows"] == 3


def test_vertex_cap(isolated_data, tmp_path, monkeypatch):
    monkeypatch.setattr(cpts, "MAX_VERTICES", 12)
    path = write_json(
        tmp_path / "sommets.geojson", collection(feature(), feature(), feature(square(1.6)))
    )
    refused(path, "plus de 12 sommets", "objet n° 3")


def test_non_polygon_geometries_named(isolated_data, tmp_path):
    line = {"type": "LineString", "coordinates": [[1.5, 42.9], [1.6, 43.0]]}
    refused(
        write_json(tmp_path / "lignes.geojson", collection(feature(), feature(line))),
        "objet n° 2 (LineString)",
        "polygones attendus",
    )


def test_valid_geojson_still_imports_with_object_properties(isolated_data, ariege, tmp_path):
    """A real polygon (Foix's commune shape) with nested property values and an unclosed ring still imports."""
    foix = ariege.set_index("insee").geometry["09122"]
    geom = json.loads(gpd.GeoSeries([foix]).to_json())["features"][0]["geometry"]
    if geom["type"] == "Polygon":
        geom["coordinates"][0] = geom["coordinates"][0][:-1]  # ring left open: closed by the reader
    doc = collection(
        {
            "type": "Feature",
            "properties": {"nom": "CPTS Foix", "meta": {"a": [1, 2]}, "statut": "projet"},
            "geometry": geom,
        }
    )
    report = cpts.import_cpts(write_json(tmp_path / "foix.geojson", doc))
    assert report.to_dict()["cpts_count"] == 1
    layer = store.read_layer("cpts")
    assert "09122" in set(layer["insee"]) and set(layer["statut"]) == {"projet"}


# --------------------------------------------------------------------------- GeoPackage


def test_gpkg_that_is_not_sqlite(isolated_data, tmp_path):
    path = tmp_path / "faux.gpkg"
    path.write_bytes(b"SQLite format 3\x00" + b"\x07" * 2000)
    refused(path, "GeoPackage")


def test_sqlite_without_layer(isolated_data, tmp_path):
    path = tmp_path / "vide.gpkg"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (a INTEGER)")
    con.commit()
    con.close()
    refused(path, "aucune couche de géométries")


def test_gpkg_feature_cap(isolated_data, ariege, tmp_path, monkeypatch):
    frame = gpd.GeoDataFrame(
        {"nom": ["A", "B", "C"]}, geometry=list(ariege.geometry[:3]), crs="EPSG:4326"
    )
    path = tmp_path / "trois.gpkg"
    frame.to_file(path, driver="GPKG")
    monkeypatch.setattr(cpts, "MAX_FEATURES", 2)
    refused(path, "3 objets", "2 au plus")


def test_file_size_cap_is_read_limited(isolated_data, tmp_path, monkeypatch):
    import geo.sources.limits

    path = tmp_path / "gros.csv"
    path.write_bytes(b"cpts_id;cpts_nom;code_insee\n" + b"A;CPTS A;09122\n" * 100)
    monkeypatch.setattr(geo.sources.limits.read_limited, "__defaults__", (None, 1000))
    refused(path, "trop gros")


# --------------------------------------------------------------------------- CSV injection round trip


def test_formula_like_names_read_back_unchanged(isolated_data, tmp_path):
    name = '=HYPERLINK("http://x")'
    path = tmp_path / "export.csv"
    path.write_bytes(
        csv_bytes(
            ["cpts_id", "cpts_nom", "code_insee", "statut"],
            [
                ["@id1", name, "09122", "projet"],
                ["@id1", name, "09225", "projet"],
                ["+2", "-CPTS moins", "09001", ""],
            ],
        )
    )
    assert b"'=HYPERLINK" in path.read_bytes()  # neutralised on disk
    report = cpts.import_cpts(path)
    layer = store.read_layer("cpts")
    assert set(layer.loc[layer["insee"].isin(["09122", "09225"]), "cpts_nom"]) == {name}
    assert set(layer.loc[layer["insee"].isin(["09122", "09225"]), "cpts_id"]) == {"@id1"}
    assert set(layer.loc[layer["insee"] == "09001", "cpts_nom"]) == {"-CPTS moins"}
    assert set(layer.loc[layer["insee"] == "09001", "cpts_id"]) == {"+2"}
    assert {c["cpts_nom"] for c in report.to_dict()["cpts"]} == {name, "-CPTS moins"}


def test_large_list_imports(isolated_data, communes, tmp_path):
    """A 100,000-row list (500 overlapping CPTS of 200 real communes each) imports with its overlaps counted."""
    codes = sorted(communes["insee"])
    lines = ["cpts_id;cpts_nom;code_insee"]
    for k in range(500):
        start = k * 50
        lines += [f"C{k};CPTS {k};{code}" for code in codes[start : start + 200]]
    path = tmp_path / "grande.csv"
    path.write_text("\n".join(lines) + "\n")
    report = cpts.import_cpts(path)
    assert (
        report.to_dict()["rows"] == 100_000
        and report.to_dict()["cpts_count"] == 500
        and report.to_dict()["memberships"] == 100_000
    )
    covered = set(codes[: 499 * 50 + 200])
    assert report.to_dict()["communes_count"] == len(covered)
    # every commune past the first 50 is in 2 to 4 windows of 200 codes shifted by 50
    assert report.to_dict()["overlap_count"] == len(covered) - 50 - 50
