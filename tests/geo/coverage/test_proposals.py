"""Proposals of territories (max-p with a population floor) on real départements."""

import json
import os
import subprocess
import sys

import pytest
import shapely

from geo.coverage import regionalise
from geo.coverage.proposals import Cancelled, propose, to_scenario
from geo.errors import DataError
from geo.sources.finess import import_finess
from geo.store import layers as store
from geo.store.scenarios import ScenarioStore
from geo.territory.aci import aci_size
from geo.territory.context import context
from tests.conftest import REPO as _REPO


@pytest.fixture(scope="module")
def communes(communes_in_use):
    """Expectations add up the populations in use (legal populations in force), never the 2017 ones."""
    return communes_in_use


REPO = str(_REPO)
TOLERANCE = 1e-4  # degrees, the adjacency tolerance of geo.base.adjacency


@pytest.fixture
def ctx(isolated_data):
    return context()


def dep_codes(communes, *deps) -> list[str]:
    return sorted(communes.loc[communes["dep"].isin(deps), "insee"])


def population(communes, codes) -> int:
    return int(communes.loc[communes["insee"].isin(codes), "population"].fillna(0).sum())


def pieces_by_shape(communes, codes) -> int:
    """Number of separate pieces of the union of the communes' shapes (independent of our adjacency graph)."""
    geoms = communes.loc[communes["insee"].isin(codes)].geometry.to_numpy()
    return len(shapely.get_parts(shapely.union_all(shapely.buffer(geoms, TOLERANCE / 2))))


def check_partition(proposal, codes):
    seen = [c for t in proposal.territories for c in t["communes"]]
    assert len(seen) == len(set(seen)), "a commune is in two territories"
    assert set(seen) == set(codes)


def test_ariege_all_communes_floor_20000(ctx, communes):
    codes = dep_codes(communes, "09")
    progress = []
    proposal = propose(
        codes, ctx, min_pop=20000, seed=1, progress=lambda f, m: progress.append((f, m))
    )
    check_partition(proposal, codes)
    assert proposal.population == population(communes, codes)
    assert (
        len(proposal.territories) >= 5
    )  # 153,000 inhabitants: several territories of at least 20,000
    for terr in proposal.territories:
        assert terr["population"] == population(communes, terr["communes"])
        assert terr["aci_size"] == aci_size(terr["population"])
        assert terr["contiguous"] and len(ctx.graph.parts(terr["communes"])) == 1
        assert pieces_by_shape(communes, terr["communes"]) == 1
        assert terr["population"] >= 20000 or terr["explanation"]
        assert terr["name"] and terr["status"] == "proposition"
    assert len({t["name"] for t in proposal.territories}) == len(proposal.territories)
    assert progress[-1][0] == 1.0 and [f for f, _ in progress] == sorted(f for f, _ in progress)

    again = propose(list(reversed(codes)), ctx, min_pop=20000, seed=1)
    assert [t["communes"] for t in again.territories] == [
        t["communes"] for t in proposal.territories
    ]
    assert [t["name"] for t in again.territories] == [t["name"] for t in proposal.territories]


def test_maximum_is_enforced_or_explained(ctx, communes):
    codes = dep_codes(communes, "09")
    proposal = propose(codes, ctx, min_pop=20000, max_pop=30000, seed=3)
    check_partition(proposal, codes)
    for terr in proposal.territories:
        assert terr["contiguous"]
        within = 20000 <= terr["population"] <= 30000
        assert within or terr["explanation"]
        assert terr["above_max"] == (terr["population"] > 30000)

    # Toulouse alone is above any reasonable maximum: kept whole, explained
    hg = propose(dep_codes(communes, "31"), ctx, min_pop=20000, max_pop=175000, seed=1)
    toulouse = next(t for t in hg.territories if "31555" in t["communes"])
    assert toulouse["above_max"] and "Toulouse" in toulouse["explanation"]
    assert all(t["population"] <= 175000 for t in hg.territories if "31555" not in t["communes"])


def test_keep_departements(ctx, communes):
    codes = dep_codes(communes, "09", "11")
    proposal = propose(codes, ctx, min_pop=25000, keep_departements=True, seed=2)
    check_partition(proposal, codes)
    by_code = communes.set_index("insee")["dep"]
    for terr in proposal.territories:
        assert len({by_code[c] for c in terr["communes"]}) == 1
        assert terr["departements"] in (["09"], ["11"])
        assert terr["contiguous"]


def test_isolated_small_zone_is_explained_with_neighbouring_cpts(ctx, communes):
    # a test assignment: every EPCI of France taken as a CPTS, except Mende's (about 20 communes in Lozère)
    mende = communes.loc[communes["insee"] == "48095", "epci"].iloc[0]
    small = sorted(communes.loc[communes["epci"] == mende, "insee"])
    known = communes[communes["epci"].notna()]
    assignment = {c: [e] for c, e in zip(known["insee"], known["epci"]) if e != mende}
    codes = dep_codes(communes, "09") + small
    proposal = propose(
        codes,
        ctx,
        min_pop=max(20000, population(communes, small) + 1),
        seed=1,
        assignment=assignment,
    )
    check_partition(proposal, codes)
    below = [t for t in proposal.territories if t["below_floor"]]
    assert [sorted(t["communes"]) for t in below] == [small]
    # expected neighbour: the EPCI holding the most communes touching the zone (from the shapes)
    zone = shapely.buffer(
        shapely.union_all(communes.loc[communes["insee"].isin(small)].geometry.to_numpy()),
        TOLERANCE,
    )
    around = communes[communes.geometry.intersects(zone) & ~communes["insee"].isin(small)]
    best = around["epci"].value_counts()
    top = sorted(best[best == best.max()].index)[0]
    assert f"« {top} »" in below[0]["explanation"] and "rattacher" in below[0]["explanation"]
    assert below[0]["explanation"] in proposal.explanations


def test_bad_inputs(ctx, communes):
    with pytest.raises(DataError, match="zone à découper est vide"):
        propose([], ctx)
    with pytest.raises(DataError, match="inconnus.*99999"):
        propose(["09122", "99999"], ctx)
    ariege = dep_codes(communes, "09")
    total = population(communes, ariege)
    with pytest.raises(DataError, match="moins d'habitants que le plancher"):
        propose(ariege, ctx, min_pop=total + 1)
    with pytest.raises(DataError, match="plancher de population doit être positif"):
        propose(ariege, ctx, min_pop=0)
    with pytest.raises(DataError, match="inférieur au plancher"):
        propose(ariege, ctx, min_pop=20000, max_pop=10000)
    with pytest.raises(Cancelled, match="annulé"):
        propose(ariege, ctx, cancel=lambda: True)
    assert issubclass(Cancelled, DataError)


def test_to_scenario_makes_an_editable_draft(ctx, communes, tmp_path):
    proposal = propose(dep_codes(communes, "09"), ctx, min_pop=20000, seed=1)
    store = ScenarioStore(tmp_path / "test-scenarios.sqlite")
    scen = to_scenario(proposal, store, "Proposition Ariège", scope="dep:09")
    assert scen.scope == "dep:09"
    assert sorted((t.name, sorted(t.communes)) for t in scen.territories) == sorted(
        (t["name"], t["communes"]) for t in proposal.territories
    )
    assert {t.status for t in scen.territories} == {"proposition"}
    tid = scen.territories[0].id
    moved = sorted(scen.territories[1].communes)[0]
    change = store.change_communes("Proposition Ariège", tid, add=[moved])
    assert change.refused  # no overlap: the commune is held by another territory
    with pytest.raises(DataError, match="existe déjà"):
        to_scenario(proposal, store, "Proposition Ariège")


def run_cli(data_dir, *args):
    env = {**os.environ, "CARTOCPTS_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "geo", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_propose(isolated_data, communes):
    out = run_cli(
        isolated_data,
        "propose",
        "--scope",
        "dep:09",
        "--min-pop",
        "20000",
        "--seed",
        "1",
        "--json",
        "--save",
        "Essai CLI",
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    codes = dep_codes(communes, "09")  # no CPTS layer: every commune is uncovered
    assert sorted(c for t in doc["territories"] for c in t["communes"]) == codes
    for terr in doc["territories"]:
        assert {"communes", "population", "aci_size", "contiguous"} <= set(terr)
        assert terr["contiguous"] and (terr["population"] >= 20000 or terr["explanation"])
    assert doc["scenario"] == "Essai CLI"
    assert len(ScenarioStore().get("Essai CLI").territories) == len(doc["territories"])

    again = run_cli(
        isolated_data, "propose", "--scope", "dep:09", "--min-pop", "20000", "--seed", "1", "--json"
    )
    assert [t["communes"] for t in json.loads(again.stdout)["territories"]] == [
        t["communes"] for t in doc["territories"]
    ]

    out = run_cli(isolated_data, "propose", "--scope", "dep:09", "--min-pop", "10000000", "--json")
    assert out.returncode == 2 and "plancher" in out.stderr and not out.stdout
    out = run_cli(isolated_data, "propose", "--scope", "dep:99")
    assert out.returncode == 2 and "n'existe pas" in out.stderr


def test_island_without_neighbour_is_explained(ctx, communes):
    codes = dep_codes(communes, "29")  # Finistère, with Ouessant (29155), an island commune
    proposal = propose(codes, ctx, min_pop=20000, seed=1)
    check_partition(proposal, codes)
    island = next(t for t in proposal.territories if "29155" in t["communes"])
    assert island["communes"] == ["29155"] and island["below_floor"]
    assert island["name"].startswith("Zone à rattacher") and "île" in island["explanation"]
    assert all(t["population"] >= 20000 for t in proposal.territories if not t["below_floor"])


def msp_communes(shared_data) -> set[str]:
    """Communes holding an MSP, read from the imported FINESS layer (not from the context the proposal uses)."""
    import_finess(shared_data / "finess" / "etalab-cs1100507-occitanie.csv")
    finess = store.read_layer("finess")
    return set(finess.loc[finess["kind"] == "msp", "insee"])


def holds_msp(terr, msp) -> bool:
    return bool(set(terr["communes"]) & msp)


def test_territories_around_msps(isolated_data, communes, shared_data):
    msp = msp_communes(shared_data)
    ctx = context()
    codes = dep_codes(communes, "31")
    free = propose(codes, ctx, min_pop=20000, seed=1, around_msp=False)
    around = propose(codes, ctx, min_pop=20000, seed=1)
    for proposal in (free, around):
        check_partition(proposal, codes)
        assert all(t["contiguous"] for t in proposal.territories)
        assert all(t["population"] >= 20000 or t["explanation"] for t in proposal.territories)
        assert proposal.msp_territories == sum(holds_msp(t, msp) for t in proposal.territories)
    assert around.params["around_msp"] and not free.params["around_msp"]
    assert around.msp_territories >= free.msp_territories
    assert "sans tenir compte des MSP" in free.notes[0]
    # Haute-Garonne, 45 MSP communes: forcing an MSP into every territory keeps more MSP territories here,
    # and the note gives both cuts' figures
    (note,) = around.notes
    assert "autour des MSP retenu" in note
    assert (
        f"{len(around.territories)} territoire(s) dont {around.msp_territories} avec une MSP"
        in note
    )
    assert (
        f"un découpage libre en donnait {len(free.territories)}, dont {free.msp_territories}"
        in note
    )
    assert all(holds_msp(t, msp) for t in around.territories)
    finess = store.read_layer(
        "finess"
    )  # each territory carries the diagnostics of the territory page
    for terr in around.territories:
        inside = finess[finess["insee"].isin(terr["communes"])]
        assert terr["msp_count"] == int((inside["kind"] == "msp").sum())
        assert terr["centres_sante_count"] == int((inside["kind"] == "centre_sante").sum())
        assert (
            terr["apl"] is None and terr["irdes_mix"] is None
        )  # no APL nor typology imported here
    assert all(t["name"].startswith("CPTS autour ") for t in around.territories)
    assert around.msp_territories > free.msp_territories

    again = propose(list(reversed(codes)), ctx, min_pop=20000, seed=1)
    assert [t["communes"] for t in again.territories] == [t["communes"] for t in around.territories]


def test_without_finess_the_note_says_msps_are_unknown(ctx, communes):
    proposal = propose(dep_codes(communes, "09"), ctx, min_pop=20000, seed=1)
    assert proposal.msp_territories == 0 and "FINESS non importé" in proposal.notes[0]


def test_child_process_gives_the_same_cut(ctx, communes, monkeypatch):
    codes = dep_codes(communes, "09")
    here = propose(codes, ctx, min_pop=20000, max_pop=30000, seed=3)
    monkeypatch.setattr(
        regionalise, "CHILD_UNITS", 0
    )  # every cut, AZP splits included, in a child process
    child = propose(codes, ctx, min_pop=20000, max_pop=30000, seed=3)
    assert [t["communes"] for t in child.territories] == [t["communes"] for t in here.territories]


def test_cancel_stops_a_large_part_while_it_is_cut(ctx, communes):
    occitanie = sorted(communes.loc[communes["reg"] == "76", "insee"])
    assert len(max(ctx.graph.parts(occitanie), key=len)) > regionalise.CHILD_UNITS
    messages, calls = [], []

    def cancel():
        calls.append(len(messages))
        return (
            len(calls) > 1
        )  # the first check is before the part; the second comes while the child cuts it

    with pytest.raises(Cancelled):
        propose(
            occitanie,
            ctx,
            min_pop=20000,
            seed=1,
            progress=lambda f, m: messages.append(m),
            cancel=cancel,
        )
    # stopped during part 1 (the mainland, cut in a child process): nothing was reported after its start
    parts = ctx.graph.parts(occitanie)
    assert messages == [f"Découpage de la partie 1 sur {len(parts)} ({len(parts[0])} communes)"]
    assert calls == [0, 1]  # checked before part 1 was announced, then once while it was cut


def test_child_process_errors_are_clear(monkeypatch):
    monkeypatch.setattr(regionalise, "CHILD_UNITS", 0)
    unreachable = regionalise.Job(
        kind="maxp",
        neighbours=[[1], [0]],
        coords=[[0.0, 1.0], [0.0, 1.0]],
        bounds=[(10.0, [1.0, 1.0])],
    )
    with pytest.raises(DataError, match="Borne inatteignable"):
        regionalise.run(unreachable)
    broken = regionalise.Job(
        kind="inconnu",
        neighbours=[[1], [0]],
        coords=[[0.0, 1.0], [0.0, 1.0]],
        bounds=[(1.0, [1.0, 1.0])],
    )
    with pytest.raises(DataError, match="a échoué dans la bibliothèque libgeoda.*inconnu"):
        regionalise.run(broken)
