"""The territory page in a real browser: click communes, watch the figures, undo, export."""

import json

import pytest

from tests.support.browser import (
    ARTIFACTS,
    UNASSIGNED_FILL,
    assert_no_exception,
    click_commune,
    commune_fill,
    create_scenario,
    create_territory,
    drawmap_eval,
    foreign_requests,
    map_view,
    select_scope,
    wait_for_acknowledged,
    wait_for_app,
    wait_for_drawmap,
    wait_for_fill,
    wait_metric,
)
from tests.support.browser import (
    metric_value as metric,
)

pytestmark = pytest.mark.browser

FOIX = "09122"


def test_click_build_undo_export(page, app_server, communes, tmp_path):
    from geo.territory.context import context

    ctx = context()
    CODES = [FOIX] + sorted(ctx.graph.neighbours(FOIX))[:2]  # Foix and two of its real neighbours
    pops = [ctx.population[c] for c in CODES]
    points = communes.set_index("insee").loc[CODES].geometry.representative_point()

    page.goto(f"{app_server.url}/Dessiner_un_territoire")
    wait_for_app(page)
    select_scope(page, "Ariège")
    wait_for_app(page)
    create_scenario(page, "Essai navigateur")
    create_territory(page, "CPTS du pays de Foix")
    page.get_by_text("CPTS du pays de Foix").first.wait_for()
    wait_for_drawmap(page, scope="dep:09")

    drawmap_eval(page, "s.sentinel = 42")
    view = map_view(page)
    colour = drawmap_eval(page, "s.active.colour").lower()
    total = 0
    for code, pop, pt in zip(CODES, pops, points):
        click_commune(page, code, (pt.y, pt.x))
        total += pop
        wait_metric(page, "Population", str(total))
        wait_for_acknowledged(page)
        assert commune_fill(page, code) == colour
    assert metric(page, "Communes") == "3"
    assert metric(page, "Taille ACI") == "Taille1"
    # the map was not remounted nor moved by the reruns
    assert drawmap_eval(page, "s.sentinel") == 42
    assert map_view(page) == view

    page.get_by_role("button", name="↶ Annuler").click()
    wait_metric(page, "Population", str(total - pops[-1]))
    wait_for_app(page)
    assert metric(page, "Communes") == "2"
    wait_for_fill(page, CODES[-1], UNASSIGNED_FILL)
    assert commune_fill(page, CODES[0]) == colour
    assert map_view(page) == view  # undo keeps the view
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
