"""Undo and redo belong to the editing session that made the change (issue #9 §6).

Two sessions (two browser tabs) edit one scenario on real Ariège communes;
one session's undo never reverts the other's change, a locked territory is
never changed by undo/redo, and a database made before sessions existed is
migrated.
"""

import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.errors import DataError
from geo.store.scenarios import ScenarioStore

A, B = "session-a", "session-b"
FOIX, PAMIERS = "09122", "09225"


@pytest.fixture(scope="module")
def ariege(communes) -> list[str]:
    codes = sorted(communes.loc[communes["dep"] == "09", "insee"])
    assert FOIX in codes and PAMIERS in codes
    return codes


@pytest.fixture
def store(scenario_location, ariege):
    store = ScenarioStore(scenario_location)  # SQLite, then PostgreSQL
    store.create("Ariège", scope="dep:09")
    return store


def communes_of(store, tid) -> set[str]:
    return store.get("Ariège").territory(tid).communes


def test_undo_reverts_only_own_session(store):
    tid = store.add_territory("Ariège", "CPTS Foix-Pamiers", session=A)
    store.change_communes("Ariège", tid, add=[FOIX], session=A)
    store.change_communes("Ariège", tid, add=[PAMIERS], session=B)
    b_before = store.history_state("Ariège", B)

    assert store.undo("Ariège", A) == "Communes de « CPTS Foix-Pamiers »"
    assert communes_of(store, tid) == {PAMIERS}
    assert store.history_state("Ariège", B) == b_before  # B's undo and redo stacks untouched
    assert store.history_state("Ariège", A)["redo"] == 1

    assert store.undo("Ariège", B) is not None
    assert communes_of(store, tid) == set()
    assert store.undo("Ariège", B) is None  # B has nothing more: A's territory creation is not B's
    assert store.redo("Ariège", A) is not None
    assert communes_of(store, tid) == {FOIX}
    assert store.integrity_check() == "ok"


def test_new_change_clears_only_own_redo_stack(store):
    tid = store.add_territory("Ariège", "T", session=A)
    store.change_communes("Ariège", tid, add=[PAMIERS], session=B)
    store.undo("Ariège", B)
    assert store.history_state("Ariège", B)["redo"] == 1
    store.change_communes("Ariège", tid, add=[FOIX], session=A)  # A's new change
    assert store.history_state("Ariège", B)["redo"] == 1
    assert store.redo("Ariège", B) is not None
    assert communes_of(store, tid) == {FOIX, PAMIERS}
    store.undo("Ariège", A)
    store.change_communes("Ariège", tid, add=["09001"], session=A)  # clears A's redo only
    assert store.history_state("Ariège", A)["redo"] == 0
    assert store.redo("Ariège", A) is None


def test_locked_territory_refuses_undo_and_redo(store):
    tid = store.add_territory("Ariège", "CPTS Foix", session=A)
    store.change_communes("Ariège", tid, add=[FOIX], session=A)
    store.update_territory("Ariège", tid, locked=True, session=B)
    with pytest.raises(DataError, match="Le territoire « CPTS Foix » est verrouillé : "):
        store.undo("Ariège", A)
    assert communes_of(store, tid) == {FOIX}
    assert store.history_state("Ariège", A)["undo"] == 2  # the step stays, still undoable later
    store.update_territory("Ariège", tid, locked=False, session=B)
    store.undo("Ariège", A)
    assert communes_of(store, tid) == set()
    store.update_territory("Ariège", tid, locked=True)
    with pytest.raises(DataError, match="« CPTS Foix » est verrouillé"):
        store.redo("Ariège", A)
    assert communes_of(store, tid) == set()
    assert store.history_state("Ariège", "")["undo"] == 0  # locking is not a history step


def test_undo_refused_when_other_session_took_the_commune(store):
    foix = store.add_territory("Ariège", "Foix", session=A)
    pamiers = store.add_territory("Ariège", "Pamiers", session=B)
    store.change_communes("Ariège", foix, add=[FOIX], session=A)
    store.change_communes("Ariège", foix, remove=[FOIX], session=A)
    store.change_communes("Ariège", pamiers, add=[FOIX], session=B)
    with pytest.raises(DataError, match=r"Impossible d'annuler .*09122 \(dans « Pamiers »\)"):
        store.undo("Ariège", A)
    scen = store.get("Ariège")
    assert scen.assignment() == {FOIX: [pamiers]}  # no overlap was created, B's change kept


def test_undo_refused_when_other_session_renamed(store):
    tid = store.add_territory("Ariège", "Foix", session=A)
    store.update_territory("Ariège", tid, name="CPTS Foix", session=A)
    store.update_territory("Ariège", tid, name="CPTS du Pays de Foix", session=B)
    with pytest.raises(DataError, match="modifié depuis"):
        store.undo("Ariège", A)
    assert store.get("Ariège").territory(tid).name == "CPTS du Pays de Foix"
    store.undo("Ariège", B)
    store.undo("Ariège", A)
    assert store.get("Ariège").territory(tid).name == "Foix"


def test_undo_of_creation_keeps_other_session_communes(store):
    tid = store.add_territory("Ariège", "Foix", session=A)
    store.change_communes("Ariège", tid, add=[PAMIERS], session=B)
    with pytest.raises(DataError, match="contient des communes ajoutées depuis"):
        store.undo("Ariège", A)
    assert communes_of(store, tid) == {PAMIERS}


def test_undo_of_deletion_refused_when_other_session_reused_communes(store):
    foix = store.add_territory("Ariège", "Foix", session=A)
    store.change_communes("Ariège", foix, add=[FOIX, PAMIERS], session=A)
    store.delete_territory("Ariège", foix, session=A)
    other = store.add_territory("Ariège", "Pamiers", session=B)
    store.change_communes("Ariège", other, add=[PAMIERS], session=B)
    with pytest.raises(DataError, match="09225"):
        store.undo("Ariège", A)
    assert store.get("Ariège").assignment() == {PAMIERS: [other]}
    store.undo("Ariège", B)
    assert store.undo("Ariège", A) == "Suppression de « Foix »"
    assert communes_of(store, foix) == {FOIX, PAMIERS}


def test_old_database_is_migrated(tmp_path):
    path = tmp_path / "old.sqlite"
    ScenarioStore(
        path
    )  # the current schema, then made old: no versions, history without the session column
    con = sqlite3.connect(path)
    con.executescript("""
        DROP TABLE schema_version;
        DROP TABLE counters;
        DROP TABLE history;
        CREATE TABLE history (id INTEGER PRIMARY KEY, scenario_id INTEGER NOT NULL REFERENCES scenarios(id)
            ON DELETE CASCADE, ops TEXT NOT NULL, label TEXT NOT NULL, undone INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL);
        INSERT INTO scenarios(id, name, created_at, updated_at) VALUES (1, 'Ancien', 'x', 'x');
        INSERT INTO territories(id, scenario_id, name, created_at, updated_at) VALUES (7, 1, 'Foix', 'x', 'x');
        INSERT INTO assignments VALUES (7, '09122');
        INSERT INTO history(scenario_id, ops, label, created_at)
            VALUES (1, '[["assign", 7, ["09122"], []]]', 'Ajout de Foix', 'x');
    """)
    con.commit()
    con.close()
    store = ScenarioStore(path)
    columns = [row[1] for row in sqlite3.connect(path).execute("PRAGMA table_info(history)")]
    assert "session" in columns
    assert store.history_state("Ancien", A)["undo"] == 0
    assert (
        store.history_state("Ancien")["undo"] == 1
    )  # earlier steps belong to the command line ("")
    assert store.undo("Ancien") == "Ajout de Foix"
    assert store.get("Ancien").territory(7).communes == set()
    assert store.integrity_check() == "ok"
    assert (
        store.add_territory("Ancien", "Pamiers") > 7
    )  # a number never given before, history included


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_interleaved_sessions_undo_all_of_one(tmp_path_factory, ariege, data):
    """Any interleaving: undoing all of A's steps removes A's communes and keeps all of B's."""
    store = ScenarioStore(tmp_path_factory.mktemp("interleaved") / "s.sqlite")
    store.create("Ariège")
    tid = store.add_territory("Ariège", "Commun")
    pool = data.draw(st.lists(st.sampled_from(ariege), min_size=2, max_size=30, unique=True))
    owners = data.draw(st.lists(st.sampled_from([A, B]), min_size=len(pool), max_size=len(pool)))
    steps = data.draw(st.lists(st.integers(1, 4), min_size=len(pool), max_size=len(pool)))
    by_session = {A: set(), B: set()}
    b_steps = 0
    i = 0
    for owner, size in zip(owners, steps):
        chunk = pool[i : i + size]
        i += size
        if not chunk:
            break
        store.change_communes("Ariège", tid, add=chunk, session=owner)
        by_session[owner] |= set(chunk)
        b_steps += owner == B
    while store.undo("Ariège", A) is not None:
        pass
    assert communes_of(store, tid) == by_session[B]
    assert (
        store.history_state("Ariège", B)["undo"] == b_steps
        and store.history_state("Ariège", B)["redo"] == 0
    )
    while store.redo("Ariège", A) is not None:
        pass
    assert communes_of(store, tid) == by_session[A] | by_session[B]
