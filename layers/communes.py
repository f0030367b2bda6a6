"""The commune choropleth (population or density) with its legend and tooltip."""

from __future__ import annotations

from dataclasses import dataclass

import folium
import geopandas as gpd
import mapclassify
import numpy as np
import pandas as pd

from geo.formats.french import decimal, integer
from layers.legend import Legend
from layers.safe import html_text

# ColorBrewer YlOrRd, 6 classes (sequential, colour-blind safe, readable when printed in grey)
PALETTE = ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026"]
NO_DATA = "#cccccc"

METRICS = {
    "population": "Population municipale",
    "density": "Densité (hab./km²)",
}


@dataclass
class Choropleth:
    layer: folium.GeoJson
    legend: Legend
    breaks: list[float]


def _bound(value: float) -> str:
    """A class bound in the legend: whole above 10, one decimal below (densities of a few inhabitants)."""
    return integer(value) if value >= 10 else decimal(value, 1)


def _class_breaks(values: pd.Series, k: int = len(PALETTE)) -> list[float]:
    """Upper bounds of quantile classes of the known values (mapclassify)."""
    known = values.dropna().astype(float).to_numpy()
    if known.size == 0:
        return []
    k = max(1, min(k, np.unique(known).size))
    return [float(b) for b in mapclassify.Quantiles(known, k=k).bins]


def _colour(value, breaks: list[float]) -> str:
    if value is None or pd.isna(value) or not breaks:
        return NO_DATA
    idx = int(np.searchsorted(breaks, float(value), side="left"))
    return PALETTE[min(idx, len(PALETTE) - 1)]


def map_frame(communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The few properties the browser needs, keyed by INSEE code; text escaped."""
    pop = communes["population"]
    density = (pop.astype("Float64") / communes["area_km2"].where(communes["area_km2"] > 0)).round(
        1
    )
    return gpd.GeoDataFrame(
        {
            "nom": [html_text(str(n)) for n in communes["name"]],
            "insee": communes["insee"].to_numpy(),
            "pop": [None if pd.isna(p) else int(p) for p in pop],
            "dens": [None if pd.isna(d) else float(d) for d in density],
        },
        geometry=communes.geometry.to_numpy(),
        index=pd.Index(communes["insee"].to_numpy(), name="id"),
        crs=communes.crs,
    )


@dataclass
class Colouring:
    """How the home map colours its communes: fill per INSEE code, legend, optional tooltip line."""

    fills: dict[str, str]
    legend: Legend
    tooltip: tuple[str, dict[str, str]] | None = None  # (label, insee -> escaped text)


def metric_colouring(
    frame: gpd.GeoDataFrame, metric: str = "population", population_label: str = "Population"
) -> Colouring:
    """Quantile colours of ``frame`` (from :func:`map_frame`) by population or density."""
    column = {"population": "pop", "density": "dens"}[metric]
    breaks = _class_breaks(frame[column].astype("Float64"))
    fills = {insee: _colour(v, breaks) for insee, v in zip(frame["insee"], frame[column])}
    entries, low = [], None
    for colour, high in zip(PALETTE, breaks):
        label = f"≤ {_bound(high)}" if low is None else f"{_bound(low)} – {_bound(high)}"
        entries.append((colour, label))
        low = high
    if frame[column].isna().any():
        entries.append((NO_DATA, "Donnée manquante"))
    # every legend says its unit and its vintage (« Population 2017 (habitants) », « Densité 2017 (hab./km²) »)
    vintage = population_label.removeprefix("Population").strip()
    title = (
        f"{population_label} (habitants)"
        if metric == "population"
        else f"Densité {vintage} (hab./km²)".replace("  ", " ")
    )
    return Colouring(fills=fills, legend=Legend(title, entries))
