"""Département and région outlines drawn over the communes."""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import shapely

from layers.safe import html_text


def outline_layer(
    areas: gpd.GeoDataFrame, name: str, weight: float, colour: str = "#222222"
) -> folium.GeoJson:
    """Unfilled outlines of départements or régions, with their names as tooltip."""
    frame = gpd.GeoDataFrame(
        {"nom": [html_text(str(n)) for n in areas["name"]], "code": areas["code"].to_numpy()},
        geometry=areas.geometry.to_numpy(),
        crs=areas.crs,
    )
    return folium.GeoJson(
        frame.__geo_interface__,
        name=name,
        style_function=lambda f: {"color": colour, "weight": weight, "fill": False},
        interactive=False,
    )


def rounded(areas: gpd.GeoDataFrame, decimals: int = 3) -> gpd.GeoDataFrame:
    """A copy of ``areas`` with coordinates rounded to ``decimals`` (the France view's outlines: 100 m is
    below a pixel there, and the text sent is a third)."""
    out = areas.copy()
    geoms = shapely.transform(out.geometry.to_numpy(), lambda xy: np.round(xy, decimals))
    # parts collapsed by the rounding (a tiny island) are dropped: never a point drawn as a marker
    geoms = shapely.make_valid(geoms, method="structure", keep_collapsed=False)
    out.geometry = gpd.GeoSeries(geoms, index=out.index, crs=out.crs)
    return out
