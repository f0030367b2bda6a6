"""What a dossier says, as pure data: every text and number already written for French readers.

``dossier_content`` returns a JSON-ready dict that the typst template (``template.typ``) prints as text,
never as markup: a name holding ``#``, ``[``, ``$``, ``<script>`` or ``{{`` reaches the PDF as those
characters. The maps are named here (``map-N.svg``) and drawn by :mod:`geo.report.map`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime

from geo.base.scope import parse_scope, scope_codes
from geo.formats import french
from geo.report.map import LEGEND
from geo.sources.apl import APL_BREAKS
from geo.sources.typology import class_labels
from geo.store.catalogue import status
from geo.store.dossiers import previous_dossier
from geo.store.layers import read_meta
from geo.store.scenarios import PALETTE, Scenario, ScenarioStore, Territory
from geo.territory.aci import aci_band
from geo.territory.context import Context
from geo.territory.diagnostics import Diagnostics, Tally, diagnose, reference_apl

KIND_LABELS = {"msp": "MSP", "centre_sante": "Centre de santé", "cpts_seat": "Siège de CPTS"}
LAYERS_USED = (
    "communes",
    "departements",
    "adjacency",
    "population",
    "finess",
    "apl",
    "typology",
    "cpts",
)
LAYER_LABELS = {
    "communes": "Communes (contours, populations de la base)",
    "departements": "Départements",
    "regions": "Régions",
    "adjacency": "Contiguïté des communes",
    "population": "Populations légales",
    "finess": "FINESS (MSP, centres de santé, sièges de CPTS)",
    "apl": "APL aux médecins généralistes (DREES)",
    "typology": "Typologie socio-sanitaire (Irdes)",
    "cpts": "Périmètres des CPTS existantes",
}
UNCOVERED_LISTED = 60  # uncovered communes named in a scenario's coverage check


def colour_of(terr: Territory) -> str:
    """The territory's colour when it is a #RRGGBB colour (the store checks it), else the first of the palette."""
    colour = str(terr.colour or "")
    return colour if re.fullmatch(r"#[0-9A-Fa-f]{6}", colour) else PALETTE[0]


def map_legend(colour: str, others: bool, ctx: Context) -> list[list[str]]:
    """The legend under a map: [kind, colour, label] (colours of the map module, the territory's own)."""
    kept = []
    for kind, col, label in LEGEND:
        if (
            (kind == "fill-light" and not others)
            or (kind == "dash" and not ctx.cpts_members)
            or (kind in ("triangle", "square") and not ctx.structures)
        ):
            continue
        kept.append([kind, col or colour, label])
    return kept


@dataclass(frozen=True)
class MapJob:
    """A map to draw: the file name the template reads, the territory and the scenario's others."""

    file: str
    codes: list[str]
    colour: str
    others: dict[str, tuple[str, set[str]]]


def _date(iso: str | None) -> str:
    """« 30/11/2026 à 14:05 » (Paris time) from an ISO stamp; the text itself if it is not one."""
    return french.date_time(iso, " à ")


def _name(ctx: Context, code: str) -> str:
    return str(ctx.communes.at[code, "name"]) if code in ctx.communes.index else code


def _named(ctx: Context, codes) -> list[str]:
    return [f"{_name(ctx, c)} ({c})" for c in codes]


def cog_year(scenario: Scenario | None = None) -> str:
    """The COG year of the communes: the scenario's when it remembers one, else the commune base's."""
    year = getattr(scenario, "cog_year", None) if scenario is not None else None
    meta = read_meta("communes") or {}
    year = year or meta.get("cog_year") or meta.get("cog")
    return str(year) if year else str(meta.get("source_version") or "base communale")


def vintages(ctx: Context) -> dict[str, str]:
    """The vintages of the data the dossier is made from (cover page)."""
    out = {"Populations": str(ctx.population_vintage)}
    labels = {
        "finess": "FINESS",
        "apl": "APL",
        "typology": "Typologie Irdes",
        "cpts": "CPTS existantes",
    }
    for key, label in labels.items():
        if key in ctx.vintages:
            out[label] = ctx.vintages[key] or "—"
    if ctx.apl_year:
        out["APL"] = f"{out.get('APL', '')} (année {ctx.apl_year})".strip()
    return out


def sources_table() -> list[list[str]]:
    """Source, vintage and licence of every layer present that a dossier uses."""
    rows = []
    for layer in status():
        if layer["layer"] in LAYERS_USED:
            rows.append(
                [
                    LAYER_LABELS.get(layer["layer"], layer["layer"]),
                    str(layer.get("source") or "—"),
                    str(layer.get("vintage") or "—"),
                    str(layer.get("licence") or "—"),
                ]
            )
    rows.append(
        [
            "Carte",
            "Dessinée par CartoCPTS (dessin vectoriel) à partir des contours de la base communale",
            "—",
            "—",
        ]
    )
    return rows


def area_names(ctx: Context) -> dict[str, dict[str, str]]:
    """Names of the départements (``dep``) and régions (``reg``) by code."""
    return {
        level: ctx.communes.drop_duplicates(level).set_index(level)[f"{level}_name"].to_dict()
        for level in ("dep", "reg")
    }


def scenario_diagnostics(
    scenario: Scenario, ctx: Context, chosen: set[int]
) -> dict[int, Diagnostics]:
    """Diagnostics of every territory (with the shape figures for the ``chosen`` ones, the overlaps with the
    others, the reference APL of their départements and régions computed once for all)."""
    tallies = {t.id: Tally.of(t.communes, ctx) for t in scenario.territories}
    names = {t.id: t.name for t in scenario.territories}
    out = {}
    for tid, tally in tallies.items():
        others = {names[o]: other.codes for o, other in tallies.items() if o != tid}
        out[tid] = diagnose(tally, ctx, others=others, with_geometry=tid in chosen)
    deps = sorted({c for d in out.values() for c in d.departements})
    regs = sorted({c for d in out.values() for c in d.regions})
    reference = reference_apl(ctx, deps, regs)
    for tid, d in out.items():
        keys = [f"dep:{c}" for c in d.departements] + [f"reg:{c}" for c in d.regions]
        out[tid] = replace(d, apl_reference={k: reference[k] for k in keys if k in reference})
    return out


def _apl_section(d: Diagnostics, codes, ctx: Context, names: dict) -> dict | None:
    if ctx.apl is None:
        return None
    refs = []
    for key, value in (d.apl_reference or {}).items():
        level, _, code = key.partition(":")
        what = "Département" if level == "dep" else "Région"
        refs.append(
            [f"{what} {code} {names[level].get(code, '')}".strip(), french.decimal(value, 3)]
        )
    labels = (
        [f"moins de {french.decimal(APL_BREAKS[0], 1)}"]
        + [
            f"{french.decimal(a, 1)} à {french.decimal(b, 1)}"
            for a, b in zip(APL_BREAKS, APL_BREAKS[1:])
        ]
        + [f"{french.decimal(APL_BREAKS[-1], 1)} et plus", "sans valeur"]
    )
    counts = [[0, 0] for _ in labels]
    for code in codes:
        value = ctx.apl.at[code, "apl"] if code in ctx.apl.index else None
        if value is None or value != value:
            slot = len(labels) - 1
        else:
            slot = sum(value >= b for b in APL_BREAKS)
        counts[slot][0] += 1
        counts[slot][1] += ctx.population.get(code, 0)
    return {
        "value": french.decimal(d.apl, 3),
        "year": str(d.apl_year or "—"),
        "refs": refs,
        "distribution": [
            [label, french.integer(n), french.integer(pop)]
            for label, (n, pop) in zip(labels, counts)
            if n
        ],
    }


def _irdes(d: Diagnostics, ctx: Context) -> list[list[str]] | None:
    if not d.irdes_mix:
        return None
    labels = (
        {}
        if ctx.nomenclature is None
        else {str(k): v for k, v in class_labels(ctx.nomenclature).items()}
    )
    return [
        [
            labels.get(k, "Non classé" if k == "non_classe" else f"Classe {k}"),
            f"{french.decimal(v * 100, 1)} %",
        ]
        for k, v in d.irdes_mix.items()
    ]


def _structures(codes, ctx: Context) -> list[list[str]]:
    rows = []
    for code in sorted(codes):
        for rec in ctx.structures.get(code, []):
            rows.append(
                [
                    KIND_LABELS.get(rec.get("kind"), str(rec.get("kind") or "")),
                    str(rec.get("name") or ""),
                    str(rec.get("nofinesset") or ""),
                    str(rec.get("address") or ""),
                    f"{_name(ctx, code)} ({code})",
                ]
            )
    order = list(KIND_LABELS.values())
    return sorted(rows, key=lambda r: (order.index(r[0]) if r[0] in order else 9, r[1]))


def _communes(codes, ctx: Context, cog: str) -> list[list[str]]:
    labels = (
        {}
        if ctx.nomenclature is None
        else {k: v for k, v in class_labels(ctx.nomenclature).items()}
    )
    vintage = str(ctx.population_vintage)
    rows = []
    for code in sorted(codes):
        apl = None
        if ctx.apl is not None and code in ctx.apl.index:
            apl = ctx.apl.at[code, "apl"]
        klass = ctx.typology.get(code)
        rows.append(
            [
                code,
                _name(ctx, code),
                french.integer(ctx.population.get(code, 0)),
                vintage,
                cog,
                "—" if klass is None else labels.get(klass, f"Classe {klass}"),
                french.decimal(apl, 2),
            ]
        )
    return rows


def _changes(
    store: ScenarioStore | None, scenario: Scenario, terr: Territory, history: list[dict] | None
) -> dict | None:
    """Communes added and removed since the last dossier of the territory, and the journal in between."""
    if store is None:
        return None
    prev = previous_dossier(store, scenario.id, terr.id)
    if prev is None:
        return None
    journal = [
        [
            _date(h["at"]),
            str(h["user"]),
            str(h["label"]),
            str(len(h["added"])),
            str(len(h["removed"])),
        ]
        for h in history or []
        if h["at"] > prev.at and terr.name in str(h["territory"]).split(", ")
    ]
    return {
        "since": _date(prev.at),
        "by": prev.user,
        "added": sorted(terr.communes - prev.communes),
        "removed": sorted(prev.communes - terr.communes),
        "journal": journal,
    }


def territory_section(
    terr: Territory,
    d: Diagnostics,
    ctx: Context,
    cog: str,
    map_file: str | None,
    changes: dict | None,
    names: dict[str, dict[str, str]],
    legend: list[list[str]] | None = None,
) -> dict:
    """Everything the dossier shows of one territory (``names``: :func:`area_names`)."""
    codes = sorted(terr.communes)
    band = aci_band(d.population)
    edge = d.aci_edge
    dep_names, reg_names = names["dep"], names["reg"]
    return {
        "name": terr.name,
        "status": terr.status,
        "map": map_file,
        "legend": legend,
        "figures": [
            ["Population", f"{french.integer(d.population)} hab."],
            ["Millésime des populations", str(d.population_vintage)],
            ["Taille ACI", band.label],
            ["Communes", french.integer(d.commune_count)],
            ["Superficie", f"{french.decimal(d.area_km2, 1)} km²"],
            ["Densité", f"{french.decimal(d.density, 1)} hab./km²"],
            ["MSP", french.integer(d.msp_count)],
            ["Centres de santé", french.integer(d.centres_sante_count)],
            ["Sièges de CPTS", french.integer(d.cpts_seats_count)],
            ["Compacité (Polsby-Popper)", french.decimal(d.polsby_popper, 3)],
        ],
        "aci": {
            "size": french.integer(d.aci_size),
            "to_upper": None
            if edge.to_upper is None
            else f"{french.integer(edge.to_upper)} hab. de plus → taille {french.integer(d.aci_size + 1)}",
            "to_lower": None
            if edge.to_lower is None
            else f"{french.integer(edge.to_lower)} hab. de moins → taille {french.integer(d.aci_size - 1)}",
            "sensitivity": [
                [
                    "Ajout" if s.action == "ajout" else "Retrait",
                    s.commune,
                    s.code_insee,
                    french.integer(s.population),
                    f"taille {french.integer(s.aci_size_after)}",
                ]
                for s in d.aci_sensitivity
            ],
        },
        "structures": _structures(codes, ctx),
        "finess_loaded": bool(ctx.structures),
        "apl": _apl_section(d, codes, ctx, names),
        "irdes": _irdes(d, ctx),
        "contiguity": (
            "Territoire vide."
            if not d.commune_count
            else "D'un seul tenant."
            if d.contiguous
            else f"En {french.integer(d.parts)} parties séparées."
        ),
        "parts": []
        if d.contiguous
        else [
            ", ".join(_named(ctx, part[:12])) + (" …" if len(part) > 12 else "")
            for part in d.part_codes
        ],
        "enclaves": _named(ctx, d.enclosed or []),
        "cpts_overlaps": [
            [
                o.cpts_nom,
                french.integer(len(o.communes)),
                french.integer(o.population),
                ", ".join(_named(ctx, o.communes[:15])),
            ]
            for o in d.overlaps
        ],
        "territory_overlaps": [
            [
                o.territory,
                french.integer(len(o.communes)),
                french.integer(o.population),
                ", ".join(_named(ctx, o.communes[:15])),
            ]
            for o in d.territory_overlaps
        ],
        "departements": [f"{c} {dep_names.get(c, '')}".strip() for c in d.departements],
        "regions": [f"{c} {reg_names.get(c, '')}".strip() for c in d.regions],
        "two_ars": d.multi_region,
        "communes": _communes(codes, ctx, cog),
        "changes": changes,
    }


def _summary(diags: dict[int, Diagnostics], scenario: Scenario) -> list[list[str]]:
    rows = []
    for terr in scenario.territories:
        d = diags[terr.id]
        rows.append(
            [
                terr.name,
                terr.status,
                french.integer(d.population),
                french.integer(d.aci_size),
                french.integer(d.commune_count),
                french.integer(d.msp_count),
                french.integer(d.centres_sante_count),
                french.decimal(d.apl, 2),
                "oui" if d.contiguous else f"non ({french.integer(d.parts)})",
                ", ".join(d.departements),
            ]
        )
    return rows


def _coverage(scenario: Scenario, ctx: Context, zone: tuple[str, list[str]] | None) -> dict | None:
    """Communes of the scenario's scope (or of ``zone``: label, codes) in none of its territories."""
    if zone is not None:
        label, inside = zone[0], sorted(zone[1])
    elif not scenario.scope:
        return None
    else:
        label = scenario.scope
        try:
            inside = scope_codes(parse_scope(scenario.scope), ctx)
        except Exception:  # noqa: BLE001 - an unreadable scope: no coverage check, said in the dossier
            return {"scope": scenario.scope, "error": "Périmètre du scénario illisible."}
    held = (
        set().union(*(t.communes for t in scenario.territories)) if scenario.territories else set()
    )
    uncovered = [c for c in inside if c not in held]
    pop_total = sum(ctx.population.get(c, 0) for c in inside)
    pop_out = sum(ctx.population.get(c, 0) for c in uncovered)
    return {
        "scope": label,
        "communes": french.integer(len(inside)),
        "uncovered": french.integer(len(uncovered)),
        "uncovered_population": french.integer(pop_out),
        "uncovered_share": f"{french.decimal(100 * pop_out / pop_total, 1)} %"
        if pop_total
        else "—",
        "listed": [
            [c, _name(ctx, c), french.integer(ctx.population.get(c, 0))]
            for c in sorted(uncovered, key=lambda c: (-ctx.population.get(c, 0), c))[
                :UNCOVERED_LISTED
            ]
        ],
        "more": max(0, len(uncovered) - UNCOVERED_LISTED),
    }


def dossier_content(
    scenario: Scenario,
    ctx: Context,
    territory_ids: list[int] | None = None,
    store: ScenarioStore | None = None,
    author: str = "",
    now: str | None = None,
    zone: tuple[str, list[str]] | None = None,
) -> tuple[dict, list[MapJob]]:
    """The dossier of ``scenario`` (only ``territory_ids`` when given): the data the template prints, and the
    maps to draw. ``store`` gives the previous dossiers and the change journal (none without it); the
    coverage check is made on the scenario's scope, or on ``zone`` (label, commune codes) when given."""
    chosen = [t for t in scenario.territories if territory_ids is None or t.id in territory_ids]
    diags = scenario_diagnostics(scenario, ctx, {t.id for t in chosen})
    names = area_names(ctx)
    cog = cog_year(scenario)
    history = store.history(scenario.name) if store is not None else None
    colours = {t.id: colour_of(t) for t in scenario.territories}
    sections, jobs = [], []
    for i, terr in enumerate(chosen, start=1):
        d = diags[terr.id]
        map_file = None
        if any(ctx.geometry.get(c) is not None for c in terr.communes):
            map_file = f"map-{i}.svg"
            others = {
                t.name: (colours[t.id], t.communes) for t in scenario.territories if t.id != terr.id
            }
            jobs.append(MapJob(map_file, sorted(terr.communes), colours[terr.id], others))
        sections.append(
            territory_section(
                terr,
                d,
                ctx,
                cog,
                map_file,
                _changes(store, scenario, terr, history),
                names,
                map_legend(colours[terr.id], len(scenario.territories) > 1, ctx),
            )
        )
    whole = territory_ids is None
    content = {
        "title": "Dossier de territoire CPTS" if len(chosen) == 1 else "Dossier de scénario CPTS",
        "scenario": scenario.name,
        "scope": scenario.scope or "—",
        "author": author or scenario.owner or "",
        "date": _date(now or datetime.now(french.PARIS).isoformat()),
        "statuses": sorted({t.status for t in chosen}),
        "territory_names": [t.name for t in chosen],
        "vintages": [[k, v] for k, v in vintages(ctx).items()],
        "cog": cog,
        "territories": sections,
        "summary": _summary(diags, scenario) if whole and len(scenario.territories) > 1 else None,
        "coverage": _coverage(scenario, ctx, zone) if whole else None,
        "sources": sources_table(),
    }
    return content, jobs
