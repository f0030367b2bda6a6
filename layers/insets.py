"""France views after the French convention: mainland (with Corsica) framed alone, the overseas départements
in insets.

The insets are small Leaflet maps of their own, stacked in a column on the map's left side (the main map is
fitted with that much padding on its left, so no inset covers mainland). Each shows, at its own scale, a copy
of what the main map holds inside the département's bounds: commune polygons (canvas layers of
``layers.compactlayer`` give their own copy, with tooltips), outlines, markers (clustered ones too). Small
maps rather than overseas geometries moved into a corner: coordinates stay true (tooltips, markers, the
scale bar and a zoom on the main map behave as everywhere else) and nothing is reprojected in Python.
"""

from __future__ import annotations

import geopandas as gpd
from branca.element import MacroElement
from jinja2 import Template

from layers.safe import html_text, script_json

# département code -> name, in the usual order of French national maps
OVERSEAS = {
    "971": "Guadeloupe",
    "972": "Martinique",
    "973": "Guyane",
    "974": "La Réunion",
    "976": "Mayotte",
}
INSET_SIZE = 84  # px, each inset square (plus its name)
INSET_TOP = 76  # px: below Leaflet's zoom buttons
INSET_GAP = 4
INSET_COLUMN = INSET_SIZE + 2 * 8  # px kept free on the main map's left


def is_overseas(dep_code: str) -> bool:
    return str(dep_code).startswith("97")


def mainland_bounds(departements: gpd.GeoDataFrame) -> tuple[float, float, float, float]:
    """(minx, miny, maxx, maxy) of mainland France with Corsica (every département but 97x)."""
    mainland = departements[~departements["code"].astype(str).map(is_overseas)]
    return tuple(float(v) for v in mainland.total_bounds)


def overseas_insets(departements: gpd.GeoDataFrame) -> list[dict]:
    """[{"code", "name", "bounds": [[s, w], [n, e]]}] of the overseas départements present."""
    out = []
    by_code = departements.set_index(departements["code"].astype(str))
    for code, name in OVERSEAS.items():
        if code not in by_code.index or by_code.at[code, "geometry"] is None:
            continue
        minx, miny, maxx, maxy = by_code.at[code, "geometry"].bounds
        out.append({"code": code, "name": name, "bounds": [[miny, minx], [maxy, maxx]]})
    return out


class Insets(MacroElement):
    """The overseas insets of a France map; add it last (it copies the layers already on the map)."""

    _template = Template(
        """
{% macro script(this, kwargs) %}
(function () {
  var main = {{ this._parent.get_name() }};
  var specs = {{ this.specs_json }};
  var size = {{ this.size }}, gap = {{ this.gap }};
  var box = L.DomUtil.create('div', 'cartocpts-insets', main.getContainer());
  box.style.cssText = 'position:absolute;left:10px;top:{{ this.top }}px;z-index:800;display:flex;' +
    'flex-direction:column;' +
    'gap:' + gap + 'px;';
  L.DomEvent.disableClickPropagation(box);
  L.DomEvent.disableScrollPropagation(box);
  var isCluster = function (l) { return L.MarkerClusterGroup && l instanceof L.MarkerClusterGroup; };
  var isClusterIcon = function (l) { return L.MarkerCluster && l instanceof L.MarkerCluster; };
  window.cartocptsInsets = [];
  specs.forEach(function (spec) {
    var cell = L.DomUtil.create('div', 'cartocpts-inset', box);
    cell.dataset.code = spec.code;
    cell.style.cssText = 'width:' + size + 'px;background:#fff;border:1px solid #555;' +
      'box-shadow:0 0 3px rgba(0,0,0,.35);font:11px/1.3 sans-serif;color:#111';
    var title = L.DomUtil.create('div', 'cartocpts-inset-name', cell);
    title.innerHTML = spec.name;
    title.style.cssText = 'padding:1px 4px;background:#f4f4f4;border-bottom:1px solid #ccc';
    var holder = L.DomUtil.create('div', '', cell);
    holder.style.cssText = 'width:' + size + 'px;height:' + (size - 14) + 'px';
    var m = L.map(holder, {zoomControl: false, attributionControl: false, dragging: false,
      scrollWheelZoom: false, doubleClickZoom: false, boxZoom: false, keyboard: false, touchZoom: false,
      zoomSnap: 0.1, maxZoom: 18});
    m.fitBounds(spec.bounds, {animate: false, padding: [2, 2]});
    var around = L.latLngBounds(spec.bounds).pad(0.2);
    var renderer = L.canvas({padding: 0.2});
    var seen = {};
    var copyMarker = function (mk) {
      var id = L.stamp(mk);
      if (seen[id] || !around.contains(mk.getLatLng())) { return; }
      seen[id] = true;
      var copy = L.marker(mk.getLatLng(), {icon: mk.options.icon});
      if (mk.getTooltip()) { copy.bindTooltip(mk.getTooltip().getContent()); }
      if (mk.getPopup()) { copy.bindPopup(mk.getPopup().getContent(), {maxWidth: 320}); }
      copy.addTo(m);
    };
    main.eachLayer(function (l) {
      if (l.cartocptsClone) { l.cartocptsClone(around).addTo(m); return; }
      if (l.cartocptsIndex !== undefined) { return; }  // a polygon of a canvas layer, copied with its group
      if (isCluster(l)) { l.getLayers().forEach(copyMarker); return; }
      if (isClusterIcon(l)) { return; }
      if (l instanceof L.Marker) { copyMarker(l); return; }
      if (l instanceof L.Polyline && l.getLatLngs().length && around.intersects(l.getBounds())) {
        var make = l instanceof L.Polygon ? L.polygon : L.polyline;
        make(l.getLatLngs(), Object.assign({}, l.options, {renderer: renderer, interactive: false})).addTo(m);
      }
    });
    window.cartocptsInsets.push({code: spec.code, map: m});
  });
})();
{% endmacro %}
"""
    )

    def __init__(self, insets: list[dict]):
        super().__init__()
        self._name = "Insets"
        self.specs_json = script_json(
            [{**spec, "name": html_text(spec["name"])} for spec in insets]
        )
        self.size = INSET_SIZE
        self.gap = INSET_GAP
        self.top = INSET_TOP
