"""Issue #9 §3: every CSV neutralises formula cells, every JSON is strict, every CLI export is atomic."""

import csv
import dataclasses
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geo.cli import main
from geo.cli.output import print_json
from geo.territory.context import context
from geo.territory.export import geojson_bytes, read_export, to_csv, to_geojson

REPO = Path(__file__).resolve().parents[2]
FORMULAS = ["=cmd|' /C calc'!A0", "+1", "-2+3", "@SUM(A1)", "\t=1", '=HYPERLINK("http://x";"y")']


def strict_loads(data: bytes):
    """json.loads refusing NaN, Infinity and -Infinity (what other JSON readers do)."""

    def refuse(name):
        raise ValueError(f"non-strict JSON constant {name}")

    return json.loads(data.decode("utf-8"), parse_constant=refuse)


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))


@pytest.fixture(scope="module")
def ariege(base_dir):
    """Three real Ariège territories (one EPCI each)."""
    ctx = context()
    communes = ctx.communes[ctx.communes["dep"] == "09"]
    groups = list(communes.groupby("epci").groups.values())[:3]
    return ctx, [{"name": f"CPTS test {i}", "communes": sorted(g)} for i, g in enumerate(groups)]


# --- CSV: formula cells neutralised, read back exactly -----------------------------------------------------


def test_territory_csv_neutralises_formulas_and_read_export_restores_them(ariege):
    ctx, terrs = ariege
    named = [{"name": name, "communes": t["communes"]} for name, t in zip(FORMULAS, terrs * 2)]
    named.append({"id": -5, "name": "Numéro négatif", "communes": terrs[0]["communes"][:2]})
    rows = csv_rows(to_csv(named))
    assert rows[0] == ["cpts_id", "cpts_nom", "code_insee"]
    cells = {}
    for ident, name, code in rows[1:]:
        cells.setdefault(name, set()).add((ident, code))
    for terr in named[:-1]:
        written = "'" + terr["name"]
        assert {code for _, code in cells[written]} == set(terr["communes"])
        assert {ident for ident, _ in cells[written]} == {written}  # the id (the name here) too
    assert {ident for ident, _ in cells["Numéro négatif"]} == {"-5"}  # a number stays a number
    assert all(code.isdigit() for _, _, code in rows[1:])  # codes untouched

    back = read_export(to_csv(named), "export.csv", known=ctx.population)
    assert back.warnings == []
    assert [t["name"] for t in back] == [t["name"] for t in named]  # exactly, tab and CR included
    assert [t["communes"] for t in back] == [sorted(t["communes"]) for t in named]
    assert back[-1]["id"] == "-5"


def test_carriage_return_in_a_name_stays_in_its_cell(ariege):
    ctx, terrs = ariege
    named = [{"name": "\r=2", "communes": terrs[0]["communes"]}]
    rows = csv_rows(to_csv(named))
    assert {tuple(r) for r in rows[1:]} == {("'\r=2", "'\r=2", c) for c in terrs[0]["communes"]}
    assert [t["name"] for t in read_export(to_csv(named), "export.csv", known=ctx.population)] == [
        "\r=2"
    ]


def test_geojson_names_round_trip_unchanged(ariege):
    ctx, terrs = ariege
    named = [{"name": name, "communes": t["communes"]} for name, t in zip(FORMULAS[:3], terrs)]
    doc = strict_loads(geojson_bytes(to_geojson(named, ctx)))
    assert [f["properties"]["name"] for f in doc["features"]] == FORMULAS[
        :3
    ]  # JSON is not a spreadsheet
    back = read_export(
        geojson_bytes(to_geojson(named, ctx)), "export.geojson", known=ctx.population
    )
    assert [t["name"] for t in back] == FORMULAS[:3]


def test_uncovered_communes_csv_neutralises_names(ariege):
    from geo.coverage.gaps import coverage, uncovered_csv

    ctx, _ = ariege
    codes = sorted(ctx.communes.index[ctx.communes["dep"] == "09"])[: len(FORMULAS)]
    communes = ctx.communes.copy()
    communes.loc[codes, "name"] = FORMULAS
    tricky = dataclasses.replace(
        ctx, communes=communes
    )  # same base, commune names as a hostile source would
    result = coverage("dep:09", {}, tricky)
    rows = csv_rows(uncovered_csv(result, tricky))
    assert rows[0] == ["code_insee", "nom", "departement", "population", "cluster"]
    by_code = {r[0]: r for r in rows[1:]}
    assert len(by_code) == len(result.uncovered)
    for code, name in zip(codes, FORMULAS):
        assert by_code[code][1] == "'" + name
        assert by_code[code][2] == "09" and by_code[code][3] == str(ctx.population[code])
    plain = next(c for c in by_code if c not in codes)
    assert by_code[plain][1] == ctx.communes.at[plain, "name"]


def test_proposal_commune_list_goes_through_the_same_writer(ariege):
    """The Propositions page's CSV is geo.territory.export.to_csv with P1, P2... ids."""
    _, terrs = ariege
    numbered = [{**t, "name": "@" + t["name"], "id": f"P{i}"} for i, t in enumerate(terrs, start=1)]
    rows = csv_rows(to_csv(numbered))
    assert {(r[0], r[1]) for r in rows[1:]} == {
        (f"P{i}", "'@" + t["name"]) for i, t in enumerate(terrs, 1)
    }


# --- strict JSON --------------------------------------------------------------------------------------------


def test_geojson_of_territories_without_apl_is_strict_json(isolated_data, tmp_path):
    from geo.sources.apl import import_apl
    from tests.geo.sources.test_apl import GOOD_ROWS, make_workbook

    import_apl(
        make_workbook(tmp_path / "apl.xlsx", {"APL 2023": GOOD_ROWS})
    )  # Foix has an APL, few others
    ctx = context()
    assert ctx.apl is not None
    foix_epci = ctx.communes.at["09122", "epci"]
    with_apl = sorted(ctx.communes.index[ctx.communes["epci"] == foix_epci])
    without = sorted(
        ctx.communes.index[(ctx.communes["dep"] == "09") & (ctx.communes["epci"] != foix_epci)]
    )[:30]
    assert not set(without) & set(ctx.apl.index[ctx.apl["apl"].notna()])
    collection = to_geojson(
        [{"name": "Avec APL", "communes": with_apl}, {"name": "Sans APL", "communes": without}], ctx
    )
    doc = strict_loads(geojson_bytes(collection))
    props = {f["properties"]["name"]: f["properties"] for f in doc["features"]}
    assert isinstance(props["Avec APL"]["apl"], float) and props["Sans APL"]["apl"] is None

    # A figure that is NaN or infinite (numpy, pandas or plain) is written null, never NaN/Infinity.
    feature = collection["features"][1]
    feature["properties"].update(
        apl=float("nan"),
        polsby_popper=np.float64("inf"),
        area_km2=np.float32("-inf"),
        density=pd.NA,
        irdes_mix={"1": np.nan, "2": np.float64(0.5)},
        extra=[np.int64(3), (float("nan"), 1.0)],
    )
    text = geojson_bytes(collection)
    for word in (b"NaN", b"Infinity"):
        assert word not in text
    again = strict_loads(text)["features"][1]["properties"]
    assert again["apl"] is None and again["polsby_popper"] is None and again["area_km2"] is None
    assert again["density"] is None and again["irdes_mix"] == {"1": None, "2": 0.5}
    assert again["extra"] == [3, [None, 1.0]]


def test_cli_json_output_is_strict(ariege, capsys):
    ctx, terrs = ariege
    assert main(["assess", "--communes", ",".join(terrs[0]["communes"]), "--json"]) == 0
    doc = strict_loads(capsys.readouterr().out.encode())
    assert doc["commune_count"] == len(terrs[0]["communes"])
    assert main(["coverage", "--scope", "dep:09", "--json"]) == 0
    doc = strict_loads(capsys.readouterr().out.encode())
    assert doc["scope"] == "dep:09" and doc["uncovered_communes"] == doc["communes"]
    print_json(
        {
            "share": float("nan"),
            "ratio": np.float64("inf"),
            "rows": pd.DataFrame({"x": [1.0, np.nan]}).to_dict("records"),
        }
    )
    assert strict_loads(capsys.readouterr().out.encode()) == {
        "share": None,
        "ratio": None,
        "rows": [{"x": 1.0}, {"x": None}],
    }


# --- atomic CLI export --------------------------------------------------------------------------------------

LIMITED = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead of killing the process
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from geo.cli import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.parametrize("fmt,limit", [("geojson", 4096), ("csv", 200)])
def test_failing_cli_export_keeps_the_previous_file(ariege, tmp_path, fmt, limit):
    _, terrs = ariege
    out = tmp_path / f"export.{fmt}"
    previous = ("cpts_id;cpts_nom;code_insee\nancien;Ancien export;09122\n" * 2).encode()
    out.write_bytes(previous)
    codes = ",".join(terrs[1]["communes"] + terrs[2]["communes"])
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            LIMITED,
            str(limit),
            "export",
            "--communes",
            codes,
            "--name",
            "CPTS trop grosse",
            "--format",
            fmt,
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=300,
    )
    assert done.returncode != 0
    assert "impossible d'écrire" in done.stderr.lower() and "trop gros" in done.stderr
    assert "Traceback" not in done.stderr
    assert out.read_bytes() == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]  # no temporary file left


def test_cli_export_into_missing_folder_is_a_french_error(ariege, tmp_path, capsys):
    _, terrs = ariege
    out = tmp_path / "absent" / "t.geojson"
    assert main(["export", "--communes", terrs[0]["communes"][0], "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "Impossible d'écrire" in err and "dossier introuvable" in err and str(out) in err
    assert not out.parent.exists()
