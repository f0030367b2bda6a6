"""Existing CPTS perimeters: the import of the ``cpts`` layer and the perimeters drawn from it.

Two input forms are accepted:

* a commune list (CSV or XLSX), one row per (CPTS, member commune):
  ``cpts_id;cpts_nom;code_insee[;statut]`` — the format written by
  ``geo.territory.export.to_csv``;
* polygons (GeoJSON or GeoPackage, any CRS), one or more features per CPTS,
  each CPTS snapped to whole communes (at least half of a commune's area
  inside the polygon).

``parse_cpts`` never writes. ``import_cpts`` writes the ``cpts`` layer
(columns cpts_id, cpts_nom, statut, insee) through the import pipeline
(``geo.sources.pipeline``) only when the whole file was checked, so a failed
import leaves the previous layer as it was. Overlaps between CPTS,
non-contiguous CPTS and communes cut by a polygon's boundary are reported,
not refused.
"""

from __future__ import annotations

import io
import json
import warnings as warnings_module
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from geo.base.adjacency import graph
from geo.base.communes import POPULATION_VINTAGE, load
from geo.base.geometry import dissolve
from geo.base.snapping import HALF, SPLIT_MAX, SPLIT_MIN, overlap_shares
from geo.base.snapping import polygonal as _polygonal
from geo.errors import DataError
from geo.formats.csv_cells import restore_cell
from geo.formats.french import integer
from geo.sources.codes import (
    INSEE_ALIASES,
    STATUT_ALIASES,
    STATUT_LABELS,
    STATUTS,
    arrondissement_city,
)
from geo.sources.limits import load_json, read_limited
from geo.sources.pipeline import Report, Source, check_bad_rows, import_file
from geo.sources.population import population_vintage, populations_in_use, vintage_text
from geo.sources.tabular import (
    column_key,
    decode_text,
    first_items,
    is_binary,
    normalise_code,
    read_table,
)
from geo.store import layers as store

LAYER = "cpts"
WHAT = "CPTS"
COLUMNS = ["cpts_id", "cpts_nom", "statut", "insee"]
MAX_LISTED = 50  # items kept in each report list
MAX_FEATURES = 100_000  # objects read from a GeoJSON or GeoPackage
MAX_VERTICES = 10_000_000  # polygon positions read from a GeoJSON or GeoPackage

# Header spellings accepted besides the canonical names (compared after ``column_key``).
ID_ALIASES = ("id", "id_cpts", "identifiant", "identifiant_cpts", "code_cpts", "numero_cpts")
NAME_ALIASES = ("nom", "nom_cpts", "name", "libelle", "libelle_cpts", "cpts")
CODE_ALIASES = INSEE_ALIASES

GPKG_MAGIC = b"SQLite format 3\x00"
GEO_SUFFIXES = (".geojson", ".json", ".gpkg")


# --------------------------------------------------------------------------- reading


def _first(items: list, total: int, limit: int = 10) -> str:
    """Like ``first_items`` when only the first items were built but ``total`` exist."""
    shown = ", ".join(str(i) for i in items[:limit])
    return shown + (f" (et {total - limit} autre(s))" if total > limit else "")


def _keys(values: pd.Series) -> pd.Series:
    """``column_key`` of every value, computed once per distinct value."""
    uniques = pd.unique(values.to_numpy(dtype=object))
    return values.map(dict(zip(uniques, (column_key(v) for v in uniques))))


def _statut(value) -> str | None:
    """Canonical statut, None when empty; raises KeyError when not recognised."""
    text = (
        "" if value is None or (isinstance(value, float) and value != value) else str(value).strip()
    )
    if not text:
        return None
    return STATUTS[column_key(text)]


_BAD = object()


def _check_statuts(values: pd.Series, lines: pd.Series, label: str, name: str) -> pd.Series:
    """Canonical statuts of ``values`` (one look-up per distinct value); refuses unknown ones naming their
    lines (``label`` + the number in ``lines``)."""
    canonical = {}
    for value in pd.unique(values.to_numpy(dtype=object)):
        try:
            canonical[value] = _statut(value)
        except KeyError:
            canonical[value] = _BAD
    out = [canonical[v] for v in values.to_numpy(dtype=object)]
    bad = [i for i, s in enumerate(out) if s is _BAD]
    if bad:
        raw, numbers = values.to_numpy(dtype=object), lines.to_numpy()
        listed = [f"{label}{numbers[i]} « {str(raw[i]).strip()} »" for i in bad[:10]]
        raise DataError(
            f"{name} : statut inconnu ({len(bad)}) : {_first(listed, len(bad))}. Valeurs acceptées : "
            + ", ".join(STATUT_LABELS)
            + " (ou vide)."
        )
    return pd.Series(out, index=values.index, dtype=object)


def _name_conflicts(rows: pd.DataFrame, label: str, name: str) -> None:
    """Refuse one CPTS id carrying different names (compared without case or accents)."""
    keys = _keys(rows["cpts_nom"])
    count = keys.groupby(rows["cpts_id"], sort=False).nunique()
    bad = count.index[count > 1]
    if not len(bad):
        return
    shown = rows[rows["cpts_id"].isin(bad[:5])]
    conflicts = []
    for cid in bad[:5]:
        grp = shown[shown["cpts_id"] == cid]
        conflicts.append(
            f"identifiant {cid} : "
            + " / ".join(
                f"« {n} » ({label}{line})"
                for n, line in grp.drop_duplicates("cpts_nom")[["cpts_nom", "_line"]].itertuples(
                    index=False
                )
            )
        )
    raise DataError(
        f"{name} : un même identifiant de CPTS porte des noms différents ({len(bad)}) : "
        + _first(conflicts, len(bad), 5)
        + "."
    )


def _file_kind(path: Path, data: bytes, name: str) -> str:
    """ "gpkg", "geojson" or "table" from the content (the extension only refines error messages)."""
    suffix = path.suffix.lower()
    if data.startswith(GPKG_MAGIC):
        return "gpkg"
    if data.startswith(b"PK\x03\x04") or suffix in (".xlsx", ".xlsm"):
        return "table"
    if is_binary(data):
        if suffix in GEO_SUFFIXES:
            raise DataError(
                f"Le fichier {name} n'est pas un fichier GeoJSON ou GeoPackage lisible ({WHAT}) : "
                "c'est un fichier binaire d'un autre type (image, PDF, archive...)."
            )
        return "table"  # read_table names the problem
    if decode_text(data[:4096]).lstrip().startswith("{"):
        return "geojson"
    if suffix == ".gpkg":
        raise DataError(
            f"Le fichier {name} n'est pas un GeoPackage (base SQLite) : il est peut-être corrompu "
            "ou d'un autre format."
        )
    if suffix in (".geojson", ".json"):
        raise DataError(
            f"Le fichier {name} n'est pas un GeoJSON : il devrait commencer par « {{ » "
            "(FeatureCollection)."
        )
    return "table"


def _base(communes) -> gpd.GeoDataFrame:
    if communes is None:
        communes = load("communes")
    base = (
        communes.reset_index(drop=True) if "insee" in communes.columns else communes.reset_index()
    )
    return base


def _fold_code(code: str | None, known: set[str]) -> str | None:
    """An arrondissement code of Paris, Lyon or Marseille unknown to the base -> its city's code."""
    if code is None or code in known:
        return code
    city = arrondissement_city(code)
    return city if city in known else code


def _generated_ids(names: pd.Series) -> pd.Series:
    """``CPTS-001``... numbered by first appearance of each name (compared without case or accents)."""
    keys = _keys(names)
    order = {key: i for i, key in enumerate(pd.unique(keys.to_numpy(dtype=object)), start=1)}
    return keys.map({key: f"CPTS-{i:03d}" for key, i in order.items()})


def _restored(values: pd.Series) -> pd.Series:
    """Cells read back from one of the app's CSV exports: the « ' » put before formula-like text removed."""
    uniques = pd.unique(values.to_numpy(dtype=object))
    return values.map({v: restore_cell(v).strip() for v in uniques})


def _read_list(
    path: Path, name: str, base: gpd.GeoDataFrame, warnings: list[str]
) -> tuple[pd.DataFrame, dict]:
    """Rows (cpts_id, cpts_nom, statut, insee, _line) of a commune list, with the unknown codes dropped.

    Linear in the number of rows: every per-value step (normalising codes,
    statuts, name keys) is done once per distinct value.
    """
    table = read_table(
        path,
        WHAT,
        {"cpts_nom": NAME_ALIASES, "code_insee": CODE_ALIASES},
        {"cpts_id": ID_ALIASES, "statut": STATUT_ALIASES},
        display_name=name,
    )
    if "cpts_id" not in table.columns:
        table["cpts_id"] = ""
    for column in ("cpts_id", "cpts_nom", "statut"):
        if column in table.columns:
            table[column] = _restored(table[column].astype(object))
    nameless = table["cpts_nom"] == ""
    table.loc[nameless, "cpts_nom"] = table.loc[nameless, "cpts_id"]
    blank = table["cpts_nom"] == ""
    if blank.any():
        raise DataError(
            f"{name} : CPTS sans identifiant ni nom, "
            + first_items(f"ligne {n}" for n in table.loc[blank, "_line"])
            + "."
        )
    no_id = table["cpts_id"] == ""
    if no_id.any():
        table.loc[no_id, "cpts_id"] = _generated_ids(table.loc[no_id, "cpts_nom"]).to_numpy()
        if no_id.all():
            warnings.append(
                "Pas de colonne « cpts_id » : identifiants CPTS-001, CPTS-002... attribués par nom."
            )
        else:
            warnings.append(
                f"{int(no_id.sum())} ligne(s) sans identifiant de CPTS : identifiant attribué par nom."
            )
    _name_conflicts(table, "ligne ", name)
    if "statut" in table.columns:
        table["statut"] = _check_statuts(table["statut"], table["_line"], "ligne ", name)
    else:
        table["statut"] = None

    raw = table["code_insee"].astype(object).str.strip()
    uniques = pd.unique(raw.to_numpy(dtype=object))
    known = set(base["insee"])
    codes = raw.map({v: _fold_code(normalise_code(v), known) for v in uniques}).astype(object)
    unknown = ~codes.isin(known)
    unknown_codes = list(dict.fromkeys(v or "(vide)" for v in raw[unknown]))
    if unknown.all():
        raise DataError(
            f"{name} : aucun code commune reconnu dans la base communale ({len(unknown_codes)} code(s) "
            f"inconnu(s) ou mal formé(s) : {first_items(unknown_codes)}). La colonne « code_insee » "
            "doit contenir des codes INSEE à 5 caractères (ex. 09122 ou 2A004)."
        )
    if unknown.any():
        count = int(unknown.sum())
        listed = [
            f"ligne {line} « {v} »"
            for line, v in zip(table.loc[unknown, "_line"][:10], raw[unknown][:10])
        ]
        check_bad_rows(
            name,
            count,
            len(table),
            [f"{item} : code commune inconnu ou mal formé" for item in listed],
        )
        warnings.append(
            f"{count} ligne(s) ignorée(s), code commune inconnu ou mal formé : "
            + _first(listed, count)
            + "."
        )
    table["insee"] = codes
    rows = table.loc[~unknown, ["cpts_id", "cpts_nom", "statut", "insee", "_line"]]
    lost = sorted(set(table["cpts_nom"].unique()) - set(rows["cpts_nom"].unique()))
    if lost:
        warnings.append(
            f"CPTS sans aucune commune reconnue, non importée(s) : {first_items(lost)}."
        )
    return rows, {
        "rows": int(len(table)),
        "unknown_codes": unknown_codes[:MAX_LISTED],
        "unknown_count": len(unknown_codes),
        "split_communes": [],
    }


_JSON_KINDS = {
    dict: "objet",
    list: "liste",
    str: "texte",
    int: "nombre",
    float: "nombre",
    bool: "booléen",
    type(None): "null",
}
OTHER_GEOMETRIES = ("Point", "MultiPoint", "LineString", "MultiLineString", "GeometryCollection")


def _kind(value) -> str:
    return _JSON_KINDS.get(type(value), type(value).__name__)


def _number(value) -> bool:
    if type(value) is float:
        return True  # load_json already refused NaN, Infinity and overflowing literals
    if type(value) is int:
        return abs(value) < 1e300
    return False


def _ring(ring, where: str) -> list:
    """A ring as closed [x, y] float positions (z dropped); DataError naming ``where`` when malformed."""
    if not isinstance(ring, list):
        raise DataError(
            f"{where} : anneau de polygone attendu (liste de positions), {_kind(ring)} trouvé."
        )
    out = []
    for position in ring:
        if (
            type(position) is not list
            or not 2 <= len(position) <= 4
            or not all(_number(c) for c in position)
        ):
            raise DataError(
                f"{where} : position invalide « {json.dumps(position)[:60]} » (deux nombres "
                "[longitude, latitude] attendus)."
            )
        out.append([float(position[0]), float(position[1])])
    if out and out[0] != out[-1]:
        out.append(out[0])
    if len(out) < 4:
        raise DataError(f"{where} : anneau de polygone de moins de 4 positions.")
    return out


def _polygon(rings, where: str) -> list:
    if not isinstance(rings, list):
        raise DataError(
            f"{where} : coordonnées de polygone attendues (liste d'anneaux), {_kind(rings)} trouvé."
        )
    return [_ring(r, where) for r in rings]


def _geojson_payload(data: bytes, name: str) -> bytes:
    """The GeoJSON checked in Python (structure, polygons, limits) and re-written as a plain FeatureCollection.

    What GDAL then reads is only what was checked here: objects, numbers and
    rings of the expected shapes, no more than ``MAX_FEATURES`` objects and
    ``MAX_VERTICES`` positions. Errors name the file and the object number.
    """
    doc = load_json(data, name, "GeoJSON")
    kind = doc.get("type") if isinstance(doc, dict) else None
    if kind == "FeatureCollection":
        features = doc.get("features")
        if not isinstance(features, list):
            raise DataError(
                f"{name} : le membre « features » de la FeatureCollection doit être une liste d'objets "
                f"(trouvé : {_kind(features)})."
            )
    elif kind == "Feature":
        features = [doc]
    elif kind in ("Polygon", "MultiPolygon"):
        features = [{"type": "Feature", "properties": {}, "geometry": doc}]
    else:
        found = f"« {kind} »" if isinstance(doc, dict) else _kind(doc)
        raise DataError(
            f"{name} : objet JSON de type {found}, une FeatureCollection GeoJSON de polygones "
            "est attendue."
        )
    if len(features) > MAX_FEATURES:
        raise DataError(
            f"{name} : {integer(len(features))} objets, {integer(MAX_FEATURES)} au plus : fichier refusé."
        )
    clean, wrong, vertices = [], [], 0
    for number, feature in enumerate(features, start=1):
        where = f"{name}, objet n° {number}"
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            found = (
                f"type « {feature.get('type')} »" if isinstance(feature, dict) else _kind(feature)
            )
            raise DataError(f"{where} : objet GeoJSON « Feature » attendu, {found} trouvé.")
        props = feature.get("properties")
        if props is None:
            props = {}
        if not isinstance(props, dict):
            raise DataError(
                f"{where} : « properties » doit être un objet JSON, {_kind(props)} trouvé."
            )
        props = {
            str(k): (v if v is None or isinstance(v, (str, bool, int, float)) else json.dumps(v))
            for k, v in props.items()
        }
        geometry = feature.get("geometry")
        if geometry is not None:
            if not isinstance(geometry, dict):
                raise DataError(
                    f"{where} : « geometry » doit être un objet GeoJSON ou null, {_kind(geometry)} "
                    "trouvé."
                )
            gtype, coords = geometry.get("type"), geometry.get("coordinates")
            if gtype == "Polygon":
                coords = _polygon(coords, where)
            elif gtype == "MultiPolygon":
                if not isinstance(coords, list):
                    raise DataError(
                        f"{where} : coordonnées de multipolygone attendues (liste de polygones), "
                        f"{_kind(coords)} trouvé."
                    )
                coords = [_polygon(p, where) for p in coords]
            elif gtype in OTHER_GEOMETRIES:
                wrong.append(f"objet n° {number} ({gtype})")
                continue
            else:
                raise DataError(
                    f"{where} : type de géométrie inconnu « {str(gtype)[:40]} » (Polygon ou "
                    "MultiPolygon attendu)."
                )
            vertices += sum(
                len(r) for p in (coords if gtype == "MultiPolygon" else [coords]) for r in p
            )
            if vertices > MAX_VERTICES:
                raise DataError(
                    f"{name} : plus de {integer(MAX_VERTICES)} sommets (atteint à l'objet n° {number}) : "
                    "simplifiez les polygones, fichier refusé."
                )
            geometry = {"type": gtype, "coordinates": coords}
        clean.append({"type": "Feature", "properties": props, "geometry": geometry})
    if wrong:
        raise DataError(
            f"{name} : géométries non surfaciques, polygones attendus : {first_items(wrong)}."
        )
    out = {"type": "FeatureCollection", "features": clean}
    if isinstance(doc.get("crs"), dict):
        out["crs"] = doc["crs"]
    return json.dumps(out, ensure_ascii=False).encode("utf-8")


def _read_frame(data: bytes, name: str, kind: str, warnings: list[str]) -> gpd.GeoDataFrame:
    """The features of a GeoJSON (checked first) or of the first geometry layer of a GeoPackage, from bytes."""
    label = "GeoPackage" if kind == "gpkg" else "GeoJSON"
    payload = _geojson_payload(data, name) if kind == "geojson" else data
    layer = None
    try:
        with warnings_module.catch_warnings():
            warnings_module.simplefilter("ignore")
            if kind == "gpkg":
                layers = [str(n) for n, geom in pyogrio.list_layers(io.BytesIO(payload)) if geom]
                if not layers:
                    raise DataError(
                        f"Le fichier {name} ne contient aucune couche de géométries : GeoPackage de "
                        "polygones des CPTS attendu."
                    )
                layer = layers[0]
                if len(layers) > 1:
                    warnings.append(
                        f"{len(layers)} couches dans {name} : seule la première, « {layer} », est lue."
                    )
                count = pyogrio.read_info(io.BytesIO(payload), layer=layer)["features"]
                if count > MAX_FEATURES:
                    raise DataError(
                        f"{name} : {integer(count)} objets dans la couche « {layer} », "
                        f"{integer(MAX_FEATURES)} au plus : fichier refusé."
                    )
            frame = gpd.read_file(
                io.BytesIO(payload), engine="pyogrio", layer=layer, max_features=MAX_FEATURES + 1
            )
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - any reading failure is the file's fault
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise DataError(
            f"Le fichier {name} n'est pas un {label} lisible ({WHAT}) : fichier corrompu, tronqué ou "
            f"d'un autre format (détail : {detail})."
        ) from exc
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
        raise DataError(
            f"Le fichier {name} ne contient pas de géométries : polygones des CPTS attendus."
        )
    if len(frame) > MAX_FEATURES:
        raise DataError(f"{name} : plus de {integer(MAX_FEATURES)} objets : fichier refusé.")
    return frame


def _check_coordinates(frame: gpd.GeoDataFrame, name: str, place: pd.Series) -> None:
    """Refuse too many vertices or non-finite coordinates (a GeoPackage's binary geometries are not checked
    by the JSON reader)."""
    geoms = np.asarray(frame.geometry.values, dtype=object)
    counts = shapely.get_num_coordinates(geoms)
    if int(counts.sum()) > MAX_VERTICES:
        raise DataError(
            f"{name} : plus de {integer(MAX_VERTICES)} sommets : simplifiez les polygones, fichier refusé."
        )
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    bad = ~np.isfinite(coords).all(axis=1)
    if bad.any():
        at = place.to_numpy()[np.unique(index[bad])]
        raise DataError(f"{name} : coordonnées non finies (NaN ou infinies) : {first_items(at)}.")


def _cell_text(value) -> str:
    """A property value as stripped text, "" when missing (None, NaN, NA, NaT)."""
    blank = pd.isna(value)
    if isinstance(blank, (bool, np.bool_)) and blank:
        return ""
    return str(value).strip()


def _read_polygons(
    data: bytes, name: str, kind: str, base: gpd.GeoDataFrame, warnings: list[str]
) -> tuple[pd.DataFrame, dict]:
    """Rows (cpts_id, cpts_nom, statut, insee, _line) of polygons snapped to communes (half-area rule)."""
    label = "GeoPackage" if kind == "gpkg" else "GeoJSON"
    frame = _read_frame(data, name, kind, warnings)
    if not len(frame):
        raise DataError(f"Le fichier {label} {name} ne contient aucun objet : rien à importer.")
    frame = frame.reset_index(drop=True)
    frame["_line"] = np.arange(1, len(frame) + 1)
    place = "objet n° " + frame["_line"].astype(str)

    columns = {column_key(c): c for c in frame.columns if c not in (frame.geometry.name, "_line")}

    def find(canonical: str, aliases: tuple[str, ...]) -> str | None:
        return next((columns[k] for k in (canonical, *aliases) if k in columns), None)

    name_col, id_col = (
        find("cpts_nom", ("nom", "name", "nom_cpts", "libelle")),
        find("cpts_id", ("id", "id_cpts")),
    )
    statut_col = find("statut", STATUT_ALIASES)
    if name_col is None and id_col is None:
        seen = ", ".join(f"« {c} »" for c in columns.values()) or "aucune"
        raise DataError(
            f"{name} : aucune colonne de nom de CPTS (« cpts_nom », « nom » ou « name ») ni "
            f"d'identifiant (« cpts_id » ou « id ») ; propriétés trouvées : {seen}."
        )

    def text(col):
        if col is None:
            return pd.Series("", index=frame.index, dtype=object)
        return pd.Series(
            [_cell_text(v) for v in frame[col].astype(object)], index=frame.index, dtype=object
        )

    names, ids = text(name_col), text(id_col)
    names = names.where(names != "", ids)
    if (names == "").any():
        raise DataError(
            f"{name} : CPTS sans nom ni identifiant, " + first_items(place[names == ""]) + "."
        )
    ids = ids.where(ids != "", _generated_ids(names))
    if id_col is None:
        warnings.append(
            "Pas de propriété « cpts_id » : identifiants CPTS-001, CPTS-002... attribués par nom."
        )
    statuts = (
        _check_statuts(text(statut_col), frame["_line"], "objet n° ", name)
        if statut_col
        else pd.Series(None, index=frame.index, dtype=object)
    )
    geoms = frame.geometry
    missing = geoms.isna() | geoms.is_empty
    if missing.all():
        raise DataError(f"{name} : aucun objet n'a de géométrie : polygones des CPTS attendus.")
    types = geoms.geom_type.where(~missing, "")
    wrong = ~missing & ~types.isin(["Polygon", "MultiPolygon"])
    if wrong.any():
        raise DataError(
            f"{name} : géométries non surfaciques, polygones attendus : "
            + first_items(f"{p} ({t})" for p, t in zip(place[wrong], types[wrong]))
            + "."
        )
    _check_coordinates(frame, name, place)
    if missing.any():
        warnings.append(
            f"{int(missing.sum())} objet(s) sans géométrie ignoré(s) : {first_items(place[missing])}."
        )
    if frame.crs is None:
        warnings.append("Système de coordonnées non précisé : WGS84 (longitude, latitude) supposé.")
        frame = frame.set_crs("EPSG:4326")
    elif not frame.crs.equals("EPSG:4326"):
        try:
            frame = frame.to_crs("EPSG:4326")
        except Exception as exc:  # noqa: BLE001
            raise DataError(
                f"{name} : impossible de convertir le système de coordonnées {frame.crs} en WGS84."
            ) from exc
    minx, miny, maxx, maxy = frame.geometry[~missing].total_bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise DataError(
            f"{name} : coordonnées hors des bornes longitude/latitude ({minx:.0f}, {miny:.0f}, {maxx:.0f}, "
            f"{maxy:.0f}) : le système de coordonnées du fichier n'est pas déclaré ou est erroné."
        )

    feats = pd.DataFrame(
        {
            "cpts_id": ids,
            "cpts_nom": names,
            "statut": statuts,
            "_line": frame["_line"],
            "geometry": frame.geometry.to_numpy(),
        }
    )[~missing.to_numpy()]
    _name_conflicts(feats, "objet n° ", name)

    geoms_base = np.asarray(base.geometry.values, dtype=object)
    codes_base = base["insee"].to_numpy()
    names_base = base["name"].to_numpy() if "name" in base.columns else codes_base
    rows, split, empty = [], [], []
    for cid, grp in feats.groupby("cpts_id", sort=False):
        cname, line = grp["cpts_nom"].iloc[0], int(grp["_line"].iloc[0])
        objects = ", ".join("objet n° " + str(n) for n in grp["_line"])
        try:
            shape = _polygonal(
                shapely.union_all(np.asarray(grp["geometry"].to_numpy(), dtype=object))
            )
            shares = overlap_shares(shape, geoms_base)
        except shapely.errors.GEOSException as exc:
            raise DataError(
                f"{name} : polygone inexploitable pour « {cname} » ({first_items(objects.split(', '))}) "
                f": géométrie dégénérée ({str(exc)[:120]})."
            ) from exc
        pos = shares["pos"].to_numpy()
        kept = (shares["share"] >= HALF).to_numpy()
        if not kept.any():
            empty.append(f"« {cname} » ({objects})")
            continue
        statut = next((s for s in grp["statut"] if isinstance(s, str) and s), None)
        rows += [(cid, cname, statut, code, line) for code in codes_base[pos[kept]]]
        cut = ((shares["share"] > SPLIT_MIN) & (shares["share"] < SPLIT_MAX)).to_numpy()
        split += [
            {
                "cpts_id": cid,
                "cpts_nom": cname,
                "insee": str(codes_base[p]),
                "name": str(names_base[p]),
                "share": round(float(s), 3),
                "kept": bool(s >= HALF),
            }
            for p, s in zip(pos[cut], shares["share"].to_numpy()[cut])
        ]
    if not rows:
        raise DataError(
            f"{name} : aucun polygone ne couvre au moins la moitié d'une commune de la base communale "
            "(polygones hors de France ou système de coordonnées erroné ?)."
        )
    if empty:
        warnings.append(
            f"CPTS dont le polygone ne couvre la moitié d'aucune commune, non importée(s) : "
            f"{first_items(empty)}."
        )
    out = pd.DataFrame(rows, columns=["cpts_id", "cpts_nom", "statut", "insee", "_line"])
    return out, {
        "rows": int(len(frame)),
        "unknown_codes": [],
        "unknown_count": 0,
        "split_communes": split,
    }


def _duplicates(rows: pd.DataFrame) -> tuple[pd.DataFrame, list[dict], int]:
    """Rows without repeated (CPTS, commune) pairs, the first repeated pairs listed, and their number."""
    dup = rows.duplicated(["cpts_id", "insee"], keep=False)
    if not dup.any():
        return rows, [], 0
    repeated = rows[dup]
    pairs = repeated.drop_duplicates(["cpts_id", "insee"])
    first = pairs.head(MAX_LISTED)
    chosen = repeated.merge(first[["cpts_id", "insee"]], on=["cpts_id", "insee"])
    lines = chosen.groupby(["cpts_id", "insee"], sort=False)["_line"].agg(list)
    listed = [
        {
            "cpts_id": str(cid),
            "cpts_nom": str(nom),
            "insee": str(code),
            "lines": [int(n) for n in lines[(cid, code)]],
        }
        for cid, nom, code in first[["cpts_id", "cpts_nom", "insee"]].itertuples(index=False)
    ]
    return rows.drop_duplicates(["cpts_id", "insee"], keep="first"), listed, int(len(pairs))


def _one_statut(rows: pd.DataFrame, warnings: list[str]) -> pd.DataFrame:
    """One statut per CPTS: the first given; differing ones are reported."""
    statut = rows["statut"].astype(object)
    given = rows[statut.notna().to_numpy() & (statut != "").to_numpy()]
    by_id = given.groupby("cpts_id", sort=False)["statut"]
    firsts = by_id.first().to_dict()
    differs = by_id.nunique()
    differs = set(differs.index[differs > 1])
    if differs:
        order = [cid for cid in pd.unique(rows["cpts_id"].to_numpy(dtype=object)) if cid in differs]
        shown = given[given["cpts_id"].isin(order[:10])]
        differing = []
        for cid in order[:10]:
            grp = shown[shown["cpts_id"] == cid]
            values = list(dict.fromkeys(grp["statut"]))
            differing.append(
                f"« {grp['cpts_nom'].iloc[0]} » ({' / '.join(values)}, « {values[0]} » retenu)"
            )
        warnings.append(f"Statuts différents pour une même CPTS : {_first(differing, len(order))}.")
    ids = pd.unique(rows["cpts_id"].to_numpy(dtype=object))
    return rows.assign(statut=rows["cpts_id"].map({cid: firsts.get(cid) for cid in ids}))


def parse_cpts(
    path, communes: gpd.GeoDataFrame | None = None, name: str | None = None
) -> tuple[pd.DataFrame, CptsReport]:
    """Read and check a CPTS file; return (frame cpts_id, cpts_nom, statut, insee) and a report. Nothing is written.

    ``name``: the user's name of the file (default its own). ``communes``: the
    commune base (insee, name, population, geometry in WGS84), loaded by default.
    Raises ``DataError`` with a French message naming the file and the lines (or objects) at fault. The file is read
    once through ``geo.sources.limits.read_limited`` (size cap).
    """
    path = Path(path)
    name = name or path.name
    data = read_limited(path, WHAT, name)
    if not data.strip():
        size = "0 octet" if not data else "aucune donnée"
        raise DataError(f"Le fichier {WHAT} {name} est vide ({size}) : rien à importer.")
    kind = _file_kind(path, data, name)
    base = _base(communes)
    warnings: list[str] = []
    if kind == "table":
        del data
        rows, extra = _read_list(path, name, base, warnings)
    else:
        rows, extra = _read_polygons(data, name, kind, base, warnings)
        del data
    rows, duplicates, dup_count = _duplicates(rows)
    if duplicates:
        warnings.append(
            f"{dup_count} commune(s) répétée(s) dans une même CPTS, doublon(s) ignoré(s) : "
            + _first(
                [
                    f"{d['insee']} ({d['cpts_nom']}, lignes {', '.join(map(str, d['lines']))})"
                    for d in duplicates
                ],
                dup_count,
            )
            + "."
        )
    rows = _one_statut(rows, warnings)
    frame = rows[COLUMNS].reset_index(drop=True)
    frame = frame.astype({"cpts_id": str, "cpts_nom": str, "insee": str})
    return frame, _report(frame, name, kind, base, extra, duplicates, warnings)


# --------------------------------------------------------------------------- report


def _population(base: gpd.GeoDataFrame) -> pd.Series:
    """Populations in use of the base's communes (geo.sources.population), 0 when none."""
    if "population" not in base.columns:
        return pd.Series(0, index=base["insee"].to_numpy(), dtype="int64")
    fallback = pd.to_numeric(base["population"], errors="coerce")
    values, _ = populations_in_use(base["insee"].to_numpy(), fallback)
    return values.fillna(0).astype("int64")


def _part_sizes(frame: pd.DataFrame, adjacency) -> tuple[np.ndarray, list[list[int]]]:
    """Connected parts of every CPTS at once (one graph whose nodes are the (CPTS, commune) rows).

    Returns, in order of first appearance of each cpts_id, the number of
    parts and the part sizes (largest first), as ``Adjacency.parts`` would
    give CPTS by CPTS. Communes missing from the graph are left out.
    """
    cpts, ids = pd.factorize(frame["cpts_id"], sort=False)
    commune = frame["insee"].map(adjacency.index).to_numpy(dtype=float)
    ok = ~np.isnan(commune)
    node_cpts, node_commune = cpts[ok].astype(np.int64), commune[ok].astype(np.int64)
    n, width = len(node_cpts), max(len(adjacency.codes), 1)
    if n == 0:
        return np.zeros(len(ids), dtype=np.int64), [[] for _ in ids]
    key = node_cpts * width + node_commune
    order = np.argsort(key, kind="stable")
    sorted_keys = key[order]
    indptr, indices = adjacency.matrix.indptr, adjacency.matrix.indices
    starts = indptr[node_commune]
    degree = indptr[node_commune + 1] - starts
    total = int(degree.sum())
    src = np.repeat(np.arange(n), degree)
    offsets = np.repeat(starts - (np.cumsum(degree) - degree), degree) + np.arange(total)
    target = node_cpts[src] * width + indices[offsets]
    at = np.searchsorted(sorted_keys, target)
    hit = at < n
    hit[hit] = sorted_keys[at[hit]] == target[hit]
    graph_matrix = csr_matrix(
        (np.ones(int(hit.sum()), dtype=np.int8), (src[hit], order[at[hit]])), shape=(n, n)
    )
    _, labels = connected_components(graph_matrix, directed=False)
    sizes = pd.DataFrame({"cpts": node_cpts, "label": labels}).groupby(["cpts", "label"]).size()
    parts = np.zeros(len(ids), dtype=np.int64)
    counts = sizes.groupby(level="cpts").size()
    parts[counts.index.to_numpy()] = counts.to_numpy()
    several = sizes.reset_index(name="size")
    several = several[several["cpts"].isin(counts.index[counts.to_numpy() > 1])]
    several = several.sort_values(["cpts", "size"], ascending=[True, False], kind="stable")
    split = several.groupby("cpts", sort=False)["size"].agg(list).to_dict()
    return parts, [[int(s) for s in split.get(i, [])] for i in range(len(ids))]


def _report(
    frame: pd.DataFrame,
    name: str,
    kind: str,
    base: gpd.GeoDataFrame,
    extra: dict,
    duplicates: list[dict],
    warnings: list[str],
) -> CptsReport:
    """The import report; linear in the number of rows (no per-commune or per-CPTS scan of the frame)."""
    population = _population(base)
    commune_names = pd.Series(
        base["name"].to_numpy() if "name" in base.columns else base["insee"].to_numpy(),
        index=base["insee"].to_numpy(),
    )
    row_population = frame["insee"].map(population).fillna(0).astype("int64")
    firsts = frame.drop_duplicates("cpts_id")
    sizes = frame.groupby("cpts_id", sort=False).size()
    people = row_population.groupby(frame["cpts_id"], sort=False).sum()
    parts, part_sizes = _part_sizes(frame, graph())
    per_cpts, non_contiguous = [], []
    for i, (cid, cname, statut) in enumerate(
        firsts[["cpts_id", "cpts_nom", "statut"]].itertuples(index=False)
    ):
        entry = {
            "cpts_id": str(cid),
            "cpts_nom": str(cname),
            "statut": statut,
            "communes": int(sizes[cid]),
            "population": int(people[cid]),
            "parts": int(parts[i]),
        }
        per_cpts.append(entry)
        if parts[i] > 1:
            non_contiguous.append({**entry, "part_sizes": part_sizes[i]})
    claimed = frame.groupby("insee")["cpts_id"].nunique()
    shared = claimed.index[claimed.to_numpy() > 1]
    listed = shared[:MAX_LISTED]
    sub = frame[frame["insee"].isin(listed)]
    groups = {code: grp for code, grp in sub.groupby("insee", sort=False)}
    overlaps = [
        {
            "insee": str(code),
            "name": str(commune_names.get(code, code)),
            "population": int(population.get(code, 0)),
            "cpts": groups[code]["cpts_nom"].tolist(),
            "cpts_ids": groups[code]["cpts_id"].tolist(),
        }
        for code in listed
    ]
    codes = frame["insee"].unique()
    statuts = firsts["statut"].fillna("non précisé").value_counts()
    return CptsReport(
        file=name,
        rows=extra["rows"],
        warnings=warnings,
        details={
            "format": {"table": "liste de communes", "geojson": "GeoJSON", "gpkg": "GeoPackage"}[
                kind
            ],
            "cpts_count": int(frame["cpts_id"].nunique()),
            "communes_count": int(len(codes)),
            "memberships": int(len(frame)),
            "population": int(population.reindex(codes).fillna(0).sum()),
            "population_vintage": population_vintage(),
            "statuts": {str(k): int(v) for k, v in statuts.items()},
            "cpts": per_cpts[:1000],
            "unknown_codes": extra["unknown_codes"],
            "unknown_count": extra["unknown_count"],
            "overlaps": overlaps,
            "overlap_count": int(len(shared)),
            "non_contiguous": non_contiguous[:MAX_LISTED],
            "split_communes": extra["split_communes"][: MAX_LISTED * 4],
            "split_count": len(extra["split_communes"]),
            "duplicates": duplicates[:MAX_LISTED],
        },
    )


class CptsReport(Report):
    """A CPTS import: the CPTS and communes kept, their statuts, overlaps, split CPTS and cut communes."""

    JSON_MEMBERS = ("file", "rows", "warnings")

    def to_dict(self) -> dict:
        out = super().to_dict()
        if self.meta is not None:
            out.update(vintage=self.meta["vintage"], imported_at=self.meta["imported_at"])
        return out

    def lines(self) -> list[str]:
        d = self.details
        vintage = (self.meta or {}).get("vintage")
        lines = [
            f"Fichier {self.file} ({d['format']}) : {integer(self.rows)} "
            f"{'ligne(s) lue(s)' if d['format'] == 'liste de communes' else 'objet(s) lu(s)'}.",
            f"{integer(d['cpts_count'])} CPTS, {integer(d['communes_count'])} communes, "
            f"{integer(d['population'])} habitants couverts "
            f"({vintage_text(d.get('population_vintage') or POPULATION_VINTAGE)}).",
        ]
        if vintage:
            lines.append(f"Millésime : {vintage}.")
        statuts = d.get("statuts") or {}
        if statuts:
            lines.append(
                "Statuts : " + ", ".join(f"{k} {integer(v)}" for k, v in statuts.items()) + "."
            )
        unknown = d.get("unknown_codes") or []
        if unknown:
            lines.append(
                f"{integer(d.get('unknown_count', len(unknown)))} code(s) commune inconnu(s) ou mal "
                f"formé(s), lignes ignorées : {first_items(unknown)}."
            )
        overlaps = d.get("overlaps") or []
        if overlaps:
            lines.append(
                f"{integer(d.get('overlap_count', len(overlaps)))} commune(s) revendiquée(s) par "
                "plusieurs CPTS (chevauchements conservés) :"
            )
            lines += [
                f"  - {o['name']} ({o['insee']}, {integer(o['population'])} hab.) : "
                + ", ".join(f"« {n} »" for n in o["cpts"])
                for o in overlaps[:20]
            ]
        for item in d.get("non_contiguous") or []:
            lines.append(
                f"CPTS « {item['cpts_nom']} » en {item['parts']} parties non contiguës "
                f"({' + '.join(str(n) for n in item['part_sizes'])} communes)."
            )
        split = d.get("split_communes") or []
        if split:
            lines.append(
                f"{integer(d.get('split_count', len(split)))} commune(s) coupée(s) par une limite de "
                "polygone (retenue si au moins la moitié de sa surface est dans le polygone) :"
            )
            lines += [
                f"  - {s['name']} ({s['insee']}) : {round(100 * s['share'])} % dans « {s['cpts_nom']} », "
                f"{'retenue' if s['kept'] else 'non retenue'}"
                for s in split[:20]
            ]
        return lines + list(self.warnings)


# --------------------------------------------------------------------------- import


def _provenance(frame: pd.DataFrame, report: CptsReport) -> dict:
    d = report.details
    return {
        "source": "Fichier fourni par l'utilisateur",
        "vintage": date.today().isoformat(),
        "licence": "selon le fournisseur du fichier",
        "format": d["format"],
        "cpts_count": d["cpts_count"],
        "communes_count": d["communes_count"],
        "population": d["population"],
    }


SOURCE = Source(LAYER, "des CPTS", parse_cpts, _provenance)


def import_cpts(
    path, progress=None, vintage: str | None = None, display_name: str | None = None
) -> CptsReport:
    """Check a CPTS file and, if it is sound, replace the ``cpts`` layer; return the report.

    ``vintage`` is the date of the perimeters (default: today). ``display_name``: the user's name of
    the file. On any error (``DataError``) nothing is written and the previous layer stays as it was.
    """
    return import_file(
        SOURCE,
        path,
        display_name=display_name,
        progress=progress,
        meta={"vintage": str(vintage)} if vintage else None,
    )


# --------------------------------------------------------------------------- perimeters


def cpts_perimeters(
    frame: pd.DataFrame | None = None, communes: gpd.GeoDataFrame | None = None
) -> gpd.GeoDataFrame:
    """One row per CPTS: cpts_id, cpts_nom, statut, commune_count, population, geometry (union of its communes).

    ``frame`` defaults to the stored ``cpts`` layer, ``communes`` to the
    commune base. A pure function of its inputs (cache it on them).
    """
    columns = ["cpts_id", "cpts_nom", "statut", "commune_count", "population"]
    if frame is None:
        frame = store.read_layer(LAYER)
    if frame is None or not len(frame):
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs="EPSG:4326")
    base = _base(communes)
    geometry = pd.Series(base.geometry.to_numpy(), index=base["insee"].to_numpy())
    population = _population(base)
    frame = frame.drop_duplicates(["cpts_id", "insee"])
    statut = (
        frame["statut"]
        if "statut" in frame.columns
        else pd.Series(None, index=frame.index, dtype=object)
    )
    rows, shapes = [], []
    for cid, grp in frame.assign(statut=statut).groupby("cpts_id", sort=False):
        codes = [c for c in grp["insee"] if c in geometry.index]
        given = [s for s in grp["statut"] if isinstance(s, str) and s]
        rows.append(
            (
                str(cid),
                str(grp["cpts_nom"].iloc[0]),
                given[0] if given else None,
                len(codes),
                int(population.reindex(codes).fillna(0).sum()),
            )
        )
        shape = dissolve(geometry.reindex(codes).to_numpy())
        shapes.append(shape if shape.is_valid else _polygonal(shape))
    out = gpd.GeoDataFrame(pd.DataFrame(rows, columns=columns), geometry=shapes, crs="EPSG:4326")
    out["commune_count"] = out["commune_count"].astype("int64")
    out["population"] = out["population"].astype("int64")
    return out
