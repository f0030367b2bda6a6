"""The dossiers produced for the territories of a scenario (table ``dossiers``, migration 6).

Each dossier keeps, per territory, when it was made, by whom and the communes it held; the next dossier of
the same territory compares with it (communes added and removed since) and quotes the scenario's change
journal in between (:meth:`geo.store.scenarios.ScenarioStore.history`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from geo.store.layers import now_iso
from geo.store.scenarios import Scenario, ScenarioStore


@dataclass(frozen=True)
class DossierRecord:
    at: str  # ISO time the dossier was made
    user: str  # who made it
    communes: set[str] = field(default_factory=set)  # the territory's communes then


def previous_dossier(
    store: ScenarioStore, scenario_id: int, territory_id: int
) -> DossierRecord | None:
    """The last dossier made of this territory, or None."""
    with store.db.connect() as con:
        row = con.execute(
            "SELECT at, user_name, communes FROM dossiers WHERE scenario_id=? AND territory_id=? "
            "ORDER BY id DESC LIMIT 1",
            (int(scenario_id), int(territory_id)),
        ).fetchone()
    if row is None:
        return None
    return DossierRecord(row[0], row[1], set(json.loads(row[2])))


def record_dossier(store: ScenarioStore, scenario: Scenario, territory_ids=None) -> None:
    """Remember that a dossier of these territories (all of the scenario by default) was just made."""
    stamp = now_iso()
    rows = [
        (scenario.id, t.id, t.name, stamp, store.user, json.dumps(sorted(t.communes)))
        for t in scenario.territories
        if territory_ids is None or t.id in territory_ids
    ]
    with store.db.transaction() as con:
        con.executemany(
            "INSERT INTO dossiers(scenario_id, territory_id, territory, at, user_name, communes) "
            "VALUES (?,?,?,?,?,?)",
            rows,
        )
