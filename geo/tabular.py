"""Reading small user-supplied tables (CSV or XLSX) with clear French errors.

Used by the importers whose input is a plain table (IRDES typology, CPTS
commune lists). Every row keeps its line number in the source file (column
``_line``) so that validation messages can name it.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from pathlib import Path

import pandas as pd

from geo.errors import DataError

BINARY_MAGIC = (b"\x89PNG", b"%PDF", b"PK\x03\x04", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 (.xls) and other OLE2 files
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
SEPARATORS = (";", ",", "\t", "|")
SEPARATOR_NAMES = {";": "point-virgule", ",": "virgule", "\t": "tabulation", "|": "barre verticale"}
CODE_PATTERN = re.compile(r"^(?:\d{5}|2[AB]\d{3})$")


def read_bytes(path, what: str) -> bytes:
    """The file's bytes; refuses a missing, empty or binary (image, PDF...) file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise DataError(f"Fichier {what} introuvable : {path}.") from exc
    except IsADirectoryError as exc:
        raise DataError(f"{path} est un dossier, pas un fichier {what}.") from exc
    except OSError as exc:
        raise DataError(f"Impossible de lire le fichier {what} {path} : {exc.strerror}.") from exc
    if not data.strip():
        size = "0 octet" if not data else "aucune donnée"
        raise DataError(f"Le fichier {what} {path.name} est vide ({size}) : rien à importer.")
    return data


def is_binary(data: bytes) -> bool:
    """True for an image, PDF, archive or other non-text file (UTF-16 text with its BOM is text)."""
    if data.startswith(UTF16_BOMS):
        return False
    head = data[:4096]
    return b"\x00" in head or head.startswith(BINARY_MAGIC)


def decode_text(data: bytes) -> str:
    """UTF-16 when it starts with its BOM (Excel « texte Unicode »), strict UTF-8 (with or without BOM),
    else Windows-1252."""
    if data.startswith(UTF16_BOMS):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def normalise_code(value) -> str | None:
    """A commune code as a 5-character string ("2A"/"2B" kept, leading zero restored), or None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        if value != value or not value.is_integer():
            return None
        value = int(value)
    if isinstance(value, int):
        text = f"{value:05d}"
    else:
        text = str(value).strip().upper()
        if text.endswith(".0") and text[:-2].isdigit():
            text = text[:-2]
        if text.isdigit() and len(text) == 4:
            text = "0" + text
    return text if CODE_PATTERN.match(text) else None


def column_key(name) -> str:
    """A header cell reduced for matching: lower case, no accents, '_' for spaces."""
    text = unicodedata.normalize("NFKD", str(name or "")).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", text.strip().lower()).strip("_")


def _sniff_separator(header: str) -> str:
    counts = {sep: header.count(sep) for sep in SEPARATORS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ";"


def _read_csv(data: bytes, name: str, what: str) -> list[tuple[int, list[str]]]:
    """(line number in the file, fields) of every record; a quoted field may span lines."""
    text = decode_text(data)
    first = next((line for line in text.splitlines() if line.strip()), "")
    sep = _sniff_separator(first)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    rows = []
    start = 1
    try:
        for row in reader:
            rows.append((start, row))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise DataError(
            f"{name}, ligne {start} : fichier {what} mal formé, guillemet (\") non refermé ou mal placé."
        ) from exc
    return rows


def _read_xlsx(path: Path, what: str) -> list[tuple[int, list[str]]]:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise DataError(f"Le fichier {path.name} n'est pas un classeur Excel XLSX lisible ({what}).") from exc
    try:
        sheet = workbook.worksheets[0]
        rows = []
        for number, row in enumerate(sheet.iter_rows(values_only=True), 1):
            rows.append((number, ["" if v is None else (str(int(v)) if isinstance(v, float) and v.is_integer()
                                                        else str(v)) for v in row]))
        return rows
    finally:
        workbook.close()


def read_table(path, what: str, columns: dict[str, tuple[str, ...]], optional: dict[str, tuple[str, ...]] = None,
               display_name: str | None = None) -> pd.DataFrame:
    """Rows of a CSV (``;``, ``,``, tab or ``|``, any BOM/encoding) or XLSX table as strings.

    ``columns`` maps each required canonical column to the header spellings it
    accepts (compared after :func:`column_key`); ``optional`` likewise. The
    result has the canonical columns plus ``_line`` (1-based line in the file,
    the header being line 1). Empty lines are skipped. Raises DataError naming
    the file and the line for a missing column or a short/long row.
    """
    path = Path(path)
    name = display_name or path.name
    optional = optional or {}
    data = read_bytes(path, what)
    if data.startswith(b"PK\x03\x04") or path.suffix.lower() in (".xlsx", ".xlsm"):
        rows = _read_xlsx(path, what)
    elif data.startswith(OLE_MAGIC):
        raise DataError(f"Le fichier {name} est un classeur Excel 97-2003 (.xls) ou un autre document Office "
                        f"ancien ({what}) : enregistrez-le au format XLSX ou CSV, puis importez-le.")
    elif is_binary(data):
        raise DataError(f"Le fichier {name} n'est pas un tableau CSV ou XLSX ({what}) : c'est un fichier binaire "
                        "(image, PDF, archive...).")
    else:
        rows = _read_csv(data, name, what)
    numbered = [(line, row) for line, row in rows if any(str(c).strip() for c in row)]
    if not numbered:
        raise DataError(f"Le fichier {what} {name} est vide : rien à importer.")
    header_line, header = numbered[0]
    keys = [column_key(c) for c in header]
    wanted = {**{k: (k, *v) for k, v in columns.items()}, **{k: (k, *v) for k, v in optional.items()}}
    index: dict[str, int] = {}
    for canonical, spellings in wanted.items():
        for spelling in spellings:
            if column_key(spelling) in keys:
                index[canonical] = keys.index(column_key(spelling))
                break
    missing = [c for c in columns if c not in index]
    if missing:
        seen = ", ".join(f"« {c} »" for c in header if str(c).strip()) or "aucune"
        hint = ""
        if len([c for c in header if str(c).strip()]) == 1 and len(columns) + len(optional) > 1:
            hint = " Une seule colonne lue : le séparateur n'est peut-être pas reconnu, utilisez « ; » ou « , »."
        raise DataError(
            f"{name}, ligne {header_line} : colonne(s) {', '.join('« ' + c + ' »' for c in missing)} absente(s) "
            f"(colonnes trouvées : {seen}).{hint}")
    width = len(header)
    records = []
    for line, row in numbered[1:]:
        if len(row) < width and max(index.values()) >= len(row):
            raise DataError(f"{name}, ligne {line} : ligne tronquée ({len(row)} champ(s) au lieu de {width}).")
        if len(row) > width and any(str(c).strip() for c in row[width:]):
            raise DataError(f"{name}, ligne {line} : {len(row)} champs au lieu de {width} "
                            "(séparateur en trop ou guillemets manquants ?).")
        record = {c: str(row[i]).strip() if i < len(row) else "" for c, i in index.items()}
        record["_line"] = line
        records.append(record)
    if not records:
        raise DataError(f"Le fichier {what} {name} ne contient qu'une ligne d'en-tête : aucune donnée.")
    return pd.DataFrame.from_records(records, columns=[*index.keys(), "_line"])


def first_items(items, limit: int = 10) -> str:
    """'a, b, c (et 12 autres)' for messages listing offending values."""
    items = list(items)
    shown = ", ".join(str(i) for i in items[:limit])
    return shown + (f" (et {len(items) - limit} autre(s))" if len(items) > limit else "")
