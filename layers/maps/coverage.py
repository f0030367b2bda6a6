"""The coverage page map: uncovered and overlapping communes, uncovered zones, territory outlines.

The France view frames mainland with Corsica and shows the overseas départements in insets
(``layers.insets``), as the home map. Zones are outlined in a région or a département; in the France view
only the selected zone is (hundreds of small zones — islands — would be scattered rings at that scale).
"""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd

from layers.basemap import base_map
from layers.coverage import (
    clusters_layer,
    coverage_legend,
    coverage_status_layers,
    territories_outline_layer,
)
from layers.insets import INSET_COLUMN, Insets, mainland_bounds, overseas_insets
from layers.legend import LEGEND_COLUMN
from layers.outlines import outline_layer


def coverage_map(
    bounds,
    result,
    ctx,
    outlines,
    clusters: dict | None,
    population_label: str,
    shapes: gpd.GeoDataFrame | None = None,
    points: pd.DataFrame | None = None,
    departements: gpd.GeoDataFrame | None = None,
    focus_rank: int | None = None,
) -> folium.Map:
    """``outlines`` from ``layers.coverage.territory_outlines``; ``clusters`` from
    ``geo.coverage.gaps.clusters_geojson``; ``shapes``: simplified communes indexed by INSEE code (default:
    the context's own); ``points``: the communes without a contour (``geo.base.chef_lieux``);
    ``departements``: outlines to draw (with the France view's insets); ``focus_rank``: the selected zone."""
    france = result.scope.kind == "fr" and departements is not None
    insets = overseas_insets(departements) if france else []
    frame_bounds = mainland_bounds(departements) if france and focus_rank is None else bounds
    fmap = base_map(
        tuple(frame_bounds),
        padding_top_left=(INSET_COLUMN, 0) if insets else None,
        padding_bottom_right=(LEGEND_COLUMN // 2 if france else LEGEND_COLUMN, 0),
    )
    if shapes is None:
        shapes = ctx.communes.set_index("insee", drop=False)
    for layer in coverage_status_layers(result, ctx, shapes, points, population_label, france):
        layer.add_to(fmap)
    if departements is not None:
        outline_layer(departements, "Départements", weight=0.8 if france else 1.2).add_to(fmap)
    zones = clusters if clusters and clusters.get("features") else None
    if zones and france:
        chosen = [f for f in zones["features"] if f["properties"].get("rank") == focus_rank]
        zones = {"type": "FeatureCollection", "features": chosen} if chosen else None
    if zones:
        clusters_layer(zones).add_to(fmap)
    if len(outlines):
        territories_outline_layer(outlines).add_to(fmap)
    legend = coverage_legend(
        with_overlap=bool(result.overlaps),
        with_outlines=bool(len(outlines)),
        with_clusters=bool(zones),
        with_points=points is not None and bool(set(points["insee"]) & set(result.uncovered)),
    )
    if france:
        legend.position = "topright"  # Corsica is in mainland's south-east corner
    legend.add_to(fmap)
    folium.LayerControl(collapsed=True).add_to(fmap)
    if insets:
        Insets(insets).add_to(fmap)
    return fmap
