"""Everything diagnostics need, loaded and indexed once per state of the data.

A ``Context`` holds the communes indexed by INSEE code, the current
populations (with their vintage), the adjacency graph, representative
points in a spatial index, and the optional layers (FINESS structures, APL,
IRDES typology, existing CPTS) reduced to per-commune lookups. It is
rebuilt only when a layer file changes.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.store import layers as store
from geo.base.adjacency import Adjacency, graph
from geo.base.communes import POPULATION_VINTAGE, load

OPTIONAL_LAYERS = ("population", "finess", "apl", "typology", "cpts")


@dataclass
class Context:
    communes: gpd.GeoDataFrame  # indexed by insee
    population: dict[str, int]
    population_vintage: int | str
    graph: Adjacency
    points: np.ndarray  # representative points, aligned with ``codes``
    codes: np.ndarray
    point_tree: shapely.STRtree
    area: dict[str, float] = field(default_factory=dict)
    dep: dict[str, str] = field(default_factory=dict)
    reg: dict[str, str] = field(default_factory=dict)
    geometry: dict[str, object] = field(default_factory=dict)
    structures: dict[str, list[dict]] = field(default_factory=dict)  # insee -> FINESS records
    structure_counts: dict[str, Counter] = field(default_factory=dict)
    apl: pd.DataFrame | None = None  # indexed by insee: apl, std_pop
    apl_year: int | None = None
    typology: dict[str, int] = field(default_factory=dict)
    nomenclature: pd.DataFrame | None = None
    cpts_members: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # insee -> [(id, name)]
    vintages: dict[str, str] = field(default_factory=dict)

    def known(self, code: str) -> bool:
        return code in self.population_index

    @property
    def population_index(self) -> pd.Index:
        return self.communes.index


def _stamp() -> tuple:
    stamps = []
    for name in ("communes", "adjacency") + OPTIONAL_LAYERS:
        path = store.layer_path(name)
        stamps.append(path.stat().st_mtime_ns if path.exists() else None)
    return tuple(stamps)


_CACHED: tuple[tuple, Context] | None = None


def context() -> Context:
    """The current context (cached until a layer changes)."""
    global _CACHED
    adjacency = graph()  # builds the adjacency layer if needed, before stamping
    stamp = _stamp()
    if _CACHED is None or _CACHED[0] != stamp:
        _CACHED = (stamp, _build(adjacency))
    return _CACHED[1]


def _build(adjacency: Adjacency) -> Context:
    communes = load("communes").set_index("insee", drop=False)
    pop_series, vintage = _populations(communes)
    points = np.asarray(communes.geometry.representative_point().values)
    present = ~shapely.is_missing(points)
    ctx = Context(
        communes=communes,
        population=pop_series.to_dict(),
        population_vintage=vintage,
        graph=adjacency,
        points=points[present],
        codes=communes.index.to_numpy()[present],
        point_tree=shapely.STRtree(points[present]),
    )
    ctx.area = communes["area_km2"].astype(float).to_dict()
    ctx.dep = communes["dep"].to_dict()
    ctx.reg = communes["reg"].to_dict()
    ctx.geometry = dict(zip(communes.index, communes.geometry.values))
    ctx.vintages["communes"] = f"population {vintage}"
    _attach_finess(ctx)
    _attach_apl(ctx)
    _attach_typology(ctx)
    _attach_cpts(ctx)
    return ctx


def _populations(communes) -> tuple[pd.Series, int | str]:
    try:
        from geo.sources.population import populations_in_use

        series, vintage = populations_in_use(communes.index, communes["population"])
        return series.fillna(0).astype("int64"), vintage
    except ImportError:
        return communes["population"].fillna(0).astype("int64"), POPULATION_VINTAGE


def _attach_finess(ctx: Context) -> None:
    frame = store.read_layer("finess")
    if frame is None:
        return
    meta = store.read_meta("finess") or {}
    ctx.vintages["finess"] = str(meta.get("vintage", ""))
    records = defaultdict(list)
    counts: dict[str, Counter] = defaultdict(Counter)
    cols = [c for c in ("nofinesset", "name", "kind", "address", "insee", "dateouv") if c in frame.columns]
    for row in frame[cols].to_dict("records"):
        records[row["insee"]].append(row)
        counts[row["insee"]][row["kind"]] += 1
    ctx.structures, ctx.structure_counts = dict(records), dict(counts)


def _attach_apl(ctx: Context) -> None:
    frame = store.read_layer("apl")
    if frame is None:
        return
    meta = store.read_meta("apl") or {}
    ctx.apl = frame.set_index("insee")[["apl", "std_pop"]]
    ctx.apl_year = meta.get("year")
    ctx.vintages["apl"] = str(meta.get("vintage", ""))


def _attach_typology(ctx: Context) -> None:
    frame = store.read_layer("typology")
    if frame is None:
        return
    meta = store.read_meta("typology") or {}
    ctx.typology = dict(zip(frame["insee"], frame["classe"].astype(int)))
    ctx.vintages["typology"] = str(meta.get("vintage", ""))
    try:
        from geo.sources.typology import load_nomenclature

        ctx.nomenclature = load_nomenclature(meta.get("nomenclature_file") or None)
    except Exception:  # noqa: BLE001 - the mix still shows class numbers
        ctx.nomenclature = None


def _attach_cpts(ctx: Context) -> None:
    frame = store.read_layer("cpts")
    if frame is None:
        return
    meta = store.read_meta("cpts") or {}
    members = defaultdict(list)
    for cid, name, code in zip(frame["cpts_id"], frame["cpts_nom"], frame["insee"]):
        members[code].append((str(cid), str(name)))
    ctx.cpts_members = dict(members)
    ctx.vintages["cpts"] = str(meta.get("vintage") or meta.get("imported_at", ""))
