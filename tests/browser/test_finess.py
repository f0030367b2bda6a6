"""In a real browser: import the shared FINESS file through the « Données » page, then see Ariège's MSPs."""

import html

import pytest

from tests.support.browser import (
    ARTIFACTS,
    assert_no_exception,
    foreign_requests,
    leaflet_frame,
    select_scope,
    wait_for_app,
)

pytestmark = pytest.mark.browser

FINESS_FILE = "finess/etalab-cs1100507-occitanie.csv"


def test_import_finess_then_msp_markers_in_ariege(
    fresh_page, fresh_app_server, shared_data, communes
):
    from geo.sources.finess import parse_finess

    page = fresh_page
    source = shared_data / FINESS_FILE
    parsed, _ = parse_finess(source, communes)
    ariege = parsed[(parsed["kind"] == "msp") & parsed["insee"].str.startswith("09")]
    assert len(ariege) > 0

    # Before the import the home page says where to get FINESS instead of showing an empty control.
    page.goto(fresh_app_server.url)
    wait_for_app(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Couches sans données (4)").click()
    sidebar.get_by_text("MSP, centres de santé, sièges de CPTS (FINESS)").wait_for(timeout=60_000)

    page.goto(f"{fresh_app_server.url}/Données")
    wait_for_app(page)
    page.get_by_role("heading", name="Importer ou mettre à jour").wait_for(timeout=60_000)
    wait_for_app(page)
    expander = page.locator('[data-testid="stExpander"]').filter(
        has_text="FINESS (MSP, centres de santé"
    )
    uploader = expander.locator('[data-testid="stFileUploader"]')
    for _ in range(3):  # open the expander (a late rerun may redraw it closed)
        if uploader.is_visible():
            break
        expander.get_by_text("FINESS (MSP, centres de santé, sièges de CPTS) — absente").click()
        page.wait_for_timeout(500)
    uploader.wait_for(state="visible", timeout=30_000)
    uploader.locator('input[type="file"]').set_input_files(str(source))
    uploader.get_by_text("3.6MB").wait_for(
        timeout=30_000
    )  # the file is uploaded (its name is shortened)
    button = expander.get_by_role("button", name="Importer", exact=True)
    page.wait_for_function("(b) => !b.disabled", arg=button.element_handle(), timeout=30_000)
    button.click()
    page.get_by_text("Import réussi").wait_for(timeout=120_000)
    report = (
        page.locator('[data-testid="stExpander"]').filter(has_text="Import réussi").inner_text()
    )
    assert "372" in report and "280" in report and "82" in report, report
    assert_no_exception(page)

    page.goto(fresh_app_server.url)
    wait_for_app(page)
    select_scope(page, "Ariège")
    page.get_by_text("Ariège (09)").first.wait_for(timeout=60_000)
    wait_for_app(page)
    assert page.get_by_role("checkbox", name="MSP").is_checked()
    frame = leaflet_frame(page)
    # MSPs only (the default): one marker per MSP of Ariège, fewer than the clustering threshold
    frame.wait_for_function(
        f"() => document.querySelectorAll('.cartocpts-structure').length === {len(ariege)}",
        timeout=60_000,
    )
    names = frame.evaluate("""() => { const out = []; window.map.eachLayer(l => {
        if (l instanceof L.Marker && l.getTooltip()) out.push(l.getTooltip().getContent()); }); return out; }""")
    assert "MAISON DE SANTE PLURIPROFESSIONNELLE DU PAYS DE FOIX" in names
    assert sorted(names) == sorted(
        html.escape(n.strip()) for n in ariege["name"]
    )  # escaped in the tooltip
    assert_no_exception(page)
    page.screenshot(path=str(ARTIFACTS / "home_ariege_msp.png"), full_page=True)
    assert foreign_requests(page.requests) == []
