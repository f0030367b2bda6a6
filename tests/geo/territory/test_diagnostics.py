"""Diagnostics of territories on real communes (an EPCI of Occitanie taken as a territory); the typed
``Diagnostics``, the ``Plan``, the context's cache and its immutability."""

import json
import subprocess
import sys
from dataclasses import fields

import pandas as pd
import pytest
import shapely

from geo.base.adjacency import graph
from geo.base.search import epci_members as search_epci_members
from geo.base.search import search_communes
from geo.formats import french
from geo.sources.population import vintage_heading
from geo.store import layers as store
from geo.store.scenarios import Scenario, Territory
from geo.territory.aci import AciEdge, aci_size, distance_to_edge
from geo.territory.context import context
from geo.territory.diagnostics import (
    GEOMETRY_FIELDS,
    CptsOverlap,
    Diagnostics,
    Tally,
    TerritoryOverlap,
    assess,
    diagnose,
    with_apl_reference,
)
from geo.territory.export import to_geojson
from geo.territory.plan import Plan


@pytest.fixture(scope="module")
def ctx(base_dir):
    return context()


def epci_members(ctx, insee):
    communes = ctx.communes
    return communes.index[communes["epci"] == communes.at[insee, "epci"]].tolist()


@pytest.mark.parametrize(
    "population,size",
    [
        (0, 1),
        (39_999, 1),
        (40_000, 2),
        (79_999, 2),
        (80_000, 3),
        (175_000, 3),
        (175_001, 4),
    ],
)
def test_aci_band_edges(population, size):
    assert aci_size(population) == size


def test_distance_to_edge():
    assert distance_to_edge(39_999).to_upper == 1
    assert distance_to_edge(175_000) == AciEdge(size=3, to_lower=95_001, to_upper=1, nearest=1)
    assert distance_to_edge(175_000).to_dict() == {
        "size": 3,
        "to_lower": 95_001,
        "to_upper": 1,
        "nearest": 1,
    }
    assert distance_to_edge(175_001).to_upper is None


def test_epci_of_foix(ctx):
    codes = epci_members(ctx, "09122")
    result = assess(codes, ctx)
    expected_pop = int(ctx.population_series.loc[codes].sum())  # the populations in use
    assert result["population"] == expected_pop
    assert result["commune_count"] == len(codes)
    assert result["contiguous"] and result["parts"] == 1
    assert result["departements"] == ["09"] and result["regions"] == ["76"]
    assert result["multi_region"] is False
    assert result["unknown_codes"] == []
    assert 0 < result["polsby_popper"] < 1
    area = float(ctx.communes.loc[codes, "area_km2"].sum())
    assert result["area_km2"] == pytest.approx(area, abs=0.01)
    assert result["density"] == pytest.approx(expected_pop / area, rel=1e-3)


def test_every_epci_of_ariege_is_one_piece(ctx):
    communes = ctx.communes[ctx.communes["dep"] == "09"]
    for epci, group in communes.groupby("epci"):
        result = assess(group.index.tolist(), ctx)
        assert result["contiguous"], epci


def test_two_separate_communes_and_unknown_codes(ctx):
    result = assess(["09122", "09225", "99999", "abc"], ctx)  # Foix and Pamiers do not touch
    assert result["parts"] == 2 and not result["contiguous"]
    assert result["unknown_codes"] == ["99999", "ABC"]


def test_enclosed_commune(ctx):
    # Toulouse's neighbours form a ring around it: Toulouse is enclosed by them
    ring = ctx.graph.neighbours("31555")
    result = assess(ring, ctx)
    assert "31555" in result["enclosed"]


def test_incremental_tally_equals_fresh(ctx):
    codes = epci_members(ctx, "09122")
    tally = Tally.of(codes[:10], ctx)
    tally.update(ctx, add=codes[10:], remove=codes[:3])
    fresh = Tally.of(codes[3:], ctx)
    assert diagnose(tally, ctx) == diagnose(fresh, ctx)


def test_cross_region_flag(ctx):
    # Escaunets (65, Occitanie) is enclosed in Pyrénées-Atlantiques (Nouvelle-Aquitaine)
    result = assess(["65160"] + ctx.graph.neighbours("65160"), ctx)
    assert result["multi_region"] and len(result["regions"]) == 2


def test_cli_assess_json(ctx):
    codes = epci_members(ctx, "09122")
    out = subprocess.run(
        [sys.executable, "-m", "geo", "assess", "--communes", ",".join(codes), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout)
    for key in (
        "population",
        "population_vintage",
        "population_2017",
        "aci_size",
        "commune_count",
        "msp_count",
        "centres_sante_count",
        "cpts_seats_count",
        "irdes_mix",
        "apl",
        "contiguous",
        "parts",
        "departements",
        "regions",
        "area_km2",
        "density",
        "overlaps",
        "unknown_codes",
    ):
        assert key in result
    assert result["commune_count"] == len(codes)


def test_cli_assess_bad_codes(ctx):
    out = subprocess.run(
        [sys.executable, "-m", "geo", "assess", "--communes", "xx,123", "--json"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2
    assert "Aucun code INSEE connu" in out.stderr and "Traceback" not in out.stderr


# --------------------------------------------------------------------------- the typed Diagnostics


def test_every_field_is_documented_and_to_dict_gives_them_all(ctx):
    documented = [f.name for f in fields(Diagnostics)]
    for item in fields(Diagnostics):
        doc = item.metadata.get("doc", "")
        assert doc and "\n" not in doc and doc.endswith("."), item.name
    codes = epci_members(ctx, "09122")
    diag = with_apl_reference(diagnose(Tally.of(codes, ctx), ctx), ctx)
    assert list(diag.to_dict()) == [name for name in documented if name != "with_geometry"]
    # the JSON of ``geo assess``: the diagnostics of ``diagnose`` then the 2017 population (comparison),
    # the unknown codes and the reference APL
    result = assess(codes, ctx)
    assert list(result) == [
        *diagnose(Tally.of(codes, ctx), ctx).to_dict(),
        "population_2017",
        "unknown_codes",
        "apl_reference",
    ]
    base_2017 = int(ctx.communes.loc[codes, "population"].fillna(0).sum())
    assert result == {**diag.to_dict(), "population_2017": base_2017, "unknown_codes": []}
    assert json.loads(json.dumps(result)) == result  # plain JSON values only
    assert result["aci_edge"] == diag.aci_edge.to_dict() and diag.aci_edge.size == diag.aci_size


def test_without_geometry_the_shape_figures_are_absent(ctx):
    codes = epci_members(ctx, "09122")
    light = diagnose(Tally.of(codes, ctx), ctx, with_geometry=False)
    full = diagnose(Tally.of(codes, ctx), ctx)
    assert light.polsby_popper is None and light.enclosed is None and light.perimeter_km is None
    assert set(full.to_dict()) - set(light.to_dict()) == set(GEOMETRY_FIELDS)
    assert full.perimeter_km > 0 and full.enclosed == []
    assert {k: v for k, v in full.to_dict().items() if k not in GEOMETRY_FIELDS} == light.to_dict()


def test_overlaps_are_typed_and_serialised(ctx):
    foix = epci_members(ctx, "09122")
    others = {"Voisin": set(foix[:3]) | {"09225"}}
    diag = diagnose(Tally.of(foix, ctx), ctx, others=others)
    assert diag.territory_overlaps == [
        TerritoryOverlap(
            territory="Voisin",
            communes=sorted(foix[:3]),
            population=sum(ctx.population[c] for c in foix[:3]),
        )
    ]
    assert diag.to_dict()["territory_overlaps"] == [
        {
            "territory": "Voisin",
            "communes": sorted(foix[:3]),
            "population": diag.territory_overlaps[0].population,
        }
    ]
    assert all(isinstance(o, CptsOverlap) for o in diag.overlaps)


# --------------------------------------------------------------------------- the Plan


def _scenario(*territories) -> Scenario:
    return Scenario(
        id=1,
        name="S",
        scope="dep:09",
        allow_overlap=True,
        notes="",
        created_at="",
        updated_at="",
        territories=[
            Territory(
                id=i,
                name=name,
                status="projet",
                colour="#000000",
                notes="",
                locked=False,
                communes=set(codes),
            )
            for i, (name, codes) in enumerate(territories, 1)
        ],
    )


def test_plan_before_and_after_sync(ctx):
    plan = Plan(ctx)
    with pytest.raises(
        KeyError, match="not in the plan"
    ):  # not an AttributeError: the state exists from __init__
        plan.diagnostics(1)
    assert plan.table().empty
    foix = epci_members(ctx, "09122")
    scenario = _scenario(("Foix", foix), ("Pamiers", ["09225", foix[0]]))
    plan.sync(scenario)
    first = plan.diagnostics(1)
    assert first.commune_count == len(foix) and first.apl_reference is not None
    assert [o.territory for o in first.territory_overlaps] == ["Pamiers"]
    assert Plan(ctx, scenario).diagnostics(2) == plan.diagnostics(
        2
    )  # a plan built with its scenario
    table = plan.table()
    assert list(table["Territoire"]) == ["Foix", "Pamiers"]


def test_plan_table_keeps_numbers_and_writes_them_in_french(ctx):
    codes = ctx.communes.index[ctx.communes["dep"] == "09"].tolist()  # about 150 000 inhabitants
    table = Plan(ctx, _scenario(("Ariège", codes))).table()
    row = table.iloc[0]
    diag = diagnose(Tally.of(codes, ctx), ctx)
    heading = vintage_heading(diag.population_vintage)
    assert diag.population > 1000 and row[heading] == diag.population  # a number: sorted as one
    formats = french.column_formats(table, Plan.TABLE_DECIMALS)
    assert formats[heading](row[heading]) == f"{diag.population:,}".replace(",", "\u202f")
    area = formats["Superficie (km²)"](row["Superficie (km²)"])
    assert (
        area == french.decimal(diag.area_km2, 2) and "," in area and "\u202f" in area
    )  # « 4 903,27 »
    assert formats["Compacité (Polsby-Popper)"](row["Compacité (Polsby-Popper)"]).startswith("0,")
    assert "Territoire" not in formats and "D'un seul tenant" not in formats  # text stays text


def test_column_formats_write_missing_figures_as_a_dash():
    frame = pd.DataFrame({"Nom": ["a", "b"], "APL": [2.5, float("nan")], "MSP": [1200, 3]})
    formats = french.column_formats(frame, {"APL": 3})
    assert [formats["APL"](v) for v in frame["APL"]] == ["2,500", "—"]
    assert [formats["MSP"](v) for v in frame["MSP"]] == ["1\u202f200", "3"]
    assert set(formats) == {"APL", "MSP"}


# --------------------------------------------------------------------------- cache and immutability


def _cpts_rows(name: str, codes) -> pd.DataFrame:
    return pd.DataFrame(
        {"cpts_id": ["C1"] * len(codes), "cpts_nom": [name] * len(codes), "insee": list(codes)}
    )


def test_context_follows_a_rewritten_layer(isolated_data):
    before = context()
    assert context() is before and graph() is graph()  # cached while no layer changes
    assert not before.cpts_members
    store.write_layer(
        "cpts", _cpts_rows("CPTS du Couserans", ["09122", "09225"]), {"vintage": "v1"}
    )
    first = context()
    assert first is not before and first.cpts_members["09122"] == [("C1", "CPTS du Couserans")]
    assert context() is first
    store.write_layer("cpts", _cpts_rows("CPTS de Foix", ["09122"]), {"vintage": "v2"})
    second = context()
    assert second is not first and second.cpts_members == {"09122": [("C1", "CPTS de Foix")]}
    assert (
        second.vintages["cpts"] == "v2" and first.vintages["cpts"] == "v1"
    )  # the old one is left as it was
    assert second.graph is first.graph  # the adjacency layer did not change: the graph is kept
    store.remove_layer("cpts")
    assert not context().cpts_members


def _snapshot(ctx) -> dict:
    return {
        "communes": ctx.communes.drop(columns="geometry").copy(deep=True),
        "geometry": list(ctx.communes.geometry.values),
        "index": ctx.communes.index.copy(),
        "population": dict(ctx.population),
        "population_series": ctx.population_series.copy(),
        "dicts": {
            name: dict(getattr(ctx, name))
            for name in (
                "area",
                "dep",
                "reg",
                "geometry",
                "structure_counts",
                "typology",
                "cpts_members",
                "vintages",
            )
        },
        "codes": ctx.codes.copy(),
        "graph": ctx.graph.matrix.copy(),
    }


def test_search_and_diagnose_leave_the_shared_context_unchanged(ctx):
    before = _snapshot(ctx)
    foix = epci_members(ctx, "09122")
    assert len(search_communes("foix", ctx.communes.reset_index(drop=True))) >= 1
    assert len(search_communes("09", ctx.communes.reset_index(drop=True), limit=5)) == 5
    assert search_epci_members(ctx.communes.at["09122", "epci"], ctx) == foix
    diag = diagnose(Tally.of(foix, ctx), ctx, others={"x": {"09225"}})
    diag.part_codes[0].append("XXXXX")  # a caller changing its copy changes nothing shared
    assess(foix + ["99999"], ctx)
    plan = Plan(ctx, _scenario(("Foix", foix), ("Pamiers", ["09225"])))
    plan.diagnostics(1)
    plan.table()
    to_geojson([{"name": "Foix", "communes": foix}], ctx)
    after = _snapshot(ctx)
    pd.testing.assert_frame_equal(after["communes"], before["communes"])
    assert all(a is b for a, b in zip(after["geometry"], before["geometry"]))
    assert after["index"].equals(before["index"])
    assert after["population"] == before["population"] and after["dicts"] == before["dicts"]
    pd.testing.assert_series_equal(after["population_series"], before["population_series"])
    assert (after["codes"] == before["codes"]).all() and (
        after["graph"] != before["graph"]
    ).nnz == 0
    assert not shapely.is_empty(ctx.geometry["09122"])
