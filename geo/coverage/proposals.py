"""Proposals of CPTS territories for uncovered communes: max-p regionalisation with a population floor.

The heuristic is libgeoda's greedy max-p (``geo.coverage.regionalise``): as many contiguous
regions as possible, each of at least ``min_pop`` inhabitants, as compact
as possible (homogeneity is measured on the communes' representative
points in km, so the within-region sum of squares is a compactness
criterion).

Contiguity is ours: the spatial weights given to the library come from
``ctx.graph`` (the commune adjacency), and every region is checked again
with ``Adjacency.parts`` afterwards.

- Max-p needs a connected graph: each connected part of the zone (and,
  with ``keep_departements``, each part of each département) is cut
  separately, in a fixed order.
- Around the MSPs (``around_msp``, on by default): max-p accepts several
  floors, so a part with at least two MSP communes is also cut with a
  second floor "at least one MSP commune per territory", i.e. every
  territory grows around an MSP's commune. Part by part, the cut with the
  most territories holding an MSP is kept (then the one with the most
  territories): forcing an MSP into every territory sometimes leaves
  fewer MSP territories than the free cut, whose regions may hold several
  MSPs. On Haute-Garonne (586 communes, 45 with an MSP, 2026
  populations, floor 20,000) the MSP cut gave 29 territories all with an
  MSP, the free one 34 of which 27 with an MSP; on the whole of Occitanie
  the free cut was kept (146 MSP territories against 145). ``Proposal.notes`` says which
  cut was kept and what the other gave. (``init_regions`` was tried as a
  way to seed: it takes a full partition, and came back with fewer
  territories.)
- The commune with the most MSPs (then the most populated) names each
  territory: « CPTS autour de X » (« Territoire autour de X » without MSP,
  « Zone à rattacher autour de X » below the floor).
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

Cost: about 0.5 to 1 s for a département (300 to 700 communes; twice
that with the MSP cut); large zones get fewer iterations
(``geo.coverage.regionalise.iterations``) and run in a child process: about 3 s
per cut for Occitanie's 4,400 communes on two cores. ``cancel`` is
checked between parts and, while a child process cuts a large part,
every quarter second (the child is then stopped).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from geo.base.adjacency import graph
from geo.coverage.gaps import cpts_assignment
from geo.coverage.regionalise import Cancelled, job_for, regions_of, run
from geo.errors import DataError
from geo.formats.french import integer
from geo.territory.colouring import neighbour_colours
from geo.territory.context import Context
from geo.territory.diagnostics import Tally, diagnose, split_codes

DEFAULT_MIN_POP = 20000
MAX_SPLIT_TRIES = 6

__all__ = ["Cancelled", "Proposal", "propose", "proposal_json", "to_scenario"]


@dataclass
class Proposal:
    territories: list[
        dict
    ]  # name, communes, population, aci_size, contiguous, below_floor, above_max, explanation...
    communes: list[str]
    population: int
    min_pop: int
    max_pop: int | None
    keep_departements: bool
    seed: int
    around_msp: bool = True
    explanations: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # how the MSPs steered the cut, part by part
    elapsed_s: float = 0.0

    @property
    def params(self) -> dict:
        return {
            "min_pop": self.min_pop,
            "max_pop": self.max_pop,
            "keep_departements": self.keep_departements,
            "seed": self.seed,
            "around_msp": self.around_msp,
        }

    @property
    def msp_territories(self) -> int:
        return sum(1 for t in self.territories if t["msp_count"] > 0)


class _Steps:
    """Progress and cancel between parts and, for a part cut in a child process, while it runs."""

    def __init__(self, total: int, progress, cancel):
        self.total, self.progress, self.cancel, self.done = total, progress, cancel, 0
        self.message = self.phase = ""

    def part(self, i: int, count: int, group: list[str]) -> None:
        if self.cancel is not None and self.cancel():
            raise Cancelled()
        self.message = f"Découpage de la partie {i + 1} sur {count} ({len(group)} communes)"
        self.report(self.message)

    def report(self, message: str) -> None:
        if self.progress is not None:
            self.progress(self.done / self.total, message)

    def tick(self, seconds: float) -> None:
        phase = f" ({self.phase})" if self.phase else ""
        self.report(f"{self.message} — {integer(seconds)} s{phase}")


def propose(
    codes,
    ctx: Context,
    min_pop: int = DEFAULT_MIN_POP,
    max_pop: int | None = None,
    keep_departements: bool = False,
    seed: int = 1,
    progress=None,
    cancel=None,
    assignment: dict[str, list] | None = None,
    around_msp: bool = True,
) -> Proposal:
    """Contiguous territories of whole communes of ``codes``, each of at least ``min_pop`` inhabitants.

    ``around_msp``: where the imported FINESS places MSPs, also cut with
    "at least one MSP commune per territory" and keep, part by part, the cut
    with the most territories holding an MSP (then the most territories).
    ``assignment`` (commune -> territories, default: the imported CPTS)
    names the neighbouring territories in the explanations.
    ``progress(fraction, message)`` is called between parts (and every
    quarter second while a large part is cut); ``cancel()`` is checked at
    the same moments (``Cancelled`` is raised).
    """
    start = time.perf_counter()
    zone = _check_codes(codes, ctx)
    min_pop, max_pop = _check_bounds(min_pop, max_pop)
    total = int(sum(ctx.population.get(c, 0) for c in zone))
    if total < min_pop:
        raise DataError(
            f"La zone ({integer(len(zone))} communes, {integer(total)} habitants) compte moins d'habitants que le "
            f"plancher demandé ({integer(min_pop)}) : aucun territoire ne peut l'atteindre. Baissez le plancher, "
            "élargissez la zone ou rattachez ces communes à une CPTS voisine."
        )
    if assignment is None:
        assignment = cpts_assignment(ctx)
    groups = _groups(zone, ctx, keep_departements)
    steps = _Steps(len(zone), progress, cancel)
    regions, choices = [], []
    for i, group in enumerate(groups):
        steps.part(i, len(groups), group)
        cut, choice = _cut(group, ctx, min_pop, max_pop, seed, around_msp, steps)
        regions.extend(cut)
        if choice is not None:
            choices.append(choice)
        steps.done += len(group)
    if progress is not None:
        progress(1.0, f"{len(regions)} territoire(s) proposé(s)")
    territories = _territories(regions, ctx, min_pop, max_pop, assignment)
    return Proposal(
        territories=territories,
        communes=zone,
        population=total,
        min_pop=min_pop,
        max_pop=max_pop,
        keep_departements=keep_departements,
        seed=int(seed),
        around_msp=bool(around_msp),
        explanations=[t["explanation"] for t in territories if t["explanation"]],
        notes=_msp_notes(zone, ctx, around_msp, choices),
        elapsed_s=time.perf_counter() - start,
    )


def _check_codes(codes, ctx: Context) -> list[str]:
    known, unknown = split_codes(codes or (), ctx)
    if unknown:
        shown = ", ".join(unknown[:20]) + (" ..." if len(unknown) > 20 else "")
        raise DataError(f"Codes INSEE inconnus ou mal formés : {shown}.")
    if not known:
        raise DataError(
            "La zone à découper est vide : aucune commune (tout le périmètre est peut-être déjà couvert)."
        )
    return sorted(known)


def _check_bounds(min_pop, max_pop) -> tuple[int, int | None]:
    try:
        min_pop = int(min_pop)
        max_pop = None if max_pop in (None, "", 0) else int(max_pop)
    except (TypeError, ValueError) as exc:
        raise DataError(
            "Les bornes de population doivent être des nombres entiers d'habitants."
        ) from exc
    if min_pop <= 0:
        raise DataError(f"Le plancher de population doit être positif (reçu : {min_pop}).")
    if max_pop is not None and max_pop < min_pop:
        raise DataError(
            f"Le maximum de population ({integer(max_pop)}) est inférieur au plancher "
            f"({integer(min_pop)})."
        )
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


# --- cutting and checking -------------------------------------------------------------------


def _msp_flags(codes: list[str], ctx: Context) -> list[float]:
    return [1.0 if ctx.structure_counts.get(c, {}).get("msp", 0) > 0 else 0.0 for c in codes]


def _with_msp(regions: list[list[str]], ctx: Context) -> int:
    return sum(1 for r in regions if any(_msp_flags(r, ctx)))


def _maxp(
    group: list[str],
    ctx: Context,
    min_pop: int,
    seed: int,
    steps: _Steps,
    msp: list[float] | None = None,
):
    """The library's max-p regions (with "one MSP commune per region" if ``msp``), split again by our adjacency."""
    bounds = [(float(min_pop), [float(ctx.population.get(c, 0)) for c in group])]
    if msp is not None:
        bounds.append((1.0, msp))
    steps.phase = "découpage autour des MSP" if msp is not None else "découpage libre"
    labels = run(job_for("maxp", group, ctx, bounds, seed), tick=steps.tick, cancel=steps.cancel)
    regions = [r for r in regions_of(group, labels) if r]
    if (
        0 in labels
    ):  # communes left out by the library: their connected parts, as regions of their own
        left = {c for c, lab in zip(group, labels) if lab == 0}
        regions = [r for r in regions if r[0] not in left] + ctx.graph.parts(sorted(left))
    return [
        sorted(part) for r in regions for part in (ctx.graph.parts(r) or [r])
    ]  # guard: contiguity is ours


def _cut(
    group: list[str],
    ctx: Context,
    min_pop: int,
    max_pop: int | None,
    seed: int,
    around_msp: bool,
    steps: _Steps,
) -> tuple[list[list[str]], dict | None]:
    """Regions of one connected group, each contiguous, and how the MSPs steered the cut (None if they did not)."""
    pop = _population(group, ctx)
    choice = None
    if pop < 2 * min_pop or len(group) == 1:
        regions = [group]  # one region at most can reach the floor
    else:
        regions = _maxp(group, ctx, min_pop, seed, steps)
        msp = _msp_flags(group, ctx)
        if around_msp and sum(msp) >= 2:  # with one MSP commune, "one per region" means one region
            seeded = _maxp(group, ctx, min_pop, seed, steps, msp)
            free_key = (_with_msp(regions, ctx), len(regions))
            seeded_key = (_with_msp(seeded, ctx), len(seeded))
            kept = "msp" if seeded_key >= free_key else "free"
            choice = {
                "communes": len(group),
                "msp_communes": int(sum(msp)),
                "kept": kept,
                "free": {"territories": len(regions), "with_msp": free_key[0]},
                "msp": {"territories": len(seeded), "with_msp": seeded_key[0]},
            }
            if kept == "msp":
                regions = seeded
    out = []
    for region in regions:
        if max_pop is not None and _population(region, ctx) > max_pop and len(region) > 1:
            out.extend(_split_large(sorted(region), ctx, min_pop, max_pop, seed, steps))
        else:
            out.append(sorted(region))
    return out, choice


def _split_large(
    region: list[str], ctx: Context, min_pop: int, max_pop: int, seed: int, steps: _Steps
) -> list[list[str]]:
    """Cut a region above the maximum into the fewest regions within both bounds, if AZP finds them."""
    pop = _population(region, ctx)
    first = math.ceil(pop / max_pop)
    last = min(pop // min_pop, len(region), first + MAX_SPLIT_TRIES - 1)
    best, best_peak = [region], pop
    bounds = [(float(min_pop), [float(ctx.population.get(c, 0)) for c in region])]
    for p in range(first, last + 1):
        steps.phase = f"redécoupage d'un territoire au-dessus du maximum en {p}"
        labels = run(
            job_for("azp", region, ctx, bounds, seed, p=p), tick=steps.tick, cancel=steps.cancel
        )
        parts = [sorted(r) for r in regions_of(region, labels)]
        if any(len(ctx.graph.parts(r)) > 1 for r in parts):
            continue
        pops = [_population(r, ctx) for r in parts]
        if all(min_pop <= v <= max_pop for v in pops):
            return parts
        if min(pops) >= min_pop and max(pops) < best_peak:
            best, best_peak = parts, max(pops)
    return best


def _msp_notes(zone: list[str], ctx: Context, around_msp: bool, choices: list[dict]) -> list[str]:
    """What the user should know about the MSPs' part in the cut (French)."""
    if not around_msp:
        return ["Découpage sans tenir compte des MSP (option désactivée)."]
    if not any(counts.get("msp", 0) for counts in ctx.structure_counts.values()):
        return [
            "Aucune MSP connue (fichier FINESS non importé) : le découpage ne peut pas se faire autour des "
            "MSP. Importez le FINESS dans la page « Données » puis relancez."
        ]
    if not choices:
        return [
            "Zone trop petite ou trop peu de communes avec une MSP pour en tenir compte dans le découpage."
        ]
    notes = []
    for ch in choices:
        free, seeded = ch["free"], ch["msp"]
        head = f"Partie de {integer(ch['communes'])} communes ({integer(ch['msp_communes'])} avec une MSP) : "
        if ch["kept"] == "msp":
            notes.append(
                head
                + f"découpage autour des MSP retenu, {seeded['territories']} territoire(s) dont "
                f"{seeded['with_msp']} avec une MSP (un découpage libre en donnait {free['territories']}, "
                f"dont {free['with_msp']} avec une MSP)."
            )
        else:
            notes.append(
                head + f"découpage libre retenu, {free['territories']} territoire(s) dont "
                f"{free['with_msp']} avec une MSP (imposer une MSP par territoire n'en donnait que "
                f"{seeded['territories']})."
            )
    return notes


def _anchor(codes: list[str], ctx: Context) -> tuple[str, bool]:
    """(commune naming the territory, whether it holds an MSP): most MSPs, then most populated."""

    def key(code):
        return (
            -ctx.structure_counts.get(code, {}).get("msp", 0),
            -ctx.population.get(code, 0),
            code,
        )

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


def _neighbour_holders(
    codes: list[str], ctx: Context, holders: dict[str, list]
) -> list[tuple[str, int]]:
    """Territories holding communes adjacent to ``codes``, by number of such communes (most first)."""
    inside = set(codes)
    counts: dict[str, int] = {}
    adjacent = {n for c in codes for n in ctx.graph.neighbours(c) if n not in inside}
    for code in adjacent:
        for terr in dict.fromkeys(holders.get(code) or ()):
            counts[str(terr)] = counts.get(str(terr), 0) + 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _territories(
    regions: list[list[str]],
    ctx: Context,
    min_pop: int,
    max_pop: int | None,
    assignment: dict[str, list],
) -> list[dict]:
    regions = sorted(regions, key=lambda r: (-_population(r, ctx), r[0]))
    out, used = [], {}
    for region in regions:
        anchor, has_msp = _anchor(region, ctx)
        pop = _population(region, ctx)
        kind = "Zone à rattacher" if pop < min_pop else "CPTS" if has_msp else "Territoire"
        base = f"{kind} autour {_de(str(ctx.communes.at[anchor, 'name']))}"
        used[base] = used.get(base, 0) + 1
        name = base if used[base] == 1 else f"{base} ({used[base]})"
        diag = diagnose(
            Tally.of(region, ctx), ctx, with_geometry=False
        )  # the territory page's own figures
        out.append(
            {
                "name": name[:120],
                "communes": region,
                "population": pop,
                "aci_size": diag.aci_size,
                "contiguous": diag.contiguous,
                "below_floor": pop < min_pop,
                "above_max": max_pop is not None and pop > max_pop,
                "msp_count": diag.msp_count,
                "centres_sante_count": diag.centres_sante_count,
                "apl": diag.apl,
                "irdes_mix": diag.irdes_mix,
                "density": diag.density,
                "anchor": anchor,
                "departements": diag.departements,
                "status": "proposition",
                "explanation": "",
            }
        )
    proposed = {c: [t["name"]] for t in out if not t["below_floor"] for c in t["communes"]}
    for terr in out:
        if terr["below_floor"]:
            terr["explanation"] = _explain_small(terr, ctx, min_pop, assignment, proposed)
        elif terr["above_max"]:
            terr["explanation"] = _explain_large(terr, ctx, max_pop)
    return out


def _explain_large(terr: dict, ctx: Context, max_pop: int) -> str:
    head = (
        f"« {terr['name']} » compte {integer(terr['population'])} habitants, "
        f"au-dessus du maximum de {integer(max_pop)}"
    )
    biggest = max(terr["communes"], key=lambda c: (ctx.population.get(c, 0), c))
    if ctx.population.get(biggest, 0) > max_pop:
        return (
            f"{head} : la commune de {ctx.communes.at[biggest, 'name']} compte à elle seule "
            f"{integer(ctx.population[biggest])} habitants ; une commune n'est pas découpée ici "
            "(plusieurs CPTS peuvent se la partager, à définir à la main)."
        )
    return (
        f"{head} : aucun découpage en territoires contigus respectant les deux bornes n'a été trouvé ; "
        "à redécouper à la main."
    )


def _explain_small(terr: dict, ctx: Context, min_pop: int, assignment: dict, proposed: dict) -> str:
    head = (
        f"« {terr['name']} » : zone isolée de {integer(terr['population'])} habitants "
        f"({integer(len(terr['communes']))} commune(s)), sous le plancher de {integer(min_pop)}"
    )
    near = _neighbour_holders(terr["communes"], ctx, assignment)
    if near:
        name, count = near[0]
        return (
            f"{head} : proposer de la rattacher à la CPTS voisine « {name} » "
            f"({count} commune(s) limitrophe(s))."
        )
    near = _neighbour_holders(terr["communes"], ctx, proposed)
    if near:
        name, count = near[0]
        return (
            f"{head} : proposer de la rattacher au territoire proposé voisin « {name} » "
            f"({count} commune(s) limitrophe(s))."
        )
    if not any(ctx.geometry.get(c) is not None for c in terr["communes"]):
        return (
            f"{head} : commune(s) sans contour dans la base communale, donc sans voisine connue ; "
            "à rattacher à la main au territoire voisin."
        )
    inside = set(terr["communes"])
    if any(n not in inside for c in terr["communes"] for n in ctx.graph.neighbours(c)):
        return (
            f"{head} : ses communes voisines, hors de la zone découpée, ne sont dans aucune CPTS ; "
            "élargir la zone au périmètre voisin ou la rattacher à la main."
        )
    return f"{head}, sans aucune commune voisine (île) : à examiner au cas par cas."


# --- outputs --------------------------------------------------------------------------------


def proposal_json(proposal: Proposal) -> dict:
    return {
        **proposal.params,
        "population": proposal.population,
        "msp_territories": proposal.msp_territories,
        "notes": proposal.notes,
        "communes": len(proposal.communes),
        "territories": proposal.territories,
        "explanations": proposal.explanations,
        "elapsed_s": round(proposal.elapsed_s, 3),
    }


def to_scenario(proposal: Proposal, store, name: str, scope: str = ""):
    """A new draft scenario (status « proposition ») holding the proposed territories, explanations as notes;
    neighbouring territories get different colours (``geo.territory.colouring``), as on the proposal's map."""
    colours = neighbour_colours([t["communes"] for t in proposal.territories], graph())
    territories = [
        {
            "name": t["name"],
            "communes": t["communes"],
            "status": "proposition",
            "notes": t["explanation"],
            "colour": colour,
        }
        for t, colour in zip(proposal.territories, colours)
    ]
    return store.create_from(name, territories, scope=scope)
