"""In a real browser: a click is saved at once and survives a page refresh and a killed server."""

import pytest

from tests.browser_fixtures import ARTIFACTS, assert_no_exception, click_latlng, recording_page, require_browser, leaflet_frame, select_scope, wait_for_app
from tests.conftest import link_base
from tests.streamlit_server import StreamlitApp

pytestmark = pytest.mark.browser

FOIX = "09122"


def wait_population(page, expected: int) -> None:
    page.wait_for_function(
        """(expected) => [...document.querySelectorAll('[data-testid="stMetric"]')].some(m =>
             m.innerText.includes('Population') &&
             m.querySelector('[data-testid="stMetricValue"]').innerText.replace(/[\\s\\u202f]/g, '') === expected)""",
        arg=str(expected), timeout=60_000)


def open_draw_page(browser, app):
    context, page = recording_page(browser)
    page.goto(f"{app.url}/Dessiner_un_territoire")
    wait_for_app(page)
    select_scope(page, "Ariège")
    wait_for_app(page)
    page.get_by_text("Territoire de test").first.wait_for(timeout=60_000)
    return context, page


def test_click_survives_refresh_and_server_restart(browser, base_dir, communes, tmp_path, monkeypatch):
    from geo.adjacency import graph
    from geo.scenarios import ScenarioStore

    require_browser()
    graph()
    data = link_base(base_dir, tmp_path / "data")
    monkeypatch.setenv("CARTOCPTS_DATA_DIR", str(data))
    store = ScenarioStore()
    store.create("Persistance", scope="dep:09")
    store.add_territory("Persistance", "Territoire de test")
    foix = communes.set_index("insee").loc[FOIX]
    point = foix.geometry.representative_point()
    population = int(foix["population"])

    app = StreamlitApp(data, ARTIFACTS / "streamlit-persistence.log").start()
    try:
        context, page = open_draw_page(browser, app)
        click_latlng(page, leaflet_frame(page), point.y, point.x)
        wait_population(page, population)
        # saved at once, by the click itself
        assert ScenarioStore().get("Persistance").territories[0].communes == {FOIX}
        page.reload()
        wait_for_app(page)
        select_scope(page, "Ariège")
        wait_population(page, population)
        assert_no_exception(page)
        context.close()
    finally:
        app.kill()  # no clean shutdown

    app = StreamlitApp(data, ARTIFACTS / "streamlit-persistence-2.log").start()
    try:
        context, page = open_draw_page(browser, app)
        wait_population(page, population)
        assert_no_exception(page)
        page.screenshot(path=str(ARTIFACTS / "persistence_after_restart.png"), full_page=True)
        context.close()
    finally:
        app.stop()
    assert ScenarioStore().integrity_check() == "ok"
