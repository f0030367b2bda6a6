"""Page « Couverture »: communes in no CPTS (« zones blanches »), overlaps, uncovered zones."""

import streamlit as st

from geo.formats import french
from geo.store import preferences
from ui import coverage as ui
from ui.common import current_context, page
from ui.text import plain

with page("Couverture par les CPTS", tab="Couverture"):
    st.caption(
        "Communes situées dans aucune CPTS (« zones blanches »), d'après les périmètres de CPTS importés "
        "(page « Données ») et, si vous le souhaitez, les territoires d'un scénario."
    )
    ctx = current_context()
    with st.sidebar:
        spec = ui.coverage_scope_select("coverage-scope", preferences.get("scope"))
        scenario = ui.scenario_option("coverage-scenario")
    if not ctx.cpts_members and not scenario:
        st.warning(
            "Aucun périmètre de CPTS n'est chargé : toutes les communes apparaissent non couvertes. "
            "Importez les périmètres dans la page « Données » ou choisissez un scénario."
        )

    result, outlines, clusters = ui.computed_coverage(spec, scenario)
    st.subheader(
        plain(result.scope.label())
        + (f" — avec le scénario « {plain(scenario)} »" if scenario else "")
    )
    ui.figures(result)
    map_col, side = st.columns([3, 2])
    with side:  # filled first: the zone selected in the table sets the map's zoom in this same run
        rank = ui.clusters_table(result)
        if rank is not None:
            cluster = next(cl for cl in result.clusters if cl.rank == rank)
            st.session_state["coverage-focus"] = rank
            st.markdown(
                f"**{plain(cluster.label)}** : {french.integer(len(cluster.communes))} communes, "
                f"{french.integer(cluster.population)} habitants, {french.integer(cluster.msp_count)} MSP"
                + (" — enclave entourée de communes couvertes." if cluster.enclave else ".")
            )
            if st.button("Proposer des territoires pour cette zone", type="primary"):
                ui.send_to_proposals(cluster.communes, cluster.label, spec)
        else:
            st.session_state.pop("coverage-focus", None)
        if result.uncovered and st.button(
            "Proposer des territoires pour toutes les communes non couvertes"
        ):
            ui.send_to_proposals(
                result.uncovered, f"Communes non couvertes — {result.scope.label()}", spec
            )
    focus = ui.focus_bounds(result)
    with map_col:
        ui.show_coverage_map(
            spec,
            scenario,
            result,
            outlines,
            clusters,
            focus,
            st.session_state.get("coverage-focus"),
        )
        note = ui.no_contour_note(result)
        if note:
            st.caption(plain(note))
    ui.tables_and_chart(result)
    ui.downloads(result, clusters, spec)
