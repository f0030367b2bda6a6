"""The catalogue of data sources (publisher, URL, vintage, licence, format)."""

from __future__ import annotations

import json
from functools import lru_cache

from geo.store.layers import list_layers
from geo.store.paths import REPO_ROOT

CATALOGUE_FILE = REPO_ROOT / "data" / "sources.json"


@lru_cache(maxsize=1)
def sources() -> dict[str, dict]:
    """Every known source, keyed by layer name."""
    return json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))


def status() -> list[dict]:
    """One entry per layer present: layer, source, vintage, licence, rows, built_at (display caches such as
    the France view's shapes are not layers of data: left out)."""
    out = []
    for meta in list_layers():
        if meta.get("cache"):
            continue
        entry = sources().get(meta["layer"], {})
        out.append(
            {
                "layer": meta["layer"],
                "source": meta.get("source") or entry.get("publisher", ""),
                "vintage": meta.get("vintage") or entry.get("vintage", ""),
                "licence": meta.get("licence") or entry.get("licence", ""),
                "rows": meta["rows"],
                "built_at": meta.get("built_at") or meta.get("imported_at"),
                "file": meta.get("file", ""),
            }
        )
    return out
