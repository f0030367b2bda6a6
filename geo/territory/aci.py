"""ACI size classes of a CPTS (taille 1 to 4) from its population.

The bands live in one place, ``data/aci_bands.json``: each band holds the
populations ``min <= p < max_exclusive`` (the last one has no upper bound).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

from geo.store.paths import REPO_ROOT

BANDS_FILE = REPO_ROOT / "data" / "aci_bands.json"


@dataclass(frozen=True)
class Band:
    size: int
    label: str
    min: int
    max_exclusive: int | None


@lru_cache(maxsize=1)
def bands() -> tuple[Band, ...]:
    raw = json.loads(BANDS_FILE.read_text(encoding="utf-8"))
    return tuple(Band(**band) for band in raw["bands"])


def aci_band(population: int) -> Band:
    for band in bands():
        if population >= band.min and (
            band.max_exclusive is None or population < band.max_exclusive
        ):
            return band
    return bands()[0]


def aci_size(population: int) -> int:
    """ACI size class: 1 (< 40,000), 2 (< 80,000), 3 (<= 175,000), 4 (> 175,000)."""
    return aci_band(population).size


@dataclass(frozen=True)
class AciEdge:
    """How far a population is from the edges of its ACI band (inhabitants)."""

    size: int  # the ACI size class (1 to 4)
    to_lower: int | None  # inhabitants that could be lost before dropping a class (None in band 1)
    to_upper: int | None  # inhabitants more that would reach the next class (None in the last band)
    nearest: int | None  # the smaller of the two

    def to_dict(self) -> dict:
        return {
            "size": self.size,
            "to_lower": self.to_lower,
            "to_upper": self.to_upper,
            "nearest": self.nearest,
        }


def distance_to_edge(population: int) -> AciEdge:
    """How far the population is from the edges of its band."""
    band = aci_band(population)
    to_lower = population - band.min + 1 if band.min > 0 else None
    to_upper = band.max_exclusive - population if band.max_exclusive is not None else None
    nearest = min((d for d in (to_lower, to_upper) if d is not None), default=None)
    return AciEdge(size=band.size, to_lower=to_lower, to_upper=to_upper, nearest=nearest)
