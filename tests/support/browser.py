"""Fixtures for real-browser tests: the app server and a Chromium page recording requests.

Two kinds of map: the home and coverage pages draw folium maps through streamlit-folium (an iframe:
``map_frame``, ``leaflet_frame``, ``click_latlng``); the drawing page has its own components-v2 map in the
page itself (``div.cartocpts-drawmap``: ``wait_for_drawmap``, ``click_commune``, ``commune_fill``,
``map_view``; see ui/drawmap.py for its DOM contract).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.support.streamlit_server import CHROMIUM, CHROMIUM_ARGS, REPO, StreamlitApp

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
    context = browser.new_context(
        viewport={"width": 1400, "height": 1000},
        accept_downloads=True,
        locale="fr-FR",
        timezone_id="Europe/Paris",
    )  # as the users: French number formats
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
    from geo.base.adjacency import graph
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
    from playwright.sync_api import expect

    box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first
    box.click()
    page.keyboard.type(text)
    # Enter picks the highlighted option: wait until the list is filtered (a slow machine may not have
    # re-rendered it yet, and Enter would pick the first option of the whole list)
    expect(page.locator('[role="option"]').first).to_contain_text(text, timeout=30_000)
    page.keyboard.press("Enter")
    expect(box.get_by_role("combobox")).to_have_value(re.compile(re.escape(text)), timeout=30_000)


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
    point = frame.evaluate(
        f"() => {{ const p = window.map.latLngToContainerPoint([{lat}, {lng}]); "
        "const r = window.map.getContainer().getBoundingClientRect(); "
        "return {x: p.x + r.left, y: p.y + r.top}; }"
    )
    box = frame.frame_element().bounding_box()
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])


# --- the drawing page's map (ui/drawmap.js, no iframe) -----------------------------------------------

DRAWMAP_STATE = "document.querySelector('.cartocpts-drawmap').parentElement.__cartocpts"
UNASSIGNED_FILL = "#f2f2f2"


def drawmap_eval(page, body: str, arg=None):
    """Evaluate ``body`` (an expression using ``s``, the map's JS state, and ``arg``) in the page."""
    return page.evaluate(f"(arg) => {{ const s = {DRAWMAP_STATE}; return ({body}); }}", arg)


def wait_for_drawmap(
    page, scope: str | None = None, pending: bool = False, timeout: float = 180_000
) -> None:
    """Wait until the drawing map shows its communes (of ``scope``, e.g. "dep:09", when given), Streamlit has
    finished its run and, unless ``pending``, every edit made in the browser was acknowledged by the server.
    The first map of a fresh server on a busy 2-core CI machine can take more than a minute: 3 by default."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    wait_for_app(page, timeout=timeout)
    try:
        page.wait_for_function(
            """([scope, pending]) => {
                 const root = document.querySelector('.cartocpts-drawmap');
                 const s = root && root.parentElement.__cartocpts;
                 return !!(s && s.map && root.querySelector('path[class*="c-"]')
                           && (!scope || root.dataset.scope === scope)
                           && (pending || s.pending.length === 0));
               }""",
            arg=[scope, pending],
            timeout=timeout,
        )
    except PlaywrightTimeout as exc:  # say what the map holds: CI keeps only the test's output
        raise AssertionError(f"drawing map not ready ({scope=}): {drawmap_report(page)}") from exc


def drawmap_report(page) -> dict:
    """What the drawing map holds in the browser (for a failure message)."""
    return page.evaluate(
        """() => {
             const root = document.querySelector('.cartocpts-drawmap');
             const s = root && root.parentElement.__cartocpts;
             return {mounted: !!root, leaflet: !!(s && s.map), scope: s ? s.scope : null,
                     shown_scope: root ? root.dataset.scope : null, version: s ? s.version : null,
                     paths: root ? root.querySelectorAll('path[class*="c-"]').length : 0,
                     pending: s ? s.pending.length : null, active: s ? s.active : null,
                     running: !!document.querySelector('[data-testid="stStatusWidget"]'),
                     select: [...document.querySelectorAll('[data-testid="stSidebar"] [role="combobox"]')]
                       .map((e) => e.value)};
           }"""
    )


def wait_for_acknowledged(page, timeout: float = 60_000) -> None:
    """Wait until the server acknowledged every edit the map queued, and Streamlit is idle."""
    page.wait_for_function(f"() => {DRAWMAP_STATE}.pending.length === 0", timeout=timeout)
    wait_for_app(page, timeout=timeout)


def commune_point(page, code: str, latlng: tuple[float, float] | None = None) -> dict:
    """A point of the page (viewport pixels) where a mouse click hits the commune's own path.

    Tries ``latlng`` (e.g. the commune's representative point) first, then a grid over the path's box,
    keeping the first point where ``document.elementFromPoint`` is that path (not a neighbour, the
    message band or a control)."""
    page.locator(f"path.c-{code}").first.scroll_into_view_if_needed()
    point = page.evaluate(
        """([code, latlng, state]) => {
             const s = eval(state);
             const path = document.querySelector('path.c-' + code);
             if (!path) return null;
             const hits = (x, y) => document.elementFromPoint(x, y) === path;
             if (latlng) {
               const p = s.map.latLngToContainerPoint(latlng);
               const r = s.map.getContainer().getBoundingClientRect();
               const x = r.left + p.x, y = r.top + p.y;
               if (hits(x, y)) return {x, y};
             }
             const b = path.getBoundingClientRect();
             for (const n of [4, 8, 16, 32]) {
               for (let i = 1; i < n; i++) for (let j = 1; j < n; j++) {
                 const x = b.left + b.width * i / n, y = b.top + b.height * j / n;
                 if (hits(x, y)) return {x, y};
               }
             }
             return null;
           }""",
        [code, list(latlng) if latlng else None, DRAWMAP_STATE],
    )
    assert point, f"no visible point of commune {code} on the drawing map"
    return point


def click_commune(page, code: str, latlng: tuple[float, float] | None = None) -> None:
    """Click a commune of the drawing map through the real mouse, at a point inside it."""
    point = commune_point(page, code, latlng)
    page.mouse.move(point["x"], point["y"])
    page.mouse.click(point["x"], point["y"])


def commune_fill(page, code: str) -> str | None:
    """The fill colour the drawing map shows for a commune (lower case; ``#f2f2f2`` when unassigned)."""
    fill = page.locator(f"path.c-{code}").first.get_attribute("fill")
    return fill.lower() if fill else fill


def wait_for_fill(page, code: str, colour: str, timeout: float = 30_000) -> None:
    """Wait until the commune's path is filled with ``colour``."""
    page.wait_for_function(
        "([code, colour]) => { const p = document.querySelector('path.c-' + code); "
        "return !!p && (p.getAttribute('fill') || '').toLowerCase() === colour; }",
        arg=[code, colour.lower()],
        timeout=timeout,
    )


def map_view(page) -> list[float]:
    """[zoom, centre latitude, centre longitude] of the drawing map."""
    return drawmap_eval(page, "[s.map.getZoom(), s.map.getCenter().lat, s.map.getCenter().lng]")


def drawmap_message(page) -> str:
    """The text of the message band over the drawing map, when shown, else ''."""
    return page.evaluate(
        "() => { const m = document.querySelector('.cartocpts-drawmap-message'); "
        "return m && m.style.display === 'block' ? m.innerText : ''; }"
    )


def scenario_box(page):
    """The sidebar's « Scénario » select (its value is the scenario shown)."""
    return page.locator('[data-testid="stSidebar"]').get_by_role(
        "combobox", name="Scénario", exact=True
    )


def select_scenario(page, name: str) -> None:
    """Choose a scenario in the sidebar's « Scénario » select (typing its name); when the drawing map was
    showing another scenario, wait until it shows the one chosen (the page's rerun may not have started
    when Streamlit first looks idle)."""
    box = scenario_box(page)
    changing = box.count() > 0 and box.input_value() != name
    before = page.evaluate(_DRAWN_SCENARIO)
    box.click()
    page.keyboard.type(name)
    page.get_by_role("option", name=name, exact=True).click()
    wait_for_app(page)
    if changing and before is not None:
        page.wait_for_function(
            f"(before) => {{ const now = ({_DRAWN_SCENARIO})(); return now !== null && now !== before; }}",
            arg=before,
            timeout=180_000,
        )
        wait_for_app(page)


# the scenario id the drawing map shows (null without a map)
_DRAWN_SCENARIO = """() => {
  const root = document.querySelector('.cartocpts-drawmap');
  const s = root && root.parentElement.__cartocpts;
  return s && s.active ? s.active.scenario : null;
}"""


def create_scenario(page, name: str) -> None:
    """« Nouveau scénario » (or « Créer un scénario ») → « Nom du scénario » → « Créer »."""
    from playwright.sync_api import expect

    sidebar = page.locator('[data-testid="stSidebar"]')
    field = sidebar.get_by_label("Nom du scénario")
    if not field.is_visible():
        sidebar.get_by_text("Nouveau scénario").click()
    field.fill(name)
    sidebar.get_by_role("button", name="Créer", exact=True).click()
    wait_for_app(page)
    expect(scenario_box(page)).to_have_value(name.strip(), timeout=60_000)  # the new one is shown


def create_territory(page, name: str) -> None:
    """« Nouveau territoire » popover → « Nom du territoire » → « Créer le territoire »."""
    page.get_by_role("button", name="Nouveau territoire").click()
    # a rerun may keep the previous popover's body in the page for a moment: use the one shown
    page.get_by_label("Nom du territoire").filter(visible=True).first.fill(name)
    page.get_by_role("button", name="Créer le territoire").filter(visible=True).first.click()
    wait_for_app(page)


def open_drawing_page(
    page, url: str, scope_text: str = "Ariège", scenario: str | None = None, scope: str = "dep:09"
) -> None:
    """Open « Dessiner un territoire », choose the scope (and the scenario), wait for the map."""
    page.goto(f"{url}/Dessiner_un_territoire")
    wait_for_app(page)
    select_scope(page, scope_text)
    wait_for_app(page)
    if scenario is not None:
        wait_for_drawmap(page, scope=scope)  # the scenario shown first (the user's last one)...
        select_scenario(page, scenario)  # ...then the one asked for, once drawn
    wait_for_drawmap(page, scope=scope)


def metric_value(page, label: str) -> str:
    """The value of the first st.metric whose text holds ``label``, spaces removed."""
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return (
        box.locator('[data-testid="stMetricValue"]')
        .inner_text()
        .replace("\u202f", "")
        .replace(" ", "")
    )


def wait_metric(page, label: str, expected: str, timeout: float = 30_000) -> None:
    """Wait until an st.metric whose text holds ``label`` shows ``expected`` (spaces removed)."""
    page.wait_for_function(
        """([label, expected]) => [...document.querySelectorAll('[data-testid="stMetric"]')].some(m =>
             m.innerText.includes(label) &&
             m.querySelector('[data-testid="stMetricValue"]').innerText.replace(/[\\s\\u202f]/g, '') === expected)""",
        arg=[label, expected],
        timeout=timeout,
    )
