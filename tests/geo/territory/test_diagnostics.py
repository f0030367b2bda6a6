"""Diagnostics of territories on real communes (an EPCI of Occitanie taken as a territory)."""

import json
import subprocess
import sys

import pytest

from geo.territory.aci import aci_size, distance_to_edge
from geo.territory.context import context
from geo.territory.diagnostics import Tally, assess, diagnose


@pytest.fixture(scope="module")
def ctx(base_dir):
    return context()


def epci_members(ctx, insee):
    communes = ctx.communes
    return communes.index[communes["epci"] == communes.at[insee, "epci"]].tolist()


@pytest.mark.parametrize("population,size", [
    (0, 1), (39_999, 1), (40_000, 2), (79_999, 2), (80_000, 3), (175_000, 3), (175_001, 4),
])
def test_aci_band_edges(population, size):
    assert aci_size(population) == size


def test_distance_to_edge():
    assert distance_to_edge(39_999)["to_upper"] == 1
    assert distance_to_edge(175_000) == {"size": 3, "to_lower": 95_001, "to_upper": 1, "nearest": 1}
    assert distance_to_edge(175_001)["to_upper"] is None


def test_epci_of_foix(ctx):
    codes = epci_members(ctx, "09122")
    result = assess(codes, ctx)
    expected_pop = int(ctx.communes.loc[codes, "population"].sum())
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
    out = subprocess.run([sys.executable, "-m", "geo", "assess", "--communes", ",".join(codes), "--json"],
                         capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    for key in ("population", "population_vintage", "aci_size", "commune_count", "msp_count", "centres_sante_count",
                "cpts_seats_count", "irdes_mix", "apl", "contiguous", "parts", "departements", "regions",
                "area_km2", "density", "overlaps", "unknown_codes"):
        assert key in result
    assert result["commune_count"] == len(codes)


def test_cli_assess_bad_codes(ctx):
    out = subprocess.run([sys.executable, "-m", "geo", "assess", "--communes", "xx,123", "--json"],
                         capture_output=True, text=True)
    assert out.returncode == 2
    assert "Aucun code INSEE connu" in out.stderr and "Traceback" not in out.stderr
