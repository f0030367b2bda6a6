"""Layers of the coverage page: uncovered communes, overlaps, uncovered clusters, territory outlines.

Uncovered communes are filled in vermilion with a dashed dark outline (a
hatch-like reading that survives grey printing), communes in two or more
territories in blue; both colours are from the Okabe-Ito colour-blind
safe palette. Every text shown comes from files: it is escaped here; figures are written in French
(:mod:`geo.formats.french`).
"""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd

from geo.base.geometry import dissolve
from geo.base.shapes import simplify_coverage
from geo.coverage.gaps import cluster_of
from geo.formats.french import integer
from layers.legend import Legend
from layers.safe import html_text
from layers.territories import reference_perimeters

UNCOVERED_FILL = "#D55E00"
UNCOVERED_LINE = "#7a2e00"
OVERLAP_FILL = "#0072B2"
OVERLAP_LINE = "#003f63"
CLUSTER_LINE = "#000000"
CPTS_LINE = "#6a3d9a"  # as layers.territories.reference_perimeters


def _frame(codes, ctx, extra: dict | None = None, simplify: bool = True) -> gpd.GeoDataFrame:
    codes = [c for c in codes if ctx.geometry.get(c) is not None]
    sub = ctx.communes.loc[codes]
    frame = gpd.GeoDataFrame(
        {
            "insee": sub["insee"].to_numpy(),
            "nom": [html_text(str(n)) for n in sub["name"]],
            "pop": [integer(ctx.population.get(c, 0)) for c in codes],
            **(extra or {}),
        },
        geometry=sub.geometry.to_numpy(),
        index=pd.Index(codes, name="id"),
        crs=ctx.communes.crs,
    )
    return simplify_coverage(frame) if simplify and len(frame) else frame


def uncovered_frame(result, ctx, simplify: bool = True) -> gpd.GeoDataFrame:
    """Uncovered communes of a ``CoverageResult``: insee, nom (escaped), pop (French text), zone (cluster rank)."""
    rank = cluster_of(result)
    codes = [c for c in result.uncovered if ctx.geometry.get(c) is not None]
    return _frame(codes, ctx, {"zone": [rank.get(c) for c in codes]}, simplify)


def overlap_frame(result, ctx, simplify: bool = True) -> gpd.GeoDataFrame:
    """Communes held by two or more territories: insee, nom, pop (French text), territoires (escaped, « ; »)."""
    codes = [c for c in result.overlaps if ctx.geometry.get(c) is not None]
    names = [html_text(" ; ".join(result.overlaps[c])) for c in codes]
    return _frame(codes, ctx, {"territoires": names}, simplify)


def uncovered_layer(
    frame: gpd.GeoDataFrame, population_label: str = "Population"
) -> folium.GeoJson:
    """Uncovered communes, vermilion with a dashed outline."""
    return folium.GeoJson(
        frame.__geo_interface__,
        name="Communes non couvertes",
        style_function=lambda f: {
            "fillColor": UNCOVERED_FILL,
            "fillOpacity": 0.5,
            "color": UNCOVERED_LINE,
            "weight": 1,
            "dashArray": "3 3",
        },
        tooltip=folium.GeoJsonTooltip(
            fields=["nom", "insee", "pop", "zone"],
            aliases=["Commune non couverte", "Code INSEE", html_text(population_label), "Zone n°"],
        ),
        zoom_on_click=False,
    )


def overlap_layer(frame: gpd.GeoDataFrame) -> folium.GeoJson:
    """Communes in two or more territories, blue, with the territories in the tooltip."""
    return folium.GeoJson(
        frame.__geo_interface__,
        name="Communes en chevauchement",
        style_function=lambda f: {
            "fillColor": OVERLAP_FILL,
            "fillOpacity": 0.55,
            "color": OVERLAP_LINE,
            "weight": 1,
        },
        tooltip=folium.GeoJsonTooltip(
            fields=["nom", "insee", "territoires"],
            aliases=["Commune en chevauchement", "Code INSEE", "Territoires"],
        ),
        zoom_on_click=False,
    )


def clusters_layer(collection: dict) -> folium.GeoJson:
    """Outlines of the uncovered clusters (a ``clusters_geojson`` FeatureCollection) with their figures."""
    features = []
    for feat in collection["features"]:
        props = feat["properties"]
        features.append(
            {
                "type": "Feature",
                "geometry": feat["geometry"],
                "properties": {
                    "zone": html_text(str(props["name"])),
                    "pop": integer(props["population"]),
                    "communes": integer(props["commune_count"]),
                    "msp": integer(props["msp_count"]),
                    "enclave": "oui" if props["enclave"] else "non",
                },
            }
        )
    return folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name="Zones non couvertes",
        style_function=lambda f: {"color": CLUSTER_LINE, "weight": 2, "fill": False},
        tooltip=folium.GeoJsonTooltip(
            fields=["zone", "pop", "communes", "msp", "enclave"],
            aliases=["Zone", "Population", "Communes", "MSP", "Enclave"],
        ),
        zoom_on_click=True,
    )


def territory_outlines(assignment: dict[str, list], ctx, codes=None) -> gpd.GeoDataFrame:
    """One dissolved shape per territory of ``assignment`` holding a commune of ``codes`` (default: all)."""
    wanted = None if codes is None else set(codes)
    members: dict[str, list[str]] = {}
    for code, terrs in assignment.items():
        for terr in dict.fromkeys(terrs or ()):
            members.setdefault(str(terr), []).append(code)
    if wanted is not None:
        members = {t: cs for t, cs in members.items() if wanted.intersection(cs)}
    names = sorted(members)
    shapes = [dissolve([ctx.geometry.get(c) for c in members[t]]) for t in names]
    return gpd.GeoDataFrame({"cpts_nom": names}, geometry=shapes, crs=ctx.communes.crs)


def territories_outline_layer(outlines: gpd.GeoDataFrame) -> folium.GeoJson:
    """Territory outlines with names (escaped by ``reference_perimeters``)."""
    return reference_perimeters(outlines, name="CPTS (contours)")


def coverage_legend(
    with_overlap: bool = True, with_outlines: bool = True, with_clusters: bool = False
) -> Legend:
    entries = [(UNCOVERED_FILL, "Commune non couverte")]
    if with_overlap:
        entries.append((OVERLAP_FILL, "Commune dans plusieurs CPTS"))
    if with_clusters:
        entries.append(("#ffffff", "Zone non couverte (contour noir)"))
    if with_outlines:
        entries.append((CPTS_LINE, "Contour de CPTS"))
    return Legend("Couverture par les CPTS", entries)
