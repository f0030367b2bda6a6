"""The home page map: the communes of a scope coloured by a metric, département and région outlines, overlays.

The communes travel as one compact canvas layer (``layers.compactlayer``) serialised once per scope; the
France view frames mainland with Corsica and shows the overseas départements in insets (``layers.insets``).
Communes without a contour in the source are points at their chef-lieu (``points``).
"""

from __future__ import annotations

import json

import folium
import geopandas as gpd
import pandas as pd

from layers.basemap import base_map
from layers.communes import NO_DATA, Colouring, map_frame, metric_colouring
from layers.compactlayer import CompactLayer
from layers.fastgeojson import GRID, compact
from layers.insets import INSET_COLUMN, Insets, mainland_bounds, overseas_insets
from layers.legend import LEGEND_COLUMN
from layers.outlines import outline_layer
from layers.safe import html_text

LAYER_COLUMNS = ("nom", "pop", "dens")
FRANCE_GRID = 1e-4  # degrees (about 10 m): the France view's coordinates, at a 0.01° simplification
COMMUNE_STYLE = {"fillColor": NO_DATA, "color": "#666666", "weight": 0.4, "fillOpacity": 0.75}
FRANCE_STYLE = {
    **COMMUNE_STYLE,
    "stroke": False,
    "fillOpacity": 0.85,
}  # 35,000 borders would grey it
HIGHLIGHT = {"weight": 2, "color": "#000000", "stroke": True}


def commune_layer(frame: gpd.GeoDataFrame, grid: float = GRID) -> str:
    """The JSON text of a ``map_frame``'s compact layer (names escaped already), serialised once per scope."""
    return json.dumps(
        compact(frame, LAYER_COLUMNS, grid=grid), ensure_ascii=False, separators=(",", ":")
    )


def point_features(points: pd.DataFrame, population: pd.Series | None = None) -> dict:
    """Communes without a contour as points (``geo.base.chef_lieux.chef_lieu_points`` rows), with their
    ``population`` (by INSEE code) when given."""
    if points is None or points.empty:
        return {"ids": [], "lat": [], "lng": [], "props": {}}
    codes = [str(c) for c in points["insee"]]
    props = {"nom": [html_text(str(n)) for n in points["name"]]}
    if population is not None:
        props["pop"] = [None if pd.isna(v) else int(v) for v in population.reindex(codes)]
    return {
        "ids": codes,
        "lat": [round(float(v), 5) for v in points["lat"]],
        "lng": [round(float(v), 5) for v in points["lng"]],
        "props": props,
    }


def home_map(
    communes_layer: str,
    bounds,
    departements: gpd.GeoDataFrame,
    regions: gpd.GeoDataFrame,
    colouring: Colouring,
    population_label: str = "Population",
    overlays=(),
    legends=(),
    with_tiles: bool = False,
    points: dict | None = None,
    france: bool = False,
    extra_rows=(),
    order: list[str] | None = None,
) -> folium.Map:
    """The home map: communes (``commune_layer`` text) coloured by ``colouring``, outlines, overlays.

    ``overlays`` are folium layers (structure markers, CPTS perimeters) added above the outlines; ``legends``
    are extra legends (the colouring's own legend is always drawn); ``extra_rows`` more tooltip rows of the
    communes (label, INSEE code -> escaped text: the CPTS holding them). ``france``: mainland framed alone,
    overseas départements in insets. ``order``: the ids of ``communes_layer`` in its order (smaller tables).
    """
    insets = overseas_insets(departements) if france else []
    frame_bounds = mainland_bounds(departements) if france else tuple(bounds)
    fmap = base_map(
        frame_bounds,
        with_tiles=with_tiles,
        padding_top_left=(INSET_COLUMN, 0) if insets else None,
        padding_bottom_right=(LEGEND_COLUMN // 2 if france else LEGEND_COLUMN, 0),
    )
    extra = ([colouring.tooltip] if colouring.tooltip else []) + list(extra_rows)
    CompactLayer(
        communes_layer,
        style=FRANCE_STYLE if france else COMMUNE_STYLE,
        tooltip=[
            ("nom", "Commune"),
            ("@id", "Code INSEE"),
            ("pop", population_label),
            ("dens", "Densité (hab./km²)"),
        ],
        fills=colouring.fills,
        extra=extra,
        points=points,
        highlight=HIGHLIGHT,
        name="Communes",
        order=order,
        bulk=True,
    ).add_to(fmap)
    outline_layer(departements, "Départements", weight=0.8 if france else 1.5).add_to(fmap)
    outline_layer(regions, "Régions", weight=2 if france else 3).add_to(fmap)
    for overlay in overlays:
        overlay.add_to(fmap)
    for legend in (colouring.legend, *legends):
        if france:  # Corsica is mainland's south-east corner: legends go to the empty north-east
            legend.position = "topright"
        legend.add_to(fmap)
    if overlays:
        folium.LayerControl(collapsed=True).add_to(fmap)
    if insets:
        Insets(insets).add_to(fmap)
    return fmap


def scope_map(
    communes: gpd.GeoDataFrame,
    departements: gpd.GeoDataFrame,
    regions: gpd.GeoDataFrame,
    metric: str = "population",
    population_label: str = "Population",
    with_tiles: bool = False,
    france: bool = False,
) -> folium.Map:
    """The home map of already simplified ``communes`` coloured by population or density, no overlays (benchmarks)."""
    frame = map_frame(communes)
    return home_map(
        commune_layer(frame, FRANCE_GRID if france else GRID),
        communes.total_bounds,
        departements,
        regions,
        metric_colouring(frame, metric, population_label),
        population_label,
        with_tiles=with_tiles,
        france=france,
        order=list(frame.index),
    )
