"""Layers of the coverage page: uncovered communes, overlaps, uncovered clusters, territory outlines.

The communes (uncovered, overlapping) are drawn as compact canvas layers (``layers.compactlayer``) from the
simplified shapes the home map uses (the France view's 35,000 communes too: before, above 6,000 uncovered
communes only the zones' outlines were drawn, so the legend's fill showed nowhere and every small zone — an
island commune, Bréhat, Sein, Ouessant… — was a lone black ring). Uncovered communes without a contour in
the source are points at their chef-lieu, in no zone.

Uncovered communes are filled in vermilion with a dashed dark outline (a
hatch-like reading that survives grey printing), communes in two or more
territories in blue; both colours are from the Okabe-Ito colour-blind
safe palette. Every text shown comes from files: it is escaped here; figures are written in French
(:mod:`geo.formats.french`).
"""

from __future__ import annotations

import json

import folium
import geopandas as gpd
import pandas as pd

from geo.base.geometry import dissolve
from geo.coverage.gaps import cluster_of
from geo.formats.french import integer
from layers.compactlayer import CompactLayer
from layers.fastgeojson import GRID, compact
from layers.legend import Legend
from layers.safe import html_text
from layers.territories import reference_perimeters

UNCOVERED_FILL = "#D55E00"
UNCOVERED_LINE = "#7a2e00"
OVERLAP_FILL = "#0072B2"
OVERLAP_LINE = "#003f63"
CLUSTER_LINE = "#000000"
CPTS_LINE = "#6a3d9a"  # as layers.territories.reference_perimeters


def _compact_frame(codes, shapes: gpd.GeoDataFrame, ctx, extra: dict) -> gpd.GeoDataFrame:
    """The communes of ``codes`` present in ``shapes`` (simplified, indexed by INSEE code) with their
    escaped name, French population text and ``extra`` columns (code -> value)."""
    codes = [c for c in codes if c in shapes.index]
    # one lookup for all (one .at per commune took seconds for France's 34,000 uncovered communes)
    names = ctx.communes["name"].reindex(codes).to_numpy(dtype=object)
    return gpd.GeoDataFrame(
        {
            "nom": [html_text(str(n)) for n in names],
            "pop": [integer(ctx.population.get(c, 0)) for c in codes],
            **{name: [values.get(c) for c in codes] for name, values in extra.items()},
        },
        geometry=shapes.geometry.reindex(codes).to_numpy(),
        index=pd.Index(codes, name="id"),
        crs=shapes.crs,
    )


def _points_of(codes, points: pd.DataFrame | None, ctx, extra: dict) -> dict:
    """Communes of ``codes`` without a contour, at their chef-lieu (``geo.base.chef_lieux`` rows)."""
    if points is None or points.empty:
        return {"ids": [], "lat": [], "lng": [], "props": {}}
    wanted = set(codes)
    # (a set rather than isin: isin on arrow strings took half a second for France)
    rows = points[[c in wanted for c in points["insee"].tolist()]]
    ids = [str(c) for c in rows["insee"]]
    return {
        "ids": ids,
        "lat": [round(float(v), 5) for v in rows["lat"]],
        "lng": [round(float(v), 5) for v in rows["lng"]],
        "props": {
            "nom": [html_text(str(n)) for n in rows["name"]],
            "pop": [integer(ctx.population.get(c, 0)) for c in ids],
            **{name: [values.get(c) for c in ids] for name, values in extra.items()},
        },
    }


def coverage_status_layers(
    result,
    ctx,
    shapes: gpd.GeoDataFrame,
    points: pd.DataFrame | None,
    population_label: str,
    france: bool,
) -> list[CompactLayer]:
    """The uncovered communes (vermilion, dashed outline) and the communes in several territories (blue) as
    canvas layers, from ``shapes`` (simplified communes indexed by INSEE code); ``points``: the communes
    without a contour (``chef_lieu_points``)."""
    layers = []
    stroke = (
        {"stroke": False} if france else {"color": UNCOVERED_LINE, "weight": 1, "dashArray": "3 3"}
    )
    if result.uncovered:
        zone = cluster_of(result)
        frame = _compact_frame(result.uncovered, shapes, ctx, {"zone": zone})
        layers.append(
            CompactLayer(
                _layer_text(frame, ("nom", "pop", "zone"), france),
                style={"fillColor": UNCOVERED_FILL, "fillOpacity": 0.55, **stroke},
                tooltip=[
                    ("nom", "Commune non couverte"),
                    ("@id", "Code INSEE"),
                    ("pop", population_label),
                    ("zone", "Zone n°"),
                ],
                points=_points_of(result.uncovered, points, ctx, {"zone": zone}),
                highlight={"weight": 2, "color": "#000000", "stroke": True, "dashArray": None},
                name="Communes non couvertes",
                bulk=france,  # France: tens of thousands of communes, painted by one layer (as the home map)
            )
        )
    if result.overlaps:
        names = {c: html_text(" ; ".join(t)) for c, t in result.overlaps.items()}
        frame = _compact_frame(list(result.overlaps), shapes, ctx, {"territoires": names})
        layers.append(
            CompactLayer(
                _layer_text(frame, ("nom", "pop", "territoires"), france),
                style={
                    "fillColor": OVERLAP_FILL,
                    "fillOpacity": 0.6,
                    "color": OVERLAP_LINE,
                    "weight": 1,
                },
                tooltip=[
                    ("nom", "Commune en chevauchement"),
                    ("@id", "Code INSEE"),
                    ("territoires", "Territoires"),
                ],
                points=_points_of(list(result.overlaps), points, ctx, {"territoires": names}),
                highlight={"weight": 2, "color": "#000000"},
                name="Communes en chevauchement",
            )
        )
    return layers


def _layer_text(frame: gpd.GeoDataFrame, columns: tuple[str, ...], france: bool) -> str:
    return json.dumps(
        compact(frame, columns, grid=1e-4 if france else GRID),
        ensure_ascii=False,
        separators=(",", ":"),
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
    with_overlap: bool = True,
    with_outlines: bool = True,
    with_clusters: bool = False,
    with_points: bool = False,
) -> Legend:
    entries = [(UNCOVERED_FILL, "Commune non couverte")]
    if with_overlap:
        entries.append((OVERLAP_FILL, "Commune dans plusieurs CPTS"))
    if with_clusters:
        entries.append(("#ffffff", "Zone non couverte (contour noir)"))
    if with_points:
        entries.append(("#333333", "Commune sans contour (point au chef-lieu)"))
    if with_outlines:
        entries.append((CPTS_LINE, "Contour de CPTS"))
    return Legend("Couverture par les CPTS", entries)
