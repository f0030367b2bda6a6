"""What one browser session of the drawing page costs the server: its session state stays small.

The shared data (commune base, context, the scope's map layer, the orientation payloads) are cached once
per process (``ui/caches.py``, ``geo.store.cache``); a session keeps only its choices, its plan's running
totals (which point at the shared context) and what its map was last sent. The figures of 1 and 10 real
sessions are in ``bench/memory_bench.py``; here, the guarantee behind them: after the drawing page ran
with a scenario, MSP markers and a colouring under the territories, nothing in the session state is a
table or an array, and all of it pickles (the shared context left out) to a few tens of kB.
"""

from __future__ import annotations

import io
import pickle

import numpy as np
import pandas as pd

from tests.support.apptest import run_page

FINESS = "finess/etalab-cs1100507-occitanie.csv"
FOIX, PAMIERS = "09122", "09225"
LIMIT_BYTES = 200_000


class _Sizer(pickle.Pickler):
    """Pickles a session value, the shared context kept out (a reference), and notes any table or array."""

    def __init__(self, sink, context_type):
        super().__init__(sink, protocol=pickle.HIGHEST_PROTOCOL)
        self.context_type = context_type
        self.tables: list[str] = []

    def persistent_id(self, obj):
        if isinstance(obj, self.context_type):
            return "shared-context"
        if isinstance(obj, (pd.DataFrame, pd.Series, np.ndarray)):
            self.tables.append(f"{type(obj).__name__} {getattr(obj, 'shape', '')}")
        return None


def test_drawing_session_state_holds_no_frames(isolated_data, communes, shared_data):
    from geo.base.adjacency import graph
    from geo.sources.finess import import_finess
    from geo.store import preferences
    from geo.store.scenarios import ScenarioStore
    from geo.territory.context import Context
    from ui import caches, orientation

    import_finess(shared_data / FINESS)
    ariege = set(communes.loc[communes["dep"] == "09", "insee"])
    g = graph()
    foix = sorted({FOIX, *g.neighbours(FOIX)} & ariege)
    pamiers = sorted(({PAMIERS, *g.neighbours(PAMIERS)} & ariege) - set(foix))
    ScenarioStore().create_from(
        "Mémoire", [{"name": "Foix", "communes": foix}, {"name": "Pamiers", "communes": pamiers}]
    )
    preferences.put("scope", "dep:09")

    app = run_page(
        "pages/2_Dessiner_un_territoire.py",
        **{"draw-under": "population", "draw-markers-msp": True},
    )
    assert not app.exception
    assert "plan-Mémoire" in app.session_state and "draw-map::sent" in app.session_state

    sizes, tables = {}, {}
    for key, value in app.session_state.items():
        sink = io.BytesIO()
        sizer = _Sizer(sink, Context)
        try:
            sizer.dump(value)
        except (pickle.PicklingError, TypeError, AttributeError):
            sizer = _Sizer(
                sink, Context
            )  # the map component's state: a mapping of the browser's values
            sizer.dump(dict(value))
        sizes[key] = len(sink.getvalue())
        if sizer.tables:
            tables[key] = sizer.tables
    assert tables == {}
    assert sum(sizes.values()) < LIMIT_BYTES, sorted(sizes.items(), key=lambda kv: -kv[1])[:5]

    # The orientation payloads (MSP markers, colouring) are one object shared by every session.
    payload = orientation.markers("dep:09", ["msp"])
    assert payload["items"] and orientation.markers("dep:09", ["msp"]) is payload
    assert caches.orientation_payload(payload["id"], dict) is payload
