"""Edit identity on the drawing page (ui/drawmap.new_edits through the real page, run by Streamlit's AppTest).

The browser's map sends its edits as the component state ``edits`` = {mount, items: [{seq, scenario, territory, op,
codes}]}; the state stays the same across reruns until the next edit. The page must apply each edit once, to the
scenario and territory it carries, and drop replays, stale sequence numbers and malformed items.
"""

from __future__ import annotations

import pytest

from tests.support.apptest import run_page, sent_to_map

PAGE = "pages/2_Dessiner_un_territoire.py"
FOIX, MONTGAILHARD, PAMIERS, SAINT_GIRONS = "09122", "09207", "09225", "09261"


@pytest.fixture
def scenarios(isolated_data, communes):
    """Two Ariège scenarios A and B with one territory each: {name: (scenario id, territory id)}."""
    from geo.store.scenarios import ScenarioStore

    store = ScenarioStore()
    out = {}
    for name in ("A", "B"):
        scen = store.create(name, scope="dep:09")
        out[name] = (scen.id, store.add_territory(name, f"Territoire {name}"))
    return store, out


def edit(seq, ids, op, *codes, **extra):
    scenario, territory = ids
    return {
        "seq": seq,
        "scenario": scenario,
        "territory": territory,
        "op": op,
        "codes": list(codes),
        **extra,
    }


def held(store, name: str) -> set[str]:
    return set(store.get(name).territories[0].communes)


def steps(store, name: str) -> int:
    return store.history_state(name, "s")["undo"]


def check(app) -> dict:
    """The page ran to its end: no exception, no error shown, the map drawn; the data sent to the map."""
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]
    data = sent_to_map(app)
    assert data is not None, "the drawing map was not drawn"
    return data


def start(items, mount="m1", scenario="A"):
    app = run_page(
        PAGE,
        **{
            "draw-scope": "dep:09",
            "scenario-wanted": scenario,
            "edit-session": "s",
            "draw-map": {"edits": {"mount": mount, "items": items}},
        },
    )
    check(app)
    return app


def rerun(app, items, mount="m1"):
    app.session_state["draw-map"] = {"edits": {"mount": mount, "items": items}}
    app.run()
    return check(app)


def test_an_edit_is_applied_once(scenarios):
    """The same edit state seen again (every rerun) is not applied again, even after the commune was removed."""
    store, ids = scenarios
    items = [edit(1, ids["A"], "add", MONTGAILHARD)]
    app = start(items)
    assert held(store, "A") == {MONTGAILHARD} and steps(store, "A") == 1
    app.run()  # a rerun with the same component state (e.g. a widget elsewhere)
    assert steps(store, "A") == 1
    store.change_communes(
        "A", ids["A"][1], remove=[MONTGAILHARD], session="s"
    )  # removed by another path
    rerun(app, items)  # the browser's state still holds the old edit
    assert held(store, "A") == set()
    rerun(app, items + [edit(2, ids["A"], "add", FOIX)])  # the next click: only it is applied
    assert held(store, "A") == {FOIX}


def test_older_sequence_numbers_are_dropped(scenarios):
    store, ids = scenarios
    app = start([edit(1, ids["A"], "add", FOIX), edit(2, ids["A"], "add", PAMIERS)])
    assert held(store, "A") == {FOIX, PAMIERS}
    rerun(app, [edit(2, ids["A"], "remove", PAMIERS)])  # a second edit numbered 2: a replay
    rerun(app, [edit(1, ids["A"], "add", SAINT_GIRONS)])  # older than the last applied
    assert held(store, "A") == {FOIX, PAMIERS}
    rerun(app, [edit(3, ids["A"], "remove", PAMIERS)])
    assert held(store, "A") == {FOIX}


def test_each_mount_counts_its_own_edits(scenarios):
    """A new map in the page (new mount) numbers from 1 again: its edits are applied, the old mount's are not
    replayed."""
    store, ids = scenarios
    app = start([edit(1, ids["A"], "add", FOIX), edit(2, ids["A"], "add", PAMIERS)], mount="m1")
    rerun(app, [edit(1, ids["A"], "add", MONTGAILHARD)], mount="m2")
    assert held(store, "A") == {FOIX, PAMIERS, MONTGAILHARD}
    rerun(app, [edit(2, ids["A"], "remove", FOIX)], mount="m1")  # m1 already applied 2
    assert held(store, "A") == {FOIX, PAMIERS, MONTGAILHARD}
    rerun(app, [edit(3, ids["A"], "remove", FOIX)], mount="m1")
    rerun(app, [edit(2, ids["A"], "remove", PAMIERS)], mount="m2")
    assert held(store, "A") == {MONTGAILHARD}


def test_an_edit_lands_in_its_own_scenario(scenarios):
    """An edit made in B reaching the server when A is active goes to B; A is untouched."""
    store, ids = scenarios
    app = start([edit(1, ids["B"], "add", SAINT_GIRONS)], scenario="A")
    assert held(store, "B") == {SAINT_GIRONS} and held(store, "A") == set()
    app.session_state["scenario-wanted"] = (
        "B"  # the user goes to B, then back to A: nothing replayed
    )
    assert rerun(app, [edit(1, ids["B"], "add", SAINT_GIRONS)])["active"]["scenario"] == ids["B"][0]
    app.session_state["scenario-wanted"] = "A"
    assert rerun(app, [edit(1, ids["B"], "add", SAINT_GIRONS)])["active"]["scenario"] == ids["A"][0]
    assert held(store, "A") == set() and held(store, "B") == {SAINT_GIRONS}
    assert steps(store, "B") == 1 and steps(store, "A") == 0


def test_edit_for_a_territory_of_another_scenario_is_refused(scenarios):
    """Scenario A's id with B's territory id: not applied anywhere, the map gets a French message."""
    store, ids = scenarios
    wrong = (ids["A"][0], ids["B"][1])
    app = start([edit(1, wrong, "add", FOIX)])
    assert held(store, "A") == set() and held(store, "B") == set()
    assert "introuvable" in sent_to_map(app)["message"]["text"]


MALFORMED = [
    {"scenario": 1, "territory": 1, "op": "add", "codes": [FOIX]},  # no seq
    {"seq": "un", "scenario": 1, "territory": 1, "op": "add", "codes": [FOIX]},
    {"seq": 1, "scenario": None, "territory": 1, "op": "add", "codes": [FOIX]},
    {"seq": 1, "scenario": 1, "territory": "x", "op": "add", "codes": [FOIX]},
    {"seq": 1, "scenario": 1, "territory": 1, "op": "delete", "codes": [FOIX]},
    {
        "seq": 1,
        "scenario": 1,
        "territory": 1,
        "op": "add",
        "codes": ["99999", "<b>x</b>"],
    },  # no such commune
    {
        "seq": 1,
        "scenario": 1,
        "territory": 1,
        "op": "draw",
        "geometry": {"type": "Point", "coordinates": [1, 43]},
    },
    {"seq": 1, "scenario": 1, "territory": 1, "op": "draw", "geometry": "pas une géométrie"},
    {"seq": 1, "scenario": 1, "territory": 1, "op": "add", "codes": FOIX},  # a string, not a list
    None,
    "edit",
    42,
    [],
]


@pytest.mark.parametrize("item", MALFORMED, ids=[str(i) for i in range(len(MALFORMED))])
def test_malformed_items_are_ignored(scenarios, item):
    """A malformed item changes nothing and does not break the page; a good edit beside it is applied."""
    store, ids = scenarios
    if isinstance(item, dict):
        item = {
            **item,
            **({"scenario": ids["A"][0]} if item.get("scenario") == 1 else {}),
            **({"territory": ids["A"][1]} if item.get("territory") == 1 else {}),
        }
    app = start([item])
    assert held(store, "A") == set() and held(store, "B") == set()
    rerun(app, [item, edit(5, ids["A"], "add", PAMIERS)])
    assert held(store, "A") == {PAMIERS}


@pytest.mark.parametrize(
    "state",
    [
        {"edits": "texte"},
        {"edits": {"mount": "m1", "items": 7}},
        {"edits": {"mount": ["m"], "items": None}},
        {"edits": []},
        "texte",
    ],
    ids=["edits-str", "items-int", "mount-list", "edits-list", "state-str"],
)
def test_malformed_state_is_ignored(scenarios, state):
    """A component state of the wrong shape (sent by a modified browser) does not break the page."""
    store, ids = scenarios
    app = run_page(
        PAGE,
        **{"draw-scope": "dep:09", "scenario-wanted": "A", "edit-session": "s", "draw-map": state},
    )
    check(app)
    assert held(store, "A") == set()


# --------------------------------------------------------------------------- the scope's layer as sent


def _decoded(layer: dict) -> list[list[list[list[tuple[int, int]]]]]:
    """The polygons of the map's compact layer, read as static/cartocpts/drawmap.js reads them: per feature, its
    polygons, their rings, the rings' (lat, lng) points in units of 1e-5 degree."""

    def reader(text):
        i = 0
        while i < len(text):
            value = shift = 0
            while True:
                b = ord(text[i]) - 63
                i += 1
                value |= (b & 31) << shift
                shift += 5
                if b < 32:
                    break
            yield value

    parts, rings, points, coords = (
        reader(layer[k]) for k in ("parts", "rings", "points", "coords")
    )
    step = lambda: (lambda z: (z >> 1) ^ -(z & 1))(next(coords))  # noqa: E731 - zigzag decoding
    out, lat, lng = [], 0, 0
    for _ in layer["ids"]:
        polygons = []
        for _ in range(next(parts)):
            ring_list = []
            for _ in range(next(rings)):
                ring = []
                for _ in range(next(points)):
                    lat, lng = lat + step(), lng + step()
                    ring.append((lat, lng))
                ring_list.append(ring)
            polygons.append(ring_list)
        out.append(polygons)
    return out


def test_the_scope_layer_holds_the_simplified_communes(scenarios):
    """The layer sent with a new scope decodes to the simplified communes the page uses, exactly (same grid),
    with their escaped names and populations."""
    import shapely

    from ui.common import map_communes

    layer = check(start([]))["layer"]
    communes = map_communes("dep:09")
    assert layer["ids"] == list(communes["insee"])
    assert layer["props"]["pop"] == [int(p) for p in communes["population"]]
    assert "09122" in layer["ids"] and layer["props"]["nom"][layer["ids"].index("09122")] == "Foix"
    for polygons, geometry in zip(_decoded(layer), communes.geometry):
        expected = [
            [
                [(round(y * 1e5), round(x * 1e5)) for x, y in ring.coords[:-1]]
                for ring in (polygon.exterior, *polygon.interiors)
            ]
            for polygon in shapely.get_parts(geometry)
        ]
        assert polygons == expected


def test_the_layer_is_sent_once_per_scope(scenarios):
    """A rerun on the same scope sends no layer; the map's ``need`` (a new mount) gets it again."""
    app = start([])
    app.run()
    assert "layer" not in check(app)
    app.session_state["draw-map"] = {"need": {"mount": "m2", "nonce": "n1", "scope": None}}
    app.run()
    assert check(app)["layer"]["ids"]


def test_a_click_on_a_commune_changed_since_the_map_was_drawn_is_refused(scenarios):
    """Another tab (another editing session) moves Foix after this page drew the map: this page's click on
    Foix is refused, naming who and when; a click on a commune nobody touched is applied."""
    store, ids = scenarios
    app = start([])  # the map of A is drawn: the page notes the state it shows
    other_tab = store.add_territory("A", "Autre onglet", session="t2")
    store.change_communes("A", other_tab, add=[FOIX], session="t2")
    rerun(app, [edit(1, ids["A"], "add", FOIX)])
    text = sent_to_map(app)["message"]["text"]
    assert "09122 modifiée(s) par poste local le" in text and "Rechargez" in text
    assert FOIX not in store.get("A").territory(ids["A"][1]).communes
    rerun(app, [edit(2, ids["A"], "add", PAMIERS)])
    assert PAMIERS in store.get("A").territory(ids["A"][1]).communes
