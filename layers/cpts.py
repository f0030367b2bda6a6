"""Map layer of the existing CPTS perimeters (imported): dashed outlines with a tooltip.

The perimeters come from ``geo.sources.cpts.cpts_perimeters``. Geometries are
simplified (about 100 m) before serialisation to keep the page light; every
text coming from the imported file is escaped with ``layers.safe.html_text``.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd
import shapely

import layers.assets  # noqa: F401 - points folium at the local files
from geo.formats.french import integer
from layers.safe import html_text

SIMPLIFY_DEG = 0.001
OUTLINE = "#6a3d9a"
STYLE = {
    "color": OUTLINE,
    "weight": 2.5,
    "opacity": 0.9,
    "dashArray": "8 5",
    "fillColor": OUTLINE,
    "fillOpacity": 0.04,
}
HIGHLIGHT = {"weight": 4, "fillOpacity": 0.12}
NOT_GIVEN = "non précisé"


def _text(values) -> list[str]:
    return [html_text(str(v).strip()) if isinstance(v, str) and v.strip() else "" for v in values]


def perimeter_features(perimeters: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Escaped properties and simplified geometries, ready to serialise."""
    n = len(perimeters)
    statut = perimeters["statut"] if "statut" in perimeters.columns else pd.Series([None] * n)
    count = (
        perimeters["commune_count"]
        if "commune_count" in perimeters.columns
        else pd.Series([None] * n)
    )
    population = (
        perimeters["population"] if "population" in perimeters.columns else pd.Series([None] * n)
    )
    geoms = shapely.simplify(perimeters.geometry.to_numpy(), SIMPLIFY_DEG, preserve_topology=True)
    geoms = shapely.set_precision(geoms, 1e-5)
    return gpd.GeoDataFrame(
        {
            "nom": _text(perimeters["cpts_nom"]),
            "statut": [s or NOT_GIVEN for s in _text(statut)],
            "communes": [integer(v) for v in count],
            "population": [integer(v) for v in population],
        },
        geometry=geoms,
        crs=perimeters.crs or "EPSG:4326",
    )


def commune_cpts_rows(
    members: pd.DataFrame | None, perimeters: gpd.GeoDataFrame | None
) -> dict[str, str]:
    """INSEE code -> escaped text of the CPTS holding the commune (« CPTS du Pays de Foix (statut) :
    12 communes, 45 678 hab. », one line each): the tooltip row of a commune on the home map, so that a
    commune inside a CPTS shows its own figures and the CPTS's.

    ``members``: the ``cpts`` layer (cpts_id, insee); ``perimeters``: ``cpts_perimeters`` rows.
    """
    if members is None or perimeters is None or not len(members) or not len(perimeters):
        return {}
    cards = {}
    for row in perimeters.itertuples():
        statut = row.statut if isinstance(row.statut, str) and row.statut.strip() else NOT_GIVEN
        cards[str(row.cpts_id)] = html_text(
            f"{str(row.cpts_nom).strip()} ({statut.strip()}) : {integer(row.commune_count)} communes, "
            f"{integer(row.population)} hab."
        )
    out: dict[str, list[str]] = {}
    pairs = members[["insee", "cpts_id"]].drop_duplicates()
    for code, cid in zip(pairs["insee"].astype(str), pairs["cpts_id"].astype(str)):
        if cid in cards:
            out.setdefault(code, []).append(cards[cid])
    return {code: "<br>".join(lines) for code, lines in out.items()}


def cpts_layer(
    perimeters_gdf: gpd.GeoDataFrame, name: str = "Périmètres de CPTS", interactive: bool = True
) -> folium.FeatureGroup:
    """Existing CPTS as dashed outlines (very light fill); the tooltip gives name, statut, communes, population.

    Not ``interactive`` (the home map): the pointer reaches the communes below, whose tooltip then names the
    CPTS (:func:`commune_cpts_rows`)."""
    group = folium.FeatureGroup(name=html_text(name))
    if perimeters_gdf is None or not len(perimeters_gdf):
        return group
    frame = perimeter_features(perimeters_gdf)
    frame = frame[~frame.geometry.is_empty & frame.geometry.notna()]
    if not len(frame):
        return group
    if not interactive:
        folium.GeoJson(
            frame.to_json(na="null", show_bbox=False),
            name=html_text(name),
            style_function=lambda feature: {**STYLE, "fillOpacity": 0},
            interactive=False,
        ).add_to(group)
        return group
    folium.GeoJson(
        frame.to_json(na="null", show_bbox=False),
        name=html_text(name),
        style_function=lambda feature: STYLE,
        highlight_function=lambda feature: HIGHLIGHT,
        tooltip=folium.GeoJsonTooltip(
            fields=["nom", "statut", "communes", "population"],
            aliases=["CPTS", "Statut", "Communes", "Population"],
            sticky=True,
        ),
        zoom_on_click=False,
    ).add_to(group)
    return group
