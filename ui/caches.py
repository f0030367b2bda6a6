"""Every Streamlit cache of the pages, in one place.

These hold artefacts of the interface built from the domain objects: a scope's
simplified communes with the populations in use, its outlines and GeoJSON
text, its map frame, the coverage of a scope. Each is keyed by the versions
of the layer files it is built from (:func:`geo.store.cache.layers_version`,
one ``stat`` per layer), passed as an argument by its caller in ``ui.common``
or ``ui.coverage``: a re-imported layer gives a new key, and the old entry
ages out. The domain values themselves (context, adjacency graph, layers) are
cached in geo (:mod:`geo.store.cache`), not here.

Cached objects are shared by every session: they are read, never changed.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from geo.base.chef_lieux import chef_lieu_points
from geo.base.communes import cog_mapping, load
from geo.base.france_shapes import FRANCE_TOLERANCE, france_communes
from geo.base.scope import parse_scope, scope_choices, scope_communes, scope_outlines, scope_totals
from geo.base.shapes import simplify_coverage, simplify_outlines
from geo.coverage.gaps import assignment_for, clusters_geojson, coverage
from geo.sources.cpts import cpts_perimeters
from geo.store.cache import cached_layer
from geo.store.scenarios import ScenarioStore
from geo.territory.context import context
from layers.communes import map_frame
from layers.coverage import territory_outlines
from layers.fastgeojson import GRID
from layers.maps.home import FRANCE_GRID, commune_layer, point_features
from layers.outlines import rounded

# The layers each artefact is built from (its callers key it by their versions).
BASE = ("communes", "departements", "regions")
POPULATED = ("communes", "population")


@st.cache_resource(max_entries=200)
def scenario_store(user: str) -> ScenarioStore:
    """The scenario store acting as ``user`` (one per user and process; the database pool is shared)."""
    return ScenarioStore(user=user, cog=cog_mapping())


@st.cache_data(show_spinner=False)
def scope_choice_list(version: tuple) -> list[tuple[str, str]]:
    return scope_choices()


def _with_populations(communes):
    """``communes`` (a copy) with the populations in use held by the context, and their vintage in attrs."""
    ctx = context()
    out = communes.copy()
    out["population"] = ctx.population_series.reindex(out["insee"]).to_numpy()
    out.attrs["population_vintage"] = ctx.population_vintage
    return out


@st.cache_resource(show_spinner="Préparation de la carte…", max_entries=32)
def map_communes(spec: str, version: tuple):
    scope = parse_scope(spec)
    # France: simplified once per commune base and kept on disk (geo.base.france_shapes)
    if scope.kind == "fr":
        return _with_populations(france_communes())
    return _with_populations(simplify_coverage(scope_communes(scope)))


@st.cache_resource(show_spinner=False, max_entries=32)
def totals(spec: str, version: tuple) -> dict:
    scope = parse_scope(spec)
    return scope_totals(
        scope, _with_populations(scope_communes(scope))
    )  # every commune, even without a contour


@st.cache_resource(show_spinner=False, max_entries=32)
def map_outlines(spec: str, version: tuple):
    scope = parse_scope(spec)
    deps, regs = scope_outlines(scope)
    if (
        scope.kind == "fr"
    ):  # a national view: outlines as coarse as the communes, coordinates rounded
        return tuple(rounded(simplify_coverage(a, FRANCE_TOLERANCE)) for a in (deps, regs))
    count = len(map_communes(spec, version))
    return simplify_outlines(deps, count), simplify_outlines(regs, count)


@st.cache_resource(show_spinner=False, max_entries=32)
def map_layer(spec: str, version: tuple) -> str:
    """The scope's communes as one compact layer (JSON text), serialised once per process."""
    grid = FRANCE_GRID if parse_scope(spec).kind == "fr" else GRID
    return commune_layer(scope_frame(spec, version), grid)


@st.cache_resource(show_spinner=False, max_entries=32)
def map_points(spec: str, version: tuple) -> dict:
    """The scope's communes without a contour, as points at their chef-lieu (``layers.maps.home``)."""
    communes = _with_populations(scope_communes(parse_scope(spec))).set_index("insee")
    points = chef_lieu_points()
    points = points[points["insee"].isin(communes.index)]
    return point_features(points, communes["population"])


@st.cache_resource(show_spinner=False, max_entries=64)
def rendered_map(key: str, _build: Callable[[], dict]) -> dict:
    """The strings of a folium map as its component receives them (``ui.mapview``), built once per ``key``
    (which names everything the map is made of, versions of its layers included)."""
    return _build()


@st.cache_resource(show_spinner=False, max_entries=64)
def scope_text(key: str, _build: Callable[[], str]) -> str:
    """A text about a scope built by ``_build`` once per ``key`` (which names the scope and the versions of
    the layers it is read from)."""
    return _build()


@st.cache_resource(show_spinner=False, max_entries=16)
def scope_frame(spec: str, version: tuple):
    return map_frame(map_communes(spec, version))


@st.cache_resource(show_spinner="Contours des CPTS…", max_entries=2)
def all_cpts_perimeters(version: tuple):
    frame, _ = cached_layer("cpts")
    return cpts_perimeters(frame, load("communes"))


@st.cache_resource(show_spinner="Calcul de la couverture…", max_entries=16)
def computed_coverage(
    spec: str, scenario: str | None, version: tuple, updated_at: str | None, user: str
):
    ctx = context()
    assignment = assignment_for(
        ctx, scenario=scenario, store=scenario_store(user) if scenario else None
    )
    result = coverage(spec, assignment, ctx)
    outlines = territory_outlines(assignment, ctx, codes=result.communes)
    clusters = clusters_geojson(result, ctx) if result.clusters else None
    return result, outlines, clusters


@st.cache_resource(show_spinner=False, max_entries=8)
def drawing_layer(spec: str, stamp: str, _build: Callable[[], dict]) -> dict:
    """The drawing map's compact layer of a scope (``ui.drawmap``), built by ``_build`` once per scope and
    populations ``stamp``; shared by every session (a background thread may build it first)."""
    return _build()


@st.cache_resource(show_spinner=False, max_entries=48)
def orientation_payload(key: str, _build: Callable[[], dict]) -> dict:
    """A payload of the drawing map's orientation layers (``ui.orientation``) built by ``_build``;
    ``key`` names the scope, the choice and the versions of the layers it is built from. One object
    shared by every session (``st.cache_data`` would unpickle a copy at each call of each session's
    rerun: a région's colouring or markers, several hundred kB each time)."""
    return _build()
