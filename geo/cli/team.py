"""Command-line commands of team mode: users and roles, sharing, the change journal, batch edits.

    python -m geo users add NOM --role lecteur|editeur|arbitre [--user ARBITRE]
    python -m geo users list [--json]
    python -m geo scenario share NOM --level prive|lecture|ecriture [--user U]
    python -m geo scenario history NOM [--json] [--user U]
    python -m geo scenario edit NOM --territory T [--add CODES] [--remove CODES] [--user U] [--json]
    python -m geo scenario restore NOM --change N [--user U]

The acting user is ``--user``, else ``CARTOCPTS_USER``, else « poste local » (single-user mode while no
user is recorded). An action outside the user's role is refused with a French message and records nothing.
"""

from __future__ import annotations

import json

from geo.base.communes import cog_mapping
from geo.cli.output import print_json
from geo.errors import DataError
from geo.store.scenarios import ScenarioStore
from geo.store.users import ROLES, SHARING, SHARING_LABELS


def _codes(text: str | None) -> list[str]:
    return [
        c.strip() for c in (text or "").replace(";", ",").replace(" ", ",").split(",") if c.strip()
    ]


def cmd_users_add(args) -> int:
    store = ScenarioStore(user=args.user)
    store.add_user(args.name, args.role)
    print(f"Utilisateur « {args.name} » : rôle {args.role}.")
    return 0


def cmd_users_list(args) -> int:
    users = ScenarioStore(user=args.user).users()
    if args.json:
        print_json(users)
    else:
        print(
            "\n".join(f"{u['name']} : {u['role']}" for u in users)
            or "Aucun utilisateur : mode poste local (un seul utilisateur, tous les droits)."
        )
    return 0


def cmd_share(args) -> int:
    store = ScenarioStore(user=args.user)
    token = store.share(args.name, args.level)
    scen_id = store.get(args.name).id
    print(
        f"Scénario « {args.name} » : {SHARING_LABELS[args.level]}. "
        f"Lien de consultation : ?scenario={scen_id}&jeton={token}"
    )
    return 0


def cmd_history(args) -> int:
    rows = ScenarioStore(user=args.user).history(args.name)
    if args.json:
        print_json(rows)
    else:
        for row in rows:
            moved = []
            if row["added"]:
                moved.append(f"+{len(row['added'])}")
            if row["removed"]:
                moved.append(f"-{len(row['removed'])}")
            print(
                f"n° {row['id']}  {row['at']}  {row['user']}  {row['label']}"
                + (f" ({' '.join(moved)} commune(s))" if moved else "")
            )
    return 0


def _territory_id(scenario, key: str) -> int:
    for terr in scenario.territories:
        if terr.name == key or str(terr.id) == key:
            return terr.id
    raise DataError(
        f"Territoire « {key} » introuvable dans le scénario « {scenario.name} » "
        f"(territoires : {', '.join(t.name for t in scenario.territories) or 'aucun'})."
    )


def cmd_edit(args) -> int:
    store = ScenarioStore(user=args.user, cog=cog_mapping())
    scen = store.get(args.name)
    add, remove = _codes(args.add), _codes(args.remove)
    if not add and not remove:
        raise DataError("Rien à modifier : indiquez --add CODES et/ou --remove CODES.")
    result = store.change_communes(
        args.name,
        _territory_id(scen, args.territory),
        add=add,
        remove=remove,
        session=f"cli:{store.user}",
    )
    out = {"added": result.added, "removed": result.removed, "refused": result.refused}
    if args.json:
        print_json(out)
    else:
        print(
            f"{len(result.added)} commune(s) ajoutée(s), {len(result.removed)} retirée(s)."
            + (
                f" Refusées : {json.dumps(result.refused, ensure_ascii=False)}"
                if result.refused
                else ""
            )
        )
    return 0


def cmd_restore(args) -> int:
    count = ScenarioStore(user=args.user).restore(
        args.name, args.change, session=f"cli:{args.user or ''}"
    )
    print(
        f"Scénario « {args.name} » remis dans l'état n° {args.change} ({count} modification(s) défaite(s))."
    )
    return 0


def _user_option(parser) -> None:
    parser.add_argument(
        "--user", help="Utilisateur qui agit (par défaut CARTOCPTS_USER, sinon « poste local »)."
    )


def add_scenario_commands(scen_sub) -> None:
    """Add ``scenario share``, ``history``, ``edit`` and ``restore``."""
    share = scen_sub.add_parser("share", help="Partager un scénario avec l'équipe.")
    share.add_argument("name")
    share.add_argument("--level", required=True, choices=SHARING)
    _user_option(share)
    share.set_defaults(func=cmd_share)
    history = scen_sub.add_parser("history", help="Journal des modifications d'un scénario.")
    history.add_argument("name")
    history.add_argument("--json", action="store_true")
    _user_option(history)
    history.set_defaults(func=cmd_history)
    edit = scen_sub.add_parser("edit", help="Ajouter ou retirer des communes d'un territoire.")
    edit.add_argument("name")
    edit.add_argument("--territory", required=True, help="Nom ou numéro du territoire.")
    edit.add_argument("--add", help="Codes INSEE à ajouter, séparés par des virgules.")
    edit.add_argument("--remove", help="Codes INSEE à retirer, séparés par des virgules.")
    edit.add_argument("--json", action="store_true")
    _user_option(edit)
    edit.set_defaults(func=cmd_edit)
    restore = scen_sub.add_parser(
        "restore", help="Remettre un scénario dans l'état d'une modification passée."
    )
    restore.add_argument("name")
    restore.add_argument(
        "--change", type=int, required=True, help="Numéro de la modification (voir history)."
    )
    _user_option(restore)
    restore.set_defaults(func=cmd_restore)


def add_commands(sub, update_sub, import_sub) -> None:
    """Add ``users add`` and ``users list``."""
    users = sub.add_parser("users", help="Utilisateurs de l'équipe et leurs rôles.")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    add = users_sub.add_parser("add", help="Ajouter un utilisateur (ou changer son rôle).")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ROLES)
    _user_option(add)
    add.set_defaults(func=cmd_users_add)
    listing = users_sub.add_parser("list", help="Lister les utilisateurs.")
    listing.add_argument("--json", action="store_true")
    _user_option(listing)
    listing.set_defaults(func=cmd_users_list)
