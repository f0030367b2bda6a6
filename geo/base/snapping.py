"""Snapping a polygon (drawn on the map or read from a file) to whole communes of the base.

A commune belongs to the polygon when at least half of its area is inside (``half_area``) or when its
representative point is (``point``). Areas are measured in the equal-area CRS of the base's ``area_km2``.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geo.base.communes import EQUAL_AREA_CRS

HALF = 0.5
SPLIT_MIN, SPLIT_MAX = (
    0.01,
    0.99,
)  # share of a commune's area inside a polygon for it to count as "cut"
RULES = ("point", "half_area")


_TREE_CACHE: list = []  # [(geometry array kept alive, STRtree)]: one entry, the last commune set used
_TO_EQUAL_AREA = Transformer.from_crs("EPSG:4326", EQUAL_AREA_CRS, always_xy=True)


def _tree(geoms: np.ndarray) -> shapely.STRtree:
    """STRtree of ``geoms``, reused while the same geometry buffer is passed (``reset_index`` shares it)."""
    if _TREE_CACHE:
        kept, tree = _TREE_CACHE[0]
        # ``kept`` is held here, so its buffer cannot be reused by another array while cached.
        if (
            kept.shape == geoms.shape
            and kept.strides == geoms.strides
            and kept.__array_interface__["data"][0] == geoms.__array_interface__["data"][0]
        ):
            return tree
    tree = shapely.STRtree(geoms)
    _TREE_CACHE[:] = [(geoms, tree)]
    return tree


def _equal_area(geoms):
    """Geometries (WGS84) projected to the equal-area CRS of the commune base's ``area_km2``."""
    return shapely.transform(
        geoms, lambda xy: np.column_stack(_TO_EQUAL_AREA.transform(xy[:, 0], xy[:, 1]))
    )


def polygonal(geom) -> shapely.Geometry:
    """The polygonal part of a geometry, repaired when invalid (empty polygon if none)."""
    if geom is None or shapely.is_missing(geom) or geom.is_empty:
        return shapely.Polygon()
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        return shapely.Polygon()
    return parts[0] if len(parts) == 1 else shapely.union_all(parts)


def overlap_shares(polygon, geoms: np.ndarray) -> pd.DataFrame:
    """Communes touched by ``polygon``: position in ``geoms``, share of area inside, representative point inside.

    Communes entirely inside (not reached by the boundary) get share 1
    without any intersection; only those crossed by the boundary are
    intersected, in the equal-area CRS.
    """
    polygon = polygonal(polygon)
    empty = pd.DataFrame(
        {
            "pos": np.array([], dtype=np.int64),
            "share": np.array([], dtype=float),
            "point_inside": np.array([], dtype=bool),
        }
    )
    if polygon.is_empty:
        return empty
    tree = _tree(geoms)
    touched = tree.query(polygon, predicate="intersects")
    if touched.size == 0:
        return empty
    crossed = np.intersect1d(touched, tree.query(shapely.boundary(polygon), predicate="intersects"))
    inside = np.setdiff1d(touched, crossed)
    share = np.ones(len(crossed))
    point_inside = np.ones(len(crossed), dtype=bool)
    if len(crossed):
        cut = geoms[crossed]
        projected = _equal_area(cut)
        area = shapely.area(projected)
        inter = shapely.area(shapely.intersection(projected, _equal_area(polygon)))
        share = np.divide(inter, area, out=np.zeros_like(inter), where=area > 0).clip(0.0, 1.0)
        shapely.prepare(polygon)
        point_inside = shapely.contains(polygon, shapely.point_on_surface(cut))
    out = pd.DataFrame(
        {
            "pos": np.concatenate([inside, crossed]).astype(np.int64),
            "share": np.concatenate([np.ones(len(inside)), share]),
            "point_inside": np.concatenate([np.ones(len(inside), dtype=bool), point_inside]),
        }
    )
    return out.sort_values("pos", ignore_index=True)


def _members(shares: pd.DataFrame, rule: str) -> pd.Series:
    if rule == "point":
        return shares["point_inside"]
    return shares["share"] >= HALF


def snap_polygon_to_communes(
    polygon, communes_gdf: gpd.GeoDataFrame, rule: str = "half_area"
) -> tuple[list[str], list[str]]:
    """Whole communes belonging to a (Multi)Polygon in WGS84, and the communes its boundary cuts.

    ``rule="point"``: a commune belongs when its representative point is
    inside; ``"half_area"``: when at least half of its area is inside
    (areas in the commune base's equal-area CRS). ``split`` lists the
    communes with between 1 % and 99 % of their area inside, members or not.
    ``communes_gdf`` has columns ``insee`` and ``geometry`` (WGS84, default
    RangeIndex or not: positions are used).
    """
    if rule not in RULES:
        raise ValueError(f"unknown snapping rule {rule!r}; expected one of {RULES}")
    geoms = np.asarray(communes_gdf.geometry.values, dtype=object)
    shares = overlap_shares(polygon, geoms)
    codes = communes_gdf["insee"].to_numpy()[shares["pos"].to_numpy()]
    members = sorted(str(c) for c in codes[_members(shares, rule).to_numpy()])
    cut = ((shares["share"] > SPLIT_MIN) & (shares["share"] < SPLIT_MAX)).to_numpy()
    return members, sorted(str(c) for c in codes[cut])
