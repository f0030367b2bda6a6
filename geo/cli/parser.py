"""The command line: ``python -m geo ...`` (French messages, no tracebacks)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from geo.base.communes import build_base, cog_mapping
from geo.cli import apl, coverage, cpts, db, disputes, finess, population, report, team, typology
from geo.cli.output import print_json, progress
from geo.errors import DataError
from geo.store.catalogue import sources, status
from geo.store.layers import write_bytes_atomic
from geo.store.scenarios import ScenarioStore
from geo.territory.context import context
from geo.territory.diagnostics import assess, split_codes
from geo.territory.export import geojson_bytes, read_export_file, to_csv, to_geojson

# Modules adding their own commands: each defines
# ``add_commands(sub, update_sub, import_sub)`` where ``sub`` holds the
# top-level commands, ``update_sub`` the ``data update ...`` ones and
# ``import_sub`` the ``import ...`` ones.
EXTENSIONS = (apl, coverage, cpts, db, disputes, finess, population, report, team, typology)


def cmd_data_build(args) -> int:
    report = build_base(force=args.force, progress=None if args.json else progress)
    if args.json:
        print_json(report.to_dict())
        return 0
    for line in report.lines():
        print(line)
    return 0


def cmd_data_status(args) -> int:
    layers = status()
    if args.json:
        print_json(layers)
    elif not layers:
        print("Aucune couche dans le cache : lancez « python -m geo data build ».")
    else:
        for layer in layers:
            print(
                f"{layer['layer']:<14} {layer['rows']:>7} lignes  {layer['vintage']}  "
                f"({layer['source']}, {layer['licence']}), {layer['built_at']}"
            )
    return 0


def cmd_data_sources(args) -> int:
    if args.json:
        print_json(sources())
    else:
        for name, src in sources().items():
            print(
                f"{name}: {src['title']}\n  éditeur : {src['publisher']}\n  millésime : {src['vintage']}\n"
                f"  licence : {src['licence']}\n  format : {src['format']}\n  adresse : {src['url'] or '—'}\n"
            )
    return 0


def _codes(text: str) -> list[str]:
    return [c.strip() for c in text.replace(";", ",").replace(" ", ",").split(",") if c.strip()]


def _territories_from_args(args) -> tuple[list[dict], str]:
    """Territories to export: ``--communes`` (one territory) or ``--scenario``."""
    if args.scenario:
        scen = ScenarioStore(cog=cog_mapping()).get(args.scenario)
        if scen.cog_report:
            print(scen.cog_report, file=sys.stderr)
        return [
            {"id": t.id, "name": t.name, "status": t.status, "communes": sorted(t.communes)}
            for t in scen.territories
        ], scen.name
    if not args.communes:
        raise DataError("Indiquez --communes CODE,CODE,... ou --scenario NOM.")
    known, unknown = split_codes(_codes(args.communes), context())
    if unknown:
        raise DataError(f"Codes INSEE inconnus ou mal formés : {', '.join(unknown[:20])}.")
    return [{"name": args.name or "Territoire", "communes": known}], ""


def cmd_assess(args) -> int:
    codes = _codes(args.communes)
    if not codes:
        raise DataError("Aucun code INSEE donné : --communes 09122,09225,...")
    result = assess(codes, context())
    if not result["commune_count"]:
        raise DataError(
            f"Aucun code INSEE connu parmi : {', '.join(result['unknown_codes'][:20])}."
        )
    result.pop("part_codes", None)
    if args.json:
        print_json(result)
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0


def write_output(path, data: bytes) -> None:
    """Write a file the command produces atomically (temporary file in the same folder, then renamed): a
    failure (full disk, size limit, kill) leaves the previous file as it was and no temporary file."""
    write_bytes_atomic(Path(path), data)  # DataError in French on any OS failure


def cmd_export(args) -> int:
    territories, scenario = _territories_from_args(args)
    if args.format == "csv":
        data = to_csv(territories)
    else:
        data = geojson_bytes(to_geojson(territories, context(), scenario=scenario))
    write_output(args.out, data)
    print(f"{len(territories)} territoire(s) exporté(s) dans {args.out} ({len(data)} octets).")
    return 0


def cmd_scenario_import(args) -> int:
    territories = read_export_file(args.path, known=context().population)
    for text in territories.warnings:
        print(f"Attention : {text}", file=sys.stderr)
    scen = ScenarioStore(cog=cog_mapping()).create_from(args.name, territories)
    print(f"Scénario « {scen.name} » créé avec {len(scen.territories)} territoire(s).")
    return 0


def cmd_scenario_list(args) -> int:
    names = ScenarioStore().names()
    if args.json:
        print_json(names)
    else:
        print("\n".join(names) or "Aucun scénario.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m geo", description="CartoCPTS en ligne de commande."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    data = sub.add_parser("data", help="Gérer les données (base communale, sources).")
    data_sub = data.add_subparsers(dest="data_command", required=True)
    build = data_sub.add_parser("build", help="Construire (ou réutiliser) la base communale.")
    build.add_argument("--force", action="store_true", help="Reconstruire même si elle est à jour.")
    build.add_argument("--json", action="store_true", help="Sortie JSON.")
    build.set_defaults(func=cmd_data_build)
    status = data_sub.add_parser("status", help="Lister les couches présentes et leur provenance.")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_data_status)
    srcs = data_sub.add_parser("sources", help="Afficher le catalogue des sources.")
    srcs.add_argument("--json", action="store_true")
    srcs.set_defaults(func=cmd_data_sources)

    assess = sub.add_parser("assess", help="Diagnostic d'un ensemble de communes.")
    assess.add_argument("--communes", required=True, help="Codes INSEE séparés par des virgules.")
    assess.add_argument("--json", action="store_true")
    assess.set_defaults(func=cmd_assess)

    export = sub.add_parser(
        "export", help="Exporter un territoire ou un scénario (GeoJSON ou CSV)."
    )
    export.add_argument("--communes", help="Codes INSEE séparés par des virgules.")
    export.add_argument("--name", help="Nom du territoire (avec --communes).")
    export.add_argument("--scenario", help="Exporter tous les territoires de ce scénario.")
    export.add_argument("--out", required=True, help="Fichier à écrire.")
    export.add_argument("--format", choices=["geojson", "csv"], default="geojson")
    export.set_defaults(func=cmd_export)

    scenario = sub.add_parser("scenario", help="Scénarios enregistrés.")
    scen_sub = scenario.add_subparsers(dest="scenario_command", required=True)
    scen_list = scen_sub.add_parser("list", help="Lister les scénarios.")
    scen_list.add_argument("--json", action="store_true")
    scen_list.set_defaults(func=cmd_scenario_list)
    scen_import = scen_sub.add_parser(
        "import", help="Créer un scénario depuis un export GeoJSON ou CSV."
    )
    scen_import.add_argument("path")
    scen_import.add_argument("--name", required=True)
    scen_import.set_defaults(func=cmd_scenario_import)
    team.add_scenario_commands(scen_sub)

    update = data_sub.add_parser(
        "update", help="Mettre à jour une couche depuis sa source officielle (en ligne)."
    )
    update_sub = update.add_subparsers(dest="update_command", required=True)
    imports = sub.add_parser(
        "import", help="Importer un fichier dans une couche (FINESS, APL, typologie, CPTS)."
    )
    import_sub = imports.add_subparsers(dest="import_command", required=True)
    for module in EXTENSIONS:
        module.add_commands(sub, update_sub, import_sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING)
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except DataError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Interrompu.", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - no traceback for users
        logging.getLogger("cartocpts").debug("unexpected", exc_info=True)
        print(f"Erreur inattendue ({type(exc).__name__}) : {exc}", file=sys.stderr)
        return 1
