"""The « Dossier PDF » download buttons (drawing page, proposal page): the PDF is built at the click.

The dossier of a saved scenario is remembered (geo.store.dossiers) so that the next one says what changed;
a proposal not yet saved has no history: its dossier is made from an unsaved scenario in memory.
"""

from __future__ import annotations

import streamlit as st

from geo.report.build import build_dossier
from geo.store.layers import now_iso
from geo.store.scenarios import PALETTE, Scenario, Territory

MIME = "application/pdf"


def _slug(text: str) -> str:
    """A file name part made of letters, digits and « _ » only (names never reach a file name as typed)."""
    return "".join(ch if ch.isalnum() else "_" for ch in text)[:60] or "dossier"


def scenario_buttons(store, scenario_name: str, territory_id: int | None, ctx) -> None:
    """Two buttons: the dossier of the active territory and the dossier of the whole scenario."""
    scenario = store.get(scenario_name)
    if not scenario.territories:
        return
    st.subheader("Dossier pour l'ARS et la CPAM")
    cols = st.columns(2)
    if territory_id is not None:
        cols[0].download_button(
            "Dossier PDF du territoire",
            key="dl-dossier-territory",
            file_name=f"dossier_{_slug(scenario_name)}_{territory_id}.pdf",
            mime=MIME,
            data=lambda: build_dossier(
                store.get(scenario_name),
                ctx,
                territory=territory_id,
                store=store,
                author=store.user,
            ),
            on_click="ignore",
            help="Carte, diagnostic, structures, communes, changements depuis le dossier précédent.",
        )
    cols[1].download_button(
        "Dossier PDF du scénario",
        key="dl-dossier-scenario",
        file_name=f"dossier_{_slug(scenario_name)}.pdf",
        mime=MIME,
        data=lambda: build_dossier(store.get(scenario_name), ctx, store=store, author=store.user),
        on_click="ignore",
        help="Tableau de synthèse, vérification de la couverture, puis chaque territoire.",
    )


def proposal_scenario(proposal, label: str, scope: str) -> Scenario:
    """The proposal as an unsaved scenario (territories numbered from 1, colours of the palette)."""
    stamp = now_iso()
    territories = [
        Territory(
            i,
            str(t["name"]),
            "proposition",
            PALETTE[(i - 1) % len(PALETTE)],
            str(t.get("explanation") or ""),
            False,
            set(t["communes"]),
        )
        for i, t in enumerate(proposal.territories, start=1)
    ]
    return Scenario(0, f"Proposition — {label}", scope, False, "", stamp, stamp, territories)


def proposal_button(proposal, zone: dict, ctx, slug: str) -> None:
    """The dossier of a proposal (all its territories, with the summary table and the coverage check)."""
    st.download_button(
        "Dossier PDF de la proposition",
        key="dl-dossier-proposal",
        file_name=f"{_slug(slug)}.pdf",
        mime=MIME,
        data=lambda: build_dossier(
            proposal_scenario(proposal, zone["label"], zone["scope"]),
            ctx,
            store=None,
            zone=(str(zone["label"]), list(proposal.communes)),
        ),
        on_click="ignore",
        help="Tableau de synthèse, vérification de la couverture, puis chaque territoire.",
    )
