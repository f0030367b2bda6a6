"""The FINESS importer on the real Occitanie extraction (../shared/data) and on generated bad files."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest
import shapely
from pyproj import Transformer

from geo.cli import finess as cli_finess
from geo.cli.parser import EXTENSIONS
from geo.errors import DataError
from geo.sources.finess import (
    FinessReport,
    crs_codes,
    import_finess,
    insee_codes,
    latest_resource,
    parse_finess,
    update_finess,
)
from geo.store import layers as store
from tests.conftest import REPO
from tests.support.http_server import LocalHTTPServer

FINESS = "finess/etalab-cs1100507-occitanie.csv"
MANIFEST = "finess;etalab;5;2026-01-05"


def structure(
    nofiness,
    name,
    dep,
    commune,
    categ="603",
    label="Maison de santé (L.6223-3)",
    rs=None,
    dateouv="2019-05-02",
    siret="12345678900011",
    voie="DE LA MAIRIE",
) -> str:
    """One ``structureet`` line (32 fields) of the etalab-cs1100507 layout."""
    fields = [
        "structureet",
        nofiness,
        "0" + nofiness[1:],
        rs or name[:30],
        name,
        "",
        "",
        "3",
        "R",
        voie,
        "B",
        "",
        commune,
        dep,
        "",
        f"{dep}000 VILLE",
        "",
        "",
        categ,
        label,
        "",
        "",
        siret,
        "8621Z",
        "",
        "",
        "",
        "",
        dateouv,
        dateouv,
        "2024-01-01",
        "",
    ]
    assert len(fields) == 32
    return ";".join(fields)


def geoloc(
    nofiness, x, y, source="1,ATLASANTE,96,BAN,EPSG:2154 RGF93 / Lambert-93 (Métropole)"
) -> str:
    return f"geolocalisation;{nofiness};{x:.1f};{y:.1f};{source};2026-01-05"


def lambert93(lon, lat, epsg=2154):
    return Transformer.from_crs(4326, epsg, always_xy=True).transform(lon, lat)


def write(tmp_path, name, lines, encoding="utf-8") -> str:
    path = tmp_path / name
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return str(path)


@pytest.fixture
def real_file(shared_data):
    return shared_data / FINESS


@pytest.fixture
def imported(isolated_data, real_file):
    """The real file imported into a fresh data directory; returns its stored metadata."""
    report = import_finess(real_file)
    assert report.to_dict()["msp"] == 372
    return store.read_meta("finess")


def assert_layer_intact(meta_before):
    layer = store.read_layer("finess")
    assert layer is not None
    assert int((layer["kind"] == "msp").sum()) == 372
    assert store.read_meta("finess") == meta_before


# ----------------------------------------------------------------------------- the real file


def test_import_real_occitanie_file(isolated_data, real_file):
    progress = []
    report = import_finess(real_file, progress=lambda f, m: progress.append((f, m)))
    assert set(report.to_dict()) == {
        "msp",
        "centres_sante",
        "cpts_seats",
        "without_coordinates",
        "outside_commune",
        "skipped_lines",
        "errors",
    }
    assert (
        report.to_dict()["msp"],
        report.to_dict()["centres_sante"],
        report.to_dict()["cpts_seats"],
    ) == (372, 280, 82)
    assert report.to_dict()["skipped_lines"] == 0 and report.to_dict()["errors"] == {
        "count": 0,
        "messages": [],
    }
    assert (
        progress[-1][0] == 1.0
        and progress[-1][1]
        == "Import terminé : 372 maisons de santé pluriprofessionnelles (MSP, catégorie 603)"
    )

    layer = store.read_layer("finess")
    assert list(layer.columns) == [
        "nofinesset",
        "nofinessej",
        "name",
        "kind",
        "categetab",
        "category_label",
        "address",
        "insee",
        "insee_arrondissement",
        "dep",
        "dateouv",
        "siret",
        "approx_location",
        "outside_commune",
        "geometry",
    ]
    assert layer.crs.to_epsg() == 4326
    assert len(layer) == 372 + 280 + 82
    assert layer["nofinesset"].is_unique
    assert set(layer["kind"]) == {"msp", "centre_sante", "cpts_seat"}
    assert set(layer.loc[layer["kind"] == "centre_sante", "categetab"]) == {"124"}  # never 228
    # Every point in Occitanie.
    assert layer.geometry.notna().all()
    assert layer.geometry.x.between(-0.5, 5).all() and layer.geometry.y.between(42, 45.1).all()
    assert (
        layer["dep"]
        .isin(["09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82"])
        .all()
    )
    # The file is Windows-1252: accents come out right.
    assert "Maison de santé (L.6223-3)" in set(layer["category_label"])

    foix = layer[layer["name"].str.contains("PAYS DE FOIX") & (layer["kind"] == "msp")]
    assert len(foix) == 1
    row = foix.iloc[0]
    assert row["insee"] == "09122" and row["dep"] == "09"
    assert row["nofinesset"] == "090004219"
    assert row["address"] == "2 TER AVENUE DU CARDIE, 09000 FOIX"
    assert row["dateouv"] == "2018-10-11" and row["siret"] == "85196508700014"
    assert not row["approx_location"] and not row["outside_commune"]

    meta = store.read_meta("finess")
    assert meta["vintage"] == "2026-03-24"
    assert meta["origin_file"] == "etalab-cs1100507-occitanie.csv"
    assert meta["source"].startswith("Ministère chargé de la santé")
    assert meta["licence"] == "Licence Ouverte / Open Licence"
    assert meta["imported_at"] and meta["rows"] == 734
    assert meta["counts"]["msp"] == 372 and meta["counts"]["cpts_seats"] == 82


def test_points_fall_in_their_commune(isolated_data, real_file, communes):
    frame, report = parse_finess(real_file)
    assert store.read_layer("finess") is None  # parse never writes
    polygons = communes.set_index("insee").geometry.reindex(frame["insee"]).to_numpy()
    inside = shapely.dwithin(polygons, frame.geometry.to_numpy(), 0.001)
    assert inside.sum() == len(frame) - report.to_dict()["outside_commune"]


def test_describe_report_is_french():
    report = FinessReport(
        details={
            "msp": 3,
            "centres_sante": 2,
            "cpts_seats": 1,
            "without_coordinates": 1,
            "outside_commune": 0,
            "skipped_lines": 1,
        }
    )
    report.skipped(["ligne 4 : 12 champs au lieu de 32, ligne ignorée"])
    lines = report.lines()
    assert lines[0].startswith("3 maisons de santé pluriprofessionnelles")
    assert any("1 lignes ignorées" in line for line in lines)
    assert lines[-1].endswith("ligne 4 : 12 champs au lieu de 32, ligne ignorée")


# ----------------------------------------------------------------------------- codes, CRS, placement


def test_insee_codes_and_crs_rules():
    import pandas as pd

    deps = pd.Series(["75", "69", "13", "9A", "9C", "2A", "09", "31", "", "97"])
    coms = pd.Series(["112", "383", "205", "105", "302", "004", "122", "555", "101", "4"])
    insee, arr = insee_codes(deps, coms)
    assert list(insee[:8]) == [
        "75056",
        "69123",
        "13055",
        "97105",
        "97302",
        "2A004",
        "09122",
        "31555",
    ]
    assert insee[8] is None or pd.isna(insee[8])
    assert list(arr[:3]) == ["75112", "69383", "13205"] and arr[3:].isna().all()
    sources = pd.Series(
        [
            "1,ATLASANTE,96,BAN,EPSG:2154 RGF93",
            "LAMBERT_93",
            "UTM_N20",
            "UTM_S40",
            "",
            "",
            "x EPSG:32620 y",
            "UTM_N22",
            "",
        ]
    )
    dep = pd.Series(["31", "31", "971", "974", "973", "976", "971", "973", "975"])
    assert list(crs_codes(sources, dep)) == [2154, 2154, 5490, 2975, 2972, 4471, 32620, 2972, 32621]


def test_arrondissements_overseas_and_placement(isolated_data, tmp_path, communes):
    paris = lambert93(2.395, 48.835)
    lyon = lambert93(4.85, 45.76)
    marseille = lambert93(5.40, 43.29)
    basse_terre = lambert93(-61.726, 15.998, epsg=5490)
    toulouse = lambert93(1.444, 43.604)
    lines = [
        MANIFEST,
        structure("750000001", "MSP PARIS 12", "75", "112"),
        structure(
            "690000001", "CENTRE DE SANTE LYON 3", "69", "383", categ="124", label="Centre de Santé"
        ),
        structure(
            "130000001",
            "SIEGE CPTS MARSEILLE",
            "13",
            "205",
            categ="604",
            label="Communauté Professionnelle Territoriale de Santé",
        ),
        structure("9A0000001", "MSP BASSE TERRE", "9A", "105"),
        structure("9A0000002", "MSP BASSE TERRE BIS", "9A", "105", rs="MSP BT BIS"),
        structure("090000001", "MSP SANS COORDONNEES", "09", "122"),
        structure("090000002", "MSP MAL PLACEE", "09", "122"),
        structure("310000001", "HOPITAL", "31", "555", categ="101", label="Centre Hospitalier"),
        structure(
            "310000002",
            "CENTRE DE SANTE INFIRMIER",
            "31",
            "555",
            categ="228",
            label="Centre de santé infirmier",
        ),
        geoloc("750000001", *paris),
        geoloc("690000001", *lyon),
        geoloc("130000001", *marseille),
        geoloc(
            "9A0000001",
            *basse_terre,
            source="1,ATLASANTE,96,BAN,EPSG:5490 RGAF09 / UTM zone 20N (Guadeloupe)",
        ),
        geoloc("9A0000002", *basse_terre, source="UTM_N20"),
        geoloc("090000002", *toulouse),  # a Foix MSP placed in Toulouse
    ]
    report = import_finess(write(tmp_path, "petit.csv", lines))
    assert (
        report.to_dict()["msp"],
        report.to_dict()["centres_sante"],
        report.to_dict()["cpts_seats"],
    ) == (5, 1, 1)
    assert report.to_dict()["without_coordinates"] == 1 and report.to_dict()["outside_commune"] == 1
    layer = store.read_layer("finess").set_index("nofinesset")
    assert layer.loc["750000001", ["insee", "insee_arrondissement", "dep"]].tolist() == [
        "75056",
        "75112",
        "75",
    ]
    assert layer.loc["690000001", ["insee", "insee_arrondissement"]].tolist() == ["69123", "69383"]
    assert layer.loc["130000001", ["insee", "insee_arrondissement"]].tolist() == ["13055", "13205"]
    assert layer.loc["130000001", "kind"] == "cpts_seat"
    for code in ("9A0000001", "9A0000002"):
        row = layer.loc[code]
        assert row["insee"] == "97105" and row["dep"] == "971"
        assert abs(row.geometry.x + 61.726) < 1e-4 and abs(row.geometry.y - 15.998) < 1e-4
        assert not row["outside_commune"]
    assert layer.loc["9A0000002", "name"] == "MSP BASSE TERRE BIS"  # rslongue preferred to rs
    assert abs(layer.loc["750000001"].geometry.x - 2.395) < 1e-6
    # Without coordinates: at a point of its commune, flagged approximate.
    foix = communes.set_index("insee").geometry["09122"]
    approx = layer.loc["090000001"]
    assert (
        approx["approx_location"]
        and not approx["outside_commune"]
        and foix.contains(approx.geometry)
    )
    assert (
        layer.loc["090000002", "outside_commune"] and not layer.loc["090000002", "approx_location"]
    )
    assert (
        "310000001" not in layer.index and "310000002" not in layer.index
    )  # categories 101 and 228
    assert layer.loc["750000001", "address"] == "3 BIS RUE DE LA MAIRIE, 75000 VILLE"
    assert store.read_meta("finess")["vintage"] == "2026-01-05"


# ----------------------------------------------------------------------------- bad input


def test_truncated_file_skips_the_cut_line(isolated_data, tmp_path, real_file):
    data = real_file.read_bytes()
    cut = data.index(b"structureet;090004219")  # cut inside the MSP du Pays de Foix line
    path = tmp_path / "tronque.csv"
    end = cut
    for _ in range(11):  # keep 11 separators: 12 fields
        end = data.index(b";", end) + 1
    path.write_bytes(data[:end])
    line = data[:cut].count(b"\n") + 1
    report = import_finess(path)
    assert report.to_dict()["skipped_lines"] == 1
    assert report.to_dict()["errors"] == {
        "count": 1,
        "messages": [f"ligne {line} : 12 champs au lieu de 32, ligne ignorée"],
    }
    assert report.to_dict()["msp"] < 372


def test_bad_lines_counted_then_refused_beyond_a_tenth(imported, tmp_path):
    good = [structure(f"0900000{i:02d}", f"MSP {i}", "09", "122") for i in range(10)]
    lines = [
        MANIFEST,
        *good,
        "structureet;090000099;090000098;MSP COUPEE;;;;1;R;DE",
    ]  # 1 bad line in 11
    report = parse_finess(write(tmp_path, "quelques.csv", lines))[1]
    assert report.to_dict()["skipped_lines"] == 1 and report.to_dict()["msp"] == 10
    assert report.to_dict()["errors"] == {
        "count": 1,
        "messages": ["ligne 12 : 10 champs au lieu de 32, ligne ignorée"],
    }
    assert report.to_dict()["without_coordinates"] == 10
    with pytest.raises(
        DataError,
        match=r"assez\.csv : 2 lignes sur 11 sont mal formées ou ignorées \(plus de 10 %\)",
    ):
        parse_finess(
            write(tmp_path, "assez.csv", [MANIFEST, *good[:9], *lines[-1:], "structureet;1;2"])
        )

    bad = [
        MANIFEST,
        good[0],
        "structureet;1;2;3",
        "structureet;090000077;x",
        'structureet;"non fermé;x;y',
    ]
    with pytest.raises(DataError) as err:
        import_finess(write(tmp_path, "mauvais.csv", bad))
    message = str(err.value)
    assert "mauvais.csv : 3 lignes sur 4" in message and "plus de 10 %" in message
    assert "ligne 3 : 4 champs au lieu de 32" in message
    assert_layer_intact(imported)


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"", r"vide \(0 octet\)"),
        (b"\r\n  \r\n", "vide"),
        (b"\xef\xbb\xbf", "vide"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10", "n'est pas un fichier FINESS"),
        (
            "code_insee;nom;population\n09122;Foix;9600\n".encode(),
            r"n'est pas un fichier FINESS.*ligne 1.*code_insee",
        ),
        (
            MANIFEST.encode() + b"\ngeolocalisation;090000001;1;2;LAMBERT_93;2026-01-05\n",
            "aucune ligne « structureet »",
        ),
    ],
    ids=["zero-octet", "blanc", "bom-seul", "png", "autre-csv", "sans-structureet"],
)
def test_bad_files_are_refused_and_layer_kept(imported, tmp_path, content, expected):
    path = tmp_path / "finess.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=expected) as err:
        import_finess(path)
    assert "finess.csv" in str(err.value)
    assert_layer_intact(imported)


def test_wrong_separator(imported, tmp_path, real_file):
    head = real_file.read_bytes().split(b"\r\n")[:50]
    path = tmp_path / "virgules.csv"
    path.write_bytes(b"\r\n".join(line.replace(b";", b",") for line in head))
    with pytest.raises(DataError, match=r"virgules\.csv, ligne 1 : mauvais séparateur \(virgule"):
        import_finess(path)
    assert_layer_intact(imported)


def test_wrong_separator_after_manifest(imported, tmp_path):
    lines = [MANIFEST] + [
        structure(f"0900000{i:02d}", f"MSP {i}", "09", "122").replace(";", ",") for i in range(3)
    ]
    with pytest.raises(DataError, match=r"ligne 2 : mauvais séparateur \(virgule"):
        import_finess(write(tmp_path, "melange.csv", lines))
    assert_layer_intact(imported)


def test_manifest_without_date(isolated_data, tmp_path):
    report = import_finess(
        write(
            tmp_path,
            "sans-date.csv",
            ["finess;etalab;1;", structure("340000006", "MSP", "34", "028")],
        )
    )
    assert report.to_dict()["skipped_lines"] == 0 and report.to_dict()["msp"] == 1
    assert store.read_meta("finess")["vintage"] == "inconnue"


def test_missing_file(imported, tmp_path):
    with pytest.raises(DataError, match="introuvable"):
        import_finess(tmp_path / "absent.csv")
    assert_layer_intact(imported)


def test_encodings_detected(isolated_data, tmp_path):
    name = "MAISON DE SANTÉ DE BÉDARIEUX « L'ORB »"
    lines = [
        MANIFEST,
        structure("340000001", name, "34", "028"),
        geoloc("340000001", *lambert93(3.157, 43.616)),
    ]
    for encoding in ("cp1252", "utf-8", "utf-8-sig"):
        frame, report = parse_finess(write(tmp_path, f"{encoding}.csv", lines, encoding=encoding))
        assert frame["name"].tolist() == [name], encoding
        assert frame["category_label"].tolist() == ["Maison de santé (L.6223-3)"]
        assert frame["insee"].tolist() == ["34028"] and not frame["outside_commune"].any()


def test_quoted_fields(isolated_data, tmp_path):
    line = structure("340000002", "MSP X", "34", "028").split(";")
    line[4] = '"MSP ""LES OLIVIERS""; BEDARIEUX"'
    frame, report = parse_finess(write(tmp_path, "guillemets.csv", [MANIFEST, ";".join(line)]))
    assert (
        frame["name"].tolist() == ['MSP "LES OLIVIERS"; BEDARIEUX']
        and report.to_dict()["skipped_lines"] == 0
    )


def test_duplicated_rows_keep_the_first(isolated_data, tmp_path):
    first = structure("340000003", "MSP PREMIERE", "34", "028")
    again = structure("340000003", "MSP DOUBLON", "34", "028")
    other = structure("340000004", "MSP AUTRE", "34", "028")
    lines = [
        MANIFEST,
        first,
        other,
        again,
        geoloc("340000003", *lambert93(3.157, 43.616)),
        geoloc("340000003", *lambert93(1.44, 43.6)),
    ]
    lines += [
        structure(f"3400001{i:02d}", f"MSP {i}", "34", "028") for i in range(16)
    ]  # 2 duplicates in 21 lines
    report = import_finess(write(tmp_path, "doublons.csv", lines))
    assert report.to_dict()["msp"] == 18 and report.to_dict()["skipped_lines"] == 2
    messages = report.to_dict()["errors"]["messages"]
    assert any(
        e.startswith("ligne 4 : établissement 340000003 en double (déjà lu ligne 2)")
        for e in messages
    )
    assert any(e.startswith("ligne 6 :") and "en double" in e for e in messages)
    layer = store.read_layer("finess").set_index("nofinesset")
    assert layer.loc["340000003", "name"] == "MSP PREMIERE"
    assert not layer.loc[
        "340000003", "outside_commune"
    ]  # the first geolocation (in Bédarieux) is kept


def test_no_category_kept_is_refused(imported, tmp_path):
    lines = [
        MANIFEST,
        structure("310000001", "HOPITAL", "31", "555", categ="101", label="Centre Hospitalier"),
    ]
    with pytest.raises(DataError, match="aucune MSP"):
        import_finess(write(tmp_path, "hopitaux.csv", lines))
    assert_layer_intact(imported)


def test_without_manifest_vintage_unknown(isolated_data, tmp_path):
    import_finess(write(tmp_path, "sans-entete.csv", [structure("340000005", "MSP", "34", "028")]))
    assert store.read_meta("finess")["vintage"] == "inconnue"


# ----------------------------------------------------------------------------- command line


def _parser():

    parser = argparse.ArgumentParser(prog="python -m geo")
    sub = parser.add_subparsers(dest="command", required=True)
    data = sub.add_parser("data").add_subparsers(dest="data_command", required=True)
    update_sub = data.add_parser("update").add_subparsers(dest="update_command", required=True)
    import_sub = sub.add_parser("import").add_subparsers(dest="import_command", required=True)
    cli_finess.add_commands(sub, update_sub, import_sub)
    return parser


def test_cli_import_json_and_text(isolated_data, real_file, capsys):
    args = _parser().parse_args(["import", "finess", str(real_file), "--json"])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {
        "msp": 372,
        "centres_sante": 280,
        "cpts_seats": 82,
        "without_coordinates": 0,
        "outside_commune": 0,
        "skipped_lines": 0,
        "errors": {"count": 0, "messages": []},
    }
    args = _parser().parse_args(["import", "finess", str(real_file)])
    assert args.func(args) == 0
    captured = capsys.readouterr()
    assert "372 maisons de santé pluriprofessionnelles" in captured.out
    assert "Lecture du fichier FINESS" in captured.err


def test_cli_bad_file_raises_data_error(isolated_data, tmp_path):
    path = tmp_path / "image.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n")
    args = _parser().parse_args(["import", "finess", str(path), "--json"])
    with pytest.raises(DataError, match="image.csv"):
        args.func(args)


def test_cli_subprocess_when_registered(isolated_data, real_file):
    assert cli_finess in EXTENSIONS  # registered: « import finess » always exists
    env = {**__import__("os").environ, "CARTOCPTS_DATA_DIR": str(isolated_data)}
    done = subprocess.run(
        [sys.executable, "-m", "geo", "import", "finess", str(real_file), "--json"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["msp"] == 372
    bad = isolated_data.parent / "vide.csv"
    bad.write_bytes(b"")
    done = subprocess.run(
        [sys.executable, "-m", "geo", "import", "finess", str(bad)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2 and "vide.csv" in done.stderr and "Traceback" not in done.stderr


# ----------------------------------------------------------------------------- online update


API_PATH = "/api/1/datasets/finess-extraction-du-fichier-des-etablissements/"


@pytest.fixture
def server(shared_data):
    with LocalHTTPServer(shared_data) as srv:
        yield srv


def _dataset(server) -> dict:
    return {
        "resources": [
            {"title": "Documentation", "url": f"{server.url}/files/finess-documentation.pdf"},
            {
                "title": "Ancienne extraction",
                "url": f"{server.url}/files/etalab-cs1100507-stock-20250101-0400.csv",
            },
            {
                "title": "Extraction",
                "url": f"{server.url}/files/etalab-cs1100507-stock-20260105-0400.csv",
            },
            {
                "title": "Autre",
                "url": f"{server.url}/files/etalab-cs1100502-stock-20270101-0400.csv",
            },
        ]
    }


def test_update_picks_newest_and_imports(isolated_data, server, real_file):
    server.add(API_PATH, json.dumps(_dataset(server)).encode(), "application/json")
    server.add(
        "/files/etalab-cs1100507-stock-20260105-0400.csv", real_file.read_bytes(), "text/csv"
    )
    server.add("/files/etalab-cs1100507-stock-20250101-0400.csv", b"ancienne", "text/csv")
    progress = []
    report = update_finess(
        api_base=f"{server.url}/api/1", progress=lambda f, m: progress.append((f, m))
    )
    assert report.to_dict()["url"] == f"{server.url}/files/etalab-cs1100507-stock-20260105-0400.csv"
    assert report.to_dict()["msp"] == 372 and report.to_dict()["cpts_seats"] == 82
    assert "/files/etalab-cs1100507-stock-20250101-0400.csv" not in server.hits
    assert (isolated_data / "downloads" / "etalab-cs1100507-stock-20260105-0400.csv").exists()
    assert any("Téléchargement" in m for _, m in progress) and progress[-1][0] == 1.0
    assert [f for f, _ in progress] == sorted(f for f, _ in progress)
    meta = store.read_meta("finess")
    assert (
        meta["origin_file"] == "etalab-cs1100507-stock-20260105-0400.csv"
        and meta["url"] == report.to_dict()["url"]
    )


def test_update_via_cli(isolated_data, server, real_file, capsys):
    server.add(API_PATH, json.dumps(_dataset(server)).encode(), "application/json")
    server.add(
        "/files/etalab-cs1100507-stock-20260105-0400.csv", real_file.read_bytes(), "text/csv"
    )
    args = _parser().parse_args(
        ["data", "update", "finess", "--api", f"{server.url}/api/1", "--json"]
    )
    assert args.func(args) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["msp"] == 372
    assert "Téléchargement" in captured.err


def test_update_without_matching_resource(imported, server):
    server.add(
        API_PATH,
        json.dumps({"resources": [{"url": f"{server.url}/doc.pdf"}]}).encode(),
        "application/json",
    )
    with pytest.raises(DataError, match="etalab-cs1100507-stock"):
        update_finess(api_base=f"{server.url}/api/1")
    assert_layer_intact(imported)


def test_update_download_failure_keeps_layer(imported, server):
    server.add(API_PATH, json.dumps(_dataset(server)).encode(), "application/json")
    server.add_status("/files/etalab-cs1100507-stock-20260105-0400.csv", 404)
    with pytest.raises(DataError, match="404"):
        update_finess(api_base=f"{server.url}/api/1")
    assert_layer_intact(imported)


def test_latest_resource_rules():
    url, name = latest_resource(
        {
            "resources": [
                {"url": "https://x/etalab-cs1100507-stock-20251231-2359.csv"},
                {"url": "https://x/etalab-cs1100507-stock-20260105-0400.csv"},
                {"url": "https://x/etalab-cs1100507-stock-20260105-0300.csv"},
                {"url": None},
            ]
        }
    )
    assert name == "etalab-cs1100507-stock-20260105-0400.csv" and url.endswith(name)
    with pytest.raises(DataError, match="Aucun fichier"):
        latest_resource({"resources": []})
