"""Fixtures for real-browser tests: the app server and a Chromium page recording requests."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.streamlit_server import CHROMIUM, CHROMIUM_ARGS, REPO, StreamlitApp

ARTIFACTS = REPO / "tests" / "artifacts"


def browser_available() -> str | None:
    """None when browser tests can run, else the reason they cannot."""
    if not Path(CHROMIUM).exists():
        return f"Chromium absent ({CHROMIUM}) : apt-get install -y chromium"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright pour Python absent (pip install -r requirements.txt)"
    from layers.assets import assets_present

    if not assets_present():
        return "Fichiers Leaflet absents : lancez « make assets »"
    return None


def require_browser() -> None:
    """Skip (fail on CI) when Chromium or the Leaflet files are missing."""
    reason = browser_available()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


def recording_page(browser):
    """(context, page) where ``page.requests`` lists every URL the page asked for."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True, locale="fr-FR",
                                  timezone_id="Europe/Paris")  # as the users: French number formats
    page = context.new_page()
    page.requests = []
    page.on("request", lambda req: page.requests.append(req.url))
    return context, page


@pytest.fixture(scope="session")
def app_server(base_dir):
    require_browser()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    app = StreamlitApp(base_dir, ARTIFACTS / "streamlit.log").start()
    yield app
    app.stop()


@pytest.fixture(scope="module")
def fresh_app_server(base_dir, tmp_path_factory):
    """An app server of its own, on a data directory holding only the commune base (for import tests)."""
    from geo.adjacency import graph
    from tests.conftest import link_base

    require_browser()
    graph()
    data = link_base(base_dir, tmp_path_factory.mktemp("fresh") / "data")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    app = StreamlitApp(data, ARTIFACTS / "streamlit-fresh.log").start()
    yield app
    app.stop()


@pytest.fixture
def fresh_page(browser, fresh_app_server):
    context, page = recording_page(browser)
    yield page
    context.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, app_server):
    """A fresh page; ``page.requests`` lists every URL it asked for."""
    context, page = recording_page(browser)
    yield page
    context.close()


def foreign_requests(urls: list[str]) -> list[str]:
    """URLs that left 127.0.0.1 (data: and blob: URLs are local)."""
    out = []
    for url in urls:
        parsed = urlparse(url)
        if parsed.scheme in ("data", "blob", "about", "chrome-extension"):
            continue
        if parsed.hostname not in ("127.0.0.1", "localhost"):
            out.append(url)
    return out


def wait_for_app(page, timeout: float = 60_000) -> None:
    """Wait until Streamlit has finished running the script."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout
    )


def map_frame(page, timeout: float = 60_000):
    """The streamlit-folium iframe, once Leaflet has drawn the map."""
    page.wait_for_selector("iframe[title*='streamlit_folium']", timeout=timeout)
    frame = page.frame_locator("iframe[title*='streamlit_folium']").first
    frame.locator(".leaflet-container").wait_for(timeout=timeout)
    return frame


def assert_no_exception(page) -> None:
    exceptions = page.locator('[data-testid="stException"]')
    assert exceptions.count() == 0, exceptions.first.inner_text()


def wait_for_count(locator, expected: int, tolerance: int = 0, timeout: float = 60.0) -> int:
    """Poll ``locator.count()`` until it is within ``tolerance`` of ``expected``; return the last count."""
    import time

    deadline = time.monotonic() + timeout
    count = locator.count()
    while abs(count - expected) > tolerance and time.monotonic() < deadline:
        time.sleep(0.5)
        count = locator.count()
    return count


def select_scope(page, text: str) -> None:
    """Type into the sidebar's scope select and pick the first match."""
    box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first
    box.click()
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def leaflet_frame(page, timeout: float = 60.0):
    """The Playwright Frame (not locator) of the streamlit-folium map, once ``window.map`` exists."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for frame in page.frames:
            try:
                if frame.evaluate("() => !!(window.map && window.map._loaded)"):
                    return frame
            except Exception:  # noqa: BLE001 - frames come and go during reruns
                continue
        time.sleep(0.3)
    raise AssertionError("Leaflet map not found in any frame")


def click_latlng(page, frame, lat: float, lng: float) -> None:
    """Click the map at a geographic point (through the real mouse, on the real iframe)."""
    point = frame.evaluate(f"() => {{ const p = window.map.latLngToContainerPoint([{lat}, {lng}]); "
                           "const r = window.map.getContainer().getBoundingClientRect(); "
                           "return {x: p.x + r.left, y: p.y + r.top}; }")
    box = frame.frame_element().bounding_box()
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
