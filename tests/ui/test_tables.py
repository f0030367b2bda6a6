"""Tables of the pages (ui/tables.py): numbers reach the browser as numbers (the grid sorts them as such)
with their French text beside them, whatever the browser's language."""

from __future__ import annotations

import io

import pyarrow as pa

from tests.support.apptest import protos, run_page

FOIX, PAMIERS = "09122", "09225"


def _arrow(data: bytes):
    return pa.ipc.open_stream(io.BytesIO(data)).read_all().to_pandas()


def test_the_comparison_table_sends_numbers_and_their_french_text(isolated_data, populations):
    from geo.store.scenarios import ScenarioStore

    store = ScenarioStore()
    store.create("Tableaux", scope="dep:09")
    for name, code in (("Foix", FOIX), ("Pamiers", PAMIERS)):
        store.change_communes("Tableaux", store.add_territory("Tableaux", name), add=[code])
    app = run_page(
        "pages/2_Dessiner_un_territoire.py",
        **{"draw-scope": "dep:09", "scenario-wanted": "Tableaux"},
    )
    assert not app.exception, [e.value for e in app.exception]
    tables = [p.arrow_data for p in protos(app) if type(p).__name__ == "Dataframe"]
    comparison = next(t for t in tables if "Taille ACI" in _arrow(t.data).columns)
    data, shown = _arrow(comparison.data), _arrow(comparison.styler.display_values)
    population = next(c for c in data.columns if c.startswith("Population"))
    pamiers = int(populations[PAMIERS])  # about 16 000 inhabitants
    assert pamiers > 1000 and sorted(data[population]) == sorted(
        [int(populations[FOIX]), pamiers]
    )  # numbers
    row = list(data["Territoire"]).index("Pamiers")
    column = list(data.columns).index(population)
    assert shown.iloc[row, column] == f"{pamiers:,}".replace(",", "\u202f")
    area = shown.iloc[row, list(data.columns).index("Superficie (km²)")]
    assert "," in area and "." not in area
    # no APL layer in this data folder: the column is French text (« — »), not missing numbers that the
    # grid would write « None »
    assert data["APL"].notna().all()
