"""What the benches share: a throwaway data directory holding the commune base, and an app server with a
headless Chromium on it (``tests.support`` starts both the same way for the browser tests)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def prepare_data_dir(target: Path, base_dir: Path | None) -> None:
    """Make ``target`` (a new directory) the data directory: links to ``base_dir``'s commune base (and its
    populations, contour-less points), or a base built from the sources."""
    from geo.base.communes import BASE_LAYERS
    from tests.conftest import link_base

    os.environ["CARTOCPTS_DATA_DIR"] = str(target)
    if base_dir is not None and all((base_dir / f"{n}.parquet").exists() for n in BASE_LAYERS):
        link_base(base_dir, target)
    else:
        target.mkdir(parents=True, exist_ok=True)
        from geo.base.communes import build_base

        build_base()
    from geo.base.adjacency import graph

    graph()


@contextlib.contextmanager
def data_dir(base_dir: Path | None, prefix: str):
    """A temporary data directory made current (``CARTOCPTS_DATA_DIR``) with the commune base of
    ``base_dir`` (or one built); the previous data directory is current again afterwards."""
    previous = os.environ.get("CARTOCPTS_DATA_DIR")
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        data = Path(tmp) / "data"
        try:
            prepare_data_dir(data, base_dir)
            yield data
        finally:
            if previous is None:
                os.environ.pop("CARTOCPTS_DATA_DIR", None)
            else:
                os.environ["CARTOCPTS_DATA_DIR"] = previous


@contextlib.contextmanager
def app_and_browser(data: Path):
    """``streamlit run app.py`` on ``data`` (its log beside it) and a headless Chromium: (app, browser)."""
    from playwright.sync_api import sync_playwright

    from tests.support.streamlit_server import CHROMIUM, CHROMIUM_ARGS, StreamlitApp

    app = StreamlitApp(data, data.parent / "streamlit.log").start()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            try:
                yield app, browser
            finally:
                browser.close()
    finally:
        app.stop()
