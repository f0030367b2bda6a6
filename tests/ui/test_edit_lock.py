"""A locked territory holds on every edit path: click, polygon, EPCI, search, CPTS copy, undo, redo.

In ui/drawing.py every change of a territory's communes goes through ``ScenarioStore.change_communes``: the map's
edits (click add/remove, polygon and rectangle drawings) in ``apply_edits``, the search, EPCI and CPTS-copy tools
in ``apply_change``; « Annuler » / « Rétablir » through ``ScenarioStore.undo`` / ``redo``. Each is refused here on
a locked territory, with a French DataError naming it, and nothing changes (communes, history). The page's tools
are also disabled when the active territory is locked, and a map edit sent for a locked territory is refused with
a message naming it.
"""

from __future__ import annotations

import pytest
import shapely

from geo.errors import DataError
from tests.support.apptest import run_page
from tests.support.apptest import sent_to_map as sent_to_map_or_none

FOIX, MONTGAILHARD, PAMIERS = "09122", "09207", "09225"
NAME = "CPTS du pays de Foix"


@pytest.fixture
def locked(isolated_data, communes):
    """A scenario with a locked territory holding Foix (added, then a step undone for redo) and an open one."""
    from geo.store.scenarios import ScenarioStore

    store = ScenarioStore()
    store.create("Verrou", scope="dep:09")
    tid = store.add_territory("Verrou", NAME, session="s")
    other = store.add_territory("Verrou", "Autre territoire", session="s")
    store.change_communes("Verrou", tid, add=[FOIX], session="s")
    store.change_communes("Verrou", tid, add=[MONTGAILHARD], session="s")
    store.undo("Verrou", "s")  # one step to redo
    store.update_territory("Verrou", tid, locked=True)
    return store, tid, other


def snapshot(store):
    scen = store.get("Verrou")
    return (
        {t.name: (set(t.communes), t.locked) for t in scen.territories},
        store.history_state("Verrou", "s"),
    )


def refused(store, action):
    before = snapshot(store)
    with pytest.raises(DataError) as info:
        action()
    message = str(info.value)
    assert f"« {NAME} »" in message and "verrouillé" in message, message
    assert snapshot(store) == before
    return message


def test_click_add_and_remove_refused(locked):
    store, tid, _ = locked
    refused(
        store,
        lambda: store.change_communes(
            "Verrou", tid, add=[PAMIERS], label="Ajout de Pamiers", session="s"
        ),
    )
    refused(
        store,
        lambda: store.change_communes(
            "Verrou", tid, remove=[FOIX], label="Retrait de Foix", session="s"
        ),
    )
    refused(
        store,
        lambda: store.change_communes("Verrou", tid, add=[PAMIERS], remove=[FOIX], session="s"),
    )


def test_polygon_refused(locked, communes):
    from geo.base.snapping import snap_polygon_to_communes

    store, tid, _ = locked
    foix = communes.set_index("insee").loc[FOIX].geometry
    polygon = shapely.geometry.box(*foix.buffer(0.05).bounds)  # a rectangle drawn around Foix
    codes, _ = snap_polygon_to_communes(
        polygon, communes[communes["dep"] == "09"].reset_index(drop=True), rule="point"
    )
    assert FOIX in codes and len(codes) > 3
    refused(
        store, lambda: store.change_communes("Verrou", tid, add=codes, label="Dessin", session="s")
    )


def test_epci_and_search_refused(locked):
    from geo.base.search import epci_members, search_communes
    from geo.territory.context import context

    store, tid, _ = locked
    ctx = context()
    members = epci_members(ctx.communes.at[PAMIERS, "epci"], ctx)
    assert PAMIERS in members and len(members) > 3
    refused(
        store,
        lambda: store.change_communes(
            "Verrou", tid, add=members, label="Ajout de l'EPCI", session="s"
        ),
    )
    hits = search_communes("Pamiers", ctx.communes.reset_index(drop=True), limit=15)
    assert hits.iloc[0]["insee"] == PAMIERS
    refused(
        store,
        lambda: store.change_communes("Verrou", tid, add=[hits.iloc[0]["insee"]], session="s"),
    )


def test_cpts_copy_refused(locked, communes, tmp_path):
    from geo.sources.cpts import import_cpts
    from geo.territory.context import context

    store, tid, _ = locked
    pamiers_epci = communes.set_index("insee").at[PAMIERS, "epci"]
    members = communes.loc[communes["epci"] == pamiers_epci, "insee"]
    path = tmp_path / "cpts.csv"
    path.write_text(
        "cpts_id;cpts_nom;code_insee\n"
        + "".join(f"C1;CPTS de la basse Ariège;{c}\n" for c in members),
        encoding="utf-8",
    )
    import_cpts(path)
    ctx = context()
    codes = [
        code for code, held in ctx.cpts_members.items() if any(m[0] == "C1" for m in held)
    ]  # as the page
    assert sorted(codes) == sorted(members)
    refused(
        store,
        lambda: store.change_communes(
            "Verrou", tid, add=codes, label="Copie de la CPTS", session="s"
        ),
    )


def test_undo_and_redo_refused(locked):
    store, tid, _ = locked
    assert store.history_state("Verrou", "s")["undo"] and store.history_state("Verrou", "s")["redo"]
    assert "annuler" in refused(store, lambda: store.undo("Verrou", "s"))
    assert "rétablir" in refused(store, lambda: store.redo("Verrou", "s"))
    store.update_territory("Verrou", tid, locked=False)  # unlocked, both work again
    assert store.redo("Verrou", "s") is not None
    assert store.get("Verrou").territory(tid).communes == {FOIX, MONTGAILHARD}
    assert store.undo("Verrou", "s") is not None
    assert store.get("Verrou").territory(tid).communes == {FOIX}


def test_other_territory_still_editable(locked):
    """The lock is the territory's, not the scenario's; a commune of the locked one cannot be taken."""
    store, tid, other = locked
    result = store.change_communes("Verrou", other, add=[PAMIERS, FOIX], session="s")
    assert result.added == [PAMIERS] and f"« {NAME} »" in result.refused[FOIX]
    assert store.get("Verrou").territory(tid).communes == {FOIX}


# --------------------------------------------------------------------------- the page, run by Streamlit


def sent_to_map(app) -> dict:
    """The data the page sent to its drawing map component in the last run."""
    data = sent_to_map_or_none(app)
    assert data is not None, "the drawing map was not sent"
    return data


def test_page_refuses_edits_of_a_locked_territory(locked, communes):
    """The page: tools disabled on the locked territory; a click and a drawing sent by the map are refused with a
    message naming the territory, and nothing is saved."""
    store, tid, _ = locked
    scen = store.get("Verrou")
    foix = communes.set_index("insee").loc[FOIX].geometry
    square = shapely.geometry.mapping(shapely.geometry.box(*foix.buffer(0.05).bounds))
    edits = {
        "mount": "m1",
        "items": [
            {"seq": 1, "scenario": scen.id, "territory": tid, "op": "add", "codes": [PAMIERS]},
            {"seq": 2, "scenario": scen.id, "territory": tid, "op": "remove", "codes": [FOIX]},
            {
                "seq": 3,
                "scenario": scen.id,
                "territory": tid,
                "op": "draw",
                "codes": [],
                "geometry": square,
            },
        ],
    }
    before = snapshot(store)
    app = run_page(
        "pages/2_Dessiner_un_territoire.py",
        **{
            "draw-scope": "dep:09",
            "scenario-wanted": "Verrou",
            "edit-session": "s",
            "draw-map": {"edits": edits},
        },
    )
    assert not app.exception, [e.value for e in app.exception]
    assert snapshot(store) == before
    data = sent_to_map(app)
    assert data["active"]["locked"] is True and data["active"]["territory"] == tid
    text = data["message"]["text"]
    assert text.count("verrouillé") == 3 and text.count(f"« {NAME} »") == 3, text
    (epci,) = [b for b in app.button if b.key == "epci-apply"]
    assert epci.disabled
    assert any("est verrouillé" in c.value for c in app.caption)
