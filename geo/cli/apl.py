"""Command-line command for the DREES APL:

python -m geo import apl FICHIER [--year 2023] [--json]
"""

from __future__ import annotations

from geo.cli.output import print_report, progress
from geo.errors import DataError
from geo.sources.apl import import_apl


def _year(text) -> int | None:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError as exc:
        raise DataError(
            f"Année invalide : « {text} » (attendu : une année, par exemple 2023)."
        ) from exc


def cmd_import_apl(args) -> int:
    print_report(
        import_apl(args.path, year=_year(args.year), progress=None if args.json else progress),
        args.json,
    )
    return 0


def add_commands(sub, update_sub, import_sub) -> None:
    """Add ``import apl``."""
    apl = import_sub.add_parser(
        "apl", help="Importer le classeur APL de la DREES (médecins généralistes)."
    )
    apl.add_argument(
        "path", help="Classeur XLSX de la DREES (feuilles « APL 2022 », « APL 2023 »...)."
    )
    apl.add_argument("--year", help="Année à importer (par défaut la plus récente du classeur).")
    apl.add_argument("--json", action="store_true", help="Afficher le compte rendu en JSON.")
    apl.set_defaults(func=cmd_import_apl)
