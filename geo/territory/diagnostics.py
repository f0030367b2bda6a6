"""Diagnostics of a CPTS territory: small pure functions over its communes.

``Tally`` is the running sum of a territory's additive figures (population,
area, structures, APL weights, class populations, départements...), updated
from the communes that move in or out, like GerryChain's updaters.
``diagnose`` turns a tally and the set of communes into the full picture:
size class, contiguity, compactness, overlaps.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import shapely

from geo.territory.aci import aci_size, distance_to_edge
from geo.territory.context import Context
from geo.base.geometry import area_perimeter_km, dissolve, fill_holes, polsby_popper

KINDS = ("msp", "centre_sante", "cpts_seat")


@dataclass
class Tally:
    """Additive figures of a set of communes, updated commune by commune."""

    codes: set[str] = field(default_factory=set)
    population: int = 0
    area_km2: float = 0.0
    structures: Counter = field(default_factory=Counter)
    apl_weight: float = 0.0  # sum of standardised populations with a value
    apl_weighted: float = 0.0  # sum of apl * standardised population
    class_population: Counter = field(default_factory=Counter)
    departements: Counter = field(default_factory=Counter)
    regions: Counter = field(default_factory=Counter)

    @classmethod
    def of(cls, codes, ctx: Context) -> "Tally":
        tally = cls()
        tally.update(ctx, add=codes)
        return tally

    def update(self, ctx: Context, add=(), remove=()) -> None:
        """Move communes in and out (unknown codes and no-op moves are ignored)."""
        for code in add:
            if code not in self.codes and code in ctx.population:
                self._apply(ctx, code, +1)
                self.codes.add(code)
        for code in remove:
            if code in self.codes:
                self._apply(ctx, code, -1)
                self.codes.discard(code)

    def _apply(self, ctx: Context, code: str, sign: int) -> None:
        pop = ctx.population[code]
        self.population += sign * pop
        self.area_km2 += sign * ctx.area[code]
        for kind, count in ctx.structure_counts.get(code, {}).items():
            self.structures[kind] += sign * count
        if ctx.apl is not None and code in ctx.apl.index:
            apl, std = ctx.apl.at[code, "apl"], ctx.apl.at[code, "std_pop"]
            if apl == apl and std == std:  # both known (not NaN)
                self.apl_weight += sign * float(std)
                self.apl_weighted += sign * float(apl) * float(std)
        if code in ctx.typology:
            self.class_population[ctx.typology[code]] += sign * pop
        self.departements[ctx.dep[code]] += sign
        self.regions[ctx.reg[code]] += sign

    @property
    def apl(self) -> float | None:
        """APL weighted by standardised population (DREES rule)."""
        return self.apl_weighted / self.apl_weight if self.apl_weight > 0 else None


def split_codes(codes, ctx: Context) -> tuple[list[str], list[str]]:
    """(known codes in order, unknown or malformed codes)."""
    known, unknown = [], []
    for code in dict.fromkeys(str(c).strip().upper() for c in codes if str(c).strip()):
        (known if code in ctx.population else unknown).append(code)
    return known, unknown


def irdes_mix(tally: Tally, ctx: Context) -> dict | None:
    """Population share of each IRDES class, plus the unclassified share; None without typology."""
    if not ctx.typology:
        return None
    total = tally.population
    if total <= 0:
        return {}
    mix = {str(k): round(v / total, 4) for k, v in sorted(tally.class_population.items()) if v}
    unclassified = total - sum(tally.class_population.values())
    if unclassified:
        mix["non_classe"] = round(unclassified / total, 4)
    return mix


def enclosed_communes(shape, codes: set[str], ctx: Context) -> list[str]:
    """Communes outside the territory whose representative point lies in one of its holes."""
    if shape.is_empty:
        return []
    holes = fill_holes(shape).difference(shape)
    if holes.is_empty:
        return []
    idx = ctx.point_tree.query(holes, predicate="contains")
    return sorted(c for c in ctx.codes[idx] if c not in codes)


def structures_list(codes, ctx: Context) -> list[dict]:
    out = []
    for code in sorted(codes):
        out.extend(ctx.structures.get(code, []))
    return out


def existing_overlaps(codes, ctx: Context) -> list[dict]:
    """Existing CPTS perimeters sharing communes with the territory."""
    by_cpts: dict[tuple[str, str], list[str]] = {}
    for code in codes:
        for key in ctx.cpts_members.get(code, []):
            by_cpts.setdefault(key, []).append(code)
    found = [
        {"cpts_id": cid, "cpts_nom": name, "communes": sorted(cs),
         "population": int(sum(ctx.population[c] for c in cs))}
        for (cid, name), cs in by_cpts.items()
    ]
    # Most shared communes first, then most population, then id: the same order in every process.
    return sorted(found, key=lambda o: (-len(o["communes"]), -o["population"], o["cpts_id"]))


def territory_overlaps(codes, others: dict[str, set[str]], ctx: Context) -> list[dict]:
    """Other territories of the scenario sharing communes with this one."""
    out = []
    for name, other in others.items():
        common = sorted(set(codes) & other)
        if common:
            out.append({"territory": name, "communes": common,
                        "population": int(sum(ctx.population[c] for c in common))})
    return out


def diagnose(tally: Tally, ctx: Context, others: dict[str, set[str]] | None = None,
             with_geometry: bool = True) -> dict:
    """The full diagnostics of a territory (see README for each key)."""
    codes = tally.codes
    parts = ctx.graph.parts(codes)
    result = {
        "population": int(tally.population),
        "population_vintage": ctx.population_vintage,
        "aci_size": aci_size(tally.population),
        "aci_edge": distance_to_edge(tally.population),
        "commune_count": len(codes),
        "msp_count": int(tally.structures.get("msp", 0)),
        "centres_sante_count": int(tally.structures.get("centre_sante", 0)),
        "cpts_seats_count": int(tally.structures.get("cpts_seat", 0)),
        "irdes_mix": irdes_mix(tally, ctx),
        "apl": None if tally.apl is None else round(tally.apl, 3),
        "apl_year": ctx.apl_year,
        "contiguous": len(parts) <= 1,
        "parts": len(parts),
        "part_codes": parts,
        "departements": sorted(k for k, v in tally.departements.items() if v > 0),
        "regions": sorted(k for k, v in tally.regions.items() if v > 0),
        "area_km2": round(tally.area_km2, 2),
        "density": round(tally.population / tally.area_km2, 1) if tally.area_km2 > 0 else None,
        "overlaps": existing_overlaps(codes, ctx),
        "territory_overlaps": territory_overlaps(codes, others or {}, ctx),
    }
    result["multi_region"] = len(result["regions"]) > 1
    if with_geometry:
        shape = dissolve([ctx.geometry[c] for c in codes]) if codes else shapely.Polygon()
        area, perimeter = area_perimeter_km(shape)
        compactness = polsby_popper(area, perimeter)
        result["polsby_popper"] = None if compactness is None else round(compactness, 4)
        result["enclosed"] = enclosed_communes(shape, codes, ctx)
        result["perimeter_km"] = round(perimeter, 2)
    return result


def reference_apl(ctx: Context, departements, regions) -> dict:
    """Weighted APL of the given départements and régions, for comparison."""
    from geo.sources.apl import weighted_apl  # the one place where the DREES weighting rule lives

    if ctx.apl is None:
        return {}
    joined = ctx.apl.join(ctx.communes[["dep", "reg"]], how="inner")
    out = {}
    for level, keys in (("dep", departements), ("reg", regions)):
        values = weighted_apl(joined[joined[level].isin(list(keys))], by=level)
        for key, value in values.items():
            out[f"{level}:{key}"] = None if value != value else round(float(value), 3)  # NaN: no weight
    return out


def assess(codes, ctx: Context) -> dict:
    """Diagnostics of a set of commune codes, with the unknown ones listed (command line)."""
    known, unknown = split_codes(codes, ctx)
    result = diagnose(Tally.of(known, ctx), ctx)
    result["unknown_codes"] = unknown
    result["apl_reference"] = reference_apl(ctx, result["departements"], result["regions"])
    return result


def weighted_mean(values: np.ndarray, weights: np.ndarray) -> float | None:
    mask = ~(np.isnan(values) | np.isnan(weights))
    total = weights[mask].sum()
    return float((values[mask] * weights[mask]).sum() / total) if total > 0 else None
