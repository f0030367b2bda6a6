"""The proposals page map: the proposed territories, labelled P1, P2…, neighbours never of the same colour.

- colours: the territory adjacency graph coloured greedily from Okabe & Ito's colour-blind safe palette
  (``geo.territory.colouring``), unless the caller gives each territory its colour;
- a label « P1 », « P2 »… at a point inside each territory, the same as the exports' ids, and a legend;
- the communes around the zone (light grey, named in their tooltip) and the départements' limits, so the
  reader knows where the zone is;
- framed on the zone: the view fits the territories, with room kept for the legend on the right.
"""

from __future__ import annotations

import json

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import MacroElement
from jinja2 import Template

from geo.base.communes import load
from geo.base.geometry import dissolve
from geo.base.shapes import simplify_coverage, simplify_outlines
from geo.formats.french import integer
from geo.sources.population import vintage_text
from geo.territory.colouring import neighbour_colours
from layers.basemap import base_map
from layers.compactlayer import CompactLayer
from layers.fastgeojson import compact
from layers.legend import LEGEND_COLUMN, Legend
from layers.outlines import outline_layer
from layers.safe import css_colour, html_text, script_json
from layers.territories import territories_group

AROUND_MARGIN = 0.15  # of the zone's width and height: how far around it the communes are drawn
AROUND_STYLE = {"fillColor": "#eeeeee", "fillOpacity": 0.6, "color": "#9a9a9a", "weight": 0.5}


class Labels(MacroElement):
    """Text labels (already escaped) at points, above the shapes and not catching the pointer."""

    _template = Template(
        """
{% macro script(this, kwargs) %}
{{ this.rows_json }}.forEach(function (r) {
  L.marker([r[0], r[1]], {interactive: false, keyboard: false, icon: L.divIcon({className: 'cartocpts-label',
    html: '<span style="font:bold 13px/1 sans-serif;color:#111;background:rgba(255,255,255,.85);' +
      'padding:1px 3px;border-radius:3px;white-space:nowrap">' + r[2] + '</span>',
    iconSize: null, iconAnchor: [12, 8]})}).addTo({{ this._parent.get_name() }});
});
{% endmacro %}
"""
    )

    def __init__(self, rows: list[tuple[float, float, str]]):
        super().__init__()
        self._name = "Labels"
        self.rows_json = script_json([[lat, lng, html_text(text)] for lat, lng, text in rows])


def proposal_colours(territories: list[dict], ctx) -> list[str]:
    """Neighbour-distinct colours of the territories (dicts with communes), Okabe-Ito palette."""
    return neighbour_colours([t["communes"] for t in territories], ctx.graph)


def _label_points(territories: list[dict], ctx) -> list[tuple[float, float, str]]:
    rows = []
    for terr in territories:
        shape = dissolve([ctx.geometry.get(c) for c in terr["communes"]])
        if shape is None or shape.is_empty:
            continue
        parts = shapely.get_parts(shape)
        biggest = parts[int(np.argmax(shapely.area(parts)))]  # the label in the main part
        point = biggest.point_on_surface()
        rows.append((round(point.y, 5), round(point.x, 5), terr["label"]))
    return rows


def _around(ctx, zone_codes: set[str], bounds) -> CompactLayer | None:
    """The communes near the zone (not in it), light grey, with their name in the tooltip."""
    minx, miny, maxx, maxy = bounds
    dx, dy = (maxx - minx) * AROUND_MARGIN + 0.02, (maxy - miny) * AROUND_MARGIN + 0.02
    box = shapely.box(minx - dx, miny - dy, maxx + dx, maxy + dy)
    communes = ctx.communes
    near = communes[
        communes.geometry.notna()
        & communes.geometry.intersects(box)
        & ~communes["insee"].isin(zone_codes)
    ]
    if near.empty:
        return None
    near = simplify_coverage(near)
    frame = gpd.GeoDataFrame(
        {"nom": [html_text(str(n)) for n in near["name"]]},
        geometry=near.geometry.to_numpy(),
        index=near["insee"].to_numpy(),
        crs=near.crs,
    )
    text = json.dumps(compact(frame, ("nom",)), ensure_ascii=False, separators=(",", ":"))
    return CompactLayer(
        text,
        style=AROUND_STYLE,
        tooltip=[("nom", "Commune hors de la zone"), ("@id", "Code INSEE")],
        highlight={"weight": 1.5, "color": "#555555"},
        name="Communes voisines",
    )


def proposal_map(
    territories: list[dict], ctx, departements: gpd.GeoDataFrame | None = None
) -> folium.Map:
    """Proposed territories (dicts with id, name, communes, optional colour and population) over the
    communes around them; ``departements``: the limits to draw (default: those the territories touch)."""
    codes = [c for t in territories for c in t["communes"]]
    communes = ctx.communes.loc[codes]
    bounds = tuple(communes.total_bounds)
    fmap = base_map(bounds, padding_top_left=(10, 10), padding_bottom_right=(LEGEND_COLUMN, 10))
    colours = proposal_colours(territories, ctx)
    shown = [
        {
            **t,
            "colour": css_colour(t.get("colour") or colours[i]),
            "label": f"P{i + 1}",
            "name": f"P{i + 1} — {t['name']}",
        }
        for i, t in enumerate(territories)
    ]
    around = _around(ctx, set(codes), bounds)
    if around is not None:
        around.add_to(fmap)
    if departements is None:
        deps = load("departements")
        departements = simplify_outlines(deps[deps["code"].isin(set(communes["dep"]))], len(codes))
    territories_group(shown, communes, active_id=None).add_to(fmap)
    outline_layer(departements, "Départements", weight=2.5).add_to(fmap)
    Labels(_label_points(shown, ctx)).add_to(fmap)
    entries = []
    for terr in shown:
        pop = terr.get("population")
        suffix = f" ({integer(pop)} hab.)" if pop is not None else ""
        entries.append((terr["colour"], f"{terr['name']}{suffix}"))
    Legend(f"Territoires proposés ({vintage_text(ctx.population_vintage)})", entries).add_to(fmap)
    folium.LayerControl(collapsed=True).add_to(fmap)
    return fmap
