"""The France view's simplified communes: built once per commune base, kept on disk, read back unchanged."""

from __future__ import annotations

from geo.base.france_shapes import FRANCE_LAYER, FRANCE_TOLERANCE, france_communes
from geo.base.scope import parse_scope, scope_communes
from geo.base.shapes import simplify_coverage
from geo.store import layers as store
from geo.store.cache import clear_all
from geo.store.catalogue import status


def test_france_shapes_are_written_once_and_read_back_the_same(isolated_data):
    built = france_communes()
    path = store.layer_path(FRANCE_LAYER)
    assert path.exists()
    written = path.stat().st_mtime_ns
    assert store.read_meta(FRANCE_LAYER)["tolerance_deg"] == FRANCE_TOLERANCE

    clear_all()  # as a new process of the app: the layer is read, not built again
    read = france_communes()
    assert path.stat().st_mtime_ns == written
    reference = simplify_coverage(scope_communes(parse_scope("fr")), FRANCE_TOLERANCE)
    assert list(read.index) == list(reference.index) == list(built.index)
    assert list(read.columns) == list(reference.columns)
    assert read.geometry.geom_equals_exact(reference.geometry, 1e-9).all()
    assert read["insee"].tolist() == reference["insee"].tolist()
    assert "31555" in set(read["insee"])
    assert "12218" not in set(read["insee"])  # Conques-en-Rouergue has no contour: no shape
    # a display cache, not a layer of data: « data status » (and its golden file) does not list it
    assert FRANCE_LAYER not in {entry["layer"] for entry in status()}


def test_france_shapes_of_another_tolerance_are_built_again(isolated_data):
    france_communes()
    shapes = store.read_layer(FRANCE_LAYER)
    meta = {**store.read_meta(FRANCE_LAYER), "tolerance_deg": FRANCE_TOLERANCE * 2}
    store.write_layer(FRANCE_LAYER, shapes.iloc[:10], meta)  # as left by another version of the app
    clear_all()
    again = france_communes()
    assert len(again) == len(shapes)
    assert store.read_meta(FRANCE_LAYER)["tolerance_deg"] == FRANCE_TOLERANCE
