"""Hostile text in the scenario store's SQL: names, labels and sessions are values, never SQL, on both back
ends. A commune edit on PostgreSQL sends its statements with the values bound by psycopg on the client
(geo.store.database._Batch): quotes, backslashes, dollar quotes, placeholders and semicolons must come back
exactly as typed, and nothing else in the store changes."""

from __future__ import annotations

import pytest

from geo.errors import DataError
from geo.store.scenarios import ScenarioStore

PAMIERS, FOIX = "09225", "09122"

SQL_PAYLOADS = [
    "'); DROP TABLE assignments; --",
    "x' OR '1'='1",
    "\\'; DELETE FROM changes; --",
    "$$; DROP TABLE history; $$",
    "$1 $2 %s %(name)s ? ?? %%",
    "E'\\x41' || chr(65)",
    "Saint-Girons; COMMIT; DROP TABLE scenarios",
    "« l’Ariège » — ünïcödé 🏥",
]


@pytest.mark.parametrize("payload", SQL_PAYLOADS)
def test_hostile_text_in_a_commune_edit_stays_text(scenario_location, payload):
    store = ScenarioStore(scenario_location, user=payload[:60])
    store.add_user(payload[:60], "editeur")
    scenario = f"Scénario {payload}"
    store.create(scenario)
    tid = store.add_territory(scenario, f"T {payload}")
    other = store.add_territory(scenario, "Témoin")
    store.change_communes(scenario, other, add=[FOIX])
    result = store.change_communes(
        scenario, tid, add=[PAMIERS, FOIX], label=payload, session=payload
    )
    assert result.added == [PAMIERS] and result.refused == {FOIX: "déjà dans « Témoin »"}

    again = ScenarioStore(scenario_location, user=payload[:60])
    scen = again.get(scenario)
    assert scen.territory(tid).name == f"T {payload}"
    assert scen.territory(tid).communes == {PAMIERS} and scen.territory(other).communes == {FOIX}
    last = again.history(scenario)[-1]
    assert (last["user"], last["label"], last["territory"]) == (
        payload[:60],
        payload,
        f"T {payload}",
    )
    state = again.history_state(scenario, session=payload)
    assert (state["undo"], state["undo_label"]) == (1, payload)
    # the edit's session undoes its own step, and only it
    assert again.undo(scenario, session=payload) == payload
    assert again.get(scenario).territory(tid).communes == set()
    assert again.get(scenario).territory(other).communes == {FOIX}


def test_a_nul_character_is_refused_in_french(scenario_location):
    """A NUL character cannot be stored by PostgreSQL: the edit is refused with a French message, and the
    store is unchanged (on SQLite it is text like any other)."""
    store = ScenarioStore(scenario_location)
    store.create("Nul")
    tid = store.add_territory("Nul", "T")
    try:
        store.change_communes("Nul", tid, add=[PAMIERS], label="a\x00b")
    except DataError as exc:
        assert "caractère nul" in str(exc)
        assert store.get("Nul").territory(tid).communes == set()
    else:
        assert store.get("Nul").territory(tid).communes == {PAMIERS}
    assert store.change_communes("Nul", tid, add=[FOIX]).added == [FOIX]


def test_a_large_edit_with_hostile_text(scenario_location, communes):
    """An edit of many communes at once (its statements are not prepared: planned each time) binds the same
    values the same way."""
    codes = sorted(communes.loc[communes["dep"] == "09", "insee"])[:60]
    payload = SQL_PAYLOADS[0]
    store = ScenarioStore(scenario_location)
    store.create(payload)
    tid = store.add_territory(payload, payload)
    assert store.change_communes(payload, tid, add=codes, label=payload).added == codes
    assert store.change_communes(payload, tid, remove=codes[:45]).removed == codes[:45]
    assert store.get(payload).territory(tid).communes == set(codes[45:])
    assert [c["label"] for c in store.history(payload)][-2:] == [
        payload,
        f"Communes de « {payload} »",
    ]
