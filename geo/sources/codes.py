"""Codes every importer shares: the arrondissements of Paris, Lyon and Marseille, the spellings of an INSEE
code column, the statuts of a CPTS.

One table each, so that a commune code or a statut means the same in every source.
"""

from __future__ import annotations

import re

import pandas as pd

from geo.store.scenarios import STATUSES

# Municipal arrondissements -> their commune (the commune base has no arrondissements): Paris 75101-75120,
# Lyon 69381-69389, Marseille 13201-13216. One strict pattern each: 75100 or 13217 are no arrondissement.
ARRONDISSEMENTS: tuple[tuple[re.Pattern, str], ...] = (
    (re.compile(r"^751(0[1-9]|1\d|20)$"), "75056"),
    (re.compile(r"^6938[1-9]$"), "69123"),
    (re.compile(r"^132(0[1-9]|1[0-6])$"), "13055"),
)

# Header spellings of a commune code column besides the canonical name (compared after
# ``geo.sources.tabular.column_key``).
INSEE_ALIASES = (
    "insee",
    "code_commune",
    "code_commune_insee",
    "codgeo",
    "depcom",
    "com",
    "code_com",
    "cog",
)

# The statuts of an existing CPTS: a scenario's statuses without « proposition » (a draft of the app).
STATUT_LABELS: tuple[str, ...] = tuple(s for s in STATUSES if s != "proposition")
# Spellings accepted in a file, compared after ``column_key`` (no accents, lower case, "_") -> the statut.
STATUTS = {
    "initiative": "initiative",
    "projet": "projet",
    "en_projet": "projet",
    "contractualisee": "contractualisée",
    "contractualise": "contractualisée",
    "en_fonctionnement": "en fonctionnement",
    "fonctionnement": "en fonctionnement",
}
STATUT_ALIASES = ("statut_cpts", "etat", "etat_cpts", "stade")


def arrondissement_city(code) -> str | None:
    """The commune (75056, 69123 or 13055) of an arrondissement code, None for any other code."""
    if not isinstance(code, str):
        return None
    return next((city for pattern, city in ARRONDISSEMENTS if pattern.match(code)), None)


def fold_arrondissements(codes: pd.Series, known=None) -> tuple[pd.Series, dict[str, int]]:
    """``codes`` with every arrondissement replaced by its commune, and how many were folded per commune.

    With ``known`` (the codes of the commune base), only arrondissements the base does not know are folded,
    and only into a commune it knows. Codes may be None.
    """
    text = codes.astype(object)
    folded: dict[str, int] = {}
    for pattern, city in ARRONDISSEMENTS:
        hit = text.str.match(pattern).fillna(False).astype(bool)
        if known is not None:
            if city not in known:
                continue
            hit &= ~text.isin(known)
        if hit.any():
            folded[city] = int(hit.sum())
            text = text.where(~hit, city)
    return text, folded


def arrondissements_of(codes: pd.Series) -> dict[str, pd.Series]:
    """commune -> mask of ``codes`` that are its arrondissements (for sources that merge their values)."""
    text = codes.astype(object)
    return {
        city: text.str.match(pattern).fillna(False).astype(bool)
        for pattern, city in ARRONDISSEMENTS
    }
