"""ACI sensitivity on real territories at the band edges: EPCIs whose population (in use) is the closest to
each threshold of ``data/aci_bands.json``, checked against a brute-force walk of their border."""

import pytest

from geo.territory.aci import aci_size, bands
from geo.territory.context import context
from geo.territory.diagnostics import Tally, assess, diagnose
from geo.territory.sensitivity import ADD, LIMIT, REMOVE, aci_sensitivity, border

THRESHOLDS = [band.min for band in bands() if band.min > 0]  # 40 000, 80 000, 175 000


@pytest.fixture(scope="module")
def ctx(base_dir):
    return context()


def epci_populations(ctx):
    communes = ctx.communes.assign(pop_in_use=ctx.population_series.fillna(0))
    return communes.groupby("epci")["pop_in_use"].sum()


def closest_epci(ctx, threshold: int, below: bool) -> list[str]:
    """Communes of the real EPCI whose population is the closest to ``threshold``, below or at/above it."""
    pops = epci_populations(ctx)
    side = pops[pops < threshold] if below else pops[pops >= threshold]
    epci = (side - threshold).abs().idxmin()
    return ctx.communes.index[ctx.communes["epci"] == epci].tolist()


def brute_force(codes, ctx) -> list[tuple]:
    """Every border commune whose move changes the class, by naive neighbour walks."""
    codes = set(codes)
    pop = sum(ctx.population[c] for c in codes)
    size = aci_size(pop)
    outside = {n for c in codes for n in ctx.graph.neighbours(c)} - codes
    inside = {c for c in codes if set(ctx.graph.neighbours(c)) - codes}
    found = []
    for action, candidates, sign in ((ADD, outside, 1), (REMOVE, inside, -1)):
        for code in candidates:
            after = aci_size(pop + sign * ctx.population[code])
            if after != size:
                found.append((action, code, after))
    return found


@pytest.mark.parametrize("threshold", THRESHOLDS)
@pytest.mark.parametrize("below", [True, False], ids=["sous_le_seuil", "au_dessus"])
def test_real_epci_at_a_band_edge(ctx, threshold, below):
    codes = closest_epci(ctx, threshold, below)
    diag = diagnose(Tally.of(codes, ctx), ctx, with_geometry=False)
    swings = diag.aci_sensitivity
    expected = brute_force(codes, ctx)
    # Every listed move is real: the commune is on the border (or adjacent) and the class it gives is right.
    inner, outer = border(codes, ctx)
    for s in swings:
        assert s.code_insee in (outer if s.action == ADD else inner)
        sign = 1 if s.action == ADD else -1
        assert s.population == ctx.population[s.code_insee]
        assert s.aci_size_after == aci_size(diag.population + sign * s.population) != diag.aci_size
        assert s.commune == ctx.communes.at[s.code_insee, "name"]
    # Nothing is missed: the smallest LIMIT moves of each action, smallest population first.
    for action in (ADD, REMOVE):
        listed = [(s.population, s.code_insee) for s in swings if s.action == action]
        wanted = sorted((ctx.population[c], c) for a, c, _ in expected if a == action)[:LIMIT]
        assert listed == wanted
    # Additions first, then removals.
    actions = [s.action for s in swings]
    assert actions == sorted(actions, key=lambda a: a != ADD)
    # Close to an edge, some border commune changes the class (the threshold is within reach).
    edge = diag.aci_edge.to_upper if below else diag.aci_edge.to_lower
    assert edge is not None and edge <= abs(diag.population - threshold) + 1
    wanted_action = ADD if below else REMOVE
    reachable = [s for s in swings if s.action == wanted_action]
    if any(a == wanted_action for a, _, _ in expected):
        assert reachable and all(s.population >= edge for s in reachable)


def test_an_epci_just_below_40000_gains_a_class_from_a_small_neighbour(ctx):
    """The real EPCI closest below 40 000: its lightest addition is a small adjacent commune giving taille 2."""
    codes = closest_epci(ctx, 40_000, below=True)
    diag = diagnose(Tally.of(codes, ctx), ctx, with_geometry=False)
    assert diag.aci_size == 1
    additions = [s for s in diag.aci_sensitivity if s.action == ADD]
    assert additions, "an EPCI a few hundred inhabitants under 40 000 has a neighbour over the gap"
    first = additions[0]
    assert first.aci_size_after == 2
    assert first.population >= 40_000 - diag.population
    assert set(ctx.graph.neighbours(first.code_insee)) & set(codes)
    assert first.code_insee not in codes


def test_toulouse_alone(ctx):
    """A single commune of taille 4: no addition changes it, its own removal empties it (taille 1)."""
    swings = aci_sensitivity(["31555"], ctx.population["31555"], ctx)
    assert [(s.code_insee, s.action, s.aci_size_after) for s in swings] == [("31555", REMOVE, 1)]
    assert swings[0].commune == "Toulouse"


def test_limit_and_empty_territory(ctx):
    assert aci_sensitivity([], 0, ctx) == []
    codes = closest_epci(ctx, 80_000, below=True)
    pop = sum(ctx.population[c] for c in codes)
    assert len([s for s in aci_sensitivity(codes, pop, ctx, limit=2) if s.action == ADD]) <= 2


def test_assess_json_has_the_key(ctx):
    result = assess(["09122", "09225"], ctx)
    assert isinstance(result["aci_sensitivity"], list)
    for item in result["aci_sensitivity"]:
        assert set(item) == {"code_insee", "commune", "action", "population", "aci_size_after"}
        assert item["action"] in (ADD, REMOVE)
