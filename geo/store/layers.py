"""The layer store: GeoParquet files in the data directory with their provenance.

Each layer ``NAME`` is one file, ``NAME.parquet``. Its provenance (source,
vintage, licence, built or imported date, rows, origin file...) is kept as
JSON inside the same file, in the Parquet key-value metadata under the key
``cartocpts``. The file is written to a temporary ``.NAME.parquet.*.tmp``
then renamed, so a layer and its provenance change together in one rename,
or not at all: a crash never shows new rows with the old provenance. A
layer whose file cannot be read counts as missing, and its builder
rebuilds it. Temporary files left by a crash are removed at the next start
(:func:`geo.store.paths.remove_stale_temp_files`).

A full disk (or a file-size or quota limit) while writing gives a French
:class:`DataError` and leaves the previous file untouched.

In team mode (PostgreSQL) the imported layers are shared through the database
(:mod:`geo.store.shared_layers`, registered with :func:`set_sharing`): their writes go to the
database first, and their reads first bring the local file up to date (a throttled check).
Without it (SQLite, the default) the files are all there is.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

import geopandas as gpd
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from geopandas.io.arrow import (
    _geopandas_to_arrow,  # what GeoDataFrame.to_parquet uses (private to geopandas)
)

from geo.errors import DataError
from geo.store.paths import data_dir

META_KEY = b"cartocpts"
# Errors of a write that ran out of room: no space, file too large (size limit), quota.
DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


class Sharing(Protocol):
    """How layers are shared by several app instances (:mod:`geo.store.shared_layers`)."""

    def shares(self, name: str) -> bool:
        """Whether ``name`` is written to and read from the team's database now."""

    def refresh_due(self, name: str | None) -> None:
        """Bring the local copy of ``name`` (None: of every shared layer) up to date, if a check is due."""

    def publish(self, name: str, table: pa.Table, meta: dict) -> dict:
        """Store the layer in the database, then its local copy; the stored provenance."""

    def remove(self, name: str) -> None:
        """Remove the layer for every instance, then its local copy."""


_SHARING: list[Sharing] = []


def set_sharing(sharing: Sharing | None) -> None:
    """Register how layers are shared (``None``: files only)."""
    _SHARING[:] = [sharing] if sharing is not None else []


def _refresh(name: str | None) -> None:
    for sharing in _SHARING:
        sharing.refresh_due(name)


def _shared(name: str) -> Sharing | None:
    for sharing in _SHARING:
        if sharing.shares(name):
            return sharing
    return None


def now_iso() -> str:
    """Current UTC time, ISO 8601 to the second."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def layer_path(name: str) -> Path:
    return data_dir() / f"{name}.parquet"


def layer_version(name: str) -> tuple[int, int, int, int] | None:
    """The identity of a layer's file, from one ``stat``: (device, inode, modification time in ns, size).

    None when the file is absent. Every write is a new file renamed over the old one (a new inode), so a
    rewritten layer always has a new version, even within the same nanosecond; values built from a layer are
    cached under its version (:mod:`geo.store.cache`). A link is followed: two data directories linking the
    same file share its version. In team mode a shared layer's local copy is refreshed first when the
    database holds a newer one (a throttled check).
    """
    _refresh(name)
    return file_version(name)


def file_version(name: str) -> tuple[int, int, int, int] | None:
    """:func:`layer_version` of the local file alone (no check of the team's database)."""
    try:
        info = os.stat(layer_path(name))
    except OSError:
        return None
    return (info.st_dev, info.st_ino, info.st_mtime_ns, info.st_size)


def legacy_meta_path(name: str) -> Path:
    """The sidecar ``NAME.meta.json`` of earlier versions (read only for migration, then removed)."""
    return data_dir() / f"{name}.meta.json"


# French reasons of the usual write failures.
WRITE_ERRORS = {
    errno.ENOSPC: "disque plein",
    errno.EDQUOT: "quota disque dépassé",
    errno.EFBIG: "fichier trop gros pour le système de fichiers ou la limite du processus",
    errno.EACCES: "permission refusée",
    errno.EPERM: "opération non permise",
    errno.EROFS: "système de fichiers en lecture seule",
    errno.ENOENT: "dossier introuvable",
    errno.ENOTDIR: "un élément du chemin n'est pas un dossier",
    errno.EISDIR: "c'est un dossier",
}


def write_error(exc: OSError, path: Path) -> DataError:
    """The French DataError for a failed write of ``path`` (« Disque plein : … » when out of room)."""
    reason = WRITE_ERRORS.get(exc.errno, exc.strerror or type(exc).__name__)
    if exc.errno in DISK_FULL_ERRNOS:
        return DataError(
            f"Disque plein : impossible d'écrire {path} ({reason}). Libérez de la place puis "
            "recommencez ; les données déjà enregistrées sont intactes."
        )
    return DataError(
        f"Impossible d'écrire {path} : {reason}. Le fichier existant, s'il y en a un, "
        "n'a pas été modifié."
    )


def _atomic_target(path: Path):
    """A new temporary file beside ``path``, with the mode of ``path`` (0644 for a new file, not mkstemp's 0600)."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise write_error(exc, path) from exc
    try:
        os.fchmod(fd, stat.S_IMODE(os.stat(path).st_mode) if path.exists() else 0o644)
    finally:
        os.close(fd)
    return Path(tmp)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and one rename."""
    tmp = _atomic_target(path)
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        raise write_error(exc, path) from exc
    finally:
        tmp.unlink(missing_ok=True)


def _to_table(frame: pd.DataFrame) -> pa.Table:
    if isinstance(frame, gpd.GeoDataFrame):
        return _geopandas_to_arrow(frame, index=False)
    return pa.Table.from_pandas(pd.DataFrame(frame), preserve_index=False)


def write_layer(name: str, frame: pd.DataFrame, meta: dict) -> dict:
    """Write a layer with its provenance in one file and one rename; return the stored metadata."""
    path = layer_path(name)
    meta = {
        **meta,
        "layer": name,
        "rows": int(len(frame)),
        "built_at": meta.get("built_at") or now_iso(),
    }
    table = _with_meta(_to_table(frame), meta)
    sharing = _shared(name)
    if sharing is not None:
        meta = sharing.publish(name, table, meta)
    else:
        _write_table(path, table)
    legacy_meta_path(name).unlink(missing_ok=True)
    return meta


def _write_table(path: Path, table: pa.Table) -> None:
    tmp = _atomic_target(path)
    try:
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, path)
    except OSError as exc:
        raise write_error(exc, path) from exc
    finally:
        tmp.unlink(missing_ok=True)


def _with_meta(table: pa.Table, meta: dict) -> pa.Table:
    return table.replace_schema_metadata(
        {
            **(table.schema.metadata or {}),
            META_KEY: json.dumps(meta, ensure_ascii=False).encode("utf-8"),
        }
    )


def update_meta(name: str, meta: dict) -> None:
    """Replace a layer's provenance (same rows), in one rewrite and one rename."""
    path = layer_path(name)
    table = _with_meta(pq.read_table(path), {**meta, "rows": pq.read_metadata(path).num_rows})
    sharing = _shared(name)
    if sharing is not None:
        sharing.publish(name, table, meta)
    else:
        _write_table(path, table)


def read_meta(name: str) -> dict | None:
    """The provenance of a layer, or None when it is absent or unreadable.

    Only the file's footer is read. A file written by an earlier version
    (no embedded provenance) uses its old ``NAME.meta.json`` sidecar, and
    only when the row count there matches the file's.
    """
    _refresh(name)
    return file_meta(name)


def file_meta(name: str) -> dict | None:
    """:func:`read_meta` of the local file alone (no check of the team's database)."""
    path = layer_path(name)
    try:
        footer = pq.read_metadata(path)
    except Exception:  # noqa: BLE001 - absent or unreadable file: no layer
        return None
    raw = (footer.metadata or {}).get(META_KEY)
    try:
        if raw is not None:
            meta = json.loads(raw.decode("utf-8"))
        else:
            meta = json.loads(legacy_meta_path(name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("rows") != footer.num_rows:
        return None
    return meta


def read_layer(name: str) -> pd.DataFrame | None:
    """Read a layer, or None when it is absent or corrupt (it will be rebuilt)."""
    path = layer_path(name)
    if read_meta(name) is None:
        return None
    try:
        try:
            frame = gpd.read_parquet(path)
        except ValueError:  # a plain table with no geometry column
            frame = pd.read_parquet(path)
    except Exception:  # noqa: BLE001 - any unreadable file is treated as missing
        return None
    frame.attrs = {}
    return frame


def remove_layer(name: str) -> None:
    """Remove a layer (in team mode, for every instance)."""
    sharing = _shared(name)
    if sharing is not None:
        sharing.remove(name)
    layer_path(name).unlink(missing_ok=True)
    legacy_meta_path(name).unlink(missing_ok=True)


def list_layers() -> list[dict]:
    """Provenance of every layer present in the data directory, by name."""
    _refresh(None)
    out = []
    for path in sorted(data_dir().glob("*.parquet")):
        meta = file_meta(path.name[: -len(".parquet")])
        if meta is not None:
            out.append(meta)
    return out
