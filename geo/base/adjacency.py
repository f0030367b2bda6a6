"""Commune adjacency: which communes share a border, and connected parts of a set.

Two communes are neighbours when their shapes are within ``TOLERANCE_DEG``
of each other (queen contiguity; the tolerance absorbs the small gaps and
overlaps of the source contours). The graph is computed once for all of
France and kept in the store as the ``adjacency`` layer; ``graph()`` reads it
once per version of the layer file (:mod:`geo.store.cache`), so a call costs
two ``stat`` when nothing changed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from geo.base.communes import load, source_version
from geo.store import layers as store
from geo.store.cache import cached_by_layers

TOLERANCE_DEG = 1e-4  # about 10 m


def build_adjacency() -> pd.DataFrame:
    """All neighbouring pairs (a < b) of communes, as INSEE codes."""
    communes = load("communes")
    geoms = np.asarray(communes.geometry.values)
    present = ~shapely.is_missing(geoms)
    idx = np.flatnonzero(present)
    tree = shapely.STRtree(geoms[idx])
    left, right = tree.query(geoms[idx], predicate="dwithin", distance=TOLERANCE_DEG)
    keep = left < right
    codes = communes["insee"].to_numpy()[idx]
    pairs = pd.DataFrame({"a": codes[left[keep]], "b": codes[right[keep]]})
    meta = {
        "source": "Calculé par CartoCPTS (contiguïté des contours communaux)",
        "vintage": "Contours de la base communale",
        "licence": "Licence Ouverte / Open Licence",
        "source_version": source_version(),
        "tolerance_deg": TOLERANCE_DEG,
    }
    store.write_layer("adjacency", pairs, meta)
    return pairs


class Adjacency:
    """The commune graph with fast queries on sets of communes."""

    def __init__(self, pairs: pd.DataFrame, codes: np.ndarray):
        self.codes = np.asarray(codes)
        self.index = {code: i for i, code in enumerate(self.codes)}
        a = pairs["a"].map(self.index).to_numpy()
        b = pairs["b"].map(self.index).to_numpy()
        n = len(self.codes)
        data = np.ones(2 * len(a), dtype=np.int8)
        self.matrix = csr_matrix((data, (np.r_[a, b], np.r_[b, a])), shape=(n, n))

    def neighbours(self, code: str) -> list[str]:
        i = self.index[code]
        row = self.matrix.indices[self.matrix.indptr[i] : self.matrix.indptr[i + 1]]
        return self.codes[row].tolist()

    def parts(self, codes) -> list[list[str]]:
        """Connected parts of a set of communes, largest (by count) first."""
        idx = np.array(sorted({self.index[c] for c in codes if c in self.index}), dtype=np.int64)
        if idx.size == 0:
            return []
        sub = self.matrix[idx][:, idx]
        count, labels = connected_components(sub, directed=False)
        groups = [self.codes[idx[labels == k]].tolist() for k in range(count)]
        return sorted(groups, key=lambda g: (-len(g), g[0]))


GRAPH_LAYERS = ("adjacency", "communes")


@cached_by_layers(GRAPH_LAYERS)
def _checked_layer() -> bool:
    """Build the adjacency layer when it is missing or was built from another commune base."""
    meta = store.read_meta("adjacency")
    if meta is None or meta.get("source_version") != source_version():
        build_adjacency()
    return True


@cached_by_layers(GRAPH_LAYERS)
def _graph() -> Adjacency:
    pairs = store.read_layer("adjacency")
    if pairs is None:  # a readable footer over unreadable rows
        pairs = build_adjacency()
    return Adjacency(pairs, load("communes")["insee"].to_numpy())


def graph() -> Adjacency:
    """The adjacency graph of all communes (the layer built on first use; the graph read once per version)."""
    _checked_layer()
    return _graph()
