"""Command-line command for the existing CPTS perimeters layer:

python -m geo import cpts FICHIER [--vintage DATE] [--json]
"""

from __future__ import annotations

from geo.cli.output import print_report, progress
from geo.sources.cpts import import_cpts


def cmd_import_cpts(args) -> int:
    print_report(
        import_cpts(args.path, progress=None if args.json else progress, vintage=args.vintage),
        args.json,
    )
    return 0


def add_commands(sub, update_sub, import_sub) -> None:
    """Add ``import cpts``."""
    imp = import_sub.add_parser(
        "cpts", help="Importer les périmètres des CPTS existantes (liste de communes ou polygones)."
    )
    imp.add_argument(
        "path",
        help="CSV ou XLSX cpts_id;cpts_nom;code_insee[;statut] (une ligne par commune), "
        "ou GeoJSON / GeoPackage de polygones (propriétés cpts_nom ou nom, cpts_id, statut).",
    )
    imp.add_argument("--vintage", help="Date des périmètres (par défaut : date de l'import).")
    imp.add_argument("--json", action="store_true", help="Afficher le compte rendu en JSON.")
    imp.set_defaults(func=cmd_import_cpts)
