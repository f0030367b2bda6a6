"""Domain caches keyed by layer versions: a value lasts while its layer files are unchanged."""

import pandas as pd

from geo.store import layers as store
from geo.store.cache import cached_by_layers, cached_layer, clear_all


def _rows(n: int) -> pd.DataFrame:
    return pd.DataFrame({"insee": [f"09{i:03d}" for i in range(n)], "value": range(n)})


def test_layer_version_changes_at_each_write(isolated_data):
    assert store.layer_version("sample") is None
    store.write_layer("sample", _rows(3), {"vintage": "a"})
    first = store.layer_version("sample")
    store.write_layer(
        "sample", _rows(3), {"vintage": "a"}
    )  # same rows, same size: a new file all the same
    assert first is not None and store.layer_version("sample") != first


def test_a_cached_value_is_rebuilt_when_its_layer_is_rewritten(isolated_data):
    builds = []

    @cached_by_layers(("sample",))
    def rows() -> int:
        frame, _ = cached_layer("sample")
        builds.append(1)
        return 0 if frame is None else len(frame)

    assert rows() == 0 and rows() == 0 and len(builds) == 1
    store.write_layer("sample", _rows(4), {"vintage": "a"})
    assert rows() == 4 and rows() == 4 and len(builds) == 2
    frame, meta = cached_layer("sample")
    assert cached_layer("sample")[0] is frame and meta["vintage"] == "a"
    store.write_layer("sample", _rows(2), {"vintage": "b"})
    assert rows() == 2 and cached_layer("sample")[1]["vintage"] == "b"
    store.remove_layer("sample")
    assert rows() == 0 and cached_layer("sample") == (None, None)
    clear_all()
    assert rows() == 0 and len(builds) == 5


def test_entries_are_kept_per_argument_up_to_maxsize(isolated_data):
    calls = []

    @cached_by_layers(lambda name: (name,), maxsize=2)
    def length(name: str) -> int:
        calls.append(name)
        frame, _ = cached_layer(name)
        return 0 if frame is None else len(frame)

    store.write_layer("a", _rows(1), {})
    store.write_layer("b", _rows(2), {})
    assert (length("a"), length("b"), length("a")) == (1, 2, 1) and calls == ["a", "b"]
    length("c")  # the least recently used, "b", goes
    length("b")
    assert calls == ["a", "b", "c", "b"]
