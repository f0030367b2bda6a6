"""Command-line commands for the FINESS layer (MSP, centres de santé, CPTS seats):

python -m geo import finess FICHIER [--json]
python -m geo data update finess [--api URL] [--json]
"""

from __future__ import annotations

from geo.cli.output import print_report, progress
from geo.sources.finess import DEFAULT_API, import_finess, update_finess


def cmd_import_finess(args) -> int:
    print_report(import_finess(args.path, progress=None if args.json else progress), args.json)
    return 0


def cmd_update_finess(args) -> int:
    # Progress always goes to stderr, so stdout stays valid JSON with --json.
    print_report(update_finess(args.api or DEFAULT_API, progress=progress), args.json)
    return 0


def add_commands(sub, update_sub, import_sub) -> None:
    """Add ``import finess`` and ``data update finess``."""
    imp = import_sub.add_parser(
        "finess", help="Importer une extraction FINESS (MSP, centres de santé, sièges de CPTS)."
    )
    imp.add_argument(
        "path", help="Fichier etalab-cs1100507-stock-AAAAMMJJ-HHMM.csv (séparateur ;)."
    )
    imp.add_argument("--json", action="store_true", help="Afficher le compte rendu en JSON.")
    imp.set_defaults(func=cmd_import_finess)

    upd = update_sub.add_parser(
        "finess", help="Télécharger et importer la dernière extraction FINESS (data.gouv.fr)."
    )
    upd.add_argument("--api", help=f"Adresse de l'API de data.gouv.fr (par défaut {DEFAULT_API}).")
    upd.add_argument("--json", action="store_true", help="Afficher le compte rendu en JSON.")
    upd.set_defaults(func=cmd_update_finess)
