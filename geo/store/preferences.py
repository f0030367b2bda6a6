"""Small user preferences kept in the data directory (e.g. the last scope used)."""

from __future__ import annotations

import json

from geo.store.layers import write_bytes_atomic
from geo.store.paths import data_dir

DEFAULTS = {"scope": "reg:76"}  # Occitanie at first run


def _path():
    return data_dir() / "preferences.json"


def get(key: str):
    try:
        prefs = json.loads(_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        prefs = {}
    return prefs.get(key, DEFAULTS.get(key))


def put(key: str, value) -> None:
    try:
        prefs = json.loads(_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        prefs = {}
    if prefs.get(key) != value:
        prefs[key] = value
        write_bytes_atomic(_path(), json.dumps(prefs, ensure_ascii=False).encode("utf-8"))
