"""In a real browser: coverage of Ariège by imported CPTS, a proposal for the uncovered zone, opened for editing."""

import json
import re
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.support.browser import (
    ARTIFACTS,
    UNASSIGNED_FILL,
    assert_no_exception,
    commune_fill,
    foreign_requests,
    map_frame,
    select_scope,
    wait_for_app,
    wait_for_drawmap,
)


@pytest.fixture(scope="module")
def communes(communes_in_use):
    """Expectations add up the populations in use (legal populations in force), never the 2017 ones."""
    return communes_in_use


pytestmark = pytest.mark.browser


def metric(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return (
        box.locator('[data-testid="stMetricValue"]')
        .inner_text()
        .replace("\u202f", "")
        .replace(" ", "")
    )


@pytest.fixture
def ariege_cpts(fresh_app_server, communes, shared_data, tmp_path, monkeypatch):
    """Test fixture: the EPCIs of Ariège taken as CPTS, except the two most populated ones (left uncovered),
    and the FINESS extraction of Occitanie (its MSPs steer the proposal)."""
    from geo.sources.cpts import import_cpts
    from geo.sources.finess import import_finess

    ariege = communes[communes["dep"] == "09"]
    pops = ariege.groupby("epci")["population"].sum().sort_values()
    left_out = list(pops.index[-2:])
    path = tmp_path / "cpts_ariege.csv"
    lines = ["cpts_id;cpts_nom;code_insee"]
    for epci, group in ariege[~ariege["epci"].isin(left_out)].groupby("epci"):
        lines += [f"{epci};CPTS {group['epci_name'].iloc[0]};{code}" for code in group["insee"]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setenv("CARTOCPTS_DATA_DIR", str(fresh_app_server.data_dir))
    import_cpts(path)
    import_finess(shared_data / "finess" / "etalab-cs1100507-occitanie.csv")
    uncovered = ariege[ariege["epci"].isin(left_out)]
    return uncovered


def test_coverage_then_proposal_then_territory_page(fresh_page, fresh_app_server, ariege_cpts):
    page = fresh_page
    expected = int(ariege_cpts["population"].sum())
    page.goto(f"{fresh_app_server.url}/Couverture")
    wait_for_app(page)
    page.wait_for_selector('[data-testid="stSidebar"] [data-testid="stSelectbox"]', timeout=300_000)
    select_scope(page, "09 Ariège")
    page.get_by_text("Ariège (09)").first.wait_for(timeout=60_000)
    page.wait_for_function(
        """(expected) => [...document.querySelectorAll('[data-testid="stMetric"]')].some(m =>
             m.innerText.includes('Population non couverte') &&
             m.querySelector('[data-testid="stMetricValue"]').innerText.replace(/[\\s\\u202f]/g, '') === expected)""",
        arg=str(expected),
        timeout=60_000,
    )
    assert metric(page, "Population non couverte") == str(expected)
    page.get_by_text("Zones non couvertes (communes non couvertes contiguës)").wait_for()
    frame = map_frame(page)
    frame.locator("path.leaflet-interactive").first.wait_for(timeout=30_000)
    assert_no_exception(page)
    page.screenshot(path=str(ARTIFACTS / "coverage_ariege.png"), full_page=True)

    with page.expect_download(
        timeout=60_000
    ) as info:  # a download does not rerun the page (on_click="ignore")
        page.get_by_role("button", name="Communes non couvertes (CSV)").click()
    rows = Path(info.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert (
        rows[0] == "code_insee;nom;departement;population;cluster"
        and len(rows) == len(ariege_cpts) + 1
    )

    # the same map drawn a second time (reload: a cached folium map object used to come back blank)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.reload()
    wait_for_app(page)
    select_scope(page, "09 Ariège")
    page.get_by_text("Ariège (09)").first.wait_for(timeout=60_000)
    wait_for_app(page)
    map_frame(page).locator("path.leaflet-interactive").first.wait_for(timeout=30_000)
    assert errors == []

    page.get_by_role(
        "button", name="Proposer des territoires pour toutes les communes non couvertes"
    ).click()
    page.get_by_role("heading", name="Proposer des territoires").wait_for(timeout=60_000)
    wait_for_app(page)
    page.get_by_text(f"{len(ariege_cpts)} communes").first.wait_for(timeout=30_000)
    assert page.get_by_role(
        "checkbox", name="Regrouper autour des MSP"
    ).is_checked()  # FINESS imported
    page.get_by_role("button", name="Calculer la proposition").click()
    page.get_by_text("territoire(s) proposé(s)").wait_for(timeout=120_000)
    note = page.get_by_text(f"Partie de {len(ariege_cpts)} communes").first
    note.wait_for(timeout=30_000)
    assert "avec une MSP" in note.inner_text()
    wait_for_app(page)
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name="Territoires proposés (GeoJSON)").click()
    doc = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))
    shown = page.get_by_text(re.compile(r"^\d+ territoire\(s\) proposé\(s\)")).first.inner_text()
    assert len(doc["features"]) == int(shown.split()[0])
    exported = sorted(c for f in doc["features"] for c in f["properties"]["communes"])
    assert exported == sorted(ariege_cpts["insee"])
    assert all(f["properties"]["msp_count"] >= 1 for f in doc["features"])
    wait_for_app(page)
    assert_no_exception(page)
    page.screenshot(path=str(ARTIFACTS / "proposal_ariege.png"), full_page=True)

    page.get_by_role(
        "button", name="Créer le scénario et l'ouvrir dans « Dessiner un territoire »"
    ).click()
    page.get_by_role("heading", name="Dessiner un territoire").wait_for(timeout=60_000)
    wait_for_app(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    page.get_by_text("Comparaison des territoires du scénario").wait_for(timeout=60_000)
    box = sidebar.locator('[data-testid="stSelectbox"]').filter(has_text="Scénario")
    page.screenshot(path=str(ARTIFACTS / "proposal_opened.png"), full_page=True)
    chosen = box.inner_text() + " " + " ".join(i.input_value() for i in box.locator("input").all())
    chosen += " " + " ".join(box.locator("[title]").evaluate_all("els => els.map(e => e.title)"))
    assert "Proposition — Communes non couvertes" in chosen, chosen
    wait_for_drawmap(page, scope="dep:09")  # the drawing map shows the proposal's territories
    fills = {code: commune_fill(page, code) for code in ariege_cpts["insee"]}
    assert UNASSIGNED_FILL not in fills.values(), [
        c for c, f in fills.items() if f == UNASSIGNED_FILL
    ][:10]
    assert_no_exception(page)
    page.screenshot(path=str(ARTIFACTS / "proposal_opened.png"), full_page=True)
    assert foreign_requests(page.requests) == []


MARK = str(REPO / "geo" / "coverage" / "regionalise.py").encode()


def regionalise_children() -> list[int]:
    """Pids of running child processes of this checkout that cut a zone (``python <repo>/geo/coverage/regionalise.py``;
    another checkout's tests may run their own at the same time)."""
    from pathlib import Path

    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and MARK in (proc / "cmdline").read_bytes():
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


def test_cancel_a_region_proposal(fresh_page, fresh_app_server):
    """Occitanie (more than 4,000 uncovered communes) is cut in a child process: « Annuler » kills it."""
    page = fresh_page
    page.goto(f"{fresh_app_server.url}/Propositions")
    wait_for_app(page)
    page.get_by_role("heading", name="Proposer des territoires").wait_for(timeout=60_000)
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text="Périmètre")
    box.click()
    page.keyboard.type("Occitanie")
    page.keyboard.press("Enter")
    page.get_by_text("communes non couvertes — Occitanie").first.wait_for(timeout=120_000)
    wait_for_app(page)
    page.get_by_role("button", name="Calculer la proposition").click()
    page.get_by_text(
        re.compile(r"Découpage de la partie 1 sur \d+ \(\d+ communes\) — [1-9]\d* s")
    ).wait_for(timeout=120_000)
    assert regionalise_children(), "the région should be cut in a child process"
    page.screenshot(path=str(ARTIFACTS / "proposal_running.png"), full_page=True)
    page.get_by_role("button", name="Annuler").click()
    page.get_by_text("Calcul de la proposition annulé.").wait_for(timeout=60_000)
    wait_for_app(page)
    assert page.get_by_text("territoire(s) proposé(s)").count() == 0
    assert wait_for_children_gone() == []
    assert_no_exception(page)
    assert foreign_requests(page.requests) == []


def wait_for_children_gone(timeout: float = 10.0) -> list[int]:
    """The cut's child processes still alive after ``timeout`` seconds (killed ones may take a moment to go)."""
    import time

    deadline = time.monotonic() + timeout
    while regionalise_children() and time.monotonic() < deadline:
        time.sleep(0.2)
    return regionalise_children()
