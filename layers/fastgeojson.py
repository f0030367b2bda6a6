"""Commune layers serialised once for the browser, not at every Streamlit rerun.

``serialise`` writes GeoJSON text; ``compact`` a smaller form of the same polygons for the drawing map
(``static/cartocpts/drawmap.js`` decodes it), see its docstring.


folium's ``GeoJson`` re-serialises every feature (and its style) each time
the map is rendered, which ``st_folium`` does at every rerun: for a région's
4,000 communes that is about a second. ``FastGeoJson`` takes the GeoJSON as
an already serialised string (cache it per scope), styles features in the
browser from a small ``id -> fill colour`` table, and builds its tooltip in
JavaScript from properties that were escaped in Python.
"""

from __future__ import annotations

import json
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from jinja2 import Template

from layers.safe import Raw, html_text, script_json


def _plain(value):
    """A property value as JSON has it: numpy numbers as Python ones, NaN / NA as null."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return _plain(value.item())
    return value


def serialise(frame: gpd.GeoDataFrame) -> str:
    """Compact GeoJSON text of a frame whose index is the feature id (properties must be escaped already).

    Geometries are written by GEOS in one vectorised call (``shapely.to_geojson``): ten times faster than
    ``GeoDataFrame.to_json`` for a région's 4,500 communes, and a tenth smaller.
    """
    geometries = shapely.to_geojson(frame.geometry.to_numpy())
    columns = [c for c in frame.columns if c != frame.geometry.name]
    records = frame[columns].to_dict("records")
    features = [
        f'{{"type":"Feature","id":{json.dumps(str(ident))},"geometry":{geometry or "null"},'
        f'"properties":{json.dumps({k: _plain(v) for k, v in record.items()}, ensure_ascii=False, allow_nan=False)}}}'
        for ident, geometry, record in zip(frame.index, geometries, records)
    ]
    return '{"type":"FeatureCollection","features":[' + ",".join(features) + "]}"


# --- compact form (the drawing map) -----------------------------------------------------------------------

GRID = 1e-5  # degrees: the grid ``geo.base.shapes`` rounds simplified shapes to, so the integers are exact
_CHUNKS = (
    7  # 5-bit groups per integer at most (up to 2**35: any longitude or latitude in units of 1e-5°)
)


def _varints(values: np.ndarray) -> str:
    """Non-negative integers as one text, in the *Encoded Polyline Algorithm Format*'s variable length code:
    5-bit groups, low first, each a character ``63 + group`` (plus 32 when another group follows)."""
    values = np.asarray(values, dtype=np.uint64)
    if values.size == 0:
        return ""
    shifts = np.arange(_CHUNKS, dtype=np.uint64) * np.uint64(5)
    rest = values[:, None] >> shifts  # (n, 7): the value shifted by 0, 5, 10… bits
    groups = (rest & np.uint64(31)).astype(np.uint8)
    used = rest > 0
    used[:, 0] = True  # zero is written as one group
    more = np.zeros_like(used)
    more[:, :-1] = used[:, 1:]
    chars = groups + np.uint8(63) + more.astype(np.uint8) * np.uint8(32)
    return chars[used].tobytes().decode("ascii")


def _zigzag(values: np.ndarray) -> np.ndarray:
    """Signed integers as non-negative ones (0, -1, 1, -2… → 0, 1, 2, 3…)."""
    values = np.asarray(values, dtype=np.int64)
    return ((values << 1) ^ (values >> 63)).astype(np.uint64)


def compact(frame: gpd.GeoDataFrame, columns: tuple[str, ...] = (), grid: float = GRID) -> dict:
    """The polygons of a frame whose index is the feature id, in a compact form (``columns`` must be escaped).

    ``{"ids": [...], "props": {column: [...]}, "parts", "rings", "points", "coords"}``: each feature has
    ``parts`` polygons, each polygon ``rings`` rings (outer ring first), each ring ``points`` points (the
    closing point left out); those three counts and the coordinates are texts of variable length integers
    (``_varints``). ``coords`` holds latitude then longitude of every point in units of ``GRID``, each the
    difference with the previous point's (zigzag coded), in the order of the features, polygons and rings.
    About 0.3 of the GeoJSON for a région's communes, and decoded without building GeoJSON objects.
    A coarser ``grid`` (the France view's 1e-4°, about 10 m) gives shorter integers; it is then written in
    the result as ``grid`` (absent: ``GRID``).
    """
    geometries = frame.geometry.to_numpy()
    polygons, owner = shapely.get_parts(geometries, return_index=True)
    rings, ring_owner = shapely.get_rings(polygons, return_index=True)
    coords, point_owner = shapely.get_coordinates(rings, return_index=True)
    points = np.bincount(point_owner, minlength=len(rings))
    closing = np.cumsum(points) - 1
    keep = np.ones(len(coords), dtype=bool)
    keep[closing] = False
    units = np.rint(coords[keep][:, ::-1] / grid).astype(np.int64)  # (lat, lng) as integers
    steps = np.diff(units, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    out = {} if grid == GRID else {"grid": grid}
    return out | {
        "ids": [str(i) for i in frame.index],
        "props": {c: [_plain(v) for v in frame[c]] for c in columns},
        "parts": _varints(np.bincount(owner, minlength=len(geometries))),
        "rings": _varints(np.bincount(ring_owner, minlength=len(polygons))),
        "points": _varints(points - 1),
        "coords": _varints(_zigzag(steps.ravel())),
    }


class FastGeoJson(MacroElement):
    """``L.geoJson`` over a pre-serialised FeatureCollection.

    ``tooltip`` is a list of (property, label) pairs, labels plain text
    (escaped here); numbers are formatted in French. ``fills`` maps feature ids to fill colours (default
    ``style["fillColor"]``). ``extra`` adds tooltip rows from per-feature
    tables (label, id -> already escaped text), so that an indicator layer
    can change without re-serialising the geometry.
    """

    _template = Template(
        """
{% macro script(this, kwargs) %}
var {{ this.get_name() }}_fills = {{ this.fills_json }};
var {{ this.get_name() }}_base = {{ this.style_json }};
var {{ this.get_name() }}_extra = {{ this.extra_json }};
var {{ this.get_name() }}_highlight = {{ this.highlight_json }};
var {{ this.get_name() }} = L.geoJson({{ this.data }}, {
    style: function (feature) {
        var s = Object.assign({}, {{ this.get_name() }}_base);
        var fill = {{ this.get_name() }}_fills[feature.id];
        if (fill !== undefined) { s.fillColor = fill; }
        return s;
    },
    onEachFeature: function (feature, layer) {
        {% if this.tooltip %}
        var p = feature.properties, rows = [];
        {% for field, label in this.tooltip %}
        var v = p[{{ field|tojson }}];
        if (v !== null && v !== undefined) {
            if (typeof v === "number") { v = v.toLocaleString("fr-FR"); }
            rows.push("<tr><th style='text-align:left;padding-right:6px'>" + {{ label|tojson }} +
                "</th><td>" + v + "</td></tr>");
        }
        {% endfor %}
        {% for label in this.extra_labels %}
        var x = {{ this.get_name() }}_extra[{{ loop.index0 }}][feature.id];
        if (x !== undefined && x !== null) {
            rows.push("<tr><th style='text-align:left;padding-right:6px'>" + {{ label|tojson }} +
                "</th><td>" + x + "</td></tr>");
        }
        {% endfor %}
        layer.bindTooltip("<table>" + rows.join("") + "</table>", {sticky: true});
        {% endif %}
        layer.on("mouseover", function () { layer.setStyle({{ this.get_name() }}_highlight); });
        layer.on("mouseout", function () { {{ this.get_name() }}.resetStyle(layer); });
    }
}).addTo({{ this._parent.get_name() }});
{% endmacro %}
"""
    )

    def __init__(
        self,
        data: str,
        style: dict,
        tooltip: list[tuple[str, str]] | None = None,
        fills: dict[str, str] | None = None,
        highlight: dict | None = None,
        name: str = "GeoJson",
        extra: list[tuple[str, dict[str, str]]] | None = None,
    ):
        super().__init__()
        self._name = name
        self.data = data
        self.style_json = script_json(style)
        self.fills_json = script_json(fills or {})
        self.highlight_json = script_json(highlight or {"weight": 2, "color": "#000000"})
        self.tooltip = [(f, html_text(label)) for f, label in (tooltip or [])]
        # extra tooltip rows not stored in the GeoJSON: (label, id -> escaped text)
        self.extra_labels = [html_text(label) for label, _ in (extra or [])]
        self.extra_json = script_json([values for _, values in (extra or [])])

    def render(self, **kwargs):
        figure = self.get_root()
        script = self._template.module.__dict__["script"]
        figure.script.add_child(Raw(script(self, kwargs)), name=self.get_name())
