"""The home page in a real browser: Haute-Garonne's communes drawn offline."""

import pytest

from tests.support.browser import (
    ARTIFACTS,
    assert_no_exception,
    foreign_requests,
    map_frame,
    select_scope,
    wait_for_app,
    wait_for_count,
)

pytestmark = pytest.mark.browser


def test_haute_garonne_map(page, app_server, communes):
    page.goto(app_server.url)
    wait_for_app(page)
    map_frame(page)  # the default scope (Occitanie) draws a map at once
    select_scope(page, "Haute-Garonne")
    page.get_by_text("Haute-Garonne (31)").first.wait_for(timeout=60_000)
    wait_for_app(page)
    frame = map_frame(page)
    expected = int((communes["dep"] == "31").sum())
    # each commune is one interactive SVG path; outlines are not interactive
    drawn = wait_for_count(frame.locator("path.leaflet-interactive"), expected, tolerance=5)
    assert abs(drawn - expected) <= 5, (drawn, expected)
    frame.locator(".cartocpts-legend").wait_for()
    assert_no_exception(page)
    page.screenshot(path=str(ARTIFACTS / "home_haute_garonne.png"), full_page=True)
    assert foreign_requests(page.requests) == []
