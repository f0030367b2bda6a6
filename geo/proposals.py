"""Proposals of CPTS territories for uncovered communes: max-p regionalisation with a population floor.

The heuristic is pygeoda's ``maxp_greedy`` (libgeoda): as many contiguous
regions as possible, each of at least ``min_pop`` inhabitants, as compact
as possible (homogeneity is measured on the communes' representative
points in km, so the within-region sum of squares is a compactness
criterion).

Contiguity is ours: the spatial weights given to pygeoda are written as a
GAL file from ``ctx.graph`` (the commune adjacency), not recomputed by
pygeoda, and every region is checked again with ``Adjacency.parts``
afterwards.

- Max-p needs a connected graph: each connected part of the zone (and,
  with ``keep_departements``, each part of each département) is cut
  separately, in a fixed order.
- pygeoda has no seeds (``init_regions`` is a full initial partition, not
  seeds), so MSPs do not steer the cut; the commune with the most MSPs
  (then the most populated) names each territory: « CPTS autour de X »
  (« Territoire autour de X » without MSP, « Zone à rattacher autour
  de X » below the floor).
- A maximum is not asked of the library (libgeoda's ``max_bounds`` for
  max-p did not return in minutes on a small département): a region above
  it is cut again with ``azp_greedy`` into the fewest regions that respect
  both bounds (p = ceil(population / max), then p + 1...); when no such
  cut is found, the region is kept and explained.
- A part whose population is below the floor cannot become a territory
  of its own: it is returned as one territory flagged ``below_floor``,
  with an explanation naming the neighbouring territory (imported CPTS,
  or another proposed territory) that shares the most border communes.
- Bad input raises ``DataError``: an empty zone, unknown codes, and a
  floor larger than the whole zone's population (then nothing can be
  proposed: the message says so, with the figures).

Same input and same seed give the same proposal (sorted inputs; the
greedy iterations are seeded one by one, so the thread count does not
change the result — checked on Haute-Garonne, Nord and Occitanie).

Cost: about 0.5 to 1 s for a département (300 to 700 communes); large
zones get fewer iterations (``_iterations``): about 5 s for Occitanie's
4,400 communes on two cores. ``cancel`` is checked between parts: a
single large connected part cannot be interrupted while the library runs.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from geo.aci import aci_size
from geo.context import Context
from geo.errors import DataError

DEFAULT_MIN_POP = 20000
ITERATIONS = 99  # GeoDa's default, for up to ITERATION_UNITS communes
ITERATION_UNITS = 1500  # above, fewer iterations (cost grows with units x iterations)
MIN_ITERATIONS = 10
MAX_SPLIT_TRIES = 6


class Cancelled(DataError):
    """The user cancelled the computation."""

    def __init__(self, message: str = "Calcul de la proposition annulé."):
        super().__init__(message)


@dataclass
class Proposal:
    territories: list[dict]  # name, communes, population, aci_size, contiguous, below_floor, above_max, explanation...
    communes: list[str]
    population: int
    min_pop: int
    max_pop: int | None
    keep_departements: bool
    seed: int
    explanations: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def params(self) -> dict:
        return {"min_pop": self.min_pop, "max_pop": self.max_pop,
                "keep_departements": self.keep_departements, "seed": self.seed}


def _fmt(n: int) -> str:
    return f"{int(n):,}".replace(",", "\u202f")


def propose(codes, ctx: Context, min_pop: int = DEFAULT_MIN_POP, max_pop: int | None = None,
            keep_departements: bool = False, seed: int = 1, progress=None, cancel=None,
            assignment: dict[str, list] | None = None) -> Proposal:
    """Contiguous territories of whole communes of ``codes``, each of at least ``min_pop`` inhabitants.

    ``assignment`` (commune -> territories, default: the imported CPTS)
    names the neighbouring territories in the explanations.
    ``progress(fraction, message)`` is called between parts and
    ``cancel()`` checked there (``Cancelled`` is raised).
    """
    from geo.coverage import cpts_assignment

    start = time.perf_counter()
    zone = _check_codes(codes, ctx)
    min_pop, max_pop = _check_bounds(min_pop, max_pop)
    total = int(sum(ctx.population.get(c, 0) for c in zone))
    if total < min_pop:
        raise DataError(
            f"La zone ({len(zone)} communes, {_fmt(total)} habitants) compte moins d'habitants que le plancher "
            f"demandé ({_fmt(min_pop)}) : aucun territoire ne peut l'atteindre. Baissez le plancher, élargissez "
            "la zone ou rattachez ces communes à une CPTS voisine.")
    if assignment is None:
        assignment = cpts_assignment(ctx)
    groups = _groups(zone, ctx, keep_departements)
    done, regions = 0, []
    for i, group in enumerate(groups):
        if cancel is not None and cancel():
            raise Cancelled()
        if progress is not None:
            progress(done / len(zone), f"Découpage de la partie {i + 1} sur {len(groups)} ({len(group)} communes)")
        regions.extend(_cut(group, ctx, min_pop, max_pop, seed))
        done += len(group)
    if progress is not None:
        progress(1.0, f"{len(regions)} territoire(s) proposé(s)")
    territories = _territories(regions, ctx, min_pop, max_pop, assignment)
    return Proposal(
        territories=territories, communes=zone, population=total, min_pop=min_pop, max_pop=max_pop,
        keep_departements=keep_departements, seed=int(seed),
        explanations=[t["explanation"] for t in territories if t["explanation"]],
        elapsed_s=time.perf_counter() - start,
    )


def _check_codes(codes, ctx: Context) -> list[str]:
    from geo.diagnostics import split_codes

    known, unknown = split_codes(codes or (), ctx)
    if unknown:
        shown = ", ".join(unknown[:20]) + (" ..." if len(unknown) > 20 else "")
        raise DataError(f"Codes INSEE inconnus ou mal formés : {shown}.")
    if not known:
        raise DataError("La zone à découper est vide : aucune commune (tout le périmètre est peut-être déjà couvert).")
    return sorted(known)


def _check_bounds(min_pop, max_pop) -> tuple[int, int | None]:
    try:
        min_pop = int(min_pop)
        max_pop = None if max_pop in (None, "", 0) else int(max_pop)
    except (TypeError, ValueError) as exc:
        raise DataError("Les bornes de population doivent être des nombres entiers d'habitants.") from exc
    if min_pop <= 0:
        raise DataError(f"Le plancher de population doit être positif (reçu : {min_pop}).")
    if max_pop is not None and max_pop < min_pop:
        raise DataError(f"Le maximum de population ({_fmt(max_pop)}) est inférieur au plancher ({_fmt(min_pop)}).")
    return min_pop, max_pop


def _groups(zone: list[str], ctx: Context, keep_departements: bool) -> list[list[str]]:
    """Connected parts of the zone (per département if asked), in a fixed order."""
    groups = []
    for part in ctx.graph.parts(zone):
        if keep_departements:
            by_dep: dict[str, list[str]] = {}
            for code in part:
                by_dep.setdefault(ctx.dep[code], []).append(code)
            for dep in sorted(by_dep):
                groups.extend(ctx.graph.parts(by_dep[dep]))
        else:
            groups.append(part)
    return sorted((sorted(g) for g in groups), key=lambda g: g[0])


def _population(codes, ctx: Context) -> int:
    return int(sum(ctx.population.get(c, 0) for c in codes))


# --- the library ----------------------------------------------------------------------------


def _weights(codes: list[str], ctx: Context, folder: Path):
    """pygeoda weights of ``codes`` from our adjacency (a GAL file: ids are positions)."""
    import pygeoda

    index = {c: i for i, c in enumerate(codes)}
    lines = [f"0 {len(codes)} communes insee"]
    for code in codes:
        nbrs = sorted(index[n] for n in ctx.graph.neighbours(code) if n in index)
        lines.append(f"{index[code]} {len(nbrs)}")
        lines.append(" ".join(map(str, nbrs)))
    path = folder / "communes.gal"
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    return pygeoda.read_gal(str(path), [str(i) for i in range(len(codes))])


def _coordinates(codes: list[str], ctx: Context) -> list[list[float]]:
    """Representative points in km (local equirectangular projection), as two columns."""
    pos = {c: i for i, c in enumerate(ctx.codes)}
    xy = np.full((len(codes), 2), np.nan)
    for k, code in enumerate(codes):
        if code in pos:
            p = ctx.points[pos[code]]
            xy[k] = (p.x, p.y)
    if np.isnan(xy).all():
        xy[:] = 0.0
    xy = np.where(np.isnan(xy), np.nanmean(xy, axis=0), xy)
    lat0 = math.radians(float(np.mean(xy[:, 1])))
    return [(xy[:, 0] * 111.32 * math.cos(lat0)).tolist(), (xy[:, 1] * 110.57).tolist()]


def _labels_to_regions(codes: list[str], labels) -> list[list[str]]:
    regions: dict[int, list[str]] = {}
    for code, lab in zip(codes, labels):
        regions.setdefault(int(lab), []).append(code)
    return [regions[k] for k in sorted(regions)]


def _iterations(units: int) -> int:
    if units <= ITERATION_UNITS:
        return ITERATIONS
    return max(MIN_ITERATIONS, ITERATIONS * ITERATION_UNITS // units)


def _threads() -> int:
    """libgeoda draws one random stream per iteration: the result does not depend on the thread count."""
    return max(1, min(8, os.cpu_count() or 1))


def _maxp(codes: list[str], ctx: Context, min_pop: int, seed: int) -> list[list[str]]:
    import pygeoda

    with tempfile.TemporaryDirectory(prefix="cartocpts-maxp-") as tmp:
        w = _weights(codes, ctx, Path(tmp))
        pops = [float(ctx.population.get(c, 0)) for c in codes]
        result = pygeoda.maxp_greedy(w, _coordinates(codes, ctx), pops, float(min_pop),
                                     iterations=_iterations(len(codes)), scale_method="raw",
                                     random_seed=int(seed), cpu_threads=_threads())
    labels = list(result["Clusters"])
    regions = _labels_to_regions(codes, labels)
    if 0 in labels:  # communes left out by the library: their connected parts, as regions of their own
        left = [c for c, lab in zip(codes, labels) if lab == 0]
        regions = [r for r in regions if r[0] not in set(left)] + ctx.graph.parts(left)
    return regions


def _azp(codes: list[str], ctx: Context, p: int, min_pop: int, seed: int) -> list[list[str]]:
    import pygeoda

    with tempfile.TemporaryDirectory(prefix="cartocpts-azp-") as tmp:
        w = _weights(codes, ctx, Path(tmp))
        pops = [float(ctx.population.get(c, 0)) for c in codes]
        result = pygeoda.azp_greedy(p, w, _coordinates(codes, ctx), bound_variable=pops, min_bound=float(min_pop),
                                    scale_method="raw", random_seed=int(seed))
    return _labels_to_regions(codes, result["Clusters"])


# --- cutting and checking -------------------------------------------------------------------


def _cut(group: list[str], ctx: Context, min_pop: int, max_pop: int | None, seed: int) -> list[list[str]]:
    """Regions of one connected group, each contiguous (split again by our adjacency if needed)."""
    pop = _population(group, ctx)
    if pop < 2 * min_pop or len(group) == 1:
        regions = [group]  # one region at most can reach the floor
    else:
        regions = _maxp(group, ctx, min_pop, seed)
    out = []
    for region in regions:
        for part in ctx.graph.parts(region) or [region]:  # guard: the library's regions must be contiguous
            if max_pop is not None and _population(part, ctx) > max_pop and len(part) > 1:
                out.extend(_split_large(sorted(part), ctx, min_pop, max_pop, seed))
            else:
                out.append(sorted(part))
    return out


def _split_large(region: list[str], ctx: Context, min_pop: int, max_pop: int, seed: int) -> list[list[str]]:
    """Cut a region above the maximum into the fewest regions within both bounds, if AZP finds them."""
    pop = _population(region, ctx)
    first = math.ceil(pop / max_pop)
    last = min(pop // min_pop, len(region), first + MAX_SPLIT_TRIES - 1)
    best, best_peak = [region], pop
    for p in range(first, last + 1):
        parts = [sorted(r) for r in _azp(region, ctx, p, min_pop, seed)]
        if any(len(ctx.graph.parts(r)) > 1 for r in parts):
            continue
        pops = [_population(r, ctx) for r in parts]
        if all(min_pop <= v <= max_pop for v in pops):
            return parts
        if min(pops) >= min_pop and max(pops) < best_peak:
            best, best_peak = parts, max(pops)
    return best


def _anchor(codes: list[str], ctx: Context) -> tuple[str, bool]:
    """(commune naming the territory, whether it holds an MSP): most MSPs, then most populated."""
    def key(code):
        return (-ctx.structure_counts.get(code, {}).get("msp", 0), -ctx.population.get(code, 0), code)

    best = min(codes, key=key)
    return best, ctx.structure_counts.get(best, {}).get("msp", 0) > 0


def _de(name: str) -> str:
    """« de Foix », « d'Ax-les-Thermes », « du Mas-d'Azil », « des Cabannes »."""
    if name.startswith("Le "):
        return "du " + name[3:]
    if name.startswith("Les "):
        return "des " + name[4:]
    if name[:1].upper() in "AEIOUYÉÈÊÂÎÔÛH" and not name.startswith(("La ", "L'")):
        return "d'" + name
    return "de " + name


def _neighbour_holders(codes: list[str], ctx: Context, holders: dict[str, list]) -> list[tuple[str, int]]:
    """Territories holding communes adjacent to ``codes``, by number of such communes (most first)."""
    inside = set(codes)
    counts: dict[str, int] = {}
    adjacent = {n for c in codes for n in ctx.graph.neighbours(c) if n not in inside}
    for code in adjacent:
        for terr in dict.fromkeys(holders.get(code) or ()):
            counts[str(terr)] = counts.get(str(terr), 0) + 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _territories(regions: list[list[str]], ctx: Context, min_pop: int, max_pop: int | None,
                 assignment: dict[str, list]) -> list[dict]:
    regions = sorted(regions, key=lambda r: (-_population(r, ctx), r[0]))
    out, used = [], {}
    for region in regions:
        anchor, has_msp = _anchor(region, ctx)
        pop = _population(region, ctx)
        kind = "Zone à rattacher" if pop < min_pop else "CPTS" if has_msp else "Territoire"
        base = f"{kind} autour {_de(str(ctx.communes.at[anchor, 'name']))}"
        used[base] = used.get(base, 0) + 1
        name = base if used[base] == 1 else f"{base} ({used[base]})"
        out.append({
            "name": name[:120],
            "communes": region,
            "population": pop,
            "aci_size": aci_size(pop),
            "contiguous": len(ctx.graph.parts(region)) <= 1,
            "below_floor": pop < min_pop,
            "above_max": max_pop is not None and pop > max_pop,
            "msp_count": int(sum(ctx.structure_counts.get(c, {}).get("msp", 0) for c in region)),
            "anchor": anchor,
            "departements": sorted({ctx.dep[c] for c in region}),
            "status": "proposition",
            "explanation": "",
        })
    proposed = {c: [t["name"]] for t in out if not t["below_floor"] for c in t["communes"]}
    for terr in out:
        if terr["below_floor"]:
            terr["explanation"] = _explain_small(terr, ctx, min_pop, assignment, proposed)
        elif terr["above_max"]:
            terr["explanation"] = _explain_large(terr, ctx, max_pop)
    return out


def _explain_large(terr: dict, ctx: Context, max_pop: int) -> str:
    head = f"« {terr['name']} » compte {_fmt(terr['population'])} habitants, au-dessus du maximum de {_fmt(max_pop)}"
    biggest = max(terr["communes"], key=lambda c: (ctx.population.get(c, 0), c))
    if ctx.population.get(biggest, 0) > max_pop:
        return (f"{head} : la commune de {ctx.communes.at[biggest, 'name']} compte à elle seule "
                f"{_fmt(ctx.population[biggest])} habitants ; une commune n'est pas découpée ici "
                "(plusieurs CPTS peuvent se la partager, à définir à la main).")
    return (f"{head} : aucun découpage en territoires contigus respectant les deux bornes n'a été trouvé ; "
            "à redécouper à la main.")


def _explain_small(terr: dict, ctx: Context, min_pop: int, assignment: dict, proposed: dict) -> str:
    head = (f"« {terr['name']} » : zone isolée de {_fmt(terr['population'])} habitants "
            f"({len(terr['communes'])} commune(s)), sous le plancher de {_fmt(min_pop)}")
    near = _neighbour_holders(terr["communes"], ctx, assignment)
    if near:
        name, count = near[0]
        return (f"{head} : proposer de la rattacher à la CPTS voisine « {name} » "
                f"({count} commune(s) limitrophe(s)).")
    near = _neighbour_holders(terr["communes"], ctx, proposed)
    if near:
        name, count = near[0]
        return (f"{head} : proposer de la rattacher au territoire proposé voisin « {name} » "
                f"({count} commune(s) limitrophe(s)).")
    if not any(ctx.geometry.get(c) is not None for c in terr["communes"]):
        return (f"{head} : commune(s) sans contour dans la base communale, donc sans voisine connue ; "
                "à rattacher à la main au territoire voisin.")
    inside = set(terr["communes"])
    if any(n not in inside for c in terr["communes"] for n in ctx.graph.neighbours(c)):
        return (f"{head} : ses communes voisines, hors de la zone découpée, ne sont dans aucune CPTS ; "
                "élargir la zone au périmètre voisin ou la rattacher à la main.")
    return f"{head}, sans aucune commune voisine (île) : à examiner au cas par cas."


# --- outputs --------------------------------------------------------------------------------


def proposal_json(proposal: Proposal) -> dict:
    return {
        **proposal.params,
        "population": proposal.population,
        "communes": len(proposal.communes),
        "territories": proposal.territories,
        "explanations": proposal.explanations,
        "elapsed_s": round(proposal.elapsed_s, 3),
    }


def to_scenario(proposal: Proposal, store, name: str, scope: str = ""):
    """A new draft scenario (status « proposition ») holding the proposed territories, explanations as notes."""
    territories = [{"name": t["name"], "communes": t["communes"], "status": "proposition",
                    "notes": t["explanation"]} for t in proposal.territories]
    return store.create_from(name, territories, scope=scope)
