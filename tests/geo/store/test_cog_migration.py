"""Scenarios remember the COG year they were drawn on; opening an older one migrates it (real COG 2026).

Valserhône (01033, Ain) is a commune nouvelle of 1 January 2019: Bellegarde-sur-Valserine (its chef-lieu,
which kept the code), Châtillon-en-Michaille (01091), Lancrans (01205) and others. A scenario drawn on the
COG 2018 holds the former codes; the commune base (COG 2026) only knows 01033.
"""

import pytest

from geo.base import cog
from geo.base.communes import cog_mapping
from geo.store.cog_migration import CogMapping, plan
from geo.store.migrations import MIGRATIONS
from geo.store.scenarios import Scenario, ScenarioStore, Territory

VALSERHONE = "01033"
CHATILLON, LANCRANS = "01091", "01205"
OTHER = "01001"  # L'Abergement-Clémenciat, untouched


@pytest.fixture
def mapping(base_dir) -> CogMapping:
    found = cog_mapping()
    if found is None:
        pytest.skip(f"paquet {cog.PACKAGE} absent : lancez « make assets »")
    return found


def drawn_on(location, name: str, year: int, territories: dict[str, list[str]], overlap=False):
    """A scenario stored with the codes of an older COG (a store without COG keeps codes as given)."""
    old = ScenarioStore(location)
    old.create(name, allow_overlap=overlap)
    ids = {}
    for tname, codes in territories.items():
        ids[tname] = old.add_territory(name, tname)
        old.change_communes(name, ids[tname], add=codes)
    with old.db.transaction() as con:
        con.execute("UPDATE scenarios SET cog_year=? WHERE name=?", (year, name))
    return ids


def test_real_cog_knows_the_commune_nouvelle(mapping):
    assert mapping.year == 2026 == cog.cog_year()
    assert {CHATILLON, LANCRANS} <= set(cog.former_codes()[VALSERHONE])
    assert VALSERHONE in mapping.known and not {CHATILLON, LANCRANS} & mapping.known
    assert mapping.targets(CHATILLON) == [VALSERHONE] == mapping.targets(LANCRANS)
    assert 5 in [m.version for m in MIGRATIONS]


def test_merged_communes_go_to_the_commune_nouvelle(scenario_location, mapping):
    ids = drawn_on(
        scenario_location,
        "Ain 2018",
        2018,
        {"Pays bellegardien": [CHATILLON, LANCRANS, OTHER, "01999"], "Voisin": ["01004"]},
    )
    store = ScenarioStore(scenario_location, cog=mapping)
    scen = store.get("Ain 2018")
    assert scen.cog_year == 2026
    assert scen.territory(ids["Pays bellegardien"]).communes == {VALSERHONE, OTHER, "01999"}
    assert scen.territory(ids["Voisin"]).communes == {"01004"}
    report = scen.cog_report
    assert report.startswith("Passage de COG 2018 au COG 2026")
    assert f"« Pays bellegardien » : {CHATILLON}, {LANCRANS} → {VALSERHONE}" in report
    assert "01999 (« Pays bellegardien ») est inconnue du COG 2026" in report
    assert report in scen.notes  # kept in the scenario's notes
    assert store.take_cog_report("Ain 2018") == report and store.take_cog_report("Ain 2018") == ""
    journal = [h for h in store.history("Ain 2018") if h["action"] == "cog"]
    assert journal and journal[0]["added"] == [VALSERHONE]
    assert journal[0]["removed"] == [CHATILLON, LANCRANS]
    # Opened again (another instance): nothing more moves, no report.
    again = ScenarioStore(scenario_location, cog=mapping).get("Ain 2018")
    assert again.cog_report == "" and again.notes == scen.notes
    assert again.territory(ids["Pays bellegardien"]).communes == {VALSERHONE, OTHER, "01999"}


def test_commune_claimed_by_two_territories_after_the_merge(scenario_location, mapping):
    ids = drawn_on(
        scenario_location,
        "Ain 2018",
        2018,
        {"Michaille": [CHATILLON], "Bellegarde": [VALSERHONE, LANCRANS]},
    )
    scen = ScenarioStore(scenario_location, cog=mapping).get("Ain 2018")
    assert scen.territory(ids["Bellegarde"]).communes == {VALSERHONE}  # it held the chef-lieu
    assert scen.territory(ids["Michaille"]).communes == set()
    assert (
        f"À vérifier : {VALSERHONE} revendiquée par « Michaille » et « Bellegarde » après la fusion : "
        "gardée dans « Bellegarde »." in scen.cog_report
    )
    assert scen.assignment()[VALSERHONE] == [ids["Bellegarde"]]


def test_claimed_by_two_with_overlap_allowed_stays_in_both(scenario_location, mapping):
    ids = drawn_on(
        scenario_location,
        "Ain 2018",
        2018,
        {"Michaille": [CHATILLON], "Lancrans": [LANCRANS]},
        overlap=True,
    )
    scen = ScenarioStore(scenario_location, cog=mapping).get("Ain 2018")
    assert sorted(scen.assignment()[VALSERHONE]) == sorted(ids.values())
    assert "chevauchement autorisé" in scen.cog_report


def test_new_scenarios_remember_the_cog_and_old_ones_are_stamped(scenario_location, mapping):
    store = ScenarioStore(scenario_location, cog=mapping)
    assert store.create("Neuf").cog_year == 2026
    ScenarioStore(scenario_location).create(
        "Sans COG", notes="mes notes"
    )  # drawn before it was kept
    old = ScenarioStore(scenario_location).get("Sans COG")
    assert old.cog_year is None
    scen = store.get("Sans COG")
    assert scen.cog_year == 2026 and scen.cog_report == "" and scen.notes == "mes notes"


def test_restoring_before_the_migration_migrates_again(scenario_location, mapping):
    ids = drawn_on(scenario_location, "Ain 2018", 2018, {"T": [CHATILLON]})
    before = ScenarioStore(scenario_location).history("Ain 2018")[-1]["id"]  # a store without COG
    store = ScenarioStore(scenario_location, cog=mapping)
    assert store.get("Ain 2018").territory(ids["T"]).communes == {VALSERHONE}
    store.restore("Ain 2018", before)
    assert ScenarioStore(scenario_location).get("Ain 2018").territory(ids["T"]).communes == {
        CHATILLON
    }
    scen = ScenarioStore(scenario_location, cog=mapping).get("Ain 2018")
    assert scen.territory(ids["T"]).communes == {VALSERHONE} and scen.cog_year == 2026


def test_split_commune_is_flagged(mapping):
    """A former commune spread over several base communes (a base on an older COG than the package)."""
    # as if Valserhône had been undone into its former communes
    base = (mapping.known - {VALSERHONE}) | {CHATILLON, LANCRANS}
    older = CogMapping(2027, frozenset(base), mapping.successors)
    scen = Scenario(
        1,
        "S",
        "",
        False,
        "",
        "",
        "",
        [Territory(7, "T", "proposition", "#000000", "", False, {VALSERHONE})],
    )
    migration, result = plan(scen, older, allow_overlap=False)
    assert {CHATILLON, LANCRANS} <= result[7]
    assert any("répartie entre" in text for text in migration.flagged)
