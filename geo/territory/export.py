"""Export territories as GeoJSON (RFC 7946) and as a commune list; read them back.

GeoJSON: one Feature per territory with its dissolved geometry (WGS84
longitude/latitude, exterior rings counter-clockwise, no ``crs`` member,
coordinates to 6 decimals) and its diagnostics as properties. CSV:
``cpts_id;cpts_nom;code_insee``, one row per commune, the format the CPTS
importer reads.

Every JSON document the app writes goes through :func:`geo.formats.strict_json.json_text` (strict
JSON: a non-finite number becomes ``null``, never ``NaN``), every CSV through
:func:`geo.formats.csv_cells.csv_bytes` (cells that a spreadsheet would run as a
formula are neutralised). :func:`read_export` reads an export back as
outside input: size, nesting and counts limited, every commune code checked
against the commune base.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import shapely

from geo.base.geometry import dissolve
from geo.errors import DataError
from geo.formats.csv_cells import csv_bytes, restore_cell
from geo.formats.strict_json import json_text
from geo.sources.limits import MAX_FILE_BYTES, load_json, read_limited
from geo.sources.tabular import first_items, normalise_code
from geo.store.layers import now_iso
from geo.store.scenarios import STATUSES
from geo.territory.context import Context, context
from geo.territory.diagnostics import Tally, diagnose

CSV_COLUMNS = ("cpts_id", "cpts_nom", "code_insee")


def territory_feature(
    name: str,
    codes,
    ctx: Context,
    *,
    status: str = "proposition",
    scenario: str = "",
    ident: str | None = None,
    exported_at: str | None = None,
) -> dict:
    """A GeoJSON Feature for one territory (geometry dissolved, figures computed)."""
    codes = sorted(set(codes))
    diag = diagnose(Tally.of(codes, ctx), ctx)
    shape = dissolve([ctx.geometry[c] for c in codes if ctx.geometry.get(c) is not None])
    shape = shapely.orient_polygons(shapely.set_precision(shape, 1e-6), exterior_cw=False)
    props = {
        "id": ident or name,
        "name": name,
        "status": status,
        "population": diag.population,
        "population_vintage": diag.population_vintage,
        "population_2017": ctx.population_2017(codes),  # for comparison
        "aci_size": diag.aci_size,
        "communes": codes,
        "commune_count": diag.commune_count,
        "msp_count": diag.msp_count,
        "centres_sante_count": diag.centres_sante_count,
        "cpts_seats_count": diag.cpts_seats_count,
        "irdes_mix": diag.irdes_mix,
        "apl": diag.apl,
        "contiguous": diag.contiguous,
        "parts": diag.parts,
        "departements": diag.departements,
        "regions": diag.regions,
        "area_km2": diag.area_km2,
        "polsby_popper": diag.polsby_popper,
        "scenario": scenario,
        "exported_at": exported_at or now_iso(),
        "sources": dict(ctx.vintages),
    }
    return {
        "type": "Feature",
        "geometry": json.loads(shapely.to_geojson(shape)),
        "properties": props,
    }


def to_geojson(territories: list[dict], ctx: Context, scenario: str = "") -> dict:
    """FeatureCollection of territories given as dicts with ``name``, ``communes`` and optional ``status``/``id``."""
    stamp = now_iso()
    features = [
        territory_feature(
            t["name"],
            t["communes"],
            ctx,
            status=t.get("status", "proposition"),
            scenario=scenario,
            ident=str(t.get("id") or t["name"]),
            exported_at=stamp,
        )
        for t in territories
    ]
    return {"type": "FeatureCollection", "features": features}


def geojson_bytes(collection: dict) -> bytes:
    """Strict JSON (UTF-8): a missing figure is ``null``, never ``NaN``."""
    return json_text(collection).encode("utf-8")


def to_csv(territories: list[dict]) -> bytes:
    """``cpts_id;cpts_nom;code_insee`` rows (UTF-8 with BOM, for spreadsheet users; formula cells neutralised)."""
    return csv_bytes(
        CSV_COLUMNS,
        (
            [terr.get("id") or terr["name"], terr["name"], code]
            for terr in territories
            for code in sorted(set(terr["communes"]))
        ),
    )


# --- reading an export back (``scenario import``, territory page) ------------------------

MAX_TERRITORIES = 5_000  # territories in one file (France has about 35,000 communes)
MAX_ENTRIES = 300_000  # commune codes in one file, all territories together
MAX_SHOWN = 40  # characters of a refused value quoted in a message
BOM = b"\xef\xbb\xbf"


class ImportedTerritories(list):
    """The territories read from an export (a list of dicts, as always) and the warnings of the reading
    (unknown codes dropped...), for the command line and the territory page to show."""

    def __init__(self, items=(), warnings=()):
        super().__init__(items)
        self.warnings: list[str] = list(warnings)


def _shown(value) -> str:
    """A value from the file, quoted in a message: one line, printable, at most MAX_SHOWN characters."""
    text = "".join(ch for ch in " ".join(str(value).split()) if ch.isprintable())
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "…"


def _kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "un booléen"
    if isinstance(value, (int, float)):
        return f"le nombre {_shown(value)}"
    if isinstance(value, str):
        return f"le texte « {_shown(value)} »"
    if isinstance(value, list):
        return "une liste"
    return "un objet"


def read_export_file(path, known=None) -> ImportedTerritories:
    """:func:`read_export` of a file on disk, read through the size cap of :func:`geo.sources.limits.read_limited`."""
    path = Path(path)
    return read_export(read_limited(path, "à importer"), path.name, known)


def read_export(data: bytes, filename: str = "fichier", known=None) -> ImportedTerritories:
    """Territories (id, name, status, communes) from an exported GeoJSON or CSV, with warnings.

    The file is outside input: anything else than a CartoCPTS export is a French DataError naming the file
    and the line or feature at fault. Commune codes are normalised like the importers do (``9122`` ->
    ``09122``); codes absent from the commune base (``known``, by default the current context's communes)
    are dropped and listed in a warning; a file with no known code is refused.
    """
    if not isinstance(data, (bytes, bytearray)):
        raise DataError(f"{filename} : contenu illisible (octets attendus).")
    if len(data) > MAX_FILE_BYTES:
        raise DataError(
            f"{filename} : fichier trop gros ({len(data) // (1024 * 1024)} Mo), "
            f"{MAX_FILE_BYTES // (1024 * 1024)} Mo au plus."
        )
    body = bytes(data[len(BOM) :] if data.startswith(BOM) else data)
    if not body.strip():
        raise DataError(f"{filename} : le fichier est vide.")
    if known is None:
        known = context().population
    first = body.lstrip()[:1]
    raw = (
        _geojson_territories(body, filename)
        if first in (b"{", b"[")
        else _csv_territories(body, filename)
    )
    return _checked(raw, filename, known)


def _geojson_territories(data: bytes, filename: str) -> list[dict]:
    doc = load_json(data, filename, "GeoJSON")
    features = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(features, list):
        found = (
            "pas de liste « features »"
            if isinstance(doc, dict)
            else f"le document est {_kind(doc)}"
        )
        raise DataError(
            f"{filename} : GeoJSON inattendu ({found}) ; un FeatureCollection exporté par CartoCPTS "
            "est attendu."
        )
    if len(features) > MAX_TERRITORIES:
        raise DataError(
            f"{filename} : {len(features)} territoires, {MAX_TERRITORIES} au plus : fichier refusé."
        )

    out, entries = [], 0
    for i, feat in enumerate(features, start=1):
        where = f"{filename}, objet n° {i}"
        if not isinstance(feat, dict):
            raise DataError(
                f"{where} : un objet GeoJSON « Feature » est attendu, trouvé {_kind(feat)}."
            )
        props = feat.get("properties")
        if not isinstance(props, dict):
            raise DataError(f"{where} : « properties » doit être un objet, trouvé {_kind(props)}.")
        name, communes = props.get("name"), props.get("communes")
        if not isinstance(name, str) or not name.strip():
            raise DataError(
                f"{where} : la propriété « name » (nom du territoire, texte) manque ou est vide."
            )
        if not isinstance(communes, list):
            raise DataError(
                f"{where} : la propriété « communes » doit être une liste de codes INSEE, "
                f"trouvé {_kind(communes)}."
            )
        entries += len(communes)
        if entries > MAX_ENTRIES:
            raise DataError(
                f"{where} : plus de {MAX_ENTRIES} codes commune dans le fichier : fichier refusé."
            )
        for j, code in enumerate(communes, start=1):
            if isinstance(code, bool) or not isinstance(code, (str, int, float)):
                raise DataError(
                    f"{where} : la commune n° {j} de « communes » doit être un code INSEE, "
                    f"trouvé {_kind(code)}."
                )
        status = props.get("status")
        if status is None or status == "":
            status = "proposition"
        if not isinstance(status, str) or status not in STATUSES:
            shown = f"« {_shown(status)} »" if isinstance(status, str) else f"({_kind(status)})"
            raise DataError(
                f"{where} : statut {shown} inconnu ; statuts possibles : {', '.join(STATUSES)}."
            )
        ident = props.get("id")
        ident = (
            str(ident)
            if isinstance(ident, (str, int)) and not isinstance(ident, bool) and str(ident)
            else name
        )
        out.append(
            {
                "id": ident,
                "name": name,
                "status": status,
                "codes": [(f"objet n° {i}", code) for code in communes],
            }
        )
    return out


def _csv_territories(data: bytes, filename: str) -> list[dict]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataError(
            f"{filename}, ligne {line} : le fichier n'est pas en UTF-8 (octet invalide). Un export "
            "CartoCPTS est en UTF-8 : réenregistrez-le en « CSV UTF-8 »."
        ) from exc
    if "\x00" in text:
        raise DataError(
            f"{filename} : le fichier contient des octets nuls, ce n'est pas un CSV exporté par "
            "CartoCPTS."
        )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";", strict=True)
    by_id: dict[str, dict] = {}
    entries = 0
    try:
        header = next(reader, [])
        found = [restore_cell(h).strip().lower() for h in header[:3]]
        if tuple(found) != CSV_COLUMNS:
            raise DataError(
                f"{filename}, ligne 1 : colonnes attendues « {';'.join(CSV_COLUMNS)} », "
                f"trouvé « {_shown(';'.join(header))} »."
            )
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) < 3:
                raise DataError(
                    f"{filename}, ligne {line} : 3 champs attendus, {len(row)} trouvé(s)."
                )
            entries += 1
            if entries > MAX_ENTRIES:
                raise DataError(
                    f"{filename}, ligne {line} : plus de {MAX_ENTRIES} lignes : fichier refusé."
                )
            ident, name, code = (restore_cell(cell) for cell in row[:3])
            if not name.strip():
                name = ident
            key = ident.strip() or name.strip()
            if not key:
                raise DataError(
                    f"{filename}, ligne {line} : ni identifiant (cpts_id) ni nom (cpts_nom)."
                )
            terr = by_id.get(key)
            if terr is None:
                if len(by_id) >= MAX_TERRITORIES:
                    raise DataError(
                        f"{filename}, ligne {line} : plus de {MAX_TERRITORIES} territoires : "
                        "fichier refusé."
                    )
                terr = by_id[key] = {
                    "id": ident if ident.strip() else name,
                    "name": name,
                    "status": "proposition",
                    "codes": [],
                }
            terr["codes"].append((f"ligne {line}", code.strip()))
    except csv.Error as exc:
        raise DataError(
            f"{filename}, ligne {reader.line_num} : CSV mal formé (guillemet mal placé ou champ trop "
            "long)."
        ) from exc
    return list(by_id.values())


def _checked(raw: list[dict], filename: str, known) -> ImportedTerritories:
    """Codes normalised and checked against the commune base; unknown ones dropped with a warning."""
    out, unknown, emptied = [], [], []
    for terr in raw:
        codes = []
        for where, value in terr.pop("codes"):
            code = normalise_code(value)
            if code is not None and code in known:
                codes.append(code)
            else:
                unknown.append(f"{where} « {_shown(value) or '(vide)'} »")
        if codes:
            out.append({**terr, "communes": list(dict.fromkeys(codes))})
        else:
            emptied.append(f"« {_shown(terr['name'])} »")
    if not out:
        detail = (
            f" ({len(unknown)} code(s) inconnu(s) ou mal formé(s) : {first_items(unknown)})"
            if unknown
            else ""
        )
        raise DataError(
            f"{filename} : aucun code commune reconnu dans la base communale{detail}. Les communes "
            "sont des codes INSEE à 5 caractères (ex. 09122 ou 2A004)."
        )
    warnings = []
    if unknown:
        warnings.append(
            f"{filename} : {len(unknown)} code(s) commune inconnu(s) ou mal formé(s), ignoré(s) : "
            f"{first_items(unknown)}."
        )
    if emptied:
        warnings.append(
            f"{filename} : territoire(s) sans aucune commune reconnue, non importé(s) : "
            f"{first_items(emptied)}."
        )
    return ImportedTerritories(out, warnings)
