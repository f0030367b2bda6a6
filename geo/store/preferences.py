"""Small user preferences kept in the data directory (the last scope used, each user's last scenario)."""

from __future__ import annotations

import json

from geo.store.layers import write_bytes_atomic
from geo.store.paths import data_dir

DEFAULTS = {"scope": "reg:76"}  # Occitanie at first run
_USERS = "users"  # {"users": {name: {key: value}}}: what each user of a shared instance chose last


def _path():
    return data_dir() / "preferences.json"


def _read() -> dict:
    try:
        prefs = json.loads(_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        prefs = {}
    return prefs if isinstance(prefs, dict) else {}


def _write(prefs: dict) -> None:
    write_bytes_atomic(_path(), json.dumps(prefs, ensure_ascii=False).encode("utf-8"))


def get(key: str):
    return _read().get(key, DEFAULTS.get(key))


def put(key: str, value) -> None:
    prefs = _read()
    if prefs.get(key) != value:
        prefs[key] = value
        _write(prefs)


def get_for(user: str, key: str, default=None):
    """What ``user`` chose last for ``key`` (e.g. ``"scenario"``), else ``default``."""
    users = _read().get(_USERS)
    mine = users.get(str(user)) if isinstance(users, dict) else None
    return mine.get(key, default) if isinstance(mine, dict) else default


def put_for(user: str, key: str, value) -> None:
    """Remember ``value`` as ``user``'s choice for ``key`` (the file is written only when it changes)."""
    prefs = _read()
    users = prefs.get(_USERS) if isinstance(prefs.get(_USERS), dict) else {}
    mine = users.get(str(user)) if isinstance(users.get(str(user)), dict) else {}
    if mine.get(key) != value:
        prefs[_USERS] = {**users, str(user): {**mine, key: value}}
        _write(prefs)
