"""Scenarios of CPTS territories, kept in a database so that nothing is ever lost.

The database is an SQLite file in the data directory (one planner, the default) or PostgreSQL
(a team: ``CARTOCPTS_DATABASE_URL=postgresql://...``), see :mod:`geo.store.database`; the schema is
versioned (:mod:`geo.store.migrations`) and brought up to date when the store opens.

A scenario is an assignment commune -> territory (a commune belongs to at
most one territory unless the scenario allows overlap). Every change is one
transaction, saved at once (WAL mode), and recorded in a history that
undo/redo walk (at least ``HISTORY_LIMIT`` steps). Changes are expressed
as additions and removals of given communes, never as a rewrite of a whole
territory, so two sessions editing the same scenario cannot lose each
other's assignments: the last write wins, change by change.

Undo and redo belong to the editing session that made the change: every
history step records its ``session`` (a browser session id in the app, ""
on the command line), and undo/redo only walk that session's steps. A step
is refused (French DataError, nothing changed) when it touches a locked
territory, or when another session changed what it would revert since.

A full disk gives a French DataError; the transaction is rolled back and
the database keeps every change saved before.

A scenario remembers the COG year of the commune base it was drawn on (``cog_year``). A store given
the base's COG (``ScenarioStore(cog=...)``, see ``geo.base.communes.cog_mapping``) brings an older
scenario to it when it is opened (:mod:`geo.store.cog_migration`): the French report of what moved is
kept in the scenario's notes and journal, and shown once in ``Scenario.cog_report``.
"""

from __future__ import annotations

import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from geo.errors import DataError
from geo.store import cog_migration
from geo.store.cog_migration import CogMapping
from geo.store.database import Database, is_postgresql, open_database
from geo.store.layers import now_iso
from geo.store.migrations import migrate
from geo.store.paths import data_dir
from geo.store.users import (
    ARBITRE_STATUSES,
    Actor,
    check_role,
    check_sharing,
    clean_user,
    current_user,
)

DATABASE_URL_VAR = "CARTOCPTS_DATABASE_URL"

# Whether the store has users (team mode) and the role of the one named by the parameter.
_ACTOR_COLUMNS = "EXISTS(SELECT 1 FROM users), (SELECT role FROM users WHERE name=?)"

HISTORY_LIMIT = 200
STATUSES = (
    "proposition",
    "initiative",
    "projet",
    "contractualisée",
    "en fonctionnement",
    *ARBITRE_STATUSES,
)
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]

# All sessions together keep at most this many steps per scenario.
HISTORY_SCENARIO_LIMIT = HISTORY_LIMIT * 5
# The steps beyond the limits are dropped every this many steps a store records.
HISTORY_TRIM_EVERY = 20


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
    owner: str = ""
    sharing: str = "ecriture"
    cog_year: int | None = (
        None  # COG of the commune base it was drawn on (None: drawn before it was kept)
    )
    cog_report: str = ""  # the French report of the COG migration done when it was opened, if any

    def territory(self, territory_id: int) -> Territory:
        for terr in self.territories:
            if terr.id == territory_id:
                return terr
        raise DataError(
            f"Territoire n° {territory_id} introuvable dans le scénario « {self.name} »."
        )

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


def default_location() -> Path | str:
    """Where scenarios are kept: ``CARTOCPTS_DATABASE_URL`` when it names PostgreSQL, else
    ``scenarios.sqlite`` in the data directory."""
    url = os.environ.get(DATABASE_URL_VAR, "").strip()
    if url:
        if not is_postgresql(url):
            raise DataError(
                f"{DATABASE_URL_VAR} doit commencer par postgresql:// (reçu « {url[:40]} »)."
            )
        return url
    return data_dir() / "scenarios.sqlite"


class ScenarioStore:
    """All scenarios, in the SQLite file of the data directory or in PostgreSQL (see :func:`default_location`).

    ``location`` is an SQLite file path or a ``postgresql://`` URL; ``ScenarioStore(store.location)``
    opens the same store again.
    """

    def __init__(
        self,
        location: Path | str | None = None,
        user: str | None = None,
        cog: CogMapping | None = None,
    ):
        if location is None:
            location = default_location()
        self.user = current_user(
            user
        )  # who acts through this store: --user, CARTOCPTS_USER or « poste local »
        self.db: Database = open_database(location)
        self.location = location if is_postgresql(location) else Path(location)
        self.path = (
            self.location if isinstance(self.location, Path) else None
        )  # the SQLite file, if any
        self.cog = cog  # the commune base's COG: older scenarios are brought to it when opened
        self._cog_reports: dict[str, str] = {}  # scenario -> report of a migration not shown yet
        self._steps_recorded = 0  # history steps recorded through this store (see _record)
        migrate(self.db)

    def _connect(self):
        return self.db.connect()

    def _transaction(self):
        return self.db.transaction()

    # --- reading -----------------------------------------------------------------

    def actor(self, con=None) -> Actor:
        """The user acting, with his role; single-user mode (role None) while no user is recorded."""
        if con is None:
            with self._connect() as con:
                return self.actor(con)
        return self._actor_from(self._actor_query(con).fetchone())

    def _actor_query(self, con):
        """The query :meth:`actor` reads (sent, not read yet)."""
        return con.execute(f"SELECT {_ACTOR_COLUMNS}", (self.user,))

    def _actor_from(self, row) -> Actor:
        team, role = row
        if not team:
            return Actor(self.user, None)
        if role is None:
            raise DataError(
                f"Utilisateur « {self.user} » inconnu de l'équipe : un arbitre doit l'ajouter "
                f"(python -m geo users add NOM --role editeur)."
            )
        return Actor(self.user, role)

    def names(self) -> list[str]:
        """Names of the scenarios the user may read."""
        with self._connect() as con:
            actor = self.actor(con)
            rows = con.execute(
                "SELECT name, owner, sharing FROM scenarios ORDER BY name"
            ).fetchall()
        return [name for name, owner, sharing in rows if actor.can_read(owner, sharing)]

    def ids(self) -> dict[int, str]:
        """Scenario id -> name, for the scenarios the user may read."""
        with self._connect() as con:
            actor = self.actor(con)
            rows = con.execute("SELECT id, name, owner, sharing FROM scenarios").fetchall()
        return {sid: name for sid, name, owner, sharing in rows if actor.can_read(owner, sharing)}

    _COLUMNS = (
        "id, name, scope, allow_overlap, notes, created_at, updated_at, owner, sharing, cog_year"
    )

    def get(self, name: str) -> Scenario:
        """The scenario ``name``; drawn on an older COG than the store's ``cog``, it is migrated first
        (its ``cog_report`` says what moved)."""
        with self._connect() as con:
            row = con.execute(
                f"SELECT {self._COLUMNS} FROM scenarios WHERE name=?", (name,)
            ).fetchone()
            if row is None:
                raise DataError(f"Le scénario « {name} » n'existe pas.")
            if not self.actor(con).can_read(row[7], row[8]):
                raise DataError(f"Le scénario « {name} » est privé (propriétaire : {row[7]}).")
            if not self._outdated(row[9]):
                return self._load(con, row)
        return self._bring_to_cog(name)

    def _outdated(self, cog_year) -> bool:
        return self.cog is not None and (cog_year is None or int(cog_year) < self.cog.year)

    def _bring_to_cog(self, name: str) -> Scenario:
        """Migrate the scenario to the store's COG in one transaction (see geo.store.cog_migration)."""
        with self._transaction() as con:
            row = con.execute(
                f"SELECT {self._COLUMNS} FROM scenarios WHERE name=?", (name,)
            ).fetchone()
            if row is None:
                raise DataError(f"Le scénario « {name} » n'existe pas.")
            scen = self._load(con, row)
            if not self._outdated(scen.cog_year):  # another instance migrated it meanwhile
                return scen
            migration = cog_migration.apply(con, scen, self.cog, scen.allow_overlap)
            if migration.changed:
                self._journal(
                    con,
                    scen.id,
                    "cog",
                    migration.text,
                    ops=migration.ops,
                )
            row = con.execute(
                f"SELECT {self._COLUMNS} FROM scenarios WHERE id=?", (scen.id,)
            ).fetchone()
            scen = self._load(con, row)
            scen.cog_report = migration.text
        if scen.cog_report:
            self._cog_reports[scen.name] = scen.cog_report
        return scen

    def take_cog_report(self, name: str) -> str:
        """The report of the COG migration this store did when ``name`` was opened, once ("" if none)."""
        return self._cog_reports.pop(name, "")

    def get_shared(self, scenario_id: int, token: str) -> Scenario:
        """A scenario opened by its read-only link (any user of the team, whatever its sharing level)."""
        with self._connect() as con:
            self.actor(con)  # a known user (or single-user mode)
            row = con.execute(
                f"SELECT {self._COLUMNS}, share_token FROM scenarios WHERE id=?",
                (int(scenario_id),),
            ).fetchone()
            if row is None or not row[10] or not hmac.compare_digest(row[10], str(token or "")):
                raise DataError("Lien de consultation invalide ou révoqué.")
            return self._load(con, row[:10])

    @staticmethod
    def _load(con, row) -> Scenario:
        # A commune edit does not touch the scenario's row (no row every editor of a team would queue on):
        # the scenario changed last at its last journal line, or its stored time if later.
        last = con.execute(
            "SELECT at FROM changes WHERE scenario_id=? ORDER BY id DESC LIMIT 1", (row[0],)
        ).fetchone()
        scen = Scenario(
            row[0],
            row[1],
            row[2],
            bool(row[3]),
            row[4],
            row[5],
            max(row[6], last[0]) if last else row[6],
            owner=row[7],
            sharing=row[8],
            cog_year=row[9],
        )
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
        return self.db.integrity_check()

    # --- scenarios ---------------------------------------------------------------

    def create(
        self, name: str, scope: str = "", allow_overlap: bool = False, notes: str = ""
    ) -> Scenario:
        name = _clean_name(name, "scénario")
        try:
            with self._transaction() as con:
                self._insert_scenario(con, name, scope, allow_overlap, notes)
        except self.db.integrity_errors as exc:
            raise DataError(f"Un scénario nommé « {name} » existe déjà.") from exc
        return self.get(name)

    def rename(self, name: str, new_name: str) -> None:
        new_name = _clean_name(new_name, "scénario")
        try:
            with self._transaction() as con:
                scen_id, _ = self._require_write(con, name)
                con.execute(
                    "UPDATE scenarios SET name=?, updated_at=? WHERE id=?",
                    (new_name, now_iso(), scen_id),
                )
                self._journal(con, scen_id, "renommage", f"Renommé de « {name} » en « {new_name} »")
        except self.db.integrity_errors as exc:
            raise DataError(f"Un scénario nommé « {new_name} » existe déjà.") from exc

    def set_allow_overlap(self, name: str, allow: bool) -> None:
        with self._transaction() as con:
            scen_id, _ = self._require_write(con, name)
            con.execute(
                "UPDATE scenarios SET allow_overlap=?, updated_at=? WHERE id=?",
                (int(allow), now_iso(), scen_id),
            )
            self._journal(
                con,
                scen_id,
                "chevauchement",
                "Chevauchements autorisés" if allow else "Chevauchements interdits",
            )

    def delete(self, name: str) -> None:
        with self._transaction() as con:
            row = con.execute("SELECT owner FROM scenarios WHERE name=?", (name,)).fetchone()
            if row is None:
                return
            actor = self.actor(con)
            if actor.team_mode and row[0] != actor.name:
                actor.require("arbitre", f"supprimer le scénario « {name} » de {row[0]}")
            actor.require("editeur", "supprimer un scénario")
            con.execute("DELETE FROM scenarios WHERE name=?", (name,))

    def duplicate(self, name: str, new_name: str) -> Scenario:
        """A copy of a scenario (territories and assignments, not the history)."""
        source = self.get(name)
        new_name = _clean_name(new_name, "scénario")
        try:
            with self._transaction() as con:
                scen_id = self._insert_scenario(
                    con, new_name, source.scope, source.allow_overlap, source.notes
                )
                for terr in source.territories:
                    tid = self._insert_territory(
                        con, scen_id, terr.name, terr.status, terr.colour, terr.notes
                    )
                    con.execute(
                        "UPDATE territories SET locked=? WHERE id=?", (int(terr.locked), tid)
                    )
                    con.executemany(
                        "INSERT INTO assignments VALUES (?,?)",
                        [(tid, c) for c in sorted(terr.communes)],
                    )
        except self.db.integrity_errors as exc:
            raise DataError(f"Un scénario nommé « {new_name} » existe déjà.") from exc
        return self.get(new_name)

    def create_from(
        self, name: str, territories: list[dict], scope: str = "", allow_overlap: bool = False
    ) -> Scenario:
        """A new scenario holding the given territories (dicts with name, communes, optional
        status), in one transaction."""
        name = _clean_name(name, "scénario")
        try:
            with self._transaction() as con:
                scen_id = self._insert_scenario(con, name, scope, allow_overlap, "")
                for i, terr in enumerate(territories):
                    status = terr.get("status") or "proposition"
                    _check_status(status)
                    tid = self._insert_territory(
                        con,
                        scen_id,
                        _clean_name(terr["name"], "territoire"),
                        status,
                        _check_colour(terr.get("colour") or PALETTE[i % len(PALETTE)]),
                        terr.get("notes", ""),
                    )
                    con.executemany(
                        "INSERT INTO assignments VALUES (?,?) ON CONFLICT DO NOTHING",
                        [(tid, c) for c in sorted(set(terr["communes"]))],
                    )
        except self.db.integrity_errors as exc:
            raise DataError(
                f"Le scénario « {name} » existe déjà, ou deux territoires y portent le même nom."
            ) from exc
        return self.get(name)

    def _insert_scenario(self, con, name: str, scope: str, allow_overlap: bool, notes: str) -> int:
        """A new scenario owned by the user (shared in reading with the team in team mode)."""
        actor = self.actor(con)
        actor.require("editeur", "créer un scénario")
        stamp = now_iso()
        scen_id = con.execute(
            "INSERT INTO scenarios(name, scope, allow_overlap, notes, created_at, updated_at, owner, sharing, "
            "cog_year) VALUES (?,?,?,?,?,?,?,?,?) RETURNING id",
            (
                name,
                scope,
                int(allow_overlap),
                notes,
                stamp,
                stamp,
                actor.name,
                "lecture" if actor.team_mode else "ecriture",
                self.cog.year if self.cog else None,
            ),
        ).fetchone()[0]
        self._journal(con, scen_id, "scénario", f"Création du scénario « {name} »")
        return scen_id

    def _require_write(self, con, scenario: str) -> tuple[int, Actor]:
        """The scenario's id once the user may change it (French DataError otherwise)."""
        row = con.execute(
            "SELECT id, owner, sharing FROM scenarios WHERE name=?", (scenario,)
        ).fetchone()
        if row is None:
            raise DataError(f"Le scénario « {scenario} » n'existe pas.")
        actor = self.actor(con)
        actor.require_write(scenario, row[1], row[2])
        return row[0], actor

    # --- team: users, sharing ----------------------------------------------------

    def add_user(self, name: str, role: str) -> None:
        """Add a user (or change his role). The first user may be added by anyone; then only an arbitre."""
        name, role = clean_user(name), check_role(role)
        with self._transaction() as con:
            self.actor(con).require("arbitre", "gérer les utilisateurs")
            con.execute(
                "INSERT INTO users(name, role, created_at) VALUES (?,?,?) "
                "ON CONFLICT (name) DO UPDATE SET role=excluded.role",
                (name, role, now_iso()),
            )

    def users(self) -> list[dict]:
        with self._connect() as con:
            return [
                {"name": n, "role": r, "created_at": c}
                for n, r, c in con.execute("SELECT name, role, created_at FROM users ORDER BY name")
            ]

    def share(self, scenario: str, level: str) -> str:
        """Set the sharing level (owner or arbitre); the scenario's read-only link token."""
        level = check_sharing(level)
        with self._transaction() as con:
            row = con.execute(
                "SELECT id, owner, share_token FROM scenarios WHERE name=?", (scenario,)
            ).fetchone()
            if row is None:
                raise DataError(f"Le scénario « {scenario} » n'existe pas.")
            scen_id, owner, token = row
            actor = self.actor(con)
            if actor.team_mode and owner != actor.name:
                actor.require(
                    "arbitre", f"changer le partage du scénario « {scenario} » de {owner}"
                )
            token = token or secrets.token_urlsafe(18)
            con.execute(
                "UPDATE scenarios SET sharing=?, share_token=?, updated_at=? WHERE id=?",
                (level, token, now_iso(), scen_id),
            )
            self._journal(con, scen_id, "partage", f"Partage : {level}")
        return token

    def read_link(self, scenario: str) -> tuple[int, str]:
        """(scenario id, token) of the read-only link; the owner (or an arbitre) creates it if missing."""
        scen = self.get(scenario)
        with self._connect() as con:
            token = con.execute(
                "SELECT share_token FROM scenarios WHERE id=?", (scen.id,)
            ).fetchone()[0]
        return scen.id, token or self.share(scenario, scen.sharing)

    # --- territories -------------------------------------------------------------

    @staticmethod
    def _insert_territory(con, scenario_id, name, status, colour, notes) -> int:
        """Insert a territory under a number never used before by a territory or a history step.

        A number still named in some session's history is never given to a
        new territory, so an undo or redo can never act on another one.
        """
        stamp = now_iso()
        tid = next_territory_id(con)
        con.execute(
            "INSERT INTO territories(id, scenario_id, name, status, colour, notes, created_at, updated_at) "
            "VALUES (?,?,?,?,?,?,?,?)",
            (tid, scenario_id, name, status, colour, notes, stamp, stamp),
        )
        return tid

    def add_territory(
        self,
        scenario: str,
        name: str,
        colour: str | None = None,
        status: str = "proposition",
        notes: str = "",
        session: str = "",
    ) -> int:
        name = _clean_name(name, "territoire")
        _check_status(status)
        scen = self.get(scenario)
        colour = _check_colour(colour or PALETTE[len(scen.territories) % len(PALETTE)])
        try:
            with self._transaction() as con:
                self._require_write(con, scenario)
                if status in ARBITRE_STATUSES:
                    self.actor(con).require("arbitre", f"le statut « {status} »")
                tid = self._insert_territory(con, scen.id, name, status, colour, notes)
                self._record(
                    con,
                    scen.id,
                    [["create", tid, name, status, colour, notes]],
                    f"Création de « {name} »",
                    session,
                )
        except self.db.integrity_errors as exc:
            raise DataError(
                f"Le scénario « {scenario} » a déjà un territoire nommé « {name} »."
            ) from exc
        return tid

    def update_territory(
        self, scenario: str, territory_id: int, session: str = "", **fields
    ) -> None:
        """Change name, status, colour, notes or locked of a territory.

        Locking and unlocking are not recorded in the history (undo never
        unlocks a territory).
        """
        allowed = {"name", "status", "colour", "notes", "locked"}
        unknown = set(fields) - allowed
        if unknown:
            raise DataError(f"Champ(s) inconnu(s) : {', '.join(sorted(unknown))}.")
        if "name" in fields:
            fields["name"] = _clean_name(fields["name"], "territoire")
        if "status" in fields:
            _check_status(fields["status"])
        if "colour" in fields:
            fields["colour"] = _check_colour(fields["colour"])
        scen = self.get(scenario)
        terr = scen.territory(territory_id)
        before = {k: getattr(terr, k) for k in fields if k != "locked"}
        after = {k: (int(v) if k == "locked" else v) for k, v in fields.items()}
        try:
            with self._transaction() as con:
                _, actor = self._require_write(con, scenario)
                if "locked" in fields:
                    actor.require("arbitre", "verrouiller ou déverrouiller un territoire")
                if (
                    # setting an arbitration status, or taking one back
                    "status" in fields
                    and (fields["status"] in ARBITRE_STATUSES or terr.status in ARBITRE_STATUSES)
                ):
                    actor.require("arbitre", f"le statut « {fields.get('status')} »")
                self._apply_update(con, territory_id, after)
                if "locked" in fields and bool(fields["locked"]) != terr.locked:
                    self._journal(
                        con,
                        scen.id,
                        "verrouillage" if fields["locked"] else "déverrouillage",
                        f"{'Verrouillage' if fields['locked'] else 'Déverrouillage'} de « {terr.name} »",
                        session=session,
                        territory=terr.name,
                    )
                if before:
                    recorded = {k: v for k, v in after.items() if k != "locked"}
                    self._record(
                        con,
                        scen.id,
                        [["update", territory_id, _jsonable(before), recorded]],
                        f"Modification de « {terr.name} »",
                        session,
                    )
        except self.db.integrity_errors as exc:
            raise DataError(
                f"Le scénario « {scenario} » a déjà un territoire nommé « {fields.get('name')} »."
            ) from exc

    @staticmethod
    def _apply_update(con, territory_id: int, values: dict) -> None:
        sets = ", ".join(f"{k}=?" for k in values)
        con.execute(
            f"UPDATE territories SET {sets}, updated_at=? WHERE id=?",
            (
                *[int(v) if isinstance(v, bool) else v for v in values.values()],
                now_iso(),
                territory_id,
            ),
        )

    def delete_territory(self, scenario: str, territory_id: int, session: str = "") -> None:
        scen = self.get(scenario)
        terr = scen.territory(territory_id)
        with self._transaction() as con:
            self._require_write(con, scenario)
            if terr.locked:
                raise DataError(
                    f"Le territoire « {terr.name} » est verrouillé : déverrouillez-le pour le supprimer."
                )
            con.execute("DELETE FROM territories WHERE id=?", (territory_id,))
            self._record(
                con,
                scen.id,
                [
                    [
                        "delete",
                        territory_id,
                        terr.name,
                        terr.status,
                        terr.colour,
                        terr.notes,
                        sorted(terr.communes),
                    ]
                ],
                f"Suppression de « {terr.name} »",
                session,
            )

    # --- assignments -------------------------------------------------------------

    def change_communes(
        self,
        scenario: str,
        territory_id: int,
        add=(),
        remove=(),
        label: str = "",
        session: str = "",
        seen: int | None = None,
    ) -> ChangeResult:
        """Add and remove communes of a territory in one recorded transaction.

        Communes held by another territory are refused unless the scenario
        allows overlap; a locked territory cannot change, nor lose or give
        communes. ``seen`` is the last change the editor's view showed
        (:meth:`last_change`): an edit of a commune somebody else changed
        since is refused, naming who and when.
        """
        add, remove = list(dict.fromkeys(add)), list(dict.fromkeys(remove))
        wanted = sorted(set(add) | set(remove))
        result = ChangeResult()
        # On PostgreSQL, edits of other communes run meanwhile (see geo.store.database): every read is sent
        # at once, after the locks of the communes, then checked.
        with self.db.transaction(items=[f"{scenario}\x1f{code}" for code in wanted]) as con:
            found = con.execute(
                "SELECT s.id, s.owner, s.sharing, s.allow_overlap, t.locked, t.name, "
                "EXISTS(SELECT 1 FROM history h WHERE h.scenario_id=s.id AND h.session=? AND h.undone=1), "
                f"{_ACTOR_COLUMNS} FROM scenarios s "
                "LEFT JOIN territories t ON t.scenario_id=s.id AND t.id=? WHERE s.name=?",
                (str(session or ""), self.user, int(territory_id), scenario),
            )
            among, among_params = _among("a.insee", wanted)
            held = (
                con.execute(
                    "SELECT a.insee, a.territory_id, t.name FROM assignments a JOIN territories t "
                    f"ON t.id=a.territory_id JOIN scenarios s ON s.id=t.scenario_id WHERE s.name=?{among}",
                    (scenario, *among_params),
                )
                if wanted
                else None
            )
            later = (
                con.execute(
                    "SELECT c.at, c.user_name, c.session, c.ops FROM changes c JOIN scenarios s "
                    "ON s.id=c.scenario_id WHERE s.name=? AND c.id>? ORDER BY c.id",
                    (scenario, int(seen)),
                )
                if seen is not None and wanted
                else None
            )
            row = found.fetchone()
            if row is None:
                raise DataError(f"Le scénario « {scenario} » n'existe pas.")
            self._actor_from(row[7:]).require_write(scenario, row[1], row[2])
            scen_id, _, _, allow_overlap, locked, tname, redo = row[:7]
            if tname is None:
                raise DataError(
                    f"Territoire n° {territory_id} introuvable dans le scénario « {scenario} »."
                )
            if locked:
                raise DataError(
                    f"Le territoire « {tname} » est verrouillé : déverrouillez-le pour le modifier."
                )
            if later is not None:
                self._refuse_stale(later.fetchall(), set(wanted), session)
            current: set[str] = set()
            holders: dict[str, str] = {}
            for code, tid, name in held.fetchall() if held is not None else ():
                if int(tid) == int(territory_id):
                    current.add(code)
                else:
                    holders.setdefault(code, name)
            for code in add:
                if code in current:
                    continue
                if code in holders and not allow_overlap:
                    result.refused[code] = f"déjà dans « {holders[code]} »"
                    continue
                result.added.append(code)
            result.removed = [c for c in remove if c in current and c not in result.added]
            if not (result.added or result.removed):
                return result
            # (the territory's row is not touched: the journal says when its communes changed)
            with self.db.writes(con) as writes:
                writes.executemany(
                    "INSERT INTO assignments VALUES (?,?)",
                    [(territory_id, c) for c in result.added],
                )
                writes.executemany(
                    "DELETE FROM assignments WHERE territory_id=? AND insee=?",
                    [(territory_id, c) for c in result.removed],
                )
                self._record(
                    writes,
                    scen_id,
                    [["assign", territory_id, result.added, result.removed]],
                    label or f"Communes de « {tname} »",
                    session,
                    territory=tname,
                    redo=bool(redo),
                )
        return result

    # --- history -----------------------------------------------------------------

    def _journal(
        self,
        con,
        scenario_id: int,
        action: str,
        label: str,
        ops: list | None = None,
        session: str = "",
        territory: str = "",
    ) -> None:
        """One line of the scenario's change journal (never trimmed): when, who, what. Its number follows the
        order of the commits (see geo.store.database): write it last."""
        turn, turn_params = self.db.commit_turn(str(scenario_id))
        con.execute(
            "INSERT INTO changes(scenario_id, at, user_name, session, action, territory, label, ops) "
            f"SELECT ?,?,?,?,?,?,?,?{turn}",
            (
                scenario_id,
                now_iso(),
                self.user,
                str(session or ""),
                action,
                territory,
                label,
                json.dumps(ops or [], ensure_ascii=False),
                *turn_params,
            ),
        )

    def _territory_names(self, con, ops: list) -> str:
        names = []
        for op in ops:
            if op[0] in ("create", "delete"):
                names.append(op[2])
            else:
                row = con.execute("SELECT name FROM territories WHERE id=?", (op[1],)).fetchone()
                names.append(row[0] if row else f"n° {op[1]}")
        return ", ".join(dict.fromkeys(names))

    def last_change(self, scenario: str) -> int:
        """The number of the scenario's last change (0 when none): what a view was built on."""
        with self._connect() as con:
            row = con.execute(
                "SELECT MAX(c.id) FROM changes c JOIN scenarios s ON s.id=c.scenario_id WHERE s.name=?",
                (scenario,),
            ).fetchone()
        return int(row[0] or 0)

    def _refuse_stale(self, later, codes: set[str], session: str) -> None:
        """Refuse an edit of communes that another person or session changed after the change the view
        showed: ``later`` are the journal lines since (at, user, session, ops), oldest first."""
        for at, user, other_session, ops in later:
            if user == self.user and other_session == str(session or ""):
                continue
            touched = set()
            for op in json.loads(ops):
                if op[0] == "assign":
                    touched |= set(op[2]) | set(op[3])
                elif op[0] == "delete":
                    touched |= set(op[6])
            clash = sorted(touched & codes)
            if clash:
                raise DataError(
                    f"Modification refusée : {', '.join(clash[:10])} modifiée(s) par {user} le "
                    f"{_french_time(at)}, depuis l'affichage de la page. Rechargez pour voir "
                    "l'état actuel puis recommencez."
                )

    def _record(
        self,
        con,
        scenario_id: int,
        ops: list,
        label: str,
        session: str = "",
        action: str | None = None,
        territory: str | None = None,
        redo: bool = True,
    ) -> None:
        """Record a step of ``session``: its redo stack is cleared, other sessions' are kept; and journal it
        (``territory``: the name of the territory changed, when known; ``redo``: False when the session is
        known to have no undone step). With ``territory`` given nothing is read: ``con`` may be a
        ``Database.writes`` block."""
        session = str(session or "")
        if redo:
            con.execute(
                "DELETE FROM history WHERE scenario_id=? AND session=? AND undone=1",
                (scenario_id, session),
            )
        con.execute(
            "INSERT INTO history(scenario_id, ops, label, created_at, session) VALUES (?,?,?,?,?)",
            (scenario_id, json.dumps(ops, ensure_ascii=False), label, now_iso(), session),
        )
        # Steps beyond the limits are dropped (the journal keeps every change), every HISTORY_TRIM_EVERY steps
        # this store records (and at its first): a session keeps at least HISTORY_LIMIT steps, and the team's
        # edits do not all queue on the same old steps.
        if self._steps_recorded % HISTORY_TRIM_EVERY == 0:
            # (rows another edit is dropping at the same time are left to it)
            con.execute(
                "DELETE FROM history WHERE id IN (SELECT id FROM history WHERE scenario_id=? AND session=? "
                "AND id <= (SELECT id FROM history WHERE scenario_id=? AND session=? ORDER BY id DESC "
                f"LIMIT 1 OFFSET ?){self.db.skip_locked})",
                (scenario_id, session, scenario_id, session, HISTORY_LIMIT),
            )
            con.execute(
                "DELETE FROM history WHERE id IN (SELECT id FROM history WHERE scenario_id=? AND id <= "
                "(SELECT id FROM history WHERE scenario_id=? ORDER BY id DESC LIMIT 1 OFFSET ?)"
                f"{self.db.skip_locked})",
                (scenario_id, scenario_id, HISTORY_SCENARIO_LIMIT),
            )
        self._steps_recorded += 1
        self._journal(
            con,
            scenario_id,
            action or _ACTIONS[ops[0][0]],
            label,
            ops,
            session,
            territory if territory is not None else self._territory_names(con, ops),
        )

    def history_state(self, scenario: str, session: str = "") -> dict:
        """How many steps ``session`` can undo and redo, and their labels."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT h.label, h.undone FROM history h JOIN scenarios s ON s.id=h.scenario_id "
                "WHERE s.name=? AND h.session=? ORDER BY h.id",
                (scenario, str(session or "")),
            ).fetchall()
        done = [label for label, undone in rows if not undone]
        undone = [label for label, undone in rows if undone]
        return {
            "undo": len(done),
            "redo": len(undone),
            "undo_label": done[-1] if done else None,
            "redo_label": undone[0] if undone else None,
        }

    def undo(self, scenario: str, session: str = "") -> str | None:
        """Revert the last step of ``session``; its label, or None when there is none."""
        return self._step(scenario, session, undo=True)

    def redo(self, scenario: str, session: str = "") -> str | None:
        """Replay the last step ``session`` undid; its label, or None when there is none."""
        return self._step(scenario, session, undo=False)

    def _step(self, scenario: str, session: str, undo: bool) -> str | None:
        with self._transaction() as con:
            order = "DESC" if undo else "ASC"
            row = con.execute(
                f"SELECT h.id, h.ops, h.label, h.scenario_id, s.allow_overlap FROM history h "
                f"JOIN scenarios s ON s.id=h.scenario_id "
                f"WHERE s.name=? AND h.session=? AND h.undone=? ORDER BY h.id {order} LIMIT 1",
                (scenario, str(session or ""), 0 if undo else 1),
            ).fetchone()
            if row is None:
                return None
            hid, ops, label, scen_id, allow_overlap = row
            self._require_write(con, scenario)
            ops = json.loads(ops)
            what = "d'annuler" if undo else "de rétablir"
            try:
                for op in reversed(ops) if undo else ops:
                    self._replay(
                        con,
                        scen_id,
                        op,
                        inverse=undo,
                        allow_overlap=bool(allow_overlap),
                        refuse=lambda why: DataError(f"Impossible {what} « {label} » : {why}"),
                    )
            except self.db.integrity_errors as exc:
                raise DataError(
                    f"Impossible {what} « {label} » : le scénario « {scenario} » a changé depuis "
                    f"(un territoire de même nom ou de même numéro existe déjà)."
                ) from exc
            con.execute("UPDATE history SET undone=? WHERE id=?", (1 if undo else 0, hid))
            con.execute("UPDATE scenarios SET updated_at=? WHERE id=?", (now_iso(), scen_id))
            done = [_inverse(op) for op in reversed(ops)] if undo else ops
            self._journal(
                con,
                scen_id,
                "annulation" if undo else "rétablissement",
                f"{'Annulation' if undo else 'Rétablissement'} : {label}",
                done,
                session,
                self._territory_names(con, done),
            )
            return label

    # --- change journal ------------------------------------------------------------

    def history(self, scenario: str) -> list[dict]:
        """Every change of the scenario, oldest first: id, at, user, action, territory, added, removed, label."""
        scen = self.get(scenario)
        with self._connect() as con:
            rows = con.execute(
                "SELECT id, at, user_name, action, territory, label, ops FROM changes "
                "WHERE scenario_id=? ORDER BY id",
                (scen.id,),
            ).fetchall()
        return [_change_row(*row)[0] for row in rows]

    def journal(self, scenario: str, limit: int = 10, offset: int = 0) -> tuple[list[dict], int]:
        """A page of the scenario's changes, newest first (the history panel), and how many there are.

        Each change as in :meth:`history`, plus ``fields``: ``{field: [before, after]}`` of the name, status,
        colour or notes changes of a territory. Reads one page through the journal's index."""
        with self._connect() as con:
            row = con.execute(
                "SELECT id, owner, sharing FROM scenarios WHERE name=?", (scenario,)
            ).fetchone()
            if row is None:
                raise DataError(f"Le scénario « {scenario} » n'existe pas.")
            if not self.actor(con).can_read(row[1], row[2]):
                raise DataError(f"Le scénario « {scenario} » est privé (propriétaire : {row[1]}).")
            total = con.execute("SELECT COUNT(*) FROM changes WHERE scenario_id=?", (row[0],))
            total = int(total.fetchone()[0])
            rows = con.execute(
                "SELECT id, at, user_name, action, territory, label, ops FROM changes "
                "WHERE scenario_id=? ORDER BY id DESC LIMIT ? OFFSET ?",
                (row[0], max(int(limit), 1), max(int(offset), 0)),
            ).fetchall()
        out = []
        for values in rows:
            change, ops = _change_row(*values)
            fields = {}
            for op in ops:
                if op[0] == "update":
                    fields.update({k: [op[2].get(k), v] for k, v in op[3].items()})
            out.append({**change, "fields": fields})
        return out, total

    def restore(self, scenario: str, change_id: int, session: str = "") -> int:
        """Put the scenario back as it was right after change ``change_id``, as one new change (undoable).
        The number of changes reverted."""
        with self._transaction() as con:
            scen_id, _ = self._require_write(con, scenario)
            if (
                con.execute(
                    "SELECT 1 FROM changes WHERE id=? AND scenario_id=?", (int(change_id), scen_id)
                ).fetchone()
                is None
            ):
                raise DataError(
                    f"Modification n° {change_id} introuvable dans le scénario « {scenario} »."
                )
            allow_overlap = bool(
                con.execute(
                    "SELECT allow_overlap FROM scenarios WHERE id=?", (scen_id,)
                ).fetchone()[0]
            )
            later = con.execute(
                "SELECT id, label, ops, action FROM changes WHERE scenario_id=? AND id>? ORDER BY id DESC",
                (scen_id, int(change_id)),
            ).fetchall()
            if any(action == "cog" for *_, action in later):  # back on the older COG's codes:
                con.execute(
                    "UPDATE scenarios SET cog_year=NULL WHERE id=?", (scen_id,)
                )  # migrated again
            done = []
            for _, label, ops, _ in later:
                for op in reversed(json.loads(ops)):
                    self._replay(
                        con,
                        scen_id,
                        op,
                        inverse=True,
                        allow_overlap=allow_overlap,
                        refuse=lambda why, label=label: DataError(
                            f"Impossible de restaurer l'état n° {change_id} : « {label} » ne peut être "
                            f"défait ({why})"
                        ),
                    )
                    done.append(_inverse(op))
            if done:
                self._record(
                    con,
                    scen_id,
                    done,
                    f"Restauration de l'état n° {change_id}",
                    session,
                    action="restauration",
                )
            return len(later)

    @staticmethod
    def _territory_row(con, scen_id: int, tid: int):
        return con.execute(
            "SELECT name, locked, status, colour, notes FROM territories WHERE id=? AND scenario_id=?",
            (tid, scen_id),
        ).fetchone()

    def _replay(
        self, con, scen_id: int, op: list, inverse: bool, allow_overlap: bool, refuse
    ) -> None:
        """Apply one recorded operation (or its inverse), refusing what would revert another session's work."""
        kind, tid = op[0], op[1]
        row = self._territory_row(con, scen_id, tid)
        if row is not None and row[1]:
            raise DataError(
                f"Le territoire « {row[0]} » est verrouillé : déverrouillez-le pour "
                f"{'annuler' if inverse else 'rétablir'} cette modification."
            )
        if kind == "assign":
            _, tid, added, removed = op
            if inverse:
                added, removed = removed, added
            if row is None and (added or removed):
                raise refuse(f"le territoire n° {tid} n'existe plus.")
            if added and not allow_overlap:
                _refuse_taken(con, scen_id, added, tid, refuse)
            con.executemany(
                "INSERT INTO assignments VALUES (?,?) ON CONFLICT DO NOTHING",
                [(tid, c) for c in added],
            )
            con.executemany(
                "DELETE FROM assignments WHERE territory_id=? AND insee=?",
                [(tid, c) for c in removed],
            )
        elif kind == "update":
            _, tid, before, after = op
            target, expected = (before, after) if inverse else (after, before)
            if row is None:
                raise refuse(f"le territoire n° {tid} n'existe plus.")
            current = dict(zip(("name", "locked", "status", "colour", "notes"), row))
            changed = [k for k, v in expected.items() if k in current and current[k] != v]
            if changed:
                raise refuse(f"« {row[0]} » a été modifié depuis ({', '.join(changed)}).")
            self._apply_update(con, tid, target)
        elif kind in ("create", "delete"):
            tid, name, status, colour, notes = op[1:6]
            communes = (
                op[6] if len(op) > 6 else []
            )  # a re-creation (undo of a deletion) carries its communes
            remove = (kind == "delete") != inverse
            if remove:
                if row is None:
                    return
                held = {
                    r[0]
                    for r in con.execute(
                        "SELECT insee FROM assignments WHERE territory_id=?", (tid,)
                    )
                }
                extra = sorted(held - set(communes))
                if extra:
                    raise refuse(
                        f"« {row[0]} » contient des communes ajoutées depuis ({', '.join(extra[:10])})."
                    )
                con.execute("DELETE FROM territories WHERE id=?", (tid,))
            else:
                if row is not None:
                    raise refuse(f"le territoire n° {tid} existe déjà.")
                if communes and not allow_overlap:
                    _refuse_taken(con, scen_id, communes, tid, refuse)
                stamp = now_iso()
                con.execute(
                    "INSERT INTO territories(id, scenario_id, name, status, colour, notes, created_at, updated_at) "
                    "VALUES (?,?,?,?,?,?,?,?)",
                    (tid, scen_id, name, status, colour, notes, stamp, stamp),
                )
                con.executemany(
                    "INSERT INTO assignments VALUES (?,?)", [(tid, c) for c in communes]
                )


_ACTIONS = {
    "assign": "communes",
    "create": "création",
    "delete": "suppression",
    "update": "modification",
}


def _change_row(cid, at, user, action, territory, label, ops) -> tuple[dict, list]:
    """A journal line as :meth:`ScenarioStore.history` gives it, and its recorded operations."""
    ops = json.loads(ops)
    added, removed = [], []
    for op in ops:
        if op[0] == "assign":
            added += op[2]
            removed += op[3]
        elif op[0] == "delete":
            removed += op[6]
    change = {
        "id": cid,
        "at": at,
        "user": user,
        "action": action,
        "territory": territory,
        "added": sorted(set(added)),
        "removed": sorted(set(removed)),
        "label": label,
    }
    return change, ops


def _inverse(op: list) -> list:
    """The recorded operation that undoes ``op``."""
    kind = op[0]
    if kind == "assign":
        return ["assign", op[1], list(op[3]), list(op[2])]
    if kind == "update":
        return ["update", op[1], op[3], op[2]]
    if kind == "create":
        return ["delete", *op[1:6], []]
    return ["create", *op[1:6], list(op[6])]  # a deletion is undone by a creation with its communes


def _french_time(iso: str) -> str:
    """« 30/11/2026 à 14:05 » from an ISO timestamp (as stored)."""
    match = re.match(r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})", iso or "")
    return f"{match[3]}/{match[2]}/{match[1]} à {match[4]}:{match[5]}" if match else str(iso)


def next_territory_id(con) -> int:
    """A territory number never given before in this store (the ``territory`` counter, in the caller's
    write transaction)."""
    value = con.execute(
        "UPDATE counters SET value = value + 1 WHERE name='territory' RETURNING value"
    ).fetchone()
    return int(value[0])


MAX_LISTED_CODES = 5000  # codes named in one query; beyond, the query reads the whole territory


def _among(column: str, codes: list[str]) -> tuple[str, tuple]:
    """`` AND column IN (?, ...)`` for a few codes (nothing when there are too many to list)."""
    if not codes or len(codes) > MAX_LISTED_CODES:
        return "", ()
    return f" AND {column} IN ({','.join('?' * len(codes))})", tuple(codes)


def _clean_name(name: str, what: str) -> str:
    text = " ".join(str(name or "").split())
    if not text:
        raise DataError(f"Le nom du {what} est vide.")
    if len(text) > 120:
        raise DataError(f"Le nom du {what} dépasse 120 caractères.")
    return text


def _refuse_taken(con, scen_id: int, codes, territory_id: int, refuse) -> None:
    """``refuse`` (an undo/redo) when one of ``codes`` is now held by another territory of the scenario."""
    marks = ",".join("?" * len(codes))
    taken = con.execute(
        f"SELECT a.insee, t.name FROM assignments a JOIN territories t ON t.id=a.territory_id "
        f"WHERE t.scenario_id=? AND t.id<>? AND a.insee IN ({marks}) ORDER BY a.insee",
        (scen_id, territory_id, *codes),
    ).fetchall()
    if taken:
        listed = ", ".join(f"{code} (dans « {name} »)" for code, name in taken[:10])
        raise refuse(f"commune(s) désormais dans un autre territoire : {listed}.")


def _check_colour(colour) -> str:
    """A territory colour is ``#RRGGBB`` (what the colour picker gives): nothing else reaches a map style."""
    text = str(colour or "").strip()
    if not re.fullmatch(r"#[0-9A-Fa-f]{6}", text):
        raise DataError(f"Couleur « {text[:40]} » invalide : attendu un code #RRGGBB.")
    return text


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise DataError(f"Statut « {status} » inconnu ; statuts possibles : {', '.join(STATUSES)}.")


def _jsonable(values: dict) -> dict:
    return {k: (int(v) if isinstance(v, bool) else v) for k, v in values.items()}
