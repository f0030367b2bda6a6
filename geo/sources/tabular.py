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
from pathlib import Path
from xml.etree.ElementTree import ParseError

import pandas as pd

from geo.errors import DataError
from geo.sources.limits import check_xlsx, limit_rows, read_limited

BINARY_MAGIC = (b"\x89PNG", b"%PDF", b"PK\x03\x04", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 (.xls) and other OLE2 files
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
SEPARATORS = (";", ",", "\t", "|")
SEPARATOR_NAMES = {";": "point-virgule", ",": "virgule", "\t": "tabulation", "|": "barre verticale"}
CODE_PATTERN = re.compile(r"^(?:\d{5}|2[AB]\d{3})$")


def read_bytes(path, what: str, display_name: str | None = None) -> bytes:
    """The file's bytes, read through :func:`geo.sources.limits.read_limited` (size cap); refuses a missing
    or empty file."""
    path = Path(path)
    name = display_name or path.name
    data = read_limited(path, what, name)
    if not data.strip():
        size = "0 octet" if not data else "aucune donnée"
        raise DataError(f"Le fichier {what} {name} est vide ({size}) : rien à importer.")
    return data


def is_binary(data: bytes) -> bool:
    """True for an image, PDF, archive or other non-text file (UTF-16 text with its BOM is text)."""
    if data.startswith(UTF16_BOMS):
        return False
    head = data[:4096]
    return b"\x00" in head or head.startswith(BINARY_MAGIC)


# One well-formed UTF-8 sequence of two to four bytes (no overlong form, no surrogate, <= U+10FFFF).
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)
_ASCII = bytes(range(128))


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def decode_text(data: bytes, name: str | None = None, what: str = "texte") -> str:
    """The text of a whole file, its encoding decided on all of its bytes by one rule.

    1. A UTF-16 BOM: UTF-16 (Excel « texte Unicode »); an odd length or a lone surrogate is refused.
    2. The whole file decodes as strict UTF-8 (BOM allowed): UTF-8.
    3. Otherwise count the well-formed UTF-8 multi-byte sequences (V) and the other non-ASCII
       bytes (I, bytes that are no part of such a sequence). With a UTF-8 BOM, or when V > 0 and
       V >= I, the file is UTF-8 damaged by stray bytes (or a mix of two encodings): refused with a
       DataError naming the first offending line, rather than read as Windows-1252 (« Ã‰COLE »).
    4. Else (no UTF-8 sequence, or only a few accidental ones among many single accented bytes,
       e.g. « Â » followed by a non-breaking space): Windows-1252, the encoding of FINESS extractions
       and of Excel « CSV (séparateur : point-virgule) » on Windows; its 5 unassigned bytes become U+FFFD.

    A multi-byte sequence cut by the very end of ``data`` (a prefix read to sniff a file, or a
    truncated file) becomes U+FFFD instead of deciding the encoding.
    """
    label = f"Le fichier {what} {name}" if name else f"Le fichier {what}"
    if data.startswith(UTF16_BOMS):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            if exc.end == len(data) and exc.start > 2:  # cut at the end (sniffed prefix)
                return data[: exc.start].decode("utf-16") + "\ufffd"
            raise DataError(
                f"{label} (UTF-16) est corrompu : octets invalides vers la position {exc.start} "
                f"(ligne {_line_of(data, exc.start)} environ)."
            ) from exc
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    try:
        return data[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        first_error = exc
    offset = bom + first_error.start  # position of the first invalid byte in ``data``
    head = data[bom:offset]
    if (
        first_error.reason == "unexpected end of data"
        and offset + (first_error.end - first_error.start) == len(data)
        and not head.isascii()
    ):
        return head.decode("utf-8") + "\ufffd"
    non_ascii = len(data.translate(None, _ASCII))
    rest, sequences = _UTF8_MULTIBYTE.subn(b"", data)
    stray = non_ascii - (len(data) - len(rest))
    if bom or (sequences and sequences >= stray):
        line = _line_of(data, offset)
        raise DataError(
            f"{label}, ligne {line} : encodage incohérent, le fichier est en UTF-8 mais contient "
            f"{stray} octet(s) invalide(s) (premier à la ligne {line}). Enregistrez-le à nouveau en UTF-8 "
            "(ou entièrement en Windows-1252) puis importez-le."
        )
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
    text = decode_text(data, name, what)
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
            f'{name}, ligne {start} : fichier {what} mal formé, guillemet (") non refermé ou mal placé.'
        ) from exc
    return rows


def _xml_parse_errors() -> tuple[type, ...]:
    """The parse errors of the XML parsers openpyxl may use: the standard library's, and lxml's when it is
    installed (openpyxl then prefers it)."""
    try:
        from lxml.etree import ParseError as LxmlParseError  # noqa: PLC0415 - optional
    except ImportError:
        return (ParseError,)
    return (ParseError, LxmlParseError)


def _xml_error(exc: Exception) -> str:
    position = getattr(exc, "position", None)
    where = f" (ligne {position[0]}, colonne {position[1]} de la partie XML)" if position else ""
    return f"XML mal formé{where}"


def open_workbook(data: bytes, name: str, what: str):
    """An openpyxl workbook (read-only, values) of XLSX bytes, after :func:`geo.sources.limits.check_xlsx`.

    Every failure of openpyxl on the archive (malformed XML, missing part, bad value...) becomes a
    French DataError naming the file; the caller closes the workbook.
    """
    import openpyxl  # noqa: PLC0415 - heavy (about 0.3 s), and only an XLSX input needs it

    check_xlsx(data, name, what)
    try:
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises anything on a corrupt workbook
        raise xlsx_error(exc, name, what) from exc


def xlsx_error(exc: Exception, name: str, what: str) -> DataError:
    """The French DataError for a failure of openpyxl (or of its XML parser) on the workbook ``name``."""
    if isinstance(exc, DataError):
        return exc
    if isinstance(exc, _xml_parse_errors()):
        detail = _xml_error(exc)
    elif isinstance(exc, MemoryError):
        detail = "mémoire insuffisante pour le lire"
    else:
        detail = f"contenu invalide ({type(exc).__name__})"
    return DataError(
        f"Le fichier {name} n'est pas un classeur Excel XLSX lisible ({what}) : {detail}."
    )


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_xlsx(data: bytes, name: str, what: str) -> list[tuple[int, list[str]]]:
    """(row number, cells as text) of the first sheet; at most MAX_SHEET_ROWS rows / MAX_SHEET_CELLS cells."""
    workbook = open_workbook(data, name, what)
    try:
        if not workbook.worksheets:
            raise DataError(f"Le classeur {name} ne contient aucune feuille ({what}).")
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # never pad rows to the (outside, maybe forged) declared dimensions
        rows = []
        for number, row in enumerate(
            limit_rows(sheet.iter_rows(values_only=True), name, what, sheet.title), 1
        ):
            cells = [_cell_text(v) for v in row]
            while cells and not cells[-1].strip():
                cells.pop()
            if cells:  # empty rows are skipped anyway: not kept (a forged sheet can have a million)
                rows.append((number, cells))
        return rows
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - rows are parsed lazily: openpyxl fails here too
        raise xlsx_error(exc, name, what) from exc
    finally:
        workbook.close()


def read_table(
    path,
    what: str,
    columns: dict[str, tuple[str, ...]],
    optional: dict[str, tuple[str, ...]] = None,
    display_name: str | None = None,
) -> pd.DataFrame:
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
    data = read_bytes(path, what, name)
    if data.startswith(b"PK\x03\x04") or path.suffix.lower() in (".xlsx", ".xlsm"):
        rows = _read_xlsx(data, name, what)
        sheet = True
    elif data.startswith(OLE_MAGIC):
        raise DataError(
            f"Le fichier {name} est un classeur Excel 97-2003 (.xls) ou un autre document Office "
            f"ancien ({what}) : enregistrez-le au format XLSX ou CSV, puis importez-le."
        )
    elif is_binary(data):
        raise DataError(
            f"Le fichier {name} n'est pas un tableau CSV ou XLSX ({what}) : c'est un fichier binaire "
            "(image, PDF, archive...)."
        )
    else:
        rows = _read_csv(data, name, what)
        sheet = False
    numbered = [(line, row) for line, row in rows if "".join(row).strip()]
    if not numbered:
        raise DataError(f"Le fichier {what} {name} est vide : rien à importer.")
    header_line, header = numbered[0]
    keys = [column_key(c) for c in header]
    wanted = {
        **{k: (k, *v) for k, v in columns.items()},
        **{k: (k, *v) for k, v in optional.items()},
    }
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
            f"(colonnes trouvées : {seen}).{hint}"
        )
    width = len(header)
    last = max(index.values())
    values: dict[str, list[str]] = {c: [] for c in index}
    lines: list[int] = []
    for line, row in numbered[1:]:
        size = len(row)
        # A sheet has no field count (a missing cell is an empty one): only CSV rows are checked.
        if size != width and not sheet:
            if size < width and last >= size:
                raise DataError(
                    f"{name}, ligne {line} : ligne tronquée ({size} champ(s) au lieu de {width})."
                )
            if size > width and "".join(row[width:]).strip():
                raise DataError(
                    f"{name}, ligne {line} : {size} champs au lieu de {width} "
                    "(séparateur en trop ou guillemets manquants ?)."
                )
        for column, position in index.items():
            values[column].append(row[position].strip() if position < size else "")
        lines.append(line)
    if not lines:
        raise DataError(
            f"Le fichier {what} {name} ne contient qu'une ligne d'en-tête : aucune donnée."
        )
    return pd.DataFrame({**values, "_line": lines}, columns=[*index.keys(), "_line"])


def first_items(items, limit: int = 10) -> str:
    """'a, b, c (et 12 autres)' for messages listing offending values."""
    items = list(items)
    shown = ", ".join(str(i) for i in items[:limit])
    return shown + (f" (et {len(items) - limit} autre(s))" if len(items) > limit else "")
