"""The negotiation ledger: communes claimed by two or more territories, and what the team decided.

A commune is *disputed* when it is claimed from two or more sources: territories of different scenarios
shared with the team (sharing level ``lecture`` or ``ecriture``; a private scenario is a draft, it claims
nothing), or a shared territory and one of the imported CPTS perimeters (the ``cpts`` layer, given as
``cpts_members``: INSEE code -> [(CPTS id, name)], as ``geo.territory.Context.cpts_members``). Who claims
what is always derived from the current scenarios; the ledger (tables ``disputes`` and
``dispute_events``, migration 4) keeps per commune what people said and decided: its status, the
winning claimant, who decided and when, the notes, and every status change.

Statuses: ``ouvert`` (nobody acted yet), ``contesté`` (an editeur disputes it), ``arbitré`` (an arbitre
chose the winner), ``acté`` (the decision is final). Roles (:mod:`geo.store.users`): an editeur may mark
an undecided commune ``contesté`` and add notes; only an arbitre records a decision (``arbitré``,
``acté``), reopens one, or contests a decided commune. A refused action raises a French ``DataError``
and records nothing. In single-user mode (no user recorded) everything is allowed.

The winning territory keeps the commune; the others are told (:meth:`DisputeLedger.decided_against`,
shown in their panel of the drawing page).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from geo.errors import DataError
from geo.store.layers import now_iso

OPEN, CONTESTED, ARBITRATED, ENACTED = "ouvert", "contesté", "arbitré", "acté"
DISPUTE_STATUSES = (OPEN, CONTESTED, ARBITRATED, ENACTED)
DECIDED = (ARBITRATED, ENACTED)
# ASCII spellings accepted on the command line.
STATUS_ALIASES = {"ouvert": OPEN, "conteste": CONTESTED, "arbitre": ARBITRATED, "acte": ENACTED}
SHARED_LEVELS = ("lecture", "ecriture")
MAX_NOTE = 2000  # characters of one note


def check_dispute_status(status: str) -> str:
    """A ledger status from its French or ASCII spelling (French ``DataError`` otherwise)."""
    text = str(status or "").strip()
    if text in DISPUTE_STATUSES:
        return text
    if text.lower() in STATUS_ALIASES:
        return STATUS_ALIASES[text.lower()]
    raise DataError(
        f"Statut d'arbitrage « {text[:40]} » inconnu ; statuts possibles : {', '.join(DISPUTE_STATUSES)}."
    )


@dataclass(frozen=True)
class Claimant:
    """One territory claiming a commune: a territory of a shared scenario, or an imported CPTS."""

    key: str  # « territoire:<id> » (territory numbers are never reused) or « cpts:<id> »
    kind: str  # "territoire" or "cpts"
    name: str  # the territory's or the CPTS's name
    scenario: str = ""
    owner: str = ""
    scenario_id: int | None = None
    territory_id: int | None = None
    cpts_id: str = ""

    @property
    def source(self) -> str:
        """Claims from one source never dispute each other: one scenario, or the imported CPTS layer."""
        return f"scenario:{self.scenario_id}" if self.kind == "territoire" else "cpts"

    @property
    def label(self) -> str:
        """« CPTS du Pays de Foix » (scénario « Ariège 2027 », Marc), or CPTS « … » (id) — plain text."""
        if self.kind == "cpts":
            return f"CPTS « {self.name} » ({self.cpts_id})"
        owner = f", {self.owner}" if self.owner else ""
        return f"« {self.name} » (scénario « {self.scenario} »{owner})"

    def to_dict(self) -> dict:
        if self.kind == "cpts":
            return {
                "key": self.key,
                "kind": self.kind,
                "cpts_id": self.cpts_id,
                "cpts_name": self.name,
                "label": self.label,
            }
        return {
            "key": self.key,
            "kind": self.kind,
            "scenario": self.scenario,
            "territory": self.name,
            "owner": self.owner,
            "label": self.label,
        }


def is_disputed(claimants: Iterable[Claimant]) -> bool:
    """Two or more sources claim the commune, one of them a territory of a shared scenario."""
    claimants = list(claimants)
    return len({c.source for c in claimants}) >= 2 and any(
        c.kind == "territoire" for c in claimants
    )


@dataclass
class Dispute:
    """A commune of the ledger: its claimants now, and what the team said and decided."""

    code_insee: str
    claimants: list[Claimant]
    status: str = OPEN
    winner: str = ""  # the winning claimant's key ("" while undecided)
    winner_label: str = (
        ""  # its label when the decision was recorded (the territory may be gone since)
    )
    decided_by: str = ""
    decided_at: str = ""
    notes: list[dict] = field(default_factory=list)  # {"at", "user", "text"}, oldest first

    @property
    def active(self) -> bool:
        """Still claimed from two or more sources (a decided commune the losers gave up is not)."""
        return is_disputed(self.claimants)

    def claimant(self, key: str) -> Claimant | None:
        return next((c for c in self.claimants if c.key == key), None)

    def to_dict(self) -> dict:
        """The JSON of ``python -m geo disputes`` (without the commune's name, added by the caller)."""
        return {
            "code_insee": self.code_insee,
            "claimants": [c.to_dict() for c in self.claimants],
            "status": self.status,
            "decision": {"key": self.winner, "label": self.winner_label} if self.winner else None,
            "decided_by": self.decided_by or None,
            "decided_at": self.decided_at or None,
            "notes": list(self.notes),
            "active": self.active,
        }


def resolve_claimant(claimants: list[Claimant], text: str, code: str) -> Claimant:
    """The claimant ``text`` names: its key, territory number, « scénario / territoire », name or CPTS id."""
    wanted = " ".join(str(text or "").split())
    if not wanted:
        raise DataError(f"Commune {code} : indiquez le territoire gagnant.")
    for test in (
        lambda c: c.key == wanted,
        lambda c: c.kind == "territoire" and str(c.territory_id) == wanted,
        lambda c: c.kind == "territoire" and f"{c.scenario} / {c.name}" == wanted,
        lambda c: c.kind == "cpts" and c.cpts_id == wanted,
        lambda c: c.name == wanted,
    ):
        found = [c for c in claimants if test(c)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            break
    listed = " ; ".join(f"{c.key} = {c.label}" for c in claimants) or "aucun"
    raise DataError(
        f"Commune {code} : « {wanted[:80]} » ne désigne pas un seul des territoires qui la revendiquent "
        f"({listed}). Donnez la clé (par exemple {claimants[0].key if claimants else 'territoire:12'})."
    )


class DisputeLedger:
    """The ledger of a scenario store, acting as the store's user (roles checked in each transaction)."""

    def __init__(self, store, cpts_members: Mapping[str, list] | None = None):
        self.store = store
        self.cpts_members = cpts_members or {}

    # --- claims ------------------------------------------------------------------

    def _claims(self, con, codes: Iterable[str] | None = None) -> dict[str, list[Claimant]]:
        """Commune -> its claimants, for the communes held by a territory of a shared scenario."""
        wanted = None if codes is None else sorted(set(codes))
        sql = (
            "SELECT a.insee, t.id, t.name, s.id, s.name, s.owner FROM assignments a "
            "JOIN territories t ON t.id=a.territory_id JOIN scenarios s ON s.id=t.scenario_id "
            "WHERE s.sharing IN (?, ?)"
        )
        params: tuple = SHARED_LEVELS
        if wanted is not None and len(wanted) <= 500:
            sql += f" AND a.insee IN ({','.join('?' * len(wanted))})" if wanted else " AND 1=0"
            params += tuple(wanted)
        keep = None if wanted is None else set(wanted)
        out: dict[str, list[Claimant]] = {}
        for code, tid, tname, sid, sname, owner in con.execute(
            sql + " ORDER BY s.name, t.name", params
        ):
            if keep is not None and code not in keep:
                continue
            out.setdefault(code, []).append(
                Claimant(
                    f"territoire:{tid}",
                    "territoire",
                    tname,
                    scenario=sname,
                    owner=owner,
                    scenario_id=int(sid),
                    territory_id=int(tid),
                )
            )
        for code, claimants in out.items():
            for cid, cname in self.cpts_members.get(code, ()):
                claimants.append(Claimant(f"cpts:{cid}", "cpts", str(cname), cpts_id=str(cid)))
        return out

    def claimants(self, code: str) -> list[Claimant]:
        with self.store._connect() as con:
            return self._claims(con, [code]).get(code, [])

    # --- reading -----------------------------------------------------------------

    def version(self) -> tuple:
        """What the claims and the ledger are read from, in one cheap query: it moves when a scenario's
        communes change (the journal), a scenario is shared, created or deleted, or the ledger changes. A page
        compares it with the one it was drawn from to know when to read the disputes again."""
        with self.store._connect() as con:
            row = con.execute(
                "SELECT (SELECT MAX(id) FROM changes), (SELECT MAX(id) FROM dispute_events), "
                "(SELECT COUNT(*) FROM scenarios), (SELECT MAX(updated_at) FROM scenarios)"
            ).fetchone()
        return tuple(row)

    def disputes(self, codes: Iterable[str] | None = None) -> list[Dispute]:
        """The disputed communes and every commune of the ledger (among ``codes`` if given), by code."""
        keep = None if codes is None else set(codes)
        with self.store._connect() as con:
            self.store.actor(con)  # a known user (or single-user mode)
            claims = self._claims(con)
            rows = con.execute(
                "SELECT insee, status, winner, winner_label, decided_by, decided_at FROM disputes"
            ).fetchall()
            notes = con.execute(
                "SELECT insee, at, user_name, note FROM dispute_events WHERE note <> '' ORDER BY id"
            ).fetchall()
        ledger = {row[0]: row for row in rows}
        by_code: dict[str, list[dict]] = {}
        for code, at, user, text in notes:
            by_code.setdefault(code, []).append({"at": at, "user": user, "text": text})
        wanted = {c for c, cl in claims.items() if is_disputed(cl)} | set(ledger)
        out = []
        for code in sorted(wanted):
            if keep is not None and code not in keep:
                continue
            row = ledger.get(code)
            out.append(
                Dispute(
                    code,
                    claims.get(code, []),
                    *(row[1:] if row else ()),
                    notes=by_code.get(code, []),
                )
            )
        return out

    def dispute(self, code: str) -> Dispute:
        found = self.disputes([code])
        if not found:
            raise DataError(
                f"La commune {code} n'est pas disputée (revendiquée par moins de deux territoires)."
            )
        return found[0]

    def history(self, code: str) -> list[dict]:
        """Every status change and note of a commune, oldest first."""
        with self.store._connect() as con:
            self.store.actor(con)
            rows = con.execute(
                "SELECT at, user_name, action, previous, status, winner, winner_label, note "
                "FROM dispute_events WHERE insee=? ORDER BY id",
                (code,),
            ).fetchall()
        keys = ("at", "user", "action", "previous", "status", "winner", "winner_label", "note")
        return [dict(zip(keys, row)) for row in rows]

    def decided_against(self, scenario: str, territory_id: int | None = None) -> list[dict]:
        """Communes a territory of ``scenario`` still holds that an arbitre gave to another claimant.

        Rows {code_insee, territory_id, territory, status, winner, winner_label, decided_by, decided_at},
        by territory then code."""
        scen = self.store.get(scenario)  # the user may read it
        with self.store._connect() as con:
            rows = con.execute(
                "SELECT a.insee, t.id, t.name, d.status, d.winner, d.winner_label, d.decided_by, d.decided_at "
                "FROM assignments a JOIN territories t ON t.id=a.territory_id "
                "JOIN disputes d ON d.insee=a.insee WHERE t.scenario_id=? AND d.status IN (?, ?) "
                "ORDER BY t.name, a.insee",
                (scen.id, *DECIDED),
            ).fetchall()
        keys = (
            "code_insee",
            "territory_id",
            "territory",
            "status",
            "winner",
            "winner_label",
            "decided_by",
            "decided_at",
        )
        return [
            dict(zip(keys, row))
            for row in rows
            if row[4] != f"territoire:{row[1]}"
            and (territory_id is None or int(row[1]) == int(territory_id))
        ]

    # --- acting ------------------------------------------------------------------

    def contest(self, code: str, note: str = "") -> Dispute:
        """Mark a commune « contesté » (editeur; after a decision, arbitre: the decision is withdrawn)."""
        return self._set(code, CONTESTED, note=note)

    def decide(
        self, code: str, winner: str | None, status: str = ARBITRATED, note: str = ""
    ) -> Dispute:
        """Record the decision (arbitre): ``winner`` names a claimant (kept from before when None),
        ``status`` is « arbitré » or « acté » (or « ouvert »/« contesté » to withdraw it)."""
        return self._set(code, check_dispute_status(status), winner=winner, note=note)

    def note(self, code: str, text: str) -> Dispute:
        """Add a note to a disputed commune (editeur or arbitre)."""
        text = _clean_note(text)
        if not text:
            raise DataError(f"Commune {code} : la note est vide.")
        with self.store._transaction() as con:
            actor = self.store.actor(con)
            actor.require("editeur", f"annoter la commune {code}")
            row = self._row(con, code)
            if row is None:
                self._require_disputed(con, code)
                self._upsert(con, code, OPEN, "", "", "", "")
            self._event(con, code, "note", note=text)
        return self.dispute(code)

    def _set(self, code: str, status: str, winner: str | None = None, note: str = "") -> Dispute:
        note = _clean_note(note)
        with self.store._transaction() as con:
            actor = self.store.actor(con)
            row = self._row(con, code)
            previous = row[0] if row else OPEN
            if status == CONTESTED:
                actor.require("editeur", f"contester la commune {code}")
                if previous in DECIDED:
                    actor.require(
                        "arbitre", f"contester la décision sur la commune {code} ({previous})"
                    )
            elif status == OPEN:
                actor.require("arbitre", f"rouvrir la commune {code}")
            else:
                actor.require("arbitre", f"arbitrer la commune {code}")
            claimants = self._claims(con, [code]).get(code, [])
            if row is None:
                self._require_disputed(con, code, claimants)
            if status in DECIDED:
                if winner:
                    chosen = resolve_claimant(claimants, winner, code)
                    key, label = chosen.key, chosen.label
                elif row and row[1]:
                    key, label = row[1], row[2]
                else:
                    raise DataError(
                        f"Commune {code} : indiquez le territoire gagnant pour le statut « {status} »."
                    )
                decided = (key, label, actor.name, now_iso())
            else:
                decided = ("", "", "", "")
            self._upsert(con, code, status, *decided)
            self._event(con, code, "statut", previous, status, decided[0], decided[1], note)
        return self.dispute(code)

    # --- rows --------------------------------------------------------------------

    @staticmethod
    def _row(con, code: str):
        return con.execute(
            "SELECT status, winner, winner_label FROM disputes WHERE insee=?", (code,)
        ).fetchone()

    def _require_disputed(self, con, code: str, claimants: list[Claimant] | None = None) -> None:
        if claimants is None:
            claimants = self._claims(con, [code]).get(code, [])
        if not is_disputed(claimants):
            held = " ; ".join(c.label for c in claimants) or "aucun territoire partagé"
            raise DataError(
                f"La commune {code} n'est pas disputée : elle n'est revendiquée que par {held}."
            )

    @staticmethod
    def _upsert(con, code, status, winner, winner_label, decided_by, decided_at) -> None:
        con.execute(
            "INSERT INTO disputes(insee, status, winner, winner_label, decided_by, decided_at, updated_at) "
            "VALUES (?,?,?,?,?,?,?) ON CONFLICT (insee) DO UPDATE SET status=excluded.status, "
            "winner=excluded.winner, winner_label=excluded.winner_label, decided_by=excluded.decided_by, "
            "decided_at=excluded.decided_at, updated_at=excluded.updated_at",
            (code, status, winner, winner_label, decided_by, decided_at, now_iso()),
        )

    def _event(
        self, con, code, action, previous="", status="", winner="", winner_label="", note=""
    ) -> None:
        con.execute(
            "INSERT INTO dispute_events(insee, at, user_name, action, previous, status, winner, "
            "winner_label, note) VALUES (?,?,?,?,?,?,?,?,?)",
            (
                code,
                now_iso(),
                self.store.user,
                action,
                previous,
                status,
                winner,
                winner_label,
                note,
            ),
        )


def _clean_note(text) -> str:
    value = str(text or "").strip()
    if len(value) > MAX_NOTE:
        raise DataError(f"La note dépasse {MAX_NOTE} caractères.")
    return value
