"""Colours for a set of territories such that two neighbouring territories never share one.

Two territories are neighbours when a commune of one touches a commune of the other (the commune adjacency
graph, ``geo.base.adjacency``). The territory graph is coloured greedily in the « DSATUR » order (the
territory with the most differently coloured neighbours first, then the one with most neighbours): planar
maps rarely need more than five colours that way. The palette is Okabe & Ito's colour-blind safe one
(without its black, which would hide labels and outlines); a territory only gets a colour used by a
neighbour when its neighbours already use every colour of the palette (never seen on real proposals).
"""

from __future__ import annotations

from collections.abc import Sequence

# Okabe & Ito (2008), « Color Universal Design »: distinguishable with every common colour vision deficiency.
OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"]


def territory_graph(territories: Sequence[Sequence[str]], graph) -> list[set[int]]:
    """For each territory (its commune codes), the indices of the territories it touches."""
    owner: dict[str, int] = {}
    for i, codes in enumerate(territories):
        for code in codes:
            owner.setdefault(code, i)
    touching: list[set[int]] = [set() for _ in territories]
    for i, codes in enumerate(territories):
        for code in codes:
            if code not in graph.index:
                continue
            for nb in graph.neighbours(code):
                j = owner.get(nb)
                if j is not None and j != i:
                    touching[i].add(j)
                    touching[j].add(i)
    return touching


def neighbour_colours(
    territories: Sequence[Sequence[str]], graph, palette: Sequence[str] = OKABE_ITO
) -> list[str]:
    """One colour of ``palette`` per territory, different from its neighbours' (see the module's docstring)."""
    touching = territory_graph(territories, graph)
    colour: dict[int, int] = {}
    while len(colour) < len(territories):
        left = [i for i in range(len(territories)) if i not in colour]
        pick = max(
            left,
            key=lambda i: (
                len({colour[j] for j in touching[i] if j in colour}),
                len(touching[i]),
                -i,
            ),
        )
        used = {colour[j] for j in touching[pick] if j in colour}
        free = [k for k in range(len(palette)) if k not in used]
        if free:
            colour[pick] = free[0]
        else:  # every colour is next door: the one its fewest neighbours have
            counts = [sum(colour.get(j) == k for j in touching[pick]) for k in range(len(palette))]
            colour[pick] = counts.index(min(counts))
    return [palette[colour[i]] for i in range(len(territories))]
