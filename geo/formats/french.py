"""Numbers written for French readers: thousands separated by a narrow no-break space, decimal comma.

The one formatter of the app (CLI lines, reports, map tooltips, panels): ``integer(12345)`` gives
« 12 345 », ``decimal(3.9234)`` « 3,92 », ``megabytes(5_242_880)`` « 5 Mo ». A missing value
(None, NaN, pandas' NA) gives « — ». ``date_time`` writes an ISO stamp as Paris time: « 30/11/2026 14:05 ».
"""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd

PARIS = ZoneInfo("Europe/Paris")

NARROW_NBSP = "\u202f"
MISSING = "—"


def _missing(value) -> bool:
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return True
    try:
        return math.isnan(value)
    except TypeError:
        return False


def decimal(value, digits: int = 2) -> str:
    """``value`` with ``digits`` decimals: 12 345,68 (``digits=0`` gives an integer)."""
    if _missing(value):
        return MISSING
    return f"{value:,.{digits}f}".replace(",", NARROW_NBSP).replace(".", ",")


def integer(value) -> str:
    """``value`` rounded to a whole number: 12 345."""
    return decimal(value, 0)


def megabytes(size: float, digits: int = 0) -> str:
    """A size in bytes as mebibytes, the unit French users read as « Mo »: 5 Mo, 1,5 Mo."""
    return f"{decimal(size / 1024 / 1024, digits)} Mo"


def date_time(iso: str | None, between: str = " ") -> str:
    """« 30/11/2026 14:05 » (Paris time) from an ISO 8601 stamp (``between`` goes between the date and the
    time, e.g. " à "); « — » when there is none, the text itself when it is not a stamp."""
    if not iso:
        return MISSING
    try:
        stamp = datetime.fromisoformat(str(iso))
    except ValueError:
        return str(iso)
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(PARIS)
    return stamp.strftime(f"%d/%m/%Y{between}%H:%M")


def column_formats(frame, decimals: dict[str, int] | None = None) -> dict:
    """For each numeric column of a table, the function writing its values in French: ``integer`` for whole
    numbers, ``decimal`` with ``decimals[column]`` digits (1 when not given) for the others. The table keeps its
    numbers (a grid sorts them as numbers) and shows this text (``DataFrame.style.format``)."""
    decimals = decimals or {}
    formats = {}
    for column in frame.columns:
        series = frame[column]
        if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
            continue
        if column not in decimals and pd.api.types.is_integer_dtype(series):
            formats[column] = integer
        else:
            digits = decimals.get(column, 1)
            formats[column] = lambda value, digits=digits: decimal(value, digits)
    return formats
