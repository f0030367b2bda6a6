"""Team mode in the app: a real server on PostgreSQL, the user named by a trusted proxy header
(CARTOCPTS_USER_HEADER), in Chromium. Each person sees what his role allows; nobody unnamed gets in."""

from __future__ import annotations

import pytest

from geo.store.database import close_pools
from geo.store.scenarios import ScenarioStore
from tests.conftest import link_base
from tests.support.browser import ARTIFACTS, require_browser, wait_for_app
from tests.support.streamlit_server import StreamlitApp

pytestmark = pytest.mark.browser

FOIX = "09122"


@pytest.fixture
def team_app(base_dir, tmp_path, postgres_url):
    from geo.base.adjacency import graph

    require_browser()
    graph()
    admin = ScenarioStore(postgres_url, user="Claire (ARS)")
    admin.add_user("Claire (ARS)", "arbitre")
    admin.add_user("Marc", "editeur")
    admin.add_user("Léa", "lecteur")
    marc = ScenarioStore(postgres_url, user="Marc")
    marc.create("Ariège équipe", scope="dep:09")
    marc.change_communes("Ariège équipe", marc.add_territory("Ariège équipe", "T1"), add=[FOIX])
    marc.create("Brouillon de Marc")
    marc.share("Brouillon de Marc", "prive")
    close_pools()
    data = link_base(base_dir, tmp_path / "data")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    env = {"CARTOCPTS_DATABASE_URL": postgres_url, "CARTOCPTS_USER_HEADER": "X-Remote-User"}
    app = StreamlitApp(data, ARTIFACTS / "streamlit-team.log", env=env).start()
    yield app
    app.stop()


def _page(browser, user: str | None):
    headers = {"X-Remote-User": user} if user else {}
    context = browser.new_context(
        viewport={"width": 1400, "height": 1000}, locale="fr-FR", extra_http_headers=headers
    )
    return context, context.new_page()


def test_users_named_by_the_proxy_see_what_their_role_allows(browser, team_app):
    context, page = _page(browser, "Léa")
    try:
        page.goto(f"{team_app.url}/Dessiner_un_territoire")
        wait_for_app(page)
        page.get_by_text("Connecté : Léa").wait_for(timeout=60_000)  # a UTF-8 name through a header
        body = page.locator('[data-testid="stApp"]').inner_text()
        assert "Brouillon de Marc" not in body  # private to Marc
        page.screenshot(path=str(ARTIFACTS / "team_lea.png"))
    finally:
        context.close()

    context, page = _page(browser, None)
    try:
        page.goto(f"{team_app.url}/Dessiner_un_territoire")
        wait_for_app(page)
        page.get_by_text("Identité absente").wait_for(timeout=60_000)
        assert "Ariège équipe" not in page.locator('[data-testid="stApp"]').inner_text()
    finally:
        context.close()
