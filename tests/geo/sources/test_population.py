"""Current legal populations: installed by default from the COG package, Etalab's communes.json (real
file), the API (local server), errors."""

import argparse
import json
import subprocess
import sys

import pytest

from geo.base import cog
from geo.base.communes import build_base
from geo.errors import DataError
from geo.sources.population import (
    current_populations,
    population_vintage,
    update_population,
)
from geo.store import layers as store
from tests.support.http_server import LocalHTTPServer

COG = "cog/communes.json"


@pytest.fixture(scope="module")
def cog_entries():
    from tests.conftest import SHARED_DATA

    path = SHARED_DATA / COG
    if not path.exists():
        pytest.skip(f"données d'exemple absentes : {path}")
    return json.loads(path.read_text(encoding="utf-8"))


def api_document(entries, epci_path=None):
    """The shared communes.json turned into an answer of geo.api.gouv.fr (API field names)."""
    epci_of = {}
    if epci_path is not None:
        epci_of = {
            m["code"]: g["code"]
            for g in json.loads(epci_path.read_text(encoding="utf-8"))
            for m in g["membres"]
        }
    out = []
    for e in entries:
        if e["type"] != "commune-actuelle":
            continue
        item = {
            "code": e["code"],
            "nom": e["nom"],
            "codeDepartement": e["departement"],
            "codeRegion": e["region"],
        }
        if "population" in e:
            item["population"] = e["population"]
        if e["code"] in epci_of:
            item["codeEpci"] = epci_of[e["code"]]
        out.append(item)
    return out


LABEL = "population légale 2023, en vigueur en 2026"


@pytest.fixture(scope="module")
def vendor_entries():
    """The entries of the COG package installed at set-up (data/vendor, scripts/fetch_assets.py)."""
    if cog.vendor_version() is None:
        pytest.skip(f"paquet {cog.PACKAGE} absent de {cog.VENDOR_DIR} : lancez « make assets »")
    return {e["code"]: e for e in cog.entries() if e["type"] == "commune-actuelle"}


def test_default_populations_are_the_installed_legal_populations(
    base_dir, communes, vendor_entries
):
    """build_base() (the session's base) writes the package's populations as the population layer."""
    series, vintage = current_populations()
    assert vintage == LABEL == population_vintage()
    assert cog.vendor_version() == "6.0.0"
    assert series["31555"] == vendor_entries["31555"]["population"] == 514819
    expected = {code: e["population"] for code, e in vendor_entries.items() if "population" in e}
    in_base = [code for code in communes["insee"] if code in expected]
    assert series.reindex(in_base).tolist() == [expected[code] for code in in_base]
    meta = store.read_meta("population")
    assert meta["vintage"] == LABEL
    assert meta["source_version"] == "@etalab/decoupage-administratif 6.0.0"
    assert "Etalab" in meta["source"] and "decoupage-administratif 6.0.0" in meta["source"]
    assert "Licence Ouverte" in meta["licence"] and "MIT" in meta["licence"]
    assert meta["cog_year"] == 2026 and meta["imported_at"]
    from geo.territory.context import context

    ctx = context()
    assert ctx.population_vintage == LABEL and ctx.population["31555"] == 514819
    assert ctx.vintages["communes"] == LABEL
    # a second build keeps the layer (same package version)
    before = store.layer_version("population")
    assert not build_base().populations["imported"]
    assert store.layer_version("population") == before


def test_build_reports_missing_figures_and_code_differences(base_dir, communes, vendor_entries):
    """``python -m geo data build --json``: communes without a current figure, codes differing from the COG."""
    done = subprocess.run(
        [sys.executable, "-m", "geo", "data", "build", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(done.stdout)
    pops = report["populations"]
    assert pops["vintage"] == LABEL and pops["package"] == "@etalab/decoupage-administratif 6.0.0"
    base = set(communes["insee"])
    with_figure = {code for code, e in vendor_entries.items() if "population" in e}
    assert pops["without_current_population"]["codes"] == sorted(base - with_figure)
    diff = pops["cog"]
    assert diff["year"] == 2026
    assert diff["not_in_base"]["codes"] == sorted(set(vendor_entries) - base)
    assert diff["not_in_base"]["count"] == len(set(vendor_entries) - base) > 0
    assert "97501" in diff["not_in_base"]["codes"]  # Saint-Pierre-et-Miquelon: outside the base
    assert diff["not_current"]["codes"] == sorted(base - set(vendor_entries))
    lines = subprocess.run(
        [sys.executable, "-m", "geo", "data", "build"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"Populations utilisées : {LABEL}" in lines
    count = len(set(vendor_entries) - base)
    assert f"{count} communes du COG absentes de la base" in lines and "97501" in lines


def test_assess_toulouse_gives_the_legal_population_in_force(base_dir):
    done = subprocess.run(
        [sys.executable, "-m", "geo", "assess", "--communes", "31555", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    out = json.loads(done.stdout)
    assert out["population"] == 514819
    assert out["population_vintage"] == LABEL and "2023" in out["population_vintage"]
    assert out["aci_size"] == 4


def test_user_populations_are_kept_by_the_build(isolated_data, tmp_path, vendor_entries):
    path = tmp_path / "communes.json"
    entry = {"code": "31555", "nom": "Toulouse", "population": 1, "type": "commune-actuelle"}
    path.write_text(json.dumps([entry]), encoding="utf-8")
    update_population(path, vintage=2027)
    report = build_base()
    assert not report.populations["imported"] and report.populations["user_layer"]
    assert population_vintage() == 2027
    assert "conservées" in "\n".join(report.lines())


def test_without_the_package_the_base_keeps_2017(isolated_data, tmp_path, monkeypatch, communes):
    store.remove_layer("population")
    monkeypatch.setattr(cog, "VENDOR_DIR", tmp_path / "absent")
    report = build_base()
    assert report.populations["package"] is None and report.populations["vintage"] == 2017
    assert "make assets" in "\n".join(report.lines())
    assert store.read_layer("population") is None


def test_no_layer_gives_base_2017(isolated_data, communes):
    store.remove_layer("population")  # the default layer, installed by build_base()
    series, vintage = current_populations()
    assert vintage == 2017 and population_vintage() == 2017
    assert series["31555"] == 479553
    assert len(series) == len(communes)


def test_import_shared_communes_json(isolated_data, shared_data, cog_entries, communes):
    progress = []
    report = update_population(
        shared_data / COG, vintage=2026, progress=lambda f, m: progress.append(m)
    )
    assert progress and progress[-1].startswith(
        "Import terminé : Populations légales en vigueur en 2026"
    )
    actual = [e for e in cog_entries if e["type"] == "commune-actuelle"]
    with_pop = [e for e in actual if "population" in e]
    assert report.to_dict()["rows"] == len(with_pop)
    assert report.to_dict()["without_population"]["count"] == len(actual) - len(with_pop) == 6
    assert report.to_dict()["skipped_types"] == {
        "commune-deleguee": 2105,
        "commune-associee": 471,
        "arrondissement-municipal": 45,
    }
    meta = store.read_meta("population")
    assert meta["vintage"] == 2026 and meta["origin"] == "communes.json"
    assert meta["licence"] == "Licence Ouverte / Open Licence" and meta["imported_at"]
    layer = store.read_layer("population").set_index("insee")
    expected = {e["code"]: e for e in with_pop}
    assert layer.loc["31555", "population"] == expected["31555"]["population"]
    assert (layer.loc["31555", "dep"], layer.loc["31555", "reg"]) == ("31", "76")
    assert (
        layer.loc["31555", "epci"] == "243100518"
    )  # Toulouse Métropole, from epci.json beside the file
    assert layer.loc["2A004", "dep"] == "2A"
    assert str(layer["population"].dtype) == "int64"
    # Merge with the 2017 base: overseas collectivities are not in it; report both sides.
    base = set(communes["insee"])
    assert report.to_dict()["communes_not_in_base"]["count"] == len(set(expected) - base)
    assert "97501" in report.to_dict()["communes_not_in_base"]["codes"]
    assert report.to_dict()["base_communes_missing"]["count"] == len(base - set(expected))
    series, vintage = current_populations()
    assert vintage == 2026 and population_vintage() == 2026
    assert series["31555"] == expected["31555"]["population"]
    lines = report.lines()
    assert lines[0].startswith("Populations légales en vigueur en 2026")


def test_context_uses_current_populations(isolated_data, shared_data, cog_entries):
    update_population(shared_data / COG, vintage=2026)
    from geo.territory.context import context

    ctx = context()
    assert ctx.population_vintage == 2026
    toulouse = next(e for e in cog_entries if e["code"] == "31555")
    assert ctx.population["31555"] == toulouse["population"]


def test_file_without_vintage_asks_for_it(isolated_data, shared_data):
    before = store.read_meta("population")
    with pytest.raises(DataError, match=r"communes.json : le millésime.*--vintage 2026"):
        update_population(shared_data / COG)
    assert store.read_meta("population") == before  # the default layer is untouched


def test_declared_vintage_and_merged_communes_share_population(isolated_data, tmp_path, communes):
    base = communes.set_index("insee")
    doc = {
        "millesime": 2025,
        "communes": [
            {
                "code": "09122",
                "nom": "Foix nouvelle",
                "type": "commune-actuelle",
                "population": 12000,
                "departement": "09",
                "region": "76",
                "anciensCodes": ["09225"],
            },
            {
                "code": "31555",
                "nom": "Toulouse",
                "type": "commune-actuelle",
                "population": 500000,
                "departement": "31",
                "region": "76",
            },
            {
                "code": "09225",
                "nom": "Montgailhard",
                "type": "commune-deleguee",
                "chefLieu": "09122",
            },
        ],
    }
    path = tmp_path / "communes.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    report = update_population(path)
    assert report.to_dict()["vintage"] == 2025 and report.to_dict()["rows"] == 2
    assert report.to_dict()["base_communes_merged"] == 1
    series, vintage = current_populations()
    p1, p2 = float(base.at["09122", "population"]), float(base.at["09225", "population"])
    assert series["09122"] + series["09225"] == 12000
    assert series["09225"] == pytest.approx(12000 * p2 / (p1 + p2), abs=1)
    assert "09001" not in series.index  # others fall back to 2017 in the context


@pytest.mark.parametrize(
    "content,match",
    [
        (b"", r"communes.json est vide"),
        (b"   \n", r"communes.json est vide"),
        (b"<html>pas du json</html>", r"communes.json, ligne 1, colonne 1 : JSON mal formé"),
        (b"\xff\xfe\x00garbage", r"communes.json : le fichier JSON n'est pas un texte UTF-8"),
        (b'{"type": "FeatureCollectionX", "items": []}', r"communes.json : forme inattendue"),
        (b'"texte"', r"communes.json : forme inattendue \(str\)"),
        (b"[]", r"communes.json : aucune commune"),
        (
            b'[{"code": "01001", "population": 10}, {"nom": "Sans code", "population": 3}]',
            r"communes.json, entrée n° 1 : champ « code » absent",
        ),
        (
            b'[{"code": "01001", "population": 10}, 12]',
            r"communes.json, entrée n° 1 : un objet JSON",
        ),
        (
            b'[{"code": "1X001", "population": 10}]',
            r"entrée n° 0 : code commune « 1X001 » mal formé",
        ),
        (
            b'[{"code": "01001", "population": "beaucoup"}]',
            r"entrée n° 0 \(commune 01001\) : population « beaucoup » invalide",
        ),
        (
            b'[{"code": "01001", "population": 1}, {"code": "01001", "population": 2}]',
            r"entrées n° 0 et 1 : code commune 01001 en double",
        ),
    ],
)
def test_bad_files(isolated_data, tmp_path, content, match):
    good = tmp_path / "good.json"
    good.write_text(
        json.dumps(
            [
                {
                    "code": "31555",
                    "nom": "Toulouse",
                    "population": 1,
                    "departement": "31",
                    "region": "76",
                    "type": "commune-actuelle",
                }
            ]
        ),
        encoding="utf-8",
    )
    update_population(good, vintage=2026)
    before = store.read_layer("population")
    path = tmp_path / "communes.json"
    path.write_bytes(content)
    with pytest.raises(DataError, match=match):
        update_population(path, vintage=2026)
    assert store.read_layer("population").equals(before)
    assert store.read_meta("population")["origin"] == "good.json"


def test_missing_file(isolated_data, tmp_path):
    with pytest.raises(DataError, match="introuvable"):
        update_population(tmp_path / "absent.json", vintage=2026)


def test_online_api_on_local_server(isolated_data, shared_data, cog_entries):
    document = api_document(cog_entries, shared_data / "cog" / "epci.json")
    with LocalHTTPServer() as server:
        server.add("/communes", json.dumps(document).encode("utf-8"), "application/json")
        report = update_population(f"{server.url}/communes")
        assert report.to_dict()["online"] and report.to_dict()["rows"] == sum(
            1 for d in document if "population" in d
        )
        assert report.to_dict()["vintage_inferred"] and isinstance(report.to_dict()["vintage"], int)
        assert any("fields=code" in hit for hit in server.hits)  # asks only the needed fields
        # A base URL is completed with /communes.
        report = update_population(server.url, vintage=2026)
        assert report.to_dict()["vintage"] == 2026 and not report.to_dict()["vintage_inferred"]
        assert server.hits[-1].startswith("/communes?")
        server.add("/broken", b"<html>", "text/html")
        with pytest.raises(DataError, match="JSON"):
            update_population(f"{server.url}/broken")
    layer = store.read_layer("population").set_index("insee")
    assert layer.loc["31555", "epci"] == "243100518"
    assert store.read_meta("population")["origin"].endswith("/communes")


# ----------------------------------------------------------------------------- command line


def _parser():
    from geo.cli.population import add_commands

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    data = sub.add_parser("data").add_subparsers(dest="data_command", required=True)
    update_sub = data.add_parser("update").add_subparsers(dest="update_command", required=True)
    import_sub = sub.add_parser("import").add_subparsers(dest="import_command", required=True)
    add_commands(sub, update_sub, import_sub)
    return parser


def test_cli_population(isolated_data, tmp_path, capsys):
    path = tmp_path / "communes.json"
    path.write_text(
        json.dumps(
            [
                {
                    "code": "31555",
                    "nom": "Toulouse",
                    "population": 511684,
                    "departement": "31",
                    "region": "76",
                    "type": "commune-actuelle",
                }
            ]
        ),
        encoding="utf-8",
    )
    args = _parser().parse_args(["import", "population", str(path), "--vintage", "2026", "--json"])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["vintage"] == 2026 and out["rows"] == 1
    args = _parser().parse_args(["import", "population", str(path)])
    with pytest.raises(DataError, match="millésime"):
        args.func(args)
    with LocalHTTPServer() as server:
        server.add(
            "/communes",
            json.dumps(
                [
                    {
                        "code": "31555",
                        "nom": "Toulouse",
                        "population": 500000,
                        "codeDepartement": "31",
                        "codeRegion": "76",
                        "codeEpci": "243100518",
                    }
                ]
            ).encode(),
            "application/json",
        )
        args = _parser().parse_args(
            ["data", "update", "population", "--url", f"{server.url}/communes", "--vintage", "2025"]
        )
        assert args.func(args) == 0
    captured = capsys.readouterr()
    assert (
        captured.out.startswith("Populations légales en vigueur en 2025") and "%]" in captured.err
    )
    series, vintage = current_populations()
    assert vintage == 2025 and series["31555"] == 500000
