"""Page « Propositions »: contiguous territories of whole uncovered communes, above a population floor."""

import streamlit as st

from geo.formats import french
from geo.store import preferences
from ui import coverage as ui
from ui import proposals as prop
from ui.common import current_context, page
from ui.text import plain

with page("Proposer des territoires", tab="Propositions"):
    st.caption(
        "Découpe une zone non couverte en territoires contigus de communes entières, chacun au-dessus d'un "
        "plancher de population, formés autour des communes dotées d'une MSP quand c'est possible "
        "(régionalisation « max-p » de la bibliothèque libgeoda / pygeoda). La proposition "
        "devient un scénario brouillon, modifiable dans la page « Dessiner un territoire »."
    )
    ctx = current_context()
    zone = prop.zone_picker(ctx, preferences.get("scope"))
    if zone is None:
        st.stop()
    st.markdown(
        f"**Zone** : {plain(zone['label'])} — {french.integer(len(zone['codes']))} communes, "
        f"{french.integer(prop.zone_population(zone, ctx))} habitants ({plain(ctx.population_vintage)})."
    )
    params = prop.parameters(ctx)
    prop.run_button(zone, params, ctx)
    proposal = prop.current(zone, params)
    if proposal is None:
        st.stop()
    prop.summary(proposal)
    ui.proposal_table(proposal, ctx)
    prop.show_proposal_map(proposal, ctx, prop.key_of(zone, params))
    prop.downloads(proposal, zone, ctx)
    prop.save_as_scenario(proposal, zone, ctx)
