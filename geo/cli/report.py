"""``python -m geo report``: the PDF dossier of a scenario or of one of its territories.

    python -m geo report --scenario NOM [--territory T] --out FICHIER.pdf [--user U] [--no-record]

The dossier is remembered (``--no-record``: not), so the next one of the same territory lists the communes
added and removed since.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from geo.errors import DataError
from geo.report.build import build_dossier
from geo.store.layers import write_bytes_atomic
from geo.store.scenarios import ScenarioStore
from geo.territory.context import context


def cmd_report(args) -> int:
    if not str(args.out).lower().endswith(".pdf"):
        raise DataError(f"Le fichier de sortie doit finir par .pdf : {args.out}")
    start = time.perf_counter()
    store = ScenarioStore(user=args.user)
    scenario = store.get(args.scenario)

    def progress(done: int, total: int) -> None:
        print(f"Carte {done}/{total}", file=sys.stderr)

    pdf = build_dossier(
        scenario,
        context(),
        territory=args.territory,
        store=store,
        author=store.user,
        record=not args.no_record,
        progress=progress,
    )
    write_bytes_atomic(Path(args.out), pdf)
    print(
        f"Dossier écrit dans {args.out} ({len(pdf) // 1024} Ko, "
        f"{time.perf_counter() - start:.1f} s)."
    )
    return 0


def add_commands(sub, update_sub, import_sub) -> None:
    report = sub.add_parser("report", help="Dossier PDF d'un scénario ou d'un de ses territoires.")
    report.add_argument("--scenario", required=True, help="Nom du scénario.")
    report.add_argument("--territory", help="Nom (ou numéro) d'un territoire du scénario.")
    report.add_argument("--out", required=True, help="Fichier PDF à écrire.")
    report.add_argument("--user", help="Qui établit le dossier (sinon CARTOCPTS_USER).")
    report.add_argument(
        "--no-record", action="store_true", help="Ne pas retenir ce dossier pour le suivant."
    )
    report.set_defaults(func=cmd_report)
