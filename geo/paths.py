"""Where the app keeps its data cache."""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
ENV_VAR = "CARTOCPTS_DATA_DIR"


def data_dir() -> Path:
    """The data cache directory (created if missing).

    Defaults to ``data/cache`` in the repository; the environment variable
    ``CARTOCPTS_DATA_DIR`` overrides it (tests use a temporary one).
    """
    root = Path(os.environ.get(ENV_VAR) or REPO_ROOT / "data" / "cache")
    root.mkdir(parents=True, exist_ok=True)
    return root
