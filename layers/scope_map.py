"""The home page map of a scope: commune choropleth, outlines, legend."""

from __future__ import annotations

import folium
import geopandas as gpd

from layers.basemap import base_map
from layers.communes import commune_choropleth
from layers.outlines import outline_layer


def scope_map(
    communes: gpd.GeoDataFrame,
    departements: gpd.GeoDataFrame,
    regions: gpd.GeoDataFrame,
    metric: str = "population",
    population_label: str = "Population",
    with_tiles: bool = False,
) -> folium.Map:
    """A map of already simplified ``communes`` with département and région outlines."""
    fmap = base_map(tuple(communes.total_bounds), with_tiles=with_tiles)
    choropleth = commune_choropleth(communes, metric, population_label)
    choropleth.layer.add_to(fmap)
    outline_layer(departements, "Départements", weight=1.5).add_to(fmap)
    outline_layer(regions, "Régions", weight=3).add_to(fmap)
    choropleth.legend.add_to(fmap)
    return fmap


def drawing_map(communes_geojson: str, bounds, reference: folium.GeoJson | None = None,
                population_label: str = "Population") -> folium.Map:
    """The static part of the territory page's map: selectable communes, existing CPTS, drawing tools.

    The territories themselves change at every click; they are passed to
    ``st_folium`` as ``feature_group_to_add`` so that this map stays put.
    """
    from layers.territories import draw_tools, selectable_communes

    fmap = base_map(bounds)
    selectable_communes(communes_geojson, population_label).add_to(fmap)
    if reference is not None:
        reference.add_to(fmap)
    draw_tools().add_to(fmap)
    return fmap
