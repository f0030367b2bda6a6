"""Command-line command for the existing CPTS perimeters layer.

Registered through ``geo.cli.EXTENSIONS``:

    python -m geo import cpts FICHIER [--vintage DATE] [--json]
"""

from __future__ import annotations

import json
import sys


def _progress(fraction: float, message: str) -> None:
    print(f"[{fraction:4.0%}] {message}", file=sys.stderr)


def cmd_import_cpts(args) -> int:
    from geo.cpts import describe_cpts_report, import_cpts

    report = import_cpts(args.path, progress=None if args.json else _progress, vintage=args.vintage)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    else:
        print("\n".join(describe_cpts_report(report)))
    return 0


def add_commands(sub, update_sub, import_sub) -> None:
    """Add ``import cpts``."""
    imp = import_sub.add_parser(
        "cpts", help="Importer les périmètres des CPTS existantes (liste de communes ou polygones)."
    )
    imp.add_argument("path", help="CSV ou XLSX cpts_id;cpts_nom;code_insee[;statut] (une ligne par commune), "
                                  "ou GeoJSON / GeoPackage de polygones (propriétés cpts_nom ou nom, cpts_id, statut).")
    imp.add_argument("--vintage", help="Date des périmètres (par défaut : date de l'import).")
    imp.add_argument("--json", action="store_true", help="Afficher le compte rendu en JSON.")
    imp.set_defaults(func=cmd_import_cpts)
