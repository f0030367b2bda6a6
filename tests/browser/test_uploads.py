"""In a real browser at 1366 × 768: the « Données » page speaks French and refuses a file of the wrong type.

Streamlit's own uploader texts (« Upload », « 200MB per file ») are replaced by French ones (ui/page_style.py);
a file of another type than the layer's (the DREES APL workbook dropped on the FINESS uploader) is refused on
the server with a French message naming the file, and « Importer » stays disabled: the CSV chosen before is
not imported again in silence. Every column of the layer table fits the page.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import ARTIFACTS, assert_no_exception, wait_for_app
from ui.page_style import UPLOAD_BUTTON, UPLOAD_HINT

pytestmark = pytest.mark.browser

TIMEOUT = 120_000
FINESS = "FINESS (MSP, centres de santé, sièges de CPTS)"


def open_data_page(page, url: str) -> None:
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{url}/Donn%C3%A9es")
    wait_for_app(page, timeout=TIMEOUT)
    # the grid is drawn on a canvas; its cells are also in a hidden table for screen readers
    page.locator('[data-testid="stDataFrame"] th').first.wait_for(state="attached", timeout=TIMEOUT)


def finess_panel(page):
    expander = page.locator('[data-testid="stExpander"]').filter(has_text=FINESS)
    if expander.locator("details").get_attribute("open") is None:
        expander.locator("summary").click()
    expander.locator('[data-testid="stFileUploader"]').first.wait_for(timeout=TIMEOUT)
    return expander


def test_layer_table_fits_1366(fresh_page, fresh_app_server):
    page = fresh_page
    open_data_page(page, fresh_app_server.url)
    table = page.locator('[data-testid="stDataFrame"]').first
    headers = table.locator("th").all_text_contents()
    assert headers == ["Couche", "Source", "Millésime", "Licence", "Lignes", "Importée le"]
    scroller = table.locator(".dvn-scroller").first
    width = scroller.evaluate("e => [e.scrollWidth, e.clientWidth]")
    assert width[0] <= width[1], f"horizontal scroll in the layer table: {width}"
    cells = table.locator("td").all_text_contents()
    assert "34\u202f875" in cells  # the communes' row count in French digits
    page.screenshot(path=str(ARTIFACTS / "donnees-1366.png"))


def test_uploader_in_french_and_wrong_type_refused(fresh_page, fresh_app_server, shared_data):
    page = fresh_page
    open_data_page(page, fresh_app_server.url)
    panel = finess_panel(page)
    uploader = panel.locator('[data-testid="stFileUploader"]').first
    expect(uploader.get_by_role("button", name=UPLOAD_BUTTON)).to_be_visible()
    hint = uploader.locator('[data-testid="stFileUploaderDropzoneInstructions"] > div')
    assert hint.evaluate("e => getComputedStyle(e, '::after').content") == f'"{UPLOAD_HINT}"'
    expect(uploader.get_by_text("Upload", exact=True)).to_be_hidden()  # in the DOM, not displayed
    for english in ("200MB per file", "Browse files", "Drag and drop"):
        expect(uploader.get_by_text(english, exact=False)).to_be_hidden()
    # the drop zone while a file is dragged over it
    uploader.locator('[data-testid="stFileUploaderDropzone"]').dispatch_event(
        "dragenter", {"dataTransfer": page.evaluate_handle("() => new DataTransfer()")}
    )
    shown = uploader.evaluate("e => e.innerText")
    assert "Drag and drop" not in shown
    uploader.locator('[data-testid="stFileUploaderDropzone"]').dispatch_event(
        "dragleave", {"dataTransfer": page.evaluate_handle("() => new DataTransfer()")}
    )

    importer = panel.get_by_role("button", name="Importer", exact=True)
    csv = shared_data / "finess" / "etalab-cs1100507-occitanie.csv"
    uploader.locator('input[type="file"]').set_input_files(str(csv))
    expect(importer).to_be_enabled(timeout=TIMEOUT)

    workbook = shared_data / "apl" / "apl_generalistes_drees_2022_2023.xlsx"
    panel = finess_panel(page)
    panel.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(
        str(workbook)
    )
    error = panel.locator('[data-testid="stAlert"]').filter(has_text=workbook.name)
    expect(error).to_contain_text("n'a pas une extension acceptée ici (csv, txt)", timeout=TIMEOUT)
    expect(error).to_contain_text("Aucun import n'est lancé.")
    expect(panel.get_by_role("button", name="Importer", exact=True)).to_be_disabled()
    expect(page.get_by_text("files are not allowed", exact=False)).to_have_count(0)
    expect(page.get_by_text("Import réussi", exact=False)).to_have_count(0)
    assert not (fresh_app_server.data_dir / "finess.parquet").exists()
    assert_no_exception(page)
    page.screenshot(path=str(ARTIFACTS / "donnees-mauvais-type.png"))


@pytest.fixture(scope="module")
def small_limit_server(base_dir, tmp_path_factory):
    """An app server accepting files of 1 MB at most (Streamlit's server.maxUploadSize)."""
    from tests.conftest import link_base
    from tests.support.browser import require_browser
    from tests.support.streamlit_server import StreamlitApp

    require_browser()
    data = link_base(base_dir, tmp_path_factory.mktemp("small-limit") / "data")
    app = StreamlitApp(
        data, ARTIFACTS / "streamlit-small-limit.log", env={"STREAMLIT_SERVER_MAX_UPLOAD_SIZE": "1"}
    ).start()
    yield app
    app.stop()


def french_shown(locator) -> tuple[str, str]:
    """(font size of the element's own text, its generated content): the English text is hidden, the
    French one shown."""
    return locator.evaluate(
        "e => [getComputedStyle(e).fontSize, getComputedStyle(e, '::after').content]"
    )


def test_file_chip_in_french(browser, small_limit_server, shared_data, tmp_path):
    """The chosen file's size, the « too large » error and the remove button speak French."""
    from tests.support.browser import recording_page

    context, page = recording_page(browser)
    try:
        open_data_page(page, small_limit_server.url)
        panel = finess_panel(page)
        uploader = panel.locator('[data-testid="stFileUploader"]').first
        csv = shared_data / "finess" / "etalab-cs1100507-occitanie.csv"
        small = tmp_path / "finess-extrait.csv"
        small.write_bytes(csv.read_bytes()[:150_000])
        uploader.locator('input[type="file"]').set_input_files(str(small))
        chip = uploader.locator('[data-testid="stFileChip"]').first
        chip.wait_for(timeout=TIMEOUT)
        size = chip.locator('[data-testid="stFileChipName"] + *')
        expect(size).to_have_attribute("data-fr", re.compile(r"^1\d{2}(,\d)?\u00a0Ko$"))
        assert french_shown(size)[0] == "0px"
        expect(chip.locator('[data-testid="stFileChipDeleteBtn"] button')).to_have_attribute(
            "aria-label", "Retirer finess-extrait.csv"
        )

        big = tmp_path / "finess-trop-gros.csv"
        big.write_bytes(csv.read_bytes()[:1_600_000])
        uploader.locator('input[type="file"]').set_input_files(str(big))
        alert = uploader.locator('[data-testid="stFileChip"] [role="alert"]').first
        expect(alert).to_have_attribute(
            "data-fr", "Erreur : Fichier trop volumineux : 1\u00a0Mo au plus."
        )
        font, content = french_shown(alert)
        assert font == "0px" and "Fichier trop volumineux" in content
        expect(page.get_by_text("Taille maximale d'un fichier : 1 Mo.")).to_be_visible()
        alert.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "donnees-fichier-trop-gros.png"))
        assert_no_exception(page)
    finally:
        context.close()
