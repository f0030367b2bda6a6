"""The drawing page tells what it did, in French, on real Ariège communes.

A territory is created (the « Nouveau territoire » popover closes, the panel shows), Saint-Girons is found by
typing « st girons », the comparison table writes its numbers the French way, the scenario's GeoJSON export
imported into a new scenario says « Scénario … créé » and opens it, and a new visit opens the last scenario.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import (
    ARTIFACTS,
    assert_no_exception,
    create_scenario,
    create_territory,
    recording_page,
    scenario_box,
    select_scope,
    wait_for_app,
    wait_for_drawmap,
)

pytestmark = pytest.mark.browser

TIMEOUT = 120_000


def test_feedback_search_numbers_import_and_last_scenario(
    browser, fresh_page, fresh_app_server, tmp_path
):
    page = fresh_page
    page.set_default_timeout(TIMEOUT)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{fresh_app_server.url}/Dessiner_un_territoire")
    wait_for_app(page, timeout=TIMEOUT)
    select_scope(page, "Ariège")
    wait_for_app(page, timeout=TIMEOUT)
    create_scenario(page, "Couserans")
    create_territory(page, "CPTS du Couserans")
    wait_for_drawmap(page, scope="dep:09", timeout=TIMEOUT)
    # the popover is closed: the panel beside the map is not covered
    expect(page.get_by_label("Nom du territoire")).to_be_hidden(timeout=30_000)

    # search with « St »
    page.get_by_role("textbox", name="Nom ou code INSEE").fill("st girons")
    page.get_by_role("textbox", name="Nom ou code INSEE").press("Enter")
    wait_for_app(page, timeout=TIMEOUT)
    results = page.get_by_role("combobox", name="Résultats")
    expect(results).to_have_value(re.compile(r"^Saint-Girons \(09261"), timeout=TIMEOUT)
    page.get_by_role("button", name="Ajouter au territoire").click()
    wait_for_app(page, timeout=TIMEOUT)

    # French numbers in the comparison table (its cells are also in the grid's hidden table)
    heading = page.get_by_text("Comparaison des territoires du scénario")
    heading.scroll_into_view_if_needed()
    table = (
        page.locator('[data-testid="stDataFrame"]')
        .filter(has=page.locator("th", has_text="Territoire"))
        .last
    )
    cells = table.locator("td")
    expect(cells.first).to_be_attached(timeout=TIMEOUT)
    # once Saint-Girons is in (about 6 000 inhabitants): « 6 xxx » with a narrow no-break space
    grouped = re.compile(r"^\d{1,3}(\u202f\d{3})+$")
    expect(cells.filter(has_text=grouped).first).to_be_attached(timeout=TIMEOUT)
    texts = cells.all_text_contents()
    # the grid puts only the columns in view in its table: widen the window for the decimal ones (area,
    # density), then come back to 1366 px
    page.set_viewport_size({"width": 3000, "height": 768})
    heading.scroll_into_view_if_needed()
    decimal = re.compile(r"^\d+,\d+$")
    expect(cells.filter(has_text=decimal).first).to_be_attached(timeout=TIMEOUT)
    texts += cells.all_text_contents()
    page.set_viewport_size({"width": 1366, "height": 768})
    assert "CPTS du Couserans" in texts
    assert any(re.fullmatch(r"\d{1,3}(\u202f\d{3})+", t) for t in texts), texts  # 6 000 and more
    assert any(re.fullmatch(r"\d+,\d+", t) for t in texts), repr(
        texts
    )  # area, density: decimal comma
    assert not any(re.fullmatch(r"\d+\.\d+", t) for t in texts), texts

    # export, then import into a new scenario: « Scénario … créé », and it is opened
    with page.expect_download() as info:
        page.get_by_role("button", name="Télécharger le GeoJSON").click()
    export = tmp_path / "couserans.geojson"
    info.value.save_as(export)
    page.get_by_text("Importer un export (GeoJSON ou CSV) dans un nouveau scénario").click()
    page.get_by_role("textbox", name="Nom du nouveau scénario").fill("Couserans importé")
    page.get_by_role("textbox", name="Nom du nouveau scénario").press("Enter")
    wait_for_app(page, timeout=TIMEOUT)
    expander = page.locator('[data-testid="stExpander"]').filter(has_text="Importer un export")
    expander.locator('input[type="file"]').set_input_files(str(export))
    button = expander.get_by_role("button", name="Importer", exact=True)
    expect(button).to_be_enabled(timeout=TIMEOUT)
    button.click()
    wait_for_app(page, timeout=TIMEOUT)
    expect(
        page.locator('[data-testid="stAlert"]').filter(
            has_text="Scénario « Couserans importé » créé"
        )
    ).to_be_visible(timeout=TIMEOUT)
    expect(scenario_box(page)).to_have_value("Couserans importé", timeout=TIMEOUT)
    assert_no_exception(page)
    page.screenshot(path=str(ARTIFACTS / "dessiner-import.png"))

    # a new visit (another browser session) opens the last scenario used
    context, other = recording_page(browser)
    try:
        other.set_default_timeout(TIMEOUT)
        other.goto(f"{fresh_app_server.url}/Dessiner_un_territoire")
        wait_for_app(other, timeout=TIMEOUT)
        expect(scenario_box(other)).to_have_value("Couserans importé", timeout=TIMEOUT)
    finally:
        context.close()
