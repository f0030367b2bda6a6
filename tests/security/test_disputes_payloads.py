"""Hostile names in the negotiation ledger (scenario, territory, note): the « Arbitrages » map shows them as
text, never as template source or live HTML, and the CSV export neutralises formula cells."""

from __future__ import annotations

import csv
import io

from geo.coverage.disputes import disputes_csv, disputes_in_scope, ledger
from geo.store.scenarios import ScenarioStore
from geo.territory.context import context
from layers.maps.disputes import disputes_map
from tests.security.test_map_payloads import assert_inert, payloads

PAMIERS, FOIX = "09225", "09122"


def test_disputes_map_and_csv_with_hostile_names(base_dir, tmp_path):
    marker = tmp_path / "pwned"
    names = payloads(marker)
    store = ScenarioStore(tmp_path / "scenarios.sqlite")
    for i, (key, name) in enumerate(sorted(names.items())):
        scenario = (
            f"{name} ({key})" if len(name) < 100 else key
        )  # names hold 120 characters at most
        store.create(scenario)
        tid = store.add_territory(scenario, f"{name} {i}" if len(name) < 100 else f"{key} {i}")
        store.change_communes(scenario, tid, add=[PAMIERS, FOIX] if i % 2 else [PAMIERS])
    formula = '=HYPERLINK("http://x";"y")'
    store.create(formula)
    tid = store.add_territory(formula, "+1 territoire")
    store.change_communes(formula, tid, add=[FOIX])
    ctx = context()
    ledger(store, ctx).decide(PAMIERS, f"territoire:{tid - 1}", note=names["run"])
    ledger(store, ctx).note(FOIX, "@SUM(A1)")
    rows = disputes_in_scope(store, "dep:09", ctx)
    assert [r["code_insee"] for r in rows] == [FOIX, PAMIERS]

    fmap = disputes_map(ctx.communes.loc[[FOIX, PAMIERS]].total_bounds, rows, ctx)
    assert_inert(fmap.get_root().render(), names, marker)

    cells = [
        cell
        for row in csv.reader(io.StringIO(disputes_csv(rows).decode("utf-8-sig")), delimiter=";")
        for cell in row
    ]
    assert all(not c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells)
    assert (
        any(formula in c for c in cells) and "'@SUM(A1)" not in cells
    )  # inside a longer note cell
