"""`make run` serves the app without watching the source tree (idle server: no inotify, no busy core)."""

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_no_file_watcher():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["fileWatcherType"] == "none"
    assert config["server"]["runOnSave"] is False


def test_no_full_garbage_collection_after_each_run():
    """Streamlit's gc.collect(2) after every run took about half a second after each click on the drawing map
    (the next click waited for it; bench/draw_bench.py ``draw_click_script_ms_*``)."""
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["runner"]["postScriptGC"] is False
