"""Command-line command for the IRDES typology layer:

python -m geo import typology FICHIER [--tv-map FICHIER] [--nomenclature FICHIER] [--json]
"""

from __future__ import annotations

from geo.cli.output import print_report, progress
from geo.sources.typology import import_typology


def cmd_import_typology(args) -> int:
    report = import_typology(
        args.path,
        tv_map=args.tv_map,
        nomenclature=args.nomenclature,
        progress=None if args.json else progress,
    )
    print_report(report, args.json)
    return 0


def add_commands(sub, update_sub, import_sub) -> None:
    """Add ``import typology``."""
    imp = import_sub.add_parser(
        "typology",
        help="Importer la typologie socio-sanitaire Irdes (classe par commune ou par territoire de vie).",
    )
    imp.add_argument("path", help="CSV ou XLSX : code_insee;classe ou code_tv;classe.")
    imp.add_argument(
        "--tv-map",
        dest="tv_map",
        help="Table de passage commune → territoire de vie (code_insee;code_tv), "
        "requise si le fichier est classé par code_tv.",
    )
    imp.add_argument(
        "--nomenclature",
        help="Nomenclature propre (classe;label[;short_label][;colour]) "
        "à la place de celle de l'Irdes 2019.",
    )
    imp.add_argument("--json", action="store_true", help="Afficher le compte rendu en JSON.")
    imp.set_defaults(func=cmd_import_typology)
