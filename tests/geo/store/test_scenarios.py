"""Scenarios in SQLite: changes, overlap rule, locking, undo/redo, duplication."""

import pytest

from geo.errors import DataError
from geo.store.scenarios import ScenarioStore


@pytest.fixture
def store(scenario_location):
    """An empty store on each back end: SQLite, then PostgreSQL (tests/support/postgres.py)."""
    return ScenarioStore(scenario_location)


def test_create_and_assign(store):
    store.create("Ariège 2027", scope="dep:09")
    tid = store.add_territory("Ariège 2027", "CPTS Foix")
    res = store.change_communes("Ariège 2027", tid, add=["09122", "09225"])
    assert res.added == ["09122", "09225"]
    scen = ScenarioStore(store.location).get("Ariège 2027")  # a new connection sees it
    assert scen.territory(tid).communes == {"09122", "09225"}
    assert store.integrity_check() == "ok"


def test_overlap_refused_unless_allowed(store):
    store.create("S")
    a = store.add_territory("S", "A")
    b = store.add_territory("S", "B")
    store.change_communes("S", a, add=["09122"])
    res = store.change_communes("S", b, add=["09122", "09225"])
    assert res.added == ["09225"] and "« A »" in res.refused["09122"]
    store.set_allow_overlap("S", True)
    res = store.change_communes("S", b, add=["09122"])
    assert res.added == ["09122"]
    assert store.get("S").assignment()["09122"] == [a, b]


def test_locked_territory_cannot_change(store):
    store.create("S")
    a = store.add_territory("S", "A")
    store.change_communes("S", a, add=["09122"])
    store.update_territory("S", a, locked=True)
    with pytest.raises(DataError, match="verrouillé"):
        store.change_communes("S", a, remove=["09122"])
    store.update_territory("S", a, locked=False)
    assert store.change_communes("S", a, remove=["09122"]).removed == ["09122"]


def test_undo_redo_sixty_steps(store):
    store.create("S")
    tid = store.add_territory("S", "A")
    codes = [f"09{n:03d}" for n in range(1, 61)]
    for code in codes:
        store.change_communes("S", tid, add=[code])
    assert store.history_state("S")["undo"] == 61
    for _ in range(60):
        assert store.undo("S") is not None
    assert store.get("S").territory(tid).communes == set()
    for _ in range(55):
        store.redo("S")
    assert store.get("S").territory(tid).communes == set(codes[:55])
    store.change_communes("S", tid, add=["09999"])  # a new change clears the redo stack
    assert store.history_state("S")["redo"] == 0


def test_undo_delete_and_rename(store):
    store.create("S")
    tid = store.add_territory("S", "A")
    store.change_communes("S", tid, add=["09122", "09225"])
    store.update_territory("S", tid, name="B", colour="#000000")
    store.delete_territory("S", tid)
    assert store.get("S").territories == []
    store.undo("S")
    terr = store.get("S").territory(tid)
    assert (terr.name, terr.communes) == ("B", {"09122", "09225"})
    store.undo("S")
    assert store.get("S").territory(tid).name == "A"
    store.redo("S")
    store.redo("S")
    assert store.get("S").territories == []


def test_duplicate_and_names(store):
    store.create("S")
    tid = store.add_territory("S", "A")
    store.change_communes("S", tid, add=["09122"])
    copy = store.duplicate("S", "S variante")
    assert copy.territories[0].communes == {"09122"}
    store.change_communes("S variante", copy.territories[0].id, add=["09225"])
    assert store.get("S").territory(tid).communes == {"09122"}
    with pytest.raises(DataError, match="existe déjà"):
        store.create("S")
    with pytest.raises(DataError, match="vide"):
        store.create("   ")


def test_two_connections_do_not_lose_assignments(store):
    store.create("S")
    tid = store.add_territory("S", "A")
    other = ScenarioStore(store.location)
    store.change_communes("S", tid, add=["09122"])
    other.change_communes("S", tid, add=["09225"])
    store.change_communes("S", tid, remove=["09122"])
    assert other.get("S").territory(tid).communes == {"09225"}
