"""Map layer of the FINESS structures: MSP, centres de santé and CPTS seats.

One ``folium.FeatureGroup`` per kind (named in French for the layer control),
with small coloured ``L.divIcon`` markers (no image, no CDN) created in bulk by
one script per group from a JSON array, clustered with the local
Leaflet.markercluster (``folium.plugins.MarkerCluster``) beyond
``CLUSTER_THRESHOLD`` points. Every text coming from the FINESS file is
escaped with ``layers.safe.html_text`` before it reaches the page.
"""

from __future__ import annotations

import folium
import numpy as np
import pandas as pd
from branca.element import MacroElement
from folium.plugins import MarkerCluster
from jinja2 import Template

import layers.assets  # noqa: F401 - points folium and MarkerCluster at the local files
from layers.legend import Legend
from layers.safe import html_text

CLUSTER_THRESHOLD = 50
ICON_SIZE = 18

# kind -> (layer name, colour, letter, shape)
KIND_STYLE: dict[str, tuple[str, str, str, str]] = {
    "msp": ("MSP", "#1b9e77", "M", "circle"),
    "centre_sante": ("Centres de santé", "#2c7fb8", "C", "square"),
    "cpts_seat": ("Sièges de CPTS", "#984ea3", "S", "diamond"),
}
DEFAULT_KINDS = ("msp", "centre_sante", "cpts_seat")


def icon_html(kind: str, approx: bool = False) -> str:
    """The marker's HTML: a small coloured shape with a white letter (dashed and paler when approximate)."""
    _, colour, letter, shape = KIND_STYLE[kind]
    radius = {"circle": "50%", "square": "3px", "diamond": "2px"}[shape]
    rotate = "transform:rotate(45deg);" if shape == "diamond" else ""
    unrotate = "display:inline-block;transform:rotate(-45deg);" if shape == "diamond" else ""
    border = "2px dashed #333" if approx else "2px solid #fff"
    opacity = "0.65" if approx else "1"
    size = ICON_SIZE - 4 if shape == "diamond" else ICON_SIZE
    return (
        f'<div style="box-sizing:border-box;width:{size}px;height:{size}px;margin:{(ICON_SIZE - size) // 2}px;'
        f"border-radius:{radius};{rotate}background:{colour};border:{border};opacity:{opacity};"
        f"box-shadow:0 0 2px rgba(0,0,0,.6);color:#fff;font:bold 9px/{size - 4}px sans-serif;"
        f'text-align:center"><span style="{unrotate}">{letter}</span></div>'
    )


class StructureMarkers(MacroElement):
    """Markers created in the browser from one JSON array, added to the parent (group or cluster)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var rows = {{ this.rows|tojson }};
            var size = {{ this.icon_size|tojson }};
            var icons = {{ this.icons|tojson }}.map(function(html) {
                return L.divIcon({html: html, className: 'cartocpts-structure', iconSize: [size, size],
                                  iconAnchor: [size / 2, size / 2], popupAnchor: [0, -size / 2]});
            });
            var target = {{ this._parent.get_name() }};
            var markers = rows.map(function(r) {
                return L.marker([r[0], r[1]], {icon: icons[r[2]]})
                    .bindTooltip(r[3]).bindPopup(r[4], {maxWidth: 320});
            });
            if (target.addLayers) { target.addLayers(markers); }
            else { markers.forEach(function(m) { target.addLayer(m); }); }
        })();
        {% endmacro %}
        """
    )

    def __init__(self, kind: str, rows: list[list]):
        super().__init__()
        self._name = "StructureMarkers"
        self.rows = rows
        self.icon_size = ICON_SIZE
        self.icons = [icon_html(kind, approx=False), icon_html(kind, approx=True)]


class _MaxZoomGuard(MacroElement):
    """Give the map a maximum zoom when it has none (no tile layer), which Leaflet.markercluster requires."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        if (!isFinite({{ this.map_name }}.getMaxZoom())) { {{ this.map_name }}.setMaxZoom({{ this.max_zoom|tojson }}); }
        {% endmacro %}
        """
    )

    def __init__(self, max_zoom: int = 18):
        super().__init__()
        self._name = "MaxZoomGuard"
        self.max_zoom = max_zoom
        self.map_name = None

    def render(self, **kwargs):
        element = self._parent
        while element is not None and not isinstance(element, folium.Map):
            element = getattr(element, "_parent", None)
        if element is None:
            return  # not on a map: nothing to guard
        self.map_name = element.get_name()
        super().render(**kwargs)


def _text(series: pd.Series) -> pd.Series:
    """Escaped text of a column ('' for missing values)."""
    return series.astype(object).where(series.notna(), "").astype(str).str.strip().map(html_text)


def _french_date(series: pd.Series) -> pd.Series:
    dates = pd.to_datetime(
        series.astype(object).where(series.notna(), None), format="%Y-%m-%d", errors="coerce"
    )
    return dates.dt.strftime("%d/%m/%Y").where(dates.notna(), "")


def popup_html(frame: pd.DataFrame) -> pd.Series:
    """Popup HTML of each structure: name, category, address, opening date, FINESS number (all escaped)."""

    def col(name):
        return _text(frame[name]) if name in frame.columns else pd.Series("", index=frame.index)

    category = col("category_label")
    code = col("categetab")
    category = category.where(code == "", category + " (" + code + ")")
    opened = (
        _french_date(frame["dateouv"])
        if "dateouv" in frame.columns
        else pd.Series("", index=frame.index)
    )
    approx = (
        frame["approx_location"].fillna(False).astype(bool)
        if "approx_location" in frame.columns
        else False
    )
    outside = (
        frame["outside_commune"].fillna(False).astype(bool)
        if "outside_commune" in frame.columns
        else False
    )
    parts = [
        '<div style="font:13px/1.45 sans-serif;min-width:200px"><b>' + col("name") + "</b>",
        category.where(category == "", "<br>" + category),
        col("address").where(col("address") == "", "<br>" + col("address")),
        opened.where(opened == "", "<br>Ouverture : " + opened),
        "<br>N° FINESS : " + col("nofinesset"),
        pd.Series(
            np.where(approx, "<br><i>Position approximative (centre de la commune)</i>", ""),
            index=frame.index,
        ),
        pd.Series(
            np.where(outside, "<br><i>Point situé hors de la commune déclarée</i>", ""),
            index=frame.index,
        ),
        "</div>",
    ]
    out = parts[0]
    for part in parts[1:]:
        out = out + part
    return out


def _rows(frame: pd.DataFrame) -> list[list]:
    """[lat, lon, approx (0/1), tooltip, popup] per structure with a position."""
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    if frame.empty:
        return []
    lon = frame.geometry.x.round(6).to_numpy()
    lat = frame.geometry.y.round(6).to_numpy()
    approx = (
        frame["approx_location"].fillna(False).astype(bool).to_numpy().astype(int)
        if "approx_location" in frame.columns
        else np.zeros(len(frame), dtype=int)
    )
    tooltip = _text(frame["name"]).to_numpy()
    popup = popup_html(frame).to_numpy()
    return [
        [float(a), float(b), int(c), str(d), str(e)]
        for a, b, c, d, e in zip(lat, lon, approx, tooltip, popup)
    ]


def structures_layer(frame, kinds=DEFAULT_KINDS, show: bool = True) -> list[folium.FeatureGroup]:
    """One feature group per kind present in ``frame`` (the ``finess`` layer, EPSG:4326), in ``kinds`` order.

    Groups are named "MSP", "Centres de santé", "Sièges de CPTS"; a group with
    more than ``CLUSTER_THRESHOLD`` markers clusters them. Kinds with no
    structure are left out.
    """
    groups = []
    if frame is None or len(frame) == 0:
        return groups
    for kind in kinds:
        if kind not in KIND_STYLE:
            continue
        rows = _rows(frame[frame["kind"] == kind])
        if not rows:
            continue
        group = folium.FeatureGroup(name=KIND_STYLE[kind][0], show=show)
        target = group
        if len(rows) > CLUSTER_THRESHOLD:
            _MaxZoomGuard().add_to(group)  # before the cluster: it throws on a map without maxZoom
            target = MarkerCluster(
                control=False, options={"showCoverageOnHover": False, "maxClusterRadius": 40}
            )
            target.add_to(group)
        StructureMarkers(kind, rows).add_to(target)
        groups.append(group)
    return groups


def structures_legend(
    kinds=DEFAULT_KINDS, position: str = "bottomright", vintage: str = ""
) -> Legend:
    """Legend of the structure markers (colours of the three kinds), with the extraction's date if known."""
    entries = [(KIND_STYLE[k][1], KIND_STYLE[k][0]) for k in kinds if k in KIND_STYLE]
    title = f"Structures (FINESS {vintage})" if vintage else "Structures (FINESS)"
    return Legend(title, entries, position=position)
