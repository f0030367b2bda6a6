"""Finding communes: by name (accents and case ignored), by point, by EPCI."""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:  # a type only: geo.base never imports geo.territory
    from geo.territory.context import Context


def fold(text: str) -> str:
    """Lower case without accents, hyphens and apostrophes as spaces."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    for sep in ("-", "'", "’"):
        plain = plain.replace(sep, " ")
    return " ".join(plain.split())


def search_communes(query: str, communes: pd.DataFrame, limit: int = 20) -> pd.DataFrame:
    """Communes whose name (or INSEE code) matches ``query``; names starting with it first."""
    key = fold(query)
    if not key:
        return communes.iloc[0:0]
    folded = communes["name"].map(fold)
    hits = communes[
        folded.str.contains(key, regex=False) | communes["insee"].str.startswith(key.upper())
    ]
    starts = folded.loc[hits.index].str.startswith(key)
    return (
        hits.assign(_starts=~starts)
        .sort_values(["_starts", "name"])
        .drop(columns="_starts")
        .head(limit)
    )


def epci_members(epci: str, ctx: Context) -> list[str]:
    communes = ctx.communes
    return communes.index[communes["epci"] == epci].tolist()
