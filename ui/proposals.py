"""Widgets of the « Propositions » page."""

from __future__ import annotations

import hashlib
import json

import streamlit as st

from geo.coverage.proposals import propose, to_scenario
from geo.errors import DataError
from geo.formats import french
from geo.store import preferences
from geo.territory.export import geojson_bytes, to_csv, to_geojson
from layers.maps import proposal_map as territories_map
from ui import dossier
from ui.common import scenario_store
from ui.coverage import PROPOSAL_KEY, ZONE_KEY, computed_coverage, coverage_scope_select
from ui.mapview import show_map
from ui.text import plain


def zone_picker(ctx, default_scope: str) -> dict | None:
    """The zone to cut: a zone sent by the « Couverture » page, or the uncovered communes of a scope."""
    sent = st.session_state.get(ZONE_KEY)
    options = (["sent"] if sent else []) + ["scope"]
    labels = {
        "sent": f"Zone choisie dans la page Couverture : {plain(sent['label'])}" if sent else "",
        "scope": "Communes non couvertes d'un département ou d'une région",
    }
    choice = st.radio("Zone à couvrir", options, format_func=labels.get, key="proposal-source")
    if choice == "sent":
        return sent
    spec = coverage_scope_select("proposal-scope", sent["scope"] if sent else default_scope)
    if spec == "fr":
        st.info(
            "Choisissez une région ou un département : la France entière est trop vaste pour une proposition."
        )
        return None
    result, _, _ = computed_coverage(spec, None)
    if not result.uncovered:
        st.success("Toutes les communes de ce périmètre sont déjà dans une CPTS : rien à proposer.")
        return None
    return {
        "codes": list(result.uncovered),
        "label": f"communes non couvertes — {result.scope.label()}",
        "scope": spec,
    }


def zone_population(zone: dict, ctx) -> int:
    return int(sum(ctx.population.get(c, 0) for c in zone["codes"]))


def parameters(ctx) -> dict:
    cols = st.columns(3)
    min_pop = cols[0].number_input(
        "Population minimale", min_value=1000, max_value=500000, value=20000, step=1000
    )
    use_max = cols[1].checkbox("Population maximale", value=False)
    max_pop = cols[1].number_input(
        "Maximum",
        min_value=1000,
        max_value=2000000,
        value=175000,
        step=5000,
        disabled=not use_max,
        label_visibility="collapsed",
    )
    seed = cols[2].number_input(
        "Graine (même graine, même proposition)", min_value=0, max_value=10**6, value=1
    )
    cols = st.columns(3)
    keep = cols[0].checkbox("Ne jamais franchir une limite de département", value=False)
    known = any(counts.get("msp", 0) for counts in ctx.structure_counts.values())
    around = cols[1].checkbox(
        "Regrouper autour des MSP",
        value=known,
        disabled=not known,
        help="Chaque territoire se forme autour de la commune d'une MSP quand cela ne réduit pas le nombre de "
        "territoires dotés d'une MSP."
        if known
        else "Aucune MSP connue : importez le fichier FINESS dans la page « Données ».",
    )
    return {
        "min_pop": int(min_pop),
        "max_pop": int(max_pop) if use_max else None,
        "keep_departements": bool(keep),
        "seed": int(seed),
        "around_msp": bool(around and known),
    }


def key_of(zone: dict, params: dict) -> str:
    text = json.dumps({"codes": sorted(zone["codes"]), **params}, sort_keys=True)
    return hashlib.sha1(text.encode()).hexdigest()[:12]


RUNNING_KEY = "proposal-running"
GEOJSON_KEY = "proposal-geojson"


def run_button(zone: dict, params: dict, ctx) -> None:
    """Compute on demand with a progress bar; leaving or clicking « Annuler » stops the computation.

    Streamlit stops the script at its next call (the progress bar is updated
    every quarter second while a large zone is cut in a child process, which
    is then killed); a flag left in the session tells the next run that the
    computation was interrupted.
    """
    if st.session_state.pop(RUNNING_KEY, None):
        st.info("Calcul de la proposition annulé.")
    left, right = st.columns([1, 3])
    if not left.button("Calculer la proposition", type="primary"):
        return
    cancel_slot = right.empty()
    cancel_slot.button(
        "Annuler", help="Interrompt le calcul en cours."
    )  # its click reruns the page
    bar = st.progress(0.0, text="Préparation…")
    st.session_state[RUNNING_KEY] = True
    try:
        proposal = propose(
            zone["codes"],
            ctx,
            progress=lambda f, m: bar.progress(min(max(f, 0.0), 1.0), text=plain(m)),
            **params,
        )
    except DataError as exc:
        proposal = None
        st.error(plain(exc))
    # not reached when Streamlit stops the run (« Annuler », page left): the flag then stays for the next run
    st.session_state.pop(RUNNING_KEY, None)
    cancel_slot.empty()
    bar.empty()
    if proposal is not None:
        st.session_state[PROPOSAL_KEY] = (key_of(zone, params), proposal)


def current(zone: dict, params: dict):
    """The proposal computed for this zone and these parameters, if any."""
    kept = st.session_state.get(PROPOSAL_KEY)
    if not kept:
        return None
    key, proposal = kept
    if key != key_of(zone, params):
        st.info("Les paramètres ont changé : relancez le calcul.")
        return None
    return proposal


def summary(proposal) -> None:
    below = [t for t in proposal.territories if t.get("below_floor")]
    seconds = french.decimal(proposal.elapsed_s, 1)
    st.success(
        f"{len(proposal.territories)} territoire(s) proposé(s) pour {french.integer(proposal.population)} "
        f"habitants (calcul en {seconds} s)."
    )
    for text in proposal.notes:
        st.info(plain(text))
    for text in proposal.explanations:
        st.warning(plain(text))
    if not below and not proposal.explanations:
        st.caption("Chaque territoire est d'un seul tenant et atteint le plancher de population.")


def show_proposal_map(proposal, ctx, key: str, height: int = 560) -> None:
    """The proposal's map (neighbour-distinct colours, P1, P2… labels), rendered once per proposal."""
    territories = [
        {"id": i, "name": t["name"], "communes": t["communes"], "population": t.get("population")}
        for i, t in enumerate(proposal.territories)
    ]
    show_map(f"proposal|{key}|{ctx.version}", lambda: territories_map(territories, ctx), height)


def downloads(proposal, zone: dict, ctx) -> None:
    """The proposal as GeoJSON (dissolved territories with their figures) and as a commune list, to share it."""
    slug = "proposition-" + key_of(zone, proposal.params)
    numbered = [
        {**t, "id": f"P{i}"} for i, t in enumerate(proposal.territories, start=1)
    ]  # P1, P2... as ids
    st.subheader("Exporter la proposition")
    left, right = st.columns(2)
    kept = st.session_state.get(GEOJSON_KEY)
    if (
        not kept or kept[0] != slug
    ):  # built once per proposal (a deferred download can miss across reruns)
        with st.spinner("Préparation de l'export GeoJSON…"):
            kept = (slug, geojson_bytes(to_geojson(numbered, ctx)))
        st.session_state[GEOJSON_KEY] = kept
    left.download_button(
        "Territoires proposés (GeoJSON)",
        file_name=f"{slug}.geojson",
        mime="application/geo+json",
        on_click="ignore",
        data=kept[1],
        help="Un polygone par territoire, avec sa population, sa taille ACI, ses MSP…",
    )
    right.download_button(
        "Liste des communes (CSV)",
        data=to_csv(numbered),
        file_name=f"{slug}.csv",
        mime="text/csv",
        on_click="ignore",
        help="cpts_id;cpts_nom;code_insee, une ligne par commune.",
    )
    dossier.proposal_button(proposal, zone, ctx, slug)


def save_as_scenario(proposal, zone: dict, ctx) -> None:
    """Create the draft scenario and open it in the territory page."""
    st.subheader("Enregistrer la proposition")
    default = f"Proposition — {zone['label']}"[:80]
    with st.form("save-proposal"):
        name = st.text_input("Nom du scénario brouillon", value=default)
        if st.form_submit_button(
            "Créer le scénario et l'ouvrir dans « Dessiner un territoire »", type="primary"
        ):
            store = scenario_store()
            scope = (
                zone["scope"] if zone["scope"] != "fr" else f"dep:{ctx.dep[proposal.communes[0]]}"
            )
            try:
                scenario = to_scenario(proposal, store, name.strip(), scope=scope)
            except DataError as exc:
                st.error(plain(exc))
                return
            preferences.put("scope", scope)
            st.session_state.pop(
                "draw-scope", None
            )  # the territory page then opens on the preference
            st.session_state["scenario-wanted"] = scenario.name
            st.switch_page("pages/2_Dessiner_un_territoire.py")
