"""In a real browser: every edit of the drawing map lands once, in the scenario and territory it was made in.

The previous drawing page replayed the last map event (streamlit-folium's last click) into whatever scenario and
territory were active after a rerun: a new scenario's first territory, or another scenario chosen in the
sidebar, got a commune nobody clicked. Undo/redo also ignored the lock. Each test here fails on that behaviour.
"""

from __future__ import annotations

import re

import pytest

from tests.support.browser import (
    DRAWMAP_STATE,
    UNASSIGNED_FILL,
    assert_no_exception,
    click_commune,
    commune_fill,
    create_scenario,
    create_territory,
    drawmap_eval,
    drawmap_message,
    map_view,
    metric_value,
    open_drawing_page,
    recording_page,
    select_scenario,
    wait_for_acknowledged,
    wait_for_app,
    wait_for_drawmap,
    wait_for_fill,
    wait_metric,
)

pytestmark = pytest.mark.browser

FOIX, MONTGAILHARD, PAMIERS, SAINT_GIRONS = "09122", "09207", "09225", "09261"


@pytest.fixture
def store(fresh_app_server):
    """The scenario store of the app under test (its own data directory)."""
    from geo.store.scenarios import ScenarioStore

    return ScenarioStore(fresh_app_server.data_dir / "scenarios.sqlite")


def held(store, scenario: str) -> dict[str, set[str]]:
    """{territory name: communes} of a scenario, as saved."""
    return {t.name: set(t.communes) for t in store.get(scenario).territories}


def test_no_commune_added_without_a_click(fresh_page, fresh_app_server, store):
    """Click in A, create scenario B and its territory T1, switch scenarios: only the click is saved."""
    page = fresh_page
    store.create("Identité A", scope="dep:09")
    store.add_territory("Identité A", "T")
    open_drawing_page(page, fresh_app_server.url, scenario="Identité A")
    click_commune(page, MONTGAILHARD)
    wait_metric(page, "Communes", "1")
    wait_for_acknowledged(page)
    assert held(store, "Identité A") == {"T": {MONTGAILHARD}}

    create_scenario(page, "Identité B")
    wait_for_drawmap(page, scope="dep:09")
    create_territory(page, "T1")
    wait_for_drawmap(page, scope="dep:09")
    page.get_by_role("heading", name="T1", exact=True).wait_for(timeout=30_000)
    assert metric_value(page, "Communes") == "0"
    assert held(store, "Identité B") == {"T1": set()}
    assert (
        commune_fill(page, MONTGAILHARD) == UNASSIGNED_FILL
    )  # B's map does not show A's territory

    for name in ("Identité A", "Identité B", "Identité A", "Identité B", "Identité A"):
        select_scenario(page, name)
        wait_for_drawmap(page, scope="dep:09")
    wait_metric(page, "Communes", "1")  # A's T again
    assert held(store, "Identité A") == {"T": {MONTGAILHARD}}
    assert held(store, "Identité B") == {"T1": set()}
    colour = store.get("Identité A").territories[0].colour.lower()
    assert commune_fill(page, MONTGAILHARD) == colour
    assert_no_exception(page)


def lock_active_territory(page) -> None:
    """Tick « Verrouiller » in the « Propriétés du territoire » popover, then close it."""
    page.get_by_role("button", name="Propriétés du territoire").click()
    # a rerun may keep the previous popover's body in the page for a moment: use the one shown
    page.get_by_text("Verrouiller (les clics ne le modifient plus)").filter(
        visible=True
    ).first.click()
    wait_for_app(page)
    page.keyboard.press("Escape")  # close the popover
    page.get_by_text("est verrouillé : déverrouillez-le dans ses propriétés").wait_for(
        timeout=30_000
    )


def refused_undo(page, name: str) -> None:
    """« ↶ Annuler » gives the French refusal naming the locked territory."""
    page.get_by_role("button", name="↶ Annuler").click()
    wait_for_app(page)
    error = page.locator('[data-testid="stAlertContentError"]').filter(has_text="verrouillé")
    error.first.wait_for(timeout=30_000)
    assert f"« {name} »" in error.first.inner_text()


def test_lock_holds_against_undo_and_clicks(fresh_page, fresh_app_server, store):
    """A locked territory: a click is not recoloured (message « verrouillé » over the map), « Annuler » is refused
    with a French message naming it; its communes do not change."""
    page = fresh_page
    name = "Territoire verrouillé d'essai"
    store.create("Verrou", scope="dep:09")
    store.add_territory("Verrou", name)
    open_drawing_page(page, fresh_app_server.url, scenario="Verrou")
    click_commune(page, FOIX)
    wait_metric(page, "Communes", "1")
    wait_for_acknowledged(page)
    assert held(store, "Verrou") == {name: {FOIX}}

    lock_active_territory(page)
    wait_for_drawmap(page, scope="dep:09")
    page.wait_for_function(f"() => {DRAWMAP_STATE}.active.locked === true", timeout=30_000)
    assert store.get("Verrou").territories[0].locked
    colour = store.get("Verrou").territories[0].colour.lower()
    assert commune_fill(page, FOIX) == colour
    click_commune(page, PAMIERS)
    assert commune_fill(page, PAMIERS) == UNASSIGNED_FILL  # not even recoloured for a moment
    assert "verrouillé" in drawmap_message(page)
    assert drawmap_eval(page, "s.pending.length") == 0  # nothing sent
    wait_for_app(page)
    assert held(store, "Verrou") == {name: {FOIX}}

    refused_undo(page, name)
    assert held(store, "Verrou") == {name: {FOIX}}
    assert_no_exception(page)


def test_map_kept_across_lock_toggle_and_refused_undo(fresh_page, fresh_app_server, store):
    """Toggling the lock and a refused « Annuler » keep the map as it is (not remounted, not moved, not removed)
    and the panel (issue #10: the view is kept across lock toggles and undo/redo)."""
    page = fresh_page
    name = "Territoire de la vue"
    store.create("Vue gardée", scope="dep:09")
    store.add_territory("Vue gardée", name)
    open_drawing_page(page, fresh_app_server.url, scenario="Vue gardée")
    click_commune(page, FOIX)
    wait_metric(page, "Communes", "1")
    wait_for_acknowledged(page)
    mount, view = drawmap_eval(page, "s.mount"), map_view(page)

    lock_active_territory(page)
    wait_for_drawmap(page, scope="dep:09")
    assert drawmap_eval(page, "s.mount") == mount, "the lock toggle remounted the map"
    assert map_view(page) == view, "the lock toggle moved the map"

    refused_undo(page, name)
    assert page.locator("div.cartocpts-drawmap").count() == 1, (
        "the map is gone after a refused « Annuler »"
    )
    assert page.locator('[data-testid="stMetric"]').filter(has_text="Communes").count() == 1, (
        "the panel is gone after a refused « Annuler »"
    )
    wait_for_drawmap(page, scope="dep:09", timeout=10_000)
    assert drawmap_eval(page, "s.mount") == mount, "the refused « Annuler » remounted the map"
    assert map_view(page) == view


def test_two_users_on_two_scenarios(browser, fresh_app_server, store):
    """Two browsers on the same app, each on its own scenario: each click lands in its own scenario only,
    and a scenario switch in one browser adds nothing anywhere."""
    for scen in ("Utilisateur 1", "Utilisateur 2"):
        store.create(scen, scope="dep:09")
        store.add_territory(scen, f"Territoire de {scen}")
    ctx1, page1 = recording_page(browser)
    ctx2, page2 = recording_page(browser)
    try:
        open_drawing_page(page1, fresh_app_server.url, scenario="Utilisateur 1")
        open_drawing_page(page2, fresh_app_server.url, scenario="Utilisateur 2")
        click_commune(page1, FOIX)
        click_commune(page2, SAINT_GIRONS)
        click_commune(page1, PAMIERS)
        wait_metric(page1, "Communes", "2")
        wait_metric(page2, "Communes", "1")
        wait_for_acknowledged(page1)
        wait_for_acknowledged(page2)
        assert held(store, "Utilisateur 1") == {"Territoire de Utilisateur 1": {FOIX, PAMIERS}}
        assert held(store, "Utilisateur 2") == {"Territoire de Utilisateur 2": {SAINT_GIRONS}}

        # user 2 looks at user 1's scenario, then comes back: its last click is not replayed anywhere
        select_scenario(page2, "Utilisateur 1")
        wait_for_drawmap(page2, scope="dep:09")
        wait_metric(page2, "Communes", "2")
        select_scenario(page2, "Utilisateur 2")
        wait_for_drawmap(page2, scope="dep:09")
        # user 1 goes on clicking: a rerun of page 1 sees nothing of page 2's edits
        click_commune(page1, MONTGAILHARD)
        wait_metric(page1, "Communes", "3")
        wait_for_acknowledged(page1)
        assert held(store, "Utilisateur 1") == {
            "Territoire de Utilisateur 1": {FOIX, PAMIERS, MONTGAILHARD}
        }
        assert held(store, "Utilisateur 2") == {"Territoire de Utilisateur 2": {SAINT_GIRONS}}
        assert (
            commune_fill(page2, FOIX) == UNASSIGNED_FILL
            and commune_fill(page1, SAINT_GIRONS) == UNASSIGNED_FILL
        )
        assert_no_exception(page1)
        assert_no_exception(page2)
    finally:
        ctx1.close()
        ctx2.close()


def test_click_recoloured_before_the_server_answers(browser, fresh_app_server, store):
    """The server's messages are held back (Playwright's WebSocket routing): a click still recolours the commune
    at once; released, the server's answer acknowledges the edit and the store holds it."""
    store.create("Sans réponse", scope="dep:09")
    store.add_territory("Sans réponse", "Territoire patient")
    colour = store.get("Sans réponse").territories[0].colour.lower()
    context, page = recording_page(browser)
    route = {"hold": False, "held": [], "page": None}

    def handler(ws):
        server = ws.connect_to_server()
        route["page"] = ws

        def from_server(message):
            if route["hold"]:
                route["held"].append(message)
            else:
                ws.send(message)

        server.on_message(from_server)  # browser → server messages still flow untouched

    page.route_web_socket(re.compile(r"/_stcore/stream"), handler)
    try:
        open_drawing_page(page, fresh_app_server.url, scenario="Sans réponse")
        assert route["page"] is not None, "the Streamlit websocket was not routed"
        route["hold"] = True
        click_commune(page, FOIX)
        wait_for_fill(page, FOIX, colour, timeout=5_000)  # recoloured by the browser itself
        page.wait_for_timeout(1_500)  # the server had time to answer: its answer is held
        assert drawmap_eval(page, "s.pending.map(e => [e.op, e.codes])") == [
            ["add", [FOIX]]
        ]  # not acknowledged
        assert commune_fill(page, FOIX) == colour
        assert (
            metric_value(page, "Communes") == "0"
        )  # the panel has not been updated: no answer came

        while route["held"]:  # in order; messages arriving meanwhile are queued behind
            route["page"].send(route["held"].pop(0))
        route["hold"] = False
        wait_metric(page, "Communes", "1")
        wait_for_acknowledged(page)
        assert commune_fill(page, FOIX) == colour
        assert held(store, "Sans réponse") == {"Territoire patient": {FOIX}}
        assert_no_exception(page)
    finally:
        context.close()
