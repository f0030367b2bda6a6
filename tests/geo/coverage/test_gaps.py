"""Coverage of a scope by territories, on real communes: the EPCIs taken as if they were CPTS.

Expected uncovered clusters are computed independently from the commune
shapes (shapely union of the removed EPCIs), not with the adjacency graph.
"""

import csv
import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import shapely

from geo.base.geometry import dissolve
from geo.base.scope import parse_scope
from geo.coverage.gaps import (
    assignment_for,
    clusters_geojson,
    coverage,
    coverage_json,
    uncovered_csv,
)
from geo.errors import DataError
from geo.sources.finess import import_finess
from geo.store import layers as store
from geo.store.scenarios import ScenarioStore
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


def epci_assignment(communes) -> dict[str, list[str]]:
    """Every commune of France -> [its EPCI], as if the EPCIs were the CPTS."""
    known = communes[communes["epci"].notna() & (communes["epci"] != "")]
    return {code: [epci] for code, epci in zip(known["insee"], known["epci"])}


def epci_of(communes, insee: str) -> str:
    return communes.loc[communes["insee"] == insee, "epci"].iloc[0]


def expected_clusters(communes, removed_codes) -> list[set[str]]:
    """Groups of communes whose shapes touch (within the tolerance), from a union of buffered shapes."""
    sub = communes[communes["insee"].isin(removed_codes) & communes.geometry.notna()]
    merged = shapely.union_all(shapely.buffer(sub.geometry.to_numpy(), TOLERANCE / 2))
    groups = []
    points = sub.geometry.representative_point()
    for part in shapely.get_parts(merged):
        groups.append(set(sub.loc[points.within(part).to_numpy(), "insee"]))
    return sorted(groups, key=lambda g: min(g))


def test_parse_scope_accepts_and_refuses(ctx):
    assert tuple(parse_scope("fr")) == ("fr", "")
    assert tuple(parse_scope("reg:76")) == ("reg", "76")
    assert tuple(parse_scope("dep:31")) == ("dep", "31")
    assert tuple(parse_scope("dep:2a")) == ("dep", "2A")
    assert tuple(parse_scope("dep:9")) == ("dep", "09")
    kind, code = parse_scope(" DEP:2B ")
    assert (kind, code) == ("dep", "2B")
    with pytest.raises(DataError, match="département de code « 99 » n'existe pas"):
        parse_scope("dep:99")
    with pytest.raises(DataError, match="région de code « 00 » n'existe pas"):
        parse_scope("reg:00")
    for bad in ("", "dep:", "canton:12", "31"):
        with pytest.raises(DataError, match="invalide"):
            parse_scope(bad)
    ariege = parse_scope("dep:09")
    assert parse_scope(ariege) is ariege  # coverage() takes a spec or a Scope
    assert coverage(ariege, {}, ctx).scope == coverage("dep:09", {}, ctx).scope == ariege


def test_occitanie_epcis_cover_the_region_without_overlap(ctx, communes):
    result = coverage("reg:76", epci_assignment(communes), ctx)
    occ = communes[communes["reg"] == "76"]
    assert len(result.communes) == len(occ) > 4000
    assert result.uncovered == [] and result.clusters == [] and result.overlaps == {}
    assert result.population == int(occ["population"].fillna(0).sum())
    assert result.covered_population == result.population and result.uncovered_population == 0
    assert result.uncovered_share == 0.0
    assert (
        sorted(result.by_departement["code"]) == sorted(occ["dep"].unique())
        and len(result.by_departement) == 13
    )
    assert (result.by_departement["population_non_couverte"] == 0).all()
    assert (
        result.by_region["code"].tolist() == ["76"]
        and result.by_region["nom"].iloc[0] == "Occitanie"
    )
    out = coverage_json(result)
    assert out["uncovered_communes"] == 0 and out["overlap_communes"] == 0 and out["clusters"] == []
    json.dumps(out)


def test_removed_epcis_are_the_uncovered_clusters(ctx, communes):
    occ = communes[communes["reg"] == "76"]
    epcis = occ.dissolve(by="epci")
    pamiers = epci_of(communes, "09225")
    # an EPCI sharing a border with Pamiers' one (found with shapely, not with our adjacency), and Mende's, far away
    touching = epcis.index[
        epcis.geometry.intersects(epcis.at[pamiers, "geometry"].buffer(TOLERANCE))
        & (epcis.index != pamiers)
    ]
    inside = [
        e for e in sorted(touching) if set(communes.loc[communes["epci"] == e, "reg"]) == {"76"}
    ]
    neighbour = inside[0]
    mende = epci_of(communes, "48095")
    removed = {pamiers, neighbour, mende}
    assignment = {c: t for c, t in epci_assignment(communes).items() if t[0] not in removed}

    result = coverage("reg:76", assignment, ctx)
    removed_communes = occ[occ["epci"].isin(removed)]
    assert set(result.uncovered) == set(removed_communes["insee"])
    assert result.uncovered_population == int(removed_communes["population"].fillna(0).sum())
    assert result.covered_population == result.population - result.uncovered_population
    assert result.uncovered_share == pytest.approx(result.uncovered_population / result.population)

    expected = expected_clusters(communes, set(removed_communes["insee"]))
    got = sorted((set(cl.communes) for cl in result.clusters), key=lambda g: min(g))
    assert got == expected
    assert len(got) == 2  # the two neighbouring EPCIs merge into one cluster
    pops = [cl.population for cl in result.clusters]
    assert pops == sorted(pops, reverse=True) and [cl.rank for cl in result.clusters] == [1, 2]
    for cl in result.clusters:
        part = communes[communes["insee"].isin(cl.communes)]
        assert cl.population == int(part["population"].fillna(0).sum())
        assert cl.departements == sorted(part["dep"].unique())
        assert cl.enclave  # inland, every neighbour belongs to another EPCI
        assert cl.neighbour_territories and all(
            t not in removed for t, _ in cl.neighbour_territories
        )
    ariege = result.by_departement.set_index("code").loc["09"]
    in_09 = removed_communes[removed_communes["dep"] == "09"]
    assert ariege["population_non_couverte"] == int(in_09["population"].fillna(0).sum())
    assert ariege["communes_non_couvertes"] == len(in_09)


def test_enclave_rule_at_scope_edge_and_islands(ctx, communes):
    everything = epci_assignment(communes)
    pamiers = epci_of(communes, "09225")
    outside = communes[(communes["dep"] == "31")]
    # an EPCI of Haute-Garonne touching Pamiers' EPCI (shapely), removed too: the Ariège cluster
    # continues beyond the scope
    shape = shapely.buffer(
        shapely.union_all(communes[communes["epci"] == pamiers].geometry.to_numpy()), TOLERANCE
    )
    across = sorted(outside.loc[outside.geometry.intersects(shape), "epci"].unique())
    assert across
    assignment = {c: t for c, t in everything.items() if t[0] not in {pamiers, across[0]}}
    result = coverage("dep:09", assignment, ctx)
    assert [cl.enclave for cl in result.clusters] == [False]
    assert set(result.clusters[0].communes) == set(
        communes.loc[communes["epci"] == pamiers, "insee"]
    )
    assert (
        coverage("dep:09", {c: t for c, t in everything.items() if t[0] != pamiers}, ctx)
        .clusters[0]
        .enclave
    )

    # Île-d'Yeu belongs to no EPCI and has no neighbour: uncovered, never an enclave
    vendee = coverage("dep:85", everything, ctx)
    no_epci = communes[
        (communes["dep"] == "85") & (communes["epci"].isna() | (communes["epci"] == ""))
    ]
    assert set(vendee.uncovered) == set(no_epci["insee"]) == {"85113"}
    assert [(cl.communes, cl.enclave, cl.neighbour_territories) for cl in vendee.clusters] == [
        (["85113"], False, [])
    ]


def test_overlaps_are_counted_once(ctx, communes):
    assignment = epci_assignment(communes)
    toulouse_metro = communes.loc[communes["epci"] == epci_of(communes, "31555"), "insee"].tolist()
    for code in toulouse_metro[:5]:
        assignment[code] = assignment[code] + [
            "CPTS de test",
            assignment[code][0],
        ]  # duplicate label ignored
    result = coverage("dep:31", assignment, ctx)
    assert sorted(result.overlaps) == sorted(toulouse_metro[:5])
    assert all(len(v) == 2 for v in result.overlaps.values())
    assert result.uncovered == [] and result.covered_population == result.population
    assert result.by_departement["communes_chevauchement"].tolist() == [5]


def test_exports(ctx, communes):
    removed = {epci_of(communes, "09225"), epci_of(communes, "48095")}
    assignment = {c: t for c, t in epci_assignment(communes).items() if t[0] not in removed}
    result = coverage("reg:76", assignment, ctx)

    text = uncovered_csv(result, ctx).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0] == ["code_insee", "nom", "departement", "population", "cluster"]
    assert sorted(r[0] for r in rows[1:]) == sorted(result.uncovered)
    assert sum(int(r[3]) for r in rows[1:]) == result.uncovered_population
    by_code = communes.set_index("insee")
    assert all(
        r[1] == by_code.at[r[0], "name"] and r[2] == by_code.at[r[0], "dep"] for r in rows[1:]
    )
    assert {int(r[4]) for r in rows[1:]} == {cl.rank for cl in result.clusters}

    doc = clusters_geojson(result, ctx)
    assert doc["type"] == "FeatureCollection" and "crs" not in doc
    assert len(doc["features"]) == len(result.clusters)
    for feat, cl in zip(doc["features"], result.clusters):
        props = feat["properties"]
        assert props["population"] == cl.population and props["communes"] == cl.communes
        assert {"msp_count", "enclave", "departements", "commune_count"} <= set(props)
        shape = shapely.from_geojson(json.dumps(feat["geometry"]))
        assert shape.is_valid and not shape.is_empty
        for poly in shapely.get_parts(shape):
            assert poly.exterior.is_ccw  # RFC 7946: exterior rings counter-clockwise
        points = communes[communes["insee"].isin(cl.communes)].geometry.representative_point()
        assert shapely.covers(shape.buffer(1e-5), points.to_numpy()).all()
        area = shapely.area(communes[communes["insee"].isin(cl.communes)].geometry.to_numpy()).sum()
        assert shape.area == pytest.approx(area, rel=1e-3)


def test_msp_count_from_imported_finess(ctx, communes, shared_data):
    import_finess(shared_data / "finess" / "etalab-cs1100507-occitanie.csv")
    ctx = context()
    removed = {epci_of(communes, "09225")}
    assignment = {c: t for c, t in epci_assignment(communes).items() if t[0] not in removed}
    result = coverage("dep:09", assignment, ctx)
    finess = store.read_layer("finess")
    cluster = result.clusters[0]
    expected = int(((finess["kind"] == "msp") & finess["insee"].isin(cluster.communes)).sum())
    assert cluster.msp_count == expected > 0


def test_scenario_territories_complete_the_coverage(ctx, communes, tmp_path):
    store = ScenarioStore(tmp_path / "test-scenarios.sqlite")
    pamiers = communes.loc[communes["epci"] == epci_of(communes, "09225"), "insee"].tolist()
    store.create_from("Complément", [{"name": "Basse Ariège", "communes": pamiers}])
    merged = assignment_for(ctx, scenario="Complément", store=store)
    assert {merged[c][0] for c in pamiers} == {"Basse Ariège (scénario)"}
    result = coverage("dep:09", merged, ctx)
    assert set(result.covered) == set(pamiers) and len(result.uncovered) == len(
        result.communes
    ) - len(pamiers)
    with pytest.raises(DataError, match="n'existe pas"):
        assignment_for(ctx, scenario="Inconnu", store=store)


def test_empty_assignment_and_no_cpts_layer(ctx, communes):
    assert assignment_for(ctx) == {}  # no CPTS layer in this data directory
    result = coverage("dep:48", None, ctx)
    loz = communes[communes["dep"] == "48"]
    assert (
        result.uncovered_population == result.population == int(loz["population"].fillna(0).sum())
    )
    assert (
        len(result.clusters) == 1 and not result.clusters[0].enclave
    )  # no covered neighbour at all


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


def test_cli_coverage(isolated_data, communes):
    out = run_cli(isolated_data, "coverage", "--scope", "dep:09", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    ariege = communes[communes["dep"] == "09"]
    assert (
        doc["population"]
        == doc["uncovered_population"]
        == int(ariege["population"].fillna(0).sum())
    )
    assert doc["uncovered_communes"] == len(ariege) and doc["overlap_communes"] == 0
    assert [c["population"] for c in doc["clusters"]] == [doc["population"]]
    assert {"communes", "population", "msp_count", "enclave", "departements"} <= set(
        doc["clusters"][0]
    )

    pamiers = communes.loc[communes["epci"] == epci_of(communes, "09225"), "insee"].tolist()
    ScenarioStore().create_from("Essai", [{"name": "Basse Ariège", "communes": pamiers}])
    out = run_cli(isolated_data, "coverage", "--scope", "dep:09", "--scenario", "Essai", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    covered = int(communes.loc[communes["insee"].isin(pamiers), "population"].sum())
    assert doc["covered_population"] == covered and doc["uncovered_communes"] == len(ariege) - len(
        pamiers
    )

    out = run_cli(isolated_data, "coverage", "--scope", "dep:99", "--json")
    assert out.returncode == 2 and "« 99 » n'existe pas" in out.stderr and not out.stdout
    out = run_cli(isolated_data, "coverage", "--scope", "", "--json")
    assert out.returncode == 2 and "invalide" in out.stderr


def test_france_with_every_epci(ctx, communes):
    result = coverage("fr", epci_assignment(communes), ctx)
    no_epci = communes[communes["epci"].isna() | (communes["epci"] == "")]
    assert set(result.uncovered) == set(no_epci["insee"])
    assert len(result.territories) == communes["epci"].nunique() > 1200
    assert result.uncovered_population == int(no_epci["population"].fillna(0).sum())
    assert np.isclose(
        result.by_region["population_non_couverte"].sum(), result.uncovered_population
    )


def test_zone_shapes_of_whole_departements_match_the_communes(ctx, communes):
    # Occitanie with only Ariège's EPCIs as CPTS: one cluster holds the 12 other départements whole
    ariege = set(communes.loc[communes["dep"] == "09", "insee"])
    assignment = {c: t for c, t in epci_assignment(communes).items() if c in ariege}
    result = coverage("reg:76", assignment, ctx)
    biggest = result.clusters[0]
    deps = communes.loc[communes["insee"].isin(biggest.communes), "dep"]
    whole = [d for d in deps.unique() if (communes["dep"] == d).sum() == (deps == d).sum()]
    assert len(whole) >= 10  # the shortcut through the départements' own shapes is taken
    doc = clusters_geojson(result, ctx)
    shape = shapely.from_geojson(json.dumps(doc["features"][0]["geometry"]))
    by_commune = dissolve(
        communes.loc[communes["insee"].isin(biggest.communes)].geometry.to_numpy()
    )
    assert shape.is_valid
    assert shape.area == pytest.approx(by_commune.area, rel=1e-6)
    assert shape.symmetric_difference(by_commune).area < 1e-6 * by_commune.area
