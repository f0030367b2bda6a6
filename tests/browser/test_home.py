"""The home page in a real browser: Haute-Garonne's communes drawn offline."""

import pytest

from tests.support.browser import (
    ARTIFACTS,
    assert_no_exception,
    foreign_requests,
    leaflet_frame,
    map_frame,
    select_scope,
    wait_for_app,
)

pytestmark = pytest.mark.browser


def test_haute_garonne_map(page, app_server, communes):
    page.goto(app_server.url)
    wait_for_app(page)
    map_frame(page, timeout=240_000)  # the default scope (Occitanie) draws a map at once
    select_scope(page, "Haute-Garonne")
    page.get_by_text("Haute-Garonne (31)").first.wait_for(timeout=60_000)
    wait_for_app(page)
    map_frame(page, timeout=240_000).locator(".cartocpts-legend").wait_for(timeout=240_000)
    expected = int((communes["dep"] == "31").sum())
    # every commune is one polygon of the canvas layer (its ids are kept for tests)
    frame = leaflet_frame(page)
    drawn = frame.evaluate("() => window.cartocptsLayers.Communes.cartocptsIds.length")
    assert drawn == expected, (drawn, expected)
    assert_no_exception(page)
    page.screenshot(path=str(ARTIFACTS / "home_haute_garonne.png"), full_page=True)
    assert foreign_requests(page.requests) == []
