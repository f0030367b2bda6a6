"""Command-line commands for the scenario database (SQLite file or the team's PostgreSQL).

python -m geo db migrate [--json]
python -m geo db copy --to postgresql://... [--from FICHIER.sqlite] [--user NOM] [--json]
"""

from __future__ import annotations

from pathlib import Path

from geo.cli.output import print_json
from geo.errors import DataError
from geo.store.copy import copy_scenarios
from geo.store.database import is_postgresql, open_database, safe_url
from geo.store.migrations import LATEST, applied_versions, migrate
from geo.store.paths import data_dir
from geo.store.scenarios import ScenarioStore, default_location


def _label(location) -> str:
    return safe_url(location) if is_postgresql(location) else str(location)


def cmd_db_migrate(args) -> int:
    location = default_location()
    db = open_database(location)
    done = migrate(db)
    versions = applied_versions(db)
    if args.json:
        print_json(
            {
                "database": _label(location),
                "kind": db.kind,
                "applied": [m.version for m in done],
                "version": max(versions),
                "latest": LATEST,
            }
        )
    elif done:
        for step in done:
            print(f"Migration {step.version} appliquée : {step.description}.")
        print(f"Base {_label(location)} à jour (version {LATEST}).")
    else:
        print(f"Base {_label(location)} déjà à jour (version {LATEST}).")
    return 0


def cmd_db_copy(args) -> int:
    if not is_postgresql(args.to):
        raise DataError(f"--to doit être une adresse postgresql://… (reçu « {args.to[:60]} »).")
    source_path = Path(args.source) if args.source else data_dir() / "scenarios.sqlite"
    if not source_path.is_file():
        raise DataError(f"Base locale des scénarios introuvable : {source_path}.")
    report = copy_scenarios(ScenarioStore(source_path), ScenarioStore(args.to, user=args.user))
    if args.json:
        print_json({"from": str(source_path), "to": safe_url(args.to), **report.to_dict()})
    else:
        print("\n".join(report.lines()))
    return 0


def add_commands(sub, update_sub, import_sub) -> None:
    """Add ``db migrate`` and ``db copy``."""
    db = sub.add_parser("db", help="Base des scénarios : migrations, copie vers PostgreSQL.")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    mig = db_sub.add_parser(
        "migrate", help="Mettre le schéma de la base à jour (SQLite ou CARTOCPTS_DATABASE_URL)."
    )
    mig.add_argument("--json", action="store_true")
    mig.set_defaults(func=cmd_db_migrate)
    copy = db_sub.add_parser(
        "copy", help="Copier les scénarios locaux (et leur historique) dans PostgreSQL."
    )
    copy.add_argument(
        "--to", required=True, help="Adresse postgresql://utilisateur@hôte:port/base de l'équipe."
    )
    copy.add_argument(
        "--from",
        dest="source",
        help="Fichier SQLite à copier (par défaut celui du dossier de données).",
    )
    copy.add_argument(
        "--user",
        help="Qui copie (par défaut CARTOCPTS_USER) : il devient le propriétaire des scénarios du poste.",
    )
    copy.add_argument("--json", action="store_true")
    copy.set_defaults(func=cmd_db_copy)
