"""Streamlit display of a territory's diagnostics (shared by the drawing and comparison views)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.sources.typology import class_labels
from ui.common import area_names, commune_list, fmt_dec, fmt_int
from ui.text import plain

KIND_LABELS = {"msp": "MSP", "centre_sante": "Centre de santé", "cpts_seat": "Siège de CPTS"}


def show_diagnostics(d: dict, ctx, key: str) -> None:
    """Side panel figures for one territory."""
    edge = d["aci_edge"]
    cols = st.columns(2)
    cols[0].metric(f"Population ({plain(d['population_vintage'])})", fmt_int(d["population"]))
    cols[1].metric("Taille ACI", f"Taille {fmt_int(d['aci_size'])}")
    hints = []
    if edge["to_upper"] is not None:
        hints.append(f"{fmt_int(edge['to_upper'])} hab. de plus → taille {fmt_int(d['aci_size'] + 1)}")
    if edge["to_lower"] is not None:
        hints.append(f"{fmt_int(edge['to_lower'])} hab. de moins → taille {fmt_int(d['aci_size'] - 1)}")
    st.caption(" · ".join(hints))
    cols = st.columns(3)
    cols[0].metric("Communes", fmt_int(d["commune_count"]))
    cols[1].metric("Superficie (km²)", fmt_int(d["area_km2"]))
    cols[2].metric("Densité (hab./km²)", fmt_int(d["density"]) if d["density"] else "—")
    cols = st.columns(3)
    cols[0].metric("MSP", fmt_int(d["msp_count"]))
    cols[1].metric("Centres de santé", fmt_int(d["centres_sante_count"]))
    cols[2].metric("Sièges de CPTS", fmt_int(d["cpts_seats_count"]))
    if not ctx.structures:
        st.caption("Structures FINESS non chargées : importez le fichier FINESS depuis la page « Données ».")

    if d["apl"] is not None:
        refs = d.get("apl_reference") or {}
        ref_text = ", ".join(f"{plain(k.replace('dep:', 'dép. ').replace('reg:', 'région '))} : {fmt_dec(v)}"
                             for k, v in refs.items() if v is not None)
        st.markdown(f"**APL aux médecins généralistes ({plain(d.get('apl_year') or '')})** : {fmt_dec(d['apl'])} "
                    f"(pondérée par la population standardisée) — comparaison : {ref_text or '—'}")
    elif ctx.apl is None:
        st.caption("APL non chargée : importez le classeur de la DREES depuis la page « Données ».")

    if d["irdes_mix"]:
        labels = {} if ctx.nomenclature is None else {str(k): v for k, v in class_labels(ctx.nomenclature).items()}
        mix = pd.DataFrame(
            [{"Classe Irdes": labels.get(k, "Non classé" if k == "non_classe" else f"Classe {k}"),
              "Part de la population": f"{v:.0%}"} for k, v in d["irdes_mix"].items()])
        st.dataframe(mix, hide_index=True, width="stretch")
    elif not ctx.typology:
        st.caption("Typologie Irdes non chargée : importez-la depuis la page « Données ».")

    if d["contiguous"]:
        st.success("Territoire d'un seul tenant." if d["commune_count"] else "Territoire vide.")
    else:
        st.warning(f"Territoire en {fmt_int(d['parts'])} parties séparées.")
    if d.get("enclosed"):
        st.warning(f"{len(d['enclosed'])} commune(s) enclavée(s) non incluse(s) : "
                   f"{commune_list(d['enclosed'], ctx, 15)}")
    st.markdown(f"**Départements** : {area_names(d['departements'], ctx, 'dep')} · "
                f"**Régions** : {area_names(d['regions'], ctx, 'reg')}")
    if d["multi_region"]:
        st.error("Le territoire s'étend sur deux régions : il relève de deux ARS.")
    if d.get("polsby_popper") is not None:
        st.markdown(f"**Compacité (indice de Polsby-Popper)** : {fmt_dec(d['polsby_popper'])} (1 = disque)")
    for over in d["overlaps"]:
        st.warning(f"Chevauche la CPTS existante « {plain(over['cpts_nom'])} » : {len(over['communes'])} "
                   f"commune(s), {fmt_int(over['population'])} hab. ({commune_list(over['communes'], ctx)})")
    for over in d["territory_overlaps"]:
        st.warning(f"Chevauche le territoire « {plain(over['territory'])} » : {len(over['communes'])} commune(s), "
                   f"{fmt_int(over['population'])} hab.")


def structures_table(codes, ctx) -> pd.DataFrame:
    rows = []
    for code in sorted(codes):
        for rec in ctx.structures.get(code, []):
            rows.append({"Type": KIND_LABELS.get(rec.get("kind"), rec.get("kind")), "Nom": rec.get("name"),
                         "Commune": ctx.communes.at[code, "name"], "FINESS": rec.get("nofinesset")})
    return pd.DataFrame(rows)
