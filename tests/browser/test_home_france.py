"""The home page's « France entière » in a real browser: 35,000 communes on a canvas, mainland framed alone,
the five overseas départements in insets, legends that fold, nothing fetched outside."""

import pytest

from tests.support.browser import (
    ARTIFACTS,
    assert_no_exception,
    foreign_requests,
    select_scope,
    wait_for_app,
)

pytestmark = pytest.mark.browser

FRANCE_LAYER = (
    "() => { const g = window.cartocptsLayers && window.cartocptsLayers.Communes;"
    " return !!g && g.cartocptsIds.length > 34000; }"
)


def france_frame(page, timeout: float = 600.0):
    """The map frame once it holds the France commune layer."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for frame in page.frames:  # every frame: the previous scope's map may still be in the page
            try:
                if frame.evaluate(FRANCE_LAYER):
                    return frame
            except Exception:  # noqa: BLE001 - frames come and go during reruns
                continue
        time.sleep(0.5)
    raise AssertionError("France commune layer not drawn")


def test_france_view_frames_mainland_with_overseas_insets(page, app_server, communes):
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(app_server.url)
    wait_for_app(page, timeout=300_000)
    page.wait_for_selector('[data-testid="stSidebar"] [data-testid="stSelectbox"]', timeout=300_000)
    select_scope(page, "France entière")
    page.get_by_text("France entière").first.wait_for(timeout=60_000)
    wait_for_app(page, timeout=600_000)
    frame = france_frame(page)
    polygons = (
        "() => { const g = window.cartocptsLayers.Communes;"
        " return g.cartocptsIds.length - g.cartocptsPoints.length; }"
    )
    assert frame.evaluate(polygons) == int(
        communes.geometry.notna().sum() - communes.geometry.is_empty.sum()
    )
    # mainland and Corsica in view, the overseas départements not (they are in the insets)
    view = frame.evaluate(
        "() => { const b = window.map.getBounds();"
        " return [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()]; }"
    )
    south, west, north, east = view
    assert (
        south < 41.4 and north > 51.0 and west < -4.8 and east > 9.6
    )  # Brest to Bastia, Bonifacio to Dunkerque
    assert (
        south > 30 and west > -20 and east < 25
    )  # not the whole globe: Réunion, Guyane are not framed
    insets = frame.evaluate(
        "() => window.cartocptsInsets.map(i => [i.code, i.map.getBounds().getCenter().lat,"
        " i.map.getBounds().getCenter().lng])"
    )
    assert [code for code, _, _ in insets] == ["971", "972", "973", "974", "976"]
    reunion = next(i for i in insets if i[0] == "974")
    assert -21.5 < reunion[1] < -20.8 and 55.1 < reunion[2] < 55.9
    names = frame.locator(".cartocpts-inset-name").all_inner_texts()
    assert names == ["Guadeloupe", "Martinique", "Guyane", "La Réunion", "Mayotte"]
    # the inset copies the communes of its département (canvas, with their tooltips)
    assert frame.evaluate(
        "() => { let n = 0; window.cartocptsInsets[3].map.eachLayer(l => { if (l.cartocptsIndex !== undefined)"
        " n++; }); return n; }"
    ) == int((communes["dep"] == "974").sum())
    # hovering a commune shows its card and outlines it (the canvas layer finds the commune under the mouse)
    box = frame.frame_element().bounding_box()

    def hover(lat: float, lng: float) -> None:
        x, y = frame.evaluate(
            "([lat, lng]) => { const p = window.map.latLngToContainerPoint([lat, lng]);"
            " const r = window.map.getContainer().getBoundingClientRect(); return [p.x + r.left, p.y + r.top]; }",
            [lat, lng],
        )
        page.mouse.move(box["x"] + x, box["y"] + y)

    hover(43.6045, 1.444)  # Toulouse, the Capitole
    card = frame.locator(".leaflet-tooltip").first
    card.wait_for(timeout=30_000)
    assert "Toulouse" in card.inner_text() and "31555" in card.inner_text()
    outline = frame.locator('#map_div path[stroke="#000000"][stroke-width="2"]')
    assert outline.count() == 1
    hover(46.0, -4.5)  # the Bay of Biscay: no commune, no card
    card.wait_for(state="hidden", timeout=30_000)
    assert outline.count() == 0
    # the legend folds up on a click on its title, and unfolds again
    legend = frame.locator(".cartocpts-legend details").first
    assert legend.get_attribute("open") is not None
    legend.locator("summary").click()
    assert legend.get_attribute("open") is None
    legend.locator("summary").click()
    # Conques-en-Rouergue has no contour: a point at its chef-lieu
    assert frame.evaluate("() => window.cartocptsLayers.Communes.cartocptsPoints.includes('12218')")
    assert_no_exception(page)
    page.screenshot(path=str(ARTIFACTS / "home_france.png"), full_page=True)
    assert foreign_requests(page.requests) == []
