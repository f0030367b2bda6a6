"""Tables of the pages (ui/tables.py), in French whatever the browser's language: numbers sent with their
French text (Couverture, Propositions, read view: sorted as numbers), or French text (the drawing page's
comparison, resent at every click)."""

from __future__ import annotations

import io

import pyarrow as pa
from streamlit.elements.lib.pandas_styler_utils import marshall_styler
from streamlit.proto.ArrowData_pb2 import ArrowData

from tests.support.apptest import protos, run_page
from ui.tables import french_table

FOIX, PAMIERS = "09122", "09225"


def _arrow(data: bytes):
    return pa.ipc.open_stream(io.BytesIO(data)).read_all().to_pandas()


def _scenario(populations):
    from geo.store.scenarios import ScenarioStore

    store = ScenarioStore()
    store.create("Tableaux", scope="dep:09")
    for name, code in (("Foix", FOIX), ("Pamiers", PAMIERS)):
        store.change_communes("Tableaux", store.add_territory("Tableaux", name), add=[code])
    pamiers = int(populations[PAMIERS])  # about 16 000 inhabitants
    assert pamiers > 1000
    return store.get("Tableaux"), pamiers


def test_a_styled_table_sends_numbers_and_their_french_text(isolated_data, populations):
    from geo.territory.context import context
    from geo.territory.plan import Plan

    scenario, pamiers = _scenario(populations)
    table = Plan(context(), scenario).table()
    proto = ArrowData()
    marshall_styler(proto, french_table(table, Plan.TABLE_DECIMALS), "t")  # what st.dataframe sends
    data = table  # the numbers go as they are...
    shown = _arrow(proto.styler.display_values)  # ...with the text the grid draws
    population = next(c for c in data.columns if c.startswith("Population"))
    row = list(data["Territoire"]).index("Pamiers")
    assert data[population].iloc[row] == pamiers
    assert shown.iloc[row, list(data.columns).index(population)] == f"{pamiers:,}".replace(
        ",", "\u202f"
    )
    area = shown.iloc[row, list(data.columns).index("Superficie (km²)")]
    assert "," in area and "." not in area
    # no APL layer in this data folder: the column is French text (« — »), not missing numbers that the
    # grid would write « None »
    assert list(french_table(table).data["APL"]) == ["—", "—"]


def test_the_comparison_table_of_the_drawing_page_is_french_text(isolated_data, populations):
    _, pamiers = _scenario(populations)
    app = run_page(
        "pages/2_Dessiner_un_territoire.py",
        **{"draw-scope": "dep:09", "scenario-wanted": "Tableaux"},
    )
    assert not app.exception, [e.value for e in app.exception]
    sent = [_arrow(p.arrow_data.data) for p in protos(app) if type(p).__name__ == "Dataframe"]
    comparison = next(t for t in sent if "Taille ACI" in t.columns)
    population = next(c for c in comparison.columns if c.startswith("Population"))
    assert f"{pamiers:,}".replace(",", "\u202f") in list(comparison[population])
    assert all("." not in text for text in comparison["Superficie (km²)"])
