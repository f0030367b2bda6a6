"""Coverage of a scope by CPTS territories: the « zones blanches » and their clusters.

An *assignment* maps an INSEE code to the territories holding the commune
(labels: the imported CPTS perimeters, optionally plus the territories of
a scenario, see :func:`assignment_for`). In a scope, a commune is
*covered* when at least one territory holds it, *in overlap* when two or
more distinct territories do.

A *cluster* is a connected part (commune adjacency, ``Adjacency.parts``)
of the uncovered communes of the scope, ranked by population.

Enclave rule: a cluster is an *enclave* when it has at least one
neighbouring commune and every commune adjacent to it (outside the
cluster, inside or outside the scope, in France) is covered. The sea and
foreign borders are not neighbours: a coastal or frontier cluster whose
land neighbours are all covered is an enclave; a cluster with an
uncovered neighbour outside the scope is not (it continues beyond the
scope); a cluster without any neighbour (an island, a commune without a
contour) is not an enclave either.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely

from geo.base.communes import cog_mapping, load
from geo.base.geometry import dissolve
from geo.base.scope import Scope, parse_scope, scope_codes
from geo.errors import DataError
from geo.formats.csv_cells import csv_bytes
from geo.store.layers import now_iso
from geo.store.scenarios import ScenarioStore
from geo.territory.context import Context, context

UNCOVERED_CSV_COLUMNS = ("code_insee", "nom", "departement", "population", "cluster")


@dataclass
class Cluster:
    """A connected group of uncovered communes."""

    rank: int  # 1 = most populated
    communes: list[str]
    population: int
    msp_count: int
    departements: list[str]
    enclave: bool
    largest_commune: str  # name of its most populated commune
    neighbour_territories: list[tuple[str, int]] = field(
        default_factory=list
    )  # (territory, adjacent communes held)
    bounds: tuple[float, float, float, float] | None = None  # (west, south, east, north), WGS84

    @property
    def label(self) -> str:
        return f"Zone n° {self.rank} — autour de {self.largest_commune}"


@dataclass
class CoverageResult:
    scope: Scope
    population_vintage: int | str
    communes: list[str]
    uncovered: list[str]
    overlaps: dict[str, list[str]]  # commune -> territories holding it (2 or more)
    territories: list[str]  # territories holding at least one commune of the scope
    population: int
    covered_population: int
    uncovered_population: int
    uncovered_share: float  # 0..1 of the population
    by_departement: pd.DataFrame
    by_region: pd.DataFrame
    clusters: list[Cluster]

    @property
    def covered(self) -> list[str]:
        out = set(self.uncovered)
        return [c for c in self.communes if c not in out]


# --- assignment -----------------------------------------------------------------------


def cpts_assignment(ctx: Context) -> dict[str, list[str]]:
    """commune -> names of the imported CPTS holding it (a name shared by two ids gets its id appended)."""
    ids_by_name: dict[str, set[str]] = {}
    for members in ctx.cpts_members.values():
        for cid, name in members:
            ids_by_name.setdefault(name, set()).add(cid)
    out: dict[str, list[str]] = {}
    for code, members in ctx.cpts_members.items():
        labels = [
            name if len(ids_by_name[name]) == 1 else f"{name} [{cid}]" for cid, name in members
        ]
        out[code] = list(dict.fromkeys(labels))
    return out


def assignment_for(
    ctx: Context | None = None, scenario: str | None = None, store=None, with_cpts: bool = True
) -> dict[str, list[str]]:
    """The imported CPTS perimeters, merged with the territories of ``scenario`` (label « name (scénario) »)."""
    ctx = ctx or context()
    out = cpts_assignment(ctx) if with_cpts else {}
    if scenario:
        scen = (store or ScenarioStore(cog=cog_mapping())).get(scenario)
        for terr in scen.territories:
            label = f"{terr.name} (scénario)"
            for code in terr.communes:
                labels = out.setdefault(code, [])
                if label not in labels:
                    labels.append(label)
    return out


# --- coverage -------------------------------------------------------------------------


def coverage(
    scope, assignment: dict[str, list] | None = None, ctx: Context | None = None
) -> CoverageResult:
    """Covered and uncovered communes of a scope, per département and région, and the uncovered clusters."""
    ctx = ctx or context()
    scope = parse_scope(scope)
    if assignment is None:
        assignment = assignment_for(ctx)
    codes = scope_codes(scope, ctx)
    if not codes:
        raise DataError(f"Le périmètre « {scope.spec} » ne contient aucune commune.")
    holders = [list(dict.fromkeys(assignment.get(c) or ())) for c in codes]
    count = np.fromiter((len(h) for h in holders), dtype=np.int64, count=len(codes))
    pop = np.fromiter((ctx.population.get(c, 0) for c in codes), dtype=np.int64, count=len(codes))
    covered = count >= 1
    frame = pd.DataFrame(
        {
            "code": codes,
            "dep": [ctx.dep[c] for c in codes],
            "reg": [ctx.reg[c] for c in codes],
            "population": pop,
            "covered": covered,
            "overlap": count >= 2,
        }
    )
    uncovered = [c for c, ok in zip(codes, covered) if not ok]
    total = int(pop.sum())
    uncovered_pop = int(pop[~covered].sum())
    return CoverageResult(
        scope=scope,
        population_vintage=ctx.population_vintage,
        communes=codes,
        uncovered=uncovered,
        overlaps={c: [str(t) for t in h] for c, h in zip(codes, holders) if len(h) >= 2},
        territories=sorted({str(t) for h in holders for t in h}),
        population=total,
        covered_population=total - uncovered_pop,
        uncovered_population=uncovered_pop,
        uncovered_share=uncovered_pop / total if total > 0 else 0.0,
        by_departement=_table(frame, "dep", ctx, "dep_name"),
        by_region=_table(frame, "reg", ctx, "reg_name"),
        clusters=_clusters(uncovered, assignment, ctx),
    )


def _table(frame: pd.DataFrame, level: str, ctx: Context, name_column: str) -> pd.DataFrame:
    """Coverage per département or région: counts, populations and uncovered share."""
    work = frame.assign(
        pop_covered=frame["population"].where(frame["covered"], 0),
        pop_uncovered=frame["population"].where(~frame["covered"], 0),
    )
    grouped = work.groupby(level, sort=True)
    table = pd.DataFrame(
        {
            "communes": grouped.size(),
            "communes_non_couvertes": grouped["covered"].apply(lambda s: int((~s).sum())),
            "communes_chevauchement": grouped["overlap"].sum().astype(int),
            "population": grouped["population"].sum(),
            "population_couverte": grouped["pop_covered"].sum(),
            "population_non_couverte": grouped["pop_uncovered"].sum(),
        }
    )
    totals = table["population"].where(table["population"] > 0)
    table["part_non_couverte"] = (table["population_non_couverte"] / totals).fillna(0.0).round(4)
    names = ctx.communes.drop_duplicates(level).set_index(level)[name_column]
    table.insert(0, "nom", names.reindex(table.index).astype(str).to_numpy())
    table.index.name = "code"
    return table.reset_index()


def _clusters(uncovered: list[str], assignment: dict, ctx: Context) -> list[Cluster]:
    # a commune without a contour in the source (Conques-en-Rouergue…) has no neighbour: it is counted as
    # uncovered, never a zone of its own
    uncovered = [c for c in uncovered if ctx.geometry.get(c) is not None]
    parts = ctx.graph.parts(uncovered)
    if not parts:
        return []
    graph = ctx.graph
    label = np.full(len(graph.codes), -1, dtype=np.int64)
    for k, part in enumerate(parts):
        label[[graph.index[c] for c in part]] = k
    rows = np.flatnonzero(label >= 0)
    sub = graph.matrix[rows].tocoo()
    src, dst = label[rows[sub.row]], sub.col
    outside = label[dst] != src  # neighbours outside their cluster
    src, dst = src[outside], dst[outside]
    order = np.lexsort((dst, src))
    src, dst = src[order], dst[order]
    bounds_at = np.searchsorted(src, np.arange(len(parts) + 1))
    clusters = []
    for k, part in enumerate(parts):
        nbrs = np.unique(dst[bounds_at[k] : bounds_at[k + 1]])
        nbr_codes = graph.codes[nbrs].tolist()
        held = {}
        for code in nbr_codes:
            for terr in dict.fromkeys(assignment.get(code) or ()):
                held[str(terr)] = held.get(str(terr), 0) + 1
        enclave = bool(nbr_codes) and all(assignment.get(code) for code in nbr_codes)
        clusters.append(_cluster(part, ctx, enclave, held))
    clusters.sort(key=lambda cl: (-cl.population, cl.communes[0]))
    for rank, cl in enumerate(clusters, start=1):
        cl.rank = rank
    return clusters


def _cluster(part: list[str], ctx: Context, enclave: bool, held: dict[str, int]) -> Cluster:
    codes = sorted(part)
    pops = [ctx.population.get(c, 0) for c in codes]
    largest = codes[int(np.argmax(pops))]
    geoms = [g for g in (ctx.geometry.get(c) for c in codes) if g is not None]
    box = shapely.total_bounds(np.asarray(geoms, dtype=object)) if geoms else None
    return Cluster(
        rank=0,
        communes=codes,
        population=int(sum(pops)),
        msp_count=int(sum(ctx.structure_counts.get(c, {}).get("msp", 0) for c in codes)),
        departements=sorted({ctx.dep[c] for c in codes}),
        enclave=enclave,
        largest_commune=str(ctx.communes.at[largest, "name"]),
        neighbour_territories=sorted(held.items(), key=lambda kv: (-kv[1], kv[0])),
        bounds=None if box is None else tuple(float(v) for v in box),
    )


# --- outputs --------------------------------------------------------------------------


def _cluster_json(cluster: Cluster) -> dict:
    return {
        "rank": cluster.rank,
        "label": cluster.label,
        "communes": cluster.communes,
        "commune_count": len(cluster.communes),
        "population": cluster.population,
        "msp_count": cluster.msp_count,
        "enclave": cluster.enclave,
        "departements": cluster.departements,
        "neighbour_territories": [
            {"territory": t, "communes": n} for t, n in cluster.neighbour_territories
        ],
        "bounds": list(cluster.bounds) if cluster.bounds else None,
    }


def coverage_json(result: CoverageResult) -> dict:
    """The figures of the command line (``python -m geo coverage --json``)."""
    return {
        "scope": result.scope.spec,
        "population_vintage": result.population_vintage,
        "population": result.population,
        "covered_population": result.covered_population,
        "uncovered_population": result.uncovered_population,
        "uncovered_share": round(result.uncovered_share, 4),
        "communes": len(result.communes),
        "uncovered_communes": len(result.uncovered),
        "overlap_communes": len(result.overlaps),
        "territories": len(result.territories),
        "clusters": [_cluster_json(cl) for cl in result.clusters],
        "by_departement": result.by_departement.to_dict("records"),
        "by_region": result.by_region.to_dict("records"),
    }


def cluster_of(result: CoverageResult) -> dict[str, int]:
    """commune -> rank of its cluster (uncovered communes only)."""
    return {code: cl.rank for cl in result.clusters for code in cl.communes}


def uncovered_csv(result: CoverageResult, ctx: Context | None = None) -> bytes:
    """``code_insee;nom;departement;population;cluster`` (UTF-8 with BOM, formula cells neutralised by
    :func:`geo.formats.csv_cells.csv_bytes`), by cluster then code."""
    ctx = ctx or context()
    rank = cluster_of(result)
    codes = sorted(result.uncovered, key=lambda c: (rank.get(c, 0), c))
    names = ctx.communes["name"].reindex(codes).to_numpy()
    rows = (
        [
            code,
            name if isinstance(name, str) else "",
            ctx.dep[code],
            int(ctx.population.get(code, 0)),
            rank.get(code, ""),
        ]
        for code, name in zip(codes, names)
    )
    return csv_bytes(UNCOVERED_CSV_COLUMNS, rows)


def _area_members(ctx: Context) -> dict[str, dict[str, set[str]]]:
    """For « reg » and « dep »: area code -> the set of its communes' codes."""
    out: dict[str, dict[str, set[str]]] = {"reg": {}, "dep": {}}
    for level, lookup in (("reg", ctx.reg), ("dep", ctx.dep)):
        for code, area in lookup.items():
            out[level].setdefault(area, set()).add(code)
    return out


def _zone_shape(codes, ctx: Context, members: dict[str, dict[str, set[str]]]):
    """The dissolved shape of ``codes``: whole régions and départements are taken from the base's own
    dissolved layers (built from the same communes), so a zone of a large part of France is not merged
    commune by commune again (about 4 s for 34,000 communes, against well under a second)."""
    rest, pieces = set(codes), []
    for level, layer in (("reg", "regions"), ("dep", "departements")):
        whole = sorted(
            area for area, inside in members[level].items() if len(inside) > 1 and inside <= rest
        )
        if whole:
            shapes = load(layer).set_index("code").geometry
            pieces += [shapes[area] for area in whole if area in shapes.index]
            rest -= set().union(*(members[level][area] for area in whole if area in shapes.index))
    pieces += [ctx.geometry.get(c) for c in sorted(rest)]
    return dissolve(pieces)


def clusters_geojson(result: CoverageResult, ctx: Context | None = None) -> dict:
    """RFC 7946 FeatureCollection: one Feature per cluster, dissolved, with its figures as properties."""
    ctx = ctx or context()
    stamp = now_iso()
    features = []
    members = _area_members(ctx)
    for cl in result.clusters:
        shape = _zone_shape(cl.communes, ctx, members)
        shape = shapely.orient_polygons(shapely.set_precision(shape, 1e-6), exterior_cw=False)
        props = _cluster_json(cl)
        props.pop("bounds")
        props.update(
            {
                "name": cl.label,
                "scope": result.scope.spec,
                "population_vintage": result.population_vintage,
                "exported_at": stamp,
            }
        )
        features.append(
            {
                "type": "Feature",
                "geometry": json.loads(shapely.to_geojson(shape)),
                "properties": props,
            }
        )
    return {"type": "FeatureCollection", "features": features}
