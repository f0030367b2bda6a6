"""Scenarios of CPTS territories, kept in SQLite so that nothing is ever lost.

A scenario is an assignment commune -> territory (a commune belongs to at
most one territory unless the scenario allows overlap). Every change is one
transaction, saved at once (WAL mode), and recorded in a history that
undo/redo walk (at least ``HISTORY_LIMIT`` steps). Changes are expressed
as additions and removals of given communes, never as a rewrite of a whole
territory, so two sessions editing the same scenario cannot lose each
other's assignments: the last write wins, change by change.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from geo.errors import DataError
from geo.paths import data_dir
from geo.store import now_iso

HISTORY_LIMIT = 200
STATUSES = ("proposition", "initiative", "projet", "contractualisée", "en fonctionnement")
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS scenarios (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    scope TEXT NOT NULL DEFAULT '',
    allow_overlap INTEGER NOT NULL DEFAULT 0,
    notes TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS territories (
    id INTEGER PRIMARY KEY,
    scenario_id INTEGER NOT NULL REFERENCES scenarios(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'proposition',
    colour TEXT NOT NULL DEFAULT '#0072B2',
    notes TEXT NOT NULL DEFAULT '',
    locked INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (scenario_id, name)
);
CREATE TABLE IF NOT EXISTS assignments (
    territory_id INTEGER NOT NULL REFERENCES territories(id) ON DELETE CASCADE,
    insee TEXT NOT NULL,
    PRIMARY KEY (territory_id, insee)
);
CREATE INDEX IF NOT EXISTS assignments_insee ON assignments(insee);
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY,
    scenario_id INTEGER NOT NULL REFERENCES scenarios(id) ON DELETE CASCADE,
    ops TEXT NOT NULL,
    label TEXT NOT NULL,
    undone INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
"""


@dataclass
class Territory:
    id: int
    name: str
    status: str
    colour: str
    notes: str
    locked: bool
    communes: set[str] = field(default_factory=set)


@dataclass
class Scenario:
    id: int
    name: str
    scope: str
    allow_overlap: bool
    notes: str
    created_at: str
    updated_at: str
    territories: list[Territory] = field(default_factory=list)

    def territory(self, territory_id: int) -> Territory:
        for terr in self.territories:
            if terr.id == territory_id:
                return terr
        raise DataError(f"Territoire n° {territory_id} introuvable dans le scénario « {self.name} ».")

    def assignment(self) -> dict[str, list[int]]:
        """commune -> territories holding it."""
        out: dict[str, list[int]] = {}
        for terr in self.territories:
            for code in terr.communes:
                out.setdefault(code, []).append(terr.id)
        return out


@dataclass
class ChangeResult:
    """What a change did: communes added, removed, and refused with why."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)


class ScenarioStore:
    """All scenarios, in ``scenarios.sqlite`` in the data directory."""

    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path else data_dir() / "scenarios.sqlite"
        with self._connect() as con:
            con.executescript(SCHEMA)

    @contextmanager
    def _connect(self):
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA foreign_keys=ON")
            con.execute("PRAGMA synchronous=NORMAL")
            yield con
        finally:
            con.close()

    @contextmanager
    def _transaction(self):
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    # --- reading -----------------------------------------------------------------

    def names(self) -> list[str]:
        with self._connect() as con:
            return [row[0] for row in con.execute("SELECT name FROM scenarios ORDER BY name")]

    def get(self, name: str) -> Scenario:
        with self._connect() as con:
            row = con.execute(
                "SELECT id, name, scope, allow_overlap, notes, created_at, updated_at FROM scenarios WHERE name=?",
                (name,),
            ).fetchone()
            if row is None:
                raise DataError(f"Le scénario « {name} » n'existe pas.")
            scen = Scenario(row[0], row[1], row[2], bool(row[3]), row[4], row[5], row[6])
            terrs = {}
            for t in con.execute(
                "SELECT id, name, status, colour, notes, locked FROM territories WHERE scenario_id=? ORDER BY id",
                (scen.id,),
            ):
                terrs[t[0]] = Territory(t[0], t[1], t[2], t[3], t[4], bool(t[5]))
            for tid, code in con.execute(
                "SELECT a.territory_id, a.insee FROM assignments a JOIN territories t ON t.id=a.territory_id "
                "WHERE t.scenario_id=?",
                (scen.id,),
            ):
                terrs[tid].communes.add(code)
            scen.territories = list(terrs.values())
            return scen

    def integrity_check(self) -> str:
        with self._connect() as con:
            return con.execute("PRAGMA integrity_check").fetchone()[0]

    # --- scenarios ---------------------------------------------------------------

    def create(self, name: str, scope: str = "", allow_overlap: bool = False, notes: str = "") -> Scenario:
        name = _clean_name(name, "scénario")
        stamp = now_iso()
        try:
            with self._transaction() as con:
                con.execute(
                    "INSERT INTO scenarios(name, scope, allow_overlap, notes, created_at, updated_at) VALUES (?,?,?,?,?,?)",
                    (name, scope, int(allow_overlap), notes, stamp, stamp),
                )
        except sqlite3.IntegrityError as exc:
            raise DataError(f"Un scénario nommé « {name} » existe déjà.") from exc
        return self.get(name)

    def rename(self, name: str, new_name: str) -> None:
        new_name = _clean_name(new_name, "scénario")
        try:
            with self._transaction() as con:
                cur = con.execute("UPDATE scenarios SET name=?, updated_at=? WHERE name=?", (new_name, now_iso(), name))
                if cur.rowcount == 0:
                    raise DataError(f"Le scénario « {name} » n'existe pas.")
        except sqlite3.IntegrityError as exc:
            raise DataError(f"Un scénario nommé « {new_name} » existe déjà.") from exc

    def set_allow_overlap(self, name: str, allow: bool) -> None:
        with self._transaction() as con:
            con.execute("UPDATE scenarios SET allow_overlap=?, updated_at=? WHERE name=?", (int(allow), now_iso(), name))

    def delete(self, name: str) -> None:
        with self._transaction() as con:
            con.execute("DELETE FROM scenarios WHERE name=?", (name,))

    def duplicate(self, name: str, new_name: str) -> Scenario:
        """A copy of a scenario (territories and assignments, not the history)."""
        source = self.get(name)
        new_name = _clean_name(new_name, "scénario")
        stamp = now_iso()
        try:
            with self._transaction() as con:
                cur = con.execute(
                    "INSERT INTO scenarios(name, scope, allow_overlap, notes, created_at, updated_at) VALUES (?,?,?,?,?,?)",
                    (new_name, source.scope, int(source.allow_overlap), source.notes, stamp, stamp),
                )
                for terr in source.territories:
                    tid = self._insert_territory(con, cur.lastrowid, terr.name, terr.status, terr.colour, terr.notes)
                    con.execute("UPDATE territories SET locked=? WHERE id=?", (int(terr.locked), tid))
                    con.executemany("INSERT INTO assignments VALUES (?,?)", [(tid, c) for c in sorted(terr.communes)])
        except sqlite3.IntegrityError as exc:
            raise DataError(f"Un scénario nommé « {new_name} » existe déjà.") from exc
        return self.get(new_name)

    def create_from(self, name: str, territories: list[dict], scope: str = "", allow_overlap: bool = False) -> Scenario:
        """A new scenario holding the given territories (dicts with name, communes, optional status), in one transaction."""
        name = _clean_name(name, "scénario")
        stamp = now_iso()
        try:
            with self._transaction() as con:
                cur = con.execute(
                    "INSERT INTO scenarios(name, scope, allow_overlap, notes, created_at, updated_at) VALUES (?,?,?,?,?,?)",
                    (name, scope, int(allow_overlap), "", stamp, stamp))
                for i, terr in enumerate(territories):
                    status = terr.get("status") or "proposition"
                    _check_status(status)
                    tid = self._insert_territory(con, cur.lastrowid, _clean_name(terr["name"], "territoire"), status,
                                                 terr.get("colour") or PALETTE[i % len(PALETTE)], terr.get("notes", ""))
                    con.executemany("INSERT OR IGNORE INTO assignments VALUES (?,?)",
                                    [(tid, c) for c in sorted(set(terr["communes"]))])
        except sqlite3.IntegrityError as exc:
            raise DataError(f"Le scénario « {name} » existe déjà, ou deux territoires y portent le même nom.") from exc
        return self.get(name)

    # --- territories -------------------------------------------------------------

    @staticmethod
    def _insert_territory(con, scenario_id, name, status, colour, notes) -> int:
        stamp = now_iso()
        cur = con.execute(
            "INSERT INTO territories(scenario_id, name, status, colour, notes, created_at, updated_at) "
            "VALUES (?,?,?,?,?,?,?)",
            (scenario_id, name, status, colour, notes, stamp, stamp),
        )
        return cur.lastrowid

    def add_territory(self, scenario: str, name: str, colour: str | None = None,
                      status: str = "proposition", notes: str = "") -> int:
        name = _clean_name(name, "territoire")
        _check_status(status)
        scen = self.get(scenario)
        colour = colour or PALETTE[len(scen.territories) % len(PALETTE)]
        try:
            with self._transaction() as con:
                tid = self._insert_territory(con, scen.id, name, status, colour, notes)
                self._record(con, scen.id, [["create", tid, name, status, colour, notes]], f"Création de « {name} »")
        except sqlite3.IntegrityError as exc:
            raise DataError(f"Le scénario « {scenario} » a déjà un territoire nommé « {name} ».") from exc
        return tid

    def update_territory(self, scenario: str, territory_id: int, **fields) -> None:
        """Change name, status, colour, notes or locked of a territory."""
        allowed = {"name", "status", "colour", "notes", "locked"}
        unknown = set(fields) - allowed
        if unknown:
            raise DataError(f"Champ(s) inconnu(s) : {', '.join(sorted(unknown))}.")
        if "name" in fields:
            fields["name"] = _clean_name(fields["name"], "territoire")
        if "status" in fields:
            _check_status(fields["status"])
        scen = self.get(scenario)
        terr = scen.territory(territory_id)
        before = {k: getattr(terr, k) for k in fields}
        after = {k: (int(v) if k == "locked" else v) for k, v in fields.items()}
        try:
            with self._transaction() as con:
                self._apply_update(con, territory_id, after)
                if set(fields) - {"locked"}:
                    self._record(con, scen.id, [["update", territory_id, _jsonable(before), after]],
                                 f"Modification de « {terr.name} »")
        except sqlite3.IntegrityError as exc:
            raise DataError(f"Le scénario « {scenario} » a déjà un territoire nommé « {fields.get('name')} ».") from exc

    @staticmethod
    def _apply_update(con, territory_id: int, values: dict) -> None:
        sets = ", ".join(f"{k}=?" for k in values)
        con.execute(f"UPDATE territories SET {sets}, updated_at=? WHERE id=?",
                    (*[int(v) if isinstance(v, bool) else v for v in values.values()], now_iso(), territory_id))

    def delete_territory(self, scenario: str, territory_id: int) -> None:
        scen = self.get(scenario)
        terr = scen.territory(territory_id)
        with self._transaction() as con:
            con.execute("DELETE FROM territories WHERE id=?", (territory_id,))
            self._record(con, scen.id, [["delete", territory_id, terr.name, terr.status, terr.colour, terr.notes,
                                         sorted(terr.communes)]], f"Suppression de « {terr.name} »")

    # --- assignments -------------------------------------------------------------

    def change_communes(self, scenario: str, territory_id: int, add=(), remove=(), label: str = "") -> ChangeResult:
        """Add and remove communes of a territory in one recorded transaction.

        Communes held by another territory are refused unless the scenario
        allows overlap; a locked territory cannot change, nor lose or give
        communes.
        """
        result = ChangeResult()
        with self._transaction() as con:
            row = con.execute(
                "SELECT s.id, s.allow_overlap, t.locked, t.name FROM territories t JOIN scenarios s "
                "ON s.id=t.scenario_id WHERE t.id=? AND s.name=?", (territory_id, scenario)).fetchone()
            if row is None:
                raise DataError(f"Territoire n° {territory_id} introuvable dans le scénario « {scenario} ».")
            scen_id, allow_overlap, locked, tname = row
            if locked:
                raise DataError(f"Le territoire « {tname} » est verrouillé : déverrouillez-le pour le modifier.")
            current = {r[0] for r in con.execute("SELECT insee FROM assignments WHERE territory_id=?", (territory_id,))}
            holders: dict[str, tuple[str, int]] = {}
            for code, name, lock in con.execute(
                "SELECT a.insee, t.name, t.locked FROM assignments a JOIN territories t ON t.id=a.territory_id "
                "WHERE t.scenario_id=? AND t.id<>?", (scen_id, territory_id)):
                holders[code] = (name, lock)
            for code in dict.fromkeys(add):
                if code in current:
                    continue
                if code in holders and not allow_overlap:
                    result.refused[code] = f"déjà dans « {holders[code][0]} »"
                    continue
                result.added.append(code)
            result.removed = [c for c in dict.fromkeys(remove) if c in current and c not in result.added]
            con.executemany("INSERT INTO assignments VALUES (?,?)", [(territory_id, c) for c in result.added])
            con.executemany("DELETE FROM assignments WHERE territory_id=? AND insee=?",
                            [(territory_id, c) for c in result.removed])
            if result.added or result.removed:
                con.execute("UPDATE territories SET updated_at=? WHERE id=?", (now_iso(), territory_id))
                self._record(con, scen_id, [["assign", territory_id, result.added, result.removed]],
                             label or f"Communes de « {tname} »")
        return result

    # --- history -----------------------------------------------------------------

    def _record(self, con, scenario_id: int, ops: list, label: str) -> None:
        con.execute("DELETE FROM history WHERE scenario_id=? AND undone=1", (scenario_id,))
        con.execute("INSERT INTO history(scenario_id, ops, label, created_at) VALUES (?,?,?,?)",
                    (scenario_id, json.dumps(ops, ensure_ascii=False), label, now_iso()))
        con.execute(
            "DELETE FROM history WHERE scenario_id=? AND id NOT IN "
            "(SELECT id FROM history WHERE scenario_id=? ORDER BY id DESC LIMIT ?)",
            (scenario_id, scenario_id, HISTORY_LIMIT))
        con.execute("UPDATE scenarios SET updated_at=? WHERE id=?", (now_iso(), scenario_id))

    def history_state(self, scenario: str) -> dict:
        """How many steps can be undone and redone, and their labels."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT h.label, h.undone FROM history h JOIN scenarios s ON s.id=h.scenario_id "
                "WHERE s.name=? ORDER BY h.id", (scenario,)).fetchall()
        done = [label for label, undone in rows if not undone]
        undone = [label for label, undone in rows if undone]
        return {"undo": len(done), "redo": len(undone),
                "undo_label": done[-1] if done else None, "redo_label": undone[0] if undone else None}

    def undo(self, scenario: str) -> str | None:
        return self._step(scenario, undo=True)

    def redo(self, scenario: str) -> str | None:
        return self._step(scenario, undo=False)

    def _step(self, scenario: str, undo: bool) -> str | None:
        with self._transaction() as con:
            order = "DESC" if undo else "ASC"
            row = con.execute(
                f"SELECT h.id, h.ops, h.label, h.scenario_id FROM history h JOIN scenarios s ON s.id=h.scenario_id "
                f"WHERE s.name=? AND h.undone=? ORDER BY h.id {order} LIMIT 1", (scenario, 0 if undo else 1)).fetchone()
            if row is None:
                return None
            hid, ops, label, scen_id = row
            ops = json.loads(ops)
            for op in (reversed(ops) if undo else ops):
                self._replay(con, scen_id, op, inverse=undo)
            con.execute("UPDATE history SET undone=? WHERE id=?", (1 if undo else 0, hid))
            return label

    def _replay(self, con, scen_id: int, op: list, inverse: bool) -> None:
        kind = op[0]
        if kind == "assign":
            _, tid, added, removed = op
            if inverse:
                added, removed = removed, added
            con.executemany("INSERT OR IGNORE INTO assignments VALUES (?,?)", [(tid, c) for c in added])
            con.executemany("DELETE FROM assignments WHERE territory_id=? AND insee=?", [(tid, c) for c in removed])
        elif kind == "update":
            _, tid, before, after = op
            self._apply_update(con, tid, before if inverse else after)
        elif kind in ("create", "delete"):
            tid, name, status, colour, notes = op[1:6]
            communes = op[6] if kind == "delete" else []
            remove = (kind == "delete") != inverse
            if remove:
                con.execute("DELETE FROM territories WHERE id=?", (tid,))
            else:
                stamp = now_iso()
                con.execute(
                    "INSERT INTO territories(id, scenario_id, name, status, colour, notes, created_at, updated_at) "
                    "VALUES (?,?,?,?,?,?,?,?)", (tid, scen_id, name, status, colour, notes, stamp, stamp))
                con.executemany("INSERT INTO assignments VALUES (?,?)", [(tid, c) for c in communes])


def _clean_name(name: str, what: str) -> str:
    text = " ".join(str(name or "").split())
    if not text:
        raise DataError(f"Le nom du {what} est vide.")
    if len(text) > 120:
        raise DataError(f"Le nom du {what} dépasse 120 caractères.")
    return text


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise DataError(f"Statut « {status} » inconnu ; statuts possibles : {', '.join(STATUSES)}.")


def _jsonable(values: dict) -> dict:
    return {k: (int(v) if isinstance(v, bool) else v) for k, v in values.items()}
