"""In a real browser: a bad file for a layer is refused on the « Données » page, the previous layer is kept.

A valid CPTS commune list (test fixture built from real Ariège communes) is
imported through the page first; then two bad files for the same layer (a
truncated line, a missing required column) are uploaded and imported. Each
refusal must be a French message naming the file and the line/column, with no
traceback, and the stored ``cpts`` layer must be exactly as before.

Streamlit re-renders widgets on every rerun, so every interaction re-locates
its element after the app is idle and waits for the state the server sends
back (button enabled/disabled, checkbox checked) instead of sleeping.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
from playwright.sync_api import expect

from tests.support.browser import ARTIFACTS, assert_no_exception, foreign_requests, wait_for_app

pytestmark = pytest.mark.browser

LABEL = "Périmètres des CPTS existantes"
TIMEOUT = 60_000


# --------------------------------------------------------------------------- test fixtures (files in tmp_path)


def ariege_lists(communes) -> list[tuple[str, str, list[str]]]:
    """(cpts_id, cpts_nom, member codes) for the two Ariège EPCIs with the fewest communes (real codes)."""
    ariege = communes[communes["dep"] == "09"]
    sizes = ariege.groupby("epci")["insee"].count().sort_values(kind="stable")
    out = []
    for epci in sizes.index[:2]:
        group = ariege[ariege["epci"] == epci].sort_values("insee")
        out.append((f"T-{epci}", f"CPTS test {group['epci_name'].iloc[0]}", list(group["insee"])))
    return out


def write_lines(path, lines: list[str]):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- page helpers


def settle(page) -> None:
    """Wait until the script has finished and no CSS transition runs (an expander opening or closing
    after a rerun makes its content « not stable », then hidden)."""
    wait_for_app(page)
    page.wait_for_function(
        """() => {
            const busy = document.getAnimations().some(a => a.playState === 'running'
                && a.effect && a.effect.getComputedTiming().endTime !== Infinity);
            window.__quietSince = busy ? null : (window.__quietSince || performance.now());
            return window.__quietSince !== null && performance.now() - window.__quietSince > 300;
        }""",
        polling=100,
        timeout=TIMEOUT,
    )


def cpts_panel(page):
    """The CPTS expander, settled and open (a rerun after a successful import redraws it closed)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    expander = page.locator('[data-testid="stExpander"]').filter(has_text=LABEL)
    uploader = expander.locator('[data-testid="stFileUploader"]')
    for _ in range(
        8
    ):  # a rerun may close it again between a check and the next step: until it shows
        settle(page)
        if uploader.is_visible():
            return expander
        if expander.locator("details").get_attribute("open") is None:
            expander.locator("summary").click()
        try:
            uploader.wait_for(state="visible", timeout=5_000)
        except PlaywrightTimeout:
            continue
    settle(page)
    uploader.wait_for(state="visible", timeout=TIMEOUT)
    return expander


def import_button(page):
    return cpts_panel(page).get_by_role("button", name="Importer", exact=True)


def upload(page, path) -> None:
    """Put ``path`` in the CPTS uploader, removing the previous file first.

    Removing it disables « Importer » (no file): the button enabled again then
    proves the server has the new file (once the replacement is confirmed).
    """
    delete = cpts_panel(page).locator('[data-testid="stFileChipDeleteBtn"] button')
    if delete.count():
        delete.first.click()
        # the rerun may close the expander (see cpts_panel): look for the button even when hidden
        button = (
            page.locator('[data-testid="stExpander"]')
            .filter(has_text=LABEL)
            .get_by_role("button", name="Importer", exact=True, include_hidden=True)
        )
        expect(button).to_be_disabled(timeout=TIMEOUT)
    panel = cpts_panel(page)
    panel.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(path))
    panel.locator(f'[data-testid="stFileChipName"][title="{path.name}"]').wait_for(
        state="attached", timeout=TIMEOUT
    )
    expect(panel.locator('[data-testid="stFileChipIconSpinner"]')).to_have_count(
        0, timeout=TIMEOUT
    )  # uploaded


def replace_box(page):
    return cpts_panel(page).get_by_role(
        "checkbox", name=re.compile(r"^Remplacer la couche actuelle")
    )


def confirm_replacement(page, rows: int) -> None:
    """Tick « Remplacer la couche actuelle (N lignes, ...) », which must name the current layer's size."""
    expect(replace_box(page)).to_have_accessible_name(
        re.compile(rf"\({rows} lignes, "), timeout=TIMEOUT
    )
    if not replace_box(page).is_checked():  # the input is drawn over by its label: click the label
        replace_box(page).locator("xpath=ancestor::label[1]").click()
    expect(replace_box(page)).to_be_checked(timeout=TIMEOUT)


def press_import(page) -> None:
    """Click « Importer » once the server has enabled it (file received, replacement confirmed)."""
    expect(import_button(page)).to_be_enabled(timeout=TIMEOUT)
    import_button(page).click()


def refusal(page, file_name: str) -> str:
    """The text of the refusal shown for ``file_name`` (waits for it)."""
    alert = page.locator('[data-testid="stAlert"]').filter(
        has_text=f"Import refusé : {file_name}, "
    )
    alert.wait_for(timeout=120_000)
    settle(page)
    alert.scroll_into_view_if_needed()  # Streamlit scrolls inside its own container: bring it on screen
    return alert.inner_text()


# --------------------------------------------------------------------------- test


def stored_layer():
    from geo.store import layers as store

    return store.read_layer("cpts"), store.read_meta("cpts")


def test_bad_file_refused_and_previous_layer_kept(
    fresh_page, fresh_app_server, communes, tmp_path, monkeypatch
):
    monkeypatch.setenv("CARTOCPTS_DATA_DIR", str(fresh_app_server.data_dir))
    lists = ariege_lists(communes)
    header = "cpts_id;cpts_nom;code_insee"
    good_lines = [header] + [f"{cid};{name};{code}" for cid, name, codes in lists for code in codes]
    members = len(good_lines) - 1
    # test fixture: real Ariège communes; names as users write them (spaces, accents) must come back unchanged
    good = write_lines(tmp_path / "CPTS Ariège (essai).csv", good_lines)
    # test fixture: the same list with line 4 cut short (no commune code)
    truncated_lines = list(good_lines)
    cid, name, _ = lists[0]
    truncated_lines[3] = f"{cid};{name}"
    truncated = write_lines(tmp_path / "cpts tronqué.csv", truncated_lines)
    # test fixture: the same list whose commune column is named « ville » (the required code_insee is missing)
    no_code = write_lines(
        tmp_path / "cpts_sans_code.csv", ["cpts_id;cpts_nom;ville"] + good_lines[1:]
    )
    assert stored_layer() == (None, None)  # fresh data directory: no CPTS layer yet

    page = fresh_page
    page.goto(f"{fresh_app_server.url}/Données")
    page.get_by_role("heading", name="Importer ou mettre à jour").wait_for(timeout=TIMEOUT)

    # 1. A valid list, imported through the page: the layer exists.
    upload(page, good)
    press_import(page)
    page.get_by_text(f"Import réussi : {good.name}.").wait_for(timeout=120_000)
    wait_for_app(page)
    assert_no_exception(page)
    before, meta = stored_layer()
    assert before is not None and len(before) == members
    assert sorted(before["cpts_id"].unique()) == sorted(cid for cid, _, _ in lists)
    assert meta["file"] == good.name and meta["rows"] == members and meta["imported_at"]

    # 2. A truncated line: refused, naming the file and the line.
    upload(page, truncated)
    confirm_replacement(page, members)
    press_import(page)
    text = refusal(page, truncated.name)
    assert f"{truncated.name}, ligne 4 : ligne tronquée (2 champ(s) au lieu de 3)" in text, text
    assert "La couche précédente est conservée" in text, text
    assert "Traceback" not in page.content() and "Une erreur inattendue" not in page.inner_text(
        "body"
    )
    assert_no_exception(page)
    page.screenshot(path=str(ARTIFACTS / "data_refusal_truncated_line.png"))
    after, meta_after = stored_layer()
    pd.testing.assert_frame_equal(after, before)
    assert meta_after == meta  # same file, imported_at, rows...

    # 3. A missing required column: refused, naming the file, the header line and the column.
    upload(page, no_code)
    confirm_replacement(page, members)  # still ticked, still describing the kept layer
    press_import(page)
    text = refusal(page, no_code.name)
    assert f"{no_code.name}, ligne 1 : colonne(s) « code_insee » absente(s)" in text, text
    assert "« ville »" in text and "La couche précédente est conservée" in text, text
    assert (
        page.get_by_text(f"Import refusé : {truncated.name}").count() == 0
    )  # the old refusal is gone
    assert "Traceback" not in page.content() and "Une erreur inattendue" not in page.inner_text(
        "body"
    )
    assert_no_exception(page)
    page.screenshot(path=str(ARTIFACTS / "data_refusal_missing_column.png"))
    after, meta_after = stored_layer()
    pd.testing.assert_frame_equal(after, before)
    assert meta_after == meta

    # The refused uploads left nothing behind in the data directory.
    uploads = fresh_app_server.data_dir / "uploads"
    assert not uploads.exists() or list(uploads.iterdir()) == []
    assert foreign_requests(page.requests) == []
