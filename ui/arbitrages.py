"""Widgets of the « Arbitrages » page: the negotiation ledger over a scope.

The ledger (claims, statuses, decisions, roles) is :mod:`geo.store.disputes`, seen over a scope through
:mod:`geo.coverage.disputes`; the map is :mod:`layers.maps.disputes`. Refusals (role, unknown winner)
come from the store as French ``DataError`` and are shown here; nothing is recorded then.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.base.scope import parse_scope, scope_codes
from geo.coverage.disputes import disputes_csv, disputes_in_scope, ledger
from geo.errors import DataError
from geo.formats import french
from geo.store.disputes import DECIDED, DISPUTE_STATUSES
from layers.maps.disputes import disputes_map
from ui.common import fmt_datetime, refresh_seconds
from ui.text import plain

DONE_KEY = (
    "arbitrages-done"  # the message of the last action, shown after the rerun that follows it
)
DECISION_STATUSES = ("arbitré", "acté")


VERSION_KEY = "arbitrages-version"  # the ledger's version this run reads


def follow(store, ctx) -> None:
    """Rerun the page when the team changes the claims or the ledger (checked every
    ``CARTOCPTS_REFRESH_SECONDS``, one cheap query): a page left open shows others' decisions. Call it
    before reading the disputes."""
    st.session_state[VERSION_KEY] = ledger(store, ctx).version()
    every = refresh_seconds()
    if every is not None:
        st.fragment(_look, run_every=every)(store, ctx)


def _look(store, ctx) -> None:
    if ledger(store, ctx).version() != st.session_state.get(VERSION_KEY):
        st.rerun()


def rows_for(store, ctx, spec: str) -> list[dict]:
    """The disputes of the scope, read from the store at each run (other people decide too)."""
    return disputes_in_scope(store, spec, ctx)


def filters(rows: list[dict], ctx) -> list[dict]:
    """Status, département and claimant filters (sidebar); the rows they keep."""
    with st.sidebar:
        st.subheader("Filtres")
        statuses = st.multiselect(
            "Statut", list(DISPUTE_STATUSES), default=list(DISPUTE_STATUSES), key="arb-status"
        )
        deps = sorted({r["departement"] for r in rows})
        dep_names = _dep_names(ctx)
        chosen_deps = st.multiselect(
            "Département",
            deps,
            format_func=lambda d: f"{d} {dep_names.get(d, '')}".strip(),
            key="arb-dep",
            placeholder="Tous",
        )
        claimants = sorted({c["label"] for r in rows for c in r["claimants"]})
        claimant = st.selectbox(
            "Revendiquée par", [None, *claimants], format_func=lambda c: c or "Tous", key="arb-who"
        )
    return [
        r
        for r in rows
        if r["status"] in statuses
        and (not chosen_deps or r["departement"] in chosen_deps)
        and (claimant is None or any(c["label"] == claimant for c in r["claimants"]))
    ]


def _dep_names(ctx) -> dict[str, str]:
    return ctx.communes.drop_duplicates("dep").set_index("dep")["dep_name"].to_dict()


def figures(rows: list[dict]) -> None:
    """How many disputed communes per status."""
    counts = {s: sum(r["status"] == s for r in rows) for s in DISPUTE_STATUSES}
    cols = st.columns(len(DISPUTE_STATUSES))
    cols[0].metric("Ouvert", french.integer(counts["ouvert"]))
    cols[1].metric("Contesté", french.integer(counts["contesté"]))
    cols[2].metric("Arbitré", french.integer(counts["arbitré"]))
    cols[3].metric("Acté", french.integer(counts["acté"]))


def _bounds(spec: str, rows: list[dict], ctx):
    """The disputed communes' extent, else the scope's (without simplifying a whole scope's communes)."""
    codes = [r["code_insee"] for r in rows if ctx.geometry.get(r["code_insee"]) is not None]
    if not codes:
        codes = [c for c in scope_codes(parse_scope(spec), ctx) if ctx.geometry.get(c) is not None]
    return ctx.communes.loc[codes].total_bounds


def show_map(spec: str, rows: list[dict], ctx) -> None:
    fmap = disputes_map(_bounds(spec, rows, ctx), rows, ctx)
    st_folium(
        fmap,
        key=f"arbitrages-map-{spec}-{len(rows)}",
        height=520,
        use_container_width=True,
        returned_objects=[],
    )


def _table(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Code INSEE": [r["code_insee"] for r in rows],
            "Commune": [r["commune"] for r in rows],
            "Statut": [r["status"] for r in rows],
            "Revendiquée par": [" ; ".join(c["label"] for c in r["claimants"]) for r in rows],
            "Décision": [r["decision"]["label"] if r["decision"] else "" for r in rows],
            "Décidée par": [r["decided_by"] or "" for r in rows],
            "Le": [fmt_datetime(r["decided_at"]) if r["decided_at"] else "" for r in rows],
            "Notes": [len(r["notes"]) for r in rows],
        }
    )


def listing(rows: list[dict], ctx) -> None:
    """The disputes by département (one table each, text shown as is)."""
    if not rows:
        st.info("Aucune commune disputée ne correspond aux filtres.")
        return
    dep_names = _dep_names(ctx)
    for dep in sorted({r["departement"] for r in rows}):
        part = [r for r in rows if r["departement"] == dep]
        with st.expander(
            plain(f"{dep} {dep_names.get(dep, '')}") + f" — {french.integer(len(part))} commune(s)",
            expanded=True,
        ):
            st.dataframe(_table(part), hide_index=True, width="stretch")


def _commune_choice(rows: list[dict], key: str) -> dict | None:
    by_code = {r["code_insee"]: r for r in rows}
    code = st.selectbox(
        "Commune",
        list(by_code),
        format_func=lambda c: f"{by_code[c]['commune']} ({c})",
        key=key,
    )
    return by_code.get(code)


def _act(action, message: str) -> None:
    """Run a ledger action; its message after the rerun, or the store's French refusal now."""
    try:
        action()
    except DataError as exc:
        st.error(plain(exc))
        return
    st.session_state[DONE_KEY] = message
    st.rerun()


def actions(store, ctx, rows: list[dict]) -> None:
    """The decision form for arbitres, contest and notes for editeurs, nothing for lecteurs."""
    done = st.session_state.pop(DONE_KEY, None)
    if done:
        st.success(plain(done))
    role = store.actor().role
    if role == "lecteur":
        st.info("Rôle lecteur : vous consultez le registre des arbitrages.")
        return
    if not rows:
        return
    book = ledger(store, ctx)
    if role in (None, "arbitre"):
        st.subheader("Arbitrer une commune")
        row = _commune_choice(rows, "arb-decide-commune")
        claimants = {c["key"]: c["label"] for c in row["claimants"]}
        current = row["decision"]["key"] if row["decision"] else None
        options = list(claimants) + ([current] if current and current not in claimants else [])
        winner = st.selectbox(
            "Territoire gagnant (il garde la commune)",
            options,
            index=options.index(current) if current in options else 0,
            format_func=lambda k: claimants.get(k) or row["decision"]["label"],
            key=f"arb-winner-{row['code_insee']}",
        )
        status = st.radio(
            "Statut", DECISION_STATUSES, horizontal=True, key=f"arb-st-{row['code_insee']}"
        )
        note = st.text_area("Note (facultative)", key=f"arb-note-{row['code_insee']}")
        if st.button("Enregistrer la décision", type="primary", key="arb-decide"):
            _act(
                lambda: book.decide(row["code_insee"], winner, status, note=note),
                f"{row['commune']} ({row['code_insee']}) : {status} en faveur de "
                f"{claimants.get(winner) or row['decision']['label']}.",
            )
        return
    st.subheader("Contester une commune ou l'annoter")
    row = _commune_choice(rows, "arb-contest-commune")
    note = st.text_area("Note", key=f"arb-enote-{row['code_insee']}")
    left, right = st.columns(2)
    if row["status"] not in DECIDED and left.button("Contester", key="arb-contest"):
        _act(
            lambda: book.contest(row["code_insee"], note=note),
            f"{row['commune']} ({row['code_insee']}) : contesté.",
        )
    if right.button("Ajouter la note", key="arb-add-note"):
        _act(
            lambda: book.note(row["code_insee"], note),
            f"Note ajoutée à {row['commune']} ({row['code_insee']}).",
        )


def decisions(rows: list[dict], limit: int = 20) -> None:
    """The latest decisions, newest first, as lines of text (who won, by whom, when)."""
    decided = sorted(
        (r for r in rows if r["status"] in DECIDED), key=lambda r: r["decided_at"], reverse=True
    )
    if not decided:
        return
    st.subheader("Dernières décisions")
    for r in decided[:limit]:
        st.caption(
            plain(
                f"{r['commune']} ({r['code_insee']}) : {r['status']} en faveur de "
                f"{r['decision']['label']}, par {r['decided_by']} le {fmt_datetime(r['decided_at'])}"
            )
        )


def notes(rows: list[dict]) -> None:
    """The notes of the disputes shown, newest last."""
    noted = [r for r in rows if r["notes"]]
    if not noted:
        return
    with st.expander(f"Notes ({french.integer(sum(len(r['notes']) for r in noted))})"):
        for r in noted:
            for n in r["notes"]:
                st.caption(
                    plain(
                        f"{r['commune']} ({r['code_insee']}) — {n['user']}, "
                        f"{fmt_datetime(n['at'])} : {n['text']}"
                    )
                )


def download(rows: list[dict], spec: str) -> None:
    st.download_button(
        "Exporter le registre (CSV)",
        disputes_csv(rows),
        file_name=f"arbitrages-{spec.replace(':', '-')}.csv",
        mime="text/csv",
        on_click="ignore",
    )
