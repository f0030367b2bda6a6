"""FINESS importer: MSP (603), centres de santé (124) and CPTS seats (604).

Reads the official ``etalab-cs1100507`` extraction published on data.gouv.fr:

* a manifest line ``finess;etalab;<n>;<extraction date>``;
* ``structureet`` lines, 32 fields (the tag, 30 named fields, an empty trailing one);
* ``geolocalisation;nofinesset;x;y;source;date`` lines, joined on ``nofinesset``.

Coordinates are projected (Lambert-93 in metropolitan France, UTM overseas);
the CRS comes from the ``source`` field (``EPSG:nnnn``), a legacy label
(``LAMBERT_93``, ``UTM_N20``...) or the département. They are transformed to
WGS84 with one vectorised transform per CRS. Records without coordinates are
placed at their commune's representative point (``approx_location``); records
whose point lies outside their commune are flagged (``outside_commune``).

``parse_finess`` never writes; ``import_finess`` writes the ``finess`` layer
through the import pipeline (``geo.sources.pipeline``) only when the whole
file was read successfully, so a failed import leaves the previous layer
intact.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geo.base.communes import load
from geo.errors import DataError
from geo.formats.french import integer
from geo.sources.codes import arrondissements_of
from geo.sources.download import download, get_json
from geo.sources.pipeline import Report, Source, check_bad_rows, import_file, progress_of, scaled
from geo.sources.tabular import decode_text, is_binary, read_bytes
from geo.store.catalogue import sources
from geo.store.paths import data_dir

LAYER = "finess"
DATASET_SLUG = "finess-extraction-du-fichier-des-etablissements"
DEFAULT_API = "https://www.data.gouv.fr/api/1"
RESOURCE_RE = re.compile(r"etalab-cs1100507-stock-(\d{8})-(\d{4})\.csv")

STRUCTURE_FIELDS = [
    "nofinesset",
    "nofinessej",
    "rs",
    "rslongue",
    "complrs",
    "compldistrib",
    "numvoie",
    "typvoie",
    "voie",
    "compvoie",
    "lieuditbp",
    "commune",
    "departement",
    "libdepartement",
    "ligneacheminement",
    "telephone",
    "telecopie",
    "categetab",
    "libcategetab",
    "categagretab",
    "libcategagretab",
    "siret",
    "codeape",
    "codemft",
    "libmft",
    "codesph",
    "libsph",
    "dateouv",
    "dateautor",
    "datemaj",
    "trailing",
]
STRUCTURE_WIDTH = 1 + len(STRUCTURE_FIELDS)  # 32 with the "structureet" tag
GEO_FIELDS = ["nofinesset", "x", "y", "source", "date"]
GEO_WIDTH = 1 + len(GEO_FIELDS)  # 6 with the "geolocalisation" tag

KINDS = {"603": "msp", "124": "centre_sante", "604": "cpts_seat"}
KIND_LABELS = {"msp": "MSP", "centre_sante": "Centres de santé", "cpts_seat": "Sièges de CPTS"}

COLUMNS = [
    "nofinesset",
    "nofinessej",
    "name",
    "kind",
    "categetab",
    "category_label",
    "address",
    "insee",
    "insee_arrondissement",
    "dep",
    "dateouv",
    "siret",
    "approx_location",
    "outside_commune",
    "geometry",
]
COUNTS = (
    "msp",
    "centres_sante",
    "cpts_seats",
    "without_coordinates",
    "outside_commune",
    "skipped_lines",
)
OUTSIDE_TOLERANCE_DEG = 0.001  # about 100 m: points on a commune boundary are not "outside"

LEGACY_CRS = {
    "LAMBERT_93": 2154,
    "UTM_N20": 5490,
    "UTM_N22": 2972,
    "UTM_S40": 2975,
    "UTM_S38": 4471,
    "UTM_N21": 32621,
}
DEP_CRS = {
    "971": 5490,
    "972": 5490,
    "977": 5490,
    "978": 5490,
    "973": 2972,
    "974": 2975,
    "976": 4471,
    "975": 32621,
}
DEFAULT_CRS = 2154
EPSG_RE = r"EPSG\s*:\s*(\d{4,6})"

# FINESS overseas département codes (INSEE codes are "97" + the commune field).
OVERSEAS_DEPS = {"9A", "9B", "9C", "9D", "9E", "9F"}

TYPVOIE = {
    "R": "RUE",
    "AV": "AVENUE",
    "BD": "BOULEVARD",
    "PL": "PLACE",
    "RTE": "ROUTE",
    "CHE": "CHEMIN",
    "CHEM": "CHEMIN",
    "ALL": "ALLÉE",
    "IMP": "IMPASSE",
    "QU": "QUAI",
    "QUAI": "QUAI",
    "CRS": "COURS",
    "FG": "FAUBOURG",
    "LD": "LIEU-DIT",
    "RES": "RÉSIDENCE",
    "SQ": "SQUARE",
    "PROM": "PROMENADE",
    "PASS": "PASSAGE",
    "HAM": "HAMEAU",
    "QUA": "QUARTIER",
    "TSSE": "TERRASSE",
    "ESP": "ESPLANADE",
    "MTE": "MONTÉE",
    "CTRE": "CENTRE",
    "CAR": "CARREFOUR",
    "SEN": "SENTIER",
    "PRV": "PARVIS",
    "RPT": "ROND-POINT",
}
COMPVOIE = {"B": "BIS", "T": "TER", "Q": "QUATER", "C": "QUINQUIES"}


SEPARATORS = {",": "virgule « , »", "\t": "tabulation", "|": "barre verticale « | »"}

# --------------------------------------------------------------------------- reading


def _read_text(path: Path, name: str) -> str:
    """The file's text, read through the size cap; encoding decided by :func:`geo.sources.tabular.decode_text`
    (UTF-8 or Windows-1252, a UTF-8 file damaged by stray bytes is refused)."""
    data = read_bytes(path, "FINESS", name)
    if is_binary(data):
        raise DataError(
            f"Le fichier {name} n'est pas un fichier FINESS : c'est un fichier binaire (image, PDF, archive...), "
            "pas un CSV etalab-cs1100507 séparé par des points-virgules."
        )
    return decode_text(data, name, "FINESS")


def _split(line: str) -> list[str]:
    """Fields of one line (';' separated, fields may be double-quoted)."""
    if '"' not in line:
        return line.split(";")
    return next(csv.reader([line], delimiter=";", strict=True))


def _shorten(text: str, width: int = 60) -> str:
    text = text.strip()
    return text if len(text) <= width else text[: width - 1] + "…"


def _check_first_line(first: str, number: int, name: str) -> tuple[bool, str | None]:
    """Validate the first line: (is it a manifest line, its extraction date or None)."""
    tag = first.split(";", 1)[0].strip().lower()
    if ";" in first and tag == "finess":
        fields = first.split(";")
        date = fields[3].strip() if len(fields) > 3 else ""
        return True, date or None
    if ";" in first and tag in ("structureet", "geolocalisation"):
        return False, None  # no manifest line: the data starts at once
    for sep, label in SEPARATORS.items():
        if sep in first and first.split(sep, 1)[0].strip().strip('"').lower() in (
            "finess",
            "structureet",
        ):
            raise DataError(
                f"{name}, ligne {number} : mauvais séparateur ({label}) ; le fichier FINESS etalab-cs1100507 "
                "utilise le point-virgule « ; »."
            )
    raise DataError(
        f"{name} n'est pas un fichier FINESS etalab-cs1100507 : la ligne {number} devrait commencer par "
        f"« finess;etalab; » mais contient « {_shorten(first)} »."
    )


def _read_lines(path: Path, name: str):
    """Split the file into structure and geolocation rows; return them with the manifest and issues."""
    text = _read_text(path, name)
    lines = text.splitlines()
    numbered = [(i + 1, line) for i, line in enumerate(lines) if line.strip()]
    if not numbered:
        raise DataError(f"Le fichier FINESS {name} est vide (aucune ligne) : rien à importer.")
    first_no, first = numbered[0]
    has_manifest, vintage = _check_first_line(first, first_no, name)
    if has_manifest:
        numbered = numbered[1:]

    structures, structure_lines, geos, geo_lines = [], [], [], []
    errors: list[str] = []
    bad = 0
    for number, line in numbered:
        try:
            fields = _split(line)
        except csv.Error:
            bad += 1
            errors.append(f"ligne {number} : guillemet non fermé, ligne ignorée")
            continue
        tag = fields[0].strip().lower()
        if tag == "structureet":
            width, target, target_lines = STRUCTURE_WIDTH, structures, structure_lines
        elif tag == "geolocalisation":
            width, target, target_lines = GEO_WIDTH, geos, geo_lines
        else:
            bad += 1
            wrong_sep = re.match(r"^(?:structureet|geolocalisation)([,\t|])", tag)
            if wrong_sep:
                label = SEPARATORS[wrong_sep.group(1)]
                errors.append(
                    f"ligne {number} : mauvais séparateur ({label}) au lieu du point-virgule « ; », "
                    "ligne ignorée"
                )
            else:
                errors.append(
                    f"ligne {number} : type de ligne inconnu « {_shorten(fields[0], 30)} », ligne ignorée"
                )
            continue
        if len(fields) > width and not any(f.strip() for f in fields[width:]):
            fields = fields[:width]  # extra empty trailing fields are harmless
        if len(fields) != width:
            bad += 1
            errors.append(
                f"ligne {number} : {len(fields)} champs au lieu de {width}, ligne ignorée"
            )
            continue
        if not fields[1].strip():
            bad += 1
            errors.append(f"ligne {number} : numéro FINESS (nofinesset) vide, ligne ignorée")
            continue
        target.append(fields[1:])
        target_lines.append(number)

    total = len(numbered)
    if not structures:
        if bad and bad == total:
            raise DataError(
                f"{name} : aucune ligne lisible ({bad} lignes mal formées). Premières erreurs : "
                + " ; ".join(errors[:3])
                + "."
            )
        raise DataError(
            f"{name} ne contient aucune ligne « structureet » : ce n'est pas une extraction FINESS des "
            "établissements (etalab-cs1100507)."
        )
    frame = pd.DataFrame(structures, columns=STRUCTURE_FIELDS, dtype=object)
    frame["line"] = structure_lines
    geo = (
        pd.DataFrame(geos, columns=GEO_FIELDS, dtype=object)
        if geos
        else pd.DataFrame(columns=GEO_FIELDS)
    )
    geo["line"] = geo_lines
    return frame, geo, vintage, bad, errors


def _drop_duplicates(frame: pd.DataFrame, what: str, errors: list[str]) -> tuple[pd.DataFrame, int]:
    frame = frame.copy()
    frame["nofinesset"] = frame["nofinesset"].str.strip()
    dup = frame["nofinesset"].duplicated(keep="first")
    if not dup.any():
        return frame, 0
    first_line = frame.loc[~dup].set_index("nofinesset")["line"]
    for number, code in zip(frame.loc[dup, "line"], frame.loc[dup, "nofinesset"]):
        errors.append(
            f"ligne {number} : {what} {code} en double (déjà lu ligne {first_line[code]}), ligne ignorée"
        )
    return frame.loc[~dup], int(dup.sum())


# --------------------------------------------------------------------------- codes and places


def insee_codes(departement: pd.Series, commune: pd.Series) -> tuple[pd.Series, pd.Series]:
    """INSEE codes from FINESS département and commune fields: (code for joins, arrondissement code or None)."""
    dep = departement.fillna("").str.strip().str.upper()
    com = commune.fillna("").str.strip()
    com = com.where(com == "", com.str.zfill(3))
    overseas = dep.isin(OVERSEAS_DEPS) | (dep.str.len() == 3) & dep.str.startswith("97")
    dep = dep.where(dep == "", dep.str.zfill(2))  # "9" saved by a spreadsheet -> "09"
    code = (dep + com).where(~overseas, "97" + com)
    code = code.where(code.str.match(r"^(\d{5}|2[AB]\d{3})$", na=False), None)
    insee = code.copy()
    arrondissement = pd.Series(None, index=code.index, dtype=object)
    for city, hit in arrondissements_of(code).items():
        arrondissement = arrondissement.where(~hit, code)
        insee = insee.where(~hit, city)
    return insee, arrondissement


def _dep_of(insee: pd.Series) -> pd.Series:
    """Département code of INSEE codes (3 characters overseas)."""
    overseas = insee.str.startswith("97", na=False)
    return insee.str[:2].where(~overseas, insee.str[:3])


def crs_codes(source: pd.Series, dep: pd.Series) -> pd.Series:
    """EPSG code of each geolocation: from ``EPSG:nnnn`` in the source, a legacy label, or the département."""
    src = source.fillna("").astype(str)
    epsg = pd.to_numeric(src.str.extract(EPSG_RE, flags=re.IGNORECASE)[0], errors="coerce")
    upper = src.str.upper()
    for label, code in LEGACY_CRS.items():
        epsg = epsg.where(epsg.notna() | ~upper.str.contains(label, regex=False), code)
    by_dep = dep.fillna("").map(DEP_CRS).fillna(DEFAULT_CRS)
    return epsg.fillna(by_dep).astype("int64")


def to_wgs84(x: np.ndarray, y: np.ndarray, epsg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Longitudes and latitudes, one vectorised transform per CRS; NaN where it fails."""
    lon = np.full(len(x), np.nan)
    lat = np.full(len(x), np.nan)
    valid = np.isfinite(x) & np.isfinite(y)
    for code in np.unique(epsg[valid]):
        sel = valid & (epsg == code)
        try:
            transformer = Transformer.from_crs(int(code), 4326, always_xy=True)
        except Exception:  # noqa: BLE001 - an unknown EPSG code leaves these points without coordinates
            continue
        lon[sel], lat[sel] = transformer.transform(x[sel], y[sel])
    bad = ~(np.isfinite(lon) & np.isfinite(lat)) | (np.abs(lon) > 180) | (np.abs(lat) > 90)
    lon[bad] = np.nan
    lat[bad] = np.nan
    return lon, lat


def _iso_date(values: pd.Series) -> pd.Series:
    text = values.fillna("").str.strip()
    iso = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    french = pd.to_datetime(text, format="%d/%m/%Y", errors="coerce")
    dates = iso.fillna(french)
    return dates.dt.strftime("%Y-%m-%d").where(dates.notna(), None)


def _addresses(frame: pd.DataFrame) -> pd.Series:
    """Postal address: number (bis/ter), street type and name, lieu-dit or BP, then post code and town."""

    def col(name):
        return frame[name].fillna("").str.strip()

    typ = col("typvoie")
    typ = typ.str.upper().map(TYPVOIE).fillna(typ)
    comp = col("compvoie")
    comp = comp.str.upper().map(COMPVOIE).fillna(comp)
    street = (col("numvoie") + " " + comp + " " + typ + " " + col("voie")).str.split().str.join(" ")
    sep = "\x1f"
    joined = street + sep + col("lieuditbp") + sep + col("ligneacheminement")
    return (
        joined.str.replace(f"{sep}+", ", ", regex=True)
        .str.strip(", ")
        .str.replace(r"^, |, $", "", regex=True)
    )


# --------------------------------------------------------------------------- parsing


class FinessReport(Report):
    """A FINESS import: the structures kept by kind, those placed approximately or outside their commune."""

    JSON_MEMBERS = ("errors",)

    def lines(self) -> list[str]:
        d = self.details
        lines = [f"Fichier téléchargé : {d['url']}"] if d.get("url") else []
        lines += [
            f"{integer(d['msp'])} maisons de santé pluriprofessionnelles (MSP, catégorie 603)",
            f"{integer(d['centres_sante'])} centres de santé (catégorie 124)",
            f"{integer(d['cpts_seats'])} sièges de CPTS (catégorie 604)",
            f"{integer(d['without_coordinates'])} structures sans coordonnées, placées au centre de leur commune",
            f"{integer(d['outside_commune'])} structures dont le point tombe hors de leur commune (signalées, "
            "conservées)",
            f"{integer(d['skipped_lines'])} lignes ignorées",
        ]
        if self.errors:
            lines.append("Anomalies relevées :")
            lines += [f"  - {e}" for e in self.errors]
        return lines


def parse_finess(
    path, communes: gpd.GeoDataFrame | None = None, name: str | None = None
) -> tuple[gpd.GeoDataFrame, FinessReport]:
    """Read a FINESS extraction: the MSP, centres de santé and CPTS seats, and a report.

    Nothing is written. ``name``: the user's name of the file (default its own). ``communes`` (insee,
    geometry in EPSG:4326) defaults to the commune base. The extraction date is in
    ``frame.attrs["vintage"]`` ('inconnue' without a manifest line).
    """
    path = Path(path)
    name = name or path.name
    structures, geo, vintage, bad, errors = _read_lines(path, name)
    structures, dup_structures = _drop_duplicates(structures, "établissement", errors)
    geo, dup_geo = (
        _drop_duplicates(geo, "géolocalisation de l'établissement", errors)
        if len(geo)
        else (geo, 0)
    )
    skipped = bad + dup_structures + dup_geo
    total = len(structures) + len(geo) + skipped
    check_bad_rows(name, skipped, total, errors)

    cat = structures["categetab"].fillna("").str.strip()
    kept = structures.loc[cat.isin(list(KINDS))].copy()
    if kept.empty:
        raise DataError(
            f"{name} ne contient aucune MSP (catégorie 603), aucun centre de santé (124) ni siège de CPTS (604) : "
            "rien à importer (le fichier est-il une extraction complète des établissements ?)."
        )
    kept["categetab"] = kept["categetab"].str.strip()
    kept["kind"] = kept["categetab"].map(KINDS)
    kept = kept.reset_index(drop=True)

    insee, arrondissement = insee_codes(kept["departement"], kept["commune"])
    kept["insee"], kept["insee_arrondissement"] = insee, arrondissement
    kept["dep"] = _dep_of(insee)
    invalid = kept[insee.isna()]
    for number, dep, com in zip(invalid["line"], invalid["departement"], invalid["commune"]):
        errors.append(
            f"ligne {number} : code commune invalide (département « {dep} », commune « {com} »)"
        )

    # Coordinates: join on nofinesset, pick the CRS, transform per CRS.
    located = kept[["nofinesset", "dep"]].merge(geo, on="nofinesset", how="left")
    x = pd.to_numeric(
        located["x"].fillna("").str.strip().str.replace(",", ".", regex=False), errors="coerce"
    )
    y = pd.to_numeric(
        located["y"].fillna("").str.strip().str.replace(",", ".", regex=False), errors="coerce"
    )
    epsg = crs_codes(located["source"], located["dep"])
    lon, lat = to_wgs84(x.to_numpy(float), y.to_numpy(float), epsg.to_numpy())
    has_coords = np.isfinite(lon) & np.isfinite(lat)

    # Align with the communes by INSEE code.
    if communes is None:
        communes = load("communes")
    polygons = communes.drop_duplicates("insee").set_index("insee").geometry
    polygon = np.asarray(polygons.reindex(kept["insee"]).array, dtype=object)  # None where unknown
    known = ~shapely.is_missing(polygon) & ~shapely.is_empty(polygon)
    unknown = ~known & kept["insee"].notna().to_numpy()
    for number, code in zip(kept.loc[unknown, "line"], kept.loc[unknown, "insee"]):
        errors.append(f"ligne {number} : commune {code} absente de la base communale")

    points = shapely.points(np.where(has_coords, lon, 0.0), np.where(has_coords, lat, 0.0))
    points = np.where(has_coords, points, None)
    fallback = np.full(len(kept), None, dtype=object)
    fallback[known] = shapely.point_on_surface(polygon[known])
    geometry = np.where(has_coords, points, fallback)
    outside = np.zeros(len(kept), dtype=bool)
    test = has_coords & known
    outside[test] = ~shapely.dwithin(polygon[test], points[test], OUTSIDE_TOLERANCE_DEG)
    for number, label, code in zip(
        kept.loc[~has_coords & ~known, "line"],
        kept.loc[~has_coords & ~known, "rs"],
        kept.loc[~has_coords & ~known, "insee"],
    ):
        errors.append(
            f"ligne {number} : « {label} » sans coordonnées ni commune connue ({code}) : pas de position"
        )

    name_col = kept["rslongue"].fillna("").str.strip()
    name_col = name_col.where(name_col != "", kept["rs"].fillna("").str.strip())
    siret = kept["siret"].fillna("").str.strip()
    out = gpd.GeoDataFrame(
        {
            "nofinesset": kept["nofinesset"].to_numpy(),
            "nofinessej": kept["nofinessej"].fillna("").str.strip().to_numpy(),
            "name": name_col.to_numpy(),
            "kind": kept["kind"].to_numpy(),
            "categetab": kept["categetab"].to_numpy(),
            "category_label": kept["libcategetab"].fillna("").str.strip().to_numpy(),
            "address": _addresses(kept).to_numpy(),
            "insee": kept["insee"].to_numpy(),
            "insee_arrondissement": kept["insee_arrondissement"].to_numpy(),
            "dep": kept["dep"].to_numpy(),
            "dateouv": _iso_date(kept["dateouv"]).to_numpy(),
            "siret": siret.where(siret != "", None).to_numpy(),
            "approx_location": ~has_coords,
            "outside_commune": outside,
        },
        geometry=gpd.GeoSeries(list(geometry), crs="EPSG:4326").to_numpy(),
        crs="EPSG:4326",
    )[COLUMNS]

    kinds = out["kind"].value_counts()
    report = FinessReport(
        file=name,
        rows=int(total),
        details={
            "msp": int(kinds.get("msp", 0)),
            "centres_sante": int(kinds.get("centre_sante", 0)),
            "cpts_seats": int(kinds.get("cpts_seat", 0)),
            "without_coordinates": int((~has_coords).sum()),
            "outside_commune": int(outside.sum()),
            "skipped_lines": int(skipped),
        },
    )
    report.skipped(errors)
    out.attrs["vintage"] = vintage or "inconnue"
    return out, report


def _provenance(frame: gpd.GeoDataFrame, report: FinessReport) -> dict:
    entry = sources().get(LAYER, {})
    return {
        "source": entry.get("publisher", "Ministère chargé de la santé (DREES), data.gouv.fr"),
        "vintage": frame.attrs.get("vintage") or "inconnue",
        "licence": entry.get("licence", "Licence Ouverte / Open Licence"),
        "url": entry.get("url", ""),
        "counts": {key: report.details[key] for key in COUNTS},
    }


SOURCE = Source(LAYER, "FINESS", parse_finess, _provenance, file_key="origin_file")


def import_finess(
    path, progress=None, url: str | None = None, display_name: str | None = None
) -> FinessReport:
    """Parse a FINESS extraction and, if it is sound, replace the ``finess`` layer; return the report.

    ``url``: where the file was downloaded from (kept in the provenance). ``display_name``: the user's
    name of the file. ``progress(fraction, message)`` receives French messages. On any error
    (``DataError``) nothing is written and the previous layer stays as it was.
    """
    return import_file(
        SOURCE,
        path,
        display_name=display_name,
        progress=progress,
        meta={"url": url} if url else None,
    )


# --------------------------------------------------------------------------- online update


def latest_resource(dataset: dict) -> tuple[str, str]:
    """URL and file name of the newest ``etalab-cs1100507-stock-YYYYMMDD-HHMM.csv`` resource."""
    best = None
    for res in (dataset or {}).get("resources") or []:
        url = str(res.get("url") or "")
        match = RESOURCE_RE.search(url)
        if match:
            key = (match.group(1), match.group(2))
            if best is None or key > best[0]:
                best = (key, url, match.group(0))
    if best is None:
        raise DataError(
            "Aucun fichier « etalab-cs1100507-stock-AAAAMMJJ-HHMM.csv » dans le jeu de données FINESS de "
            "data.gouv.fr : la publication a peut-être changé de forme. Téléchargez le fichier à la main et "
            "importez-le (« python -m geo import finess FICHIER »)."
        )
    return best[1], best[2]


def update_finess(api_base: str = DEFAULT_API, progress=None) -> FinessReport:
    """Download the newest FINESS extraction from data.gouv.fr and import it; the report includes its URL.

    The file is downloaded into a private staging folder and imported from
    there; only after a successful import does it replace the cached copy in
    ``downloads/``: a refused answer (an HTML page, a truncated or corrupt
    file) never overwrites the previous official file.
    """
    say = progress_of(progress)
    api = f"{api_base.rstrip('/')}/datasets/{DATASET_SLUG}/"
    say(0.0, f"Interrogation de {api}…")
    url, filename = latest_resource(get_json(api))
    if (
        not RESOURCE_RE.fullmatch(filename) or Path(filename).name != filename
    ):  # never a path from the API
        raise DataError(f"Nom de fichier FINESS refusé dans la réponse de {api} : « {filename} ».")
    downloads = data_dir() / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    dest = downloads / filename

    def on_bytes(received: int, total: int | None) -> None:
        if total:
            say(
                0.02 + 0.6 * min(received / total, 1.0),
                f"Téléchargement de {filename} : {integer(received // 1024)} / {integer(total // 1024)} Kio",
            )
        else:
            say(0.02, f"Téléchargement de {filename} : {integer(received // 1024)} Kio")

    say(0.02, f"Téléchargement de {url}…")
    staging = Path(tempfile.mkdtemp(prefix=".incoming-", dir=downloads))
    try:
        fresh = download(url, staging / filename, progress=on_bytes)
        report = import_finess(fresh, progress=scaled(say, 0.65, 1.0), url=url)
        os.replace(fresh, dest)  # the checked file becomes the cached official copy
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    report.details["url"] = url
    return report
