"""Existing CPTS perimeters: snapping drawn or imported polygons to communes, and the ``cpts`` layer.

Two input forms are accepted:

* a commune list (CSV or XLSX), one row per (CPTS, member commune):
  ``cpts_id;cpts_nom;code_insee[;statut]`` — the format written by
  ``geo.export.to_csv``;
* polygons (GeoJSON or GeoPackage, any CRS), one or more features per CPTS,
  each CPTS snapped to whole communes (at least half of a commune's area
  inside the polygon).

``parse_cpts`` never writes. ``import_cpts`` writes the ``cpts`` layer
(columns cpts_id, cpts_nom, statut, insee) only when the whole file was
checked, so a failed import leaves the previous layer as it was. Overlaps
between CPTS, non-contiguous CPTS and communes cut by a polygon's boundary
are reported, not refused.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geo import store
from geo.communes import EQUAL_AREA_CRS
from geo.errors import DataError
from geo.tabular import column_key, decode_text, first_items, is_binary, normalise_code, read_bytes, read_table

LAYER = "cpts"
WHAT = "CPTS"
COLUMNS = ["cpts_id", "cpts_nom", "statut", "insee"]
SPLIT_MIN, SPLIT_MAX = 0.01, 0.99  # share of a commune's area inside a polygon for it to count as "cut"
HALF = 0.5
RULES = ("point", "half_area")
MAX_LISTED = 50  # items kept in each report list

# Canonical statut -> its spelling; keys are compared after ``column_key`` (no accents, lower case, "_").
STATUTS = {
    "initiative": "initiative",
    "projet": "projet",
    "en_projet": "projet",
    "contractualisee": "contractualisée",
    "contractualise": "contractualisée",
    "en_fonctionnement": "en fonctionnement",
    "fonctionnement": "en fonctionnement",
}
STATUT_LABELS = ("initiative", "projet", "contractualisée", "en fonctionnement")

# Header spellings accepted besides the canonical names (compared after ``column_key``).
ID_ALIASES = ("id", "id_cpts", "identifiant", "identifiant_cpts", "code_cpts", "numero_cpts")
NAME_ALIASES = ("nom", "nom_cpts", "name", "libelle", "libelle_cpts", "cpts")
CODE_ALIASES = ("insee", "code_commune", "code_commune_insee", "codgeo", "depcom", "com", "code_com", "cog")
STATUT_ALIASES = ("statut_cpts", "etat", "etat_cpts", "stade")

GPKG_MAGIC = b"SQLite format 3\x00"
GEO_SUFFIXES = (".geojson", ".json", ".gpkg")
ARRONDISSEMENTS = ((re.compile(r"^751(0[1-9]|1\d|20)$"), "75056"), (re.compile(r"^6938[1-9]$"), "69123"),
                   (re.compile(r"^132(0[1-9]|1[0-6])$"), "13055"))


# --------------------------------------------------------------------------- snapping


_TREE_CACHE: list = []  # [(geometry array kept alive, STRtree)]: one entry, the last commune set used
_TO_EQUAL_AREA = Transformer.from_crs("EPSG:4326", EQUAL_AREA_CRS, always_xy=True)


def _tree(geoms: np.ndarray) -> shapely.STRtree:
    """STRtree of ``geoms``, reused while the same geometry buffer is passed (``reset_index`` shares it)."""
    if _TREE_CACHE:
        kept, tree = _TREE_CACHE[0]
        # ``kept`` is held here, so its buffer cannot be reused by another array while cached.
        if (kept.shape == geoms.shape and kept.strides == geoms.strides
                and kept.__array_interface__["data"][0] == geoms.__array_interface__["data"][0]):
            return tree
    tree = shapely.STRtree(geoms)
    _TREE_CACHE[:] = [(geoms, tree)]
    return tree


def _equal_area(geoms):
    """Geometries (WGS84) projected to the equal-area CRS of the commune base's ``area_km2``."""
    return shapely.transform(geoms, lambda xy: np.column_stack(_TO_EQUAL_AREA.transform(xy[:, 0], xy[:, 1])))


def _polygonal(geom) -> shapely.Geometry:
    """The polygonal part of a geometry, repaired when invalid (empty polygon if none)."""
    if geom is None or shapely.is_missing(geom) or geom.is_empty:
        return shapely.Polygon()
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        return shapely.Polygon()
    return parts[0] if len(parts) == 1 else shapely.union_all(parts)


def overlap_shares(polygon, geoms: np.ndarray) -> pd.DataFrame:
    """Communes touched by ``polygon``: position in ``geoms``, share of area inside, representative point inside.

    Communes entirely inside (not reached by the boundary) get share 1
    without any intersection; only those crossed by the boundary are
    intersected, in the equal-area CRS.
    """
    polygon = _polygonal(polygon)
    empty = pd.DataFrame({"pos": np.array([], dtype=np.int64), "share": np.array([], dtype=float),
                          "point_inside": np.array([], dtype=bool)})
    if polygon.is_empty:
        return empty
    tree = _tree(geoms)
    touched = tree.query(polygon, predicate="intersects")
    if touched.size == 0:
        return empty
    crossed = np.intersect1d(touched, tree.query(shapely.boundary(polygon), predicate="intersects"))
    inside = np.setdiff1d(touched, crossed)
    share = np.ones(len(crossed))
    point_inside = np.ones(len(crossed), dtype=bool)
    if len(crossed):
        cut = geoms[crossed]
        projected = _equal_area(cut)
        area = shapely.area(projected)
        inter = shapely.area(shapely.intersection(projected, _equal_area(polygon)))
        share = np.divide(inter, area, out=np.zeros_like(inter), where=area > 0).clip(0.0, 1.0)
        shapely.prepare(polygon)
        point_inside = shapely.contains(polygon, shapely.point_on_surface(cut))
    out = pd.DataFrame({
        "pos": np.concatenate([inside, crossed]).astype(np.int64),
        "share": np.concatenate([np.ones(len(inside)), share]),
        "point_inside": np.concatenate([np.ones(len(inside), dtype=bool), point_inside]),
    })
    return out.sort_values("pos", ignore_index=True)


def _members(shares: pd.DataFrame, rule: str) -> pd.Series:
    if rule == "point":
        return shares["point_inside"]
    return shares["share"] >= HALF


def snap_polygon_to_communes(polygon, communes_gdf: gpd.GeoDataFrame,
                             rule: str = "half_area") -> tuple[list[str], list[str]]:
    """Whole communes belonging to a (Multi)Polygon in WGS84, and the communes its boundary cuts.

    ``rule="point"``: a commune belongs when its representative point is
    inside; ``"half_area"``: when at least half of its area is inside
    (areas in the commune base's equal-area CRS). ``split`` lists the
    communes with between 1 % and 99 % of their area inside, members or not.
    ``communes_gdf`` has columns ``insee`` and ``geometry`` (WGS84, default
    RangeIndex or not: positions are used).
    """
    if rule not in RULES:
        raise ValueError(f"unknown snapping rule {rule!r}; expected one of {RULES}")
    geoms = np.asarray(communes_gdf.geometry.values, dtype=object)
    shares = overlap_shares(polygon, geoms)
    codes = communes_gdf["insee"].to_numpy()[shares["pos"].to_numpy()]
    members = sorted(str(c) for c in codes[_members(shares, rule).to_numpy()])
    cut = ((shares["share"] > SPLIT_MIN) & (shares["share"] < SPLIT_MAX)).to_numpy()
    return members, sorted(str(c) for c in codes[cut])


# --------------------------------------------------------------------------- reading


def _statut(value) -> str | None:
    """Canonical statut, None when empty; raises KeyError when not recognised."""
    text = "" if value is None or (isinstance(value, float) and value != value) else str(value).strip()
    if not text:
        return None
    return STATUTS[column_key(text)]


def _check_statuts(values: pd.Series, places: pd.Series, name: str) -> pd.Series:
    """Canonical statuts of ``values``; refuses unknown ones naming their lines (``places``)."""
    out, bad = [], []
    for value, place in zip(values, places):
        try:
            out.append(_statut(value))
        except KeyError:
            out.append(None)
            bad.append(f"{place} « {str(value).strip()} »")
    if bad:
        raise DataError(f"{name} : statut inconnu ({len(bad)}) : {first_items(bad)}. Valeurs acceptées : "
                        + ", ".join(STATUT_LABELS) + " (ou vide).")
    return pd.Series(out, index=values.index, dtype=object)


def _file_kind(path: Path, data: bytes) -> str:
    """"gpkg", "geojson" or "table" from the content (the extension only refines error messages)."""
    suffix = path.suffix.lower()
    if data.startswith(GPKG_MAGIC):
        return "gpkg"
    if data.startswith(b"PK\x03\x04") or suffix in (".xlsx", ".xlsm"):
        return "table"
    if is_binary(data):
        if suffix in GEO_SUFFIXES:
            raise DataError(f"Le fichier {path.name} n'est pas un fichier GeoJSON ou GeoPackage lisible ({WHAT}) : "
                            "c'est un fichier binaire d'un autre type (image, PDF, archive...).")
        return "table"  # read_table names the problem
    if decode_text(data[:4096]).lstrip().startswith("{"):
        return "geojson"
    if suffix == ".gpkg":
        raise DataError(f"Le fichier {path.name} n'est pas un GeoPackage (base SQLite) : il est peut-être corrompu "
                        "ou d'un autre format.")
    if suffix in (".geojson", ".json"):
        raise DataError(f"Le fichier {path.name} n'est pas un GeoJSON : il devrait commencer par « {{ » "
                        "(FeatureCollection).")
    return "table"


def _base(communes) -> gpd.GeoDataFrame:
    if communes is None:
        from geo.communes import load

        communes = load("communes")
    base = communes.reset_index(drop=True) if "insee" in communes.columns else communes.reset_index()
    return base


def _fold_arrondissements(codes: pd.Series, known: set[str]) -> pd.Series:
    for pattern, city in ARRONDISSEMENTS:
        hit = codes.str.match(pattern, na=False) & ~codes.isin(known)
        if hit.any() and city in known:
            codes = codes.where(~hit, city)
    return codes


def _same_name(names) -> bool:
    return len({column_key(n) for n in names}) <= 1


def _generated_ids(names: pd.Series) -> pd.Series:
    """``CPTS-001``... numbered by first appearance of each name (compared without case or accents)."""
    keys = names.map(column_key)
    order = {key: i for i, key in enumerate(dict.fromkeys(keys), start=1)}
    return keys.map(lambda k: f"CPTS-{order[k]:03d}")


def _read_list(path: Path, name: str, base: gpd.GeoDataFrame, warnings: list[str]) -> tuple[pd.DataFrame, dict]:
    """Rows (cpts_id, cpts_nom, statut, insee, _line) of a commune list, with the unknown codes dropped."""
    table = read_table(path, WHAT, {"cpts_nom": NAME_ALIASES, "code_insee": CODE_ALIASES},
                       {"cpts_id": ID_ALIASES, "statut": STATUT_ALIASES}, display_name=name)
    table["cpts_nom"] = table["cpts_nom"].str.strip()
    if "cpts_id" not in table.columns:
        table["cpts_id"] = ""
    table["cpts_id"] = table["cpts_id"].str.strip()
    nameless = table["cpts_nom"] == ""
    table.loc[nameless, "cpts_nom"] = table.loc[nameless, "cpts_id"]
    blank = table["cpts_nom"] == ""
    if blank.any():
        raise DataError(f"{name} : CPTS sans identifiant ni nom, "
                        + first_items(f"ligne {n}" for n in table.loc[blank, "_line"]) + ".")
    no_id = table["cpts_id"] == ""
    if no_id.any():
        table.loc[no_id, "cpts_id"] = _generated_ids(table.loc[no_id, "cpts_nom"]).to_numpy()
        if no_id.all():
            warnings.append("Pas de colonne « cpts_id » : identifiants CPTS-001, CPTS-002... attribués par nom.")
        else:
            warnings.append(f"{int(no_id.sum())} ligne(s) sans identifiant de CPTS : identifiant attribué par nom.")
    conflicts = []
    for cid, grp in table.groupby("cpts_id", sort=False):
        if not _same_name(grp["cpts_nom"]):
            names = " / ".join(f"« {n} » (ligne {line})" for n, line in
                               grp.drop_duplicates("cpts_nom")[["cpts_nom", "_line"]].itertuples(index=False))
            conflicts.append(f"identifiant {cid} : {names}")
    if conflicts:
        raise DataError(f"{name} : un même identifiant de CPTS porte des noms différents ({len(conflicts)}) : "
                        + first_items(conflicts, 5) + ".")
    if "statut" in table.columns:
        table["statut"] = _check_statuts(table["statut"], "ligne " + table["_line"].astype(str), name)
    else:
        table["statut"] = None

    raw = table["code_insee"].str.strip()
    codes = pd.Series([normalise_code(v) for v in raw], index=table.index, dtype=object)
    known = set(base["insee"])
    codes = _fold_arrondissements(codes, known)
    unknown = ~codes.isin(known)
    unknown_codes = list(dict.fromkeys(v or "(vide)" for v in raw[unknown]))
    if unknown.all():
        raise DataError(f"{name} : aucun code commune reconnu dans la base communale ({len(unknown_codes)} code(s) "
                        f"inconnu(s) ou mal formé(s) : {first_items(unknown_codes)}). La colonne « code_insee » "
                        "doit contenir des codes INSEE à 5 caractères (ex. 09122 ou 2A004).")
    if unknown.any():
        warnings.append(
            f"{int(unknown.sum())} ligne(s) ignorée(s), code commune inconnu ou mal formé : "
            + first_items(f"ligne {line} « {v} »" for line, v in zip(table.loc[unknown, "_line"], raw[unknown])) + ".")
    table["insee"] = codes
    rows = table.loc[~unknown, ["cpts_id", "cpts_nom", "statut", "insee", "_line"]]
    lost = sorted(set(table["cpts_nom"]) - set(rows["cpts_nom"]))
    if lost:
        warnings.append(f"CPTS sans aucune commune reconnue, non importée(s) : {first_items(lost)}.")
    return rows, {"rows": int(len(table)), "unknown_codes": unknown_codes[:MAX_LISTED],
                  "unknown_count": len(unknown_codes), "split_communes": []}


def _check_json(path: Path, name: str) -> None:
    """Refuse malformed JSON with the line and column at fault (GDAL's message is in English)."""
    try:
        doc = json.loads(decode_text(path.read_bytes()))
    except ValueError as exc:
        where = f", ligne {exc.lineno}, colonne {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise DataError(f"{name}{where} : GeoJSON mal formé (fichier tronqué, virgule, guillemet ou accolade "
                        "manquant ?), fichier refusé.") from exc
    if not isinstance(doc, dict) or doc.get("type") not in ("FeatureCollection", "Feature", "Polygon", "MultiPolygon"):
        kind = doc.get("type") if isinstance(doc, dict) else type(doc).__name__
        raise DataError(f"{name} : objet JSON de type « {kind} », une FeatureCollection GeoJSON de polygones "
                        "est attendue.")


def _read_polygons(path: Path, name: str, kind: str, base: gpd.GeoDataFrame,
                   warnings: list[str]) -> tuple[pd.DataFrame, dict]:
    """Rows (cpts_id, cpts_nom, statut, insee, _line) of polygons snapped to communes (half-area rule)."""
    label = "GeoPackage" if kind == "gpkg" else "GeoJSON"
    if kind == "geojson":
        _check_json(path, name)
    try:
        frame = gpd.read_file(path, engine="pyogrio")
    except Exception as exc:  # noqa: BLE001 - any reading failure is the file's fault
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise DataError(f"Le fichier {name} n'est pas un {label} lisible ({WHAT}) : fichier corrompu, tronqué ou "
                        f"d'un autre format (détail : {detail}).") from exc
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
        raise DataError(f"Le fichier {name} ne contient pas de géométries : polygones des CPTS attendus.")
    if not len(frame):
        raise DataError(f"Le fichier {label} {name} ne contient aucun objet : rien à importer.")
    frame = frame.reset_index(drop=True)
    frame["_line"] = np.arange(1, len(frame) + 1)
    place = "objet n° " + frame["_line"].astype(str)

    columns = {column_key(c): c for c in frame.columns if c != frame.geometry.name}

    def find(canonical: str, aliases: tuple[str, ...]) -> str | None:
        return next((columns[k] for k in (canonical, *aliases) if k in columns), None)

    name_col, id_col = find("cpts_nom", ("nom", "name", "nom_cpts", "libelle")), find("cpts_id", ("id", "id_cpts"))
    statut_col = find("statut", STATUT_ALIASES)
    if name_col is None and id_col is None:
        seen = ", ".join(f"« {c} »" for c in columns.values()) or "aucune"
        raise DataError(f"{name} : aucune colonne de nom de CPTS (« cpts_nom », « nom » ou « name ») ni "
                        f"d'identifiant (« cpts_id » ou « id ») ; propriétés trouvées : {seen}.")

    def text(col):
        if col is None:
            return pd.Series("", index=frame.index, dtype=object)
        values = frame[col]
        return values.astype(object).where(values.notna(), "").astype(str).str.strip()

    names, ids = text(name_col), text(id_col)
    names = names.where(names != "", ids)
    if (names == "").any():
        raise DataError(f"{name} : CPTS sans nom ni identifiant, "
                        + first_items(place[names == ""]) + ".")
    ids = ids.where(ids != "", _generated_ids(names))
    if id_col is None:
        warnings.append("Pas de propriété « cpts_id » : identifiants CPTS-001, CPTS-002... attribués par nom.")
    statuts = _check_statuts(text(statut_col), place, name) if statut_col else pd.Series(None, index=frame.index,
                                                                                          dtype=object)
    geoms = frame.geometry
    missing = geoms.isna() | geoms.is_empty
    if missing.all():
        raise DataError(f"{name} : aucun objet n'a de géométrie : polygones des CPTS attendus.")
    types = geoms.geom_type.where(~missing, "")
    wrong = ~missing & ~types.isin(["Polygon", "MultiPolygon"])
    if wrong.any():
        raise DataError(f"{name} : géométries non surfaciques, polygones attendus : "
                        + first_items(f"{p} ({t})" for p, t in zip(place[wrong], types[wrong])) + ".")
    if missing.any():
        warnings.append(f"{int(missing.sum())} objet(s) sans géométrie ignoré(s) : {first_items(place[missing])}.")
    if frame.crs is None:
        warnings.append("Système de coordonnées non précisé : WGS84 (longitude, latitude) supposé.")
        frame = frame.set_crs("EPSG:4326")
    elif not frame.crs.equals("EPSG:4326"):
        try:
            frame = frame.to_crs("EPSG:4326")
        except Exception as exc:  # noqa: BLE001
            raise DataError(f"{name} : impossible de convertir le système de coordonnées {frame.crs} en WGS84.") from exc
    minx, miny, maxx, maxy = frame.geometry[~missing].total_bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise DataError(f"{name} : coordonnées hors des bornes longitude/latitude ({minx:.0f}, {miny:.0f}, {maxx:.0f}, "
                        f"{maxy:.0f}) : le système de coordonnées du fichier n'est pas déclaré ou est erroné.")

    feats = pd.DataFrame({"cpts_id": ids, "cpts_nom": names, "statut": statuts, "_line": frame["_line"],
                          "geometry": frame.geometry.to_numpy()})[~missing.to_numpy()]
    conflicts = []
    for cid, grp in feats.groupby("cpts_id", sort=False):
        if not _same_name(grp["cpts_nom"]):
            conflicts.append(f"identifiant {cid} : " + " / ".join(
                f"« {n} » (objet n° {line})" for n, line in grp.drop_duplicates("cpts_nom")[["cpts_nom", "_line"]]
                .itertuples(index=False)))
    if conflicts:
        raise DataError(f"{name} : un même identifiant de CPTS porte des noms différents ({len(conflicts)}) : "
                        + first_items(conflicts, 5) + ".")

    geoms_base = np.asarray(base.geometry.values, dtype=object)
    codes_base = base["insee"].to_numpy()
    names_base = base["name"].to_numpy() if "name" in base.columns else codes_base
    rows, split, empty = [], [], []
    for cid, grp in feats.groupby("cpts_id", sort=False):
        cname, line = grp["cpts_nom"].iloc[0], int(grp["_line"].iloc[0])
        shape = _polygonal(shapely.union_all(np.asarray(grp["geometry"].to_numpy(), dtype=object)))
        shares = overlap_shares(shape, geoms_base)
        pos = shares["pos"].to_numpy()
        kept = (shares["share"] >= HALF).to_numpy()
        if not kept.any():
            empty.append(f"« {cname} » ({', '.join('objet n° ' + str(n) for n in grp['_line'])})")
            continue
        statut = next((s for s in grp["statut"] if isinstance(s, str) and s), None)
        rows += [(cid, cname, statut, code, line) for code in codes_base[pos[kept]]]
        cut = ((shares["share"] > SPLIT_MIN) & (shares["share"] < SPLIT_MAX)).to_numpy()
        split += [{"cpts_id": cid, "cpts_nom": cname, "insee": str(codes_base[p]), "name": str(names_base[p]),
                   "share": round(float(s), 3), "kept": bool(s >= HALF)}
                  for p, s in zip(pos[cut], shares["share"].to_numpy()[cut])]
    if not rows:
        raise DataError(f"{name} : aucun polygone ne couvre au moins la moitié d'une commune de la base communale "
                        "(polygones hors de France ou système de coordonnées erroné ?).")
    if empty:
        warnings.append(f"CPTS dont le polygone ne couvre la moitié d'aucune commune, non importée(s) : "
                        f"{first_items(empty)}.")
    out = pd.DataFrame(rows, columns=["cpts_id", "cpts_nom", "statut", "insee", "_line"])
    return out, {"rows": int(len(frame)), "unknown_codes": [], "unknown_count": 0, "split_communes": split}


def _duplicates(rows: pd.DataFrame) -> tuple[pd.DataFrame, list[dict]]:
    dup = rows.duplicated(["cpts_id", "insee"], keep=False)
    if not dup.any():
        return rows, []
    listed = [{"cpts_id": str(cid), "cpts_nom": str(grp["cpts_nom"].iloc[0]), "insee": str(code),
               "lines": [int(n) for n in grp["_line"]]}
              for (cid, code), grp in rows[dup].groupby(["cpts_id", "insee"], sort=False)]
    return rows.drop_duplicates(["cpts_id", "insee"], keep="first"), listed


def _one_statut(rows: pd.DataFrame, warnings: list[str]) -> pd.DataFrame:
    """One statut per CPTS: the first given; differing ones are reported."""
    firsts, differing = {}, []
    for cid, grp in rows.groupby("cpts_id", sort=False):
        given = [s for s in grp["statut"] if s]
        firsts[cid] = given[0] if given else None
        if len(set(given)) > 1:
            differing.append(f"« {grp['cpts_nom'].iloc[0]} » ({' / '.join(dict.fromkeys(given))}, "
                             f"« {given[0]} » retenu)")
    if differing:
        warnings.append(f"Statuts différents pour une même CPTS : {first_items(differing)}.")
    return rows.assign(statut=rows["cpts_id"].map(firsts))


def parse_cpts(path, communes: gpd.GeoDataFrame | None = None) -> tuple[pd.DataFrame, dict]:
    """Read and check a CPTS file; return (frame cpts_id, cpts_nom, statut, insee) and a report. Nothing is written.

    ``communes``: the commune base (insee, name, population, geometry in
    WGS84), loaded by default. Raises ``DataError`` with a French message
    naming the file and the lines (or objects) at fault.
    """
    path = Path(path)
    name = path.name
    data = read_bytes(path, WHAT)
    kind = _file_kind(path, data)
    del data
    base = _base(communes)
    warnings: list[str] = []
    if kind == "table":
        rows, extra = _read_list(path, name, base, warnings)
    else:
        rows, extra = _read_polygons(path, name, kind, base, warnings)
    rows, duplicates = _duplicates(rows)
    if duplicates:
        warnings.append(f"{len(duplicates)} commune(s) répétée(s) dans une même CPTS, doublon(s) ignoré(s) : "
                        + first_items(f"{d['insee']} ({d['cpts_nom']}, lignes {', '.join(map(str, d['lines']))})"
                                      for d in duplicates) + ".")
    rows = _one_statut(rows, warnings)
    frame = rows[COLUMNS].reset_index(drop=True)
    frame = frame.astype({"cpts_id": str, "cpts_nom": str, "insee": str})
    return frame, _report(frame, name, kind, base, extra, duplicates, warnings)


# --------------------------------------------------------------------------- report


def _population(base: gpd.GeoDataFrame) -> pd.Series:
    if "population" not in base.columns:
        return pd.Series(0, index=base["insee"].to_numpy(), dtype="int64")
    values = pd.to_numeric(base["population"], errors="coerce").fillna(0).astype("int64")
    return pd.Series(values.to_numpy(), index=base["insee"].to_numpy())


def _report(frame: pd.DataFrame, name: str, kind: str, base: gpd.GeoDataFrame, extra: dict,
            duplicates: list[dict], warnings: list[str]) -> dict:
    from geo.adjacency import graph

    population = _population(base)
    commune_names = pd.Series(base["name"].to_numpy() if "name" in base.columns else base["insee"].to_numpy(),
                              index=base["insee"].to_numpy())
    members = frame.groupby("cpts_id", sort=False)
    adjacency = graph()
    per_cpts, non_contiguous = [], []
    for cid, grp in members:
        codes = grp["insee"].tolist()
        parts = adjacency.parts(codes)
        entry = {"cpts_id": str(cid), "cpts_nom": str(grp["cpts_nom"].iloc[0]), "statut": grp["statut"].iloc[0],
                 "communes": len(codes), "population": int(population.reindex(codes).fillna(0).sum()),
                 "parts": len(parts)}
        per_cpts.append(entry)
        if len(parts) > 1:
            non_contiguous.append({**entry, "part_sizes": [len(p) for p in parts]})
    claimed = frame.groupby("insee")["cpts_id"].nunique()
    overlaps = []
    for code in claimed[claimed > 1].index:
        sub = frame[frame["insee"] == code]
        overlaps.append({"insee": str(code), "name": str(commune_names.get(code, code)),
                         "population": int(population.get(code, 0)),
                         "cpts": sub["cpts_nom"].tolist(), "cpts_ids": sub["cpts_id"].tolist()})
    codes = frame["insee"].unique()
    statuts = frame.drop_duplicates("cpts_id")["statut"].fillna("non précisé").value_counts()
    return {
        "file": name,
        "format": {"table": "liste de communes", "geojson": "GeoJSON", "gpkg": "GeoPackage"}[kind],
        "rows": extra["rows"],
        "cpts_count": int(frame["cpts_id"].nunique()),
        "communes_count": int(len(codes)),
        "memberships": int(len(frame)),
        "population": int(population.reindex(codes).fillna(0).sum()),
        "statuts": {str(k): int(v) for k, v in statuts.items()},
        "cpts": per_cpts[:1000],
        "unknown_codes": extra["unknown_codes"],
        "unknown_count": extra["unknown_count"],
        "overlaps": overlaps[:MAX_LISTED],
        "overlap_count": len(overlaps),
        "non_contiguous": non_contiguous[:MAX_LISTED],
        "split_communes": extra["split_communes"][:MAX_LISTED * 4],
        "split_count": len(extra["split_communes"]),
        "duplicates": duplicates[:MAX_LISTED],
        "warnings": warnings,
    }


def _int(value) -> str:
    return f"{int(value):,}".replace(",", "\u202f")


def describe_cpts_report(report: dict) -> list[str]:
    """French lines summarising a CPTS import (for the « Données » page and the command line)."""
    lines = [f"Fichier {report.get('file', '')} ({report.get('format', '')}) : {_int(report.get('rows', 0))} "
             f"{'ligne(s)' if report.get('format') == 'liste de communes' else 'objet(s)'} lu(s).",
             f"{_int(report['cpts_count'])} CPTS, {_int(report['communes_count'])} communes, "
             f"{_int(report['population'])} habitants couverts (population de la base communale)."]
    if report.get("vintage"):
        lines.append(f"Millésime : {report['vintage']}.")
    statuts = report.get("statuts") or {}
    if statuts:
        lines.append("Statuts : " + ", ".join(f"{k} {v}" for k, v in statuts.items()) + ".")
    unknown = report.get("unknown_codes") or []
    if unknown:
        lines.append(f"{report.get('unknown_count', len(unknown))} code(s) commune inconnu(s) ou mal formé(s), "
                     f"lignes ignorées : {first_items(unknown)}.")
    overlaps = report.get("overlaps") or []
    if overlaps:
        lines.append(f"{report.get('overlap_count', len(overlaps))} commune(s) revendiquée(s) par plusieurs CPTS "
                     "(chevauchements conservés) :")
        lines += [f"  - {o['name']} ({o['insee']}, {_int(o['population'])} hab.) : "
                  + ", ".join(f"« {n} »" for n in o["cpts"]) for o in overlaps[:20]]
    for item in report.get("non_contiguous") or []:
        lines.append(f"CPTS « {item['cpts_nom']} » en {item['parts']} parties non contiguës "
                     f"({' + '.join(str(n) for n in item['part_sizes'])} communes).")
    split = report.get("split_communes") or []
    if split:
        lines.append(f"{report.get('split_count', len(split))} commune(s) coupée(s) par une limite de polygone "
                     "(retenue si au moins la moitié de sa surface est dans le polygone) :")
        lines += [f"  - {s['name']} ({s['insee']}) : {round(100 * s['share'])} % dans « {s['cpts_nom']} », "
                  f"{'retenue' if s['kept'] else 'non retenue'}" for s in split[:20]]
    lines += report.get("warnings") or []
    return lines


# --------------------------------------------------------------------------- import


def _meta(report: dict, path: Path, vintage: str) -> dict:
    return {
        "source": "Fichier fourni par l'utilisateur",
        "vintage": vintage,
        "licence": "selon le fournisseur du fichier",
        "imported_at": store.now_iso(),
        "file": path.name,
        "origin_file": path.name,
        "format": report["format"],
        "cpts_count": report["cpts_count"],
        "communes_count": report["communes_count"],
        "population": report["population"],
    }


def import_cpts(path, progress=None, vintage: str | None = None) -> dict:
    """Check a CPTS file and, if it is sound, replace the ``cpts`` layer; return the report.

    ``vintage`` is the date of the perimeters (default: today). On any error
    (``DataError``) nothing is written and the previous layer stays as it was.
    """
    path = Path(path)
    say = progress or (lambda fraction, message: None)
    say(0.05, f"Lecture du fichier des CPTS {path.name}…")
    frame, report = parse_cpts(path)
    say(0.85, "Écriture de la couche des CPTS…")
    meta = store.write_layer(LAYER, frame, _meta(report, path, str(vintage or date.today().isoformat())))
    say(1.0, f"CPTS importées : {report['cpts_count']} CPTS, {report['communes_count']} communes.")
    return {**report, "vintage": meta["vintage"], "imported_at": meta["imported_at"]}


# --------------------------------------------------------------------------- perimeters


def cpts_perimeters(frame: pd.DataFrame | None = None, communes: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """One row per CPTS: cpts_id, cpts_nom, statut, commune_count, population, geometry (union of its communes).

    ``frame`` defaults to the stored ``cpts`` layer, ``communes`` to the
    commune base. A pure function of its inputs (cache it on them).
    """
    from geo.geometry import dissolve

    columns = ["cpts_id", "cpts_nom", "statut", "commune_count", "population"]
    if frame is None:
        frame = store.read_layer(LAYER)
    if frame is None or not len(frame):
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs="EPSG:4326")
    base = _base(communes)
    geometry = pd.Series(base.geometry.to_numpy(), index=base["insee"].to_numpy())
    population = _population(base)
    frame = frame.drop_duplicates(["cpts_id", "insee"])
    statut = frame["statut"] if "statut" in frame.columns else pd.Series(None, index=frame.index, dtype=object)
    rows, shapes = [], []
    for cid, grp in frame.assign(statut=statut).groupby("cpts_id", sort=False):
        codes = [c for c in grp["insee"] if c in geometry.index]
        given = [s for s in grp["statut"] if isinstance(s, str) and s]
        rows.append((str(cid), str(grp["cpts_nom"].iloc[0]), given[0] if given else None, len(codes),
                     int(population.reindex(codes).fillna(0).sum())))
        shape = dissolve(geometry.reindex(codes).to_numpy())
        shapes.append(shape if shape.is_valid else _polygonal(shape))
    out = gpd.GeoDataFrame(pd.DataFrame(rows, columns=columns), geometry=shapes, crs="EPSG:4326")
    out["commune_count"] = out["commune_count"].astype("int64")
    out["population"] = out["population"].astype("int64")
    return out
