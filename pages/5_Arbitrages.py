"""Page « Arbitrages »: communes claimed by two or more territories, their status and the decisions."""

import streamlit as st

from geo.store import preferences
from ui import arbitrages as ui
from ui.common import (
    current_context,
    page,
    scenario_store,
)
from ui.coverage import coverage_scope_select

with page(
    "Arbitrages",
    caption="Communes revendiquées par plusieurs territoires : territoires de scénarios différents partagés "
    "avec l'équipe, ou territoire et périmètre de CPTS importé. Un éditeur conteste et annote ; un "
    "arbitre désigne le territoire qui garde la commune (« arbitré », puis « acté ») ; les autres "
    "territoires en sont avertis dans leur panneau.",
):
    store = scenario_store()
    ctx = current_context()
    with st.sidebar:
        spec = coverage_scope_select("arbitrages-scope", preferences.get("scope"))
    ui.follow(store, ctx)  # others' decisions appear without a reload
    rows = ui.filters(ui.rows_for(store, ctx, spec), ctx)
    ui.figures(rows)
    map_col, side = st.columns([3, 2])
    with side:
        ui.actions(store, ctx, rows)
        ui.decisions(rows)
    with map_col:
        ui.show_map(spec, rows, ctx)
    ui.listing(rows, ctx)
    ui.notes(rows)
    ui.download(rows, spec)
