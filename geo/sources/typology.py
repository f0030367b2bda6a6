"""The IRDES socio-sanitary typology: its nomenclature and the import of a classification file.

The typology (Chevillard G., Mousquès J., Irdes, document de travail n° 76,
janvier 2019) sorts the territoires de vie into six classes. No open file of
class by territory is known, so the user imports one:

* keyed by commune: columns ``code_insee`` and ``classe``;
* or keyed by territoire de vie: columns ``code_tv`` and ``classe``, with a
  correspondence table commune → territoire de vie (``code_insee``,
  ``code_tv``).

The class numbers are checked against a nomenclature: the built-in one
(``data/irdes_typology_2019.csv`` and its ``.json`` reference) or one the user
supplies (CSV or XLSX: ``classe``, ``label`` and optionally ``short_label``,
``colour``, ``reference``, ``vintage``), e.g. a later commune-level typology
with another number of classes. The stored layer ``typology`` has one row per
classified commune (``insee``, ``classe``); a user nomenclature is copied
into the data directory and its path kept in the layer's meta
(``nomenclature_file``), which ``geo.territory.context`` reads back.

``parse_typology`` never writes; ``import_typology`` writes through the import
pipeline (``geo.sources.pipeline``) only after the whole input has been
checked, so a failed import leaves the previous layer as it was.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from geo.base.communes import load
from geo.errors import DataError
from geo.formats.french import decimal, integer
from geo.sources.codes import INSEE_ALIASES, fold_arrondissements
from geo.sources.limits import read_limited
from geo.sources.pipeline import Report, Source, import_file, write_layer
from geo.sources.population import populations_in_use
from geo.sources.tabular import first_items, normalise_code, read_table
from geo.store import layers as store
from geo.store.catalogue import sources
from geo.store.paths import REPO_ROOT, data_dir

LAYER = "typology"
BUILTIN_FILE = REPO_ROOT / "data" / "irdes_typology_2019.csv"
BUILTIN_META = BUILTIN_FILE.with_suffix(".json")
NOMENCLATURE_PREFIX = "typology_nomenclature_"
SHORT_LABEL_MAX = 30
MAX_LISTED = 10

# Okabe-Ito (colour-blind safe), then Paul Tol's "muted" scheme for larger nomenclatures.
PALETTE = [
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
    "#F0E442",
    "#332288",
    "#88CCEE",
    "#44AA99",
    "#117733",
    "#999933",
    "#DDCC77",
    "#CC6677",
    "#882255",
    "#AA4499",
]
HEX_COLOUR = re.compile(r"^#?([0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})$")

NOMENCLATURE_COLUMNS = {
    "classe": ("class", "code", "code_classe", "numero", "num_classe", "classe_irdes")
}
NOMENCLATURE_OPTIONAL = {
    "label": ("libelle", "libelle_long", "intitule", "nom", "name"),
    "short_label": ("libelle_court", "label_court", "intitule_court", "short", "abrege"),
    "colour": ("couleur", "color", "couleur_hex"),
    "reference": ("source", "citation"),
    "vintage": ("millesime", "annee", "year"),
}
CODE_INSEE = INSEE_ALIASES
CODE_TV = (
    "tv",
    "code_territoire_de_vie",
    "territoire_de_vie",
    "codtv",
    "cod_tv",
    "tv_code",
    "code_tv2012",
    "tv2012",
)
CLASSE = (
    "class",
    "classe_irdes",
    "typologie",
    "typo",
    "classe_typologie",
    "cluster",
    "groupe",
    "type",
)


# --------------------------------------------------------------------------- nomenclature


def _builtin_attrs() -> dict:
    try:
        info = json.loads(BUILTIN_META.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"Référence de la typologie Irdes illisible : {BUILTIN_META}.") from exc
    return {
        "reference": info["reference"],
        "vintage": str(info.get("vintage", "2019")),
        "url": info.get("url", ""),
        "unit": info.get("unit", ""),
        "builtin": True,
        "file": BUILTIN_FILE.name,
    }


def _resolve(path) -> Path:
    """A nomenclature path; one kept in the data directory is found there again if the directory moved."""
    path = Path(path)
    if not path.exists() and (data_dir() / path.name).exists():
        return data_dir() / path.name
    return path


def _class_number(text: str) -> int | None:
    text = str(text).strip()
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    if re.fullmatch(r"[+-]?\d+[.,]0+", text):
        return int(text.replace(",", ".").split(".")[0])
    return None


def _short(label: str) -> str:
    return (
        label
        if len(label) <= SHORT_LABEL_MAX
        else label[: SHORT_LABEL_MAX - 1].rstrip(" ,;:") + "…"
    )


def load_nomenclature(path=None, name: str | None = None) -> pd.DataFrame:
    """The classes of the typology: columns classe (int), label, short_label, colour, in class order.

    Without ``path``, the built-in IRDES 2019 nomenclature. Otherwise a CSV or
    XLSX file with ``classe`` and ``label`` (``short_label``, ``colour``,
    ``reference``, ``vintage`` optional); any number of classes. Missing short
    labels are cut from the label, missing colours taken from the palette.
    ``.attrs`` holds reference, vintage and file (``name``: the user's name of the file). Raises
    DataError (French, naming the line) for a non-integer or duplicate class or an empty label.
    """
    builtin = path is None
    path = BUILTIN_FILE if builtin else _resolve(path)
    name = name or path.name
    what = "nomenclature"
    table = read_table(path, what, NOMENCLATURE_COLUMNS, NOMENCLATURE_OPTIONAL, display_name=name)
    if "label" not in table.columns:
        raise DataError(
            f"{name}, ligne 1 : colonne « label » (ou « libellé ») absente de la nomenclature."
        )
    errors, seen, rows = [], {}, []
    for rec in table.to_dict("records"):
        line = rec["_line"]
        number = _class_number(rec["classe"])
        label = str(rec["label"]).strip()
        if number is None:
            errors.append(f"ligne {line} : classe « {rec['classe']} » non entière")
            continue
        if number in seen:
            errors.append(
                f"ligne {line} : classe {number} en double (déjà définie ligne {seen[number]})"
            )
            continue
        seen[number] = line
        if not label:
            errors.append(f"ligne {line} : libellé vide pour la classe {number}")
            continue
        colour = str(rec.get("colour") or "").strip()
        if colour:
            match = HEX_COLOUR.match(colour)
            if not match:
                errors.append(f"ligne {line} : couleur « {colour} » invalide (attendu : #RRGGBB)")
                continue
            hexa = match.group(1)
            colour = "#" + (hexa if len(hexa) == 6 else "".join(c * 2 for c in hexa)).upper()
        rows.append(
            {
                "classe": number,
                "label": label,
                "short_label": str(rec.get("short_label") or "").strip(),
                "colour": colour,
                "_line": line,
                "reference": str(rec.get("reference") or "").strip(),
                "vintage": str(rec.get("vintage") or "").strip(),
            }
        )
    if errors:
        raise DataError(
            f"{name} : nomenclature refusée — "
            + " ; ".join(errors[:MAX_LISTED])
            + (f" (et {len(errors) - MAX_LISTED} autre(s))" if len(errors) > MAX_LISTED else "")
            + "."
        )
    frame = pd.DataFrame(rows).sort_values("classe", ignore_index=True)
    frame["short_label"] = [
        s or _short(lab) for s, lab in zip(frame["short_label"], frame["label"])
    ]
    used = {c for c in frame["colour"] if c}
    spare = iter([c for c in PALETTE if c not in used])
    colours = []
    for i, colour in enumerate(frame["colour"]):
        colours.append(colour or next(spare, PALETTE[i % len(PALETTE)]))
    frame["colour"] = colours
    if builtin:
        attrs = _builtin_attrs()
    else:
        reference = next((r for r in frame["reference"] if r), "")
        vintage = next((v for v in frame["vintage"] if v), "")
        attrs = {
            "reference": reference or f"Nomenclature fournie par l'utilisateur ({name})",
            "vintage": vintage,
            "url": "",
            "unit": "",
            "builtin": False,
            "file": name,
        }
    out = frame[["classe", "label", "short_label", "colour"]].copy()
    out["classe"] = out["classe"].astype("int64")
    out.attrs.update(attrs)
    out.attrs["path"] = str(path)
    return out


def _as_nomenclature(nomenclature, name: str | None = None) -> pd.DataFrame:
    if nomenclature is None or isinstance(nomenclature, (str, Path)):
        return load_nomenclature(nomenclature, name)
    return nomenclature


def class_labels(nomenclature: pd.DataFrame, short: bool = True) -> dict[int, str]:
    """Class number -> « n — label » (short label by default, the label when a class has no short one)."""
    column = "short_label" if short and "short_label" in nomenclature.columns else "label"
    return {
        int(c): f"{int(c)} — {lab or full}"
        for c, lab, full in zip(nomenclature["classe"], nomenclature[column], nomenclature["label"])
    }


# --------------------------------------------------------------------------- parsing


@dataclass
class TypologyReport(Report):
    """A typology import: communes and population classified, by class, and the nomenclature used."""

    nomenclature_path: str | None = (
        None  # a user nomenclature, copied beside the layer when it is written
    )

    JSON_MEMBERS = ("file", "rows", "warnings")

    def to_dict(self) -> dict:
        out = super().to_dict()
        if self.meta is not None:
            out.update(
                vintage=self.meta["vintage"], nomenclature_file=self.meta["nomenclature_file"]
            )
        return out

    def lines(self) -> list[str]:
        d = self.details
        nomen = d.get("nomenclature") or {}
        by = "commune" if d.get("key") == "code_insee" else "territoire de vie"
        lines = [
            f"Fichier {self.file} : {integer(self.rows)} ligne(s) lue(s), classement par {by}."
        ]
        if d.get("tv_map_file"):
            lines.append(
                f"Table de passage {d['tv_map_file']} : {integer(d.get('territories', 0))} territoires "
                f"de vie classés, {integer(d.get('tv_map_communes', 0))} communes dans la table."
            )
        lines.append(
            f"Nomenclature : {nomen.get('reference', '')} ({nomen.get('classes', '?')} classes)."
        )
        lines.append(
            f"{integer(d['communes_classified'])} communes classées sur {integer(d['communes_total'])} "
            f"({_pct(d['share_communes'])}), soit {integer(d['population_classified'])} habitants "
            f"({_pct(d['share_population'])} de la population)."
        )
        labels = d.get("labels") or {}
        for cls, count in (d.get("classes") or {}).items():
            label = labels.get(cls) or labels.get(str(cls)) or ""
            lines.append(
                f"Classe {cls}{' — ' + label if label else ''} : {integer(count)} communes."
            )
        return lines + list(self.warnings)


def _pct(value: float) -> str:
    return f"{decimal(100 * value, 1)} %"


def _commune_codes(
    table: pd.DataFrame, column: str, name: str, base: set[str]
) -> tuple[pd.Series, dict]:
    """Normalised commune codes of ``table[column]`` (arrondissements folded); refuses bad or unknown codes."""
    codes = pd.Series([normalise_code(v) for v in table[column]], index=table.index, dtype=object)
    bad = table.loc[codes.isna(), ["_line", column]]
    if len(bad):
        raise DataError(
            f"{name} : {len(bad)} code(s) commune mal formé(s) (5 caractères attendus, ex. 09122 ou 2A004) : "
            + first_items(
                f"ligne {line} « {value} »" for line, value in zip(bad["_line"], bad[column])
            )
            + "."
        )
    codes, folded = fold_arrondissements(codes, base)
    unknown = ~codes.isin(base)
    if unknown.any():
        listed = list(dict.fromkeys(codes[unknown]))
        raise DataError(
            f"{name} : {len(listed)} code(s) commune absent(s) de la base communale (ancienne commune, autre "
            f"millésime du code officiel géographique ?) : {first_items(listed)} "
            f"(première ligne concernée : {int(table.loc[unknown, '_line'].iloc[0])})."
        )
    return codes, folded


def _tv_codes(values: pd.Series) -> pd.Series:
    """Territoire de vie codes: stripped, leading zero restored when they look like commune codes."""
    text = values.astype(str).str.strip()
    return pd.Series(
        [normalise_code(v) or v.upper() for v in text], index=values.index, dtype=object
    )


def _dedupe(
    frame: pd.DataFrame, key: str, value: str, name: str, what: str, differing: str
) -> tuple[pd.DataFrame, list[str]]:
    """Rows unique by ``key``: identical repeats dropped (and listed), conflicting ones refused."""
    dup = frame[key].duplicated(keep=False)
    if not dup.any():
        return frame, []
    groups = frame[dup].groupby(key, sort=False)
    conflicts, repeats = [], []
    for code, grp in groups:
        lines = ", ".join(str(n) for n in grp["_line"])
        if grp[value].nunique() > 1:
            values = "/".join(str(v) for v in dict.fromkeys(grp[value]))
            conflicts.append(f"{what} {code} lignes {lines} ({values})")
        else:
            repeats.append(f"{what} {code} répété lignes {lines}")
    if conflicts:
        raise DataError(
            f"{name} : doublons avec des {differing} ({len(conflicts)}) : "
            + first_items(conflicts)
            + "."
        )
    return frame.drop_duplicates(key, keep="first"), repeats


def _classes(table: pd.DataFrame, name: str, nomen: pd.DataFrame) -> tuple[pd.DataFrame, list[int]]:
    """Integer classes checked against the nomenclature; rows with an empty class are left out (their lines)."""
    text = table["classe"].astype(str).str.strip()
    empty = text == ""
    numbers = text.map(_class_number)
    known = set(int(c) for c in nomen["classe"])
    bad = ~empty & ~numbers.isin(known)
    if bad.any():
        expected = ", ".join(str(c) for c in sorted(known))
        raise DataError(
            f"{name} : {int(bad.sum())} classe(s) inconnue(s) de la nomenclature (classes attendues : {expected}) : "
            + first_items(
                f"ligne {line} « {value} »"
                for line, value in zip(table.loc[bad, "_line"], text[bad])
            )
            + "."
        )
    out = table.loc[~empty].copy()
    out["classe"] = numbers[~empty].astype("int64")
    return out, [int(n) for n in table.loc[empty, "_line"]]


def _read_input(path: Path, name: str) -> pd.DataFrame:
    what = "typologie Irdes"
    table = read_table(
        path,
        what,
        {"classe": CLASSE},
        {"code_insee": CODE_INSEE, "code_tv": CODE_TV},
        display_name=name,
    )
    if "code_insee" not in table.columns and "code_tv" not in table.columns:
        try:
            read_table(path, what, {"code_insee": CODE_INSEE, "classe": CLASSE}, display_name=name)
        except DataError as exc:
            raise DataError(
                f"{exc} Le fichier doit avoir une colonne « code_insee » (par commune) ou "
                "« code_tv » (par territoire de vie, avec une table de passage)."
            ) from exc
    return table


def _communes(communes) -> pd.DataFrame:
    if communes is None:
        communes = load("communes")
    codes = communes["insee"].astype(str).to_numpy()
    population, _ = populations_in_use(
        codes, pd.to_numeric(communes["population"], errors="coerce")
    )  # the populations in use (geo.sources.population)
    frame = pd.DataFrame({"insee": codes, "population": population.fillna(0).to_numpy()})
    return frame.drop_duplicates("insee")


def parse_typology(
    path,
    tv_map=None,
    nomenclature=None,
    communes=None,
    name: str | None = None,
    tv_map_name: str | None = None,
    nomenclature_name: str | None = None,
) -> tuple[pd.DataFrame, TypologyReport]:
    """Read and check a typology file; return (frame insee, classe) and a report. Nothing is written.

    ``path``: CSV/XLSX keyed by commune (``code_insee``, ``classe``) or by
    territoire de vie (``code_tv``, ``classe``, then ``tv_map`` is required:
    ``code_insee``, ``code_tv``). ``nomenclature``: a frame from
    :func:`load_nomenclature`, a nomenclature file, or None for IRDES 2019.
    ``communes``: the commune base (insee, population), loaded by default.
    ``name``, ``tv_map_name``, ``nomenclature_name``: the user's names of the files.
    """
    path = Path(path)
    name = name or path.name
    nomen = _as_nomenclature(nomenclature, nomenclature_name)
    table = _read_input(
        path, name
    )  # before loading the commune base: a bad file is refused at once
    base = _communes(communes)
    base_codes = set(base["insee"])
    rows = len(table)
    warnings: list[str] = []
    report_extra: dict = {}

    table, empty_lines = _classes(table, name, nomen)
    if empty_lines:
        warnings.append(
            f"{len(empty_lines)} ligne(s) sans classe ignorée(s) : "
            + first_items(f"ligne {n}" for n in empty_lines)
            + "."
        )
    if "code_insee" in table.columns:
        key = "code_insee"
        if "code_tv" in table.columns:
            warnings.append(
                "Colonnes « code_insee » et « code_tv » présentes : classement par commune "
                "(code_insee)."
            )
        codes, folded = _commune_codes(table, "code_insee", name, base_codes)
        table = table.assign(insee=codes)
        table, repeats = _dedupe(table, "insee", "classe", name, "commune", "classes différentes")
        frame = table[["insee", "classe"]]
    else:
        key = "code_tv"
        if tv_map is None:
            raise DataError(
                f"{name} est classé par territoire de vie (colonne « code_tv ») : fournissez aussi la "
                "table de passage commune → territoire de vie (colonnes code_insee;code_tv : option "
                "--tv-map en ligne de commande, second fichier sur la page « Données »)."
            )
        empty = table["code_tv"].str.strip() == ""
        if empty.any():
            raise DataError(
                f"{name} : code de territoire de vie (code_tv) vide, "
                + first_items(f"ligne {n}" for n in table.loc[empty, "_line"])
                + "."
            )
        table = table.assign(tv=_tv_codes(table["code_tv"]))
        table, repeats = _dedupe(
            table, "tv", "classe", name, "territoire de vie", "classes différentes"
        )
        frame, folded, map_repeats, tv_report = _apply_tv_map(
            table, name, Path(tv_map), tv_map_name, base_codes, warnings
        )
        repeats += map_repeats
        report_extra.update(tv_report)
    if not len(frame):
        raise DataError(f"{name} : aucune commune classée (toutes les lignes sont sans classe).")
    if repeats:
        warnings.append(
            f"{len(repeats)} doublon(s) identique(s) ignoré(s) : {first_items(repeats)}."
        )
    for city, count in folded.items():
        warnings.append(f"{count} arrondissement(s) rattaché(s) à la commune {city}.")

    frame = frame.sort_values("insee", ignore_index=True)
    frame["insee"] = frame["insee"].astype(str)
    frame["classe"] = frame["classe"].astype("int64")
    population = base.set_index("insee")["population"]
    total_pop = float(population.sum())
    classified_pop = float(population.reindex(frame["insee"]).sum())
    counts = frame["classe"].value_counts()
    report = TypologyReport(
        file=name,
        rows=rows,
        warnings=warnings,
        details={
            "key": key,
            "communes_classified": int(len(frame)),
            "communes_total": int(len(base)),
            "share_communes": len(frame) / len(base) if len(base) else 0.0,
            "population_classified": int(round(classified_pop)),
            "share_population": classified_pop / total_pop if total_pop else 0.0,
            "classes": {int(c): int(counts.get(c, 0)) for c in nomen["classe"]},
            "duplicates": len(repeats),
            "nomenclature": {
                "reference": nomen.attrs.get("reference", ""),
                "vintage": nomen.attrs.get("vintage", ""),
                "file": nomen.attrs.get("file", ""),
                "classes": int(len(nomen)),
            },
            "labels": {int(c): str(lab) for c, lab in zip(nomen["classe"], nomen["short_label"])},
            **report_extra,
        },
    )
    user_nomenclature = nomenclature is not None and not nomen.attrs.get("builtin")
    report.nomenclature_path = nomen.attrs["path"] if user_nomenclature else None
    return frame, report


def _apply_tv_map(
    table: pd.DataFrame,
    name: str,
    tv_map: Path,
    map_name: str | None,
    base_codes: set[str],
    warnings: list[str],
):
    """Communes of the classified territoires de vie through the correspondence table."""
    map_name = map_name or tv_map.name
    mapping = read_table(
        tv_map,
        "table de passage",
        {"code_insee": CODE_INSEE, "code_tv": CODE_TV},
        display_name=map_name,
    )
    empty = mapping["code_tv"].str.strip() == ""
    if empty.any():
        raise DataError(
            f"{map_name} : code de territoire de vie (code_tv) vide, "
            + first_items(f"ligne {n}" for n in mapping.loc[empty, "_line"])
            + "."
        )
    codes, folded = _commune_codes(mapping, "code_insee", map_name, base_codes)
    mapping = mapping.assign(insee=codes, tv=_tv_codes(mapping["code_tv"]))
    mapping, repeats = _dedupe(
        mapping, "insee", "tv", map_name, "commune", "territoires de vie différents"
    )
    missing = ~table["tv"].isin(set(mapping["tv"]))
    if missing.any():
        listed = list(dict.fromkeys(table.loc[missing, "tv"]))
        raise DataError(
            f"{name} : {len(listed)} territoire(s) de vie absent(s) de la "
            f"table de passage {map_name} : {first_items(listed)} (première ligne concernée : "
            f"{int(table.loc[missing, '_line'].iloc[0])})."
        )
    classes = table.set_index("tv")["classe"]
    mapping = mapping.assign(classe=mapping["tv"].map(classes))
    unclassified = mapping["classe"].isna()
    if unclassified.any():
        tvs = list(dict.fromkeys(mapping.loc[unclassified, "tv"]))
        warnings.append(
            f"{len(tvs)} territoire(s) de vie de la table de passage sans classe dans le fichier "
            f"({int(unclassified.sum())} communes non classées) : {first_items(tvs)}."
        )
    frame = mapping.loc[~unclassified, ["insee", "classe"]].copy()
    frame["classe"] = frame["classe"].astype("int64")
    report = {
        "tv_map_file": map_name,
        "territories": int(table["tv"].nunique()),
        "tv_map_communes": int(len(mapping)),
    }
    return frame, folded, [f"table de passage : {r}" for r in repeats], report


# --------------------------------------------------------------------------- import


def _keep_nomenclature(source: Path) -> Path:
    """Copy a user nomenclature into the data directory under a content-named file (atomic)."""
    data = read_limited(source, "nomenclature")
    suffix = (
        source.suffix.lower()
        if source.suffix.lower() in (".csv", ".xlsx", ".xlsm", ".txt")
        else ".csv"
    )
    target = data_dir() / f"{NOMENCLATURE_PREFIX}{hashlib.sha256(data).hexdigest()[:12]}{suffix}"
    if not target.exists():
        store.write_bytes_atomic(target, data)
    return target


def _drop_old_nomenclatures(keep: Path | None) -> None:
    for old in data_dir().glob(f"{NOMENCLATURE_PREFIX}*"):
        if keep is None or old.name != keep.name:
            old.unlink(missing_ok=True)


def _provenance(frame: pd.DataFrame, report: TypologyReport) -> dict:
    entry = sources().get(LAYER, {})
    d = report.details
    nomen = d["nomenclature"]
    builtin = report.nomenclature_path is None
    return {
        "source": entry.get("publisher", "Irdes") if builtin else nomen["reference"],
        "title": entry.get("title", "Typologie socio-sanitaire des territoires de vie (Irdes)"),
        "reference": nomen["reference"],
        "url": entry.get("url", "") if builtin else "",
        "vintage": str(nomen["vintage"] or "non précisé"),
        "licence": entry.get("licence", "Fichier fourni par l'utilisateur"),
        "key": d["key"],
        "tv_map_file": d.get("tv_map_file"),
        "nomenclature_file": None,
        "classes": nomen["classes"],
        "communes_classified": d["communes_classified"],
        "share_population": round(d["share_population"], 6),
    }


def _write(layer: str, frame: pd.DataFrame, meta: dict, report: TypologyReport) -> dict:
    """Write the layer; a user nomenclature is first copied beside it, and removed again if writing fails."""
    kept = _keep_nomenclature(Path(report.nomenclature_path)) if report.nomenclature_path else None
    try:
        stored = write_layer(
            layer, frame, {**meta, "nomenclature_file": str(kept) if kept else None}, report
        )
    except BaseException:
        previous = (store.read_meta(LAYER) or {}).get("nomenclature_file")
        if kept is not None and str(kept) != previous:
            kept.unlink(missing_ok=True)
        raise
    _drop_old_nomenclatures(kept)
    return stored


SOURCE = Source(LAYER, "typologie", parse_typology, _provenance, write=_write)


def import_typology(
    path,
    tv_map=None,
    nomenclature=None,
    progress=None,
    display_name: str | None = None,
    tv_map_name: str | None = None,
    nomenclature_name: str | None = None,
) -> TypologyReport:
    """Check a typology file and, if it is sound, replace the ``typology`` layer; return the report.

    ``nomenclature`` is an optional user nomenclature file (copied into the data directory).
    ``display_name``, ``tv_map_name``, ``nomenclature_name``: the user's names of the three files.
    ``progress(fraction, message)`` receives French messages. On any error (``DataError``) nothing is
    written.
    """
    return import_file(
        SOURCE,
        path,
        display_name=display_name,
        progress=progress,
        tv_map=tv_map,
        nomenclature=nomenclature,
        tv_map_name=tv_map_name,
        nomenclature_name=nomenclature_name,
    )
