"""Indicator layers: the DREES APL choropleth of the communes.

APL classes use the fixed reading steps of ``geo.sources.apl.APL_BREAKS`` (2.5, the
« zone sous-dense » threshold, then 3.5 and 4.5) rather than quantiles, so that two
maps (two départements, two years) read the same way.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from geo.formats.french import decimal
from geo.sources.apl import APL_BREAKS
from layers.communes import NO_DATA, Choropleth, Colouring, map_frame
from layers.legend import Legend
from layers.safe import html_text

# Diverging ColorBrewer RdYlBu (4 classes, colour-blind safe): red = low access, blue = good access.
APL_PALETTE = ["#d7191c", "#fdae61", "#abd9e9", "#2c7bb6"]
APL_LABELS = [
    f"< {decimal(APL_BREAKS[0], 1)} (zone sous-dense)",
    *(f"{decimal(low, 1)} – {decimal(high, 1)}" for low, high in zip(APL_BREAKS, APL_BREAKS[1:])),
    f"≥ {decimal(APL_BREAKS[-1], 1)}",
]
NO_VALUE_LABEL = "Pas de valeur"


def _apl_class(value) -> int | None:
    """Index of the APL class of ``value`` (None when missing)."""
    if value is None or pd.isna(value):
        return None
    return int(np.searchsorted(APL_BREAKS, float(value), side="right"))


def apl_colour(value) -> str:
    idx = _apl_class(value)
    return NO_DATA if idx is None else APL_PALETTE[idx]


def _apl_text(value) -> str:
    """The APL in a tooltip: two decimals, « Pas de valeur » when missing."""
    return NO_VALUE_LABEL if value is None or pd.isna(value) else decimal(float(value), 2)


def _apl_values(codes, apl_frame: pd.DataFrame | None) -> np.ndarray:
    """APL of each INSEE code of ``codes`` (NaN when missing) from a frame with columns insee, apl."""
    codes = pd.Index(pd.Series(codes).astype(str).to_numpy())
    if apl_frame is None or not len(apl_frame):
        return np.full(len(codes), np.nan)
    values = pd.Series(
        pd.to_numeric(apl_frame["apl"], errors="coerce").to_numpy(dtype="float64"),
        index=apl_frame["insee"].astype(str).to_numpy(),
    )
    values = values[~values.index.duplicated()]
    return values.reindex(codes).to_numpy()


def _apl_legend(label: str, with_missing: bool) -> Legend:
    entries = list(zip(APL_PALETTE, APL_LABELS))
    if with_missing:
        entries.append((NO_DATA, NO_VALUE_LABEL))
    return Legend(f"{label} (consultations/an/habitant)", entries)


def apl_colouring(frame: gpd.GeoDataFrame, apl_frame: pd.DataFrame | None, label: str) -> Colouring:
    """Home-map colours of ``frame`` (from ``map_frame``) by APL class, with the value in the tooltip."""
    apl = _apl_values(frame["insee"], apl_frame)
    fills = {code: apl_colour(v) for code, v in zip(frame["insee"], apl)}
    texts = {code: html_text(_apl_text(v)) for code, v in zip(frame["insee"], apl)}
    return Colouring(
        fills=fills,
        legend=_apl_legend(label, bool(np.isnan(apl).any())),
        tooltip=(html_text(label), texts),
    )


def apl_choropleth(
    communes_gdf: gpd.GeoDataFrame, apl_frame: pd.DataFrame | None, label: str
) -> Choropleth:
    """The communes coloured by APL (``apl_frame``: columns insee, apl), with legend and tooltip.

    ``label`` titles the legend and the tooltip line (e.g. « APL 2023 aux
    médecins généralistes »). Communes without a value are grey.
    """
    frame = map_frame(communes_gdf)
    apl = _apl_values(frame["insee"], apl_frame)
    frame["apl"] = [None if np.isnan(v) else round(float(v), 3) for v in apl]
    frame["apl_txt"] = [html_text(_apl_text(v)) for v in frame["apl"]]
    colours = {code: apl_colour(v) for code, v in zip(frame["insee"], frame["apl"])}

    def style(feature):
        return {
            "fillColor": colours.get(feature["id"], NO_DATA),
            "color": "#666666",
            "weight": 0.4,
            "fillOpacity": 0.75,
        }

    layer = folium.GeoJson(
        frame[["nom", "insee", "apl_txt", "geometry"]].__geo_interface__,
        name=html_text(label),
        style_function=style,
        highlight_function=lambda f: {"weight": 2, "color": "#000000"},
        tooltip=folium.GeoJsonTooltip(
            fields=["nom", "insee", "apl_txt"],
            aliases=["Commune", "Code INSEE", html_text(label)],
            localize=False,
        ),
        zoom_on_click=False,
    )
    legend = _apl_legend(label, bool(frame["apl"].isna().any()))
    return Choropleth(layer=layer, legend=legend, breaks=list(APL_BREAKS))
