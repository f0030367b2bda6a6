"""Widgets of the « Couverture » and « Propositions » pages.

The computing is in geo.coverage.gaps and geo.coverage.proposals."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from geo.base.chef_lieux import chef_lieu_points
from geo.coverage.gaps import uncovered_csv
from geo.formats import french
from geo.sources.population import vintage_heading
from geo.sources.typology import class_labels
from geo.territory.export import geojson_bytes
from layers.maps import coverage_map
from ui import caches, tables
from ui.common import (
    cached_scope_choices,
    current_context,
    map_communes,
    map_outlines,
    population_stamp,
    scenario_store,
)
from ui.mapview import show_map
from ui.text import plain

ZONE_KEY = "proposal-zone"  # {"codes": [...], "label": str, "scope": spec} handed from Couverture to Propositions
PROPOSAL_KEY = "proposal-result"


def coverage_scope_select(key: str, default: str) -> str:
    """Région, département or the whole of France."""
    choices = [("fr", "France entière"), *cached_scope_choices()]
    specs = [spec for spec, _ in choices]
    labels = dict(choices)
    index = specs.index(default) if default in specs else 0
    return st.selectbox(
        "Périmètre",
        specs,
        index=index,
        format_func=labels.get,
        key=key,
        help="Tapez un nom ou un code pour chercher.",
    )


def scenario_option(key: str) -> str | None:
    names = scenario_store().names()
    if not names:
        return None
    return st.selectbox(
        "Ajouter les territoires d'un scénario",
        [None, *names],
        key=key,
        format_func=lambda n: "Aucun (CPTS existantes seulement)" if n is None else n,
    )


def figures(result) -> None:
    cols = st.columns(4)
    cols[0].metric(
        plain(vintage_heading(result.population_vintage)), french.integer(result.population)
    )
    cols[1].metric("Population couverte", french.integer(result.covered_population))
    cols[2].metric(
        "Population non couverte",
        french.integer(result.uncovered_population),
        help="Habitants des communes qui ne sont dans aucune CPTS.",
    )
    cols[3].metric("Part non couverte", f"{french.decimal(result.uncovered_share * 100, 1)} %")
    st.caption(
        f"{french.integer(len(result.communes))} communes, dont {french.integer(len(result.uncovered))} "
        f"non couvertes et {french.integer(len(result.overlaps))} dans plusieurs CPTS ; "
        f"{french.integer(len(result.territories))} "
        "territoire(s) présents."
    )


TABLE_COLUMNS = {
    "code": "Code",
    "nom": "Nom",
    "communes": "Communes",
    "communes_non_couvertes": "Communes non couvertes",
    "communes_chevauchement": "Communes dans plusieurs CPTS",
    "population": "Population",
    "population_couverte": "Population couverte",
    "population_non_couverte": "Population non couverte",
    "part_non_couverte": "Part non couverte (%)",
}


def _french_table(table: pd.DataFrame) -> pd.DataFrame:
    out = table.assign(part_non_couverte=(table["part_non_couverte"] * 100).round(1))
    return out.rename(columns=TABLE_COLUMNS)


def tables_and_chart(result) -> None:
    """Coverage per département and per région (tables), and a bar chart of the uncovered population."""
    tab_dep, tab_reg = st.tabs(["Par département", "Par région"])
    for tab, table in ((tab_dep, result.by_departement), (tab_reg, result.by_region)):
        shown = _french_table(table)
        with tab:
            tables.show(shown)
    by_region = result.scope.kind == "fr"
    table = result.by_region if by_region else result.by_departement
    data = table.assign(label=table["code"].astype(str) + " " + table["nom"].astype(str))
    data = data[data["population_non_couverte"] > 0]
    if data.empty:
        return
    level = "Région" if by_region else "Département"
    chart = (
        alt.Chart(data)
        .mark_bar(color="#D55E00")
        .encode(
            x=alt.X(
                "population_non_couverte:Q",
                title="Population non couverte",
                axis=alt.Axis(labelExpr=FRENCH_THOUSANDS),
            ),
            y=alt.Y(
                "label:N", sort="-x", title=None, axis=alt.Axis(labelLimit=260, labelOverlap=False)
            ),
            tooltip=[
                alt.Tooltip("label:N", title=level),
                alt.Tooltip(
                    "population_non_couverte:Q", title="Population non couverte", format=",d"
                ),
                alt.Tooltip("part_non_couverte:Q", title="Part non couverte", format=".1%"),
            ],
        )
        .properties(
            height=max(120, 20 * len(data)), title=f"Population non couverte par {level.lower()}"
        )
    )
    st.altair_chart(chart, width="stretch")


# Vega formats numbers the English way (10,000): thousands separated by a narrow space instead
FRENCH_THOUSANDS = "replace(format(datum.value, ',d'), regexp(',', 'g'), '\u202f')"


def clusters_table(result) -> int | None:
    """The uncovered clusters ranked by population; returns the rank of the selected row."""
    if not result.clusters:
        st.success("Aucune commune non couverte dans ce périmètre.")
        return None
    rows = [
        {
            "Zone": cl.rank,
            "Autour de": cl.largest_commune,
            "Communes": len(cl.communes),
            "Population": cl.population,
            "MSP": cl.msp_count,
            "Départements": ", ".join(cl.departements),
            "Enclave": "oui" if cl.enclave else "",
        }
        for cl in result.clusters
    ]
    st.caption(
        "Zones non couvertes (communes non couvertes contiguës), des plus peuplées aux moins peuplées. "
        "Une enclave est entourée de communes couvertes. Sélectionnez une ligne pour zoomer sur la zone."
    )
    frame = pd.DataFrame(rows)
    event = tables.show(frame, on_select="rerun", selection_mode="single-row", key="clusters-table")
    selected = (event.selection.rows if event is not None else []) or []
    return result.clusters[selected[0]].rank if selected else None


def send_to_proposals(codes: list[str], label: str, spec: str) -> None:
    st.session_state[ZONE_KEY] = {"codes": list(codes), "label": label, "scope": spec}
    st.session_state.pop(PROPOSAL_KEY, None)
    st.switch_page("pages/4_Propositions.py")


def proposal_table(proposal, ctx) -> None:
    """One row per proposed territory with its diagnostics (the columns of layers absent are left out)."""
    labels = class_labels(ctx.nomenclature) if ctx.nomenclature is not None else {}

    def main_class(mix: dict | None) -> str:
        classes = {k: v for k, v in (mix or {}).items() if k != "non_classe"}
        if not classes:
            return "—"
        key = max(classes, key=lambda k: (classes[k], k))
        return f"{labels.get(int(key), f'Classe {key}')} ({french.integer(classes[key] * 100)} %)"

    rows = []
    for t in proposal.territories:
        row = {
            "Territoire": t["name"],
            "Communes": len(t["communes"]),
            "Population": t["population"],
            "Taille ACI": t["aci_size"],
            "MSP": t["msp_count"],
            "Centres de santé": t["centres_sante_count"],
        }
        if ctx.apl is not None:
            row[f"APL {ctx.apl_year or ''}".strip()] = (
                t["apl"] if t["apl"] is not None else float("nan")
            )
        if ctx.typology:
            row["Classe Irdes majoritaire (part de la population)"] = main_class(t["irdes_mix"])
        row.update(
            {
                "Densité (hab./km²)": t["density"],
                "D'un seul tenant": "oui" if t["contiguous"] else "non",
                "Départements": ", ".join(t["departements"]),
                "Remarque": t["explanation"] or "",
            }
        )
        rows.append(row)
    frame = pd.DataFrame(rows)
    tables.show(frame, {apl: 2 for apl in frame.columns if apl.startswith("APL")})


def computed_coverage(spec: str, scenario: str | None):
    """(CoverageResult, territory outlines, clusters FeatureCollection), recomputed when a layer or
    the scenario changes."""
    store = scenario_store()  # the user may read the scenario (its get() refuses otherwise)
    updated_at = store.get(scenario).updated_at if scenario else None
    return caches.computed_coverage(
        spec, scenario, current_context().version, updated_at, store.user
    )


def focus_bounds(result):
    """Bounds of the selected uncovered zone (rank kept in the session), else of the scope."""
    rank = st.session_state.get("coverage-focus")
    for cl in result.clusters:
        if cl.rank == rank and cl.bounds:
            return tuple(round(b, 4) for b in cl.bounds)
    return None


def show_coverage_map(
    spec, scenario, result, outlines, clusters, focus, rank, height: int = 560
) -> None:
    """The coverage map, rendered once per scope, scenario state, selected zone and layer versions
    (``ui.mapview``): the uncovered communes are drawn from the home map's simplified shapes."""
    ctx = current_context()
    updated_at = scenario_store().get(scenario).updated_at if scenario else None
    key = f"coverage|{spec}|{scenario}|{updated_at}|{rank}|{ctx.version}|{population_stamp()}"

    def build():
        bounds = focus or tuple(ctx.communes.loc[result.communes].total_bounds)
        shapes = map_communes(spec).set_index("insee", drop=False)
        return coverage_map(
            bounds,
            result,
            ctx,
            outlines,
            clusters,
            vintage_heading(result.population_vintage),
            shapes=shapes,
            points=chef_lieu_points(),
            departements=map_outlines(spec)[0],
            focus_rank=rank,
        )

    show_map(key, build, height)


def no_contour_note(result) -> str:
    """The uncovered communes without a contour (shown as points, in no zone), or ''."""
    ctx = current_context()
    missing = [c for c in result.uncovered if ctx.geometry.get(c) is None]
    if not missing:
        return ""
    names = ", ".join(f"{ctx.communes.at[c, 'name']} ({c})" for c in missing)
    return (
        f"{french.integer(len(missing))} commune(s) non couverte(s) sans contour dans la source ({names}) : "
        "comptées dans les chiffres, montrées par un point à la mairie du chef-lieu quand elle est connue, "
        "rattachées à aucune zone."
    )


def downloads(result, clusters, spec: str) -> None:
    if not result.uncovered:
        return
    st.subheader("Exporter")
    name = spec.replace(":", "-")
    left, right = st.columns(2)
    ctx = current_context()
    # The files are made when a button is clicked (for France, almost a second at every run otherwise).
    left.download_button(
        "Communes non couvertes (CSV)",
        lambda: uncovered_csv(result, ctx),
        file_name=f"communes-non-couvertes-{name}.csv",
        mime="text/csv",
        on_click="ignore",
    )
    if clusters:
        right.download_button(
            "Zones non couvertes (GeoJSON)",
            lambda: geojson_bytes(clusters),
            file_name=f"zones-non-couvertes-{name}.geojson",
            mime="application/geo+json",
            on_click="ignore",
        )
