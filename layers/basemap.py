"""The base map: local Leaflet assets, optional IGN tiles, fitted to a scope."""

from __future__ import annotations

import folium
from branca.element import MacroElement
from jinja2 import Template

from layers.assets import use_local_assets

# IGN Géoplateforme WMTS, Plan IGN v2 (used only when the user is online).
PLAN_IGN_URL = (
    "https://data.geopf.fr/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER=GEOGRAPHICALGRIDSYSTEMS.PLANIGNV2&STYLE=normal&FORMAT=image/png"
    "&TILEMATRIXSET=PM&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}"
)
PLAN_IGN_ATTRIBUTION = '<a href="https://www.ign.fr/">IGN</a> – Plan IGN (Géoplateforme)'


class _MetricScale(MacroElement):
    """Leaflet's scale bar in kilometres only (folium's ``control_scale`` also shows miles)."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "L.control.scale({imperial: false}).addTo({{ this._parent.get_name() }});"
        "{% endmacro %}"
    )


def base_map(
    bounds: tuple[float, float, float, float],
    with_tiles: bool = False,
    padding_top_left: tuple[int, int] | None = None,
    padding_bottom_right: tuple[int, int] | None = None,
) -> folium.Map:
    """A folium map fitted to ``bounds`` (minx, miny, maxx, maxy), tiles off by default.

    The paddings (pixels, x then y) keep room for what is drawn over the map's sides (insets on the left,
    legends on the right) so that they never cover the area of interest.
    """
    use_local_assets()
    fmap = folium.Map(tiles=None, zoom_snap=0.25)
    _MetricScale().add_to(fmap)
    if with_tiles:
        folium.TileLayer(
            PLAN_IGN_URL, attr=PLAN_IGN_ATTRIBUTION, name="Plan IGN", max_zoom=18
        ).add_to(fmap)
    minx, miny, maxx, maxy = bounds
    fmap.fit_bounds(
        [[miny, minx], [maxy, maxx]],
        padding_top_left=list(padding_top_left) if padding_top_left else None,
        padding_bottom_right=list(padding_bottom_right) if padding_bottom_right else None,
    )
    return fmap
