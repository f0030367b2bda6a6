"""A commune layer drawn on a canvas from the compact form (``layers.fastgeojson.compact``), for big scopes.

The home page (région, département, France entière) and the coverage page draw their communes with it:

- the polygons travel as the compact text (a third of the GeoJSON) serialised once per scope and cached, and
  are decoded in the browser without building GeoJSON objects;
- they are painted on a canvas (35,000 SVG paths would take seconds to lay out). With ``bulk`` (the home
  page) the whole layer is one Leaflet layer drawing every feature itself, from flat typed arrays, one path
  per fill colour, and finding the feature under the mouse through a grid of their boxes: no Leaflet object
  per commune (35,000 ``L.polygon`` cost seconds of projection, events and garbage collection in the
  browser). Without it, one ``L.polygon`` per feature on one ``L.canvas`` renderer;
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
  // the polygons in flat typed arrays (no object per point): feature -> first polygon (fp), polygon -> first
  // ring (pr), ring -> first point (rp); latitudes, longitudes; each feature's box (south, west, north, east)
  var n = layer.ids.length, fp = new Int32Array(n + 1), pr = [0], rp = [0];
  (function () {
    var parts = reader(layer.parts), rings = reader(layer.rings), count = reader(layer.points);
    var q = 0, r = 0, k = 0;
    for (var f = 0; f < n; f++) {
      for (var p = parts(); p > 0; p--) {
        for (var g = rings(); g > 0; g--) { k += count(); rp.push(k); r++; }
        pr.push(r); q++;
      }
      fp[f + 1] = q;
    }
  })();
  var total = rp[rp.length - 1], lats = new Float64Array(total), lngs = new Float64Array(total);
  var boxes = new Float64Array(4 * n);
  (function () {
    var text = layer.coords, at = 0, lat = 0, lng = 0, k = 0;
    function step() {
      var value = 0, scale = 1, b;
      do { b = text.charCodeAt(at++) - 63; value += (b & 31) * scale; scale *= 32; } while (b >= 32);
      return value % 2 ? -(value + 1) / 2 : value / 2;
    }
    for (var f = 0; f < n; f++) {
      var s = 90, w = 180, no = -90, e = -180, end = rp[pr[fp[f + 1]]];
      for (; k < end; k++) {
        lat += step(); lng += step();
        var y = lats[k] = lat * grid, x = lngs[k] = lng * grid;
        if (y < s) s = y; if (y > no) no = y; if (x < w) w = x; if (x > e) e = x;
      }
      boxes[4 * f] = s; boxes[4 * f + 1] = w; boxes[4 * f + 2] = no; boxes[4 * f + 3] = e;
    }
  })();
  function latlngs(f) {  // the feature's polygons as Leaflet wants them
    var polygons = [];
    for (var q = fp[f]; q < fp[f + 1]; q++) {
      var ringList = [];
      for (var r = pr[q]; r < pr[q + 1]; r++) {
        var ring = [];
        for (var k = rp[r]; k < rp[r + 1]; k++) { ring.push(new L.LatLng(lats[k], lngs[k])); }
        ringList.push(ring);
      }
      polygons.push(ringList);
    }
    return polygons.length === 1 ? polygons[0] : polygons;
  }
  function meets(f, b) {  // the feature's box meets the bounds ``b``
    return !(boxes[4 * f] > b.getNorth() || boxes[4 * f + 2] < b.getSouth() ||
             boxes[4 * f + 1] > b.getEast() || boxes[4 * f + 3] < b.getWest());
  }
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
  function showTip(map, latlng, i) {
    var t = map._cartocptsTip || (map._cartocptsTip = L.tooltip({sticky: true}));
    t.setLatLng(latlng).setContent(tip(i));
    map.openTooltip(t);
  }
  function hideTip(map) { if (map && map._cartocptsTip) { map.closeTooltip(map._cartocptsTip); } }
  // one Leaflet layer per feature (on a canvas): the insets' copies, and small layers
  function build(bounds, renderer) {
    var group = L.featureGroup(), i;
    for (i = 0; i < n; i++) {
      if (bounds && !meets(i, bounds)) { continue; }
      var o = styleOf(i); o.renderer = renderer;
      var shape = L.polygon(latlngs(i), o); shape.cartocptsIndex = i; group.addLayer(shape);
    }
    for (i = 0; i < points.ids.length; i++) {
      var at = L.latLng(points.lat[i], points.lng[i]);
      if (bounds && !bounds.contains(at)) { continue; }
      var m = Object.assign(styleOf(n + i), POINT); m.renderer = renderer;
      var dot = L.circleMarker(at, m); dot.cartocptsIndex = n + i; group.addLayer(dot);
    }
    group.on("mouseover", function (e) {
      e.layer.setStyle(hl);
      showTip(e.target._map, e.latlng, e.layer.cartocptsIndex);
    });
    group.on("mousemove", function (e) {
      var t = e.target._map && e.target._map._cartocptsTip;
      if (t) { t.setLatLng(e.latlng); }
    });
    group.on("mouseout", function (e) {
      var i = e.layer.cartocptsIndex, s = styleOf(i);
      if (i >= n) { Object.assign(s, POINT); }
      e.layer.setStyle(s);
      hideTip(e.target._map);
    });
    group.cartocptsClone = function (b) { return build(b, L.canvas({padding: 0.2})); };
    return group;
  }
{% if this.bulk %}
  // the whole layer painted by one renderer: features grouped by fill colour, one path and one fill per
  // colour; hover found through a grid of the features' boxes (``bulk``: tens of thousands of features)
  var mercY = new Float64Array(total);
  for (var k = 0; k < total; k++) {
    var sn = Math.sin(Math.max(Math.min(lats[k], 85.0511287798), -85.0511287798) * Math.PI / 180);
    mercY[k] = 0.5 - Math.log((1 + sn) / (1 - sn)) / (4 * Math.PI);
  }
  var byColour = {};
  for (var f = 0; f < ids.length; f++) {
    var c = styleOf(f).fillColor;
    (byColour[c] = byColour[c] || []).push(f);
  }
  var CHUNK = 64;
  var Bulk = L.Renderer.extend({
    _initContainer: function () {
      this._container = document.createElement("canvas");
      this._container.style.pointerEvents = "none";
      this._ctx = this._container.getContext("2d");
    },
    _destroyContainer: function () { L.DomUtil.remove(this._container); delete this._ctx; delete this._container; },
    onAdd: function (map) {
      L.Renderer.prototype.onAdd.call(this, map);
      L.DomEvent.on(map.getContainer(), "mousemove", this._onPointer, this);
      L.DomEvent.on(map.getContainer(), "mouseleave", this._onOut, this);
    },
    onRemove: function (map) {
      L.DomEvent.off(map.getContainer(), "mousemove", this._onPointer, this);
      L.DomEvent.off(map.getContainer(), "mouseleave", this._onOut, this);
      this._onOut();
      L.Renderer.prototype.onRemove.call(this, map);
    },
    _update: function () {
      if (this._map._animatingZoom && this._bounds) { return; }
      L.Renderer.prototype._update.call(this);
      var b = this._bounds, c = this._container, size = b.getSize(), m = L.Browser.retina ? 2 : 1;
      L.DomUtil.setPosition(c, b.min);
      c.width = m * size.x; c.height = m * size.y;
      c.style.width = size.x + "px"; c.style.height = size.y + "px";
      this._ctx.setTransform(m, 0, 0, m, -m * b.min.x, -m * b.min.y);
      this._draw();
    },
    _draw: function () {
      var map = this._map, ctx = this._ctx, b = this._bounds;
      var S = map.options.crs.scale(map.getZoom()), o = map.getPixelOrigin(), ox = o.x, oy = o.y;
      var sw = map.layerPointToLatLng([b.min.x, b.max.y]), ne = map.layerPointToLatLng([b.max.x, b.min.y]);
      var vs = sw.lat, vw = sw.lng, vn = ne.lat, ve = ne.lng;
      ctx.lineJoin = "round"; ctx.lineCap = "round";
      var stroke = base.stroke !== false && (base.weight === undefined || base.weight > 0);
      var fillOpacity = base.fillOpacity === undefined ? 0.2 : base.fillOpacity;
      var opacity = base.opacity === undefined ? 1 : base.opacity;
      ctx.strokeStyle = base.color || "#3388ff"; ctx.lineWidth = base.weight === undefined ? 3 : base.weight;
      function paint(colour) {  // a few hundred rings per path: one huge path is slow to fill
        if (base.fill !== false) {
          ctx.globalAlpha = fillOpacity;
          ctx.fillStyle = colour === "undefined" ? (base.color || "#3388ff") : colour;
          ctx.fill("evenodd");
        }
        if (stroke) { ctx.globalAlpha = opacity; ctx.stroke(); }
        ctx.beginPath();
      }
      for (var colour in byColour) {
        var list = byColour[colour], drawn = 0;
        ctx.beginPath();
        for (var j = 0; j < list.length; j++) {
          var f = list[j];
          if (f >= n) { continue; }
          if (boxes[4 * f] > vn || boxes[4 * f + 2] < vs || boxes[4 * f + 1] > ve || boxes[4 * f + 3] < vw) {
            continue;
          }
          if (++drawn % CHUNK === 0) { paint(colour); }
          for (var r = pr[fp[f]]; r < pr[fp[f + 1]]; r++) {
            var k = rp[r], end = rp[r + 1] - 1;
            var x = (lngs[k] / 360 + 0.5) * S - ox, y = mercY[k] * S - oy, lx = x, ly = y;
            ctx.moveTo(x, y);
            for (k++; k <= end; k++) {
              x = (lngs[k] / 360 + 0.5) * S - ox; y = mercY[k] * S - oy;
              if (k < end && Math.abs(x - lx) + Math.abs(y - ly) < 0.7) { continue; }
              ctx.lineTo(x, y); lx = x; ly = y;
            }
            ctx.closePath();
          }
        }
        if (drawn % CHUNK) { paint(colour); }
      }
      for (var i = 0; i < points.ids.length; i++) {  // communes without a contour, above the polygons
        var p = map.latLngToLayerPoint([points.lat[i], points.lng[i]]), s = Object.assign(styleOf(n + i), POINT);
        ctx.beginPath(); ctx.arc(p.x, p.y, s.radius, 0, 2 * Math.PI);
        ctx.globalAlpha = s.fillOpacity; ctx.fillStyle = s.fillColor; ctx.fill();
        ctx.globalAlpha = 1; ctx.strokeStyle = s.color; ctx.lineWidth = s.weight; ctx.stroke();
      }
      ctx.globalAlpha = 1;
    },
    _index: function () {  // grid cells of one degree: feature indexes whose box meets the cell
      if (this._cells) { return this._cells; }
      var cells = this._cells = {};
      for (var f = 0; f < n; f++) {
        for (var a = Math.floor(boxes[4 * f]); a <= Math.floor(boxes[4 * f + 2]); a++) {
          for (var o = Math.floor(boxes[4 * f + 1]); o <= Math.floor(boxes[4 * f + 3]); o++) {
            (cells[a + ":" + o] = cells[a + ":" + o] || []).push(f);
          }
        }
      }
      return cells;
    },
    _hit: function (e) {
      var map = this._map, y = e.latlng.lat, x = e.latlng.lng;
      for (var i = points.ids.length - 1; i >= 0; i--) {
        var p = map.latLngToLayerPoint([points.lat[i], points.lng[i]]);
        if (p.distanceTo(e.layerPoint) <= POINT.radius + 2) { return n + i; }
      }
      var list = this._index()[Math.floor(y) + ":" + Math.floor(x)] || [];
      for (var j = list.length - 1; j >= 0; j--) {
        var f = list[j], inside = false;
        if (y < boxes[4 * f] || y > boxes[4 * f + 2] || x < boxes[4 * f + 1] || x > boxes[4 * f + 3]) { continue; }
        for (var r = pr[fp[f]]; r < pr[fp[f + 1]]; r++) {  // even-odd over every ring: holes and parts
          for (var k = rp[r], l = rp[r + 1] - 1; k < rp[r + 1]; l = k++) {
            if ((lats[k] > y) !== (lats[l] > y) &&
                x < (lngs[l] - lngs[k]) * (y - lats[k]) / (lats[l] - lats[k]) + lngs[k]) { inside = !inside; }
          }
        }
        if (inside) { return f; }
      }
      return -1;
    },
    // the container's own mouse moves (Leaflet gives the map none over another canvas, e.g. an inset's)
    _onPointer: function (ev) {
      var map = this._map, over = ev.target;
      if (!map || map._animatingZoom || (map.dragging && map.dragging.moving())) { return; }
      if (map.getPane("tooltipPane").contains(over)) { return; }
      if (over !== map.getContainer() && over !== map.getPane("mapPane") &&
          !map.getPane("overlayPane").contains(over) && !map.getPane("tilePane").contains(over)) {
        this._onOut();  // over a marker, a legend, an inset, a control: not over the communes
        return;
      }
      this._onMove({latlng: map.mouseEventToLatLng(ev), layerPoint: map.mouseEventToLayerPoint(ev)});
    },
    _onMove: function (e) {
      var map = this._map, i = this._hit(e);
      if (i !== this._hover) {
        this._onOut();
        if (i < 0) { return; }
        this._hover = i;
        var s = Object.assign(styleOf(i), i >= n ? POINT : {}, hl, {interactive: false, fill: false});
        this._mark = i >= n ? L.circleMarker([points.lat[i - n], points.lng[i - n]], s) : L.polygon(latlngs(i), s);
        this._mark.addTo(map);
        L.DomUtil.addClass(map.getContainer(), "leaflet-interactive");
        showTip(map, e.latlng, i);
      } else if (i >= 0 && map._cartocptsTip) { map._cartocptsTip.setLatLng(e.latlng); }
    },
    _onOut: function () {
      if (this._mark) { this._mark.remove(); this._mark = null; }
      if (this._hover !== undefined && this._hover >= 0 && this._map) {
        L.DomUtil.removeClass(this._map.getContainer(), "leaflet-interactive");
        hideTip(this._map);
      }
      this._hover = -1;
    }
  });
  var group = new Bulk({padding: 0.1});
  group.cartocptsClone = function (b) { return build(b, L.canvas({padding: 0.2})); };
{% else %}
  var group = build(null, L.canvas({padding: 0.5, tolerance: 2}));
{% endif %}
  group.cartocptsIds = ids;
  group.cartocptsFill = function (id) { return fills[id]; };
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
    feature (a tenth of the size for the 35,000 communes of France). ``bulk``: drawn by one layer of its own
    (no Leaflet layer per feature; the insets' copies still are ``L.polygon`` layers), for big layers.
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
        bulk: bool = False,
    ):
        super().__init__()
        self.bulk = bulk
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
