"""The home page in a real browser: Haute-Garonne's communes drawn offline."""

import time

import pytest

from tests.support.browser import (
    ARTIFACTS,
    assert_no_exception,
    foreign_requests,
    map_frame,
    select_scope,
    wait_for_app,
)

pytestmark = pytest.mark.browser


COUNT = (
    "() => (window.cartocptsLayers && window.cartocptsLayers.Communes)"
    " ? window.cartocptsLayers.Communes.cartocptsIds.length : -1"
)


def wait_for_layer(page, expected: int, timeout: float = 240.0) -> list[int]:
    """The commune counts of the page's map frames, once one of them holds ``expected`` communes (every
    frame is read: the previous scope's map may still be in the page while the new one is drawn)."""
    deadline = time.monotonic() + timeout
    while True:
        counts = []
        for frame in page.frames:
            try:
                counts.append(frame.evaluate(COUNT))
            except Exception:  # noqa: BLE001 - frames come and go during reruns
                continue
        if expected in counts or time.monotonic() > deadline:
            return counts
        time.sleep(0.5)


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
    drawn = wait_for_layer(page, expected)
    assert expected in drawn, (drawn, expected)
    assert_no_exception(page)
    page.screenshot(path=str(ARTIFACTS / "home_haute_garonne.png"), full_page=True)
    assert foreign_requests(page.requests) == []
