"""The layer store: GeoParquet files in the data directory with their provenance.

Each layer ``NAME`` is a file ``NAME.parquet`` and a sidecar ``NAME.meta.json``
holding its provenance (source, vintage, licence, built or imported date,
rows, origin file...). Both are written to a temporary file first, then
renamed, so a crash never leaves a half-written layer; a layer whose file
cannot be read counts as missing, and its builder rebuilds it.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.paths import data_dir


def now_iso() -> str:
    """Current UTC time, ISO 8601 to the second."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def layer_path(name: str) -> Path:
    return data_dir() / f"{name}.parquet"


def meta_path(name: str) -> Path:
    return data_dir() / f"{name}.meta.json"


def _atomic_target(path: Path):
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    return Path(tmp)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    tmp = _atomic_target(path)
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_layer(name: str, frame: pd.DataFrame, meta: dict) -> dict:
    """Write a layer and its provenance atomically; return the stored metadata."""
    path = layer_path(name)
    tmp = _atomic_target(path)
    try:
        if isinstance(frame, gpd.GeoDataFrame):
            frame.to_parquet(tmp, index=False, compression="zstd")
        else:
            pd.DataFrame(frame).to_parquet(tmp, index=False, compression="zstd")
        meta = {**meta, "layer": name, "rows": int(len(frame)), "built_at": meta.get("built_at") or now_iso()}
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    write_bytes_atomic(meta_path(name), json.dumps(meta, ensure_ascii=False, indent=2).encode("utf-8"))
    return meta


def read_meta(name: str) -> dict | None:
    """The provenance of a layer, or None when it is absent or unreadable."""
    try:
        return json.loads(meta_path(name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def read_layer(name: str) -> pd.DataFrame | None:
    """Read a layer, or None when it is absent or corrupt (it will be rebuilt)."""
    path = layer_path(name)
    if not path.exists() or read_meta(name) is None:
        return None
    try:
        try:
            return gpd.read_parquet(path)
        except ValueError:  # a plain table with no geometry column
            return pd.read_parquet(path)
    except Exception:  # noqa: BLE001 - any unreadable file is treated as missing
        return None


def remove_layer(name: str) -> None:
    layer_path(name).unlink(missing_ok=True)
    meta_path(name).unlink(missing_ok=True)


def list_layers() -> list[dict]:
    """Provenance of every layer present in the data directory, by name."""
    out = []
    for meta_file in sorted(data_dir().glob("*.meta.json")):
        name = meta_file.name[: -len(".meta.json")]
        meta = read_meta(name)
        if meta is not None and layer_path(name).exists():
            out.append(meta)
    return out
