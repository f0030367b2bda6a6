"""Imported layers shared by every app instance of a team, through the PostgreSQL database.

In team mode (``CARTOCPTS_DATABASE_URL=postgresql://…``) the imported layers (:data:`SHARED`:
FINESS, APL, typology, CPTS perimeters, populations) live in the table ``shared_layers``: one row
per layer holding the layer's GeoParquet file as bytes (the very file :mod:`geo.store.layers` writes,
its provenance in its footer), a version from a sequence (never given twice), the bytes' SHA-256, a
JSON copy of the provenance, who imported it and when, and the file the provenance names beside the
layer if any (a user's typology nomenclature, :data:`ATTACHED_FILES`). A removed layer keeps its row with no bytes
(so that every instance removes its copy too).

Each instance keeps a local copy of each layer in its data directory: the pages, the caches
(:mod:`geo.store.cache`, keyed by the local file's version) and the command line read that file as in
single-user mode. Reading a shared layer first runs :func:`refresh_due`: at most every
:data:`CHECK_SECONDS` seconds, one ``SELECT`` of the rows' versions, compared with the versions in the
local files' footers (``shared_version``); a layer whose version differs is downloaded, checked
(SHA-256, readable Parquet, provenance of that layer and that version, row count) and written over the
local copy in one rename. Bytes that fail a check give a French ``DataError`` and leave the local copy
as it was (on the read path the error is logged and kept in :func:`problems`, the instance goes on
with its copy; :func:`refresh` raises it).

An import writes the database first (one transaction, under an advisory lock so that versions follow
the commits), then the local copy from the same bytes: what an instance shows after an import is what
every instance shows after its next check. With SQLite (the default) nothing here runs: layers are
files only.
"""

from __future__ import annotations

import contextvars
import hashlib
import io
import json
import logging
import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq

from geo.errors import DataError
from geo.store import layers
from geo.store.database import Database, is_postgresql, open_database
from geo.store.migrations import migrate
from geo.store.paths import data_dir
from geo.store.scenarios import DATABASE_URL_VAR
from geo.store.users import clean_user, current_user

SHARED = ("finess", "apl", "typology", "cpts", "population")
# Provenance members naming a file kept beside the layer in the data directory (a user's typology
# nomenclature): the file goes to the database with the layer, and each instance keeps its own copy.
ATTACHED_FILES = ("nomenclature_file",)
CHECK_SECONDS = 5.0  # at most one check of the database per data directory in this time
RETRY_SECONDS = (
    30.0  # after a database that could not be reached, wait this long before asking again
)
LOCK_KEY = (
    727_000_006  # advisory lock serialising the writes of shared layers (not the scenarios' lock)
)

log = logging.getLogger(__name__)

_acting: contextvars.ContextVar[str | None] = contextvars.ContextVar("layer_importer", default=None)
_lock = threading.RLock()
_next_check: dict[tuple[str, str], float] = {}
_migrated: set[str] = set()
_problems: dict[str, str] = {}
_local_versions: dict[tuple, int | None] = {}


class SharedLayerError(DataError):
    """A layer's bytes in the database fail a check (the local copy is kept)."""


def team_url() -> str | None:
    """The team's PostgreSQL URL, or None in single-user mode (SQLite, files only)."""
    url = os.environ.get(DATABASE_URL_VAR, "").strip()
    return url if is_postgresql(url) else None


def _database(url: str) -> Database:
    db = open_database(url)
    if url not in _migrated:
        migrate(db)
        _migrated.add(url)
    return db


@contextmanager
def importing_as(user: str):
    """Name ``user`` as the importer of the layers written inside the block (the app's signed-in user)."""
    token = _acting.set(clean_user(user))
    try:
        yield
    finally:
        _acting.reset(token)


def _importer() -> str:
    return _acting.get() or current_user()


# --------------------------------------------------------------------------- writing


def _parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def _attachment(meta: dict) -> tuple[str, bytes | None]:
    """(name, bytes) of the file the provenance names beside the layer, or ("", None)."""
    for key in ATTACHED_FILES:
        path = meta.get(key)
        if path and Path(path).parent == data_dir() and Path(path).is_file():
            return Path(path).name, Path(path).read_bytes()
    return "", None


def publish(name: str, table: pa.Table, meta: dict) -> dict:
    """Store a layer for the whole team, then its local copy (the same bytes); the stored provenance."""
    db = _database(team_url())
    attached_name, attached = _attachment(meta)
    with db.connect() as con:
        con.execute("SELECT pg_advisory_xact_lock(?)", (LOCK_KEY,))
        version = int(con.execute("SELECT nextval('shared_layer_version')").fetchone()[0])
        meta = {**meta, "shared_version": version, "imported_by": _importer()}
        data = _parquet_bytes(layers._with_meta(table, meta))
        con.execute(
            "INSERT INTO shared_layers(name, version, data, sha256, provenance, imported_by, imported_at, size, "
            "attached_name, attached) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT (name) DO UPDATE SET "
            "version = EXCLUDED.version, data = EXCLUDED.data, sha256 = EXCLUDED.sha256, "
            "provenance = EXCLUDED.provenance, imported_by = EXCLUDED.imported_by, "
            "imported_at = EXCLUDED.imported_at, size = EXCLUDED.size, "
            "attached_name = EXCLUDED.attached_name, attached = EXCLUDED.attached",
            (
                name,
                version,
                data,
                hashlib.sha256(data).hexdigest(),
                json.dumps(meta, ensure_ascii=False),
                meta["imported_by"],
                layers.now_iso(),
                len(data),
                attached_name,
                attached,
            ),
        )
    layers.write_bytes_atomic(layers.layer_path(name), data)
    _problems.pop(name, None)
    return meta


def remove(name: str) -> None:
    """Remove a layer for the whole team (its row keeps a new version and no bytes)."""
    db = _database(team_url())
    with db.connect() as con:
        con.execute("SELECT pg_advisory_xact_lock(?)", (LOCK_KEY,))
        version = int(con.execute("SELECT nextval('shared_layer_version')").fetchone()[0])
        con.execute(
            "INSERT INTO shared_layers(name, version, data, sha256, provenance, imported_by, imported_at, size) "
            "VALUES (?,?,NULL,'','{}',?,?,0) ON CONFLICT (name) DO UPDATE SET version = EXCLUDED.version, "
            "data = NULL, sha256 = '', provenance = '{}', imported_by = EXCLUDED.imported_by, "
            "imported_at = EXCLUDED.imported_at, size = 0, attached_name = '', attached = NULL",
            (name, version, _importer(), layers.now_iso()),
        )
    _problems.pop(name, None)


# --------------------------------------------------------------------------- reading


def local_version(name: str) -> int | None:
    """The database version the local copy of ``name`` came from (None: absent, or not from the database)."""
    key = (str(layers.layer_path(name)), layers.file_version(name))
    if key[1] is None:
        return None
    if key not in _local_versions:
        if len(_local_versions) > 1000:
            _local_versions.clear()
        meta = layers.file_meta(name) or {}
        version = meta.get("shared_version")
        _local_versions[key] = version if isinstance(version, int) else None
    return _local_versions[key]


def checked_bytes(name: str, version: int, data, sha256: str, label: str) -> bytes:
    """The bytes of a layer read from the database, or a French DataError saying what is wrong with them."""
    where = f"La couche partagée « {name} » (version {version}) de la base {label}"
    keep = " La copie locale de cette instance est gardée ; réimportez la couche pour la réparer."
    data = bytes(data)
    if hashlib.sha256(data).hexdigest() != sha256:
        raise SharedLayerError(
            f"{where} est abîmée : son empreinte SHA-256 ne correspond pas à ses octets "
            f"({len(data)} octets).{keep}"
        )
    try:
        table = pq.read_table(pa.BufferReader(data))
        raw = (table.schema.metadata or {}).get(layers.META_KEY)
        meta = json.loads(raw.decode("utf-8")) if raw is not None else None
    except Exception as exc:  # noqa: BLE001 - any unreadable content is refused the same way
        raise SharedLayerError(
            f"{where} est illisible : ce n'est pas un fichier Parquet valide "
            f"({type(exc).__name__}).{keep}"
        ) from exc
    if not isinstance(meta, dict):
        raise SharedLayerError(f"{where} n'a pas de provenance.{keep}")
    if (
        meta.get("layer") != name
        or meta.get("shared_version") != version
        or meta.get("rows") != table.num_rows
    ):
        raise SharedLayerError(
            f"{where} ne correspond pas à sa provenance (couche « {meta.get('layer')} », version "
            f"{meta.get('shared_version')}, {meta.get('rows')} lignes annoncées pour "
            f"{table.num_rows}).{keep}"
        )
    return data


def _bring_up_to_date(db: Database, names) -> list[str]:
    """Refresh the local copies of ``names`` whose database version differs; the names refreshed."""
    with db.connect() as con:
        rows = con.execute("SELECT name, version FROM shared_layers").fetchall()
    changed, errors = [], []
    for name, version in rows:
        if name not in names or local_version(name) == version:
            continue
        with db.connect() as con:
            row = con.execute(
                "SELECT data, sha256, attached_name, attached FROM shared_layers "
                "WHERE name = ? AND version = ?",
                (name, version),
            ).fetchone()
        if row is None:  # replaced meanwhile: the next check takes the newer one
            continue
        data, sha256, attached_name, attached = row
        if data is None:
            if local_version(name) is not None or layers.file_version(name) is not None:
                layers.layer_path(name).unlink(missing_ok=True)
                changed.append(name)
            continue
        try:
            good = checked_bytes(name, int(version), data, sha256, db.label)
        except SharedLayerError as exc:
            _problems[name] = str(exc)
            errors.append(exc)
            continue
        _write_local(name, good, attached_name, attached)
        _problems.pop(name, None)
        changed.append(name)
    if errors:
        raise errors[0]
    return changed


def _write_local(name: str, data: bytes, attached_name: str, attached) -> None:
    """The local copy of a layer from the database's bytes; a file attached to it is written beside it
    first and the provenance names that local file (the bytes are then rewritten, same version)."""
    safe = attached_name and Path(attached_name).name == attached_name and attached_name[0] != "."
    if not (safe and attached is not None):
        layers.write_bytes_atomic(layers.layer_path(name), data)
        return
    target = data_dir() / attached_name
    layers.write_bytes_atomic(target, bytes(attached))
    table = pq.read_table(pa.BufferReader(data))
    meta = json.loads(table.schema.metadata[layers.META_KEY].decode("utf-8"))
    for key in ATTACHED_FILES:
        if meta.get(key):
            meta[key] = str(target)
    layers.write_bytes_atomic(
        layers.layer_path(name), _parquet_bytes(layers._with_meta(table, meta))
    )


def refresh(names=SHARED) -> list[str]:
    """Bring the local copies up to date with the team's database now; the layers refreshed.

    Nothing in single-user mode. Raises a French DataError (after refreshing the sound layers) when a
    layer's bytes in the database fail a check; that layer's local copy is left as it was.
    """
    url = team_url()
    if url is None:
        return []
    with _lock:
        _next_check[(url, str(data_dir()))] = time.monotonic() + CHECK_SECONDS
        return _bring_up_to_date(_database(url), tuple(names))


def refresh_due(name: str | None) -> None:
    """:func:`refresh` when ``name`` (None: any layer) is shared and no check ran in the last seconds.

    On the read path: a failure is logged and kept in :func:`problems`; the local copy stays in use.
    """
    if name is not None and name not in SHARED:
        return
    url = team_url()
    if url is None:
        return
    key = (url, str(data_dir()))
    if time.monotonic() < _next_check.get(key, 0.0):
        return
    if not _lock.acquire(blocking=False):
        return  # another thread is refreshing: read the current copy
    try:
        if time.monotonic() < _next_check.get(key, 0.0):
            return
        _next_check[key] = time.monotonic() + CHECK_SECONDS
        try:
            _bring_up_to_date(_database(url), SHARED)
        except SharedLayerError as exc:
            log.warning("%s", exc)
        except (DataError, psycopg.Error) as exc:  # the database is unreachable or refused us
            _next_check[key] = time.monotonic() + RETRY_SECONDS
            _problems["*"] = str(exc)
            log.warning("Couches partagées non vérifiées : %s", exc)
        else:
            _problems.pop("*", None)
    finally:
        _lock.release()


def problems() -> dict[str, str]:
    """French messages of the last failed refreshes, by layer (``*``: the database itself)."""
    return dict(_problems)


class TeamLayers:
    """The :class:`geo.store.layers.Sharing` of team mode."""

    def shares(self, name: str) -> bool:
        return name in SHARED and team_url() is not None

    def refresh_due(self, name: str | None) -> None:
        refresh_due(name)

    def publish(self, name: str, table: pa.Table, meta: dict) -> dict:
        return publish(name, table, meta)

    def remove(self, name: str) -> None:
        remove(name)


layers.set_sharing(TeamLayers())
