"""The maps of the pages (layers.maps), built from the real commune base of Ariège and rendered by folium.

Names come from the base or are hostile on purpose: they must reach the page escaped (``layers.safe``);
figures must be written in French (narrow no-break space, decimal comma).
"""

from __future__ import annotations

import html

import pytest

from geo.base.scope import parse_scope, scope_communes, scope_outlines
from geo.base.shapes import simplify_coverage, simplify_outlines
from geo.coverage.gaps import clusters_geojson, coverage
from geo.formats.french import NARROW_NBSP, integer
from geo.territory.context import context
from layers.communes import map_frame, metric_colouring
from layers.coverage import territory_outlines
from layers.maps import coverage_map, proposal_map, scope_map

HOSTILE = "CPTS ZZ{{ 7*7 }}ZZ <img src=x onerror=alert(1)>"
FOIX, PAMIERS = "09122", "09225"


@pytest.fixture(scope="module")
def ariege(base_dir):
    scope = parse_scope("dep:09")
    communes = simplify_coverage(scope_communes(scope))
    deps, regs = (simplify_outlines(areas, len(communes)) for areas in scope_outlines(scope))
    return communes, deps, regs


@pytest.fixture
def ctx(isolated_data):
    return context()


def shown(rendered: str) -> str:
    """The text a reader sees: JSON ``\\u`` escapes and HTML entities decoded."""
    return html.unescape(rendered.encode().decode("unicode_escape", errors="ignore"))


def assert_escaped(rendered: str, name: str) -> None:
    """``name`` is in the page only as escaped text: no live tag, no template delimiter left."""
    assert "<img src=x" not in rendered and "ZZ49ZZ" not in rendered
    assert name not in rendered
    assert name in shown(rendered)


def test_home_map_of_ariege_has_every_commune_and_a_french_legend(ariege):
    communes, deps, regs = ariege
    fmap = scope_map(communes, deps, regs, population_label="Population 2017")
    rendered = fmap.get_root().render()
    assert f'"id": "{FOIX}"' in rendered or f'"id":"{FOIX}"' in rendered
    assert rendered.count('"insee"') >= len(communes)  # one feature per commune of the département
    layers = [getattr(child, "layer_name", None) for child in fmap._children.values()]
    assert {"Départements", "Régions"} <= set(layers)
    legend = metric_colouring(map_frame(communes), "population", "Population 2017").legend
    assert legend.title == "Population 2017"
    top = legend.entries[-1][
        1
    ]  # « 1 234 – 15 678 »: the largest class, bounds written by geo.formats.french
    assert NARROW_NBSP in top and "," not in top
    density = metric_colouring(map_frame(communes), "density").legend
    assert any(
        "," in label for _, label in density.entries
    )  # sparse communes: « 2,4 – 6,1 » hab./km²


def test_coverage_map_of_ariege_with_two_uncovered_epcis(ctx):
    ariege = ctx.communes[ctx.communes["dep"] == "09"]
    pops = ariege.groupby("epci")["population"].sum().sort_values()
    left_out = set(pops.index[-2:])  # the two most populated EPCIs (Foix, Pamiers)
    assignment = {
        code: [HOSTILE if epci == pops.index[0] else f"CPTS {epci}"]
        for code, epci in zip(ariege["insee"], ariege["epci"])
        if epci not in left_out
    }
    result = coverage("dep:09", assignment, ctx)
    assert FOIX in result.uncovered and PAMIERS in result.uncovered
    outlines = territory_outlines(assignment, ctx, result.communes)
    clusters = clusters_geojson(result, ctx)
    fmap = coverage_map(
        tuple(ctx.communes.loc[result.communes].total_bounds),
        result,
        ctx,
        outlines,
        clusters,
        "Population 2017",
    )
    rendered = fmap.get_root().render()
    assert "Communes non couvertes" in rendered and "Zones non couvertes" in rendered
    assert integer(ctx.population[PAMIERS]) in shown(
        rendered
    )  # the tooltip's population, in French
    assert integer(result.clusters[0].population) in shown(rendered)
    assert_escaped(rendered, HOSTILE)


def test_proposal_map_of_ariege_escapes_names_and_fits_the_territories(ctx):
    codes = sorted(c for c, dep in ctx.dep.items() if dep == "09")
    territories = [
        {"id": 0, "name": HOSTILE, "colour": "#E69F00", "communes": [FOIX]},
        {
            "id": 1,
            "name": "Autour de Pamiers",
            "colour": "red;background:url(x)",
            "communes": [PAMIERS],
        },
        {
            "id": 2,
            "name": "Le reste",
            "colour": "#56B4E9",
            "communes": [c for c in codes if c not in (FOIX, PAMIERS)],
        },
    ]
    fmap = proposal_map(territories, ctx)
    rendered = fmap.get_root().render()
    assert_escaped(rendered, HOSTILE)
    assert "url(x)" not in rendered  # a colour cannot carry CSS (layers.safe.css_colour)
    assert "Autour de Pamiers" in rendered
    minx, miny, maxx, maxy = ctx.communes.loc[codes].total_bounds
    fit = [
        child for child in fmap._children.values() if type(child).__name__ == "FitBounds"
    ]  # fitted, not centred
    assert fit and fit[0].bounds == [[miny, minx], [maxy, maxx]]
