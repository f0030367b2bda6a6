"""The home page map: the communes of a scope coloured by a metric, département and région outlines, overlays."""

from __future__ import annotations

import folium
import geopandas as gpd

from layers.basemap import base_map
from layers.communes import NO_DATA, Colouring, map_frame, metric_colouring
from layers.fastgeojson import FastGeoJson, serialise
from layers.outlines import outline_layer


def home_map(
    communes_geojson: str,
    bounds,
    departements: gpd.GeoDataFrame,
    regions: gpd.GeoDataFrame,
    colouring: Colouring,
    population_label: str = "Population",
    overlays=(),
    legends=(),
    with_tiles: bool = False,
) -> folium.Map:
    """The home map: communes (pre-serialised GeoJSON) coloured by ``colouring``, outlines, overlays.

    ``overlays`` are folium layers (structure markers, CPTS perimeters) added
    above the outlines; ``legends`` are extra legends (the colouring's own
    legend is always drawn).
    """
    fmap = base_map(tuple(bounds), with_tiles=with_tiles)
    FastGeoJson(
        communes_geojson,
        style={"fillColor": NO_DATA, "color": "#666666", "weight": 0.4, "fillOpacity": 0.7},
        tooltip=[
            ("nom", "Commune"),
            ("insee", "Code INSEE"),
            ("pop", population_label),
            ("dens", "Densité (hab./km²)"),
        ],
        fills=colouring.fills,
        extra=[colouring.tooltip] if colouring.tooltip else None,
        name="Communes",
    ).add_to(fmap)
    outline_layer(departements, "Départements", weight=1.5).add_to(fmap)
    outline_layer(regions, "Régions", weight=3).add_to(fmap)
    for overlay in overlays:
        overlay.add_to(fmap)
    colouring.legend.add_to(fmap)
    for legend in legends:
        legend.add_to(fmap)
    if overlays:
        folium.LayerControl(collapsed=True).add_to(fmap)
    return fmap


def scope_map(
    communes: gpd.GeoDataFrame,
    departements: gpd.GeoDataFrame,
    regions: gpd.GeoDataFrame,
    metric: str = "population",
    population_label: str = "Population",
    with_tiles: bool = False,
) -> folium.Map:
    """The home map of already simplified ``communes`` coloured by population or density, no overlays (benchmarks)."""
    frame = map_frame(communes)
    return home_map(
        serialise(frame),
        communes.total_bounds,
        departements,
        regions,
        metric_colouring(frame, metric, population_label),
        population_label,
        with_tiles=with_tiles,
    )
