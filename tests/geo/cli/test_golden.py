"""Every ``--json`` output of the command line keeps its keys and, on the same data, its values.

The golden files in ``golden/`` were made from main before the geo/ package split (session 6) by
running this module with ``CARTOCPTS_REGEN_GOLDEN=1``. The only member allowed to change shape is
``errors`` (the single import report shape, README « Architecture »): it is compared as the list of
its messages. Volatile values (dates of the run, temporary paths) are replaced by placeholders.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, link_base

GOLDEN = Path(__file__).parent / "golden"
REGEN = os.environ.get("CARTOCPTS_REGEN_GOLDEN") == "1"

# Members that differ between two runs on the same data (the duration of an import).
VOLATILE_KEYS = ("seconds", "elapsed_s")
# Timestamps of the run (ISO dates and times) and today's date in any key.
_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?)?")


def _normalise(value, tmp: str):
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "errors":
                item = _messages(item)
            elif key in VOLATILE_KEYS:
                item = f"<{key}>"
            out[key] = _normalise(item, tmp)
        return out
    if isinstance(value, list):
        return [_normalise(item, tmp) for item in value]
    if isinstance(value, str):
        value = value.replace(tmp, "<tmp>")
        return _STAMP.sub("<date>", value)
    return value


def _messages(errors) -> list[str]:
    """The messages of an ``errors`` member, whatever its shape (list, or {count, messages})."""
    if isinstance(errors, dict):
        errors = errors.get("messages", [])
    return [
        e if isinstance(e, str) else json.dumps(e, ensure_ascii=False, sort_keys=True)
        for e in errors or []
    ]


def _ariege_files(folder: Path) -> dict[str, Path]:
    """Input files made from the commune base: an Irdes class by a fixed rule, three CPTS from EPCIs."""
    from geo.base.communes import load

    communes = load("communes")
    ariege = communes[communes["dep"] == "09"].sort_values("insee")
    typo = folder / "typologie.csv"
    typo.write_text(
        "code_insee;classe\n"
        + "".join(f"{code};{int(code[-2:]) % 6 + 1}\n" for code in ariege["insee"]),
        encoding="utf-8",
    )
    groups = ariege.groupby("epci")["insee"].apply(sorted)
    names = ariege.drop_duplicates("epci").set_index("epci")["epci_name"]
    epcis = sorted(groups.index, key=lambda e: (-len(groups[e]), e))[:3]
    lines = ["cpts_id;cpts_nom;code_insee;statut"]
    for i, epci in enumerate(epcis):
        lines += [f"C{i};CPTS {names[epci]};{code};Contractualisee" for code in groups[epci]]
    cpts = folder / "cpts.csv"
    cpts.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"typology": typo, "cpts": cpts}


def _commands(shared: Path, files: dict[str, Path]) -> list[tuple[str, list[str]]]:
    """(golden name, arguments) in the order they run: imports first, then what reads them."""
    return [
        ("data_sources", ["data", "sources", "--json"]),
        (
            "import_finess",
            [
                "import",
                "finess",
                str(shared / "finess" / "etalab-cs1100507-occitanie.csv"),
                "--json",
            ],
        ),
        (
            "import_apl",
            [
                "import",
                "apl",
                str(shared / "apl" / "apl_generalistes_drees_2022_2023.xlsx"),
                "--json",
            ],
        ),
        (
            "import_apl_2022",
            [
                "import",
                "apl",
                str(shared / "apl" / "apl_generalistes_drees_2022_2023.xlsx"),
                "--year",
                "2022",
                "--json",
            ],
        ),
        ("import_typology", ["import", "typology", str(files["typology"]), "--json"]),
        ("import_cpts", ["import", "cpts", str(files["cpts"]), "--vintage", "2024", "--json"]),
        ("assess_foix", ["assess", "--communes", "09122,09225,09029,09207,09268", "--json"]),
        ("assess_toulouse", ["assess", "--communes", "31555", "--json"]),
        ("coverage_dep09", ["coverage", "--scope", "dep:09", "--json"]),
        ("propose_dep09", ["propose", "--scope", "dep:09", "--save", "Proposition 09", "--json"]),
        ("scenario_list", ["scenario", "list", "--json"]),
        (
            "coverage_dep09_scenario",
            ["coverage", "--scope", "dep:09", "--scenario", "Proposition 09", "--json"],
        ),
        (
            "import_population",
            [
                "import",
                "population",
                str(shared / "cog" / "communes.json"),
                "--vintage",
                "2026",
                "--json",
            ],
        ),
        ("assess_toulouse_current", ["assess", "--communes", "31555", "--json"]),
        ("data_status", ["data", "status", "--json"]),
    ]


@pytest.fixture(scope="module")
def outputs(base_dir, tmp_path_factory):
    shared = Path(os.environ.get("CARTOCPTS_SHARED_DATA") or REPO.parent / "shared" / "data")
    if not shared.is_dir():
        pytest.skip(f"données d'exemple absentes : {shared}")
    from geo.base.adjacency import graph

    graph()
    tmp = tmp_path_factory.mktemp("golden")
    data = link_base(base_dir, tmp / "data")
    files = _ariege_files(tmp)
    env = {**os.environ, "CARTOCPTS_DATA_DIR": str(data)}
    results = {}
    for name, args in _commands(shared, files):
        done = subprocess.run(
            [sys.executable, "-m", "geo", *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, f"{name}: {done.stderr}"
        results[name] = _normalise(json.loads(done.stdout), str(tmp))
    return results


NAMES = [name for name, _ in _commands(Path("."), {"typology": Path("."), "cpts": Path(".")})]


@pytest.mark.parametrize("name", NAMES)
def test_cli_json_unchanged(outputs, name):
    path = GOLDEN / f"{name}.json"
    if REGEN:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(
            json.dumps(outputs[name], ensure_ascii=False, indent=1, sort_keys=True) + "\n",
            encoding="utf-8",
        )
    golden = json.loads(path.read_text(encoding="utf-8"))
    assert outputs[name] == golden
