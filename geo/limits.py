"""Limits every reader of outside bytes respects: size, decompressed size, nesting depth, time.

Every importer, ``scenario import`` and the command line read user files
through :func:`read_limited`, so that ``/dev/zero`` or a 10 GB file is refused
before it is read, with a French :class:`~geo.errors.DataError` naming the
file. The same numbers are shown in the README « Sécurité » section.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from pathlib import Path

import numpy as np

from geo.errors import DataError

MAX_UPLOAD_MB = 200  # also Streamlit's server.maxUploadSize
MAX_FILE_BYTES = MAX_UPLOAD_MB * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 500 * 1024 * 1024  # an XLSX's declared uncompressed size
MAX_ZIP_RATIO = 100  # uncompressed / compressed, per archive member
MAX_JSON_DEPTH = 64


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:,.0f}".replace(",", "\u202f") + " Mo"


def read_limited(path, what: str, display_name: str | None = None, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of ``path``, refused (DataError) when missing, not a regular file or larger than ``limit``.

    Reads at most ``limit + 1`` bytes, so a device or a growing file cannot eat the memory.
    """
    path = Path(path)
    name = display_name or path.name
    try:
        info = os.stat(path)
    except FileNotFoundError as exc:
        raise DataError(f"Fichier {what} introuvable : {name}.") from exc
    except OSError as exc:
        raise DataError(f"Impossible de lire le fichier {what} {name} : {exc.strerror}.") from exc
    if stat.S_ISDIR(info.st_mode):
        raise DataError(f"{name} est un dossier, pas un fichier {what}.")
    if info.st_size > limit:
        raise DataError(f"Le fichier {what} {name} est trop gros ({_mb(info.st_size)}) : "
                        f"{_mb(limit)} au plus.")
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise DataError(f"Impossible de lire le fichier {what} {name} : {exc.strerror}.") from exc
    if len(data) > limit:
        raise DataError(f"Le fichier {what} {name} dépasse {_mb(limit)} : fichier refusé.")
    return data


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def _depth_ok(text: str, limit: int) -> bool:
    """True when the brackets of a JSON text never nest deeper than ``limit`` (strings skipped; vectorised)."""
    skeleton = _JSON_STRING.sub("", text).encode("ascii", "ignore")
    codes = np.frombuffer(skeleton, dtype=np.uint8)
    steps = np.zeros(codes.shape, dtype=np.int32)
    steps[(codes == ord("[")) | (codes == ord("{"))] = 1
    steps[(codes == ord("]")) | (codes == ord("}"))] = -1
    return not steps.size or int(np.cumsum(steps).max()) <= limit


def _refuse_constant(name: str):
    raise ValueError(f"valeur non finie {name} interdite")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"nombre hors limites {text} interdit")
    return value


def load_json(data: bytes | str, name: str, what: str = "JSON", max_depth: int = MAX_JSON_DEPTH):
    """Strict JSON from outside: UTF-8 (BOM allowed), no NaN/Infinity, nesting at most ``max_depth``.

    Any failure is a French DataError naming the file (and the line and column when known).
    """
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DataError(f"{name} : le fichier {what} n'est pas un texte UTF-8 (octet invalide en position "
                            f"{exc.start}).") from exc
    else:
        text = data
    if not _depth_ok(text, max_depth):
        raise DataError(f"{name} : le fichier {what} est imbriqué sur plus de {max_depth} niveaux : fichier refusé.")
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise DataError(f"{name}, ligne {exc.lineno}, colonne {exc.colno} : {what} mal formé (fichier tronqué, "
                        "virgule, guillemet ou accolade manquant ?), fichier refusé.") from exc
    except (ValueError, RecursionError) as exc:
        raise DataError(f"{name} : {what} refusé ({exc}).") from exc
