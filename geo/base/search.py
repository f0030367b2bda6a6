"""Finding communes: by name (the usual French forms and abbreviations understood), by point, by EPCI.

A name and a query are compared on their *key* (:func:`name_key`): accents, case, hyphens, apostrophes,
dots and spaces ignored, « St »/« Ste »/« Sts »/« Stes » read as Saint/Sainte/Saints/Saintes, « S/ » and
« /s » as « sur », « s/s » as « sous »; a leading article (« Le », « La », « Les », « L' ») may be left out
of the query. « st girons » finds Saint-Girons, « Villeneuve s/ Lot » Villeneuve-sur-Lot, « l isle
jourdain » L'Isle-Jourdain and « lherm » both Lherm and L'Herm. When nothing matches,
:func:`close_names` suggests the nearest names.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from functools import lru_cache
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:  # a type only: geo.base never imports geo.territory
    from geo.territory.context import Context

ABBREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}
ARTICLES = ("le", "la", "les", "l")
# « s/s » (sous) before « s/ » and « /s » (sur); a lone « / » between two words reads « sur » too.
_SLASHES = (
    (re.compile(r"(?<![a-z0-9])s\s*/\s*s(?![a-z0-9])"), " sous "),
    (re.compile(r"(?<![a-z0-9])s\s*/"), " sur "),
    (re.compile(r"/\s*s(?![a-z0-9])"), " sur "),
    (re.compile(r"/"), " sur "),
)
_SEPARATORS = re.compile(r"[-'’`´.,;()_\s]+")


def fold(text: str) -> str:
    """Lower case without accents, hyphens and apostrophes as spaces."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    for sep in ("-", "'", "’"):
        plain = plain.replace(sep, " ")
    return " ".join(plain.split())


def words(text: str) -> list[str]:
    """The words of a name or query, folded, abbreviations and slashes spelt out: « Ste-Croix s/ Lot »
    gives ``["sainte", "croix", "sur", "lot"]``."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    plain = plain.replace("œ", "oe").replace("æ", "ae")
    for pattern, replacement in _SLASHES:
        plain = pattern.sub(replacement, plain)
    return [ABBREVIATIONS.get(word, word) for word in _SEPARATORS.split(plain) if word]


@lru_cache(maxsize=100_000)
def name_key(text: str) -> str:
    """What names and queries are compared on: their words glued together (« saintgirons »)."""
    return "".join(words(text))


def _query_keys(query: str) -> list[str]:
    """The query's key, and its key without a leading article (« La Bastide » also finds « Bastide »)."""
    tokens = words(query)
    keys = ["".join(tokens)]
    if len(tokens) > 1 and tokens[0] in ARTICLES:
        keys.append("".join(tokens[1:]))
    return [key for key in keys if key]


def _is_code(query: str) -> bool:
    return bool(re.fullmatch(r"\s*(\d[\dab]{0,4}|2[ab]\d{0,3})\s*", query, re.I))


def search_communes(query: str, communes: pd.DataFrame, limit: int = 20) -> pd.DataFrame:
    """Communes whose name (or INSEE code) matches ``query``: the same name first, then names starting
    with it, then names holding it (each group in alphabetical order)."""
    keys = _query_keys(query)
    if not keys:
        return communes.iloc[0:0]
    names = communes["name"].map(name_key)
    rank = pd.Series(9, index=communes.index)
    for offset, key in enumerate(keys):  # the query as typed before the query without its article
        contains = names.str.contains(key, regex=False)
        rank = rank.where(~contains, rank.clip(upper=4 + offset))
        rank = rank.where(~names.str.startswith(key), rank.clip(upper=2 + offset))
        rank = rank.where(names != key, rank.clip(upper=0 + offset))
    if _is_code(query):
        rank = rank.where(
            ~communes["insee"].str.startswith(query.strip().upper()), rank.clip(upper=0)
        )
    hits = communes[rank < 9]
    return (
        hits.assign(_rank=rank[rank < 9])
        .sort_values(["_rank", "name"], kind="stable")
        .drop(columns="_rank")
        .head(limit)
    )


def close_names(query: str, communes: pd.DataFrame, limit: int = 5) -> list[str]:
    """Up to ``limit`` commune names close to ``query`` (for « vouliez-vous dire… » when nothing
    matches), nearest first; names shared by several communes appear once."""
    keys = _query_keys(query)
    if not keys or _is_code(query):
        return []
    by_key: dict[str, str] = {}
    for name in communes["name"]:
        by_key.setdefault(name_key(name), name)
    scored: dict[str, float] = {}
    for key in keys:
        matcher = difflib.SequenceMatcher(b=key, autojunk=False)
        for candidate in by_key:
            # the start of a long name, as long as the query, so « st giron » is close to Saint-Girons
            for text in {candidate, candidate[: len(key) + 2]}:
                matcher.set_seq1(text)
                if matcher.real_quick_ratio() < 0.75 or matcher.quick_ratio() < 0.75:
                    continue
                score = matcher.ratio()
                if score >= 0.75 and score > scored.get(candidate, 0.0):
                    scored[candidate] = score
    best = sorted(scored, key=lambda k: (-scored[k], by_key[k]))
    return [by_key[k] for k in best[:limit]]


def close_communes(query: str, communes: pd.DataFrame, limit: int = 5) -> pd.DataFrame:
    """The communes bearing the names :func:`close_names` suggests, nearest name first."""
    names = close_names(query, communes, limit)
    order = {name: i for i, name in enumerate(names)}
    hits = communes[communes["name"].isin(order)]
    return hits.iloc[hits["name"].map(order).argsort(kind="stable")]


def epci_members(epci: str, ctx: Context) -> list[str]:
    communes = ctx.communes
    return communes.index[communes["epci"] == epci].tolist()
