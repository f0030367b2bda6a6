"""The database behind the scenario store: an SQLite file (one planner) or PostgreSQL (a team).

``open_database(location)`` gives a :class:`Database` for a path (SQLite, the embedded default) or a
``postgresql://`` URL (psycopg 3 with a connection pool, one pool per URL and process). Both speak
the same SQL, written with ``?`` placeholders (turned into ``%s`` for psycopg), and give French
``DataError`` for what a user can meet: a full disk, a busy or unreachable database.

Write transactions are serialised on both: SQLite's ``BEGIN IMMEDIATE`` takes the file's write lock;
on PostgreSQL a transaction-level advisory lock does the same, so a change reads and writes a
consistent scenario (two planners adding the same commune to two territories cannot both succeed).
Reads run without that lock.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import psycopg_pool

from geo.errors import DataError

# Key of the PostgreSQL advisory lock that serialises the store's write transactions.
WRITE_LOCK_KEY = 727_000_001
POOL_MAX = 10  # connections per app instance (Streamlit serves every session from one process)
CONNECT_TIMEOUT_S = 10

_POOLS: dict[str, psycopg_pool.ConnectionPool] = {}
_POOLS_LOCK = threading.Lock()
_PLACEHOLDER = re.compile(r"\?")


def is_postgresql(location) -> bool:
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


def open_database(location: Path | str) -> Database:
    """The database at ``location``: a ``postgresql://`` URL, else an SQLite file path."""
    if is_postgresql(location):
        return PostgresDatabase(location)
    return SqliteDatabase(Path(location))


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

    def connect(self):  # pragma: no cover - interface
        raise NotImplementedError

    def transaction(self):  # pragma: no cover - interface
        raise NotImplementedError

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
    def transaction(self):
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


class _PgConnection:
    """A psycopg connection that runs the store's ``?`` SQL (what sqlite3's connection offers)."""

    def __init__(self, con: psycopg.Connection):
        self._con = con

    def execute(self, sql: str, params=()):
        return self._con.execute(_PLACEHOLDER.sub("%s", sql), tuple(params) or None)

    def executemany(self, sql: str, rows):
        rows = [tuple(r) for r in rows]
        cur = self._con.cursor()
        if rows:
            cur.executemany(_PLACEHOLDER.sub("%s", sql), rows)
        return cur


class PostgresDatabase(Database):
    kind = "postgresql"
    integrity_errors = (psycopg.errors.IntegrityError,)

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
                    kwargs={"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "cartocpts"},
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

    @contextmanager
    def transaction(self):
        # The pool's connection context commits on success and rolls back on an exception.
        with self.connect() as con:
            con.execute("SELECT pg_advisory_xact_lock(?)", (WRITE_LOCK_KEY,))
            yield con

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
