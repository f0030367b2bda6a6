"""axe-core (npm ``axe-core``, fetched at set-up by scripts/fetch_assets.py) on every page of the app.

Each page is opened at 1366 × 768, its script run to the end; axe-core is injected into the page
(``page.add_script_tag``) and run on the document: no « serious » or « critical » violation (WCAG 2 A/AA
rules and axe's best practices). The maps drawn by streamlit-folium live in iframes of their own and are
left out (``iframes: false``): they are Leaflet's markup, checked apart from the pages' controls.

A keyboard walk checks that the controls of the « Données » page are reached with Tab alone: open a layer's
panel with Enter, reach its « Choisir un fichier » button.
"""

from __future__ import annotations

import json

import pytest

from scripts.fetch_assets import AXE_SCRIPT
from tests.support.browser import (
    ARTIFACTS,
    assert_no_exception,
    create_scenario,
    create_territory,
    select_scope,
    wait_for_app,
    wait_for_drawmap,
)
from ui.page_style import UPLOAD_BUTTON

pytestmark = pytest.mark.browser

TIMEOUT = 120_000
BLOCKING = ("serious", "critical")
PAGES = {
    "accueil": "",
    "donnees": "Donn%C3%A9es",
    "dessiner": "Dessiner_un_territoire",
    "couverture": "Couverture",
    "propositions": "Propositions",
}


def settled(page) -> None:
    """The script has finished and no element is faded as stale (axe would measure the faded colours)."""
    wait_for_app(page, timeout=TIMEOUT)
    page.wait_for_function(
        "() => !document.querySelector('[data-stale=\"true\"]')", timeout=TIMEOUT
    )
    # the app's style sheet (ui/page_style.py: caption contrast, French uploader) is in the page
    page.wait_for_function(
        "() => [...document.querySelectorAll('style')].some(s => s.textContent.includes('stCaptionContainer'))",
        timeout=TIMEOUT,
    )


def violations(page) -> list[dict]:
    """axe-core's serious and critical violations on the page (the maps' own iframes left out)."""
    if not AXE_SCRIPT.is_file():
        pytest.fail(f"axe-core absent ({AXE_SCRIPT}) : lancez « make assets »")
    page.add_script_tag(path=str(AXE_SCRIPT))
    found = page.evaluate(
        """async () => {
             const result = await axe.run(document, {iframes: false, resultTypes: ['violations']});
             return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
               nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html.slice(0, 300),
                 summary: n.failureSummary}))}));
           }"""
    )
    return [v for v in found if v["impact"] in BLOCKING]


@pytest.fixture(scope="module")
def drawn(browser, fresh_app_server):
    """A scenario with a territory in the fresh data directory, so the drawing page shows all its controls."""
    from tests.support.browser import recording_page

    context, page = recording_page(browser)
    page.set_default_timeout(TIMEOUT)
    page.goto(f"{fresh_app_server.url}/Dessiner_un_territoire")
    wait_for_app(page, timeout=TIMEOUT)
    select_scope(page, "Ariège")
    wait_for_app(page, timeout=TIMEOUT)
    create_scenario(page, "Accessibilité")
    create_territory(page, "CPTS du Couserans")
    wait_for_drawmap(page, scope="dep:09", timeout=TIMEOUT)
    context.close()
    return "Accessibilité"


@pytest.mark.parametrize("name", list(PAGES))
def test_no_serious_violation(fresh_page, fresh_app_server, drawn, name):
    page = fresh_page
    page.set_default_timeout(TIMEOUT)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{fresh_app_server.url}/{PAGES[name]}")
    settled(page)
    if name == "donnees":  # a layer's panel open: its uploader, options and buttons are checked too
        page.locator('[data-testid="stExpander"] summary').first.click()
        page.locator('[data-testid="stFileUploader"]').first.wait_for()
    if name == "dessiner":
        wait_for_drawmap(page, timeout=TIMEOUT)
    settled(page)
    assert_no_exception(page)
    found = violations(page)
    page.screenshot(path=str(ARTIFACTS / f"axe-{name}.png"))
    assert found == [], json.dumps(found, ensure_ascii=False, indent=1)[:4000]


def test_data_page_controls_reached_with_the_keyboard(fresh_page, fresh_app_server):
    page = fresh_page
    page.set_default_timeout(TIMEOUT)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{fresh_app_server.url}/Donn%C3%A9es")
    settled(page)

    def tab_to(test: str, limit: int = 80) -> bool:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(test):
                return True
        return False

    assert tab_to("() => document.activeElement.tagName === 'SUMMARY'"), (
        "no expander reached by Tab"
    )
    page.keyboard.press("Enter")
    page.locator('[data-testid="stFileUploader"]').first.wait_for()
    settled(page)
    reached = tab_to(
        f"() => document.activeElement.closest('[data-testid=\"stFileUploader\"]') !== null"
        f" && document.activeElement.getAttribute('aria-label') === {json.dumps(UPLOAD_BUTTON)}"
    )
    assert reached, "the uploader's button is not reached by Tab"
    outline = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, s.outlineWidth, s.boxShadow]; }"
    )
    assert outline[0] != "none" or outline[2] != "none", f"no visible focus: {outline}"
