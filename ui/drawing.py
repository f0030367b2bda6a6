"""Widgets of the territory page: scenario and territory bars, map events, tools, comparison, export.

Everything that changes a scenario goes through ``geo.store.scenarios.ScenarioStore``
(one saved transaction per change); this module only lays out widgets and
routes user actions.
"""

from __future__ import annotations

import time
import uuid

import pandas as pd
import shapely
import streamlit as st

from geo.base.search import close_communes, epci_members, search_communes
from geo.base.snapping import snap_polygon_to_communes
from geo.errors import DataError
from geo.formats import french
from geo.store import preferences
from geo.store.layers import now_iso
from geo.store.scenarios import STATUSES, ChangeResult
from geo.territory.diagnostics import Diagnostics
from geo.territory.export import geojson_bytes, read_export, territory_feature, to_csv
from geo.territory.plan import Plan
from layers.safe import css_colour, html_text
from ui import tables
from ui.text import plain
from ui.uploads import file_input

SNAP_RULES = {
    "point": "Point représentatif de la commune dans le dessin",
    "half_area": "Au moins la moitié de la surface de la commune dans le dessin",
}


# --- scenario and territory --------------------------------------------------------------


def scenario_picker(store, spec: str) -> str | None:
    """Choose, create, duplicate, rename or delete a scenario; returns the chosen name."""
    st.subheader("Scénario")
    names = store.names()
    name = _chosen_scenario(names, store.user)
    if name:
        preferences.put_for(store.user, "scenario", name)
    with st.expander("Nouveau scénario" if names else "Créer un scénario", expanded=not names):
        with st.form("new-scenario", clear_on_submit=True):
            new = st.text_input("Nom du scénario")
            overlap = st.checkbox(
                "Autoriser qu'une commune soit dans plusieurs territoires", value=False
            )
            if st.form_submit_button("Créer"):
                _run(lambda: store.create(new, scope=spec, allow_overlap=overlap))
                st.session_state["scenario-wanted"] = new.strip()
                st.rerun()
    if name:
        with st.expander("Gérer ce scénario"):
            copy = st.text_input("Nom de la copie", value=f"{name} (variante)", key="dup-name")
            if st.button("Dupliquer pour comparer une variante"):
                _run(lambda: store.duplicate(name, copy))
                st.session_state["scenario-wanted"] = copy.strip()
                st.rerun()
            renamed = st.text_input("Nouveau nom", value=name, key="ren-scen")
            if st.button("Renommer le scénario") and renamed.strip() != name:
                _run(lambda: store.rename(name, renamed))
                st.session_state["scenario-wanted"] = renamed.strip()
                st.rerun()
            scen = store.get(name)
            allow = st.checkbox(
                "Autoriser les chevauchements entre territoires",
                value=scen.allow_overlap,
                key=f"overlap-{name}",
            )
            if allow != scen.allow_overlap:
                store.set_allow_overlap(name, allow)
                st.rerun()
            confirm = st.checkbox(
                f"Je confirme la suppression de « {plain(name)} »", key=f"del-scen-{name}"
            )
            if st.button("Supprimer le scénario", disabled=not confirm, type="primary"):
                store.delete(name)
                st.session_state.pop("scenario-current", None)
                st.rerun()
    return name


def _steered_select(where, label: str, options: list, wanted, name: str, format_func=str):
    """A select the user changes and the page may steer (to a scenario or territory just created...).

    The page steers it by giving the select a new key rather than by setting its value: a browser still
    holding the old select's value (a periodic refresh of the history panel sent meanwhile) cannot switch
    it back. ``wanted`` (None: keep) is the option the page chooses; the choice shown is kept in
    ``st.session_state[name + "-current"]``.
    """
    current = st.session_state.get(f"{name}-current")
    generation = st.session_state.setdefault(f"{name}-select", 0)
    if wanted in options and wanted != current:
        current = wanted
        generation += 1
        st.session_state[f"{name}-select"] = generation
    if current not in options:
        current = options[0]
    value = where.selectbox(
        plain(label),
        options,
        index=options.index(current),
        format_func=format_func,
        key=f"{name}-{generation}",
    )
    st.session_state[f"{name}-current"] = value
    return value


def _chosen_scenario(names: list[str], user: str) -> str | None:
    """The scenario shown: the user's choice, a scenario just created / copied / renamed / imported, or the
    user's last one on a new visit."""
    if not names:
        return None
    wanted = st.session_state.pop("scenario-wanted", None)
    if wanted is None and "scenario-current" not in st.session_state:
        wanted = preferences.get_for(user, "scenario")
    return _steered_select(st, "Scénario", names, wanted, "scenario")


def _session() -> str:
    """This browser session's id: undo/redo only walk the changes it made."""
    return st.session_state.setdefault("edit-session", uuid.uuid4().hex)


def _views() -> dict[str, int]:
    """Scenario name -> the last change of the journal this session's map was drawn from."""
    return st.session_state.setdefault("seen-change", {})


def remember_view(store, scenario: str) -> None:
    """Note which state of ``scenario`` the map now shows: a later click on a commune somebody else has
    changed since is refused, naming who and when (nothing is silently overwritten)."""
    _views()[scenario] = store.last_change(scenario)


def shown_change(scenario: str) -> int | None:
    """The journal's last change when this session's map of ``scenario`` was drawn (None before)."""
    return _views().get(scenario)


def edit_session() -> str:
    """This browser session's id: its changes (a restore too) are what its undo and redo walk."""
    return _session()


def _run(action):
    """Run a store action, showing its French error instead of failing the page."""
    try:
        return action()
    except DataError as exc:
        st.error(plain(exc))
        st.stop()


def plan_for(ctx, scenario) -> Plan:
    """The session's plan for this scenario (its tallies follow the changes)."""
    key = f"plan-{scenario.name}"
    plan = st.session_state.get(key)
    if plan is None or plan.ctx is not ctx:
        plan = Plan(ctx)
        st.session_state[key] = plan
    plan.sync(scenario)
    return plan


def territory_bar(store, scenario):
    """Choose the active territory; create, rename, recolour, set status, lock, delete."""
    terrs = scenario.territories
    ids = [t.id for t in terrs]
    key = f"active-{scenario.name}"
    wanted = st.session_state.pop(f"{key}-wanted", None)
    names = {t.id: t.name + (" 🔒" if t.locked else "") for t in terrs}
    cols = st.columns([3, 2, 2])
    slot = (
        st.empty()
    )  # always one element here, even without a territory: the map below keeps its place
    active_id = (
        _steered_select(cols[0], "Territoire actif", ids, wanted, key, format_func=names.get)
        if ids
        else None
    )
    # A new popover (closed) after each creation; the same one across scenarios, so that a click made
    # while the page is switching to another scenario keeps it open.
    created = st.session_state.setdefault("new-terr-created", 0)
    with cols[1].popover("Nouveau territoire", width="stretch", key=f"new-terr-pop-{created}"):
        with st.form("new-terr", clear_on_submit=True):
            tname = st.text_input("Nom du territoire", value="")
            if st.form_submit_button("Créer le territoire"):
                tid = _run(
                    lambda: store.add_territory(
                        scenario.name, tname or f"Territoire {len(terrs) + 1}", session=_session()
                    )
                )
                st.session_state[f"{key}-wanted"] = tid
                st.session_state["new-terr-created"] = created + 1
                st.rerun()
    active = next((t for t in terrs if t.id == active_id), None)
    if active is None:
        return None
    with cols[2].popover("Propriétés du territoire", width="stretch"):
        with st.form(f"props-{active.id}"):
            new_name = st.text_input("Nom", value=active.name)
            status = st.selectbox(
                "Statut",
                STATUSES,
                index=STATUSES.index(active.status) if active.status in STATUSES else 0,
            )
            colour = st.color_picker("Couleur", value=active.colour)
            notes = st.text_area("Notes", value=active.notes)
            if st.form_submit_button("Enregistrer"):
                changes = {
                    k: v
                    for k, v in {
                        "name": new_name,
                        "status": status,
                        "colour": colour,
                        "notes": notes,
                    }.items()
                    if v != getattr(active, k)
                }
                if changes:
                    _run(
                        lambda: store.update_territory(
                            scenario.name, active.id, session=_session(), **changes
                        )
                    )
                st.rerun()
        locked = st.toggle(
            "Verrouiller (les clics ne le modifient plus)",
            value=active.locked,
            key=f"lock-{active.id}",
        )
        if locked != active.locked:
            store.update_territory(scenario.name, active.id, locked=locked)
            st.rerun()
        confirm = st.checkbox(
            f"Je confirme la suppression de « {plain(active.name)} »", key=f"del-terr-{active.id}"
        )
        if st.button("Supprimer le territoire", disabled=not confirm, key=f"del-btn-{active.id}"):
            _run(lambda: store.delete_territory(scenario.name, active.id, session=_session()))
            st.rerun()
    if active.locked:
        slot.caption(
            f"🔒 « {plain(active.name)} » est verrouillé : déverrouillez-le dans ses propriétés pour le modifier."
        )
    return active


def _history_step(step, undo: bool) -> str | None:
    """Undo or redo; the refusal's French message (then nothing changed), else rerun the page."""
    try:
        label = step()
    except DataError as exc:
        return str(exc)
    st.toast(f"Annulé : {plain(label)}" if undo else f"Rétabli : {plain(label)}")
    st.rerun()


def history_bar(store, scenario: str) -> None:
    """Undo / redo of this session's changes; a refusal is shown beside them (the map and panel stay)."""
    state = store.history_state(scenario, _session())
    cols = st.columns([1, 1, 4])
    refused = None
    if cols[0].button(
        "↶ Annuler",
        disabled=not state["undo"],
        help=plain(state["undo_label"]) or None,
        width="stretch",
    ):
        refused = _history_step(lambda: store.undo(scenario, _session()), undo=True)
    if cols[1].button(
        "↷ Rétablir",
        disabled=not state["redo"],
        help=plain(state["redo_label"]) or None,
        width="stretch",
    ):
        refused = _history_step(lambda: store.redo(scenario, _session()), undo=False)
    if refused:
        cols[2].error(plain(refused))
    else:
        cols[2].caption(
            "Cliquez sur une commune pour l'ajouter au territoire actif ou l'en retirer ; "
            "ou dessinez un polygone / rectangle (outils à gauche de la carte). "
            "Chaque modification est enregistrée aussitôt."
        )


# --- map ---------------------------------------------------------------------------------


def apply_edits(store, edits, ctx) -> tuple[list[str], list[str]]:
    """Apply the map's edits, each to the scenario and territory it was made in (never the active one).

    Returns (the communes touched, whose colour the browser must get back whatever happened; French
    messages to show over the map, names escaped for HTML).
    """
    touched, notes = [], []
    if not edits:
        return touched, notes
    names = store.ids()
    rule = st.session_state.get("snap-rule", "point")
    for edit in edits:
        scenario = names.get(edit.scenario)
        if scenario is None:
            notes.append("Modification ignorée : son scénario a été supprimé.")
            touched += edit.codes
            continue
        codes = [c for c in edit.codes if c in ctx.geometry]
        if edit.op == "draw":
            try:
                polygon = shapely.geometry.shape(edit.geometry or {})
            except Exception:  # noqa: BLE001 - a drawing the browser sent is checked, not trusted
                continue
            if polygon.geom_type not in ("Polygon", "MultiPolygon") or not polygon.is_valid:
                notes.append("Dessin ignoré : le polygone n'est pas valide.")
                continue
            codes, _ = snap_polygon_to_communes(
                polygon, ctx.communes.reset_index(drop=True), rule=rule
            )
            if not codes:
                notes.append("Aucune commune retenue par le dessin.")
                continue
        add = codes if edit.op in ("add", "draw") else []
        remove = codes if edit.op == "remove" else []
        first = ctx.communes.at[codes[0], "name"] if codes else ""
        label = {
            "add": f"Ajout de {first}",
            "remove": f"Retrait de {first}",
            "draw": f"Dessin : {len(codes)} commune(s)",
        }[edit.op]
        touched += codes
        try:
            result = store.change_communes(
                scenario,
                edit.territory,
                add=add,
                remove=remove,
                label=label,
                session=_session(),
                seen=_views().get(scenario),  # refused if someone changed these communes since
            )
        except DataError as exc:
            notes.append(html_text(str(exc)))
            continue
        if result.refused:
            sample = ", ".join(
                f"{ctx.communes.at[c, 'name']} ({why})"
                for c, why in list(result.refused.items())[:5]
            )
            notes.append(
                html_text(
                    f"{len(result.refused)} commune(s) non ajoutée(s) : {sample}. Autorisez les "
                    "chevauchements dans « Gérer ce scénario » si c'est voulu."
                )
            )
    return touched, notes


def map_fills(scenario) -> tuple[dict, dict]:
    """The drawing map's colours (code -> [colour, territory id]) and territory names (escaped)."""
    fills, names = {}, {}
    for terr in scenario.territories:
        names[str(terr.id)] = html_text(terr.name)
        colour = css_colour(terr.colour)
        for code in terr.communes:
            fills[code] = [colour, terr.id]
    return fills, names


def apply_change(
    store, scenario: str, active, ctx, add=(), remove=(), label: str = ""
) -> ChangeResult:
    try:
        result = store.change_communes(
            scenario, active.id, add=add, remove=remove, label=label, session=_session()
        )
    except DataError as exc:  # shown in the panel; the map and the panel stay
        st.session_state["refused-message"] = str(exc)
        st.rerun(scope="fragment")
    if result.refused:
        sample = ", ".join(
            f"{ctx.communes.at[c, 'name']} ({why})" for c, why in list(result.refused.items())[:5]
        )
        st.session_state["refused-message"] = (
            f"{len(result.refused)} commune(s) non ajoutée(s) : {sample}. Autorisez les chevauchements "
            "dans « Gérer ce scénario » si c'est voulu."
        )
    st.rerun(scope="fragment")
    return result


def part_zoom_buttons(d: Diagnostics, ctx, scenario: str) -> None:
    """When a territory is in several parts, one button per part zooms the map to it."""
    message = st.session_state.pop("refused-message", None)
    if message:
        st.warning(plain(message))
    if d.parts <= 1:
        return
    st.caption("Parties du territoire :")
    cols = st.columns(min(d.parts, 4))
    for i, part in enumerate(d.part_codes):
        pop = sum(ctx.population.get(c, 0) for c in part)
        if cols[i % len(cols)].button(
            f"Partie {french.integer(i + 1)} : {len(part)} comm., {french.integer(pop)} hab.",
            key=f"part-{scenario}-{i}",
        ):
            bounds = shapely.union_all([ctx.geometry[c] for c in part]).bounds
            st.session_state[f"focus-{scenario}"] = {
                "bounds": list(bounds),
                "nonce": time.time_ns(),
            }
            st.rerun(scope="fragment")


# --- other ways to add communes ------------------------------------------------------------


def commune_tools(store, scenario: str, active, ctx, communes) -> None:
    if active is None:
        return
    disabled = active.locked
    tabs = st.tabs(
        ["Chercher une commune", "Ajouter un EPCI", "Dessin", "Copier une CPTS existante"]
    )
    with tabs[0]:
        query = st.text_input(
            "Nom ou code INSEE",
            key="search-q",
            help="Accents, majuscules, tirets et articles ignorés ; « St », « Ste », « s/ » compris.",
        )
        if query:
            hits = search_communes(query, ctx.communes.reset_index(drop=True), limit=15)
            if hits.empty:
                hits = close_communes(query, ctx.communes.reset_index(drop=True))
                st.caption(
                    "Aucune commune trouvée."
                    if hits.empty
                    else "Aucune commune de ce nom ; noms proches :"
                )
            if not hits.empty:
                labels = {r.insee: f"{r.name} ({r.insee}, dép. {r.dep})" for r in hits.itertuples()}
                code = st.selectbox(
                    "Résultats", list(labels), format_func=labels.get, key="search-pick"
                )
                inside = code in active.communes
                if st.button(
                    "Retirer du territoire" if inside else "Ajouter au territoire",
                    disabled=disabled,
                    key="search-apply",
                ):
                    apply_change(
                        store,
                        scenario,
                        active,
                        ctx=ctx,
                        add=[] if inside else [code],
                        remove=[code] if inside else [],
                        label=f"{'Retrait' if inside else 'Ajout'} de {labels[code]}",
                    )
    with tabs[1]:
        epcis = (
            communes[["epci", "epci_name"]].dropna().drop_duplicates().sort_values("epci_name")
            if "epci_name" in communes.columns
            else pd.DataFrame(columns=["epci", "epci_name"])
        )
        if epcis.empty:
            st.caption("Aucun EPCI dans ce périmètre.")
        else:
            labels = dict(zip(epcis["epci"], epcis["epci_name"]))
            epci = st.selectbox("EPCI", list(labels), format_func=labels.get, key="epci-pick")
            members = epci_members(epci, ctx)
            population = sum(ctx.population.get(c, 0) for c in members)
            st.caption(f"{len(members)} commune(s), {french.integer(population)} hab.")
            if st.button("Ajouter toutes ses communes", disabled=disabled, key="epci-apply"):
                apply_change(
                    store,
                    scenario,
                    active,
                    ctx=ctx,
                    add=members,
                    label=f"Ajout de l'EPCI {labels[epci]}",
                )
    with tabs[2]:
        st.radio(
            "Une commune est retenue quand…",
            list(SNAP_RULES),
            format_func=SNAP_RULES.get,
            key="snap-rule",
        )
        st.caption(
            "Tracez un polygone ou un rectangle avec les outils de la carte : les communes retenues "
            "sont ajoutées au territoire actif. La corbeille efface les dessins."
        )
    with tabs[3]:
        existing = sorted(
            {cpts for members in ctx.cpts_members.values() for cpts in members}, key=lambda c: c[1]
        )
        if not existing:
            st.caption("Aucun périmètre de CPTS importé : importez-les depuis la page « Données ».")
        else:
            labels = {cid: name for cid, name in existing}
            cid = st.selectbox(
                "CPTS existante", list(labels), format_func=labels.get, key="copy-cpts"
            )
            codes = [
                code
                for code, members in ctx.cpts_members.items()
                if any(m[0] == cid for m in members)
            ]
            st.caption(f"{len(codes)} commune(s)")
            if st.button(
                "Copier ses communes dans le territoire actif", disabled=disabled, key="copy-apply"
            ):
                apply_change(
                    store,
                    scenario,
                    active,
                    ctx=ctx,
                    add=codes,
                    label=f"Copie de la CPTS {labels[cid]}",
                )


# --- comparison, export, import ------------------------------------------------------------

LARGE_SCENARIO = (
    30  # territories: above, the comparison table is shown on demand (it is resent at each click)
)


def comparison(plan: Plan, store, scenario: str, ctx) -> None:
    """The scenario's territories side by side (from the running tallies), and optionally another scenario."""
    st.subheader("Comparaison des territoires du scénario")
    count = len(plan.tallies)
    if not count:
        st.caption("Aucun territoire.")
        return
    if count > LARGE_SCENARIO and not st.toggle(
        f"Afficher le tableau des {french.integer(count)} territoires",
        value=False,
        key=f"show-table-{scenario}",
    ):
        st.caption("Tableau masqué pour que la carte reste fluide : il est renvoyé à chaque clic.")
    else:
        st.dataframe(
            tables.as_text(plan.table(), Plan.TABLE_DECIMALS), hide_index=True, width="stretch"
        )
    others = [n for n in store.names() if n != scenario]
    if others and st.toggle("Comparer avec un autre scénario", value=False, key="compare-on"):
        other = st.selectbox("Autre scénario", others, key="compare-with")
        st.dataframe(
            tables.as_text(plan_for(ctx, store.get(other)).table(), Plan.TABLE_DECIMALS),
            hide_index=True,
            width="stretch",
        )


def _export_rows(scenario) -> list[dict]:
    return [
        {"id": t.id, "name": t.name, "status": t.status, "communes": sorted(t.communes)}
        for t in scenario.territories
        if t.communes
    ]


def _geojson_export(territories: list[dict], ctx, scenario_name: str, cache: dict) -> bytes:
    """The scenario's GeoJSON; each territory's feature is rebuilt only when that territory changed."""
    keys = [
        (id(ctx), scenario_name, t["id"], t["name"], t["status"], tuple(t["communes"]))
        for t in territories
    ]
    stamp = now_iso()
    features = []
    for key, terr in zip(keys, territories):
        if key not in cache:
            cache[key] = territory_feature(
                terr["name"],
                terr["communes"],
                ctx,
                status=terr["status"],
                scenario=scenario_name,
                ident=str(terr["id"]),
            )
        feature = cache[key]
        features.append({**feature, "properties": {**feature["properties"], "exported_at": stamp}})
    for stale in set(cache) - set(keys):
        cache.pop(stale, None)
    return geojson_bytes({"type": "FeatureCollection", "features": features})


def export_import(store, scenario_name: str, ctx, spec: str) -> None:
    """Downloads built at the click from the scenario as saved then (never a stale copy), and the import."""
    st.subheader("Exporter et importer")
    scenario = store.get(scenario_name)
    cols = st.columns(2)
    if scenario.territories:  # the files are built at the click, from the territories as saved then
        slug = "".join(ch if ch.isalnum() else "_" for ch in scenario_name)[:60]
        cache = st.session_state.setdefault("_geojson-features", {})
        cols[0].download_button(
            "Télécharger le GeoJSON",
            key="dl-geojson",
            file_name=f"{slug}.geojson",
            mime="application/geo+json",
            data=lambda: _geojson_export(
                _export_rows(store.get(scenario_name)), ctx, scenario_name, cache
            ),
            on_click="ignore",
        )
        cols[1].download_button(
            "Télécharger la liste des communes (CSV)",
            key="dl-csv",
            data=lambda: to_csv(_export_rows(store.get(scenario_name))),
            file_name=f"{slug}.csv",
            mime="text/csv",
            on_click="ignore",
        )
    else:
        st.caption("Créez un territoire pour pouvoir exporter le scénario.")
    created = st.session_state.pop("imp-created", None)  # from the import of the previous run
    if created:
        st.success(plain(created))
        st.toast(plain(created))
    for text in st.session_state.pop("imp-warnings", []):
        st.warning(plain(text))
    with st.expander("Importer un export (GeoJSON ou CSV) dans un nouveau scénario"):
        upload = file_input("Fichier exporté par CartoCPTS", ("geojson", "json", "csv"), "imp-file")
        name = st.text_input("Nom du nouveau scénario", key="imp-name")
        if st.button("Importer", disabled=upload is None or not name.strip()):
            data = upload.getvalue()
            imported = _run(lambda: read_export(data, upload.name, known=ctx.population))
            new = _run(lambda: store.create_from(name, imported, scope=spec))
            st.session_state["imp-warnings"] = imported.warnings
            st.session_state["scenario-wanted"] = new.name
            st.session_state["imp-created"] = (
                f"Scénario « {new.name} » créé avec {french.integer(len(new.territories))} "
                "territoire(s) ; il est ouvert."
            )
            st.rerun()
