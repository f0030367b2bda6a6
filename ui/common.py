"""What every Streamlit page needs: the base build, the scope's map data, error display, French numbers.

The Streamlit caches are in ``ui.caches``; the functions here key them by
the versions of the layer files they are built from.
"""

from __future__ import annotations

import contextlib
import logging
import os

import streamlit as st

from geo.base import communes as base
from geo.errors import DataError
from geo.formats import french
from geo.sources.population import vintage_heading
from geo.store import preferences
from geo.store.cache import cached_layer, layers_version
from geo.store.catalogue import sources
from geo.store.users import LOCAL_USER
from geo.territory.context import Context, context
from layers.assets import assets_present, missing_assets_message
from ui import caches, page_style
from ui.identity import current_user, require_user
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
        st.error(
            "Une erreur inattendue s'est produite. Le détail technique est dans le journal du serveur."
        )
        st.stop()


APP = "CartoCPTS"
REFRESH_VAR = "CARTOCPTS_REFRESH_SECONDS"
DEFAULT_REFRESH = 5.0


def refresh_seconds() -> float | None:
    """Seconds between two looks for the team's changes (``CARTOCPTS_REFRESH_SECONDS``, 5 by default);
    None (0 or less): no periodic look."""
    try:
        value = float(os.environ.get(REFRESH_VAR, DEFAULT_REFRESH))
    except ValueError:
        value = DEFAULT_REFRESH
    return value if value > 0 else None


@contextlib.contextmanager
def page(title: str, tab: str | None = None, caption: str | None = None, maps: bool = True):
    """A page's start: tab title, navigation, errors shown in French (never a traceback), the map files
    (``maps``) and the commune base ready, the title and its caption; the page's body runs inside."""
    st.set_page_config(
        page_title=APP if (tab or title) == APP else f"{tab or title} — {APP}",
        page_icon="🗺️",
        layout="wide",
    )
    page_nav()
    with user_errors():
        if maps:
            ensure_assets()
        ensure_base()
        st.title(plain(title))
        if caption:
            st.caption(plain(caption))
        yield


def ensure_base() -> None:
    """Build the commune base on first run, with progress shown."""
    if base.base_is_current():
        return
    bar = st.progress(0.0, text="Construction de la base communale (première utilisation)…")
    base.build_base(progress=lambda fraction, message: bar.progress(fraction, text=plain(message)))
    bar.empty()


def ensure_assets() -> None:
    if not assets_present():
        st.error(plain(missing_assets_message()))
        st.stop()


def population_stamp() -> str:
    """Changes when the populations in use change (the commune base or the imported populations)."""
    return str(layers_version(caches.POPULATED))


def scope_totals_in_use(spec: str) -> dict:
    """Communes, population (in use, with its vintage) and area of a scope, from the full commune list."""
    return caches.totals(spec, layers_version(caches.POPULATED))


def map_communes(spec: str):
    """The simplified communes of a scope, with the populations in use (cached per scope).

    ``attrs["population_vintage"]`` says which vintage ``population`` holds.
    """
    return caches.map_communes(spec, layers_version(caches.POPULATED))


def map_outlines(spec: str):
    """Simplified département and région outlines of a scope (cached per scope)."""
    return caches.map_outlines(spec, layers_version(caches.POPULATED))


def map_layer(spec: str) -> str:
    """The scope's simplified communes as one compact layer (JSON text, escaped properties), serialised once."""
    return caches.map_layer(spec, layers_version(caches.POPULATED))


def map_points(spec: str) -> dict:
    """The scope's communes without a contour, as points at their chef-lieu (cached per scope)."""
    return caches.map_points(spec, layers_version(caches.POPULATED))


def scope_frame(spec: str):
    """The scope's ``map_frame`` (escaped names, populations in use), cached per scope and populations."""
    return caches.scope_frame(spec, layers_version(caches.POPULATED))


def population_label(spec: str) -> str:
    return vintage_heading(map_communes(spec).attrs.get("population_vintage", ""))


def scope_select(key: str, default: str, with_france: bool = False) -> str:
    """A searchable select of régions and départements (and « France entière » first when ``with_france``);
    returns the scope spec."""
    choices = ([("fr", "France entière")] if with_france else []) + cached_scope_choices()
    specs = [spec for spec, _ in choices]
    labels = dict(choices)
    if (
        default not in specs
    ):  # « fr » remembered by the home page, on a page without the France view
        default = preferences.DEFAULTS["scope"]
    index = specs.index(default) if default in specs else 0
    return st.selectbox(
        "France, région ou département" if with_france else "Région ou département",
        specs,
        index=index,
        format_func=labels.get,
        key=key,
        help="Tapez un nom ou un code pour chercher.",
    )


def cached_scope_choices() -> list[tuple[str, str]]:
    """(spec, French label) of every région and département."""
    return caches.scope_choice_list(layers_version(caches.BASE))


def scenario_store():
    """The scenario store, acting as the user of this session (``ui.identity``)."""
    return caches.scenario_store(require_user())


def current_context() -> Context:
    """The diagnostics context (geo rebuilds it only when a layer file changed)."""
    return context()


def commune_list(codes, ctx, limit: int = 10) -> str:
    """« Foix (09122), Pamiers (09225) … » for messages (names escaped for Markdown)."""
    names = [
        f"{plain(ctx.communes.at[c, 'name'])} ({plain(c)})" if c in ctx.communes.index else plain(c)
        for c in codes[:limit]
    ]
    return ", ".join(names) + (" …" if len(codes) > limit else "")


def area_names(codes, ctx, column: str) -> str:
    """« 09 Ariège, 31 Haute-Garonne » for département (``dep``) or région (``reg``) codes (escaped for Markdown)."""
    names = ctx.communes.drop_duplicates(column).set_index(column)[f"{column}_name"]
    return ", ".join(plain(f"{c} {names.get(c, '')}") for c in codes) or "—"


def fmt_datetime(iso: str | None) -> str:
    """« 23/11/2026 08:11 » (Paris time) from an ISO 8601 stamp (``geo.formats.french.date_time``)."""
    return french.date_time(iso)


def optional_layer(name: str):
    """(rows, provenance) of an imported layer (FINESS, APL, typology, CPTS...), or (None, None).

    Read once per version of its file (``geo.store.cache.cached_layer``); the frame is shared: never change it.
    """
    return cached_layer(name)


def missing_layer_hint(name: str, what: str) -> None:
    """Where to get a layer that is not loaded yet, with a link to the « Données » page."""
    src = sources().get(name, {})
    where = (
        link(src.get("publisher", "—"), src["url"])
        if src.get("url")
        else plain(src.get("publisher", "—"))
    )
    st.caption(
        f"**{plain(what)}** : aucune donnée chargée. Source : {where}. À importer dans la page « Données »."
    )


PAGES = (  # Material Symbols icons ship with Streamlit's front end: no emoji font needed on the user's machine
    ("app.py", "Accueil", ":material/map:"),
    ("pages/1_Données.py", "Données", ":material/upload_file:"),
    ("pages/2_Dessiner_un_territoire.py", "Dessiner un territoire", ":material/edit:"),
    ("pages/3_Couverture.py", "Couverture", ":material/explore:"),
    ("pages/4_Propositions.py", "Propositions", ":material/extension:"),
    ("pages/5_Arbitrages.py", "Arbitrages", ":material/gavel:"),
)


def page_nav() -> None:
    """The sidebar's page menu, in French (Streamlit's own menu would label the home page « app »)."""
    with st.sidebar:
        page_style.apply()  # French texts of Streamlit's own widgets, contrast
        for path, label, icon in PAGES:
            st.page_link(path, label=plain(label), icon=icon)
        st.divider()
        user = current_user()
        if user is not None and user != LOCAL_USER:
            st.caption(f"Connecté : {plain(user)}")


def scope_cpts_perimeters(communes):
    """Dissolved perimeters of the imported CPTS holding a commune of ``communes``; None without the layer."""
    frame, _ = optional_layer("cpts")
    if frame is None:
        return None
    perimeters = caches.all_cpts_perimeters(layers_version(("communes", "cpts", "population")))
    inside = frame.loc[frame["insee"].isin(set(communes["insee"])), "cpts_id"].astype(str).unique()
    return perimeters[perimeters["cpts_id"].astype(str).isin(inside)]
