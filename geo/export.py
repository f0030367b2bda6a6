"""Export territories as GeoJSON (RFC 7946) and as a commune list; read them back.

GeoJSON: one Feature per territory with its dissolved geometry (WGS84
longitude/latitude, exterior rings counter-clockwise, no ``crs`` member,
coordinates to 6 decimals) and its diagnostics as properties. CSV:
``cpts_id;cpts_nom;code_insee``, one row per commune, the format the CPTS
importer reads.
"""

from __future__ import annotations

import csv
import io
import json

import shapely

from geo.context import Context
from geo.diagnostics import Tally, diagnose
from geo.errors import DataError
from geo.geometry import dissolve
from geo.store import now_iso

CSV_COLUMNS = ("cpts_id", "cpts_nom", "code_insee")


def territory_feature(name: str, codes, ctx: Context, *, status: str = "proposition",
                      scenario: str = "", ident: str | None = None, exported_at: str | None = None) -> dict:
    """A GeoJSON Feature for one territory (geometry dissolved, figures computed)."""
    codes = sorted(set(codes))
    diag = diagnose(Tally.of(codes, ctx), ctx)
    shape = dissolve([ctx.geometry[c] for c in codes if ctx.geometry.get(c) is not None])
    shape = shapely.orient_polygons(shapely.set_precision(shape, 1e-6), exterior_cw=False)
    props = {
        "id": ident or name,
        "name": name,
        "status": status,
        "population": diag["population"],
        "population_vintage": diag["population_vintage"],
        "aci_size": diag["aci_size"],
        "communes": codes,
        "commune_count": diag["commune_count"],
        "msp_count": diag["msp_count"],
        "centres_sante_count": diag["centres_sante_count"],
        "cpts_seats_count": diag["cpts_seats_count"],
        "irdes_mix": diag["irdes_mix"],
        "apl": diag["apl"],
        "contiguous": diag["contiguous"],
        "parts": diag["parts"],
        "departements": diag["departements"],
        "regions": diag["regions"],
        "area_km2": diag["area_km2"],
        "polsby_popper": diag["polsby_popper"],
        "scenario": scenario,
        "exported_at": exported_at or now_iso(),
        "sources": dict(ctx.vintages),
    }
    return {"type": "Feature", "geometry": json.loads(shapely.to_geojson(shape)), "properties": props}


def to_geojson(territories: list[dict], ctx: Context, scenario: str = "") -> dict:
    """FeatureCollection of territories given as dicts with ``name``, ``communes`` and optional ``status``/``id``."""
    stamp = now_iso()
    features = [
        territory_feature(t["name"], t["communes"], ctx, status=t.get("status", "proposition"),
                          scenario=scenario, ident=str(t.get("id") or t["name"]), exported_at=stamp)
        for t in territories
    ]
    return {"type": "FeatureCollection", "features": features}


def geojson_bytes(collection: dict) -> bytes:
    return json.dumps(collection, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def to_csv(territories: list[dict]) -> bytes:
    """``cpts_id;cpts_nom;code_insee`` rows (UTF-8 with BOM, for spreadsheet users)."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for terr in territories:
        for code in sorted(set(terr["communes"])):
            writer.writerow([terr.get("id") or terr["name"], terr["name"], code])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def read_export(data: bytes, filename: str = "fichier") -> list[dict]:
    """Territories (name, status, communes) from an exported GeoJSON or CSV."""
    text = data.decode("utf-8-sig", errors="strict") if data else ""
    if not text.strip():
        raise DataError(f"{filename} : le fichier est vide.")
    if text.lstrip().startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise DataError(f"{filename} : GeoJSON illisible ({exc}).") from exc
        out = []
        for i, feat in enumerate(doc.get("features") or [], start=1):
            props = feat.get("properties") or {}
            if not props.get("name") or not isinstance(props.get("communes"), list):
                raise DataError(f"{filename} : l'objet n° {i} n'a pas de propriétés « name » et « communes ».")
            out.append({"id": props.get("id") or props["name"], "name": props["name"],
                        "status": props.get("status", "proposition"), "communes": [str(c) for c in props["communes"]]})
        return out
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    header = [h.strip().lower() for h in rows[0]]
    if tuple(header[:3]) != CSV_COLUMNS:
        raise DataError(f"{filename}, ligne 1 : colonnes attendues « cpts_id;cpts_nom;code_insee », trouvé « {';'.join(rows[0])} ».")
    by_id: dict[str, dict] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < 3:
            raise DataError(f"{filename}, ligne {line} : 3 champs attendus, {len(row)} trouvé(s).")
        ident, name, code = (cell.strip() for cell in row[:3])
        by_id.setdefault(ident, {"id": ident, "name": name, "status": "proposition", "communes": []})["communes"].append(code)
    return list(by_id.values())
