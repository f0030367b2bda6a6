"""Territories and existing CPTS perimeters as folium layers (proposal and coverage maps).

The territory page draws its own map in the browser (``ui.drawmap``).
"""

from __future__ import annotations

import folium
import geopandas as gpd

from layers.safe import css_colour, html_text


def territories_group(
    territories: list[dict], communes: gpd.GeoDataFrame, active_id: int | None
) -> folium.FeatureGroup:
    """One coloured layer per territory (dicts with id, name, colour, communes); the active one outlined."""
    group = folium.FeatureGroup(name="Territoires")
    by_code = communes.set_index("insee", drop=False)
    for terr in territories:
        codes = [c for c in terr["communes"] if c in by_code.index]
        if not codes:
            continue
        sub = by_code.loc[codes]
        frame = gpd.GeoDataFrame(
            {
                "territoire": html_text(terr["name"]),
                "nom": [html_text(str(n)) for n in sub["name"]],
                "insee": sub["insee"].to_numpy(),
            },
            geometry=sub.geometry.to_numpy(),
            crs=communes.crs,
        )
        active = terr["id"] == active_id
        colour = css_colour(terr["colour"])
        folium.GeoJson(
            frame.__geo_interface__,
            style_function=lambda f, colour=colour, active=active: {
                "fillColor": colour,
                "color": "#000000" if active else colour,
                "weight": 1.5 if active else 0.8,
                "fillOpacity": 0.6 if active else 0.45,
            },
            tooltip=folium.GeoJsonTooltip(
                fields=["territoire", "nom", "insee"],
                aliases=["Territoire", "Commune", "Code INSEE"],
            ),
            zoom_on_click=False,
        ).add_to(group)
    return group


def reference_perimeters(
    perimeters: gpd.GeoDataFrame, name: str = "CPTS existantes"
) -> folium.GeoJson:
    """Existing CPTS perimeters as dashed outlines with their names."""
    frame = gpd.GeoDataFrame(
        {"nom": [html_text(str(n)) for n in perimeters["cpts_nom"]]},
        geometry=perimeters.geometry.to_numpy(),
        crs=perimeters.crs,
    )
    return folium.GeoJson(
        frame.__geo_interface__,
        name=name,
        style_function=lambda f: {
            "color": "#6a3d9a",
            "weight": 2,
            "dashArray": "6 4",
            "fill": False,
        },
        tooltip=folium.GeoJsonTooltip(fields=["nom"], aliases=["CPTS"]),
    )
