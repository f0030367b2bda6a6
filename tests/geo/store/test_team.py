"""Team mode on both back ends (SQLite, then a real PostgreSQL): users and roles, sharing, the change
journal, restoring a past state, stale edits refused with who and when; on real Ariège communes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from geo.errors import DataError
from geo.store.scenarios import ScenarioStore
from tests.conftest import REPO

FOIX, PAMIERS, SAINT_GIRONS, LAVELANET = "09122", "09225", "09261", "09160"
ARBITRE, EDITEUR, AUTRE, LECTEUR = "Claire (ARS)", "Marc", "Paul", "Léa"


@pytest.fixture
def team(scenario_location):
    """A team: one arbitre, two editeurs, one lecteur; Marc's scenario with one territory."""
    ScenarioStore(scenario_location, user=ARBITRE).add_user(
        ARBITRE, "arbitre"
    )  # the first user: anyone
    admin = ScenarioStore(scenario_location, user=ARBITRE)
    admin.add_user(EDITEUR, "editeur")
    admin.add_user(AUTRE, "editeur")
    admin.add_user(LECTEUR, "lecteur")
    marc = ScenarioStore(scenario_location, user=EDITEUR)
    marc.create("Ariège 2027", scope="dep:09")
    tid = marc.add_territory("Ariège 2027", "CPTS du Pays de Foix")
    marc.change_communes("Ariège 2027", tid, add=[FOIX, PAMIERS])
    return {
        name: ScenarioStore(scenario_location, user=name)
        for name in (ARBITRE, EDITEUR, AUTRE, LECTEUR)
    }, tid


def test_single_user_mode_allows_everything(scenario_location):
    store = ScenarioStore(scenario_location)
    assert store.user == "poste local" and store.users() == []
    store.create("Local")
    tid = store.add_territory("Local", "T1")
    store.update_territory("Local", tid, locked=True, status="validé ARS")
    assert store.get("Local").territory(tid).locked
    assert store.history("Local")[-1]["user"] == "poste local"


def test_roles_and_sharing(team, scenario_location):
    stores, tid = team
    scen = stores[EDITEUR].get("Ariège 2027")
    assert scen.owner == EDITEUR and scen.sharing == "lecture"
    before = len(stores[EDITEUR].history("Ariège 2027"))

    # A lecteur reads, never writes; nothing is recorded for a refused action.
    assert "Ariège 2027" in stores[LECTEUR].names()
    with pytest.raises(DataError, match="rôle « lecteur »"):
        stores[LECTEUR].change_communes("Ariège 2027", tid, add=[SAINT_GIRONS])
    with pytest.raises(DataError, match="rôle « lecteur »"):
        stores[LECTEUR].create("Le mien")
    # Another editeur cannot change a scenario shared in reading only, until its owner shares it in writing.
    with pytest.raises(DataError, match="appartient à Marc"):
        stores[AUTRE].change_communes("Ariège 2027", tid, add=[SAINT_GIRONS])
    with pytest.raises(DataError, match="changer le partage"):
        stores[AUTRE].share("Ariège 2027", "ecriture")
    assert len(stores[EDITEUR].history("Ariège 2027")) == before
    stores[EDITEUR].share("Ariège 2027", "ecriture")
    assert stores[AUTRE].change_communes("Ariège 2027", tid, add=[SAINT_GIRONS]).added == [
        SAINT_GIRONS
    ]

    # Private: the team no longer sees it, except through the read-only link.
    token = stores[EDITEUR].share("Ariège 2027", "prive")
    assert "Ariège 2027" not in stores[LECTEUR].names()
    with pytest.raises(DataError, match="privé"):
        stores[LECTEUR].get("Ariège 2027")
    scen_id, link_token = stores[EDITEUR].read_link("Ariège 2027")
    assert link_token == token
    assert stores[LECTEUR].get_shared(scen_id, token).territory(tid).communes == {
        FOIX,
        PAMIERS,
        SAINT_GIRONS,
    }
    with pytest.raises(DataError, match="Lien de consultation invalide"):
        stores[LECTEUR].get_shared(scen_id, token[:-1] + ("x" if token[-1] != "x" else "y"))

    # Unknown people are refused; only an arbitre manages users.
    with pytest.raises(DataError, match="inconnu"):
        ScenarioStore(scenario_location, user="Inconnu").names()
    with pytest.raises(DataError, match="gérer les utilisateurs"):
        stores[EDITEUR].add_user("Zoé", "arbitre")


def test_only_an_arbitre_locks_and_validates(team):
    stores, tid = team
    with pytest.raises(DataError, match="verrouiller"):
        stores[EDITEUR].update_territory("Ariège 2027", tid, locked=True)
    with pytest.raises(DataError, match="validé ARS"):
        stores[EDITEUR].update_territory("Ariège 2027", tid, status="validé ARS")
    stores[ARBITRE].update_territory("Ariège 2027", tid, status="validé ARS")
    stores[ARBITRE].update_territory("Ariège 2027", tid, locked=True)
    terr = stores[EDITEUR].get("Ariège 2027").territory(tid)
    assert terr.locked and terr.status == "validé ARS"
    actions = [row["action"] for row in stores[EDITEUR].history("Ariège 2027")]
    assert actions[-2:] == ["modification", "verrouillage"]


def test_history_and_restore(team):
    stores, tid = team
    marc = stores[EDITEUR]
    marc.change_communes("Ariège 2027", tid, add=[SAINT_GIRONS], session="s")
    mark = marc.last_change("Ariège 2027")
    marc.change_communes("Ariège 2027", tid, add=[LAVELANET], remove=[FOIX], session="s")
    other = marc.add_territory("Ariège 2027", "CPTS du Couserans", session="s")
    marc.change_communes("Ariège 2027", other, add=[FOIX], session="s")
    rows = marc.history("Ariège 2027")
    assert {"at", "user", "action", "territory", "added", "removed"} <= set(rows[-1])
    assert rows[-1]["user"] == EDITEUR and rows[-1]["territory"] == "CPTS du Couserans"
    assert rows[-3]["added"] == [LAVELANET] and rows[-3]["removed"] == [FOIX]

    assert marc.restore("Ariège 2027", mark, session="s") == 3
    scen = marc.get("Ariège 2027")
    assert [t.name for t in scen.territories] == ["CPTS du Pays de Foix"]
    assert scen.territory(tid).communes == {FOIX, PAMIERS, SAINT_GIRONS}
    last = marc.history("Ariège 2027")[-1]
    assert last["action"] == "restauration" and last["user"] == EDITEUR
    # The restore is a change like any other: undoing it brings the later state back.
    assert marc.undo("Ariège 2027", "s") == f"Restauration de l'état n° {mark}"
    scen = marc.get("Ariège 2027")
    assert {t.name: t.communes for t in scen.territories} == {
        "CPTS du Pays de Foix": {PAMIERS, SAINT_GIRONS, LAVELANET},
        "CPTS du Couserans": {FOIX},
    }


def test_journal_pages_newest_first_with_field_changes(team):
    stores, tid = team
    marc = stores[EDITEUR]
    marc.update_territory("Ariège 2027", tid, name="CPTS de Foix", status="projet")
    marc.change_communes("Ariège 2027", tid, add=[SAINT_GIRONS], remove=[PAMIERS])
    every = marc.history("Ariège 2027")
    first, total = marc.journal("Ariège 2027", limit=2)
    assert total == len(every)
    assert [r["id"] for r in first] == [every[-1]["id"], every[-2]["id"]]
    assert first[0]["added"] == [SAINT_GIRONS] and first[0]["removed"] == [PAMIERS]
    assert first[1]["fields"] == {
        "name": ["CPTS du Pays de Foix", "CPTS de Foix"],
        "status": ["proposition", "projet"],
    }
    rest, _ = marc.journal("Ariège 2027", limit=100, offset=2)
    assert [r["id"] for r in rest] == [r["id"] for r in reversed(every[:-2])]
    # What a reader may not see, he may not page through either.
    marc.share("Ariège 2027", "prive")
    with pytest.raises(DataError, match="privé"):
        stores[LECTEUR].journal("Ariège 2027")


def test_stale_edit_refused_with_who_and_when(team):
    stores, tid = team
    stores[EDITEUR].share("Ariège 2027", "ecriture")
    seen = stores[EDITEUR].last_change("Ariège 2027")  # Marc's page shows this state
    paul_tid = stores[AUTRE].add_territory("Ariège 2027", "CPTS de Paul")
    stores[AUTRE].change_communes("Ariège 2027", tid, remove=[PAMIERS])
    stores[AUTRE].change_communes("Ariège 2027", paul_tid, add=[PAMIERS])
    with pytest.raises(
        DataError, match=r"09225 modifiée\(s\) par Paul le \d\d/\d\d/\d{4} à \d\d:\d\d"
    ):
        stores[EDITEUR].change_communes("Ariège 2027", tid, add=[PAMIERS], seen=seen)
    # Communes nobody touched since are fine; so is the same edit on a fresh view.
    assert stores[EDITEUR].change_communes(
        "Ariège 2027", tid, add=[SAINT_GIRONS], seen=seen
    ).added == [SAINT_GIRONS]
    fresh = stores[EDITEUR].last_change("Ariège 2027")
    result = stores[EDITEUR].change_communes("Ariège 2027", tid, add=[PAMIERS], seen=fresh)
    assert result.refused == {PAMIERS: "déjà dans « CPTS de Paul »"}


def geo_cli(location, *args):
    env = {**os.environ}
    if isinstance(location, str):
        env["CARTOCPTS_DATABASE_URL"] = location
    else:
        env["CARTOCPTS_DATA_DIR"] = str(location.parent)
        env.pop("CARTOCPTS_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "geo", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_command_line(team, scenario_location):
    stores, tid = team
    refused = geo_cli(
        scenario_location,
        "scenario",
        "edit",
        "Ariège 2027",
        "--territory",
        "CPTS du Pays de Foix",
        "--add",
        SAINT_GIRONS,
        "--user",
        LECTEUR,
        "--json",
    )
    assert refused.returncode == 2 and "rôle « lecteur »" in refused.stderr and refused.stdout == ""
    done = geo_cli(
        scenario_location,
        "scenario",
        "edit",
        "Ariège 2027",
        "--territory",
        "CPTS du Pays de Foix",
        "--add",
        SAINT_GIRONS,
        "--remove",
        FOIX,
        "--user",
        EDITEUR,
        "--json",
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"added": [SAINT_GIRONS], "removed": [FOIX], "refused": {}}
    history = json.loads(
        geo_cli(
            scenario_location, "scenario", "history", "Ariège 2027", "--json", "--user", LECTEUR
        ).stdout
    )
    assert history[-1]["user"] == EDITEUR and history[-1]["added"] == [SAINT_GIRONS]
    assert history[-1]["removed"] == [FOIX] and history[-1]["action"] == "communes"
    assert len(history) == len(
        stores[EDITEUR].history("Ariège 2027")
    )  # the refused edit left no trace
    users = json.loads(
        geo_cli(scenario_location, "users", "list", "--json", "--user", LECTEUR).stdout
    )
    assert {u["name"]: u["role"] for u in users} == {
        ARBITRE: "arbitre",
        EDITEUR: "editeur",
        AUTRE: "editeur",
        LECTEUR: "lecteur",
    }
    shared = geo_cli(
        scenario_location,
        "scenario",
        "share",
        "Ariège 2027",
        "--level",
        "ecriture",
        "--user",
        EDITEUR,
    )
    assert (
        shared.returncode == 0
        and "équipe en écriture" in shared.stdout
        and "jeton=" in shared.stdout
    )
