"""Run a page of the app in-process with Streamlit's AppTest, as the server would."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_page(page: str, data_dir: Path | str | None = None, timeout: float = 120, **session):
    """Run ``page`` (``app.py`` or ``pages/…``) from the app's entry point, so page links resolve.

    Streamlit's caches are process-wide and some hold the data directory they were built in (the
    scenario store): they are cleared first, so the page sees ``data_dir`` (default: the current one).
    """
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    if data_dir is not None:
        os.environ["CARTOCPTS_DATA_DIR"] = str(data_dir)
    st.cache_data.clear()
    st.cache_resource.clear()
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=timeout)
    for key, value in session.items():
        app.session_state[key] = value
    if page != "app.py":
        app.switch_page(page)
    app.run()
    return app


def protos(app):
    """Every element proto of the last run of ``app``, depth first."""

    def walk(node):
        proto = getattr(node, "proto", None)
        if proto is not None:
            yield proto
        children = getattr(node, "children", None)
        for child in children.values() if isinstance(children, dict) else children or []:
            yield from walk(child)

    yield from walk(app._tree)


def sent_to_map(app) -> dict | None:
    """The data the page sent to its drawing map in the last run, or None when no map was drawn."""
    import json

    found = [
        json.loads(p.json)
        for p in protos(app)
        if getattr(p, "component_name", "").endswith("cartocpts_drawmap")
    ]
    return found[-1] if found else None
