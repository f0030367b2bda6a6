"""Copy scenarios, with their history, from one store to another (a planner's SQLite file into the team's
PostgreSQL): ``python -m geo db copy --to postgresql://...``.

A scenario whose name already exists in the target is left as it is there (reported as skipped), so
running the copy again changes nothing, and nothing a team already edited is overwritten. Territory
numbers are given anew by the target (they are unique per store), and the history steps and the change
journal are rewritten to the new numbers, so undo and redo keep working after the copy.

The dossiers made (:mod:`geo.store.dossiers`) and the disputes ledger (:mod:`geo.store.disputes`) come
along, their territory numbers rewritten the same way: a territory of the source is the territory of the
same name in the scenario of the same name in the target. A dossier record is copied once (the same
territory, time, author and communes are not recorded twice), even for a scenario copied by an earlier
run; a dossier of a territory the target lacks is left out. A commune's dispute is copied, with its
events, when the target has no dispute for that commune yet (the team's ledger is never overwritten); a
decision won by a territory the target lacks keeps its label, without a winner key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from geo.store.scenarios import ScenarioStore, next_territory_id
from geo.store.users import LOCAL_USER

# A dispute's claimant key naming a territory (geo.store.disputes.Claimant).
TERRITORY_KEY = "territoire:"


@dataclass
class CopyReport:
    copied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    territories: int = 0
    history_steps: int = 0
    journal_lines: int = 0
    dossiers: int = 0
    disputes: int = 0

    def to_dict(self) -> dict:
        return {
            "copied": self.copied,
            "skipped": self.skipped,
            "territories": self.territories,
            "history_steps": self.history_steps,
            "journal_lines": self.journal_lines,
            "dossiers": self.dossiers,
            "disputes": self.disputes,
        }

    def lines(self) -> list[str]:
        out = [
            f"{len(self.copied)} scénario(s) copié(s) ({self.territories} territoire(s), "
            f"{self.history_steps} étape(s) d'historique, {self.journal_lines} ligne(s) de journal).",
            f"{self.dossiers} dossier(s) produit(s) et {self.disputes} commune(s) du registre des "
            "arbitrages copié(s).",
        ]
        if self.skipped:
            out.append(
                f"{len(self.skipped)} scénario(s) déjà présent(s) dans la cible, laissé(s) tel(s) quel(s) : "
                + ", ".join(f"« {name} »" for name in self.skipped)
                + "."
            )
        return out


def _read(source: ScenarioStore, scenario_id: int) -> tuple[list, list, list, list]:
    with source.db.connect() as con:
        territories = con.execute(
            "SELECT id, name, status, colour, notes, locked, created_at, updated_at FROM territories "
            "WHERE scenario_id=? ORDER BY id",
            (scenario_id,),
        ).fetchall()
        assignments = con.execute(
            "SELECT a.territory_id, a.insee FROM assignments a JOIN territories t ON t.id=a.territory_id "
            "WHERE t.scenario_id=? ORDER BY a.territory_id, a.insee",
            (scenario_id,),
        ).fetchall()
        history = con.execute(
            "SELECT ops, label, undone, created_at, session FROM history WHERE scenario_id=? ORDER BY id",
            (scenario_id,),
        ).fetchall()
        journal = con.execute(
            "SELECT at, user_name, session, action, territory, label, ops FROM changes WHERE scenario_id=? "
            "ORDER BY id",
            (scenario_id,),
        ).fetchall()
    return territories, assignments, history, journal


def _renumbered(ops: str, renumber) -> str:
    """A step's operations (JSON) on the target's territory numbers."""
    steps = json.loads(ops)
    for op in steps:
        op[1] = renumber(int(op[1]))
    return json.dumps(steps, ensure_ascii=False)


def _owner(owner: str | None, copier: str) -> str:
    """The copied scenario's owner: its own, else the person copying (nobody when he is « poste local »)."""
    if owner and owner != LOCAL_USER:
        return owner
    return "" if copier == LOCAL_USER else copier


def copy_scenarios(source: ScenarioStore, target: ScenarioStore) -> CopyReport:
    """Copy every scenario of ``source`` missing from ``target`` (by name), one transaction each.

    A scenario keeps its owner when it has one; a workstation's scenario (« poste local », or none) belongs
    to the target's user, the person who copies (``--user`` / ``CARTOCPTS_USER``), or to nobody when he is
    « poste local » too. Sharing is the team's default (``ecriture``): the copied work stays editable."""
    report = CopyReport()
    existing = set(target.names())
    with source.db.connect() as con:
        scenarios = con.execute(
            "SELECT id, name, scope, allow_overlap, notes, created_at, updated_at, cog_year, owner "
            "FROM scenarios ORDER BY name"
        ).fetchall()
    for row in scenarios:  # id, then the columns copied as they are, then the owner
        sid, name = row[0], row[1]
        if name in existing:
            report.skipped.append(name)
            continue
        territories, assignments, history, journal = _read(source, sid)
        with target.db.transaction() as con:
            new_sid = con.execute(
                "INSERT INTO scenarios(name, scope, allow_overlap, notes, created_at, updated_at, cog_year, "
                "owner) VALUES (?,?,?,?,?,?,?,?) RETURNING id",
                (*row[1:8], _owner(row[8], target.user)),
            ).fetchone()[0]
            numbers: dict[int, int] = {}

            def renumber(old: int, numbers: dict[int, int] = numbers) -> int:
                if old not in numbers:
                    numbers[old] = next_territory_id(con)
                return numbers[old]

            for tid, tname, status, colour, tnotes, locked, t_created, t_updated in territories:
                con.execute(
                    "INSERT INTO territories(id, scenario_id, name, status, colour, notes, locked, created_at, "
                    "updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
                    (
                        renumber(tid),
                        new_sid,
                        tname,
                        status,
                        colour,
                        tnotes,
                        locked,
                        t_created,
                        t_updated,
                    ),
                )
            con.executemany(
                "INSERT INTO assignments VALUES (?,?)",
                [(numbers[tid], code) for tid, code in assignments],
            )
            for ops, label, undone, h_created, session in history:
                con.execute(
                    "INSERT INTO history(scenario_id, ops, label, undone, created_at, session) "
                    "VALUES (?,?,?,?,?,?)",
                    (new_sid, _renumbered(ops, renumber), label, undone, h_created, session),
                )
            for at, user, session, action, territory, label, ops in journal:
                con.execute(
                    "INSERT INTO changes(scenario_id, at, user_name, session, action, territory, label, ops) "
                    "VALUES (?,?,?,?,?,?,?,?)",
                    (
                        new_sid,
                        at,
                        user,
                        session,
                        action,
                        territory,
                        label,
                        _renumbered(ops, renumber),
                    ),
                )
        report.copied.append(name)
        report.territories += len(territories)
        report.history_steps += len(history)
        report.journal_lines += len(journal)
    numbers = _territory_numbers(source, target)
    report.dossiers = _copy_dossiers(source, target, numbers)
    report.disputes = _copy_disputes(source, target, numbers)
    return report


def _territories_by_name(store: ScenarioStore) -> dict[tuple[str, str], tuple[int, int]]:
    """(scenario name, territory name) -> (scenario id, territory id) of every territory of ``store``."""
    with store.db.connect() as con:
        rows = con.execute(
            "SELECT s.name, t.name, s.id, t.id FROM territories t JOIN scenarios s ON s.id=t.scenario_id"
        ).fetchall()
    return {(sname, tname): (int(sid), int(tid)) for sname, tname, sid, tid in rows}


def _territory_numbers(source: ScenarioStore, target: ScenarioStore) -> dict[int, tuple[int, int]]:
    """Territory number in ``source`` -> (scenario id, territory number) of the territory of the same names in
    ``target`` (the territories the target lacks are left out)."""
    there = _territories_by_name(target)
    return {
        tid: there[names]
        for names, (_, tid) in _territories_by_name(source).items()
        if names in there
    }


def _copy_dossiers(source: ScenarioStore, target: ScenarioStore, numbers: dict) -> int:
    """The dossier records of the territories the target has, once each; how many were added."""
    with source.db.connect() as con:
        rows = con.execute(
            "SELECT territory_id, territory, at, user_name, communes FROM dossiers ORDER BY id"
        ).fetchall()
    added = 0
    with target.db.transaction() as con:
        for tid, territory, at, user, communes in rows:
            if int(tid) not in numbers:
                continue
            new_sid, new_tid = numbers[int(tid)]
            present = con.execute(
                "SELECT 1 FROM dossiers WHERE scenario_id=? AND territory_id=? AND at=? AND user_name=? "
                "AND communes=?",
                (new_sid, new_tid, at, user, communes),
            ).fetchone()
            if present is None:
                con.execute(
                    "INSERT INTO dossiers(scenario_id, territory_id, territory, at, user_name, communes) "
                    "VALUES (?,?,?,?,?,?)",
                    (new_sid, new_tid, territory, at, user, communes),
                )
                added += 1
    return added


def _winner(key: str, numbers: dict) -> str:
    """A dispute's winner key with its territory number rewritten ("" for a territory the target lacks)."""
    if not key.startswith(TERRITORY_KEY):
        return key  # an imported CPTS, or no winner
    number = key[len(TERRITORY_KEY) :]
    if not number.isdigit() or int(number) not in numbers:
        return ""
    return f"{TERRITORY_KEY}{numbers[int(number)][1]}"


def _copy_disputes(source: ScenarioStore, target: ScenarioStore, numbers: dict) -> int:
    """The disputes of the communes the target's ledger lacks, with their events; how many were added."""
    with source.db.connect() as con:
        disputes = con.execute(
            "SELECT insee, status, winner, winner_label, decided_by, decided_at, updated_at FROM disputes "
            "ORDER BY insee"
        ).fetchall()
        events = con.execute(
            "SELECT insee, at, user_name, action, previous, status, winner, winner_label, note "
            "FROM dispute_events ORDER BY id"
        ).fetchall()
    added = 0
    with target.db.transaction() as con:
        present = {row[0] for row in con.execute("SELECT insee FROM disputes")}
        for code, status, winner, label, decided_by, decided_at, updated_at in disputes:
            if code in present:
                continue
            con.execute(
                "INSERT INTO disputes(insee, status, winner, winner_label, decided_by, decided_at, updated_at) "
                "VALUES (?,?,?,?,?,?,?)",
                (code, status, _winner(winner, numbers), label, decided_by, decided_at, updated_at),
            )
            con.executemany(
                "INSERT INTO dispute_events(insee, at, user_name, action, previous, status, winner, "
                "winner_label, note) VALUES (?,?,?,?,?,?,?,?,?)",
                [
                    (*event[:6], _winner(event[6], numbers), *event[7:])
                    for event in events
                    if event[0] == code
                ],
            )
            added += 1
    return added
