"""Where the app keeps its data cache."""

import os
import re
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
ENV_VAR = "CARTOCPTS_DATA_DIR"

# Temporary files of atomic writes: ``.NAME.<random>.tmp`` (geo.store.layers) and
# ``.NAME.<random>.part`` (geo.sources.download). A crash between their creation and
# their rename leaves them behind.
TEMP_PATTERN = re.compile(r"^\..+\.(tmp|part)$")
# A temporary file younger than this may belong to a write still running in
# another process (the app and the command line share the directory).
STALE_SECONDS = 60
# Sub-directories of the data directory that also receive atomic writes.
TEMP_SUBDIRS = ("downloads", "uploads")

_CLEANED: set[str] = set()


def data_dir() -> Path:
    """The data cache directory (created if missing).

    Defaults to ``data/cache`` in the repository; the environment variable
    ``CARTOCPTS_DATA_DIR`` overrides it (tests use a temporary one). The first
    time a process uses a directory, the temporary files left there by
    crashed writes are removed (see :func:`remove_stale_temp_files`).
    """
    root = Path(os.environ.get(ENV_VAR) or REPO_ROOT / "data" / "cache")
    root.mkdir(parents=True, exist_ok=True)
    key = str(root)
    if key not in _CLEANED:
        _CLEANED.add(key)
        remove_stale_temp_files(root)
    return root


def remove_stale_temp_files(root: Path, older_than: float = STALE_SECONDS) -> list[Path]:
    """Remove leftover ``.NAME.*.tmp`` / ``.NAME.*.part`` files; return those removed.

    Only regular files (never links or directories) whose name matches the
    temporary pattern and whose last write is older than ``older_than``
    seconds are removed, in ``root`` and its ``downloads``/``uploads``
    sub-directories. Files that vanish or cannot be removed are skipped.
    """
    removed = []
    limit = time.time() - older_than
    for folder in (root, *(root / sub for sub in TEMP_SUBDIRS)):
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if not TEMP_PATTERN.match(entry.name):
                continue
            try:
                if (
                    not entry.is_file(follow_symlinks=False)
                    or entry.stat(follow_symlinks=False).st_mtime > limit
                ):
                    continue
                os.unlink(entry.path)
            except OSError:
                continue
            removed.append(Path(entry.path))
    return removed
