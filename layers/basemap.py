"""The base map: local Leaflet assets, optional IGN tiles, fitted to a scope."""

from __future__ import annotations

import folium

from layers.assets import use_local_assets

# IGN Géoplateforme WMTS, Plan IGN v2 (used only when the user is online).
PLAN_IGN_URL = (
    "https://data.geopf.fr/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER=GEOGRAPHICALGRIDSYSTEMS.PLANIGNV2&STYLE=normal&FORMAT=image/png"
    "&TILEMATRIXSET=PM&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}"
)
PLAN_IGN_ATTRIBUTION = '<a href="https://www.ign.fr/">IGN</a> – Plan IGN (Géoplateforme)'


def base_map(bounds: tuple[float, float, float, float], with_tiles: bool = False) -> folium.Map:
    """A folium map fitted to ``bounds`` (minx, miny, maxx, maxy), tiles off by default."""
    use_local_assets()
    fmap = folium.Map(tiles=None, control_scale=True, zoom_snap=0.25)
    if with_tiles:
        folium.TileLayer(PLAN_IGN_URL, attr=PLAN_IGN_ATTRIBUTION, name="Plan IGN", max_zoom=18).add_to(fmap)
    minx, miny, maxx, maxy = bounds
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    return fmap
