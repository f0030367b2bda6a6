"""ACI sensitivity of a territory: the border communes whose addition or removal changes its size class.

The ACI size class (:mod:`geo.territory.aci`) depends on the population only, so one border commune can move
a territory across a threshold: an adjacent commune outside whose addition reaches the next class, or a
commune inside, on the border, whose removal drops it a class (or, added to a territory of the last band,
nothing). ``aci_sensitivity`` lists them, the smallest population first in each action (the lightest move
that changes the class), at most ``LIMIT`` per action.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from geo.territory.aci import aci_size
from geo.territory.context import Context

LIMIT = 10  # communes per action
ADD, REMOVE = "ajout", "retrait"


@dataclass(frozen=True)
class AciSwing:
    """A border commune whose addition (``ajout``) or removal (``retrait``) changes the ACI size class."""

    code_insee: str  # INSEE code of the commune
    commune: str  # its name in the commune base
    action: str  # « ajout » (an adjacent commune outside) or « retrait » (a commune inside on the border)
    population: int  # its population (populations in use)
    aci_size_after: int  # the ACI size class the territory would have after the move

    def to_dict(self) -> dict:
        return {
            "code_insee": self.code_insee,
            "commune": self.commune,
            "action": self.action,
            "population": self.population,
            "aci_size_after": self.aci_size_after,
        }


def border(codes, ctx: Context) -> tuple[list[str], list[str]]:
    """(communes inside with a neighbour outside, communes outside adjacent to the territory), sorted."""
    graph = ctx.graph
    idx = np.array(sorted({graph.index[c] for c in codes if c in graph.index}), dtype=np.int64)
    if idx.size == 0:
        return [], []
    rows = graph.matrix[idx]
    outside = ~np.isin(rows.indices, idx)
    owner = np.repeat(np.arange(idx.size), np.diff(rows.indptr))
    inner = graph.codes[idx[np.unique(owner[outside])]].tolist()
    outer = graph.codes[np.unique(rows.indices[outside])].tolist()
    return sorted(inner), sorted(outer)


def aci_sensitivity(codes, population: int, ctx: Context, limit: int = LIMIT) -> list[AciSwing]:
    """Border communes whose addition or removal changes the ACI size class of a territory of ``population``
    inhabitants: additions first, then removals, each by population then code, ``limit`` per action."""
    size = aci_size(population)
    inner, outer = border(codes, ctx)
    names = ctx.communes["name"]
    out: list[AciSwing] = []
    for action, candidates, sign in ((ADD, outer, 1), (REMOVE, inner, -1)):
        found = []
        for code in candidates:
            pop = int(ctx.population.get(code, 0))
            after = aci_size(population + sign * pop)
            if after != size:
                found.append((pop, code, after))
        for pop, code, after in sorted(found)[:limit]:
            out.append(AciSwing(code, str(names.get(code, code)), action, pop, after))
    return out
