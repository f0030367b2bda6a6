"""Commune edits of a team running side by side on PostgreSQL (real cluster, several connections at once):
edits of distinct communes do not wait for each other, edits of the same commune take turns and the second
sees what the first committed, nothing is lost, the journal's numbers follow the commits."""

from __future__ import annotations

import threading

import psycopg
import pytest

from geo.errors import DataError
from geo.store.scenarios import ScenarioStore

SCENARIO = "Concurrence"


def _waiting_on_a_lock(url: str) -> int:
    """How many connections of the app wait for a lock now."""
    with psycopg.connect(url, autocommit=True) as con:
        return con.execute(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name='cartocpts' "
            "AND wait_event_type='Lock'"
        ).fetchone()[0]


def _wait_until(condition, what: str) -> None:
    """Poll ``condition`` (a state of the database), up to two minutes."""
    for _ in range(1200):
        if condition():
            return
        threading.Event().wait(0.1)
    raise AssertionError(f"toujours pas : {what}")


def test_racing_writers_give_each_commune_to_one_territory(postgres_url, communes):
    """Eight app instances add the same communes to eight territories at once: each commune goes to exactly
    one, the others are told where it went, and the journal records each commune once."""
    codes = sorted(communes.loc[communes["dep"] == "09", "insee"])[:25]
    admin = ScenarioStore(postgres_url, user="admin")
    admin.create(SCENARIO)
    territories = [admin.add_territory(SCENARIO, f"T{i}") for i in range(8)]
    barrier = threading.Barrier(len(territories))
    won: dict[int, list[str]] = {}
    refused: dict[int, dict[str, str]] = {}
    errors = []

    def claim(tid: int) -> None:
        store = ScenarioStore(postgres_url, user="admin")
        try:
            barrier.wait()
            for code in codes:
                result = store.change_communes(SCENARIO, tid, add=[code], session=f"s{tid}")
                won.setdefault(tid, []).extend(result.added)
                refused.setdefault(tid, {}).update(result.refused)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=claim, args=(tid,)) for tid in territories]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert errors == []
    scen = ScenarioStore(postgres_url, user="admin").get(SCENARIO)
    holders = scen.assignment()
    assert sorted(holders) == codes and all(len(tids) == 1 for tids in holders.values())
    for tid in territories:
        assert scen.territory(tid).communes == set(won.get(tid, []))
        for code, why in refused.get(tid, {}).items():
            assert why == f"déjà dans « {scen.territory(holders[code][0]).name} »"
    added = [
        code
        for change in ScenarioStore(postgres_url, user="admin").history(SCENARIO)
        if change["action"] == "communes"
        for code in change["added"]
    ]
    assert sorted(added) == codes


def test_edits_of_the_same_commune_take_turns_others_go_on(postgres_url, communes):
    foix, pamiers, varilhes = "09122", "09225", "09329"
    store = ScenarioStore(postgres_url)
    store.create(SCENARIO)
    north = store.add_territory(SCENARIO, "Nord")
    south = store.add_territory(SCENARIO, "Sud")
    seen = store.last_change(SCENARIO)
    other = ScenarioStore(postgres_url, user="agent")
    # An edit of Foix is under way (its transaction holds Foix's lock, not committed yet).
    holding, release = threading.Event(), threading.Event()
    errors = []

    def slow_edit() -> None:
        try:
            with store.db.transaction(items=[f"{SCENARIO}\x1f{foix}"]) as con:
                # (reading the statement's result sends it: the lock is held from here)
                con.execute(
                    "INSERT INTO assignments VALUES (?,?) RETURNING insee", (north, foix)
                ).fetchone()
                holding.set()
                release.wait(120)
                store._record(con, store.get(SCENARIO).id, [["assign", north, [foix], []]], "Foix")
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    first = threading.Thread(target=slow_edit)
    first.start()
    assert holding.wait(120)
    # Meanwhile another commune is edited at once (no wait for the edit of Foix)...
    assert other.change_communes(SCENARIO, south, add=[pamiers]).added == [pamiers]
    # ... and an edit of Foix waits for it, then sees it: Foix is refused to the other territory.
    outcome = {}
    second = threading.Thread(
        target=lambda: outcome.update(
            result=other.change_communes(SCENARIO, south, add=[foix, varilhes])
        )
    )
    second.start()
    _wait_until(lambda: _waiting_on_a_lock(postgres_url) == 1, "l'édition de Foix attend son tour")
    assert "result" not in outcome
    release.set()
    first.join(120)
    second.join(120)
    assert errors == []
    assert outcome["result"].added == [varilhes]
    assert outcome["result"].refused == {foix: "déjà dans « Nord »"}
    scen = store.get(SCENARIO)
    assert scen.territory(north).communes == {foix}
    assert scen.territory(south).communes == {pamiers, varilhes}
    # The journal's numbers follow the commits: the edit of Pamiers, committed first, is numbered first.
    journal = [c["added"] for c in store.history(SCENARIO) if c["action"] == "communes"]
    assert journal == [[pamiers], [foix], [varilhes]]
    # A view built before these edits is stale for Foix: refused, naming who did it.
    with pytest.raises(DataError) as caught:
        other.change_communes(SCENARIO, south, remove=[pamiers], add=[foix], seen=seen)
    assert f"{foix} modifiée(s) par {store.user} le" in str(caught.value)


def test_an_exclusive_change_waits_for_the_edits_under_way(postgres_url):
    """Locking a territory (an exclusive change) waits for an edit under way, then applies after it."""
    store = ScenarioStore(postgres_url)
    store.create(SCENARIO)
    north = store.add_territory(SCENARIO, "Nord")
    holding, release = threading.Event(), threading.Event()

    def edit() -> None:
        with store.db.transaction(items=[f"{SCENARIO}\x1f09122"]) as con:
            con.execute(
                "INSERT INTO assignments VALUES (?,?) RETURNING insee", (north, "09122")
            ).fetchone()
            holding.set()
            release.wait(120)

    first = threading.Thread(target=edit)
    first.start()
    assert holding.wait(120)
    locker = threading.Thread(
        target=lambda: ScenarioStore(postgres_url).update_territory(SCENARIO, north, locked=True)
    )
    locker.start()
    _wait_until(lambda: _waiting_on_a_lock(postgres_url) == 1, "le verrouillage attend l'édition")
    assert not store.get(SCENARIO).territory(north).locked
    release.set()
    first.join(120)
    locker.join(120)
    terr = store.get(SCENARIO).territory(north)
    assert terr.locked and terr.communes == {"09122"}


def test_an_edit_outlives_a_session_that_lost_its_prepared_statements(postgres_url):
    """A commune edit prepares its statements once per connection. A session that lost them (DEALLOCATE
    ALL, as a connection pooler could send) is noticed: nothing was read yet, the edit starts again and
    succeeds; lost later in a transaction, it is refused in French, nothing saved, and the next edit works."""
    store = ScenarioStore(postgres_url)
    store.create(SCENARIO)
    north = store.add_territory(SCENARIO, "Nord")
    assert store.change_communes(SCENARIO, north, add=["09122"]).added == ["09122"]
    assert (
        store.db._pool().get_stats()["pool_size"] == 1
    )  # the next edit takes this connection again
    with store.db.connect() as con:
        assert con.execute("SELECT COUNT(*) FROM pg_prepared_statements").fetchone()[0] > 0
        con.execute("DEALLOCATE ALL")
    assert store.change_communes(SCENARIO, north, add=["09225"]).added == ["09225"]

    held = "SELECT insee FROM assignments WHERE territory_id=? AND insee=?"
    with pytest.raises(DataError, match="perdu ses instructions préparées"):
        with store.db.transaction(items=[f"{SCENARIO}\x1f09329"]) as con:
            con.execute("INSERT INTO assignments VALUES (?,?) RETURNING insee", (north, "09329"))
            assert con.execute(held, (north, "09122")).fetchone() == ("09122",)  # prepared, sent
            con.execute("DEALLOCATE ALL")
            con.execute(held, (north, "09122"))  # sent with the commit: prepared no longer
    assert store.get(SCENARIO).territory(north).communes == {"09122", "09225"}
    assert store.change_communes(SCENARIO, north, add=["09329"]).added == ["09329"]


def test_a_percent_sign_in_a_batched_statement_stays_one(postgres_url):
    """The statements of a commune edit go through psycopg's client-side formatting (``%s``: the values): a
    ``%`` of the SQL itself is kept, prepared or not."""
    store = ScenarioStore(postgres_url)
    with store.db.transaction(items=["x"]) as con:
        assert con.execute("SELECT ? || '%'", ("50 ",)).fetchone() == ("50 %",)
        assert con.execute("SELECT '%s %%' || ?", ("!",)).fetchone() == ("%s %%!",)
        assert con.execute("SELECT '100 %'").fetchone() == ("100 %",)
