"""Geometry helpers shared by diagnostics and export: dissolve, geodesic measures."""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import Geod
from shapely.errors import GEOSException

GEOD = Geod(ellps="WGS84")


def dissolve(geoms) -> shapely.Geometry:
    """Union of commune shapes: the fast coverage union, or a full union when they overlap."""
    arr = np.asarray([g for g in geoms if g is not None], dtype=object)
    if arr.size == 0:
        return shapely.Polygon()
    try:
        merged = shapely.coverage_union_all(arr)
        if merged.is_valid:
            return merged
    except GEOSException:
        pass
    return shapely.union_all(arr)


def area_perimeter_km(geom) -> tuple[float, float]:
    """Geodesic area (km²) and perimeter (km) on the WGS84 ellipsoid."""
    if geom is None or geom.is_empty:
        return 0.0, 0.0
    area, perimeter = GEOD.geometry_area_perimeter(shapely.orient_polygons(geom))
    return abs(area) / 1e6, perimeter / 1e3


def polsby_popper(area: float, perimeter: float) -> float | None:
    """Polsby-Popper compactness 4πA/P² (1 for a disc, near 0 for a thin or ragged shape)."""
    if perimeter == 0:
        return None
    return 4 * np.pi * area / perimeter**2


def fill_holes(geom) -> shapely.Geometry:
    """The shape with its interior rings filled."""
    polys = [
        shapely.Polygon(p.exterior) for p in shapely.get_parts(geom) if p.geom_type == "Polygon"
    ]
    return shapely.union_all(polys) if polys else shapely.Polygon()
