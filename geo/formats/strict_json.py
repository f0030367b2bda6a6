"""Strict JSON, the one JSON writer of the app (command-line ``--json``, GeoJSON exports of territories,
coverage zones and proposals).

A non-finite number (a NaN from a missing APL, an infinite ratio) is written ``null``, never ``NaN`` or
``Infinity`` that other JSON readers refuse. It imports nothing heavy, so that light commands stay fast.
"""

from __future__ import annotations

import json
import math


def finite_json(value):
    """``value`` ready for strict JSON: non-finite floats and pandas' missing values become None, numpy
    scalars and arrays plain Python values, tuples and sets lists (sets sorted when possible)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (str, int)) or value is None:
        return value
    if isinstance(value, dict):
        return {_key(k): finite_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_json(v) for v in value]
    if isinstance(value, (set, frozenset)):
        try:
            items = sorted(value)
        except TypeError:
            items = list(value)
        return [finite_json(v) for v in items]
    if type(value).__name__ in (
        "NAType",
        "NaTType",
    ):  # pandas.NA, pandas.NaT (pandas not imported here)
        return None
    if hasattr(value, "dtype") and hasattr(value, "tolist"):  # numpy scalar or array
        return finite_json(value.tolist())
    return value


def _key(key):
    if hasattr(key, "dtype") and hasattr(key, "item"):
        key = key.item()
    if isinstance(key, float) and not math.isfinite(key):
        return str(key)
    return key


def json_text(obj, indent: int | None = None, default=None) -> str:
    """``obj`` as strict JSON text (UTF-8 characters kept; compact unless ``indent``)."""
    separators = (",", ":") if indent is None else None
    return json.dumps(
        finite_json(obj),
        ensure_ascii=False,
        allow_nan=False,
        indent=indent,
        separators=separators,
        default=default,
    )
