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
"""

from __future__ import annotations

import errno
import json
import os
import stat
import tempfile
from datetime import datetime, timezone
from pathlib import Path

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
    same file share its version.
    """
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
    _write_table(path, _with_meta(_to_table(frame), meta))
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
    _write_table(
        path, _with_meta(pq.read_table(path), {**meta, "rows": pq.read_metadata(path).num_rows})
    )


def read_meta(name: str) -> dict | None:
    """The provenance of a layer, or None when it is absent or unreadable.

    Only the file's footer is read. A file written by an earlier version
    (no embedded provenance) uses its old ``NAME.meta.json`` sidecar, and
    only when the row count there matches the file's.
    """
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
    if not path.exists() or read_meta(name) is None:
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
    layer_path(name).unlink(missing_ok=True)
    legacy_meta_path(name).unlink(missing_ok=True)


def list_layers() -> list[dict]:
    """Provenance of every layer present in the data directory, by name."""
    out = []
    for path in sorted(data_dir().glob("*.parquet")):
        meta = read_meta(path.name[: -len(".parquet")])
        if meta is not None:
            out.append(meta)
    return out
