"""The negotiation ledger seen over a scope: disputed communes with their names, départements and CSV.

The ledger itself (claims, statuses, decisions, roles) is :mod:`geo.store.disputes`; this module gives it
the imported CPTS perimeters and the commune base, for ``python -m geo disputes`` and the « Arbitrages »
page.
"""

from __future__ import annotations

from geo.base.scope import parse_scope, scope_codes
from geo.formats.csv_cells import csv_bytes
from geo.store.disputes import DisputeLedger
from geo.territory.context import Context, context

CSV_COLUMNS = [
    "code_insee",
    "commune",
    "departement",
    "statut",
    "revendiquee_par",
    "decision",
    "decidee_par",
    "decidee_le",
    "notes",
]


def ledger(store, ctx: Context | None = None) -> DisputeLedger:
    """The ledger of ``store`` (acting as its user), claims checked against the imported CPTS."""
    return DisputeLedger(store, (ctx or context()).cpts_members)


def commune_name(code: str, ctx: Context) -> str:
    return str(ctx.communes.at[code, "name"]) if code in ctx.communes.index else ""


def disputes_in_scope(store, scope="fr", ctx: Context | None = None) -> list[dict]:
    """The disputes of a scope (``fr``, ``reg:76``, ``dep:09``), by code: the JSON of ``geo disputes``
    (``code_insee``, ``commune``, ``departement``, ``claimants``, ``status``, ``decision``, ``decided_by``,
    ``decided_at``, ``notes``, ``active``)."""
    ctx = ctx or context()
    codes = scope_codes(parse_scope(scope), ctx)
    out = []
    for dispute in ledger(store, ctx).disputes(codes):
        row = dispute.to_dict()
        code = row["code_insee"]
        out.append(
            {
                "code_insee": code,
                "commune": commune_name(code, ctx),
                "departement": ctx.dep.get(code, ""),
                **{k: v for k, v in row.items() if k != "code_insee"},
            }
        )
    return out


def disputes_csv(rows: list[dict]) -> bytes:
    """The rows of :func:`disputes_in_scope` as a CSV (UTF-8 with BOM, « ; », formula cells neutralised)."""
    return csv_bytes(
        CSV_COLUMNS,
        (
            [
                row["code_insee"],
                row["commune"],
                row["departement"],
                row["status"],
                " | ".join(c["label"] for c in row["claimants"]),
                row["decision"]["label"] if row["decision"] else "",
                row["decided_by"] or "",
                row["decided_at"] or "",
                " | ".join(f"{n['user']} ({n['at']}) : {n['text']}" for n in row["notes"]),
            ]
            for row in rows
        ),
    )
