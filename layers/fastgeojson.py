"""A GeoJSON layer whose data is serialised once, not at every Streamlit rerun.

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
            rows.push("<tr><th style='text-align:left;padding-right:6px'>" + {{ label|tojson }} + "</th><td>" + v + "</td></tr>");
        }
        {% endfor %}
        {% for label in this.extra_labels %}
        var x = {{ this.get_name() }}_extra[{{ loop.index0 }}][feature.id];
        if (x !== undefined && x !== null) {
            rows.push("<tr><th style='text-align:left;padding-right:6px'>" + {{ label|tojson }} + "</th><td>" + x + "</td></tr>");
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

    def __init__(self, data: str, style: dict, tooltip: list[tuple[str, str]] | None = None,
                 fills: dict[str, str] | None = None, highlight: dict | None = None, name: str = "GeoJson",
                 extra: list[tuple[str, dict[str, str]]] | None = None):
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
