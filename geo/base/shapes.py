"""Light geometries for the browser: simplified with shared borders kept shared.

The communes of a scope are simplified together with
``shapely.coverage_simplify`` (neighbouring communes keep one common
border) and their coordinates rounded to 5 decimals (about 1 m), so the
GeoJSON sent to the browser stays small.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

COORD_GRID = 1e-5  # degrees, about 1 m


def _tolerance_for(count: int) -> float:
    """Simplification tolerance (degrees) for a layer of ``count`` polygons."""
    if count > 2000:  # région or larger
        return 0.005
    if count > 300:  # a département
        return 0.002
    return 0.001


def simplify_coverage(gdf: gpd.GeoDataFrame, tolerance: float | None = None) -> gpd.GeoDataFrame:
    """A copy of ``gdf`` without empty geometries, simplified as one coverage."""
    kept = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    if kept.empty:
        return kept.copy()
    tol = _tolerance_for(len(kept)) if tolerance is None else tolerance
    geoms = shapely.coverage_simplify(np.asarray(kept.geometry.values), tol)
    geoms = shapely.set_precision(geoms, COORD_GRID, mode="pointwise")
    out = kept.copy()
    out.geometry = gpd.GeoSeries(geoms, index=kept.index, crs=kept.crs)
    return out


def simplify_outlines(areas: gpd.GeoDataFrame, commune_count: int) -> gpd.GeoDataFrame:
    """Département or région outlines drawn over ``commune_count`` simplified communes.

    Half the communes' tolerance: the outlines stay within about half a
    simplification step of the communes' borders while weighing a fraction
    of the full-resolution shapes.
    """
    return simplify_coverage(areas, _tolerance_for(commune_count) / 2)
