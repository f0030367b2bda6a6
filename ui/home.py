"""Home page widgets and map assembly: colourings and overlays offered only when their data is loaded."""

from __future__ import annotations

import streamlit as st

from geo.sources.typology import load_nomenclature
from layers.communes import metric_colouring
from layers.cpts import cpts_layer
from layers.indicators import apl_colouring
from layers.maps import home_map
from layers.structures import KIND_STYLE, structures_layer, structures_legend
from layers.typology import typology_colouring
from ui.common import (
    map_communes,
    missing_layer_hint,
    optional_layer,
    scope_cpts_perimeters,
    scope_frame,
)

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


def _cpts_overlay(spec: str):
    return cpts_layer(scope_cpts_perimeters(map_communes(spec)))


def build_home_map(
    spec: str,
    geojson: str,
    communes,
    deps,
    regs,
    metric: str,
    overlays: list[str],
    tiles: bool,
    population_label: str,
):
    colouring = colouring_for(metric, scope_frame(spec), population_label)
    layers, legends = [], []
    kinds = [k for k in overlays if k in KIND_STYLE]
    if kinds:
        layers += structures_layer(scope_structures(spec), kinds=kinds)
        legends.append(structures_legend(kinds=kinds))
    if "cpts" in overlays:
        layers.append(_cpts_overlay(spec))
    return home_map(
        geojson,
        communes.total_bounds,
        deps,
        regs,
        colouring,
        population_label,
        overlays=layers,
        legends=legends,
        with_tiles=tiles,
    )
