"""What helps a planner find their way on the drawing map: a colouring under the territories, MSP and
centres de santé, existing CPTS outlines. Each payload is built once per scope and choice (cached) and sent
to the browser only when it changes (``ui.drawmap.show``); every text in it is escaped."""

from __future__ import annotations

import streamlit as st

from layers.cpts import perimeter_features
from layers.safe import css_colour, html_text
from layers.structures import KIND_STYLE
from ui import caches
from ui.common import map_communes, optional_layer, population_stamp, scope_cpts_perimeters
from ui.home import COLOURINGS, colouring_for, colouring_options, scope_frame, scope_structures
from ui.text import plain

NONE = "none"
MARKER_KINDS = ("msp", "centre_sante")


def _stamp(name: str) -> str:
    _, meta = optional_layer(name)
    return str((meta or {}).get("built_at") or "")


def controls(spec: str) -> dict:
    """The orientation choices (above the map); only the layers that are loaded are offered."""
    options = [NONE, *colouring_options()]
    labels = {NONE: "Aucun", **COLOURINGS}
    cols = st.columns([2, 1, 1.5, 1.5])
    metric = cols[0].selectbox(
        "Fond sous les territoires", options, format_func=labels.get, key="draw-under"
    )
    finess, _ = optional_layer("finess")
    kinds = set(finess["kind"].unique()) if finess is not None else set()
    chosen = [
        k
        for i, k in enumerate(MARKER_KINDS)
        if k in kinds
        and cols[1 + i].checkbox(plain(KIND_STYLE[k][0]), value=False, key=f"draw-markers-{k}")
    ]
    outlines = optional_layer("cpts")[0] is not None and cols[3].checkbox(
        "CPTS existantes", value=True, key="draw-cpts"
    )
    return {"metric": metric, "kinds": chosen, "outlines": outlines}


def layers(spec: str, choice: dict, population_label: str) -> dict:
    """The map's orientation payloads for the choices of :func:`controls` (``ui.drawmap.show``'s ``layers``)."""
    return {
        "under": under(spec, choice["metric"], population_label),
        "markers": markers(spec, choice["kinds"]),
        "outlines": outlines(spec, choice["outlines"]),
    }


def under(spec: str, metric: str, population_label: str) -> dict:
    """Fill colours, tooltip line and legend of the colouring under the territories."""
    key = f"{spec}|{metric}|{population_stamp()}|{_stamp('apl')}|{_stamp('typology')}"
    if metric == NONE:
        return {"id": key, "fills": {}, "text": {}, "label": "", "legend": None}
    return caches.orientation_payload(key, lambda: _under(spec, metric, population_label, key))


def _under(spec: str, metric: str, population_label: str, key: str) -> dict:
    colouring = colouring_for(metric, scope_frame(spec), population_label)
    title, entries = colouring.legend.safe_entries()
    label, texts = colouring.tooltip if colouring.tooltip else ("", {})
    return {
        "id": key,
        "fills": {c: css_colour(v) for c, v in colouring.fills.items()},
        "text": texts,
        "label": html_text(label),
        "legend": {"title": title, "entries": entries},
    }


def markers(spec: str, kinds: list[str]) -> dict:
    """MSP / centres de santé of the scope: [lat, lon, colour, escaped tooltip] each."""
    key = f"{spec}|{','.join(kinds)}|{_stamp('finess')}"
    if not kinds:
        return {"id": key, "items": []}
    return caches.orientation_payload(key, lambda: _markers(spec, tuple(kinds), key))


def _markers(spec: str, kinds: tuple[str, ...], key: str) -> dict:
    frame = scope_structures(spec)
    items = []
    if frame is not None:
        frame = frame[frame["kind"].isin(kinds) & frame.geometry.notna() & ~frame.geometry.is_empty]
        for kind, name, point in zip(frame["kind"], frame["name"], frame.geometry):
            label = KIND_STYLE[kind][0]
            items.append(
                [
                    round(point.y, 6),
                    round(point.x, 6),
                    KIND_STYLE[kind][1],
                    f"{html_text(label)} : {html_text(name)}",
                ]
            )
    return {"id": key, "items": items}


def outlines(spec: str, show: bool) -> dict:
    """Outlines of the imported CPTS touching the scope (GeoJSON text, escaped names)."""
    key = f"{spec}|{show}|{_stamp('cpts')}"
    if not show:
        return {"id": key, "geojson": None}
    return caches.orientation_payload(key, lambda: _outlines(spec, key))


def _outlines(spec: str, key: str) -> dict:
    perimeters = scope_cpts_perimeters(map_communes(spec))
    if perimeters is None or not len(perimeters):
        return {"id": key, "geojson": None}
    frame = perimeter_features(perimeters)
    frame = frame[~frame.geometry.is_empty & frame.geometry.notna()]
    return {"id": key, "geojson": frame.to_json(na="null", show_bbox=False)}
