"""Limits every reader of outside bytes respects: size, decompressed size, nesting depth, time.

Every importer, ``scenario import`` and the command line read user files
through :func:`read_limited`, so that ``/dev/zero`` or a 10 GB file is refused
before it is read, with a French :class:`~geo.errors.DataError` naming the
file. The same numbers are shown in the README « Sécurité » section.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import stat
import zipfile
from pathlib import Path

import numpy as np

from geo.errors import DataError
from geo.formats.french import integer, megabytes

MAX_UPLOAD_MB = 200  # also Streamlit's server.maxUploadSize
MAX_FILE_BYTES = MAX_UPLOAD_MB * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 500 * 1024 * 1024  # an XLSX's declared uncompressed size
MAX_ZIP_RATIO = 100  # uncompressed / compressed, per archive member
MAX_JSON_DEPTH = 64


def read_limited(
    path, what: str, display_name: str | None = None, limit: int = MAX_FILE_BYTES
) -> bytes:
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
        raise DataError(
            f"Le fichier {what} {name} est trop gros ({megabytes(info.st_size)}) : "
            f"{megabytes(limit)} au plus."
        )
    # Read in pieces (the whole regular file in one): ``read(limit + 1)`` would allocate the full
    # cap up front for every file, even a small one.
    step = max(info.st_size + 1, 1024 * 1024)
    chunks, total = [], 0
    try:
        with open(path, "rb") as handle:
            while total <= limit:
                chunk = handle.read(min(step, limit + 1 - total))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
    except OSError as exc:
        raise DataError(f"Impossible de lire le fichier {what} {name} : {exc.strerror}.") from exc
    if total > limit:
        raise DataError(f"Le fichier {what} {name} dépasse {megabytes(limit)} : fichier refusé.")
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


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
            raise DataError(
                f"{name} : le fichier {what} n'est pas un texte UTF-8 (octet invalide en position "
                f"{exc.start})."
            ) from exc
    else:
        text = data
    if not _depth_ok(text, max_depth):
        raise DataError(
            f"{name} : le fichier {what} est imbriqué sur plus de {max_depth} niveaux : fichier refusé."
        )
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{name}, ligne {exc.lineno}, colonne {exc.colno} : {what} mal formé (fichier tronqué, "
            "virgule, guillemet ou accolade manquant ?), fichier refusé."
        ) from exc
    except (ValueError, RecursionError) as exc:
        raise DataError(f"{name} : {what} refusé ({exc}).") from exc


# --------------------------------------------------------------------------- XLSX (zip) archives

MAX_ZIP_MEMBERS = 2_000  # a workbook has a few dozen parts
ZIP_RATIO_MIN_BYTES = (
    1024 * 1024
)  # the ratio check applies to members larger than this (uncompressed)
MAX_SHEET_ROWS = 2_000_000
MAX_SHEET_CELLS = 20_000_000  # cells read from one sheet, padding included
_SCAN_CHUNK = 1024 * 1024
# A DTD is how entity-expansion ("billion laughs") and external-entity (XXE) attacks start; an
# OOXML part never has one. Searched in UTF-8/ASCII and in both UTF-16 byte orders.
_DTD_MARKERS = [
    re.compile(b"".join(re.escape(ch.encode(enc)) for ch in marker), re.IGNORECASE)
    for enc in ("ascii", "utf-16-le", "utf-16-be")
    for marker in ("<!DOCTYPE", "<!ENTITY")
]
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_ALLOWED_XML_ENCODINGS = {"utf-8", "utf8", "utf-16", "utf16", "utf-16le", "utf-16be"}


def check_xlsx(data: bytes, name: str, what: str = "Excel") -> None:
    """Refuse (French DataError naming the file) an XLSX archive that is unsafe to hand to openpyxl.

    Refused: a corrupt or encrypted zip; more than MAX_ZIP_MEMBERS members; declared uncompressed
    sizes adding up to more than MAX_UNCOMPRESSED_BYTES; a member over 1 Mo whose
    uncompressed/compressed ratio exceeds MAX_ZIP_RATIO (zip bomb); any member holding a DTD
    (``<!DOCTYPE``/``<!ENTITY``: entity expansion, external entities) or an XML encoding other
    than UTF-8/UTF-16. The members are decompressed in chunks for the DTD scan, within the
    declared sizes (``zipfile`` never yields more than a member's declared size and checks its CRC).
    """
    label = f"Le classeur {what} {name}"
    # Every member has a central-directory entry starting with this signature: counting it bounds
    # the number of members before zipfile builds one object per entry.
    if data.count(b"PK\x01\x02") > MAX_ZIP_MEMBERS:
        raise DataError(
            f"{label} contient plus de {integer(MAX_ZIP_MEMBERS)} éléments : fichier refusé."
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - any failure of the zip reader on outside bytes
        raise DataError(
            f"{label} n'est pas un classeur Excel XLSX lisible (archive ZIP corrompue ou tronquée)."
        ) from exc
    with archive:
        members = archive.infolist()
        if len(members) > MAX_ZIP_MEMBERS:
            raise DataError(
                f"{label} contient {len(members)} éléments (au plus {MAX_ZIP_MEMBERS}) : fichier refusé."
            )
        total = sum(info.file_size for info in members)
        if total > MAX_UNCOMPRESSED_BYTES:
            raise DataError(
                f"{label} occupe {megabytes(total)} une fois décompressé ({megabytes(MAX_UNCOMPRESSED_BYTES)} "
                "au plus) : fichier refusé (archive piégée ?)."
            )
        for info in members:
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > ZIP_RATIO_MIN_BYTES and ratio > MAX_ZIP_RATIO:
                raise DataError(
                    f"{label} : l'élément {info.filename} est compressé {integer(ratio)} fois "
                    f"({MAX_ZIP_RATIO} au plus) : fichier refusé (archive piégée ?)."
                )
        for info in members:
            if info.is_dir():
                continue
            try:
                _scan_member(archive, info, label)
            except DataError:
                raise
            except Exception as exc:  # noqa: BLE001 - CRC error, bad compression, encryption...
                raise DataError(
                    f"{label} est corrompu : l'élément {info.filename} est illisible "
                    f"({type(exc).__name__})."
                ) from exc


def _scan_member(archive, info, label: str) -> None:
    """Refuse a member holding a DTD or declaring an unexpected XML encoding (streamed, bounded)."""
    tail = b""
    first = True
    with archive.open(info) as handle:
        while True:
            chunk = handle.read(_SCAN_CHUNK)
            if not chunk:
                return
            if first:
                first = False
                declared = _XML_ENCODING.match(chunk[:512])
                if (
                    declared
                    and declared.group(1).decode("ascii").lower() not in _ALLOWED_XML_ENCODINGS
                ):
                    raise DataError(
                        f"{label} : l'élément {info.filename} est encodé en "
                        f"« {declared.group(1).decode('ascii')} » (UTF-8 attendu) : fichier refusé."
                    )
            window = tail + chunk
            if any(marker.search(window) for marker in _DTD_MARKERS):
                raise DataError(
                    f"{label} : l'élément {info.filename} contient une déclaration DTD "
                    "(<!DOCTYPE>/<!ENTITY>), interdite dans un classeur Excel : fichier refusé."
                )
            tail = window[-32:]


def limit_rows(
    rows,
    name: str,
    what: str,
    sheet: str | None = None,
    max_rows: int | None = None,
    max_cells: int | None = None,
):
    """Yield the rows of a sheet, refusing (DataError) past ``max_rows`` rows or ``max_cells`` cells
    (default MAX_SHEET_ROWS, MAX_SHEET_CELLS; empty rows count as rows)."""
    max_rows = MAX_SHEET_ROWS if max_rows is None else max_rows
    max_cells = MAX_SHEET_CELLS if max_cells is None else max_cells
    where = f"{name}, feuille « {sheet} »" if sheet else name
    cells = 0
    for count, row in enumerate(rows, 1):
        cells += len(row)
        if count > max_rows:
            raise DataError(
                f"{where} : plus de {integer(max_rows)} lignes ({what}) : fichier refusé."
            )
        if cells > max_cells:
            raise DataError(
                f"{where} : plus de {integer(max_cells)} cellules ({what}) : fichier refusé "
                "(feuille démesurée ou dimensions falsifiées)."
            )
        yield row
