"""CartoCPTS home page: the communes of a région or département with the health-supply layers."""

import streamlit as st

from geo.base.scope import parse_scope
from geo.formats import french
from geo.sources.population import vintage_heading
from geo.store import preferences
from ui.common import (
    page,
    scope_select,
    scope_totals_in_use,
)
from ui.home import (
    COLOURINGS,
    colouring_options,
    no_contour_note,
    overlay_options,
    prepare_france,
    scope_structure_counts,
    show_home_map,
)
from ui.text import plain

with page(
    "CartoCPTS",
    caption="Cartographie pour la planification territoriale des CPTS : communes, population, offre de "
    "soins, accessibilité (APL), typologie Irdes, périmètres de CPTS.",
):
    with st.sidebar:
        spec = scope_select("scope", preferences.get("scope"), with_france=True)
        preferences.put("scope", spec)
        available = colouring_options()
        metric = st.radio(
            "Colorier les communes selon", available, format_func=COLOURINGS.get, key="home-metric"
        )
        overlays = overlay_options()
        tiles = st.toggle("Fond de carte Plan IGN (nécessite internet)", value=False)

    scope = parse_scope(spec)
    totals = scope_totals_in_use(spec)
    map_col, side = st.columns([3, 1])
    with side:
        st.subheader(plain(scope.label()))
        st.metric("Communes", french.integer(totals["communes"]))
        st.metric(
            plain(vintage_heading(totals["population_vintage"])),
            french.integer(totals["population"]),
        )
        st.metric("Superficie", f"{french.integer(totals['area_km2'])} km²")
        if totals["without_population"]:
            st.caption(
                f"{french.integer(totals['without_population'])} commune(s) sans population connue dans "
                "la source."
            )
        note = no_contour_note(spec)
        if note:
            st.caption(plain(note))
        counts = scope_structure_counts(spec)
        if counts:
            st.markdown(
                "**Structures (FINESS)**  \n"
                + "  \n".join(f"{plain(label)} : {french.integer(n)}" for label, n in counts)
            )
        st.caption("Sources et millésimes : page « Données ».")
    with map_col:
        show_home_map(spec, metric, overlays, tiles)
    prepare_france()  # after this page's own map: the warm-up never delays it
