"""In a real browser: the drawing map catches up with what the server sent but never reached it.

Streamlit drops the deltas a run has queued but not yet flushed when the next run starts. The server's
memory of what it sent (ui.drawmap) can therefore be ahead of the browser: a scope's communes or a delta of
colours that never arrived. The browser only hears data that changed, so an unchanged rerun used to leave
it stale for good (CI saw a map that never showed Ariège). Every run's data is now new: the browser
compares the scope, the colours' version and the ids of the names and layers it should hold with what it
holds, and asks for what it lacks.
"""

from __future__ import annotations

import pytest

from tests.support.browser import (
    DRAWMAP_STATE,
    UNASSIGNED_FILL,
    drawmap_eval,
    open_drawing_page,
    wait_for_app,
    wait_for_drawmap,
    wait_for_fill,
)

pytestmark = pytest.mark.browser

FOIX = "09122"
LIVE = "Suivre les modifications de l'équipe"


def rerun_unchanged(page) -> None:
    """A whole-page rerun that changes nothing the map shows (the history panel's follow toggle)."""
    page.get_by_text(LIVE).click()
    wait_for_app(page)


def test_map_catches_up_after_a_lost_delivery(fresh_page, fresh_app_server):
    from geo.store.scenarios import ScenarioStore

    store = ScenarioStore(fresh_app_server.data_dir / "scenarios.sqlite")
    store.create("Livraison", scope="dep:09")
    territory = store.add_territory("Livraison", "T")
    store.change_communes("Livraison", territory, add=[FOIX])
    page = fresh_page
    open_drawing_page(page, fresh_app_server.url, scenario="Livraison")
    colour = drawmap_eval(page, "s.fills[arg][0]", FOIX)
    # the map's own style (static/cartocpts/drawmap.css, not sent with every rerun) is loaded: no empty band
    assert (
        page.evaluate(
            "() => getComputedStyle(document.querySelector('.cartocpts-drawmap-message')).display"
        )
        == "none"
    )
    rerun_unchanged(page)
    rerun_unchanged(page)  # the map's data is now what the server believes the browser holds

    # the scope's communes never arrived: the browser holds another scope
    drawmap_eval(page, "(s.scope = 'perdu', s.root.dataset.scope = 'perdu')")
    rerun_unchanged(page)
    wait_for_drawmap(page, scope="dep:09", timeout=60_000)

    # a delta of colours never arrived: Foix blank, the browser one version behind
    drawmap_eval(
        page,
        "(delete s.fills[arg], s.layers[arg].setStyle({fillColor: '#f2f2f2'}), s.version -= 1)",
        FOIX,
    )
    wait_for_fill(page, FOIX, UNASSIGNED_FILL)
    rerun_unchanged(page)
    wait_for_fill(page, FOIX, colour, timeout=60_000)

    # the territories' names never arrived (nor the colouring under them): the tooltip would name no territory
    drawmap_eval(page, "(s.names = {}, s.held.names = -1, s.held.under = -1)")
    rerun_unchanged(page)
    page.wait_for_function(
        f"([id]) => {DRAWMAP_STATE}.names[id] === 'T'", arg=[territory], timeout=60_000
    )
    assert drawmap_eval(page, "s.held.under") > 0
