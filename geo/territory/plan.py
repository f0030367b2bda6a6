"""A scenario held in memory with one running tally per territory.

Like GerryChain's ``Partition``: the assignment comes from the scenario
store, and each territory's tally is updated from the communes that moved
since the last sync, not recomputed. Diagnostics are cached per territory
until its communes change.
"""

from __future__ import annotations

import pandas as pd

from geo.territory.context import Context
from geo.territory.diagnostics import Tally, diagnose, reference_apl, territory_overlaps
from geo.store.scenarios import Scenario


class Plan:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.tallies: dict[int, Tally] = {}
        self.names: dict[int, str] = {}
        self._diagnostics: dict[int, dict] = {}

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
        self._others = {tid: t.codes for tid, t in self.tallies.items()}

    def diagnostics(self, territory_id: int) -> dict:
        """Diagnostics of a territory: computed again only when its communes changed; the overlaps with the
        scenario's other territories (set intersections) follow the others at every call."""
        cached = self._diagnostics.get(territory_id)
        if cached is None:
            cached = diagnose(self.tallies[territory_id], self.ctx)
            cached["apl_reference"] = reference_apl(self.ctx, cached["departements"], cached["regions"])
            self._diagnostics[territory_id] = cached
        others = {self.names[t]: codes for t, codes in self._others.items() if t != territory_id}
        return {**cached, "territory_overlaps": territory_overlaps(self.tallies[territory_id].codes, others, self.ctx)}

    def table(self) -> pd.DataFrame:
        """One row per territory: the figures to compare (French column names)."""
        rows = []
        for tid in self.tallies:
            d = self.diagnostics(tid)
            rows.append({
                "Territoire": self.names[tid],
                f"Population ({d['population_vintage']})": d["population"],
                "Taille ACI": d["aci_size"],
                "Communes": d["commune_count"],
                "MSP": d["msp_count"],
                "Centres de santé": d["centres_sante_count"],
                "APL": d["apl"],
                "D'un seul tenant": "oui" if d["contiguous"] else f"non ({d['parts']} parties)",
                "Départements": ", ".join(d["departements"]),
                "Régions": ", ".join(d["regions"]),
                "Superficie (km²)": d["area_km2"],
                "Densité (hab./km²)": d["density"],
                "Compacité (Polsby-Popper)": d["polsby_popper"],
                "Chevauchements": sum(len(o["communes"]) for o in d["overlaps"] + d["territory_overlaps"]),
            })
        return pd.DataFrame(rows)
