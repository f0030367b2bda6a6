"""The domain caches, in one place: values built from layer files, kept until one of those files changes.

A value is cached under the versions of the layers it was built from
(:func:`geo.store.layers.layer_version`: one ``stat`` per layer) and under the
arguments of the call. At each call the versions are read again: when a layer
was rewritten (an import, a rebuild, another process), the value is built
again; nothing needs to be told to forget it. ``clear_all()`` empties every
cache (tests, or a user who wants a clean start).

The cached values are shared by every caller (every Streamlit session): they
are read, never changed (``tests/geo/territory/test_diagnostics.py`` checks the
context after a search and a diagnosis).

Users: ``geo.territory.context.context()``, ``geo.base.adjacency.graph()``,
:func:`cached_layer` (the optional layers the pages show). The Streamlit caches
of the pages (artefacts of the interface: simplified shapes, GeoJSON text) are
all in ``ui/caches.py`` and are keyed by the same versions.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable

import pandas as pd

from geo.store.layers import layer_version, read_layer, read_meta

_ALL: list["LayerCache"] = []


def layers_version(names) -> tuple:
    """The versions of several layers, in order (None for an absent one)."""
    return tuple(layer_version(name) for name in names)


class LayerCache:
    """Values of ``build(*args)``, each kept while the versions of its layers are unchanged.

    ``layers`` names the layers the value is built from, or is a function of the
    call's arguments giving them. At most ``maxsize`` argument tuples are kept
    (the least recently used goes first). A build runs under the cache's lock:
    two sessions asking at once build the value once.
    """

    def __init__(
        self,
        build: Callable,
        layers: tuple[str, ...] | Callable[..., tuple[str, ...]],
        maxsize: int = 1,
    ):
        self._build = build
        self._layers = layers
        self._maxsize = maxsize
        self._entries: OrderedDict[tuple, tuple[tuple, object]] = OrderedDict()
        self._lock = threading.RLock()
        functools.update_wrapper(self, build)
        _ALL.append(self)

    def version(self, *args) -> tuple:
        """The versions of the layers the value for ``args`` is built from."""
        names = self._layers(*args) if callable(self._layers) else self._layers
        return layers_version(names)

    def __call__(self, *args):
        with self._lock:
            version = self.version(*args)
            entry = self._entries.get(args)
            if entry is not None and entry[0] == version:
                self._entries.move_to_end(args)
                return entry[1]
            value = self._build(*args)
            self._entries[args] = (version, value)
            self._entries.move_to_end(args)
            while len(self._entries) > self._maxsize:
                self._entries.popitem(last=False)
            return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def cached_by_layers(layers, maxsize: int = 1) -> Callable[[Callable], LayerCache]:
    """Decorator: ``@cached_by_layers(("communes", "adjacency"))`` makes a :class:`LayerCache` of a function."""
    return lambda build: LayerCache(build, layers, maxsize)


def clear_all() -> None:
    """Forget every cached value (they are built again at their next use)."""
    for cache in _ALL:
        cache.clear()


@cached_by_layers(lambda name: (name,), maxsize=16)
def cached_layer(name: str) -> tuple[pd.DataFrame | None, dict | None]:
    """(rows, provenance) of a layer, read once per version of its file; (None, None) when absent or unreadable.

    The frame is shared: read it, never change it.
    """
    meta = read_meta(name)
    frame = read_layer(name) if meta is not None else None
    return (frame, meta) if frame is not None else (None, None)
