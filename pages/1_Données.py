"""Page « Données »: every layer with its provenance; import, update or remove them."""

import pandas as pd
import streamlit as st

from geo.formats.french import integer
from geo.sources.registry import IMPORTERS
from geo.store.catalogue import sources, status
from geo.store.shared_layers import importing_as, problems
from geo.store.users import LOCAL_USER
from ui.common import fmt_datetime, page
from ui.data_import import import_panel, online_update
from ui.identity import current_user
from ui.text import link, plain
from ui.uploads import upload_limit_mb

# In team mode an import is shared with every instance, under the name of who made it.
with (
    page(
        "Données",
        caption="Chaque couche garde sa source, son millésime, sa licence et sa date d'import. "
        "Un import qui échoue laisse la couche précédente intacte.",
        maps=False,
    ),
    importing_as(current_user() or LOCAL_USER),
):
    for problem in problems().values():  # team mode: a shared layer that could not be refreshed
        st.warning(plain(problem))

    present = {row["layer"]: row for row in status()}
    catalogue = sources()
    rows = []
    for name, src in catalogue.items():
        row = present.get(name)
        rows.append(
            {
                "Couche": src["title"],
                "Source": (row or {}).get("source") or src["publisher"],
                "Millésime": str((row or {}).get("vintage") or "—"),  # one type per column (Arrow)
                "Licence": (row or {}).get("licence") or src["licence"],
                "Lignes": integer(row["rows"]) if row else "—",  # French digits: 34 875
                "Importée le": fmt_datetime((row or {}).get("built_at")) if row else "absente",
            }
        )
    # Every column within the 906 px a 1366 px wide screen leaves beside the sidebar (long texts are cut:
    # the full text shows in the table's full-screen view and in each layer's panel below).
    widths = {"Couche": 230, "Source": 230, "Millésime": 95, "Licence": 130, "Lignes": 75}
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        width="stretch",
        column_config={
            **{col: st.column_config.TextColumn(width=px) for col, px in widths.items()},
            "Importée le": st.column_config.TextColumn(width=125),
        },
    )

    st.subheader("Importer ou mettre à jour")
    st.caption(f"Taille maximale d'un fichier : {plain(integer(upload_limit_mb()))} Mo.")
    for name, importer in IMPORTERS.items():
        src = catalogue.get(name, {})
        title = plain(importer.label) + ("" if name in present else " — absente")
        busy = (
            f"report-{name}" in st.session_state
            or st.session_state.get(f"upload-{name}") is not None
        )
        with st.expander(title, expanded=busy):  # stays open while the user works in it
            st.markdown(
                f"**Éditeur** : {plain(src.get('publisher', '—'))}  \n"
                f"**Licence** : {plain(src.get('licence', '—'))}  \n"
                f"**Format** : {plain(src.get('format', '—'))}  \n"
                f"**Mise à jour** : {plain(src.get('how_to_update', '—'))}"
            )
            if src.get("url"):
                st.markdown(f"**Où l'obtenir** : {link(src['url'], src['url'])}")
            online_update(importer)
            import_panel(importer, present.get(name))

    st.subheader("Sources de référence")
    for name, src in catalogue.items():
        if name not in IMPORTERS:
            st.markdown(
                f"- **{plain(src['title'])}** — {plain(src['publisher'])} ; {plain(src['vintage'])} ; "
                f"{plain(src['licence'])}. {plain(src.get('how_to_update', ''))}"
            )
