"""The coverage page map: uncovered and overlapping communes, uncovered zones, territory outlines."""

from __future__ import annotations

import folium

from layers.basemap import base_map
from layers.coverage import (
    clusters_layer,
    coverage_legend,
    overlap_frame,
    overlap_layer,
    territories_outline_layer,
    uncovered_frame,
    uncovered_layer,
)

# Above this many uncovered communes (France-wide views), only the zones' outlines are drawn.
MAX_COMMUNES_DRAWN = 6000


def coverage_map(
    bounds, result, ctx, outlines, clusters: dict | None, population_label: str
) -> folium.Map:
    """``outlines`` from ``layers.coverage.territory_outlines``; ``clusters`` from
    ``geo.coverage.gaps.clusters_geojson``."""
    fmap = base_map(tuple(bounds))
    drawn = len(result.uncovered) <= MAX_COMMUNES_DRAWN
    if drawn and result.uncovered:
        uncovered_layer(uncovered_frame(result, ctx), population_label).add_to(fmap)
    if result.overlaps:
        overlap_layer(overlap_frame(result, ctx)).add_to(fmap)
    if clusters and clusters.get("features"):
        clusters_layer(clusters).add_to(fmap)
    if len(outlines):
        territories_outline_layer(outlines).add_to(fmap)
    coverage_legend(
        with_overlap=bool(result.overlaps),
        with_outlines=bool(len(outlines)),
        with_clusters=bool(clusters),
    ).add_to(fmap)
    folium.LayerControl(collapsed=True).add_to(fmap)
    return fmap
