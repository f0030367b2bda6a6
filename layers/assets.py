"""Local Leaflet assets: folium is told to load them from Streamlit's static server.

The files are fetched at set-up by ``scripts/fetch_assets.py`` into
``static/vendor/`` and served by Streamlit at ``/app/static/vendor/...``
(``[server] enableStaticServing = true``). No map element may load anything
from a CDN.
"""

from __future__ import annotations

from pathlib import Path

import folium
from folium.plugins import Draw, MarkerCluster

STATIC_PREFIX = "/app/static/vendor"
VENDOR_DIR = Path(__file__).resolve().parent.parent / "static" / "vendor"

# Relative to VENDOR_DIR; each must exist for the maps to work.
REQUIRED = (
    "leaflet/leaflet.js",
    "leaflet/leaflet.css",
    "leaflet.markercluster/leaflet.markercluster.js",
    "leaflet.markercluster/MarkerCluster.css",
    "leaflet.markercluster/MarkerCluster.Default.css",
    "leaflet-draw/leaflet.draw.js",
    "leaflet-draw/leaflet.draw.css",
)


def url(rel: str) -> str:
    return f"{STATIC_PREFIX}/{rel}"


def use_local_assets() -> None:
    """Point folium's Map and the plugins we use at the local files only."""
    folium.Map.default_js = [("leaflet", url("leaflet/leaflet.js"))]
    folium.Map.default_css = [("leaflet_css", url("leaflet/leaflet.css"))]
    MarkerCluster.default_js = [
        ("markerclusterjs", url("leaflet.markercluster/leaflet.markercluster.js"))
    ]
    MarkerCluster.default_css = [
        ("markerclustercss", url("leaflet.markercluster/MarkerCluster.css")),
        ("markerclusterdefaultcss", url("leaflet.markercluster/MarkerCluster.Default.css")),
    ]
    Draw.default_js = [("leaflet_draw_js", url("leaflet-draw/leaflet.draw.js"))]
    Draw.default_css = [("leaflet_draw_css", url("leaflet-draw/leaflet.draw.css"))]


def _missing_assets() -> list[str]:
    return [rel for rel in REQUIRED if not (VENDOR_DIR / rel).is_file()]


def assets_present() -> bool:
    return not _missing_assets()


def missing_assets_message() -> str:
    missing = ", ".join(_missing_assets()) or "aucun"
    return (
        "Les fichiers de la carte (Leaflet) ne sont pas installés : "
        f"{missing}. Lancez « make setup » (ou « python scripts/fetch_assets.py ») puis rechargez la page."
    )


use_local_assets()
