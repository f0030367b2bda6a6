"""A scenario drawn on an older COG (official geographic code) brought to the commune base's COG.

Communes merge into communes nouvelles every year: a scenario keeps the codes of the COG it was drawn
on (``scenarios.cog_year``). When the commune base moves to a newer COG, opening the scenario
(:meth:`geo.store.scenarios.ScenarioStore.get` with a :class:`CogMapping`) migrates it:

- a former commune goes to the commune nouvelle that holds it now;
- a commune nouvelle claimed by two territories after the merge stays in one (the territory that held
  its chef-lieu, else the one that held most of its former communes, else the first), flagged;
- a former commune now spread over several communes of the base (a split) gives all of them to its
  territory, flagged;
- a code the COG does not know is left as it is, flagged.

The French report of what moved is returned, written in the scenario's notes and in its journal.
The mapping itself (which former code went where) comes from the real COG, built by
:mod:`geo.base.cog`; this module only applies it to the stored rows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Mapping

from geo.store.layers import now_iso

MAX_STEPS = 10  # successions followed for one code (a commune nouvelle merged again later)


@dataclass(frozen=True)
class CogMapping:
    """The commune base's COG: its year, its codes, and former code -> the current commune holding it."""

    year: int
    known: frozenset[str]
    successors: Mapping[str, str] = field(default_factory=dict)

    def targets(self, code: str) -> list[str]:
        """The base communes that now cover the former commune ``code`` (empty when unknown)."""
        if code in self.known:
            return [code]
        current, steps = code, 0
        while current in self.successors and steps < MAX_STEPS:
            current, steps = self.successors[current], steps + 1
            if current in self.known:
                return [current]
        # Not in the base: the base communes merged into the same commune (the commune holding it is
        # newer than the base), or that the commune was split back into (a commune nouvelle undone).
        return sorted(c for c in self._members(current) if c in self.known)

    def _members(self, current: str) -> list[str]:
        out = []
        for former in self.successors:
            head, steps = former, 0
            while head in self.successors and steps < MAX_STEPS:
                head, steps = self.successors[head], steps + 1
            if head == current:
                out.append(former)
        return out


@dataclass
class CogMigration:
    """What moved in one scenario: merged codes, flagged cases, and the French report."""

    scenario: str
    from_year: int | None
    to_year: int
    merged: list[tuple[str, list[str], str]] = field(
        default_factory=list
    )  # (territory, former codes, new code)
    flagged: list[str] = field(default_factory=list)  # French sentences
    text: str = ""  # the report written in the notes, once applied
    ops: list = field(default_factory=list)  # ["assign", territory id, added, removed] as applied

    @property
    def changed(self) -> bool:
        return bool(self.merged or self.flagged)

    def report(self, when: str) -> str:
        """The French report kept in the scenario's notes."""
        origin = f"COG {self.from_year}" if self.from_year else "un COG plus ancien"
        lines = [f"Passage de {origin} au COG {self.to_year} ({when[:10]}) :"]
        for territory, former, new in self.merged:
            lines.append(f"- « {territory} » : {', '.join(former)} → {new} (commune nouvelle)")
        lines += [f"- À vérifier : {text}" for text in self.flagged]
        return "\n".join(lines)


def plan(
    scenario, cog: CogMapping, allow_overlap: bool
) -> tuple[CogMigration, dict[int, set[str]]]:
    """The migration of ``scenario`` (a geo.store.scenarios.Scenario) and the communes each territory
    ends with. Nothing is written."""
    migration = CogMigration(scenario.name, getattr(scenario, "cog_year", None), cog.year)
    names = {t.id: t.name for t in scenario.territories}
    result: dict[int, set[str]] = {}
    # new code -> [(territory id, former codes it brought)]
    claims: dict[str, list[tuple[int, list[str]]]] = defaultdict(list)
    for terr in scenario.territories:
        kept = {c for c in terr.communes if c in cog.known}
        result[terr.id] = set(kept)
        moved: dict[str, list[str]] = defaultdict(list)
        for code in sorted(terr.communes - kept):
            targets = cog.targets(code)
            if not targets:
                migration.flagged.append(
                    f"{code} (« {terr.name} ») est inconnue du COG {cog.year} : laissée telle quelle."
                )
                result[terr.id].add(code)
            elif len(targets) > 1:
                migration.flagged.append(
                    f"{code} (« {terr.name} ») est aujourd'hui répartie entre {', '.join(targets)} : "
                    "toutes rattachées à ce territoire."
                )
                for target in targets:
                    moved[target].append(code)
            else:
                moved[targets[0]].append(code)
        for new, former in moved.items():
            migration.merged.append((terr.name, sorted(former), new))
            claims[new].append((terr.id, sorted(former)))
    for new, claim in claims.items():
        holders = {tid for tid, codes in result.items() if new in codes}  # held the code itself
        claimants = holders | {tid for tid, _ in claim}
        for tid, _ in claim:
            result[tid].add(new)
        if len(claimants) < 2:
            continue
        if allow_overlap:
            migration.flagged.append(
                f"{new} est dans {_names(claimants, names)} après la fusion (chevauchement autorisé)."
            )
            continue
        brought = {tid: len(codes) for tid, codes in claim}
        keeper = min(
            claimants,
            key=lambda tid: (tid not in holders, -brought.get(tid, 0), tid),
        )
        for tid in claimants - {keeper}:
            result[tid].discard(new)
        migration.flagged.append(
            f"{new} revendiquée par {_names(claimants, names)} après la fusion : gardée dans "
            f"« {names[keeper]} »."
        )
    return migration, result


def _names(ids, names: dict[int, str]) -> str:
    return " et ".join(f"« {names[tid]} »" for tid in sorted(ids))


def apply(con, scenario, cog: CogMapping, allow_overlap: bool) -> CogMigration:
    """Migrate ``scenario``'s rows in the open transaction ``con``; stamp its COG year.

    Returns the migration (its report is appended to the scenario's notes when anything moved).
    """
    migration, result = plan(scenario, cog, allow_overlap)
    stamp = now_iso()
    if migration.changed:
        for terr in scenario.territories:
            gone = sorted(terr.communes - result[terr.id])
            new = sorted(result[terr.id] - terr.communes)
            con.executemany(
                "DELETE FROM assignments WHERE territory_id=? AND insee=?",
                [(terr.id, c) for c in gone],
            )
            con.executemany("INSERT INTO assignments VALUES (?,?)", [(terr.id, c) for c in new])
            if gone or new:
                migration.ops.append(["assign", terr.id, new, gone])
                con.execute("UPDATE territories SET updated_at=? WHERE id=?", (stamp, terr.id))
        report = migration.text = migration.report(stamp)
        notes = f"{scenario.notes}\n\n{report}" if scenario.notes else report
        con.execute(
            "UPDATE scenarios SET notes=?, cog_year=?, updated_at=? WHERE id=?",
            (notes, cog.year, stamp, scenario.id),
        )
    else:
        con.execute("UPDATE scenarios SET cog_year=? WHERE id=?", (cog.year, scenario.id))
    return migration
