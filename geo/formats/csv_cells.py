"""CSV cells that a spreadsheet would run as a formula: the one boundary for every CSV the app writes.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
is read by Excel and LibreOffice as a formula (OWASP « CSV injection »).
:func:`neutralise_cell` prefixes such a cell with a single quote, the
spreadsheet convention for « text, not formula »; :func:`restore_cell` takes
that quote off again when the app reads one of its own exports back.
Numbers are left alone (``-1.5`` stays a number).
"""

from __future__ import annotations

import csv
import io
import numbers

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value):
    """``value`` as written in a CSV cell: text starting like a formula gets a leading ``'``."""
    if value is None or isinstance(value, (bool, numbers.Number)):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def restore_cell(text: str) -> str:
    """The inverse of :func:`neutralise_cell` for a cell read back from a CSV."""
    if len(text) > 1 and text[0] == "'" and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


def csv_bytes(header, rows, delimiter: str = ";", bom: bool = True) -> bytes:
    """A whole CSV (UTF-8, BOM for spreadsheet users by default) with every cell neutralised."""
    buf = io.StringIO()
    writer = csv.writer(
        buf, delimiter=delimiter, lineterminator="\r\n"
    )  # RFC 4180; a CR in a cell gets quoted
    writer.writerow([neutralise_cell(c) for c in header])
    for row in rows:
        writer.writerow([neutralise_cell(c) for c in row])
    return (("\ufeff" if bom else "") + buf.getvalue()).encode("utf-8")
