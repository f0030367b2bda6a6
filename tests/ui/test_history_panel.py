"""The drawing page's history panel, restore and read-only link, through the real page (Streamlit's AppTest)
on real Ariège communes: changes newest first with who, what and the communes by name; the restore is a
change of the session (its undo brings the later state back); the read-only link shows the scenario with no
edit control, and an edit reaching the server anyway is refused."""

from __future__ import annotations

import re

import pytest

from tests.support.apptest import run_page, sent_to_map

PAGE = "pages/2_Dessiner_un_territoire.py"
FOIX, MONTGAILHARD, PAMIERS = "09122", "09207", "09225"


@pytest.fixture
def scenario(isolated_data, communes):
    from geo.store.scenarios import ScenarioStore

    store = ScenarioStore()
    store.create("Journal", scope="dep:09")
    tid = store.add_territory("Journal", "CPTS de Foix", session="x")
    store.change_communes(
        "Journal", tid, add=[FOIX, MONTGAILHARD], label="Ajout de Foix", session="x"
    )
    mark = store.last_change("Journal")
    store.change_communes("Journal", tid, add=[PAMIERS], remove=[FOIX], session="x")
    store.update_territory("Journal", tid, session="x", status="projet")
    return store, tid, mark


def start(**extra):
    app = run_page(
        PAGE, **{"draw-scope": "dep:09", "scenario-wanted": "Journal", "edit-session": "s", **extra}
    )
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]
    return app


def lines(app) -> list[str]:
    """The panel's changes as the user reads them (Markdown escapes and word joiners removed)."""
    return [
        re.sub(r"\\(.)", r"\1", m.value).replace("\u2060", "")
        for m in app.markdown
        if m.value.startswith("n° ")
    ]


def test_changes_newest_first_with_names_and_fields(scenario):
    app = start()
    shown = lines(app)
    assert len(shown) == 5, shown  # with the creations of the scenario and of the territory
    assert "statut : proposition → projet" in shown[0]
    assert "ajout : Pamiers" in shown[1] and "retrait : Foix" in shown[1]
    assert "Ajout de Foix" in shown[2] and "ajout : Foix, Montgailhard" in shown[2]
    assert "poste local" in shown[0]
    assert "Création du scénario « Journal »" in shown[4]
    assert re.search(r"\*\*\d\d/\d\d/\d{4} \d\d:\d\d\*\*", shown[0]), shown[0]
    assert any("Modifications 1 à 5 sur 5" in c.value for c in app.caption)


def test_restore_is_a_change_the_session_can_undo(scenario):
    store, tid, mark = scenario
    app = start()
    app.selectbox(key="restore-pick-Journal").set_value(mark)
    app.button(key="restore-Journal").click()
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    terr = store.get("Journal").territory(tid)
    assert terr.communes == {FOIX, MONTGAILHARD} and terr.status == "proposition"
    assert store.history("Journal")[-1]["action"] == "restauration"
    assert "Restauration" in lines(app)[0]
    # the restore belongs to this page's session: its undo brings the later state back
    assert store.history_state("Journal", "s")["undo"] == 1
    store.undo("Journal", "s")
    assert store.get("Journal").territory(tid).communes == {MONTGAILHARD, PAMIERS}


def test_read_only_link_shows_no_edit_control_and_refuses_edits(scenario):
    store, tid, _ = scenario
    scen_id, token = store.read_link("Journal")
    before = store.last_change("Journal")
    app = run_page(PAGE, **{"draw-scope": "dep:09", "edit-session": "s"})
    app.query_params.update({"scenario": str(scen_id), "jeton": token})
    app.session_state["draw-map"] = {
        "edits": {
            "mount": "m",
            "items": [
                {"seq": 1, "scenario": scen_id, "territory": tid, "op": "add", "codes": ["09225"]}
            ],
        }
    }
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    data = sent_to_map(app)
    assert data["active"]["readonly"] is True
    assert "lecture seule" in data["message"]["text"]
    assert any("lecture seule" in i.value for i in app.info)
    labels = [b.label for b in app.button]
    assert "Nouveau territoire" not in labels and "↶ Annuler" not in labels
    assert app.button(key="restore-Journal").disabled
    assert store.last_change("Journal") == before  # nothing written

    app.query_params.update({"jeton": "faux"})
    app.run()
    assert any("Lien de consultation invalide" in e.value for e in app.error)


def test_read_mode_offers_the_colouring_under_the_territories(scenario):
    """A reader finds his way as an editor does: the population colouring reaches the read-only map."""
    from ui.drawmap import scope_layer

    store, _, _ = scenario
    scen_id, token = store.read_link("Journal")
    app = run_page(PAGE, **{"draw-scope": "dep:09", "edit-session": "s"})
    app.query_params.update({"scenario": str(scen_id), "jeton": token})
    app.run()
    app.selectbox(key="draw-under").set_value("population").run()
    assert not app.exception, [e.value for e in app.exception]
    data = sent_to_map(app)
    assert data["active"]["readonly"] is True
    under = data["under"]
    assert "Population" in under["legend"]["title"] and under["legend"]["entries"]
    assert set(under["fills"]) == set(
        scope_layer("dep:09")["ids"]
    )  # every commune of Ariège coloured
