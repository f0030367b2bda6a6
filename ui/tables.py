"""Tables shown in the pages: numbers written in French whatever the browser's language, sorted as numbers."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.formats import french


def french_table(frame: pd.DataFrame, decimals: dict[str, int] | None = None):
    """``frame`` to give to ``st.dataframe``: its numeric columns shown as « 12 345 » and « 3,92 »
    (``decimals``: digits per column, see ``french.column_formats``) and still numbers, which the grid sorts
    as such and copies as plain digits. A column with missing figures becomes French text (« — »), since the
    grid writes a missing number « None » whatever its displayed text."""
    formats = french.column_formats(frame, decimals)
    gaps = [column for column in formats if frame[column].isna().any()]
    if gaps:
        frame = frame.assign(**{column: frame[column].map(formats.pop(column)) for column in gaps})
    return frame.style.format(formats) if formats else frame


def as_text(frame: pd.DataFrame, decimals: dict[str, int] | None = None) -> pd.DataFrame:
    """``frame`` with its numbers written as French text: for a table resent at every click (the drawing
    page's comparison), where the display values of ``french_table`` would cost about 5 kB and 40 ms per
    rerun; its columns sort as text."""
    formats = french.column_formats(frame, decimals)
    return frame.assign(**{column: frame[column].map(write) for column, write in formats.items()})


def show(frame: pd.DataFrame, decimals: dict[str, int] | None = None, **options):
    """``st.dataframe`` of ``frame`` in French, full width, without the index (``options`` go to it)."""
    options = {"hide_index": True, "width": "stretch", **options}
    return st.dataframe(french_table(frame, decimals), **options)
