"""The « Arbitrages » page in Chromium, team mode on PostgreSQL (users named by a trusted proxy header): an
arbitre settles a commune claimed by two shared scenarios; the page shows « arbitré » to everybody (a page
left open follows without a reload), and the losing territory is told in its panel of the drawing page."""

from __future__ import annotations

import pytest

from geo.store.database import close_pools
from geo.store.disputes import DisputeLedger
from geo.store.scenarios import ScenarioStore
from tests.conftest import link_base
from tests.support.browser import (
    ARTIFACTS,
    assert_no_exception,
    map_frame,
    require_browser,
    wait_for_app,
)
from tests.support.streamlit_server import StreamlitApp

pytestmark = pytest.mark.browser

FOIX, PAMIERS = "09122", "09225"
ARBITRE, MARC, PAUL = "Claire (ARS)", "Marc", "Paul"
PAUL_SCENARIO, MARC_SCENARIO = "Ariège A — Paul", "Ariège B — Marc"  # Paul's first in the lists
WINNER = f"« CPTS du Pays de Foix » (scénario « {MARC_SCENARIO} », {MARC})"


@pytest.fixture
def ledger_app(base_dir, tmp_path, postgres_url):
    from geo.base.adjacency import graph

    require_browser()
    graph()
    admin = ScenarioStore(postgres_url, user=ARBITRE)
    admin.add_user(ARBITRE, "arbitre")
    admin.add_user(MARC, "editeur")
    admin.add_user(PAUL, "editeur")
    marc, paul = ScenarioStore(postgres_url, user=MARC), ScenarioStore(postgres_url, user=PAUL)
    marc.create(MARC_SCENARIO, scope="dep:09")
    marc.change_communes(
        MARC_SCENARIO,
        marc.add_territory(MARC_SCENARIO, "CPTS du Pays de Foix"),
        add=[FOIX, PAMIERS],
    )
    paul.create(PAUL_SCENARIO, scope="dep:09")
    paul.change_communes(
        PAUL_SCENARIO, paul.add_territory(PAUL_SCENARIO, "<b>Basse Ariège</b>"), add=[PAMIERS]
    )
    close_pools()
    data = link_base(base_dir, tmp_path / "data")
    (data / "preferences.json").write_text('{"scope": "dep:09"}', encoding="utf-8")  # Ariège first
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    env = {"CARTOCPTS_DATABASE_URL": postgres_url, "CARTOCPTS_USER_HEADER": "X-Remote-User"}
    app = StreamlitApp(data, ARTIFACTS / "streamlit-arbitrages.log", env=env).start()
    yield app, postgres_url
    app.stop()


def _page(browser, user: str):
    context = browser.new_context(
        viewport={"width": 1400, "height": 1100},
        locale="fr-FR",
        timezone_id="Europe/Paris",
        extra_http_headers={"X-Remote-User": user},
    )
    return context, context.new_page()


WAIT = 180_000  # ms: the machine running the tests may be busy


def _see(page, text: str, shot: str) -> None:
    """Wait for ``text`` on the page; a screenshot in tests/artifacts either way."""
    try:
        page.get_by_text(text).first.wait_for(timeout=WAIT)
    finally:
        page.screenshot(path=str(ARTIFACTS / f"{shot}.png"))


def test_an_arbitre_settles_a_dispute(browser, ledger_app):
    app, url = ledger_app
    # Paul (an editeur) has the page open before the decision: it follows without a reload
    paul_context, paul_page = _page(browser, PAUL)
    paul_page.goto(f"{app.url}/Arbitrages", timeout=WAIT)
    wait_for_app(paul_page, timeout=WAIT)
    map_frame(paul_page, timeout=WAIT)
    context, page = _page(browser, ARBITRE)
    try:
        page.goto(f"{app.url}/Arbitrages", timeout=WAIT)
        wait_for_app(page, timeout=WAIT)
        _see(page, "Arbitrer une commune", "arbitrages_claire_form")
        map_frame(page, timeout=WAIT)  # the folium map of the disputed communes is drawn
        main = page.locator('[data-testid="stMain"]')
        winner = main.locator('[data-testid="stSelectbox"]').filter(
            has=page.locator('[data-testid="stWidgetLabel"]', has_text="Territoire gagnant")
        )
        winner.click()
        page.get_by_role("option", name=WINNER, exact=True).click()
        wait_for_app(page, timeout=WAIT)
        page.get_by_role("button", name="Enregistrer la décision").click()
        wait_for_app(page, timeout=WAIT)
        _see(page, "Pamiers (09225) : arbitré en faveur de", "arbitrages_claire")
        assert_no_exception(page)
    finally:
        context.close()

    dispute = DisputeLedger(ScenarioStore(url, user=PAUL)).dispute(PAMIERS)
    assert dispute.status == "arbitré" and dispute.decided_by == ARBITRE
    assert dispute.winner_label == WINNER

    # Paul's page, never reloaded, shows the decision; he is told in his territory's panel.
    page = paul_page
    try:
        decided = page.get_by_text(
            f"Pamiers (09225) : arbitré en faveur de {WINNER}, par {ARBITRE}"
        )
        decided.wait_for(timeout=60_000)
        page.screenshot(path=str(ARTIFACTS / "arbitrages_paul.png"))
        body = page.locator('[data-testid="stApp"]').inner_text()
        assert "Arbitrer une commune" not in body  # no decision form for an editeur
        page.goto(
            f"{app.url}/Dessiner_un_territoire", timeout=WAIT
        )  # Ariège, Paul's scenario first
        wait_for_app(page, timeout=WAIT)
        _see(page, "Arbitrage : 1 commune(s) de ce territoire", "arbitrages_paul_panel")
        notice = page.locator('[data-testid="stAlert"]').filter(has_text="Arbitrage").inner_text()
        assert "Pamiers (09225) : arbitré en faveur de" in notice and ARBITRE in notice
        assert_no_exception(page)
    finally:
        paul_context.close()
