"""Team mode across two app servers (two ports, as two instances behind a proxy) on one real PostgreSQL, in
Chromium: each person is named by the trusted proxy header (CARTOCPTS_USER_HEADER), each in a browser
context of his own.

The tests below are the steps of one working session, run in this order on the same scenario (module
fixtures: the servers, the people's pages); each step starts from the state the previous ones left. To add a
step, write one more ``test_…`` function at its place in the story, using the ``team`` fixture.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest

from geo.store.database import close_pools
from geo.store.scenarios import ScenarioStore
from tests.conftest import link_base
from tests.support.browser import (
    ARTIFACTS,
    UNASSIGNED_FILL,
    assert_no_exception,
    click_commune,
    open_drawing_page,
    require_browser,
    wait_for_acknowledged,
    wait_for_app,
    wait_for_drawmap,
    wait_for_fill,
)
from tests.support.streamlit_server import StreamlitApp

pytestmark = pytest.mark.browser

SCENARIO = "Ariège équipe"
TERRITORY = "CPTS de Foix"
COLOUR = "#0072b2"  # the first territory's colour (geo.store.scenarios.PALETTE)
FOIX, MONTGAILHARD, PAMIERS, SAINT_GIRONS, LAVELANET = "09122", "09207", "09225", "09261", "09160"
ARBITRE, A, B, LECTEUR = "Claire (ARS)", "Marc", "Paul", "Léa"
PAUL_SCENARIO, PAUL_TERRITORY = "Ariège — Paul", "CPTS de la basse Ariège"
HEADER = "X-Remote-User"
REFRESH_SECONDS = "3"  # the panels look at the journal every 3 s (5 s by default)
LOADED_MACHINE_MS = (
    180_000  # Playwright's waits (a shared CI machine runs two servers and two browsers)
)


@dataclass
class Team:
    """The two servers, the database, and each person's page (opened on demand, kept for the module)."""

    servers: list[StreamlitApp]
    url: str  # the PostgreSQL store both servers use
    browser: object
    pages: dict = field(default_factory=dict)
    contexts: list = field(default_factory=list)

    def store(self, user: str) -> ScenarioStore:
        return ScenarioStore(self.url, user=user)

    def held(self) -> set[str]:
        return set(self.store(ARBITRE).get(SCENARIO).territories[0].communes)

    def page(self, user: str, server: int = 0):
        """``user``'s page on server ``server`` (0 or 1), on the drawing page of the scenario."""
        if (user, server) not in self.pages:
            context = self.browser.new_context(
                viewport={"width": 1400, "height": 1000},
                locale="fr-FR",
                timezone_id="Europe/Paris",
                extra_http_headers={HEADER: user},
            )
            context.set_default_timeout(LOADED_MACHINE_MS)
            self.contexts.append(context)
            page = context.new_page()
            page.goto(f"{self.servers[server].url}/Dessiner_un_territoire")
            try:  # the only scenario of the team, on the servers' last scope (Ariège): shown at once
                wait_for_drawmap(page, scope="dep:09", timeout=LOADED_MACHINE_MS)
            except Exception:
                page.screenshot(path=str(ARTIFACTS / f"team_servers_{len(self.pages)}.png"))
                raise
            page.evaluate("() => { window.__sameDocument = true; }")  # gone if the page reloads
            self.pages[(user, server)] = page
        return self.pages[(user, server)]


def _seed(url: str) -> None:
    admin = ScenarioStore(url, user=ARBITRE)
    admin.add_user(ARBITRE, "arbitre")
    for name, role in ((A, "editeur"), (B, "editeur"), (LECTEUR, "lecteur")):
        admin.add_user(name, role)
    marc = ScenarioStore(url, user=A)
    marc.create(SCENARIO, scope="dep:09")
    marc.share(SCENARIO, "ecriture")
    marc.add_territory(SCENARIO, TERRITORY)
    close_pools()


@pytest.fixture(scope="module")
def team_servers(base_dir, tmp_path_factory, postgres_cluster):
    """Two app servers, each with its own data directory, on one PostgreSQL store (a schema of its own);
    identity by the proxy header."""
    from geo.base.adjacency import graph

    require_browser()
    graph()
    url = postgres_cluster.url(schema=postgres_cluster.new_schema())
    _seed(url)
    env = {
        "CARTOCPTS_DATABASE_URL": url,
        "CARTOCPTS_USER_HEADER": HEADER,
        "CARTOCPTS_REFRESH_SECONDS": REFRESH_SECONDS,
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    servers = []
    try:
        for i in range(2):
            data = link_base(base_dir, tmp_path_factory.mktemp(f"team-server-{i}") / "data")
            (data / "preferences.json").write_text('{"scope": "dep:09"}', encoding="utf-8")
            log = ARTIFACTS / f"streamlit-team-{i}.log"
            servers.append(StreamlitApp(data, log, env=env).start())
        yield servers, url
    finally:
        for server in servers:
            server.stop()
        close_pools()


@pytest.fixture(scope="module")
def team(team_servers, browser):
    servers, url = team_servers
    team = Team(servers, url, browser)
    yield team
    for context in team.contexts:
        context.close()


def _context(team: Team, user: str):
    """A new browser context in which ``user`` is named by the proxy header."""
    context = team.browser.new_context(
        viewport={"width": 1400, "height": 1000},
        locale="fr-FR",
        timezone_id="Europe/Paris",
        extra_http_headers={HEADER: user},
    )
    context.set_default_timeout(LOADED_MACHINE_MS)
    team.contexts.append(context)
    return context


def _panel_text(page) -> str:
    return page.locator('[data-testid="stApp"]').inner_text()


def _wait_for_text(page, text: str, timeout: float = LOADED_MACHINE_MS) -> None:
    page.wait_for_function(
        "(text) => document.querySelector('[data-testid=\"stApp\"]').innerText.includes(text)",
        arg=text,
        timeout=timeout,
    )


def _same_document(page) -> bool:
    return page.evaluate("() => window.__sameDocument === true")


def _map_message(page, needle: str, timeout: float = LOADED_MACHINE_MS) -> str:
    """Wait until the map's message band has said ``needle`` (it hides itself after 4 s: its text stays)."""
    page.wait_for_function(
        "(needle) => { const m = document.querySelector('.cartocpts-drawmap-message');"
        " return !!m && m.textContent.includes(needle); }",
        arg=needle,
        timeout=timeout,
    )
    return page.evaluate("() => document.querySelector('.cartocpts-drawmap-message').textContent")


def _live(page, on: bool) -> None:
    """Switch « Suivre les modifications de l'équipe » on or off; wait until the page says so."""
    page.get_by_text("Suivre les modifications de l'équipe").click()
    paused = page.get_by_text("Actualisation automatique suspendue")
    paused.wait_for(state="detached" if on else "visible", timeout=LOADED_MACHINE_MS)
    wait_for_app(page, timeout=LOADED_MACHINE_MS)


# --- the story -----------------------------------------------------------------------------------------


def test_a_adds_communes_b_sees_them_without_reloading(team):
    a, b = team.page(A, 0), team.page(B, 1)
    click_commune(a, FOIX)
    wait_for_acknowledged(a, timeout=LOADED_MACHINE_MS)
    click_commune(a, SAINT_GIRONS)
    wait_for_acknowledged(a, timeout=LOADED_MACHINE_MS)
    assert team.held() == {FOIX, SAINT_GIRONS}
    # B, on the other server, never reloads: the panel's periodic look brings the map's colours
    wait_for_fill(b, FOIX, COLOUR, timeout=LOADED_MACHINE_MS)
    wait_for_fill(b, SAINT_GIRONS, COLOUR, timeout=LOADED_MACHINE_MS)
    _wait_for_text(b, "Marc — Ajout de Saint-Girons")
    assert _same_document(b)
    assert_no_exception(b)
    b.screenshot(path=str(ARTIFACTS / "team_servers_b_sees.png"))


def test_b_stale_edit_is_refused_naming_a(team):
    a, b = team.page(A, 0), team.page(B, 1)
    _live(b, on=False)  # B's view stays as it is: what he clicks next was changed since by A
    click_commune(a, MONTGAILHARD)
    wait_for_acknowledged(a, timeout=LOADED_MACHINE_MS)
    assert (
        b.locator(f"path.c-{MONTGAILHARD}").first.get_attribute("fill").lower() == UNASSIGNED_FILL
    )
    click_commune(b, MONTGAILHARD)
    text = _map_message(b, "Modification refusée")
    assert f"par {A} le " in text and MONTGAILHARD in text, text
    # the refused edit shows the commune as it really is
    wait_for_fill(b, MONTGAILHARD, COLOUR, timeout=LOADED_MACHINE_MS)
    assert team.held() == {FOIX, SAINT_GIRONS, MONTGAILHARD}
    assert [r["user"] for r in team.store(ARBITRE).history(SCENARIO)].count(B) == 0
    _live(b, on=True)
    assert_no_exception(b)


def test_undo_stays_per_person(team):
    a, b = team.page(A, 0), team.page(B, 1)
    click_commune(b, PAMIERS)
    wait_for_acknowledged(b, timeout=LOADED_MACHINE_MS)
    wait_for_fill(a, PAMIERS, COLOUR, timeout=LOADED_MACHINE_MS)  # A sees B's commune come
    a.get_by_role(
        "button", name="↶ Annuler"
    ).click()  # A's last change: Montgailhard, not B's Pamiers
    wait_for_app(a, timeout=LOADED_MACHINE_MS)
    wait_for_fill(a, MONTGAILHARD, UNASSIGNED_FILL, timeout=LOADED_MACHINE_MS)
    assert team.held() == {FOIX, SAINT_GIRONS, PAMIERS}
    wait_for_fill(b, MONTGAILHARD, UNASSIGNED_FILL, timeout=LOADED_MACHINE_MS)
    assert _same_document(a) and _same_document(b)


def test_a_lecteur_cannot_edit(team):
    page = team.page(LECTEUR, 1)
    _wait_for_text(page, "Consultation en lecture seule")
    assert page.get_by_role("button", name="Nouveau territoire").count() == 0
    assert page.get_by_role("button", name="↶ Annuler").count() == 0
    before = team.store(ARBITRE).last_change(SCENARIO)
    click_commune(page, LAVELANET)
    assert "lecture seule" in _map_message(page, "lecture seule")
    restore = page.get_by_role(
        "button", name="Restaurer le scénario tel qu'il était à ce changement"
    )
    assert restore.is_disabled()
    assert "rôle « lecteur »" in _panel_text(page)
    assert team.store(ARBITRE).last_change(SCENARIO) == before
    assert_no_exception(page)


def test_the_read_only_link_opens_in_read_mode(team):
    a = team.page(A, 0)
    sidebar = a.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Partage du scénario").click()
    sidebar.get_by_text("Afficher le lien de consultation (lecture seule)").click()
    wait_for_app(a, timeout=LOADED_MACHINE_MS)
    link = sidebar.locator('[data-testid="stCode"] code').inner_text().strip()
    assert re.search(r"/Dessiner_un_territoire\?scenario=\d+&jeton=[\w-]+$", link), link
    # B may edit the scenario, yet through the link (opened on the other server) he only reads it
    other = link.replace(team.servers[0].url, team.servers[1].url)
    context = team.browser.new_context(
        viewport={"width": 1400, "height": 1000}, locale="fr-FR", extra_http_headers={HEADER: B}
    )
    context.set_default_timeout(LOADED_MACHINE_MS)
    team.contexts.append(context)
    page = context.new_page()
    page.goto(other)
    wait_for_drawmap(page, scope="dep:09", timeout=LOADED_MACHINE_MS)
    _wait_for_text(page, "Ouvert par un lien de consultation")
    wait_for_fill(page, FOIX, COLOUR, timeout=LOADED_MACHINE_MS)
    assert page.get_by_role("button", name="Nouveau territoire").count() == 0
    before = team.store(ARBITRE).last_change(SCENARIO)
    click_commune(page, LAVELANET)
    assert "lecture seule" in _map_message(page, "lecture seule")
    assert team.store(ARBITRE).last_change(SCENARIO) == before
    page.screenshot(path=str(ARTIFACTS / "team_servers_read_link.png"))
    assert_no_exception(page)


def test_an_arbitre_settles_a_dispute_both_panels_show_it(team):
    """Paul's own scenario, shared with the team, claims Pamiers too: the arbitre (on server 1) gives it to
    Marc's territory; Marc's page (server 0) shows the decision and Paul's drawing panel (server 1) tells his
    territory it lost Pamiers."""
    paul = team.store(B)
    paul.create(PAUL_SCENARIO, scope="dep:09")
    paul.share(PAUL_SCENARIO, "lecture")
    paul.change_communes(
        PAUL_SCENARIO, paul.add_territory(PAUL_SCENARIO, PAUL_TERRITORY), add=[PAMIERS]
    )
    assert PAMIERS in team.held()  # Marc's territory holds it too (B added it there earlier)
    close_pools()
    winner = f"« {TERRITORY} » (scénario « {SCENARIO} », {A})"

    context = _context(team, ARBITRE)
    page = context.new_page()
    page.goto(f"{team.servers[1].url}/Arbitrages")
    wait_for_app(page, timeout=LOADED_MACHINE_MS)
    _wait_for_text(page, "Arbitrer une commune")
    form = page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').filter(
        has=page.locator('[data-testid="stWidgetLabel"]', has_text="Territoire gagnant")
    )
    form.click()
    page.get_by_role("option", name=winner, exact=True).click()
    wait_for_app(page, timeout=LOADED_MACHINE_MS)
    page.get_by_role("button", name="Enregistrer la décision").click()
    wait_for_app(page, timeout=LOADED_MACHINE_MS)
    _wait_for_text(page, "Pamiers (09225) : arbitré en faveur de")
    assert_no_exception(page)

    marc = _context(team, A).new_page()
    marc.goto(f"{team.servers[0].url}/Arbitrages")
    _wait_for_text(marc, f"Pamiers (09225) : arbitré en faveur de {winner}, par {ARBITRE}")
    assert "Arbitrer une commune" not in _panel_text(marc)  # an editeur has no decision form

    paul_page = _context(team, B).new_page()
    open_drawing_page(paul_page, team.servers[1].url, scenario=PAUL_SCENARIO)
    _wait_for_text(paul_page, "Arbitrage : 1 commune(s) de ce territoire")
    notice = paul_page.locator('[data-testid="stAlert"]').filter(has_text="Arbitrage").inner_text()
    assert "Pamiers (09225) : arbitré en faveur de" in notice and ARBITRE in notice, notice
    assert_no_exception(paul_page)
