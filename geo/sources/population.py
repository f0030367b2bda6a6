"""Current legal populations (populations légales en vigueur) of the communes.

The commune base carries the 2017 municipal populations; the ACI size
classes of a CPTS use the légal populations in force. ``update_population``
reads them either online from the API Découpage administratif
(geo.api.gouv.fr) or from a file in the format of Etalab's
``decoupage-administratif`` package (``communes.json``), and writes the
``population`` layer (insee, name, population, dep, reg, epci, former).

By default (``install_vendor_populations``, called by ``geo.base.communes.build_base``) the layer is
written from the ``communes.json`` of the COG package installed at set-up (``geo.base.cog``), labelled
« population légale 2023, en vigueur en 2026 »; populations a user imported are never replaced by it.
``population_summary()`` is what ``python -m geo data build`` reports about them.

``current_populations()`` gives the populations per commune of the base:
the current ones when the layer exists (a commune merged since 2017 into a
commune nouvelle gets a share of the new commune's population, in
proportion to its 2017 population, when the source lists the former codes),
else the base's 2017 populations.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd

from geo.base import cog
from geo.base.communes import POPULATION_VINTAGE, load
from geo.errors import DataError
from geo.formats.french import integer
from geo.sources.download import get_json
from geo.sources.limits import load_json, read_limited
from geo.sources.pipeline import Report, Source, import_file, progress_of, scaled
from geo.store import layers as store
from geo.store.catalogue import sources

LAYER = "population"
FIELDS = "code,nom,population,codeDepartement,codeRegion,codeEpci"
DEFAULT_URL = f"https://geo.api.gouv.fr/communes?fields={FIELDS}"
CODE_PATTERN = re.compile(r"^(\d{5}|2[AB]\d{3})$")
KEEP_TYPES = {"commune-actuelle"}
MAX_LISTED = 20
COLUMNS = ["insee", "name", "population", "dep", "reg", "epci", "former"]
MAX_POPULATION = (
    100_000_000  # far above any commune: beyond it a figure is an error (and overflows int64 later)
)


def _is_url(source) -> bool:
    return isinstance(source, str) and source.lower().startswith(("http://", "https://"))


# --------------------------------------------------------------------------- reading


def _entries(document, origin: str) -> tuple[list, object]:
    """The list of commune entries of a document, and the vintage it declares (or None)."""
    vintage = None
    if isinstance(document, dict):
        for key in ("millesime", "vintage", "annee", "year"):
            if document.get(key) not in (None, ""):
                vintage = document[key]
                break
        if isinstance(document.get("features"), list):  # GeoJSON answer of the API (format=geojson)
            entries = [
                f.get("properties") if isinstance(f, dict) else f for f in document["features"]
            ]
            return entries, vintage
        for key in ("communes", "data"):
            if isinstance(document.get(key), list):
                return document[key], vintage
        raise DataError(
            f"{origin} : forme inattendue (un objet JSON sans liste « communes ») ; attendu : une liste de "
            "communes au format decoupage-administratif (code, nom, population...)."
        )
    if not isinstance(document, list):
        raise DataError(
            f"{origin} : forme inattendue ({type(document).__name__}) ; attendu : une liste de communes "
            "au format decoupage-administratif (code, nom, population...)."
        )
    return document, vintage


def _text(value, origin: str = "", idx: int = 0, field: str = "") -> str | None:
    """A text field of an entry: a string or a number, else DataError naming the entry and field."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise DataError(
            f"{origin}, entrée n° {idx} : champ « {field} » invalide ({type(value).__name__}, "
            "texte attendu)."
        )
    text = str(value).strip()
    return text or None


def parse_communes(
    document, origin: str, epci_of: dict[str, str] | None = None
) -> tuple[pd.DataFrame, dict]:
    """Commune entries -> (frame of COLUMNS, notes). French DataError naming ``origin`` and the entry."""
    entries, declared = _entries(document, origin)
    if not entries:
        raise DataError(f"{origin} : aucune commune dans le document.")
    rows, seen = [], {}
    skipped_types: dict[str, int] = {}
    without_population: list[str] = []
    for idx, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise DataError(
                f"{origin}, entrée n° {idx} : un objet JSON était attendu, trouvé {type(entry).__name__}."
            )
        kind = entry.get("type")
        if kind is not None and not isinstance(kind, str):
            raise DataError(
                f"{origin}, entrée n° {idx} : champ « type » invalide ({type(kind).__name__}, texte attendu)."
            )
        if kind is not None and kind not in KEEP_TYPES:
            skipped_types[str(kind)] = skipped_types.get(str(kind), 0) + 1
            continue
        raw_code = entry.get("code")
        if raw_code in (None, ""):
            raise DataError(
                f"{origin}, entrée n° {idx} : champ « code » absent (code INSEE de la commune)."
            )
        if isinstance(raw_code, bool) or not isinstance(raw_code, (str, int)):
            raise DataError(
                f"{origin}, entrée n° {idx} : champ « code » invalide ({type(raw_code).__name__}, "
                "code INSEE attendu)."
            )
        code = str(raw_code).strip().upper()
        if not CODE_PATTERN.match(code):
            raise DataError(
                f"{origin}, entrée n° {idx} : code commune « {raw_code} » mal formé (5 caractères attendus)."
            )
        if code in seen:
            raise DataError(
                f"{origin}, entrées n° {seen[code]} et {idx} : code commune {code} en double."
            )
        seen[code] = idx
        pop = entry.get("population")
        if pop is None:
            without_population.append(code)
            continue
        if (
            isinstance(pop, bool)
            or not isinstance(pop, (int, float))
            or pop != pop
            or not 0 <= pop <= MAX_POPULATION
            or int(pop) != pop
        ):
            raise DataError(
                f"{origin}, entrée n° {idx} (commune {code}) : population « {pop} » invalide (entier positif attendu)."
            )
        dep = _text(
            entry.get("codeDepartement", entry.get("departement")), origin, idx, "codeDepartement"
        )
        reg = _text(entry.get("codeRegion", entry.get("region")), origin, idx, "codeRegion")
        epci = _text(entry.get("codeEpci"), origin, idx, "codeEpci") or (epci_of or {}).get(code)
        former = entry.get("anciensCodes") or []
        if not isinstance(former, list):
            former = []
        former = [_text(c, origin, idx, "anciensCodes") for c in former]
        rows.append(
            {
                "insee": code,
                "name": _text(entry.get("nom"), origin, idx, "nom") or "",
                "population": int(pop),
                "dep": dep,
                "reg": reg,
                "epci": epci,
                "former": ",".join(c.upper() for c in former if c),
            }
        )
    if not rows:
        raise DataError(
            f"{origin} : aucune commune actuelle avec une population "
            f"({len(entries)} entrées, types écartés : {', '.join(sorted(skipped_types)) or 'aucun'})."
        )
    frame = pd.DataFrame(rows, columns=COLUMNS).sort_values("insee", ignore_index=True)
    frame["population"] = frame["population"].astype("int64")
    for col in ("insee", "name", "dep", "reg", "epci", "former"):
        frame[col] = frame[col].astype(object)
    notes = {
        "declared_vintage": declared,
        "skipped_types": skipped_types,
        "without_population": without_population,
    }
    return frame, notes


def _read_file(path: Path, name: str):
    """The JSON document of a communes.json file: size-capped read, strict JSON (geo.sources.limits)."""
    data = read_limited(path, "communes.json", name)
    if not data.strip():
        raise DataError(
            f"Le fichier {name} est vide : attendu un fichier communes.json (format "
            "decoupage-administratif)."
        )
    return load_json(data, name, "JSON")


def _sibling_epci(path: Path) -> dict[str, str]:
    """commune -> EPCI code from an ``epci.json`` beside ``communes.json`` (same package), if any.

    The file is optional: when it is absent, too large, not JSON or not shaped as
    ``[{"code": ..., "membres": [{"code": ...}, ...]}, ...]``, communes simply have no EPCI.
    """
    sibling = path.with_name("epci.json")
    if not sibling.is_file():
        return {}
    try:
        groups = load_json(read_limited(sibling, "epci.json"), sibling.name, "epci.json")
    except DataError:
        return {}
    out: dict[str, str] = {}
    if not isinstance(groups, list):
        return {}
    for group in groups:
        if (
            not isinstance(group, dict)
            or not isinstance(group.get("code"), (str, int))
            or isinstance(group.get("code"), bool)
        ):
            continue
        members = group.get("membres")
        for member in members if isinstance(members, list) else []:
            if (
                isinstance(member, dict)
                and isinstance(member.get("code"), (str, int))
                and not isinstance(member.get("code"), bool)
            ):
                out[str(member["code"])] = str(group["code"])
    return out


def _catalogue_vintage():
    text = str(sources().get(LAYER, {}).get("vintage", ""))
    match = re.fullmatch(r"\s*(\d{4})\s*", text)
    return int(match.group(1)) if match else None


def _vintage(value, origin: str):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise DataError(
            f"{origin} : millésime « {str(value)[:40]} » invalide (une année est attendue, "
            "par exemple 2026)."
        )
    text = str(value).strip()
    if re.fullmatch(r"\d{4}", text):
        year = int(text)
        if not 1990 <= year <= 2100:
            raise DataError(f"{origin} : millésime {year} invraisemblable.")
        return year
    if not text:
        return None
    return text


# --------------------------------------------------------------------------- import


def _api_url(source: str | None) -> tuple[str, dict | None]:
    url = source or DEFAULT_URL
    parts = urlsplit(url)
    if parts.path in ("", "/"):
        url = url.rstrip("/") + "/communes"
    params = None if "?" in url else {"fields": FIELDS}
    return url, params


def base_comparison(frame: pd.DataFrame, base_codes) -> dict:
    """Communes of one side missing on the other (mergers and creations since the base's vintage)."""
    current = set(frame["insee"])
    base = set(map(str, base_codes))
    not_in_base = sorted(current - base)
    missing = sorted(base - current)
    absorbed = set()
    for former in frame["former"]:
        if former:
            absorbed.update(former.split(","))
    absorbed &= set(missing)
    return {
        "communes_not_in_base": {"count": len(not_in_base), "codes": not_in_base[:MAX_LISTED]},
        "base_communes_missing": {"count": len(missing), "codes": missing[:MAX_LISTED]},
        "base_communes_merged": len(absorbed),
    }


class PopulationReport(Report):
    """A population update: the communes read, their vintage, and how they match the commune base."""

    JSON_MEMBERS = ("rows", "seconds", "meta")

    def lines(self) -> list[str]:
        d = self.details
        lines = [
            (
                f"Populations légales en vigueur en {d['vintage']}"
                if isinstance(d["vintage"], int)
                else f"Populations légales ({d['vintage']})"
            )
            + (
                " (millésime supposé : année de la mise à jour)"
                if d.get("vintage_inferred")
                else ""
            )
            + f" : {integer(self.rows)} communes, {integer(d['total_population'])} habitants, depuis {d['origin']}.",
        ]
        if d.get("skipped_types"):
            lines.append(
                "Entrées écartées (pas des communes actuelles) : "
                + ", ".join(f"{integer(n)} {k}" for k, n in sorted(d["skipped_types"].items()))
                + "."
            )
        wp = d.get("without_population", {})
        if wp.get("count"):
            lines.append(
                f"{integer(wp['count'])} communes sans population ignorées : {', '.join(wp['codes'])}."
            )
        for key, text in (
            (
                "communes_not_in_base",
                "communes actuelles absentes de la base communale (créées depuis, ou "
                "collectivités d'outre-mer hors de la base)",
            ),
            (
                "base_communes_missing",
                "communes de la base absentes de la liste actuelle (fusionnées depuis)",
            ),
        ):
            part = d.get(key, {})
            if part.get("count"):
                more = " …" if part["count"] > len(part["codes"]) else ""
                lines.append(f"{integer(part['count'])} {text} : {', '.join(part['codes'])}{more}")
        if d.get("base_communes_merged"):
            lines.append(
                f"{integer(d['base_communes_merged'])} anciennes communes reçoivent une part de la population de "
                "leur commune nouvelle, au prorata de leur population 2017."
            )
        missing = d.get("base_communes_missing", {}).get("count", 0) - d.get(
            "base_communes_merged", 0
        )
        if missing > 0:
            lines.append(
                f"{integer(missing)} communes de la base gardent leur population 2017 faute de "
                "correspondance."
            )
        return lines


def parse_population(
    path, name: str | None = None, vintage=None, document=None
) -> tuple[pd.DataFrame, PopulationReport]:
    """Read and check the légal populations: (frame of COLUMNS, report). Nothing is written.

    From the ``communes.json`` file ``path`` (an ``epci.json`` beside it gives the EPCI), or from a
    ``document`` already fetched from the API (``path`` None, ``name`` its URL). ``vintage``: the year
    of the populations in force; read from the document when it declares it, else from the catalogue;
    online it defaults to the current year (the API serves the populations in force today); for a file
    without one a DataError asks for it.
    """
    online = document is not None
    if online:
        origin, epci_of = name, {}
    else:
        path = Path(path)
        origin = name or path.name
        document = _read_file(path, origin)
        epci_of = _sibling_epci(path)
    frame, notes = parse_communes(document, origin, epci_of)

    chosen = (
        _vintage(vintage, origin)
        or _vintage(notes["declared_vintage"], origin)
        or _catalogue_vintage()
    )
    inferred = False
    if chosen is None:
        if not online:
            raise DataError(
                f"{origin} : le millésime des populations n'est pas indiqué dans le fichier ; précisez-le "
                "(par exemple --vintage 2026 pour decoupage-administratif 6.0.0, COG 2026)."
            )
        chosen, inferred = date.today().year, True
    report = PopulationReport(
        file="" if online else origin,
        rows=int(len(frame)),
        details={
            "origin": origin,
            "online": online,
            "vintage": chosen,
            "vintage_inferred": inferred,
            "total_population": int(frame["population"].sum()),
            "skipped_types": notes["skipped_types"],
            "without_population": {
                "count": len(notes["without_population"]),
                "codes": notes["without_population"][:MAX_LISTED],
            },
            **base_comparison(frame, load("communes")["insee"]),
        },
    )
    return frame, report


def _provenance(frame: pd.DataFrame, report: PopulationReport) -> dict:
    entry = sources().get(LAYER, {})
    d = report.details
    return {
        "source": entry.get("publisher", "INSEE"),
        "title": entry.get("title", "Populations légales en vigueur"),
        "url": entry.get("url", ""),
        "vintage": d["vintage"],
        "vintage_inferred": d["vintage_inferred"],
        "licence": entry.get("licence", "Licence Ouverte / Open Licence"),
        "origin": d["origin"],
        "communes_not_in_base": d["communes_not_in_base"]["count"],
        "base_communes_missing": d["base_communes_missing"]["count"],
    }


SOURCE = Source(LAYER, "des populations", parse_population, _provenance)


def update_population(
    source=None, progress=None, vintage=None, display_name: str | None = None
) -> PopulationReport:
    """Read the légal populations in force and write the ``population`` layer; return the report.

    ``source``: None (the geo.api.gouv.fr API), a URL (API or a local server in tests) or a path to a
    ``communes.json`` file (``display_name``: the user's name of it). ``vintage``: see
    :func:`parse_population`. Online, the answer is fetched first, then goes through the same import
    pipeline as a file. Nothing is written unless the whole document was read and checked.
    """
    if source is None or _is_url(source):
        say = progress_of(progress)
        url, params = _api_url(source)
        say(0.05, f"Interrogation de {url}…")
        document = get_json(
            url, params=params, timeout=60, deadline=5 * 60
        )  # size-capped, strict JSON
        return import_file(
            SOURCE,
            None,
            display_name=url,
            progress=scaled(say, 0.3, 1.0),
            vintage=vintage,
            document=document,
        )
    return import_file(
        SOURCE, source, display_name=display_name, progress=progress, vintage=vintage
    )


# --------------------------------------------------------------------------- reading the layer


def population_vintage() -> int | str:
    """Vintage of the populations in use: the layer's, else the base's (2017)."""
    meta = store.read_meta(LAYER)
    if meta is None or store.read_layer(LAYER) is None:
        return POPULATION_VINTAGE
    return meta.get("vintage") or POPULATION_VINTAGE


def _apportion(total: int, weights: list[float]) -> list[int]:
    """Split an integer total in proportion to weights (largest remainders; equal split without weight)."""
    if sum(weights) <= 0:
        weights = [1.0] * len(weights)
    scale = sum(weights)
    exact = [total * w / scale for w in weights]
    out = [int(x) for x in exact]
    order = sorted(range(len(exact)), key=lambda i: exact[i] - out[i], reverse=True)
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


def current_populations() -> tuple[pd.Series, int | str]:
    """(populations indexed by INSEE code, vintage).

    Without a population layer: the commune base's 2017 populations.
    With it: the current populations; a base commune merged into a commune
    nouvelle (listed among its former codes) gets a share of the new
    commune's population in proportion to 2017 populations, so that sums
    over territories count everyone once. Other base communes missing from
    the layer are absent from the series (callers fall back to 2017).
    """
    base = load("communes")
    base_pop = pd.Series(
        base["population"].to_numpy(), index=pd.Index(base["insee"].to_numpy(), name="insee")
    )
    frame = store.read_layer(LAYER)
    meta = store.read_meta(LAYER)
    if frame is None or meta is None:
        return base_pop.rename("population"), POPULATION_VINTAGE
    current = dict(zip(frame["insee"], frame["population"].astype("int64")))
    pop2017 = base_pop.fillna(0).astype(float).to_dict()
    if "former" in frame.columns:
        for code, pop, former in zip(frame["insee"], frame["population"], frame["former"]):
            if not former:
                continue
            absorbed = [
                c for c in former.split(",") if c in pop2017 and c not in current and c != code
            ]
            if not absorbed:
                continue
            members = ([code] if code in pop2017 else []) + absorbed
            shares = _apportion(int(pop), [pop2017[c] for c in members])
            for member, share in zip(members, shares):
                current[member] = share
    series = pd.Series(current, dtype="int64", name="population")
    series.index.name = "insee"
    return series.sort_index(), meta.get("vintage") or POPULATION_VINTAGE


def populations_in_use(codes, fallback) -> tuple[pd.Series, int | str]:
    """(population of each code, vintage): the current populations, else ``fallback``
    (the base's, aligned with ``codes``).

    The one rule by which every figure of the app picks its populations.
    """
    series, vintage = current_populations()
    current = series.reindex(pd.Index(codes))
    return current.fillna(pd.Series(list(fallback), index=current.index)), vintage


# --------------------------------------------------------------------------- the default: the installed COG


def _is_vendor_layer(meta: dict | None) -> bool:
    return bool(meta) and str(meta.get("source_version", "")).startswith(cog.PACKAGE)


def install_vendor_populations(force: bool = False, progress=None) -> PopulationReport | None:
    """Write the ``population`` layer from the installed ``@etalab/decoupage-administratif``.

    Done when the package is installed and the layer is missing, unreadable, or came from another
    version of the package (``force``: also when it is the same version). Populations the user
    imported (online or from a file) are kept. Returns the import report, or None when nothing
    was written.
    """
    path, version = cog.vendor_file(), cog.vendor_version()
    if path is None or version is None:
        return None
    meta = store.read_meta(LAYER)
    present = meta is not None and store.read_layer(LAYER) is not None
    if present and not _is_vendor_layer(meta):
        return None
    if present and meta.get("source_version") == cog.source_stamp(version) and not force:
        return None
    return import_file(
        SOURCE,
        path,
        display_name=f"communes.json ({cog.source_stamp(version)})",
        progress=progress,
        vintage=cog.population_label(version),
        meta={
            "source": f"Etalab / DINUM, paquet npm {cog.source_stamp(version)} (INSEE : COG et "
            "populations légales)",
            "title": "Populations légales en vigueur (installées avec l'application)",
            "url": cog.NPM_URL,
            "licence": "Licence Ouverte / Open Licence (données) ; paquet sous licence MIT",
            "source_version": cog.source_stamp(version),
            "cog_year": cog.cog_year(version),
        },
    )


def _listed(codes: list[str]) -> dict:
    return {"count": len(codes), "codes": list(codes)}


def population_summary(imported: PopulationReport | None = None) -> dict:
    """What ``python -m geo data build`` says about populations and codes (JSON-ready).

    ``vintage``: the populations in use; ``without_current_population``: base communes with no
    current figure (their 2017 one is used, or none); ``cog``: the codes that differ between the
    commune base and the installed COG (``not_in_base``, ``not_current`` with ``merged_into``).
    """
    base = load("communes")
    series, vintage = current_populations()
    meta = store.read_meta(LAYER) if store.read_layer(LAYER) is not None else None
    without = sorted(set(base["insee"]) - set(series.dropna().index)) if meta else []
    without_2017 = sorted(base.loc[base["population"].isna(), "insee"])
    out = {
        "vintage": vintage,
        "source": (meta or {}).get("source") or sources().get("communes", {}).get("publisher"),
        "imported": imported is not None,
        "user_layer": bool(meta) and not _is_vendor_layer(meta),
        "package": cog.source_stamp() if cog.vendor_version() else None,
        "without_current_population": _listed(without),
        "without_population": _listed(
            sorted(set(without) & set(without_2017)) if meta else without_2017
        ),
    }
    if cog.vendor_version():
        diff = cog.base_differences(base["insee"])
        out["cog"] = {
            "year": cog.cog_year(),
            "base_cog_year": cog.base_cog_year(base["insee"]),
            "not_in_base": _listed(diff["not_in_base"]),
            "not_current": _listed(diff["not_current"]),
            "merged_into": diff["merged_into"],
        }
    return out


def vintage_text(vintage) -> str:
    """A population vintage in words: « population 2017 », « population légale 2023, en vigueur en 2026 »."""
    text = str(vintage)
    return text if text.startswith("population") else f"population {text}"


def vintage_heading(vintage) -> str:
    """:func:`vintage_text` as a heading: « Population 2017 », « Population légale 2023, en vigueur en 2026 »."""
    text = vintage_text(vintage)
    return text[:1].upper() + text[1:]
