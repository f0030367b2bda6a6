"""Command-line commands of the negotiation ledger (communes claimed by two or more territories).

    python -m geo disputes [--scope fr|reg:76|dep:09] [--status STATUT] [--json] [--user U]
    python -m geo disputes decide CODE --winner CLAIMANT [--status arbitre|acte] [--note TEXTE] [--user U] [--json]
    python -m geo disputes contest CODE [--note TEXTE] [--user U] [--json]
    python -m geo disputes note CODE --text TEXTE [--user U] [--json]
    python -m geo disputes history CODE [--json] [--user U]

``--winner`` names a claimant by its key (``territoire:12``, ``cpts:C1``, shown by the listing), its
territory number, « scénario / territoire », its name or its CPTS id. Recording a decision needs the
``arbitre`` role, contesting or annotating the ``editeur`` role: otherwise the command is refused in French
and nothing is recorded.
"""

from __future__ import annotations

from geo.cli.output import print_json
from geo.coverage.disputes import commune_name, disputes_in_scope, ledger
from geo.store.disputes import DISPUTE_STATUSES, STATUS_ALIASES, check_dispute_status
from geo.store.scenarios import ScenarioStore
from geo.territory.context import context


def _line(row: dict) -> str:
    decision = ""
    if row["decision"]:
        decision = f" → {row['decision']['label']} ({row['decided_by']}, {row['decided_at']})"
    claimants = " ; ".join(c["label"] for c in row["claimants"]) or "plus aucun territoire"
    return f"{row['code_insee']} {row['commune']} [{row['status']}] : {claimants}{decision}"


def cmd_list(args) -> int:
    rows = disputes_in_scope(ScenarioStore(user=args.user), args.scope)
    if args.only_status:
        wanted = check_dispute_status(args.only_status)
        rows = [r for r in rows if r["status"] == wanted]
    if args.json:
        print_json(rows)
    elif not rows:
        print(f"Aucune commune disputée dans le périmètre {args.scope}.")
    else:
        print(f"{len(rows)} commune(s) disputée(s) dans le périmètre {args.scope} :")
        for row in rows:
            print("  " + _line(row))
    return 0


def _show(dispute, ctx, as_json: bool, done: str) -> None:
    row = dispute.to_dict()
    row = {
        "code_insee": row.pop("code_insee"),
        "commune": commune_name(dispute.code_insee, ctx),
        **row,
    }
    if as_json:
        print_json(row)
    else:
        print(f"{done} {_line(row)}")


def cmd_decide(args) -> int:
    ctx = context()
    dispute = ledger(ScenarioStore(user=args.user), ctx).decide(
        args.code, args.winner, args.status, note=args.note or ""
    )
    _show(dispute, ctx, args.json, "Décision enregistrée :")
    return 0


def cmd_contest(args) -> int:
    ctx = context()
    dispute = ledger(ScenarioStore(user=args.user), ctx).contest(args.code, note=args.note or "")
    _show(dispute, ctx, args.json, "Commune contestée :")
    return 0


def cmd_note(args) -> int:
    ctx = context()
    dispute = ledger(ScenarioStore(user=args.user), ctx).note(args.code, args.text)
    _show(dispute, ctx, args.json, "Note ajoutée :")
    return 0


def cmd_history(args) -> int:
    rows = ledger(ScenarioStore(user=args.user)).history(args.code)
    if args.json:
        print_json(rows)
    elif not rows:
        print(f"Aucune décision ni note pour la commune {args.code}.")
    else:
        for row in rows:
            what = (
                f"note : {row['note']}"
                if row["action"] == "note"
                else f"{row['previous']} → {row['status']}"
                + (f" ({row['winner_label']})" if row["winner_label"] else "")
                + (f" — {row['note']}" if row["note"] else "")
            )
            print(f"{row['at']}  {row['user']}  {what}")
    return 0


def _common(parser, with_json: bool = True) -> None:
    parser.add_argument(
        "--user", help="Utilisateur qui agit (par défaut CARTOCPTS_USER, sinon « poste local »)."
    )
    if with_json:
        parser.add_argument("--json", action="store_true")


def add_commands(sub, update_sub, import_sub) -> None:
    """Add ``disputes`` (the listing) and ``disputes decide|contest|note|history``."""
    disputes = sub.add_parser(
        "disputes",
        help="Registre des arbitrages : communes revendiquées par plusieurs territoires.",
    )
    disputes.add_argument(
        "--scope", default="fr", help="fr, reg:CODE (ex. reg:76) ou dep:CODE (ex. dep:09)."
    )
    disputes.add_argument(
        "--status",
        dest="only_status",
        metavar="STATUT",
        help=f"Seulement ce statut ({', '.join(DISPUTE_STATUSES)} ; sans accents accepté).",
    )
    _common(disputes)
    disputes.set_defaults(func=cmd_list)
    actions = disputes.add_subparsers(dest="disputes_command")

    decide = actions.add_parser("decide", help="Arbitrer une commune (rôle arbitre).")
    decide.add_argument("code", help="Code INSEE de la commune.")
    decide.add_argument(
        "--winner", help="Territoire gagnant : clé (territoire:12, cpts:C1), numéro ou nom."
    )
    decide.add_argument(
        "--status",
        default="arbitre",
        choices=[*STATUS_ALIASES, *DISPUTE_STATUSES],
        help="arbitre (par défaut) ou acte ; ouvert ou conteste retirent la décision.",
    )
    decide.add_argument("--note", help="Note jointe à la décision.")
    _common(decide)
    decide.set_defaults(func=cmd_decide)

    contest = actions.add_parser("contest", help="Marquer une commune « contesté » (rôle editeur).")
    contest.add_argument("code", help="Code INSEE de la commune.")
    contest.add_argument("--note", help="Note jointe.")
    _common(contest)
    contest.set_defaults(func=cmd_contest)

    note = actions.add_parser(
        "note", help="Ajouter une note à une commune disputée (rôle editeur)."
    )
    note.add_argument("code", help="Code INSEE de la commune.")
    note.add_argument("--text", required=True, help="Texte de la note.")
    _common(note)
    note.set_defaults(func=cmd_note)

    history = actions.add_parser("history", help="Changements de statut et notes d'une commune.")
    history.add_argument("code", help="Code INSEE de la commune.")
    _common(history)
    history.set_defaults(func=cmd_history)
