"""The drawing page's notice: communes of the active territory that an arbitre gave to another territory.

The ledger is :mod:`geo.store.disputes`; the « Arbitrages » page records the decisions.
"""

from __future__ import annotations

import streamlit as st

from geo.errors import DataError
from geo.store.disputes import DisputeLedger
from ui.common import fmt_datetime
from ui.text import plain

MAX_LISTED = 10


def show(store, ctx, scenario, territory) -> None:
    """A warning listing the communes ``territory`` still holds but lost by arbitration (who won, by whom,
    when); nothing when there is none."""
    try:
        rows = DisputeLedger(store).decided_against(scenario.name, territory.id)
    except DataError:
        return
    if not rows:
        return
    lines = []
    for row in rows[:MAX_LISTED]:
        code = row["code_insee"]
        name = ctx.communes.at[code, "name"] if code in ctx.communes.index else ""
        lines.append(
            plain(
                f"{name} ({code}) : {row['status']} en faveur de {row['winner_label']}, "
                f"par {row['decided_by']} le {fmt_datetime(row['decided_at'])}"
            )
        )
    more = f" ; et {len(rows) - MAX_LISTED:d} autre(s)" if len(rows) > MAX_LISTED else ""
    st.warning(
        f"Arbitrage : {len(rows)} commune(s) de ce territoire attribuée(s) à un autre territoire. "
        "Retirez-les du territoire : " + " ; ".join(lines) + more + "."
    )
