"""Stored layers and scenarios survive crashes and a full disk (issue #9 §6).

Crashes are real: a child process killed with SIGKILL in the middle of a
write. A full disk is a real OS failure: the child lowers its file-size
limit (RLIMIT_FSIZE, SIGXFSZ ignored) so its writes fail with EFBIG, as
they would with ENOSPC on a full disk.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from geo.errors import DataError
from geo.store import layers as store
from geo.store.paths import STALE_SECONDS, remove_stale_temp_files
from geo.store.scenarios import ScenarioStore

REPO = Path(__file__).resolve().parents[2]


def run_child(
    code: str, data_dir: Path, fsize_limit: int | None = None, **env
) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh Python on ``data_dir``; with a file-size limit set just before ``code``."""
    prelude = "import json, os, signal, resource, sys\n"
    if fsize_limit is not None:
        prelude += "def limit():\n"
        prelude += "    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        prelude += (
            f"    resource.setrlimit(resource.RLIMIT_FSIZE, ({fsize_limit}, {fsize_limit}))\n"
        )
    env = {**os.environ, **env, "CARTOCPTS_DATA_DIR": str(data_dir), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-c", prelude + code],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def ariege(communes, rows: int | None = None):
    part = communes[communes["dep"] == "09"].sort_values("insee").reset_index(drop=True)
    return part if rows is None else part.head(rows).reset_index(drop=True)


# ----------------------------------------------------------------------------- one file per layer


def test_layer_and_provenance_are_one_file(isolated_data, communes):
    meta = store.write_layer("ariege", ariege(communes, 7), {"source": "test", "vintage": "2024"})
    assert sorted(p.name for p in isolated_data.iterdir() if "ariege" in p.name) == [
        "ariege.parquet"
    ]
    footer = pq.read_schema(store.layer_path("ariege")).metadata
    assert json.loads(footer[store.META_KEY]) == meta == store.read_meta("ariege")
    assert meta["rows"] == len(store.read_layer("ariege")) == 7
    assert store.read_layer("ariege").attrs == {}
    assert "ariege" in [m["layer"] for m in store.list_layers()]
    # a leftover temporary file of a crashed write is never read as the layer
    (isolated_data / ".ariege.parquet.k3j2h1.tmp").write_bytes(
        store.layer_path("ariege").read_bytes()[:500]
    )
    assert [m["layer"] for m in store.list_layers()].count("ariege") == 1
    assert len(store.read_layer("ariege")) == 7


def test_legacy_sidecar_used_only_when_rows_match(isolated_data, communes):
    frame = ariege(communes, 7)
    frame.to_parquet(
        store.layer_path("old"), index=False
    )  # an earlier version's layer: no embedded provenance
    legacy = store.legacy_meta_path("old")
    legacy.write_text(
        json.dumps({"layer": "old", "rows": 3, "source": "ancienne"}), encoding="utf-8"
    )
    assert (
        store.read_meta("old") is None and store.read_layer("old") is None
    )  # 7 rows, provenance says 3
    legacy.write_text(
        json.dumps({"layer": "old", "rows": 7, "source": "ancienne"}), encoding="utf-8"
    )
    assert store.read_meta("old")["source"] == "ancienne" and len(store.read_layer("old")) == 7
    store.write_layer("old", frame, {"source": "nouvelle"})
    assert not legacy.exists() and store.read_meta("old")["source"] == "nouvelle"


CRASH_AT_REPLACE = """
import geopandas as gpd
from geo.store import layers as store
frame = gpd.read_parquet(os.environ["SOURCE_FILE"])
real_replace = os.replace
def crash_replace(src, dst):
    if os.environ["CRASH"] == "before":
        os.kill(os.getpid(), signal.SIGKILL)
    real_replace(src, dst)
    os.kill(os.getpid(), signal.SIGKILL)  # right after the layer's rename
os.replace = crash_replace
store.write_layer("ariege", frame, {"source": "nouvelle"})
print("not killed")
"""


@pytest.mark.parametrize("when", ["before", "after"])
def test_crash_at_rename_never_mixes_rows_and_provenance(isolated_data, communes, tmp_path, when):
    store.write_layer("ariege", ariege(communes, 3), {"source": "ancienne"})
    source = tmp_path / "seven.parquet"
    ariege(communes, 7).to_parquet(source)
    out = run_child(CRASH_AT_REPLACE, isolated_data, SOURCE_FILE=str(source), CRASH=when)
    assert out.returncode == -9 and "not killed" not in out.stdout, out.stderr
    meta, frame = store.read_meta("ariege"), store.read_layer("ariege")
    assert meta["rows"] == len(frame)
    assert (meta["source"], len(frame)) == (
        ("ancienne", 3) if when == "before" else ("nouvelle", 7)
    )
    leftovers = list(isolated_data.glob(".ariege.parquet.*.tmp"))
    assert len(leftovers) == (1 if when == "before" else 0)
    for path in leftovers:  # the crashed write's temporary file goes at the next start
        os.utime(path, (time.time() - STALE_SECONDS - 5,) * 2)
    assert (
        run_child("from geo.store.paths import data_dir; data_dir()", isolated_data).returncode == 0
    )
    assert not list(isolated_data.glob(".*.tmp"))
    assert store.read_meta("ariege")["rows"] == len(store.read_layer("ariege"))


# ----------------------------------------------------------------------------- leftover temporary files


def test_stale_temporary_files_removed_at_start(tmp_path):
    data = tmp_path / "data"
    (data / "downloads").mkdir(parents=True)
    old = time.time() - STALE_SECONDS - 30
    stale = [
        data / ".communes.parquet.a1b2c3.tmp",
        data / ".preferences.json.x9.tmp",
        data / "downloads" / ".finess.csv.zz.part",
    ]
    kept = [
        data / ".apl.parquet.fresh1.tmp",  # young: may be a write still running in another process
        data / "notes.tmp",
        data / "scenarios.sqlite-wal",
        data / "communes.parquet",
        data / "downloads" / "finess.csv",
    ]
    for path in stale + kept:
        path.write_bytes(b"x")
    for path in stale + kept[1:]:
        os.utime(path, (old, old))
    link = data / ".linked.parquet.q.tmp"
    link.symlink_to(data / "communes.parquet")
    os.utime(link, (old, old), follow_symlinks=False)

    out = run_child(
        "from geo.store.paths import data_dir; data_dir(); data_dir()", data
    )  # the app's entry point
    assert out.returncode == 0, out.stderr
    assert [p for p in stale if p.exists()] == []
    assert [p for p in kept if not p.exists()] == []
    assert link.is_symlink()
    assert remove_stale_temp_files(data) == []


def test_command_line_removes_stale_temporary_files(isolated_data):
    leftover = isolated_data / ".apl.parquet.dead00.tmp"
    leftover.write_bytes(b"PAR1 half written")
    os.utime(leftover, (time.time() - 3600,) * 2)
    out = subprocess.run(
        [sys.executable, "-m", "geo", "data", "status", "--json"],
        cwd=REPO,
        env={**os.environ, "CARTOCPTS_DATA_DIR": str(isolated_data)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert not leftover.exists()
    layers = {entry["layer"]: entry for entry in json.loads(out.stdout)}
    assert set(layers["communes"]) == {
        "layer",
        "source",
        "vintage",
        "licence",
        "rows",
        "built_at",
        "file",
    }
    assert layers["communes"]["rows"] == 34875


# ----------------------------------------------------------------------------- full disk


FULL_DISK_LAYER = """
import geopandas as gpd
from geo.store import layers as store
from geo.errors import DataError
frame = gpd.read_parquet(os.environ["SOURCE_FILE"])
limit()
result = {}
try:
    store.write_layer("ariege", frame, {"source": "nouvelle"})
    result["written"] = True
except DataError as exc:
    result["error"] = str(exc)
try:
    store.write_bytes_atomic(store.data_dir() / "preferences.json", b"{}" + b" " * 200000)
except DataError as exc:
    result["prefs_error"] = str(exc)
result["read_rows"] = len(store.read_layer("ariege"))
result["read_source"] = store.read_meta("ariege")["source"]
print(json.dumps(result))
"""


def test_full_disk_keeps_previous_layer(isolated_data, communes, tmp_path):
    store.write_layer("ariege", ariege(communes, 3), {"source": "ancienne"})
    before = store.read_layer("ariege")
    size = store.layer_path("ariege").stat().st_size
    source = tmp_path / "all.parquet"
    ariege(communes).to_parquet(source)  # every Ariège commune: far bigger than the limit
    out = run_child(
        FULL_DISK_LAYER, isolated_data, fsize_limit=size + 20000, SOURCE_FILE=str(source)
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert "written" not in result
    assert result["error"].startswith("Disque plein : ") and "ariege.parquet" in result["error"]
    assert (
        result["prefs_error"].startswith("Disque plein : ")
        and "preferences.json" in result["prefs_error"]
    )
    assert (result["read_rows"], result["read_source"]) == (
        3,
        "ancienne",
    )  # reads still work in the full process
    pd.testing.assert_frame_equal(store.read_layer("ariege"), before)
    assert store.read_meta("ariege")["source"] == "ancienne"
    assert not [p.name for p in isolated_data.iterdir() if p.name.endswith(".tmp")]
    assert not (isolated_data / "preferences.json").exists()


FULL_DISK_SCENARIO = """
from geo.errors import DataError
from geo.store.scenarios import ScenarioStore
codes = json.loads(os.environ["CODES"])
store = ScenarioStore(os.environ["DB"])
tid = store.get("Occitanie").territories[0].id
limit()
result = {}
for name, action in [
    ("change", lambda: store.change_communes("Occitanie", tid, add=codes, session="a")),
    ("create", lambda: store.create_from("Copie", [{"name": "Tout", "communes": codes}])),
]:
    try:
        action()
        result[name] = "written"
    except DataError as exc:
        result[name] = str(exc)
scen = store.get("Occitanie")  # reads still work in the full process
result["communes"] = sorted(scen.territories[0].communes)
result["names"] = store.names()
print(json.dumps(result))
"""


def test_full_disk_keeps_scenario_database(tmp_path, communes):
    db = tmp_path / "scenarios.sqlite"
    scenarios = ScenarioStore(db)
    scenarios.create("Occitanie", scope="reg:76")
    tid = scenarios.add_territory("Occitanie", "CPTS Foix", session="a")
    scenarios.change_communes("Occitanie", tid, add=["09122", "09225"], session="a")
    history = scenarios.history_state("Occitanie", "a")
    codes = sorted(
        communes.loc[communes["reg"] == "76", "insee"]
    )  # 4,400 real communes: many pages
    limit = (
        max(p.stat().st_size for p in tmp_path.iterdir()) + 40000
    )  # above SQLite's 32 KB shared-memory file
    out = run_child(
        FULL_DISK_SCENARIO, tmp_path, fsize_limit=limit, CODES=json.dumps(codes), DB=str(db)
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    for name in ("change", "create"):
        assert result[name].startswith("Disque plein : ") and "scenarios.sqlite" in result[name], (
            result
        )
    assert result["communes"] == ["09122", "09225"] and result["names"] == ["Occitanie"]
    after = ScenarioStore(db)
    assert after.integrity_check() == "ok"
    assert after.get("Occitanie").territory(tid).communes == {"09122", "09225"}
    assert after.names() == ["Occitanie"]
    assert after.history_state("Occitanie", "a") == history
    assert after.change_communes(
        "Occitanie", tid, add=codes[:50], session="a"
    ).added  # writable again


def test_write_error_says_disk_full_only_for_full_disk(tmp_path):
    import errno

    for code in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        error = store.write_error(OSError(code, os.strerror(code)), tmp_path / "x.parquet")
        assert isinstance(error, DataError) and str(error).startswith("Disque plein : ")
        assert "x.parquet" in str(error) and os.strerror(code) not in str(error)  # French reason
    denied = str(store.write_error(OSError(errno.EACCES, "denied"), tmp_path / "x.parquet"))
    assert denied.startswith("Impossible d'écrire") and "permission refusée" in denied
