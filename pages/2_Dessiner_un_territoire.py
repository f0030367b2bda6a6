"""Page « Dessiner un territoire »: build CPTS territories from whole communes, with live diagnostics."""

import streamlit as st
from streamlit_folium import st_folium

from geo import preferences
from layers.scope_map import drawing_map
from layers.territories import territories_group
from ui import drawing
from ui.common import (
    page_nav,
    current_context, ensure_assets, ensure_base, map_communes, map_geojson, population_label, scenario_store, scope_select,
    user_errors,
)
from ui.text import plain
from ui.diagnostics_panel import show_diagnostics, structures_table

st.set_page_config(page_title="Dessiner un territoire — CartoCPTS", page_icon="🗺️", layout="wide")
page_nav()

with user_errors():
    ensure_assets()
    ensure_base()
    st.title("Dessiner un territoire")
    store = scenario_store()
    ctx = current_context()

    with st.sidebar:
        spec = scope_select("draw-scope", preferences.get("scope"))
        preferences.put("scope", spec)
        scenario_name = drawing.scenario_picker(store, spec)
    if scenario_name is None:
        st.info("Créez un scénario dans le panneau de gauche pour commencer : "
                "un scénario regroupe un ou plusieurs territoires de CPTS.")
        st.stop()

    scenario = store.get(scenario_name)
    plan = drawing.plan_for(ctx, scenario)
    active = drawing.territory_bar(store, scenario)
    scenario = store.get(scenario_name)  # after any change made by the bar
    plan.sync(scenario)

    communes = map_communes(spec)
    map_col, panel = st.columns([3, 2])
    with map_col:
        drawing.history_bar(store, scenario_name)
        fmap = drawing_map(map_geojson(spec), tuple(communes.total_bounds), drawing.reference_layer(ctx, communes),
                           population_label=population_label(spec))
        territories = [{"id": t.id, "name": t.name, "colour": t.colour, "communes": t.communes}
                       for t in scenario.territories]
        focus = st.session_state.get(f"focus-{scenario_name}") or {}
        result = st_folium(
            fmap, key=f"draw-map-{spec}", height=600, use_container_width=True,
            feature_group_to_add=territories_group(territories, ctx.communes, active.id if active else None),
            returned_objects=["last_object_clicked", "last_object_clicked_count", "all_drawings"],
            center=focus.get("center"), zoom=focus.get("zoom"),
        )
        if active is not None:
            drawing.handle_map_events(store, scenario_name, active, result or {}, ctx, spec)
        drawing.commune_tools(store, scenario_name, active, ctx, communes)

    with panel:
        if active is None:
            st.info("Ajoutez un territoire avec le bouton « Nouveau territoire ».")
        else:
            d = plan.diagnostics(active.id)
            st.subheader(plain(active.name))
            show_diagnostics(d, ctx, key=f"diag-{active.id}")
            drawing.part_zoom_buttons(d, ctx, scenario_name)
            if active.communes:
                table = structures_table(active.communes, ctx)
                if len(table):
                    with st.expander(f"Structures dans le territoire ({len(table)})"):
                        st.dataframe(table, hide_index=True, width="stretch")

    st.divider()
    drawing.comparison(plan, store, scenario_name, ctx)
    drawing.export_import(store, scenario, ctx, spec)
