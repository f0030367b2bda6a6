"""Copy scenarios, with their history, from one store to another (a planner's SQLite file into the team's
PostgreSQL): ``python -m geo db copy --to postgresql://...``.

A scenario whose name already exists in the target is left as it is there (reported as skipped), so
running the copy again changes nothing, and nothing a team already edited is overwritten. Territory
numbers are given anew by the target (they are unique per store), and the history steps are rewritten
to the new numbers, so undo and redo keep working after the copy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from geo.store.scenarios import ScenarioStore, next_territory_id


@dataclass
class CopyReport:
    copied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    territories: int = 0
    history_steps: int = 0

    def to_dict(self) -> dict:
        return {
            "copied": self.copied,
            "skipped": self.skipped,
            "territories": self.territories,
            "history_steps": self.history_steps,
        }

    def lines(self) -> list[str]:
        out = [
            f"{len(self.copied)} scénario(s) copié(s) ({self.territories} territoire(s), "
            f"{self.history_steps} étape(s) d'historique)."
        ]
        if self.skipped:
            out.append(
                f"{len(self.skipped)} scénario(s) déjà présent(s) dans la cible, laissé(s) tel(s) quel(s) : "
                + ", ".join(f"« {name} »" for name in self.skipped)
                + "."
            )
        return out


def _read(source: ScenarioStore, scenario_id: int) -> tuple[list, list, list]:
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
    return territories, assignments, history


def copy_scenarios(source: ScenarioStore, target: ScenarioStore) -> CopyReport:
    """Copy every scenario of ``source`` missing from ``target`` (by name), one transaction each."""
    report = CopyReport()
    existing = set(target.names())
    with source.db.connect() as con:
        scenarios = con.execute(
            "SELECT id, name, scope, allow_overlap, notes, created_at, updated_at, cog_year FROM scenarios "
            "ORDER BY name"
        ).fetchall()
    for sid, name, scope, allow_overlap, notes, created_at, updated_at, cog_year in scenarios:
        if name in existing:
            report.skipped.append(name)
            continue
        territories, assignments, history = _read(source, sid)
        with target.db.transaction() as con:
            new_sid = con.execute(
                "INSERT INTO scenarios(name, scope, allow_overlap, notes, created_at, updated_at, cog_year) "
                "VALUES (?,?,?,?,?,?,?) RETURNING id",
                (name, scope, allow_overlap, notes, created_at, updated_at, cog_year),
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
                steps = json.loads(ops)
                for op in steps:
                    op[1] = renumber(int(op[1]))
                con.execute(
                    "INSERT INTO history(scenario_id, ops, label, undone, created_at, session) "
                    "VALUES (?,?,?,?,?,?)",
                    (
                        new_sid,
                        json.dumps(steps, ensure_ascii=False),
                        label,
                        undone,
                        h_created,
                        session,
                    ),
                )
        report.copied.append(name)
        report.territories += len(territories)
        report.history_steps += len(history)
    return report
