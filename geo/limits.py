"""Limits every reader of outside bytes respects: size, decompressed size, nesting depth, time.

Every importer, ``scenario import`` and the command line read user files
through :func:`read_limited`, so that ``/dev/zero`` or a 10 GB file is refused
before it is read, with a French :class:`~geo.errors.DataError` naming the
file. The same numbers are shown in the README « Sécurité » section.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

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
