"""Command-line commands for the current legal populations:

python -m geo import population FICHIER [--vintage 2026] [--json]
python -m geo data update population [--url URL] [--vintage 2026] [--json]
"""

from __future__ import annotations

from geo.cli.output import print_report, progress
from geo.sources.population import update_population


def cmd_import_population(args) -> int:
    report = update_population(
        args.path, progress=None if args.json else progress, vintage=args.vintage
    )
    print_report(report, args.json)
    return 0


def cmd_update_population(args) -> int:
    report = update_population(
        args.url, progress=None if args.json else progress, vintage=args.vintage
    )
    print_report(report, args.json)
    return 0


def add_commands(sub, update_sub, import_sub) -> None:
    """Add ``import population`` and ``data update population``."""
    pop = import_sub.add_parser(
        "population", help="Importer les populations légales en vigueur (communes.json)."
    )
    pop.add_argument(
        "path", help="Fichier communes.json (format decoupage-administratif d'Etalab)."
    )
    pop.add_argument("--vintage", help="Millésime des populations en vigueur (par exemple 2026).")
    pop.add_argument("--json", action="store_true", help="Afficher le compte rendu en JSON.")
    pop.set_defaults(func=cmd_import_population)

    upd = update_sub.add_parser(
        "population", help="Mettre à jour les populations légales depuis geo.api.gouv.fr."
    )
    upd.add_argument(
        "--url", help="Adresse de l'API (par défaut https://geo.api.gouv.fr/communes)."
    )
    upd.add_argument(
        "--vintage", help="Millésime des populations en vigueur (par défaut l'année en cours)."
    )
    upd.add_argument("--json", action="store_true", help="Afficher le compte rendu en JSON.")
    upd.set_defaults(func=cmd_update_population)
