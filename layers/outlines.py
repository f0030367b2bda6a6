"""Département and région outlines drawn over the communes."""

from __future__ import annotations

import folium
import geopandas as gpd

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
