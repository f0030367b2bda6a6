"""The IRDES typology layer: communes coloured by class with the nomenclature's colours.

The nomenclature (``geo.sources.typology.load_nomenclature``) gives each class its
label, short label and colour; nothing here assumes six classes. Communes
without a class are grey (``NO_DATA``). Labels come from files (possibly a
user's nomenclature) and are escaped before they reach the page.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd

from layers.communes import NO_DATA, Colouring, map_frame
from layers.legend import Legend
from layers.safe import html_text

TITLE = "Typologie socio-sanitaire (Irdes)"
UNCLASSIFIED = "Non classée"


def _classes(codes, typology_frame: pd.DataFrame | None) -> pd.Series:
    """Class of each INSEE code of ``codes`` (NA when unclassified), from a frame insee, classe."""
    index = pd.Index(pd.Series(codes).astype(str).to_numpy())
    if typology_frame is None or not len(typology_frame):
        return pd.Series(pd.NA, index=index, dtype="Int64")
    series = pd.Series(
        pd.to_numeric(typology_frame["classe"], errors="coerce").astype("Int64").to_numpy(),
        index=typology_frame["insee"].astype(str).to_numpy(),
    )
    return series[~series.index.duplicated()].reindex(index)


def _styles(nomenclature: pd.DataFrame) -> tuple[dict[int, str], dict[int, str]]:
    """(class -> colour, class -> « n — short label »)."""
    colours = {int(c): str(col) for c, col in zip(nomenclature["classe"], nomenclature["colour"])}
    column = "short_label" if "short_label" in nomenclature.columns else "label"
    labels = {
        int(c): f"{int(c)} — {lab}" for c, lab in zip(nomenclature["classe"], nomenclature[column])
    }
    return colours, labels


def typology_legend(nomenclature: pd.DataFrame, with_unclassified: bool = True) -> Legend:
    """The legend: one swatch per class of the nomenclature (short labels), then « Non classée»."""
    colours, labels = _styles(nomenclature)
    entries = [(colours[c], labels[c]) for c in colours]
    if with_unclassified:
        entries.append((NO_DATA, UNCLASSIFIED))
    vintage = str(nomenclature.attrs.get("vintage") or "")
    return Legend(f"{TITLE}{' ' + vintage if vintage else ''}", entries)


def _fills_and_texts(
    codes, typology_frame, nomenclature
) -> tuple[dict[str, str], dict[str, str], bool]:
    colours, labels = _styles(nomenclature)
    classes = _classes(codes, typology_frame)
    fills, texts = {}, {}
    for code, cls in classes.items():
        known = not pd.isna(cls)
        fills[code] = colours.get(int(cls), NO_DATA) if known else NO_DATA
        texts[code] = html_text(
            labels.get(int(cls), f"Classe {int(cls)}") if known else UNCLASSIFIED
        )
    return fills, texts, bool(classes.isna().any())


def typology_colouring(
    frame: gpd.GeoDataFrame, typology_frame: pd.DataFrame | None, nomenclature: pd.DataFrame
) -> Colouring:
    """Home-map colours of ``frame`` (from ``map_frame``) by class, with the class in the tooltip."""
    fills, texts, missing = _fills_and_texts(frame["insee"], typology_frame, nomenclature)
    return Colouring(
        fills=fills, legend=typology_legend(nomenclature, missing), tooltip=("Classe Irdes", texts)
    )


def typology_choropleth(
    communes_gdf: gpd.GeoDataFrame, typology_frame: pd.DataFrame | None, nomenclature: pd.DataFrame
) -> folium.GeoJson:
    """The communes coloured by class (``typology_frame``: insee, classe), tooltip commune and class label.

    Add :func:`typology_legend` to the map beside it.
    """
    frame = map_frame(communes_gdf)
    fills, texts, _ = _fills_and_texts(frame["insee"], typology_frame, nomenclature)
    frame["classe_txt"] = [texts[code] for code in frame["insee"]]

    def style(feature):
        return {
            "fillColor": fills.get(feature["id"], NO_DATA),
            "color": "#666666",
            "weight": 0.4,
            "fillOpacity": 0.75,
        }

    return folium.GeoJson(
        frame[["nom", "insee", "classe_txt", "geometry"]].__geo_interface__,
        name=TITLE,
        style_function=style,
        highlight_function=lambda f: {"weight": 2, "color": "#000000"},
        tooltip=folium.GeoJsonTooltip(
            fields=["nom", "insee", "classe_txt"],
            aliases=["Commune", "Code INSEE", "Classe Irdes"],
            localize=False,
        ),
        zoom_on_click=False,
    )
