"""`make run` serves the app without watching the source tree (idle server: no inotify, no busy core)."""

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_no_file_watcher():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["fileWatcherType"] == "none"
    assert config["server"]["runOnSave"] is False
