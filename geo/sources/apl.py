"""DREES APL (accessibilité potentielle localisée) to general practitioners.

The DREES publishes one workbook with a sheet per year (``APL 2022``,
``APL 2023``...): a few title and note rows, a header row whose first cell is
``Code commune INSEE``, a row of units, then one row per commune. The header
row is found by its labels (never by a fixed row number) and the columns are
matched by their labels, tolerant of case, spaces and accents.

``import_apl`` reads one year and writes the ``apl`` layer (insee, apl,
apl_under65, std_pop, total_pop) through the import pipeline
(``geo.sources.pipeline``) only when the whole sheet was read; a failed
import leaves the previous layer untouched.

Aggregating the APL of several communes must weight each commune by its
standardised population (DREES rule, stated in the workbook's notes):
``weighted_apl`` is the one place where that rule lives.
"""

from __future__ import annotations

import math
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from geo.base.communes import load
from geo.errors import DataError
from geo.formats.french import decimal, integer
from geo.sources.codes import arrondissements_of
from geo.sources.limits import limit_rows, read_limited
from geo.sources.pipeline import MAX_MESSAGES, Report, Source, check_bad_rows, import_file
from geo.sources.tabular import normalise_code, open_workbook, xlsx_error
from geo.store import layers as store
from geo.store.catalogue import sources

LAYER = "apl"
# The reading steps of the APL (upper bounds, exclusive, in consultations per year and standardised inhabitant),
# fixed rather than quantiles so that two maps read the same way: under 2.5 is the « zone sous-dense » threshold
# of the DREES and the ARS for the zoning of general practice; 3.5 and 4.5 are the usual further steps (the
# national APL is about 3.3 to 3.5). The maps' classes and the dossier's distribution both use them.
APL_BREAKS = (2.5, 3.5, 4.5)
HEADER_SCAN_ROWS = 30
SHEET_PATTERN = re.compile(r"^\s*apl\s*(\d{4})\s*$", re.IGNORECASE)
MAX_LISTED = MAX_MESSAGES
COLUMNS = ["insee", "apl", "apl_under65", "std_pop", "total_pop"]

# Normalised header label -> column; checked in order, first match wins.
_LABELS: list[tuple[str, str]] = [
    ("code", "code commune insee"),
    ("name", "commune"),
    ("apl_under65", "apl aux medecins generalistes de moins de 65 ans"),
    ("apl", "apl aux medecins generalistes"),
]
_PREFIXES: list[tuple[str, str]] = [
    ("std_pop", "population standardisee"),
    ("total_pop", "population totale"),
]
_REQUIRED = {
    "code": "Code commune INSEE",
    "apl": "APL aux médecins généralistes",
    "std_pop": "Population standardisée 20xx pour la médecine générale",
}


def _norm(value) -> str:
    """Lower case, no accents, single spaces (for matching header labels)."""
    text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"\s+", " ", text).strip().lower()


# --------------------------------------------------------------------------- workbook


def _open(path, name: str | None = None) -> "openpyxl.Workbook":  # noqa: F821 - imported lazily by tabular
    """The workbook, read through the size cap and the zip checks (geo.sources.limits) before openpyxl."""
    path = Path(path)
    name = name or path.name
    data = read_limited(path, "APL", name)
    if not data:
        raise DataError(
            f"Le fichier {name} est vide (0 octet) : ce n'est pas un classeur APL de la DREES."
        )
    if not data.startswith(b"PK"):
        raise DataError(
            f"Le fichier {name} n'est pas un classeur Excel XLSX lisible "
            "(attendu : le classeur APL de la DREES, par exemple apl_generalistes_drees_2022_2023.xlsx)."
        )
    return open_workbook(data, name, "APL de la DREES")


def _year_sheets(workbook) -> dict[int, str]:
    out = {}
    for name in workbook.sheetnames:
        match = SHEET_PATTERN.match(name)
        if match:
            out[int(match.group(1))] = name
    return out


def list_years(path) -> list[int]:
    """Years available in the workbook (sheets named ``APL <year>``), ascending."""
    workbook = _open(path)
    try:
        years = sorted(_year_sheets(workbook))
    finally:
        workbook.close()
    if not years:
        raise DataError(
            f"Aucune feuille « APL <année> » dans {Path(path).name} "
            f"(feuilles présentes : {', '.join(workbook.sheetnames) or 'aucune'})."
        )
    return years


def _find_header(rows: list[tuple], sheet: str, file: str) -> tuple[int, dict[str, int]]:
    """(0-based index of the header row, column -> 0-based index)."""
    for idx, row in enumerate(rows):
        if any(cell is not None and _norm(cell) == "code commune insee" for cell in row):
            columns: dict[str, int] = {}
            for pos, cell in enumerate(row):
                if cell is None:
                    continue
                label = _norm(cell)
                key = next((k for k, lab in _LABELS if label == lab), None)
                if key is None:
                    key = next((k for k, pre in _PREFIXES if label.startswith(pre)), None)
                if key is not None and key not in columns:
                    columns[key] = pos
            missing = [label for key, label in _REQUIRED.items() if key not in columns]
            if missing:
                raise DataError(
                    f"{file}, feuille « {sheet} », ligne {idx + 1} : colonne(s) absente(s) : "
                    + ", ".join(f"« {m} »" for m in missing)
                    + "."
                )
            return idx, columns
    raise DataError(
        f"{file}, feuille « {sheet} » : ligne d'en-tête introuvable (aucune cellule « Code commune INSEE » "
        f"dans les {HEADER_SCAN_ROWS} premières lignes)."
    )


class _NotNumber(Exception):
    pass


def _number(value) -> float:
    """A float, NaN when empty; raises _NotNumber for text that is no number."""
    if value is None:
        return math.nan
    if isinstance(value, bool):
        raise _NotNumber
    if isinstance(value, (int, float)):
        return float(value)
    text = (
        str(value)
        .strip()
        .replace("\u202f", "")
        .replace("\xa0", "")
        .replace(" ", "")
        .replace(",", ".")
    )
    if text in ("", "-", "nd", "NA", "n.d."):
        return math.nan
    try:
        number = float(text)
    except ValueError as exc:
        raise _NotNumber from exc
    if math.isinf(number):
        raise _NotNumber
    return number


def _pick_year(years: dict[int, str], year, file: str, sheetnames: list[str]) -> int:
    if not years:
        raise DataError(
            f"Aucune feuille « APL <année> » dans {file} "
            f"(feuilles présentes : {', '.join(sheetnames) or 'aucune'}) : ce n'est pas le classeur APL de la DREES."
        )
    if year is None:
        return max(years)
    try:
        year = int(year)
    except (TypeError, ValueError) as exc:
        raise DataError(
            f"Année APL invalide : « {year} » (attendu : une année, par exemple 2023)."
        ) from exc
    if year not in years:
        raise DataError(
            f"Pas de feuille « APL {year} » dans {file} : années disponibles "
            f"{', '.join(str(y) for y in sorted(years))}."
        )
    return year


class AplReport(Report):
    """An APL import: the year read, communes merged, codes unknown on either side."""

    JSON_MEMBERS = ("file", "rows", "errors", "seconds", "meta")

    def to_dict(self) -> dict:
        out = super().to_dict()
        if self.meta is not None:  # the --json output has always named the file twice in the meta
            out["meta"] = {**self.meta, "origin_file": self.meta.get("file", "")}
        return out

    def lines(self) -> list[str]:
        d = self.details
        lines = [
            f"APL {d['year']} (feuille « {d['sheet']} » de {self.file}) : "
            f"{integer(self.rows)} communes lues en {decimal(self.seconds, 1)} s.",
        ]
        for parent, count in (d.get("arrondissements_merged") or {}).items():
            lines.append(
                f"Commune {parent} : APL calculé à partir de ses {count} arrondissements (pondéré par la "
                "population standardisée)."
            )
        absorbed = d.get("former_communes_merged") or {}
        if absorbed:
            lines.append(
                f"{sum(len(v) for v in absorbed.values())} anciennes communes regroupées dans {len(absorbed)} "
                "communes nouvelles (APL pondéré par la population standardisée) : "
                + ", ".join(
                    f"{new} ← {'+'.join(olds)}" for new, olds in list(absorbed.items())[:MAX_LISTED]
                )
            )
        if d.get("population_year"):
            lines.append(
                f"Population standardisée de {d['population_year']} (pondération des moyennes)."
            )
        if d.get("rows_without_apl"):
            lines.append(
                f"{integer(d['rows_without_apl'])} communes sans valeur d'APL dans le fichier."
            )
        if self.error_count:
            lines.append(f"{integer(self.error_count)} ligne(s) mal formée(s) ignorée(s) :")
            lines.extend(f"  {m}" for m in self.errors)
        unknown = d.get("communes_not_in_base", {})
        if unknown.get("count"):
            lines.append(
                f"{integer(unknown['count'])} communes du fichier absentes de la base communale (communes d'un "
                f"autre millésime, fusions) : {', '.join(unknown['codes'])}"
                f"{' …' if unknown['count'] > len(unknown['codes']) else ''}"
            )
        missing = d.get("base_communes_without_value", {})
        if missing.get("count"):
            lines.append(
                f"{integer(missing['count'])} communes de la base sans valeur d'APL (affichées « Pas de valeur ») : "
                f"{', '.join(missing['codes'])}{' …' if missing['count'] > len(missing['codes']) else ''}"
            )
        if d.get("missing_columns"):
            lines.append(
                "Colonnes facultatives absentes : " + ", ".join(d["missing_columns"]) + "."
            )
        return lines


def parse_apl(
    path,
    year: int | None = None,
    base_codes=None,
    name: str | None = None,
) -> tuple[pd.DataFrame, AplReport]:
    """Read one year of the DREES workbook: (frame of COLUMNS, report).

    ``name``: the user's name of the file (default its own). ``year`` defaults to the latest
    ``APL <year>`` sheet. ``base_codes`` (the INSEE codes of the commune base) defaults to the loaded
    commune base; it is used to report codes unknown on either side.
    """
    path = Path(path)
    file = name or path.name
    workbook = _open(path, file)
    try:
        years = _year_sheets(workbook)
        year = _pick_year(years, year, file, list(workbook.sheetnames))
        sheet = years[year]
        worksheet = workbook[sheet]
        worksheet.reset_dimensions()  # never pad rows to the (outside, maybe forged) declared dimensions
        rows = limit_rows(worksheet.iter_rows(values_only=True), file, "APL", sheet)
        head = []
        for row in rows:
            head.append(row)
            if len(head) >= HEADER_SCAN_ROWS:
                break
        header_idx, columns = _find_header(head, sheet, file)
        header_row = head[header_idx]
        std_label = str(header_row[columns["std_pop"]])
        data = _read_rows(head[header_idx + 1 :], rows, header_idx + 2, columns, sheet, file)
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - rows are parsed lazily: openpyxl fails here on a corrupt sheet
        raise xlsx_error(exc, file, "APL de la DREES") from exc
    finally:
        workbook.close()

    records, errors, bad, ignored = data
    total = len(records) + bad
    if not records:
        raise DataError(
            f"{file}, feuille « {sheet} » : aucune ligne de commune valide sous l'en-tête."
        )
    check_bad_rows(file, bad, total, errors, f", feuille « {sheet} »")
    frame = pd.DataFrame.from_records(
        records, columns=["insee", "apl", "apl_under65", "std_pop", "total_pop", "row"]
    )
    dup = frame[frame["insee"].duplicated(keep=False)]
    if not dup.empty:
        listed = [
            f"{code} (lignes {', '.join(str(r) for r in grp['row'])})"
            for code, grp in list(dup.groupby("insee", sort=True))[:MAX_LISTED]
        ]
        raise DataError(
            f"{file}, feuille « {sheet} » : {dup['insee'].nunique()} code(s) commune en double : "
            + " ; ".join(listed)
            + "."
        )
    frame = frame.drop(columns="row").sort_values("insee", ignore_index=True)
    frame["insee"] = frame["insee"].astype(str)
    for col in COLUMNS[1:]:
        frame[col] = frame[col].astype("float64")

    if base_codes is None:
        base_codes = load("communes")["insee"]
    base = set(map(str, base_codes))
    frame, merged = _merge_arrondissements(frame, base)
    frame, absorbed = _merge_former_communes(frame, base)
    with_value = set(frame.loc[frame["apl"].notna(), "insee"])
    not_in_base = sorted(set(frame["insee"]) - base)
    without_value = sorted(base - with_value)
    pop_year = re.search(r"(\d{4})", std_label)
    report = AplReport(
        file=file,
        rows=int(len(frame)),
        details={
            "sheet": sheet,
            "year": year,
            "available_years": sorted(years),
            "population_year": int(pop_year.group(1)) if pop_year else None,
            "rows_without_apl": int(frame["apl"].isna().sum()),
            "ignored_rows": ignored,
            "arrondissements_merged": merged,
            "former_communes_merged": absorbed,
            "communes_not_in_base": {"count": len(not_in_base), "codes": not_in_base[:MAX_LISTED]},
            "base_communes_without_value": {
                "count": len(without_value),
                "codes": without_value[:MAX_LISTED],
            },
            "missing_columns": [
                c for c in ("name", "apl_under65", "total_pop") if c not in columns
            ],
        },
    )
    report.skipped(errors, bad)
    return frame, report


def _merge_arrondissements(
    frame: pd.DataFrame, base: set[str]
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Add Paris, Lyon and Marseille as communes when the file only has their arrondissements.

    Their APL is the arrondissements' APL weighted by standardised population
    (``weighted_apl``); populations are summed. Arrondissement rows unknown to
    the commune base are then dropped (they are counted in the report).
    """
    merged: dict[str, int] = {}
    extra = []
    drop = pd.Series(False, index=frame.index)
    for parent, mask in arrondissements_of(frame["insee"]).items():
        if parent not in base or parent in set(frame["insee"]):
            continue
        if not mask.any():
            continue
        part = frame[mask]
        under65 = weighted_apl(part.assign(apl=part["apl_under65"]))
        extra.append(
            {
                "insee": parent,
                "apl": weighted_apl(part),
                "apl_under65": under65,
                "std_pop": float(part["std_pop"].sum(min_count=1)),
                "total_pop": float(part["total_pop"].sum(min_count=1)),
            }
        )
        merged[parent] = int(mask.sum())
        drop |= mask & ~frame["insee"].isin(base)
    if not extra:
        return frame, merged
    out = pd.concat([frame[~drop], pd.DataFrame(extra)], ignore_index=True)
    for col in COLUMNS[1:]:
        out[col] = out[col].astype("float64")
    return out.sort_values("insee", ignore_index=True), merged


def _former_codes(base: set[str]) -> dict[str, str]:
    """Former commune code -> current commune of the base, from the population layer (if imported)."""
    layer = store.read_layer("population")
    if layer is None or "former" not in layer.columns:
        return {}
    mapping = {}
    for code, former in zip(layer["insee"], layer["former"]):
        if former and code in base:
            for old in str(former).split(","):
                if old and old not in base:
                    mapping[old] = code
    return mapping


def _merge_former_communes(
    frame: pd.DataFrame, base: set[str]
) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Fold communes merged since the APL vintage into their commune nouvelle of the base.

    Only when the population layer (decoupage-administratif) lists former
    codes. The new commune's APL is the weighted APL of its parts (DREES
    rule); populations are summed.
    """
    mapping = _former_codes(base)
    present = set(frame["insee"])
    moved = {old: new for old, new in mapping.items() if old in present}
    if not moved:
        return frame, {}
    target = frame["insee"].replace(moved)
    groups = frame.assign(_target=target)
    touched = set(moved.values())
    part = groups[groups["_target"].isin(touched)]
    rows = []
    for code, grp in part.groupby("_target", sort=True):
        rows.append(
            {
                "insee": code,
                "apl": weighted_apl(grp),
                "apl_under65": weighted_apl(grp.assign(apl=grp["apl_under65"])),
                "std_pop": float(grp["std_pop"].sum(min_count=1)),
                "total_pop": float(grp["total_pop"].sum(min_count=1)),
            }
        )
    out = pd.concat(
        [frame[~groups["_target"].isin(touched)], pd.DataFrame(rows)], ignore_index=True
    )
    for col in COLUMNS[1:]:
        out[col] = out[col].astype("float64")
    merged: dict[str, list[str]] = {}
    for old, new in sorted(moved.items()):
        merged.setdefault(new, []).append(old)
    return out.sort_values("insee", ignore_index=True), merged


def _read_rows(first_rows, rest, first_number, columns, sheet, file):
    """Parse the data rows: (records, error messages, bad row count, ignored row count)."""
    code_pos = columns["code"]
    value_pos = [(key, columns.get(key)) for key in ("apl", "apl_under65", "std_pop", "total_pop")]
    records, errors = [], []
    bad = ignored = 0

    def cell(row, pos):
        return row[pos] if pos is not None and pos < len(row) else None

    number = first_number
    for source in (first_rows, rest):
        for row in source:
            raw_code = cell(row, code_pos)
            raw_values = [(key, cell(row, pos)) for key, pos in value_pos]
            code = normalise_code(raw_code)
            if code is None:
                # A blank row, the units row under the header or a footnote: no code and no figure.
                numeric = [
                    v
                    for _, v in raw_values
                    if isinstance(v, (int, float)) and not isinstance(v, bool)
                ]
                if (raw_code is None or str(raw_code).strip() == "") and not numeric:
                    ignored += 1
                elif not numeric and not any(v not in (None, "") for _, v in raw_values):
                    ignored += 1  # a note written in the first column
                else:
                    bad += 1
                    errors.append(
                        f"feuille « {sheet} », ligne {number} : code commune « {raw_code} » mal formé"
                    )
                number += 1
                continue
            values = {}
            fault = None
            for key, value in raw_values:
                try:
                    values[key] = _number(value)
                except _NotNumber:
                    fault = (key, value)
                    break
            if fault is None and (values["apl"] < 0 or values["std_pop"] < 0):
                fault = (
                    "apl" if values["apl"] < 0 else "std_pop",
                    values["apl"] if values["apl"] < 0 else values["std_pop"],
                )
            if fault is not None:
                bad += 1
                label = {
                    "apl": "APL",
                    "apl_under65": "APL des moins de 65 ans",
                    "std_pop": "population standardisée",
                    "total_pop": "population totale",
                }[fault[0]]
                errors.append(
                    f"feuille « {sheet} », ligne {number} (commune {code}) : {label} non numérique « {fault[1]} »"
                )
            else:
                records.append(
                    (
                        code,
                        values["apl"],
                        values["apl_under65"],
                        values["std_pop"],
                        values["total_pop"],
                        number,
                    )
                )
            number += 1
    return records, errors, bad, ignored


# --------------------------------------------------------------------------- import


def _provenance(frame: pd.DataFrame, report: AplReport) -> dict:
    entry = sources().get(LAYER, {})
    d = report.details
    return {
        "source": entry.get("publisher", "DREES"),
        "publisher": entry.get("publisher", "DREES"),
        "title": entry.get("title", "APL aux médecins généralistes"),
        "url": entry.get("url", ""),
        "vintage": f"APL {d['year']}",
        "year": int(d["year"]),
        "population_year": d.get("population_year"),
        "licence": entry.get("licence", "Licence Ouverte / Open Licence"),
        "sheet": d["sheet"],
        "skipped_rows": report.error_count,
        "communes_not_in_base": d["communes_not_in_base"]["count"],
        "base_communes_without_value": d["base_communes_without_value"]["count"],
    }


SOURCE = Source(LAYER, "APL", parse_apl, _provenance)


def import_apl(
    path, year: int | None = None, progress=None, display_name: str | None = None
) -> AplReport:
    """Import one year of the DREES workbook into the ``apl`` layer; return the report.

    ``display_name``: the user's name of the file. ``progress(fraction, message)`` receives French
    messages. Nothing is written unless the whole sheet was read and checked.
    """
    return import_file(SOURCE, path, display_name=display_name, progress=progress, year=year)


# --------------------------------------------------------------------------- aggregation


def weighted_apl(frame: pd.DataFrame, by=None):
    """APL of a group of communes, weighted by the standardised population (DREES rule).

    ``frame`` has columns ``apl`` and ``std_pop``; rows missing either are
    left out. Without ``by``: a float, or None when no commune carries a
    weight. With ``by`` (a column name, list of names or an aligned Series,
    as for ``DataFrame.groupby``): a Series indexed by group, NaN for groups
    whose weight is zero.
    """
    apl = pd.to_numeric(frame["apl"], errors="coerce").astype("float64")
    std = pd.to_numeric(frame["std_pop"], errors="coerce").astype("float64")
    known = apl.notna() & std.notna()
    if by is None:
        weight = float(std[known].sum())
        if weight <= 0:
            return None
        return float((apl[known] * std[known]).sum() / weight)
    keys = by[known] if isinstance(by, pd.Series) else by
    sub = frame.loc[known].assign(_w=(apl * std)[known], _s=std[known])
    sums = sub.groupby(keys)[["_w", "_s"]].sum()
    result = sums["_w"] / sums["_s"].where(sums["_s"] > 0)
    result.name = "apl"
    return result.astype("float64")


def plain_mean(frame: pd.DataFrame) -> float | None:
    """Unweighted mean of the communes' APL (only for comparison: not the DREES aggregate)."""
    values = pd.to_numeric(frame["apl"], errors="coerce").dropna()
    return float(np.mean(values)) if len(values) else None
