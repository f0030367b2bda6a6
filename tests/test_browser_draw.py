"""The territory page in a real browser: click communes, watch the figures, undo, export."""

import json

import pytest

from tests.browser_fixtures import ARTIFACTS, assert_no_exception, click_latlng, foreign_requests, leaflet_frame, select_scope, wait_for_app

pytestmark = pytest.mark.browser

FOIX = "09122"


def metric(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text().replace("\u202f", "").replace(" ", "")


def wait_metric(page, label: str, expected: str, timeout: float = 30_000) -> None:
    page.wait_for_function(
        """([label, expected]) => [...document.querySelectorAll('[data-testid="stMetric"]')].some(m =>
             m.innerText.includes(label) &&
             m.querySelector('[data-testid="stMetricValue"]').innerText.replace(/[\\s\\u202f]/g, '') === expected)""",
        arg=[label, expected], timeout=timeout)


def test_click_build_undo_export(page, app_server, communes, tmp_path):
    from geo.context import context

    ctx = context()
    CODES = [FOIX] + sorted(ctx.graph.neighbours(FOIX))[:2]  # Foix and two of its real neighbours
    pops = [ctx.population[c] for c in CODES]
    points = communes.set_index("insee").loc[CODES].geometry.representative_point()

    page.goto(f"{app_server.url}/Dessiner_un_territoire")
    wait_for_app(page)
    select_scope(page, "Ariège")
    wait_for_app(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_label("Nom du scénario").fill("Essai navigateur")
    sidebar.get_by_role("button", name="Créer").click()
    wait_for_app(page)
    page.get_by_role("button", name="Nouveau territoire").click()
    page.get_by_label("Nom du territoire").fill("CPTS du pays de Foix")
    page.get_by_role("button", name="Créer le territoire").click()
    wait_for_app(page)
    page.get_by_text("CPTS du pays de Foix").first.wait_for()

    frame = leaflet_frame(page)
    frame.evaluate("() => { window.__sentinel = 42; }")
    view = frame.evaluate("() => [window.map.getZoom(), window.map.getCenter().lat, window.map.getCenter().lng]")
    total = 0
    for code, pop, pt in zip(CODES, pops, points):
        click_latlng(page, frame, pt.y, pt.x)
        total += pop
        wait_metric(page, "Population", str(total))
        wait_for_app(page)
    assert metric(page, "Communes") == "3"
    assert metric(page, "Taille ACI") == "Taille1"
    # the map was not reloaded nor moved by the reruns
    assert frame.evaluate("() => window.__sentinel") == 42
    assert frame.evaluate("() => [window.map.getZoom(), window.map.getCenter().lat, window.map.getCenter().lng]") == view

    page.get_by_role("button", name="↶ Annuler").click()
    wait_metric(page, "Population", str(total - pops[-1]))
    wait_for_app(page)
    assert metric(page, "Communes") == "2"
    page.get_by_text("Territoire d'un seul tenant.").wait_for()

    with page.expect_download() as info:
        page.get_by_role("button", name="Télécharger le GeoJSON").click()
    path = tmp_path / "export.geojson"
    info.value.save_as(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection" and "crs" not in data
    (feature,) = data["features"]
    assert feature["properties"]["name"] == "CPTS du pays de Foix"
    assert sorted(feature["properties"]["communes"]) == sorted(CODES[:2])
    assert feature["properties"]["population"] == sum(pops[:2])
    assert_no_exception(page)
    page.screenshot(path=str(ARTIFACTS / "draw_foix.png"), full_page=True)
    assert foreign_requests(page.requests) == []
