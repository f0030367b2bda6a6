"""Who may change a scenario in the page, its sharing with the team, and its read-only link.

The owner (or an arbitre) sets the sharing level (privé, équipe en lecture, équipe en écriture) and gets
the read-only link: the drawing page's address with ``?scenario=ID&jeton=TOKEN`` (the scenario's random
token, :meth:`geo.store.scenarios.ScenarioStore.read_link`). Anyone on the team who opens that address sees
the scenario in read mode (``ui.read_view``), whatever its sharing level. A scenario the user may not
change (a lecteur, or a colleague's scenario not shared in writing) is shown in read mode too.
"""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

from geo.errors import DataError
from geo.store.users import SHARING, SHARING_LABELS
from ui.text import plain

LEVELS = {"prive": "Privé", "lecture": "Équipe en lecture", "ecriture": "Équipe en écriture"}
# The read-only link's query parameters (as the CLI prints them).
LINK_ID, LINK_TOKEN = "scenario", "jeton"


def link_query(scenario_id: int, token: str) -> str:
    """``?scenario=ID&jeton=TOKEN``."""
    return "?" + urlencode({LINK_ID: int(scenario_id), LINK_TOKEN: token})


def link_url(scenario_id: int, token: str) -> str:
    """The read-only link: this page's address as the browser reached it, with the link's parameters."""
    return (st.context.url or "") + link_query(scenario_id, token)


def linked_scenario(store):
    """The scenario named by the read-only link the page was opened with, or None without one.

    A wrong or revoked link gives a French error and stops the page."""
    params = st.query_params
    if LINK_ID not in params and LINK_TOKEN not in params:
        return None
    try:
        scenario_id = int(params.get(LINK_ID, ""))
    except ValueError:
        scenario_id = -1
    try:
        return store.get_shared(scenario_id, params.get(LINK_TOKEN, ""))
    except DataError as exc:
        st.error(plain(exc))
        if st.button("Ouvrir la page sans ce lien"):
            st.query_params.clear()
            st.rerun()
        st.stop()


def read_only_reason(store, scenario) -> str | None:
    """Why the user may not change ``scenario`` (French), or None when he may."""
    try:
        store.actor().require_write(scenario.name, scenario.owner, scenario.sharing)
    except DataError as exc:
        return str(exc)
    return None


def sharing_panel(store, scenario) -> None:
    """Sidebar: owner and sharing level; the owner (or an arbitre) changes it and gets the read-only link."""
    actor = store.actor()
    if not actor.team_mode:
        return  # « poste local »: nobody to share with
    label = SHARING_LABELS.get(scenario.sharing, scenario.sharing)
    with st.expander("Partage du scénario"):
        st.caption(f"Propriétaire : {plain(scenario.owner)} ; partage : {plain(label)}.")
        if scenario.owner != actor.name and actor.role != "arbitre":
            st.caption("Seul le propriétaire (ou un arbitre) change le partage.")
            return
        level = st.radio(
            "Niveau de partage",
            SHARING,
            index=SHARING.index(scenario.sharing) if scenario.sharing in SHARING else 1,
            format_func=LEVELS.get,
            key=f"sharing-{scenario.id}",
        )
        if st.button("Enregistrer le partage", disabled=level == scenario.sharing):
            try:
                store.share(scenario.name, level)
            except DataError as exc:
                st.error(plain(exc))
            else:
                st.rerun()
        # A toggle, not a button: its state goes with every later request, a click cannot be lost in a
        # rerun of the page's periodic refresh (a button's one-shot trigger can)
        if not st.toggle(
            "Afficher le lien de consultation (lecture seule)", key=f"read-link-{scenario.id}"
        ):
            return
        scenario_id, token = store.read_link(scenario.name)
        st.caption("Lien de consultation, en lecture seule pour toute l'équipe (à copier) :")
        st.code(link_url(scenario_id, token), language=None, wrap_lines=True)
