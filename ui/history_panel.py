"""The drawing page's history panel, refreshed on its own: the scenario's changes and the restore.

The panel is a fragment rerun every ``CARTOCPTS_REFRESH_SECONDS`` seconds (5 by default; 0 turns the
periodic refresh off) while « Suivre les modifications de l'équipe » is on. Each run costs one indexed query
(:meth:`~geo.store.scenarios.ScenarioStore.last_change`); the page of changes is read again only when the
journal's last change moved. When it moved past the state the session's map was drawn from
(``ui.drawing.shown_change``) — someone else changed the scenario — the whole page is rerun once: the map
gets the colours that changed (a delta, ``ui.drawmap``), the territories and the panel follow. A click on
the map reruns the map's own fragment only, never this one: the click path does no more work than before.

Undo and redo stay those of the session (``ui.drawing.history_bar``); a restore made here is a change of the
session like any other (its undo brings the later state back).
"""

from __future__ import annotations

import streamlit as st

from geo.errors import DataError
from geo.formats import french
from ui import drawing
from ui.common import fmt_datetime, refresh_seconds
from ui.text import plain

PAGE_SIZE = 10
LISTED_COMMUNES = 8  # commune names written out per change; beyond, « et N autres »
PAUSED = (
    "Actualisation automatique suspendue : la carte et le journal ne montrent pas les modifications "
    "faites depuis par les autres."
)
FIELD_NAMES = {"name": "nom", "status": "statut", "colour": "couleur", "notes": "notes"}


def show(store, scenario: str, ctx, refusal: str | None = None) -> None:
    """The panel of ``scenario``'s changes; ``refusal`` says why the user may not restore (None: he may)."""
    st.subheader("Historique des modifications")
    every = refresh_seconds()
    live = every is not None and st.toggle(
        "Suivre les modifications de l'équipe (actualisation automatique)",
        value=True,
        key="history-live",
        help="La carte et ce journal se mettent à jour sans recharger la page quand quelqu'un d'autre "
        "modifie le scénario.",
    )
    if every is not None and not live:
        st.caption(PAUSED)
    st.fragment(_panel, run_every=every if live else None)(store, scenario, ctx, refusal)


def _panel(store, scenario: str, ctx, refusal: str | None) -> None:
    try:
        last = store.last_change(scenario)
        _follow(scenario, last)
        rows, total, page = _page(store, scenario, last)
    except DataError as exc:
        st.caption(plain(exc))
        return
    if not rows:
        st.caption("Aucune modification enregistrée.")
        return
    st.caption(
        f"Modifications {french.integer(page * PAGE_SIZE + 1)} à "
        f"{french.integer(page * PAGE_SIZE + len(rows))} sur {french.integer(total)}, "
        "les plus récentes d'abord."
    )
    for row in rows:
        st.markdown(_line(row, ctx))
    cols = st.columns(2)
    key = f"history-page-{scenario}"
    if cols[0].button("← Plus récentes", disabled=page == 0, key=f"{key}-newer"):
        st.session_state[key] = page - 1
        st.rerun(scope="fragment")
    if cols[1].button(
        "Plus anciennes →", disabled=(page + 1) * PAGE_SIZE >= total, key=f"{key}-older"
    ):
        st.session_state[key] = page + 1
        st.rerun(scope="fragment")
    _restore(store, scenario, rows, refusal)


def _follow(scenario: str, last: int) -> None:
    """Rerun the whole page once when the journal moved past what this session's map shows."""
    shown = drawing.shown_change(scenario)
    if (
        shown is None
        or last <= shown
        or st.session_state.get("history-followed")
        == (
            scenario,
            last,
        )
    ):
        return
    st.session_state["history-followed"] = (scenario, last)
    st.rerun()


def _page(store, scenario: str, last: int) -> tuple[list[dict], int, int]:
    """(changes of the page shown, how many in all, page number), read again only when the journal moved."""
    page = max(int(st.session_state.get(f"history-page-{scenario}", 0)), 0)
    key = (scenario, page, last)
    memo = st.session_state.get("history-rows")
    if memo is None or memo[0] != key:
        rows, total = store.journal(scenario, limit=PAGE_SIZE, offset=page * PAGE_SIZE)
        memo = (key, rows, total)
        st.session_state["history-rows"] = memo
    return memo[1], memo[2], page


def _names(codes: list[str], ctx) -> str:
    """« Foix, Pamiers et 3 autres » (commune names, codes when unknown), escaped for Markdown."""
    names = [
        str(ctx.communes.at[c, "name"]) if c in ctx.communes.index else str(c)
        for c in codes[:LISTED_COMMUNES]
    ]
    more = len(codes) - len(names)
    text = plain(", ".join(names))
    return text + (f" et {french.integer(more)} autre(s)" if more > 0 else "")


def _line(row: dict, ctx) -> str:
    """One change as Markdown: when, who, what, which territory, communes added and removed, fields changed."""
    parts = [f"**{plain(fmt_datetime(row['at']))}** — {plain(row['user'])} — {plain(row['label'])}"]
    if row.get("territory"):
        parts.append(f"territoire : {plain(row['territory'])}")
    if row.get("added"):
        parts.append(f"ajout : {_names(row['added'], ctx)}")
    if row.get("removed"):
        parts.append(f"retrait : {_names(row['removed'], ctx)}")
    for field, (before, after) in (row.get("fields") or {}).items():
        parts.append(f"{plain(FIELD_NAMES.get(field, field))} : {plain(before)} → {plain(after)}")
    return f"n° {french.integer(row['id'])} · " + " ; ".join(parts)


def _restore(store, scenario: str, rows: list[dict], refusal: str | None) -> None:
    """Choose a change of the page and put the scenario back as it was right after it (itself a change)."""
    labels = {
        row["id"]: f"n° {row['id']} — {fmt_datetime(row['at'])} — {row['user']} — {row['label']}"
        for row in rows
    }
    chosen = st.selectbox(
        "Modification", list(labels), format_func=labels.get, key=f"restore-pick-{scenario}"
    )
    if refusal:
        st.caption(f"Restauration impossible : {plain(refusal)}")
    if not st.button(
        "Restaurer le scénario tel qu'il était à ce changement",
        disabled=bool(refusal),
        key=f"restore-{scenario}",
    ):
        return
    try:
        count = store.restore(scenario, chosen, session=drawing.edit_session())
    except DataError as exc:
        st.error(plain(exc))
        return
    st.toast(
        f"Scénario remis dans l'état n° {french.integer(chosen)} "
        f"({french.integer(count)} modification(s) défaite(s))."
    )
    st.rerun()
