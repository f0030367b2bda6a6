"""A scenario held in memory with one running tally per territory.

Like GerryChain's ``Partition``: the assignment comes from the scenario
store, and each territory's tally is updated from the communes that moved
since the last sync, not recomputed. Diagnostics are cached per territory
until its communes change.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from geo.formats import french
from geo.sources.population import vintage_heading
from geo.store.scenarios import Scenario
from geo.territory.context import Context
from geo.territory.diagnostics import (
    Diagnostics,
    Tally,
    diagnose,
    territory_overlaps,
    with_apl_reference,
)


def _number(value) -> float:
    """A figure of the table: missing (no APL layer, no area) as NaN, written « — »."""
    return float("nan") if value is None else float(value)


class Plan:
    """The territories of a scenario (after ``sync``), each with its running tally and cached diagnostics."""

    def __init__(self, ctx: Context, scenario: Scenario | None = None):
        self.ctx = ctx
        self.tallies: dict[int, Tally] = {}
        self.names: dict[int, str] = {}
        self._diagnostics: dict[int, Diagnostics] = {}  # without the overlaps between territories
        if scenario is not None:
            self.sync(scenario)

    def sync(self, scenario: Scenario) -> None:
        """Bring the tallies in line with the scenario, moving only what changed."""
        seen = set()
        for terr in scenario.territories:
            seen.add(terr.id)
            self.names[terr.id] = terr.name
            tally = self.tallies.get(terr.id)
            if tally is None:
                self.tallies[terr.id] = Tally.of(terr.communes, self.ctx)
                self._diagnostics.pop(terr.id, None)
                continue
            added = terr.communes - tally.codes
            removed = tally.codes - terr.communes
            if added or removed:
                tally.update(self.ctx, add=added, remove=removed)
                self._diagnostics.pop(terr.id, None)
        for gone in set(self.tallies) - seen:
            self.tallies.pop(gone)
            self.names.pop(gone, None)
            self._diagnostics.pop(gone, None)

    def diagnostics(self, territory_id: int) -> Diagnostics:
        """Diagnostics of a territory: computed again only when its communes changed; the overlaps with the
        scenario's other territories (set intersections) follow the others at every call.

        A territory the plan does not hold (none before the first ``sync``) is a KeyError naming it.
        """
        tally = self.tallies.get(territory_id)
        if tally is None:
            raise KeyError(
                f"territory {territory_id} is not in the plan (sync the plan with its scenario)"
            )
        cached = self._diagnostics.get(territory_id)
        if cached is None:
            cached = with_apl_reference(diagnose(tally, self.ctx), self.ctx)
            self._diagnostics[territory_id] = cached
        others = {
            self.names[t]: other.codes for t, other in self.tallies.items() if t != territory_id
        }
        return replace(cached, territory_overlaps=territory_overlaps(tally.codes, others, self.ctx))

    # Digits of the table's decimal columns (the others are whole numbers).
    TABLE_DECIMALS = {
        "APL": 3,
        "Superficie (km²)": 2,
        "Densité (hab./km²)": 1,
        "Compacité (Polsby-Popper)": 4,
    }

    def table(self) -> pd.DataFrame:
        """One row per territory: the figures to compare (numbers, French column names; write them with
        ``french.column_formats(table, Plan.TABLE_DECIMALS)``)."""
        rows = []
        for tid in self.tallies:
            d = self.diagnostics(tid)
            rows.append(
                {
                    "Territoire": self.names[tid],
                    vintage_heading(d.population_vintage): d.population,
                    "Taille ACI": d.aci_size,
                    "Communes": d.commune_count,
                    "MSP": d.msp_count,
                    "Centres de santé": d.centres_sante_count,
                    "APL": _number(d.apl),
                    "D'un seul tenant": "oui"
                    if d.contiguous
                    else f"non ({french.integer(d.parts)} parties)",
                    "Départements": ", ".join(d.departements),
                    "Régions": ", ".join(d.regions),
                    "Superficie (km²)": _number(d.area_km2),
                    "Densité (hab./km²)": _number(d.density),
                    "Compacité (Polsby-Popper)": _number(d.polsby_popper),
                    "Chevauchements": sum(
                        len(o.communes) for o in d.overlaps + d.territory_overlaps
                    ),
                }
            )
        return pd.DataFrame(rows)
