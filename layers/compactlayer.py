"""A commune layer drawn on a canvas from the compact form (``layers.fastgeojson.compact``), for big scopes.

The home page (région, département, France entière) and the coverage page draw their communes with it:

- the polygons travel as the compact text (a third of the GeoJSON) serialised once per scope and cached, and
  are decoded in the browser without building GeoJSON objects;
- they are painted on one ``L.canvas`` renderer (35,000 SVG paths would take seconds to lay out);
- one tooltip and one hover handler serve the whole layer (events of a polygon reach its group);
- the fill of each feature comes from a small ``id -> colour`` table, so a new colouring re-sends no geometry
  work to Python;
- communes without a contour in the source are drawn as points (``points``: the chef-lieu's town hall), with
  the same tooltip and fill, and a line saying why;
- ``group.cartocptsClone(bounds)`` gives a copy of the features inside ``bounds`` for an inset map
  (``layers.insets``).

Texts must be escaped before they come here (``layers.safe.html_text``); labels are escaped here.
The group is also kept in ``window.cartocptsLayers[name]`` (tests and benchmarks read its ids and fills).
"""

from __future__ import annotations

from branca.element import MacroElement
from jinja2 import Template

from layers.safe import Raw, html_text, script_json

NO_CONTOUR_NOTE = "Pas de contour dans la source : point à la mairie du chef-lieu"

_SCRIPT = Template(
    """
var {{ this.get_name() }} = (function () {
  var layer = {{ this.data_text }};
  var points = {{ this.points_json }};
  var fills = {{ this.fills_json }}, base = {{ this.style_json }}, hl = {{ this.highlight_json }};
  var fields = {{ this.fields_json }}, labels = {{ this.labels_json }};
  var extra = {{ this.extra_json }}, extraLabels = {{ this.extra_labels_json }};
  var note = {{ this.note_json }};
  var POINT = {radius: 5, weight: 1.5, color: "#333333", fillOpacity: 0.9, stroke: true};
  var grid = layer.grid || 1e-5;
  // tables by id sent in the layer's order (``_by_order``): a palette code or a value per feature
  function table(t) {
    if (!t || !t.ordered) { return t || {}; }
    var out = Object.assign({}, t.rest), i, v;
    for (i = 0; i < layer.ids.length; i++) {
      if (t.palette) {
        v = t.codes.charCodeAt(i) - 48;
        if (v >= 0 && v < t.palette.length) { out[layer.ids[i]] = t.palette[v]; }
      } else { v = t.values[i]; if (v !== null) { out[layer.ids[i]] = v; } }
    }
    return out;
  }
  fills = table(fills);
  extra = extra.map(table);
  function reader(text) {
    var i = 0;
    return function () {
      var value = 0, shift = 0, b;
      do { b = text.charCodeAt(i++) - 63; value += (b & 31) * Math.pow(2, shift); shift += 5; } while (b >= 32);
      return value;
    };
  }
  var n = layer.ids.length, shapes = new Array(n), boxes = new Array(n);
  (function () {
    var parts = reader(layer.parts), rings = reader(layer.rings), count = reader(layer.points);
    var coords = reader(layer.coords);
    var step = function () { var z = coords(); return z % 2 ? -(z + 1) / 2 : z / 2; };
    var lat = 0, lng = 0;
    for (var f = 0; f < n; f++) {
      var polygons = new Array(parts()), s = 90, w = 180, no = -90, e = -180;
      for (var p = 0; p < polygons.length; p++) {
        var ringList = polygons[p] = new Array(rings());
        for (var r = 0; r < ringList.length; r++) {
          var ring = ringList[r] = new Array(count());
          for (var k = 0; k < ring.length; k++) {
            lat += step(); lng += step();
            var y = lat * grid, x = lng * grid;
            ring[k] = new L.LatLng(y, x);
            if (y < s) s = y; if (y > no) no = y; if (x < w) w = x; if (x > e) e = x;
          }
        }
      }
      shapes[f] = polygons.length === 1 ? polygons[0] : polygons;
      boxes[f] = L.latLngBounds([s, w], [no, e]);
    }
  })();
  var ids = layer.ids.concat(points.ids);
  function prop(field, i) {
    var col = i < n ? layer.props[field] : points.props[field];
    return col ? col[i < n ? i : i - n] : null;
  }
  function styleOf(i) {
    var s = Object.assign({}, base), fill = fills[ids[i]];
    if (fill !== undefined) { s.fillColor = fill; }
    return s;
  }
  function row(label, value) {
    return "<tr><th style='text-align:left;padding-right:6px'>" + label + "</th><td>" + value + "</td></tr>";
  }
  function tip(i) {
    var rows = [], id = ids[i];
    for (var f = 0; f < fields.length; f++) {
      var v = fields[f] === "@id" ? id : prop(fields[f], i);
      if (v === null || v === undefined) { continue; }
      if (typeof v === "number") { v = v.toLocaleString("fr-FR"); }
      rows.push(row(labels[f], v));
    }
    for (var x = 0; x < extraLabels.length; x++) {
      var t = extra[x][id];
      if (t !== undefined && t !== null) { rows.push(row(extraLabels[x], t)); }
    }
    if (i >= n && note) { rows.push("<tr><td colspan='2'><i>" + note + "</i></td></tr>"); }
    return "<table>" + rows.join("") + "</table>";
  }
  function build(bounds, renderer) {
    var group = L.featureGroup(), i;
    for (i = 0; i < n; i++) {
      if (bounds && !bounds.intersects(boxes[i])) { continue; }
      var o = styleOf(i); o.renderer = renderer;
      var shape = L.polygon(shapes[i], o); shape.cartocptsIndex = i; group.addLayer(shape);
    }
    for (i = 0; i < points.ids.length; i++) {
      var at = L.latLng(points.lat[i], points.lng[i]);
      if (bounds && !bounds.contains(at)) { continue; }
      var m = Object.assign(styleOf(n + i), POINT); m.renderer = renderer;
      var dot = L.circleMarker(at, m); dot.cartocptsIndex = n + i; group.addLayer(dot);
    }
    group.on("mouseover", function (e) {
      var map = e.target._map, t = map._cartocptsTip || (map._cartocptsTip = L.tooltip({sticky: true}));
      e.layer.setStyle(hl);
      t.setLatLng(e.latlng).setContent(tip(e.layer.cartocptsIndex));
      map.openTooltip(t);
    });
    group.on("mousemove", function (e) {
      var t = e.target._map && e.target._map._cartocptsTip;
      if (t) { t.setLatLng(e.latlng); }
    });
    group.on("mouseout", function (e) {
      var i = e.layer.cartocptsIndex, s = styleOf(i), map = e.target._map;
      if (i >= n) { Object.assign(s, POINT); }
      e.layer.setStyle(s);
      if (map && map._cartocptsTip) { map.closeTooltip(map._cartocptsTip); }
    });
    group.cartocptsIds = ids;
    group.cartocptsFill = function (id) { return fills[id]; };
    group.cartocptsClone = function (b) { return build(b, L.canvas({padding: 0.2})); };
    return group;
  }
  var group = build(null, L.canvas({padding: 0.5, tolerance: 2}));
  group.cartocptsPoints = points.ids;
  window.cartocptsLayers = window.cartocptsLayers || {};
  window.cartocptsLayers[{{ this.label_json }}] = group;
  return group;
})();
{{ this.map_name }}.addLayer({{ this.get_name() }});
"""
)


def _by_order(values: dict, order: list[str] | None, palette: bool = False) -> dict:
    """A table id -> value, as one value per id of ``order`` (``palette``: one character per id, indexing a
    list of the distinct values) plus the ids outside ``order``; the table itself without ``order``."""
    if not order or len(values) < 64:
        return values
    known = set(order)
    rest = {k: v for k, v in values.items() if k not in known}
    if palette:
        colours = sorted({values[k] for k in order if k in values})
        if len(colours) > 70:
            return values
        index = {c: chr(48 + i) for i, c in enumerate(colours)}
        codes = "".join(index[values[k]] if k in values else " " for k in order)
        return {"ordered": True, "palette": colours, "codes": codes, "rest": rest}
    return {"ordered": True, "values": [values.get(k) for k in order], "rest": rest}


class CompactLayer(MacroElement):
    """Features of a compact layer (already serialised JSON text ``data``) on a canvas.

    ``tooltip``: (property, label) pairs (property ``@id``: the feature's id), labels plain text; numbers
    shown in French. ``fills``: id -> fill
    colour (default ``style["fillColor"]``). ``extra``: more tooltip rows (label, id -> escaped text).
    ``points``: ``{"ids", "lat", "lng", "props"}`` (props escaped) of features drawn as points.
    ``order``: the ids of ``data`` in its order, when known: the tables by id are then sent as one value per
    feature (a tenth of the size for the 35,000 communes of France).
    """

    _template = Template("{% macro script(this, kwargs) %}{{ this.script_text }}{% endmacro %}")

    def __init__(
        self,
        data: str,
        style: dict,
        tooltip: list[tuple[str, str]] | None = None,
        fills: dict[str, str] | None = None,
        extra: list[tuple[str, dict[str, str]]] | None = None,
        points: dict | None = None,
        highlight: dict | None = None,
        name: str = "Communes",
        order: list[str] | None = None,
    ):
        super().__init__()
        self._name = "CompactLayer"
        self.layer_name = name
        self.data = data
        self.style_json = script_json(style)
        self.fills_json = script_json(_by_order(fills or {}, order, palette=True))
        self.highlight_json = script_json(highlight or {"weight": 2, "color": "#000000"})
        tooltip = tooltip or []
        self.fields_json = script_json([f for f, _ in tooltip])
        self.labels_json = script_json([html_text(label) for _, label in tooltip])
        self.extra_labels_json = script_json([html_text(label) for label, _ in (extra or [])])
        self.extra_json = script_json([_by_order(values, order) for _, values in (extra or [])])
        self.points_json = script_json(points or {"ids": [], "lat": [], "lng": [], "props": {}})
        self.note_json = script_json(html_text(NO_CONTOUR_NOTE))
        self.label_json = script_json(html_text(name))
        self.map_name = None
        self.deferred = (
            False  # True: the script holds ``token`` where the data goes (``inline_data``)
        )

    @property
    def token(self) -> str:
        """A comment no renaming pass of streamlit-folium changes (no ``_``, upper case)."""
        return f"/*CARTOCPTSDATA{self._id.upper()}*/"

    @property
    def data_text(self) -> str:
        return self.token if self.deferred else self.data

    @property
    def script_text(self) -> str:
        parent = self._parent
        self.map_name = parent.get_name()
        return _SCRIPT.render(this=self)

    def render(self, **kwargs):
        figure = self.get_root()
        figure.script.add_child(Raw(self.script_text), name=self.get_name())


def defer_data(fmap) -> list[CompactLayer]:
    """Make the compact layers of ``fmap`` render a short token instead of their data (see ``inline_data``):
    streamlit-folium's passes over the whole script (renaming, hashing) then skip the megabytes of data."""
    found = []

    def walk(element):
        if isinstance(element, CompactLayer):
            element.deferred = True
            found.append(element)
        for child in getattr(element, "_children", {}).values():
            walk(child)

    walk(fmap)
    return found


def inline_data(script: str, layers: list[CompactLayer]) -> str:
    """``script`` with each deferred layer's token replaced by its data."""
    for layer in layers:
        script = script.replace(layer.token, layer.data, 1)
    return script
