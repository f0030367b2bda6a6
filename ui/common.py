"""What every Streamlit page needs: cached layers, the base build, error display."""

from __future__ import annotations

import contextlib
import logging

import streamlit as st

from geo.base import communes as base
from geo.errors import DataError
from geo.base.scope import parse_scope, scope_choices, scope_communes
from geo.base.shapes import simplify_coverage
from layers.assets import assets_present, missing_assets_message
from ui.text import link, plain

log = logging.getLogger("cartocpts")


@contextlib.contextmanager
def user_errors():
    """Show DataError messages (French, escaped: they name files and places) and hide tracebacks of anything else."""
    try:
        yield
    except DataError as exc:
        st.error(plain(exc))
        st.stop()
    except Exception:  # noqa: BLE001 - never show a traceback to a user
        log.exception("Unexpected error")
        st.error("Une erreur inattendue s'est produite. Le détail technique est dans le journal du serveur.")
        st.stop()


def ensure_base() -> None:
    """Build the commune base on first run, with progress shown."""
    if base.base_is_current():
        return
    bar = st.progress(0.0, text="Construction de la base communale (première utilisation)…")
    base.build_base(progress=lambda fraction, message: bar.progress(fraction, text=plain(message)))
    bar.empty()
    load_layer.clear()


def ensure_assets() -> None:
    if not assets_present():
        st.error(plain(missing_assets_message()))
        st.stop()


@st.cache_resource(show_spinner="Chargement des données…")
def load_layer(name: str):
    return base.load(name)


@st.cache_data(show_spinner=False)
def cached_scope_choices() -> list[tuple[str, str]]:
    load_layer("communes")
    return scope_choices()


def population_stamp() -> str:
    """Changes when the current populations layer is imported or removed."""
    from geo.store import layers as store

    meta = store.read_meta("population")
    return str(meta.get("built_at")) if meta else ""


@st.cache_resource(show_spinner="Préparation de la carte…", max_entries=32)
def _map_communes(spec: str, stamp: str):
    from geo.sources.population import populations_in_use

    load_layer("communes")
    communes = simplify_coverage(scope_communes(parse_scope(spec))).copy()
    populations, vintage = populations_in_use(communes["insee"], communes["population"])
    communes["population"] = populations.to_numpy()
    communes.attrs["population_vintage"] = vintage
    return communes


@st.cache_resource(show_spinner=False, max_entries=32)
def _totals(spec: str, stamp: str) -> dict:
    from geo.sources.population import populations_in_use
    from geo.base.scope import scope_totals

    load_layer("communes")
    scope = parse_scope(spec)
    communes = scope_communes(scope).copy()  # every commune, those without a contour included
    populations, vintage = populations_in_use(communes["insee"], communes["population"])
    communes["population"] = populations.to_numpy()
    communes.attrs["population_vintage"] = vintage
    return scope_totals(scope, communes)


def scope_totals_in_use(spec: str) -> dict:
    """Communes, population (in use, with its vintage) and area of a scope, from the full commune list."""
    return _totals(spec, population_stamp())


def map_communes(spec: str):
    """The simplified communes of a scope, with the populations in use (cached per scope).

    ``attrs["population_vintage"]`` says which vintage ``population`` holds.
    """
    return _map_communes(spec, population_stamp())


@st.cache_resource(show_spinner=False, max_entries=32)
def map_outlines(spec: str):
    """Simplified département and région outlines of a scope (cached per scope)."""
    from geo.base.shapes import simplify_outlines
    from geo.base.scope import scope_outlines

    count = len(map_communes(spec))
    deps, regs = scope_outlines(parse_scope(spec))
    return simplify_outlines(deps, count), simplify_outlines(regs, count)


def population_label(spec: str) -> str:
    return f"Population {map_communes(spec).attrs.get('population_vintage', '')}".strip()


def scope_select(key: str, default: str) -> str:
    """A searchable select of régions and départements; returns the scope spec."""
    choices = cached_scope_choices()
    specs = [spec for spec, _ in choices]
    labels = dict(choices)
    index = specs.index(default) if default in specs else 0
    return st.selectbox(
        "Région ou département", specs, index=index, format_func=labels.get, key=key,
        help="Tapez un nom ou un code pour chercher.",
    )


@st.cache_resource
def scenario_store():
    from geo.store.scenarios import ScenarioStore

    return ScenarioStore()


def current_context():
    """The diagnostics context (rebuilt by geo only when a layer file changed)."""
    from geo.territory.context import context

    return context()


def commune_list(codes, ctx, limit: int = 10) -> str:
    """« Foix (09122), Pamiers (09225) … » for messages (names escaped for Markdown)."""
    names = [f"{plain(ctx.communes.at[c, 'name'])} ({plain(c)})" if c in ctx.communes.index else plain(c)
             for c in codes[:limit]]
    return ", ".join(names) + (" …" if len(codes) > limit else "")


def area_names(codes, ctx, column: str) -> str:
    """« 09 Ariège, 31 Haute-Garonne » for département (``dep``) or région (``reg``) codes (escaped for Markdown)."""
    names = ctx.communes.drop_duplicates(column).set_index(column)[f"{column}_name"]
    return ", ".join(plain(f"{c} {names.get(c, '')}") for c in codes) or "—"


def fmt_datetime(iso: str | None) -> str:
    """« 23/11/2026 08:11 » (Paris time) from an ISO 8601 stamp; the text itself if it is not one."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    if not iso:
        return "—"
    try:
        stamp = datetime.fromisoformat(str(iso))
    except ValueError:
        return str(iso)
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(ZoneInfo("Europe/Paris"))
    return stamp.strftime("%d/%m/%Y %H:%M")


def fmt_dec(value, digits: int = 2) -> str:
    """3,92 (French decimal comma)."""
    if value is None:
        return "—"
    return f"{value:,.{digits}f}".replace(",", "\u202f").replace(".", ",")


def fmt_int(value) -> str:
    """12 345 (French thousands separator)."""
    if value is None:
        return "—"
    return f"{value:,.0f}".replace(",", "\u202f")


@st.cache_resource(show_spinner=False, max_entries=32)
def _map_geojson(spec: str, stamp: str) -> str:
    from layers.communes import map_frame
    from layers.fastgeojson import serialise

    return serialise(map_frame(map_communes(spec)))


def map_geojson(spec: str) -> str:
    """The scope's simplified communes as GeoJSON text (escaped properties), serialised once."""
    return _map_geojson(spec, population_stamp())


@st.cache_resource(show_spinner="Chargement de la couche…", max_entries=8)
def _stamped_layer(name: str, stamp: str):
    from geo.store import layers as store

    return store.read_layer(name)


def optional_layer(name: str):
    """An imported layer (FINESS, APL, typology, CPTS...) or None; re-read only when it was re-imported."""
    from geo.store import layers as store

    meta = store.read_meta(name)
    if meta is None:
        return None, None
    frame = _stamped_layer(name, str(meta.get("built_at") or meta.get("imported_at") or ""))
    return (frame, meta) if frame is not None else (None, None)


def missing_layer_hint(name: str, what: str) -> None:
    """Where to get a layer that is not loaded yet, with a link to the « Données » page."""
    from geo.store.catalogue import sources

    src = sources().get(name, {})
    where = link(src.get("publisher", "—"), src["url"]) if src.get("url") else plain(src.get("publisher", "—"))
    st.caption(f"**{plain(what)}** : aucune donnée chargée. Source : {where}. À importer dans la page « Données ».")


PAGES = (  # Material Symbols icons ship with Streamlit's front end: no emoji font needed on the user's machine
    ("app.py", "Accueil", ":material/map:"),
    ("pages/1_Données.py", "Données", ":material/upload_file:"),
    ("pages/2_Dessiner_un_territoire.py", "Dessiner un territoire", ":material/edit:"),
    ("pages/3_Couverture.py", "Couverture", ":material/explore:"),
    ("pages/4_Propositions.py", "Propositions", ":material/extension:"),
)


def page_nav() -> None:
    """The sidebar's page menu, in French (Streamlit's own menu would label the home page « app »)."""
    with st.sidebar:
        for path, label, icon in PAGES:
            st.page_link(path, label=plain(label), icon=icon)
        st.divider()


@st.cache_resource(show_spinner="Contours des CPTS…", max_entries=2)
def _all_cpts_perimeters(stamp: str):
    from geo.sources.cpts import cpts_perimeters

    frame, _ = optional_layer("cpts")
    return cpts_perimeters(frame, load_layer("communes"))


def scope_cpts_perimeters(communes):
    """Dissolved perimeters of the imported CPTS holding a commune of ``communes``; None without the layer."""
    frame, meta = optional_layer("cpts")
    if frame is None:
        return None
    perimeters = _all_cpts_perimeters(str(meta.get("built_at")))
    inside = frame.loc[frame["insee"].isin(set(communes["insee"])), "cpts_id"].astype(str).unique()
    return perimeters[perimeters["cpts_id"].astype(str).isin(inside)]
