"""The negotiation ledger on both back ends (SQLite, then a real PostgreSQL): communes claimed by two shared
scenarios of two users and by an imported CPTS perimeter, roles, decisions, the losers' notices, the
command line and the CSV export. Real Ariège communes; the CPTS perimeter (no open file of CPTS perimeters
exists, none in ../shared/data) is the EPCI of Saint-Girons, imported through the real CPTS importer."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest

from geo.coverage.disputes import disputes_csv, disputes_in_scope, ledger
from geo.errors import DataError
from geo.sources.cpts import import_cpts
from geo.store.scenarios import ScenarioStore
from geo.territory.context import context
from tests.conftest import REPO

FOIX, PAMIERS, SAINT_GIRONS, LAVELANET = "09122", "09225", "09261", "09160"
ARBITRE, MARC, PAUL, LECTEUR = "Claire (ARS)", "Marc", "Paul", "Léa"
CPTS_NAME = '=HYPERLINK("http://x";"y")'  # a formula payload, as a CPTS file could hold
PAUL_TERRITORY = "+1 CPTS de la Basse Ariège"


@pytest.fixture
def location(scenario_location, isolated_data):
    """The store (SQLite in the data folder, so that the command line finds it; or a PostgreSQL schema)."""
    if isinstance(scenario_location, str):
        return scenario_location
    return isolated_data / "scenarios.sqlite"


@pytest.fixture
def couserans(isolated_data, communes):
    """The imported ``cpts`` layer: one CPTS, the EPCI of Saint-Girons (real communes), Foix left out."""
    epci = communes.loc[communes["insee"] == SAINT_GIRONS, "epci"].iloc[0]
    members = sorted(communes.loc[communes["epci"] == epci, "insee"])
    assert SAINT_GIRONS in members and FOIX not in members and PAMIERS not in members
    path = isolated_data.parent / "cpts.csv"
    text = "cpts_id;cpts_nom;code_insee\n" + "".join(
        f'C1;"{CPTS_NAME.replace(chr(34), chr(34) * 2)}";{code}\n' for code in members
    )
    path.write_text(text, encoding="utf-8")
    import_cpts(path)
    assert context().cpts_members[SAINT_GIRONS] == [("C1", CPTS_NAME)]
    return members


@pytest.fixture
def team(location, couserans):
    """Claire (arbitre), Marc and Paul (editeurs), Léa (lecteur); Marc's and Paul's shared scenarios both
    claim Pamiers, Paul's also Saint-Girons (in the imported CPTS); Paul's private draft claims Foix."""
    ScenarioStore(location, user=ARBITRE).add_user(ARBITRE, "arbitre")
    admin = ScenarioStore(location, user=ARBITRE)
    for name, role in ((MARC, "editeur"), (PAUL, "editeur"), (LECTEUR, "lecteur")):
        admin.add_user(name, role)
    marc, paul = ScenarioStore(location, user=MARC), ScenarioStore(location, user=PAUL)
    marc.create("Ariège Marc", scope="dep:09")
    marc_tid = marc.add_territory("Ariège Marc", "CPTS du Pays de Foix")
    marc.change_communes("Ariège Marc", marc_tid, add=[FOIX, PAMIERS])
    paul.create("Ariège Paul", scope="dep:09")
    paul_tid = paul.add_territory("Ariège Paul", PAUL_TERRITORY)
    paul.change_communes("Ariège Paul", paul_tid, add=[PAMIERS, SAINT_GIRONS])
    paul.create("Brouillon de Paul")
    paul.share("Brouillon de Paul", "prive")
    draft = paul.add_territory("Brouillon de Paul", "Essai")
    paul.change_communes("Brouillon de Paul", draft, add=[FOIX])
    stores = {n: ScenarioStore(location, user=n) for n in (ARBITRE, MARC, PAUL, LECTEUR)}
    return stores, marc_tid, paul_tid


def test_claims_from_two_shared_scenarios_and_the_cpts_layer(team):
    stores, marc_tid, paul_tid = team
    found = {d.code_insee: d for d in ledger(stores[LECTEUR]).disputes()}
    # Foix: Marc's shared scenario and Paul's private draft (a draft claims nothing); Lavelanet: CPTS only.
    assert sorted(found) == [PAMIERS, SAINT_GIRONS]
    assert [c.key for c in found[PAMIERS].claimants] == [
        f"territoire:{marc_tid}",
        f"territoire:{paul_tid}",
    ]
    assert [(c.scenario, c.name, c.owner) for c in found[PAMIERS].claimants] == [
        ("Ariège Marc", "CPTS du Pays de Foix", MARC),
        ("Ariège Paul", PAUL_TERRITORY, PAUL),
    ]
    assert [c.key for c in found[SAINT_GIRONS].claimants] == [f"territoire:{paul_tid}", "cpts:C1"]
    assert found[SAINT_GIRONS].claimants[1].name == CPTS_NAME
    assert all(d.status == "ouvert" and not d.winner and d.active for d in found.values())
    rows = disputes_in_scope(stores[MARC], "dep:09")
    assert [(r["code_insee"], r["commune"]) for r in rows] == [
        (PAMIERS, "Pamiers"),
        (SAINT_GIRONS, "Saint-Girons"),
    ]
    assert disputes_in_scope(stores[MARC], "dep:31") == []
    assert [r["code_insee"] for r in disputes_in_scope(stores[MARC], "reg:76")] == [
        PAMIERS,
        SAINT_GIRONS,
    ]


def test_roles_refused_and_nothing_recorded(team):
    stores, marc_tid, paul_tid = team
    with pytest.raises(DataError, match="rôle « lecteur » : contester la commune 09225"):
        ledger(stores[LECTEUR]).contest(PAMIERS)
    with pytest.raises(DataError, match="rôle « lecteur » : annoter"):
        ledger(stores[LECTEUR]).note(PAMIERS, "Avis de Léa")
    with pytest.raises(
        DataError, match="rôle « editeur » : arbitrer la commune 09225 demande le rôle « arbitre »"
    ):
        ledger(stores[MARC]).decide(PAMIERS, f"territoire:{marc_tid}")
    with pytest.raises(DataError, match="n'est pas disputée"):
        ledger(stores[MARC]).contest(FOIX)
    assert ledger(stores[ARBITRE]).history(PAMIERS) == []
    dispute = ledger(stores[ARBITRE]).dispute(PAMIERS)
    assert dispute.status == "ouvert" and dispute.notes == [] and not dispute.decided_by


def test_contest_decide_enact_with_history(team):
    stores, marc_tid, paul_tid = team
    paul = ledger(stores[PAUL])
    assert paul.contest(PAMIERS, note="Pamiers regarde vers la Basse Ariège").status == "contesté"
    paul.note(PAMIERS, "Les MSP de Pamiers sont dans notre projet")
    claire = ledger(stores[ARBITRE])
    with pytest.raises(DataError, match="ne désigne pas un seul"):
        claire.decide(PAMIERS, "CPTS inconnue")
    with pytest.raises(DataError, match="indiquez le territoire gagnant"):
        claire.decide(PAMIERS, None)
    decided = claire.decide(PAMIERS, "Ariège Marc / CPTS du Pays de Foix", note="Bassin de Foix")
    assert decided.status == "arbitré" and decided.winner == f"territoire:{marc_tid}"
    assert decided.decided_by == ARBITRE and decided.decided_at
    assert decided.winner_label == "« CPTS du Pays de Foix » (scénario « Ariège Marc », Marc)"
    assert [n["text"] for n in decided.notes] == [
        "Pamiers regarde vers la Basse Ariège",
        "Les MSP de Pamiers sont dans notre projet",
        "Bassin de Foix",
    ]
    # After a decision, an editeur can no longer contest it; an arbitre enacts it (winner kept).
    with pytest.raises(DataError, match="contester la décision sur la commune 09225"):
        paul.contest(PAMIERS)
    enacted = claire.decide(PAMIERS, None, status="acte")
    assert enacted.status == "acté" and enacted.winner == f"territoire:{marc_tid}"
    steps = [
        (h["user"], h["previous"], h["status"])
        for h in claire.history(PAMIERS)
        if h["action"] == "statut"
    ]
    assert steps == [
        (PAUL, "ouvert", "contesté"),
        (ARBITRE, "contesté", "arbitré"),
        (ARBITRE, "arbitré", "acté"),
    ]

    # The loser is told; the winner is not.
    told = ledger(stores[PAUL]).decided_against("Ariège Paul", paul_tid)
    assert [(r["code_insee"], r["status"], r["decided_by"]) for r in told] == [
        (PAMIERS, "acté", ARBITRE)
    ]
    assert told[0]["winner_label"].startswith("« CPTS du Pays de Foix »")
    assert ledger(stores[MARC]).decided_against("Ariège Marc") == []
    # The CPTS wins Saint-Girons: Paul's territory is told too.
    claire.decide(SAINT_GIRONS, CPTS_NAME)
    assert [r["code_insee"] for r in ledger(stores[PAUL]).decided_against("Ariège Paul")] == [
        PAMIERS,
        SAINT_GIRONS,
    ]
    # Paul gives Pamiers up: no longer told, and the ledger keeps the decided commune (no longer active).
    stores[PAUL].change_communes("Ariège Paul", paul_tid, remove=[PAMIERS])
    assert [r["code_insee"] for r in ledger(stores[PAUL]).decided_against("Ariège Paul")] == [
        SAINT_GIRONS
    ]
    kept = ledger(stores[LECTEUR]).dispute(PAMIERS)
    assert (
        kept.status == "acté" and not kept.active and kept.winner_label.startswith("« CPTS du Pays")
    )


def test_csv_export_neutralises_formula_names(team):
    stores, marc_tid, paul_tid = team
    ledger(stores[ARBITRE]).decide(SAINT_GIRONS, "cpts:C1", note="=1+1")
    data = disputes_csv(disputes_in_scope(stores[LECTEUR], "dep:09"))
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:4] == ["code_insee", "commune", "departement", "statut"]
    by_code = {row[0]: row for row in rows[1:]}
    assert by_code[SAINT_GIRONS][3] == "arbitré"
    # Every cell that starts like a formula is neutralised; the names are kept whole after the quote.
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert f"« {PAUL_TERRITORY} »" in by_code[PAMIERS][4]
    assert CPTS_NAME in by_code[SAINT_GIRONS][4] and CPTS_NAME in by_code[SAINT_GIRONS][5]


def geo_cli(location, data_dir, *args):
    env = {**os.environ, "CARTOCPTS_DATA_DIR": str(data_dir)}
    if isinstance(location, str):
        env["CARTOCPTS_DATABASE_URL"] = location
    else:
        env.pop("CARTOCPTS_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "geo", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_command_line(team, location, isolated_data):
    stores, marc_tid, paul_tid = team
    listed = geo_cli(
        location, isolated_data, "disputes", "--scope", "dep:09", "--json", "--user", LECTEUR
    )
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [r["code_insee"] for r in rows] == [PAMIERS, SAINT_GIRONS]
    for row in rows:
        assert {
            "code_insee",
            "commune",
            "claimants",
            "status",
            "decision",
            "decided_by",
            "decided_at",
        } <= set(row)
    assert (
        rows[0]["commune"] == "Pamiers"
        and rows[0]["status"] == "ouvert"
        and rows[0]["decision"] is None
    )

    refused = geo_cli(
        location, isolated_data, "disputes", "decide", PAMIERS, "--winner", f"territoire:{marc_tid}",
        "--status", "arbitre", "--user", MARC, "--json",
    )  # fmt: skip
    assert refused.returncode == 2 and refused.stdout == ""
    assert "rôle « editeur »" in refused.stderr and "rôle « arbitre »" in refused.stderr
    assert ledger(stores[ARBITRE]).history(PAMIERS) == []

    noted = geo_cli(
        location,
        isolated_data,
        "disputes",
        "note",
        PAMIERS,
        "--text",
        "À voir en réunion",
        "--user",
        PAUL,
    )
    assert noted.returncode == 0 and "Note ajoutée" in noted.stdout, noted.stderr
    done = geo_cli(
        location, isolated_data, "disputes", "decide", PAMIERS, "--winner", f"territoire:{marc_tid}",
        "--status", "arbitre", "--user", ARBITRE, "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    decided = json.loads(done.stdout)
    assert decided["status"] == "arbitré" and decided["decided_by"] == ARBITRE
    assert decided["decision"]["key"] == f"territoire:{marc_tid}"
    region = json.loads(
        geo_cli(
            location, isolated_data, "disputes", "--scope", "reg:76", "--status", "arbitre",
            "--json", "--user", LECTEUR,
        ).stdout
    )  # fmt: skip
    assert [(r["code_insee"], r["decided_by"]) for r in region] == [(PAMIERS, ARBITRE)]
    text = geo_cli(location, isolated_data, "disputes", "--scope", "dep:09", "--user", LECTEUR)
    assert "2 commune(s) disputée(s)" in text.stdout and "[arbitré]" in text.stdout
