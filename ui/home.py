"""Home page widgets and map assembly: colourings and overlays offered only when their data is loaded."""

from __future__ import annotations

import threading
import time

import streamlit as st

from geo.base.communes import base_is_current, load
from geo.base.scope import parse_scope, scope_communes
from geo.formats import french
from geo.sources.typology import load_nomenclature
from geo.store.cache import layers_version
from layers.communes import metric_colouring
from layers.cpts import commune_cpts_rows, cpts_layer
from layers.indicators import apl_colouring
from layers.maps import home_map
from layers.structures import KIND_STYLE, structures_layer, structures_legend
from layers.typology import typology_colouring
from ui import caches
from ui.common import (
    map_communes,
    map_layer,
    map_outlines,
    map_points,
    missing_layer_hint,
    optional_layer,
    population_label,
    scope_cpts_perimeters,
    scope_frame,
    scope_totals_in_use,
)
from ui.mapview import render_parts, show_map

COLOURINGS = {
    "population": "Population",
    "density": "Densité (hab./km²)",
    "apl": "APL aux médecins généralistes (DREES)",
    "typology": "Typologie socio-sanitaire (Irdes)",
}
OVERLAYS = {
    "msp": "MSP",
    "centre_sante": "Centres de santé",
    "cpts_seat": "Sièges de CPTS",
    "cpts": "Périmètres de CPTS",
}


def colouring_options() -> list[str]:
    """The colourings whose data is loaded; a hint where to get the others."""
    options = ["population", "density"]
    if optional_layer("apl")[0] is not None:
        options.append("apl")
    if optional_layer("typology")[0] is not None:
        options.append("typology")
    return options


MISSING_LABELS = {
    "finess": "MSP, centres de santé, sièges de CPTS (FINESS)",
    "cpts": "Périmètres de CPTS",
    "apl": "APL (DREES)",
    "typology": "Typologie Irdes",
}


def missing_layers_panel() -> None:
    """The layers without data, each with where to get it, and a link to the « Données » page."""
    missing = [name for name in MISSING_LABELS if optional_layer(name)[0] is None]
    if not missing:
        return
    with st.expander(f"Couches sans données ({len(missing)})", expanded=False):
        for name in missing:
            missing_layer_hint(name, MISSING_LABELS[name])
        st.page_link("pages/1_Données.py", label="Ouvrir la page Données")


def overlay_options() -> list[str]:
    """Checkboxes for the marker and perimeter layers present; hints for the missing ones."""
    chosen = []
    finess, _ = optional_layer("finess")
    kinds = set(finess["kind"].unique()) if finess is not None else set()
    st.markdown("**Sur la carte**")
    for kind in ("msp", "centre_sante", "cpts_seat"):
        if kind in kinds and st.checkbox(
            OVERLAYS[kind], value=kind == "msp", key=f"home-overlay-{kind}"
        ):
            chosen.append(kind)
    if optional_layer("cpts")[0] is not None:
        if st.checkbox(OVERLAYS["cpts"], value=True, key="home-overlay-cpts"):
            chosen.append("cpts")
    missing_layers_panel()
    return chosen


def _scope_codes(spec: str) -> set[str]:
    return set(map_communes(spec)["insee"])


def scope_structures(spec: str):
    """FINESS structures located in the scope's communes (None without FINESS)."""
    finess, _ = optional_layer("finess")
    if finess is None:
        return None
    return finess[finess["insee"].isin(_scope_codes(spec))]


def scope_structure_counts(spec: str) -> list[tuple[str, int]]:
    frame = scope_structures(spec)
    if frame is None:
        return []
    counts = frame["kind"].value_counts()
    return [(KIND_STYLE[k][0], int(counts.get(k, 0))) for k in KIND_STYLE]


def colouring_for(metric: str, frame, population_label: str):
    """The communes' colouring by ``metric`` (one of COLOURINGS) over ``frame`` (``map_frame``)."""
    if metric == "apl":
        apl, meta = optional_layer("apl")
        vintage = str(meta.get("vintage") or "")
        return apl_colouring(
            frame, apl, vintage if vintage.startswith("APL") else f"APL {vintage}".strip()
        )
    if metric == "typology":
        typology, meta = optional_layer("typology")
        nomenclature = load_nomenclature(meta.get("nomenclature_file") or None)
        return typology_colouring(frame, typology, nomenclature)
    return metric_colouring(frame, metric, population_label)


def no_contour_note(spec: str) -> str:
    """« 1 commune sans contour dans la source (Conques-en-Rouergue, 12218) : … » for the scope, or ''.

    Built once per scope and versions of the layers (France's takes most of a second: not at every rerun)."""
    return caches.scope_text(
        f"no-contour|{spec}|{layers_version(caches.POPULATED)}", lambda: _no_contour_note(spec)
    )


def _no_contour_note(spec: str) -> str:
    communes = map_communes(spec)
    scope_codes = _scope_all_codes(spec)
    missing = sorted(scope_codes - set(communes["insee"]))
    if not missing:
        return ""
    shown = set(map_points(spec)["ids"])
    names = load("communes").set_index("insee")["name"]
    listed = ", ".join(f"{names.get(c, c)} ({c})" for c in missing)
    text = f"{french.integer(len(missing))} commune(s) sans contour dans la source ({listed})"
    if shown:
        text += " : un point à la mairie du chef-lieu les situe sur la carte"
    if set(missing) - shown:
        text += " ; position inconnue pour " + ", ".join(sorted(set(missing) - shown))
    return text + "."


def _scope_all_codes(spec: str) -> set[str]:
    return set(scope_communes(parse_scope(spec))["insee"])


def _cpts_overlay(spec: str):
    return cpts_layer(scope_cpts_perimeters(map_communes(spec)), interactive=False)


def _cpts_rows(spec: str) -> list[tuple[str, dict[str, str]]]:
    """The tooltip row naming the CPTS of each commune of the scope (none without the layer)."""
    members, _ = optional_layer("cpts")
    rows = commune_cpts_rows(members, scope_cpts_perimeters(map_communes(spec)))
    return [("CPTS", rows)] if rows else []


# The layers a home map is built from: its key changes when one of them is imported again.
HOME_LAYERS = (
    "communes",
    "departements",
    "regions",
    "population",
    "finess",
    "cpts",
    "apl",
    "typology",
)


def build_home_map(spec: str, metric: str, overlays: list[str], tiles: bool):
    """The home map of a scope (folium), coloured by ``metric`` with the chosen ``overlays``."""
    label = population_label(spec)
    communes = map_communes(spec)
    deps, regs = map_outlines(spec)
    frame = scope_frame(spec)
    colouring = colouring_for(metric, frame, label)
    layers, legends = [], []
    kinds = [k for k in overlays if k in KIND_STYLE]
    if kinds:
        layers += structures_layer(scope_structures(spec), kinds=kinds)
        _, meta = optional_layer("finess")
        legends.append(
            structures_legend(kinds=kinds, vintage=str((meta or {}).get("vintage") or ""))
        )
    if "cpts" in overlays:
        layers.append(_cpts_overlay(spec))
    return home_map(
        map_layer(spec),
        communes.total_bounds,
        deps,
        regs,
        colouring,
        label,
        overlays=layers,
        legends=legends,
        with_tiles=tiles,
        points=map_points(spec),
        france=spec == "fr",
        extra_rows=_cpts_rows(spec) if "cpts" in overlays else (),
        order=list(frame.index),
    )


def _home_key(spec: str, metric: str, overlays: list[str], tiles: bool) -> str:
    return f"home|{spec}|{metric}|{'-'.join(overlays)}|{tiles}|{layers_version(HOME_LAYERS)}"


def show_home_map(
    spec: str, metric: str, overlays: list[str], tiles: bool, height: int = 620
) -> None:
    """Draw the home map; a map already drawn in this process (same scope, colouring, overlays and layer
    versions) is shown again without being rebuilt (``ui.mapview``)."""
    show_map(
        _home_key(spec, metric, overlays, tiles),
        lambda: build_home_map(spec, metric, overlays, tiles),
        height,
    )


def default_overlays() -> list[str]:
    """The overlays ticked when a session starts (as ``overlay_options`` ticks them)."""
    finess, _ = optional_layer("finess")
    chosen = ["msp"] if finess is not None and "msp" in set(finess["kind"]) else []
    if optional_layer("cpts")[0] is not None:
        chosen.append("cpts")
    return chosen


_WARMED: set[str] = set()  # layer versions for which the France map was built (or is being built)
WARM_DELAY_S = 5.0
_WARMED_LOCK = threading.Lock()


def prepare_france() -> None:
    """Build, in a background thread, the France view with the choices a session starts with (its communes'
    simplification alone takes several seconds): « France entière » is then drawn at once. Started once per
    process and versions of the layers; the page's own call waits for it through Streamlit's cache lock."""
    if not st.runtime.exists():  # a served app only (not AppTest runs)
        return
    stamp = str(layers_version(HOME_LAYERS))
    with _WARMED_LOCK:
        if stamp in _WARMED:
            return
        _WARMED.add(stamp)
    threading.Thread(
        target=_warm_france, args=(stamp,), name="cartocpts-warm-france", daemon=True
    ).start()


def _warm_france(stamp: str) -> None:
    time.sleep(WARM_DELAY_S)  # the browser first fetches what the page it was just sent needs
    try:
        overlays = default_overlays()
        caches.rendered_map(
            _home_key("fr", "population", overlays, False),
            lambda: render_parts(build_home_map("fr", "population", overlays, False)),
        )
        scope_totals_in_use("fr")  # the side panel's figures and note (about a second for France)
        no_contour_note("fr")
        base_is_current()  # files the first run may have written are read now, not at the next rerun
    except Exception:  # noqa: BLE001 - a warm-up only: the page builds the map itself if this failed
        with _WARMED_LOCK:
            _WARMED.discard(stamp)
