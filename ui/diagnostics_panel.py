"""Streamlit display of a territory's diagnostics (shared by the drawing and comparison views)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.formats import french
from geo.sources.typology import class_labels
from geo.territory.diagnostics import Diagnostics
from ui.common import area_names, commune_list
from ui.text import plain

KIND_LABELS = {"msp": "MSP", "centre_sante": "Centre de santé", "cpts_seat": "Siège de CPTS"}


def _share(value: float) -> str:
    """A share of the population as a French percentage: « 42 % »."""
    return f"{french.integer(value * 100)} %"


def sensitivity_lines(d: Diagnostics) -> list[str]:
    """One Markdown list item per border commune that changes the ACI size class (names escaped)."""
    return [
        f"- {'Ajout' if s.action == 'ajout' else 'Retrait'} de {plain(s.commune)} ({plain(s.code_insee)}, "
        f"{french.integer(s.population)} hab.) → taille {french.integer(s.aci_size_after)}"
        for s in d.aci_sensitivity
    ]


def _show_sensitivity(d: Diagnostics) -> None:
    """The border communes whose addition or removal would change the size class."""
    lines = sensitivity_lines(d)
    if not lines:
        if d.commune_count:
            st.caption("Aucune commune de la bordure ne change à elle seule la taille ACI.")
        return
    with st.expander(
        f"Sensibilité de la taille ACI : {french.integer(len(lines))} commune(s) de la bordure"
    ):
        st.markdown("\n".join(lines))


def show_diagnostics(d: Diagnostics, ctx, key: str) -> None:
    """Side panel figures for one territory."""
    edge = d.aci_edge
    cols = st.columns(2)
    cols[0].metric(f"Population ({plain(d.population_vintage)})", french.integer(d.population))
    cols[1].metric("Taille ACI", f"Taille {french.integer(d.aci_size)}")
    hints = []
    if edge.to_upper is not None:
        hints.append(
            f"{french.integer(edge.to_upper)} hab. de plus → taille {french.integer(d.aci_size + 1)}"
        )
    if edge.to_lower is not None:
        hints.append(
            f"{french.integer(edge.to_lower)} hab. de moins → taille {french.integer(d.aci_size - 1)}"
        )
    st.caption(" · ".join(hints))
    _show_sensitivity(d)
    cols = st.columns(3)
    cols[0].metric("Communes", french.integer(d.commune_count))
    cols[1].metric("Superficie (km²)", french.integer(d.area_km2))
    cols[2].metric("Densité (hab./km²)", french.integer(d.density) if d.density else "—")
    cols = st.columns(3)
    cols[0].metric("MSP", french.integer(d.msp_count))
    cols[1].metric("Centres de santé", french.integer(d.centres_sante_count))
    cols[2].metric("Sièges de CPTS", french.integer(d.cpts_seats_count))
    if not ctx.structures:
        st.caption(
            "Structures FINESS non chargées : importez le fichier FINESS depuis la page « Données »."
        )

    if d.apl is not None:
        refs = d.apl_reference or {}
        ref_text = ", ".join(
            f"{plain(k.replace('dep:', 'dép. ').replace('reg:', 'région '))} : {french.decimal(v)}"
            for k, v in refs.items()
            if v is not None
        )
        st.markdown(
            f"**APL aux médecins généralistes ({plain(d.apl_year or '')})** : {french.decimal(d.apl)} "
            f"(pondérée par la population standardisée) — comparaison : {ref_text or '—'}"
        )
    elif ctx.apl is None:
        st.caption("APL non chargée : importez le classeur de la DREES depuis la page « Données ».")

    if d.irdes_mix:
        labels = (
            {}
            if ctx.nomenclature is None
            else {str(k): v for k, v in class_labels(ctx.nomenclature).items()}
        )
        mix = pd.DataFrame(
            [
                {
                    "Classe Irdes": labels.get(
                        k, "Non classé" if k == "non_classe" else f"Classe {k}"
                    ),
                    "Part de la population": _share(v),
                }
                for k, v in d.irdes_mix.items()
            ]
        )
        st.dataframe(mix, hide_index=True, width="stretch")
    elif not ctx.typology:
        st.caption("Typologie Irdes non chargée : importez-la depuis la page « Données ».")

    if d.contiguous:
        st.success("Territoire d'un seul tenant." if d.commune_count else "Territoire vide.")
    else:
        st.warning(f"Territoire en {french.integer(d.parts)} parties séparées.")
    if d.enclosed:
        st.warning(
            f"{len(d.enclosed)} commune(s) enclavée(s) non incluse(s) : {commune_list(d.enclosed, ctx, 15)}"
        )
    st.markdown(
        f"**Départements** : {area_names(d.departements, ctx, 'dep')} · "
        f"**Régions** : {area_names(d.regions, ctx, 'reg')}"
    )
    if d.multi_region:
        st.error("Le territoire s'étend sur deux régions : il relève de deux ARS.")
    if d.polsby_popper is not None:
        st.markdown(
            f"**Compacité (indice de Polsby-Popper)** : {french.decimal(d.polsby_popper)} (1 = disque)"
        )
    for over in d.overlaps:
        st.warning(
            f"Chevauche la CPTS existante « {plain(over.cpts_nom)} » : {len(over.communes)} "
            f"commune(s), {french.integer(over.population)} hab. ({commune_list(over.communes, ctx)})"
        )
    for over in d.territory_overlaps:
        st.warning(
            f"Chevauche le territoire « {plain(over.territory)} » : {len(over.communes)} commune(s), "
            f"{french.integer(over.population)} hab."
        )


def structures_table(codes, ctx) -> pd.DataFrame:
    rows = []
    for code in sorted(codes):
        for rec in ctx.structures.get(code, []):
            rows.append(
                {
                    "Type": KIND_LABELS.get(rec.get("kind"), rec.get("kind")),
                    "Nom": rec.get("name"),
                    "Commune": ctx.communes.at[code, "name"],
                    "FINESS": rec.get("nofinesset"),
                }
            )
    return pd.DataFrame(rows)
