"""The database behind the scenario store: an SQLite file (one planner) or PostgreSQL (a team).

``open_database(location)`` gives a :class:`Database` for a path (SQLite, the embedded default) or a
``postgresql://`` URL (psycopg 3 with a connection pool, one pool per URL and process). Both speak
the same SQL, written with ``?`` placeholders (turned into ``%s`` for psycopg), and give French
``DataError`` for what a user can meet: a full disk, a busy or unreachable database.

Locking. SQLite has one writer at a time: every write transaction starts with ``BEGIN IMMEDIATE``.
PostgreSQL lets a team's edits of distinct communes run side by side, with transaction-level advisory
locks (released by the commit or the rollback):

- ``transaction()`` (every change but a commune edit: territories, undo/redo, restore, sharing, COG
  migration, disputes, copies...) takes the store lock ``WRITE_LOCK_KEY`` *exclusively*: it runs alone
  and reads a scenario nobody else is changing.
- ``transaction(items=...)`` (``ScenarioStore.change_communes``) takes the store lock *shared* (it runs
  beside other edits, never beside an exclusive change) and an exclusive lock per item, one item per
  (scenario, commune) touched, in key order (no deadlock between two edits). Two edits of the same commune
  thus run one after the other, and the second reads what the first committed (READ COMMITTED: each
  statement sees the commits made before it started): a commune given to a territory is refused to
  another one, an edit based on a stale view is refused. Such a transaction's statements are queued
  and sent together when a result is needed, as one simple-protocol query (:class:`_Batch`), the
  ``COMMIT`` going with the last writes (two round trips for a commune edit), and its writes are one
  statement (``writes()``: a ``WITH`` of data-modifying statements).
- ``commit_turn(key)``, in the statement writing the journal line (the last one): from there to the
  commit, the transactions of the same scenario take turns, so the journal's numbers follow the order of
  the commits (a view built on change n has seen every change numbered up to n, what the stale-edit check
  relies on). The turn covers only that statement and the commit, sent together.

Reads take no lock. No row is updated by every edit (the scenario's last change time is read from its
journal), so concurrent edits never queue on one row.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import re
import sqlite3
import threading
import weakref
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import psycopg_pool

from geo.errors import DataError

# Key of the PostgreSQL advisory lock of the store's write transactions: exclusive for a change of a whole
# scenario, shared by the edits of distinct communes (see the module's docstring).
WRITE_LOCK_KEY = 727_000_001
# A commune edit's statements are prepared when they have at most this many parameters (a statement per
# number of communes edited at once: a connection keeps a bounded number; large batches are planned each time).
PREPARE_MAX_PARAMETERS = 40
POOL_MAX = 10  # connections per app instance (Streamlit serves every session from one process)
CONNECT_TIMEOUT_S = 10

_POOLS: dict[str, psycopg_pool.ConnectionPool] = {}
_POOLS_LOCK = threading.Lock()
_PLACEHOLDER = re.compile(r"\?")
_IDLE = psycopg.pq.TransactionStatus.IDLE
# What each connection has prepared for the batches (see _Batch), and the parameters' SQL types.
_PREPARED: weakref.WeakKeyDictionary[psycopg.Connection, set[str]] = weakref.WeakKeyDictionary()
# (values of other types: their parameter's type is inferred by PostgreSQL from the statement)
_PG_TYPES = {int: "bigint", str: "text", bool: "boolean", float: "double precision"}


def is_postgresql(location) -> bool:
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


def open_database(location: Path | str) -> Database:
    """The database at ``location``: a ``postgresql://`` URL, else an SQLite file path."""
    if is_postgresql(location):
        return PostgresDatabase(location)
    return SqliteDatabase(Path(location))


def item_key(item: str) -> int:
    """The advisory lock key of an item (a signed 64-bit number, the same in every process)."""
    digest = hashlib.blake2b(item.encode("utf-8"), digest_size=8, person=b"cartocpts").digest()
    return int.from_bytes(digest, "big", signed=True)


def safe_url(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}@" if parts.username else ""
    return f"{parts.scheme}://{user}{host}{parts.path}"


class Database:
    """What the scenario store needs from a database: connections, write transactions, French errors."""

    kind = ""
    integrity_errors: tuple[type[BaseException], ...] = ()
    label = ""
    # Ends a subquery choosing rows to delete: rows another transaction holds are left to it (PostgreSQL).
    skip_locked = ""

    def connect(self):  # pragma: no cover - interface
        raise NotImplementedError

    def transaction(self, items: Iterable[str] | None = None):  # pragma: no cover - interface
        """A write transaction: exclusive, or beside the others that lock none of ``items``."""
        raise NotImplementedError

    @contextmanager
    def writes(self, con):
        """A block of write statements whose results are not read (``execute``/``executemany``), sent at its
        end: one by one here, as one statement on PostgreSQL (see :class:`_Writes`)."""
        yield con

    def commit_turn(self, key: str) -> tuple[str, tuple]:
        """The ``FROM`` clause (and its parameters) of an ``INSERT ... SELECT`` after which, up to the commit,
        the transactions naming ``key`` take turns (nothing on SQLite, where writers always do)."""
        return "", ()

    def french(self, exc: BaseException) -> BaseException:  # pragma: no cover - interface
        raise NotImplementedError

    def integrity_check(self) -> str:  # pragma: no cover - interface
        raise NotImplementedError


# --------------------------------------------------------------------------- SQLite


class SqliteDatabase(Database):
    kind = "sqlite"
    integrity_errors = (sqlite3.IntegrityError,)

    def __init__(self, path: Path):
        self.path = path
        self.label = str(path)

    @contextmanager
    def connect(self):
        try:
            con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        except sqlite3.Error as exc:
            raise self.french(exc) from exc
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA foreign_keys=ON")
            con.execute("PRAGMA synchronous=NORMAL")
            yield con
        except sqlite3.OperationalError as exc:
            raise self.french(exc) from exc
        finally:
            con.close()

    @contextmanager
    def transaction(self, items: Iterable[str] | None = None):
        """SQLite has one writer at a time: ``items`` changes nothing."""
        with self.connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
                con.execute("COMMIT")
            except BaseException:
                # SQLite already rolled back after an I/O error or a full disk.
                if con.in_transaction:
                    try:
                        con.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                raise

    def french(self, exc: BaseException) -> BaseException:
        """A French DataError for a full disk, a write refused by the system or a busy database."""
        name = getattr(exc, "sqlite_errorname", "") or ""
        text = str(exc)
        if (
            name.startswith(
                (
                    "SQLITE_FULL",
                    "SQLITE_IOERR_WRITE",
                    "SQLITE_IOERR_TRUNCATE",
                    "SQLITE_IOERR_SHMSIZE",
                )
            )
            or "database or disk is full" in text
        ):
            return DataError(
                f"Disque plein : impossible d'enregistrer la modification dans {self.label} "
                f"(écriture refusée par le système : {name or text}). "
                "Libérez de la place puis recommencez ; les modifications déjà enregistrées sont intactes."
            )
        if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in text:
            return DataError(
                f"La base des scénarios {self.label} est occupée par une autre écriture : "
                "réessayez dans un instant."
            )
        if isinstance(exc, sqlite3.OperationalError):
            return DataError(
                f"Erreur de la base des scénarios {self.label} : {text} ({name or 'SQLite'})."
            )
        return exc

    def integrity_check(self) -> str:
        with self.connect() as con:
            return con.execute("PRAGMA integrity_check").fetchone()[0]


# --------------------------------------------------------------------------- PostgreSQL


@functools.lru_cache(maxsize=512)
def _psycopg_sql(sql: str) -> str:
    return _PLACEHOLDER.sub("%s", sql)


@functools.lru_cache(maxsize=512)
def _numbered(sql: str) -> str:
    """The ``?`` placeholders as PREPARE's ``$1``, ``$2``... (and ``%`` doubled: the text goes through
    psycopg's client-side formatting, where ``%s`` are the EXECUTE's values)."""
    numbers = iter(range(1, sql.count("?") + 1))
    return _PLACEHOLDER.sub(lambda _: f"${next(numbers)}", sql).replace("%", "%%")


class _PgConnection:
    """A psycopg connection that runs the store's ``?`` SQL (what sqlite3's connection offers)."""

    def __init__(self, con: psycopg.Connection):
        self._con = con

    def execute(self, sql: str, params=()):
        return self._con.execute(_psycopg_sql(sql), tuple(params) or None)

    def executemany(self, sql: str, rows):
        rows = [tuple(r) for r in rows]
        cur = self._con.cursor()
        if rows:
            cur.executemany(_psycopg_sql(sql), rows)
        return cur


class _Batch:
    """Statements queued and sent together when a result is read (or at :meth:`send`), as one
    simple-protocol query whose parameters psycopg binds on the client (``ClientCursor``, its quoting).

    PostgreSQL runs them in order, each on a snapshot taken when it starts (READ COMMITTED): a read queued
    after a lock sees what the lock's previous holder committed. Each statement with parameters is prepared
    once per connection (``PREPARE``, kept by the server for the session: planned once) and run with
    ``EXECUTE``. Against psycopg's pipeline mode this halves the client's CPU per statement, the larger share
    of a commune edit's CPU with a team editing at once (bench/team_bench.py). The connections are the
    server's sessions (no pooler in transaction mode between them, as for any prepared statement).
    """

    def __init__(self, con: psycopg.Connection):
        self._con = con
        self._queue: list[tuple[str, tuple, _BatchResult]] = []
        self.failed = False  # a send failed: what the connection has prepared is not known
        self._sent = False  # whether a part of the transaction was sent

    def execute(self, sql: str, params=()) -> _BatchResult:
        result = _BatchResult(self)
        self._queue.append((sql, tuple(params), result))
        return result

    def send(self) -> None:
        if not self._queue:
            return
        queue, self._queue = self._queue, []
        prepared = _PREPARED.setdefault(self._con, set())
        first, self._sent = not self._sent, True
        cur = psycopg.ClientCursor(self._con)
        try:
            sql, params, results, new = _compose(queue, prepared)
            try:
                cur.execute(sql, params)
            except psycopg.errors.InvalidSqlStatementName:
                # The session lost its prepared statements (DEALLOCATE ALL, DISCARD ALL...). Nothing of
                # this transaction was read yet: it starts again, preparing every statement.
                if not first:
                    raise
                self._con.execute("ROLLBACK")
                prepared.clear()
                sql, params, results, new = _compose(queue, prepared)
                cur.execute(sql, params)
        except BaseException:
            self.failed = True
            raise
        prepared.update(new)
        for index, result in enumerate(results):
            if index:
                cur.nextset()
            if result is not None:
                result.rows = (
                    cur.fetchall() if cur.pgresult.status == psycopg.pq.ExecStatus.TUPLES_OK else []
                )

    def discard(self) -> None:
        self._queue = []


def _compose(queue: list, prepared: set[str]) -> tuple[str, list, list, list[str]]:
    """The query text of a batch's statements, its parameters, the result of each statement it holds (None:
    a PREPARE's) and the statements it prepares."""
    new: list[str] = []
    statements, params, results = [], [], []
    for sql, values, result in queue:
        if not values or len(values) > PREPARE_MAX_PARAMETERS:
            statements.append(
                _psycopg_sql(sql.replace("%", "%%"))
            )  # (the batch is always formatted)
            params.extend(values)
            results.append(result)
            continue
        # Each statement is prepared once per connection (the server plans it once, as psycopg's
        # prepared statements), with its parameters' types: what binding on the client does not say.
        types = tuple(_PG_TYPES.get(type(v), "unknown") for v in values)
        name = (
            "cartocpts_" + hashlib.blake2b(repr((sql, types)).encode(), digest_size=8).hexdigest()
        )
        if name not in prepared and name not in new:
            statements.append(f"PREPARE {name}({', '.join(types)}) AS {_numbered(sql)}")
            results.append(None)
            new.append(name)
        statements.append(f"EXECUTE {name}({', '.join(['%s'] * len(values))})")
        params.extend(values)
        results.append(result)
    return "; ".join(statements), params, results, new


class _BatchResult:
    """The rows of a statement of a :class:`_Batch`; reading them sends the batch."""

    def __init__(self, batch: _Batch):
        self._batch = batch
        self.rows: list | None = None

    def fetchall(self) -> list:
        if self.rows is None:
            self._batch.send()
        return self.rows

    def fetchone(self):
        rows = self.fetchall()
        return rows[0] if rows else None


class _Writes:
    """Write statements gathered and sent as one: ``WITH w0 AS (first), w1 AS (second) ... last``.

    PostgreSQL runs every data-modifying statement of a ``WITH`` to completion, on the same snapshot: the
    statements must not depend on each other's rows (an edit adds and removes distinct rows). One statement
    instead of several saves a parse, a plan and a round of protocol messages each, on both sides (about a
    quarter of the CPU of a commune edit).
    """

    def __init__(self, con: _PgConnection):
        self._con = con
        self._sql: list[str] = []
        self._params: list = []

    def execute(self, sql: str, params=()) -> None:
        self._sql.append(sql)
        self._params.extend(params)

    def executemany(self, sql: str, rows) -> None:
        for row in rows:
            self.execute(sql, row)

    def send(self) -> None:
        if not self._sql:
            return
        *first, last = self._sql
        with_ = ", ".join(f"w{i} AS ({sql})" for i, sql in enumerate(first))
        self._con.execute(f"WITH {with_} {last}" if first else last, self._params)


class PostgresDatabase(Database):
    kind = "postgresql"
    integrity_errors = (psycopg.errors.IntegrityError,)
    skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(self, url: str):
        self.url = url
        self.label = safe_url(url)

    def _pool(self) -> psycopg_pool.ConnectionPool:
        with _POOLS_LOCK:
            pool = _POOLS.get(self.url)
            if pool is None:
                pool = psycopg_pool.ConnectionPool(
                    self.url,
                    min_size=1,
                    max_size=POOL_MAX,
                    open=False,
                    name=self.label,
                    # psycopg prepares nothing itself: it would deallocate every prepared statement of
                    # the session at each rollback, _Batch's included (see _Batch).
                    kwargs={
                        "connect_timeout": CONNECT_TIMEOUT_S,
                        "application_name": "cartocpts",
                        "prepare_threshold": None,
                    },
                )
                try:
                    pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
                except (psycopg_pool.PoolTimeout, psycopg.Error) as exc:
                    pool.close()
                    raise self.french(exc) from exc
                _POOLS[self.url] = pool
            return pool

    @contextmanager
    def connect(self):
        try:
            with self._pool().connection(timeout=CONNECT_TIMEOUT_S) as con:
                yield _PgConnection(con)
        except psycopg_pool.PoolTimeout as exc:
            raise self.french(exc) from exc
        except psycopg.OperationalError as exc:
            raise self.french(exc) from exc
        except psycopg.errors.InvalidSqlStatementName as exc:
            raise DataError(
                f"La session PostgreSQL {self.label} a perdu ses instructions préparées pendant la "
                "modification (un intermédiaire de connexions en mode « transaction » ?) : rien n'a été "
                "enregistré, recommencez."
            ) from exc
        except psycopg.DataError as exc:
            if "NUL (0x00)" not in str(exc):
                raise
            # psycopg refuses it before sending: PostgreSQL text cannot hold it (SQLite keeps it as text)
            raise DataError(
                "Un texte saisi contient un caractère nul (0x00), que PostgreSQL ne peut pas enregistrer : "
                "retirez-le puis recommencez ; rien n'a été enregistré."
            ) from exc

    @contextmanager
    def transaction(self, items: Iterable[str] | None = None):
        """Exclusive, or (``items`` given) shared with the transactions that lock none of ``items``, its
        statements sent in batches (:class:`_Batch`); see the module's docstring."""
        # The pool's connection context commits on success and rolls back on an exception.
        with self.connect() as con:
            if items is None:
                con.execute("SELECT pg_advisory_xact_lock(?)", (WRITE_LOCK_KEY,))
                yield con
                return
            keys = sorted({item_key(item) for item in items})
            raw = con._con
            raw.autocommit = (
                True  # the batch says BEGIN and COMMIT itself (with its first and last statements)
            )
            batch = _Batch(raw)
            try:
                batch.execute("BEGIN")
                # The store lock first, then the items' in key order (one statement, evaluated left to right).
                batch.execute(
                    "SELECT pg_advisory_xact_lock_shared(?), (SELECT COUNT(*) FROM (SELECT "
                    "pg_advisory_xact_lock(k) FROM unnest(?::bigint[]) WITH ORDINALITY AS u(k, n) ORDER BY n) "
                    "AS items)",
                    (WRITE_LOCK_KEY, keys),
                )
                yield batch
                batch.execute("COMMIT")
                batch.send()
            except BaseException:
                batch.discard()
                if batch.failed:
                    raw.close()  # (which of its statements were prepared is not known)
                elif not raw.closed and raw.info.transaction_status != _IDLE:
                    with contextlib.suppress(
                        psycopg.Error
                    ):  # (a broken connection is closed below)
                        raw.execute("ROLLBACK")
                raise
            finally:
                if raw.closed or raw.info.transaction_status != _IDLE:
                    raw.close()  # never back to the pool in autocommit or in a transaction: it opens another
                else:
                    raw.autocommit = False

    @contextmanager
    def writes(self, con):
        batch = _Writes(con)
        yield batch
        batch.send()

    def commit_turn(self, key: str) -> tuple[str, tuple]:
        return " FROM (SELECT pg_advisory_xact_lock(?)) AS turn", (
            item_key(f"commit turn\x1f{key}"),
        )

    def french(self, exc: BaseException) -> BaseException:
        if isinstance(exc, psycopg_pool.PoolTimeout) or isinstance(exc, psycopg.OperationalError):
            sqlstate = getattr(exc, "sqlstate", None) or ""
            if sqlstate == "53100":
                return DataError(
                    f"Disque plein sur le serveur PostgreSQL {self.label} : la modification n'est "
                    "pas enregistrée ; les modifications déjà enregistrées sont intactes."
                )
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return DataError(
                f"Base PostgreSQL {self.label} injoignable ou refusée : {detail}. "
                "Vérifiez CARTOCPTS_DATABASE_URL et que le serveur est démarré."
            )
        return exc

    def integrity_check(self) -> str:
        with self.connect() as con:
            con.execute("SELECT 1").fetchone()
        return "ok"


def close_pools() -> None:
    """Close every PostgreSQL pool of this process (tests, the end of a command)."""
    with _POOLS_LOCK:
        for pool in _POOLS.values():
            pool.close()
        _POOLS.clear()
