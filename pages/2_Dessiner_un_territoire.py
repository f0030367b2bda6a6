"""Page « Dessiner un territoire »: build CPTS territories from whole communes, with live diagnostics."""

import streamlit as st

from geo.store import preferences
from layers.safe import css_colour, html_text
from ui import (
    disputes_notice,
    dossier,
    drawing,
    drawmap,
    history_panel,
    orientation,
    read_view,
    sharing,
)
from ui.common import (
    current_context,
    map_communes,
    page,
    population_label,
    scenario_store,
    scope_select,
    user_errors,
)
from ui.diagnostics_panel import show_diagnostics, structures_table
from ui.text import plain


@st.fragment
def drawing_area(
    store, ctx, spec: str, scenario_name: str, active_id: int | None, choice: dict
) -> None:
    """Map, tools, panel and comparison: a click reruns only this part of the page."""
    with user_errors():
        _drawing_area(store, ctx, spec, scenario_name, active_id, choice)


def _drawing_area(
    store, ctx, spec: str, scenario_name: str, active_id: int | None, choice: dict
) -> None:
    touched, notes = drawing.apply_edits(
        store, drawmap.new_edits("draw-map"), ctx
    )  # before anything is drawn
    drawing.remember_view(
        store, scenario_name
    )  # before reading: a later change is never taken as seen
    scenario = store.get(scenario_name)
    plan = drawing.plan_for(ctx, scenario)
    active = next((t for t in scenario.territories if t.id == active_id), None)
    communes = map_communes(spec)
    map_col, panel = st.columns([3, 2])
    with map_col:
        drawing.history_bar(store, scenario_name)
        label = population_label(spec)
        fills, names = drawing.map_fills(scenario)
        drawmap.show(
            "draw-map",
            spec=spec,
            bounds=communes.total_bounds,
            fills=fills,
            names=names,
            touched=touched,
            population_label=html_text(label),
            active={
                "scenario": scenario.id,
                "territory": active.id if active else None,
                "colour": css_colour(active.colour) if active else None,
                "locked": bool(active.locked) if active else False,
                "name": html_text(active.name) if active else "",
            },
            focus=st.session_state.get(f"focus-{scenario_name}"),
            note=drawmap.message("<br>".join(notes)) if notes else None,
            layers=orientation.layers(spec, choice, label),
        )
        drawing.commune_tools(store, scenario_name, active, ctx, communes)

    with panel:
        if active is None:
            st.info("Ajoutez un territoire avec le bouton « Nouveau territoire ».")
        else:
            d = plan.diagnostics(active.id)
            st.subheader(plain(active.name))
            disputes_notice.show(store, ctx, scenario, active)
            show_diagnostics(d, ctx, key=f"diag-{active.id}")
            drawing.part_zoom_buttons(d, ctx, scenario_name)
            if active.communes:
                table = structures_table(active.communes, ctx)
                if len(table):
                    with st.expander(f"Structures dans le territoire ({len(table)})"):
                        st.dataframe(table, hide_index=True, width="stretch")

    st.divider()
    drawing.comparison(plan, store, scenario_name, ctx)


with page("Dessiner un territoire"):
    store = scenario_store()
    ctx = current_context()

    linked = sharing.linked_scenario(store)  # opened by a read-only link: read mode
    with st.sidebar:
        spec = scope_select("draw-scope", (linked and linked.scope) or preferences.get("scope"))
        preferences.put("scope", spec)
        scenario_name = drawing.scenario_picker(store, spec) if linked is None else None
    if linked is not None:
        by_link = lambda: sharing.linked_scenario(store)  # noqa: E731 - read again at each run
        read_view.show(store, ctx, spec, by_link, "Ouvert par un lien de consultation.", True)
        st.stop()
    if scenario_name is None:
        st.info(
            "Créez un scénario dans le panneau de gauche pour commencer : "
            "un scénario regroupe un ou plusieurs territoires de CPTS."
        )
        st.stop()

    scenario = store.get(scenario_name)
    cog_report = store.take_cog_report(scenario_name)  # drawn on an older COG: what moved
    if cog_report:
        st.info(plain(cog_report + "\n\n(Ce rapport est gardé dans les notes du scénario.)"))
    with st.sidebar:
        sharing.sharing_panel(store, scenario)
    refusal = sharing.read_only_reason(store, scenario)
    if refusal:  # a lecteur, or a colleague's scenario not shared in writing
        read_view.show(store, ctx, spec, lambda: store.get(scenario_name), refusal, False)
        st.stop()
    active = drawing.territory_bar(store, scenario)
    choice = orientation.controls(spec)
    drawing_area(store, ctx, spec, scenario_name, active.id if active else None, choice)
    drawing.export_import(store, scenario_name, ctx, spec)
    dossier.scenario_buttons(store, scenario_name, active.id if active else None, ctx)
    history_panel.show(store, scenario_name, ctx)
