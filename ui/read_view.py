"""Read mode of the drawing page: a scenario shown without any edit control.

For a scenario opened by its read-only link (``?scenario=ID&jeton=TOKEN``, ``ui.sharing``), whoever opens
it, and for a scenario the user may not change (a lecteur, a colleague's scenario not shared in writing).
The map shows the territories, over the colouring, structures and CPTS outlines the reader chooses (as on
the drawing page, ``ui.orientation``); a click or a drawing is refused in the browser (``active.readonly``) and,
should an edit reach the server anyway, it is dropped with a message: nothing is written. The territories'
table and the history panel (without restore) follow the changes others make (``ui.history_panel``).
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from geo.territory.plan import Plan
from layers.safe import html_text
from ui import drawing, drawmap, history_panel, orientation, tables
from ui.common import map_communes, population_label
from ui.text import plain

REFUSED = "Consultation en lecture seule : modification refusée, rien n'a été enregistré."


def show(store, ctx, spec: str, load: Callable, reason: str, by_link: bool) -> None:
    """Show the scenario ``load()`` returns (read again at each run) in read mode; ``reason`` says why."""
    scenario = load()
    st.info(
        f"Consultation en lecture seule du scénario « {plain(scenario.name)} » "
        f"(propriétaire : {plain(scenario.owner or '—')}). {plain(reason)}"
    )
    if by_link and st.button("Quitter la consultation"):
        st.query_params.clear()
        st.rerun()
    edits = drawmap.new_edits("draw-map")  # acknowledged, never applied
    drawing.remember_view(store, scenario.name)  # before reading: the panel follows later changes
    scenario = load()
    fills, names = drawing.map_fills(scenario)
    label = population_label(spec)
    choice = orientation.controls(spec)  # a reader finds his way as an editor does
    drawmap.show(
        "draw-map",
        spec=spec,
        bounds=map_communes(spec).total_bounds,
        fills=fills,
        names=names,
        touched=[code for edit in edits for code in edit.codes],
        population_label=html_text(label),
        layers=orientation.layers(spec, choice, label),
        active={
            "scenario": scenario.id,
            "territory": None,
            "colour": None,
            "locked": False,
            "name": "",
            "readonly": True,
        },
        note=drawmap.message(html_text(REFUSED)) if edits else None,
    )
    st.subheader("Territoires du scénario")
    plan = drawing.plan_for(ctx, scenario)
    if plan.tallies:
        tables.show(plan.table(), Plan.TABLE_DECIMALS)
    else:
        st.caption("Aucun territoire.")
    history_panel.show(store, scenario.name, ctx, refusal=reason)
