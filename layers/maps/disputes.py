"""The « Arbitrages » page map: disputed communes coloured by the status of their arbitration.

Colours are from the Okabe-Ito colour-blind safe palette; a contested commune also has a dashed outline
and an enacted one a thick dark outline, so that the four statuses read apart without colour too. Every
name shown (communes, territories, scenarios, CPTS, people) is escaped by :func:`layers.safe.html_text`.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd

from geo.base.shapes import simplify_coverage
from layers.basemap import base_map
from layers.legend import Legend
from layers.safe import html_text

STATUS_STYLE = {  # status -> (fill, outline colour, dash, weight)
    "ouvert": ("#E69F00", "#7a5200", None, 1),
    "contesté": ("#D55E00", "#5c2400", "4 3", 2),
    "arbitré": ("#0072B2", "#003f63", None, 1),
    "acté": ("#009E73", "#00332a", None, 3),
}
LEGEND_LABELS = {
    "ouvert": "Ouvert",
    "contesté": "Contesté (contour pointillé)",
    "arbitré": "Arbitré",
    "acté": "Acté (contour épais)",
}


def disputes_frame(rows: list[dict], ctx, simplify: bool = True) -> gpd.GeoDataFrame:
    """One feature per disputed commune (rows of ``geo.coverage.disputes.disputes_in_scope``) that has a
    contour: insee, nom, statut, revendications, decision (all escaped text)."""
    rows = [r for r in rows if ctx.geometry.get(r["code_insee"]) is not None]
    frame = gpd.GeoDataFrame(
        {
            "insee": [html_text(r["code_insee"]) for r in rows],
            "nom": [html_text(r["commune"]) for r in rows],
            "statut": [html_text(r["status"]) for r in rows],
            "revendications": [
                html_text(" ; ".join(c["label"] for c in r["claimants"]) or "—") for r in rows
            ],
            "decision": [
                html_text(f"{r['decision']['label']} — {r['decided_by']}" if r["decision"] else "—")
                for r in rows
            ],
        },
        geometry=[ctx.geometry[r["code_insee"]] for r in rows],
        index=pd.Index([r["code_insee"] for r in rows], name="id"),
        crs=ctx.communes.crs,
    )
    return simplify_coverage(frame) if simplify and len(frame) else frame


def _style(feature) -> dict:
    fill, line, dash, weight = STATUS_STYLE.get(
        feature["properties"]["statut"], STATUS_STYLE["ouvert"]
    )
    style = {"fillColor": fill, "fillOpacity": 0.6, "color": line, "weight": weight}
    if dash:
        style["dashArray"] = dash
    return style


def disputes_layer(frame: gpd.GeoDataFrame) -> folium.GeoJson:
    return folium.GeoJson(
        frame.__geo_interface__,
        name="Communes disputées",
        style_function=_style,
        tooltip=folium.GeoJsonTooltip(
            fields=["nom", "insee", "statut", "revendications", "decision"],
            aliases=["Commune disputée", "Code INSEE", "Statut", "Revendiquée par", "Décision"],
        ),
        zoom_on_click=False,
    )


def disputes_legend() -> Legend:
    return Legend(
        "Arbitrages",
        [(STATUS_STYLE[s][0], label) for s, label in LEGEND_LABELS.items()],
    )


def disputes_map(bounds, rows: list[dict], ctx) -> folium.Map:
    """The disputed communes of ``rows`` over a scope of ``bounds`` (minx, miny, maxx, maxy)."""
    fmap = base_map(tuple(bounds))
    frame = disputes_frame(rows, ctx)
    if len(frame):
        disputes_layer(frame).add_to(fmap)
    disputes_legend().add_to(fmap)
    return fmap
