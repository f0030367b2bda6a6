"""Everything diagnostics need, loaded and indexed once per state of the data.

A ``Context`` holds the communes indexed by INSEE code, the populations in
use (with their vintage), the adjacency graph, representative points in a
spatial index, and the optional layers (FINESS structures, APL, IRDES
typology, existing CPTS) reduced to per-commune lookups.

``context()`` builds it once per version of the layer files it reads
(:mod:`geo.store.cache`): a re-imported layer gives a new context at the
next call, and nothing else does. The context is shared by every caller and
every Streamlit session: it is frozen, and its frames, arrays and dicts are
read, never changed.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.base.adjacency import GRAPH_LAYERS, Adjacency, graph
from geo.base.communes import load
from geo.sources.population import populations_in_use, vintage_text
from geo.sources.typology import load_nomenclature
from geo.store.cache import cached_by_layers, cached_layer, layers_version

OPTIONAL_LAYERS = ("population", "finess", "apl", "typology", "cpts")
CONTEXT_LAYERS = (*GRAPH_LAYERS, *OPTIONAL_LAYERS)


@dataclass(frozen=True, eq=False, repr=False)  # compared and shown as the one object it is
class Context:
    communes: (
        gpd.GeoDataFrame
    )  # indexed by insee; its ``population`` column holds the base's (2017) figures
    population: dict[str, int]  # insee -> population in use (0 when no source gives one)
    population_series: (
        pd.Series
    )  # the populations in use aligned with ``communes`` (NaN when no source gives one)
    population_vintage: int | str
    graph: Adjacency
    points: np.ndarray  # representative points, aligned with ``codes``
    codes: np.ndarray
    point_tree: shapely.STRtree
    version: tuple = ()  # versions of the layer files it was built from (geo.store.cache)
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
    cpts_members: dict[str, list[tuple[str, str]]] = field(
        default_factory=dict
    )  # insee -> [(id, name)]
    vintages: dict[str, str] = field(default_factory=dict)

    def known(self, code: str) -> bool:
        return code in self.population

    def population_2017(self, codes) -> int:
        """The commune base's 2017 municipal populations of ``codes``, summed: kept for comparison
        with the populations in use (unknown codes and communes without a figure count 0)."""
        column = self.communes["population"]
        return int(column.reindex(list(codes)).fillna(0).sum())


def context() -> Context:
    """The current context, shared (built again only when one of its layer files changed)."""
    graph()  # builds the adjacency layer if needed, before the versions are read
    return _context()


@cached_by_layers(CONTEXT_LAYERS)
def _context() -> Context:
    version = layers_version(CONTEXT_LAYERS)
    communes = load("communes").set_index("insee", drop=False)
    series, vintage = populations_in_use(communes.index, communes["population"])
    series = series.rename("population")
    points = np.asarray(communes.geometry.representative_point().values)
    present = ~shapely.is_missing(points)
    vintages = {"communes": vintage_text(vintage)}
    return Context(
        communes=communes,
        population=series.fillna(0).astype("int64").to_dict(),
        population_series=series,
        population_vintage=vintage,
        graph=graph(),
        points=points[present],
        codes=communes.index.to_numpy()[present],
        point_tree=shapely.STRtree(points[present]),
        version=version,
        area=communes["area_km2"].astype(float).to_dict(),
        dep=communes["dep"].to_dict(),
        reg=communes["reg"].to_dict(),
        geometry=dict(zip(communes.index, communes.geometry.values)),
        **_finess(vintages),
        **_apl(vintages),
        **_typology(vintages),
        **_cpts(vintages),
        vintages=vintages,
    )


def _finess(vintages: dict) -> dict:
    frame, meta = cached_layer("finess")
    if frame is None:
        return {}
    vintages["finess"] = str(meta.get("vintage", ""))
    records = defaultdict(list)
    counts: dict[str, Counter] = defaultdict(Counter)
    cols = [
        c
        for c in ("nofinesset", "name", "kind", "address", "insee", "dateouv")
        if c in frame.columns
    ]
    for row in frame[cols].to_dict("records"):
        records[row["insee"]].append(row)
        counts[row["insee"]][row["kind"]] += 1
    return {"structures": dict(records), "structure_counts": dict(counts)}


def _apl(vintages: dict) -> dict:
    frame, meta = cached_layer("apl")
    if frame is None:
        return {}
    vintages["apl"] = str(meta.get("vintage", ""))
    return {"apl": frame.set_index("insee")[["apl", "std_pop"]], "apl_year": meta.get("year")}


def _typology(vintages: dict) -> dict:
    frame, meta = cached_layer("typology")
    if frame is None:
        return {}
    vintages["typology"] = str(meta.get("vintage", ""))
    try:
        nomenclature = load_nomenclature(meta.get("nomenclature_file") or None)
    except Exception:  # noqa: BLE001 - the mix still shows class numbers
        nomenclature = None
    return {
        "typology": dict(zip(frame["insee"], frame["classe"].astype(int))),
        "nomenclature": nomenclature,
    }


def _cpts(vintages: dict) -> dict:
    frame, meta = cached_layer("cpts")
    if frame is None:
        return {}
    members = defaultdict(list)
    for cid, name, code in zip(frame["cpts_id"], frame["cpts_nom"], frame["insee"]):
        members[code].append((str(cid), str(name)))
    vintages["cpts"] = str(meta.get("vintage") or meta.get("imported_at", ""))
    return {"cpts_members": dict(members)}
