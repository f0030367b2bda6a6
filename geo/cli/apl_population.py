"""Command-line commands for the DREES APL and the current legal populations.

Registered through ``geo.cli.EXTENSIONS``:

    python -m geo import apl FICHIER [--year 2023] [--json]
    python -m geo import population FICHIER [--vintage 2026] [--json]
    python -m geo data update population [--url URL] [--vintage 2026] [--json]
"""

from __future__ import annotations

from geo.cli.output import print_report, progress
from geo.errors import DataError


def _year(text) -> int | None:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError as exc:
        raise DataError(f"Année invalide : « {text} » (attendu : une année, par exemple 2023).") from exc


def cmd_import_apl(args) -> int:
    from geo.sources.apl import describe_apl_report, import_apl

    report = import_apl(args.path, year=_year(args.year), progress=None if args.json else progress)
    print_report(report, describe_apl_report(report), args.json)
    return 0


def cmd_import_population(args) -> int:
    from geo.sources.population import describe_population_report, update_population

    report = update_population(args.path, progress=None if args.json else progress, vintage=args.vintage)
    print_report(report, describe_population_report(report), args.json)
    return 0


def cmd_update_population(args) -> int:
    from geo.sources.population import describe_population_report, update_population

    report = update_population(args.url, progress=None if args.json else progress, vintage=args.vintage)
    print_report(report, describe_population_report(report), args.json)
    return 0


def add_commands(sub, update_sub, import_sub) -> None:
    """Add ``import apl``, ``import population`` and ``data update population``."""
    apl = import_sub.add_parser("apl", help="Importer le classeur APL de la DREES (médecins généralistes).")
    apl.add_argument("path", help="Classeur XLSX de la DREES (feuilles « APL 2022 », « APL 2023 »...).")
    apl.add_argument("--year", help="Année à importer (par défaut la plus récente du classeur).")
    apl.add_argument("--json", action="store_true", help="Afficher le compte rendu en JSON.")
    apl.set_defaults(func=cmd_import_apl)

    pop = import_sub.add_parser("population", help="Importer les populations légales en vigueur (communes.json).")
    pop.add_argument("path", help="Fichier communes.json (format decoupage-administratif d'Etalab).")
    pop.add_argument("--vintage", help="Millésime des populations en vigueur (par exemple 2026).")
    pop.add_argument("--json", action="store_true", help="Afficher le compte rendu en JSON.")
    pop.set_defaults(func=cmd_import_population)

    upd = update_sub.add_parser("population", help="Mettre à jour les populations légales depuis geo.api.gouv.fr.")
    upd.add_argument("--url", help="Adresse de l'API (par défaut https://geo.api.gouv.fr/communes).")
    upd.add_argument("--vintage", help="Millésime des populations en vigueur (par défaut l'année en cours).")
    upd.add_argument("--json", action="store_true", help="Afficher le compte rendu en JSON.")
    upd.set_defaults(func=cmd_update_population)
