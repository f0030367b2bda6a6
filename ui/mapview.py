"""Show a folium map through streamlit-folium's component, its rendering cached once per map.

``st_folium`` renders the whole map to JavaScript at every rerun (each element's template, then a pass of
regular expressions over the whole text to rename variables and to hash it): for a région's communes that
is a second or two of Python at every switch. Here the strings the component is given are built once per
``key`` (``ui.caches.rendered_map``: the caller's key names the scope, the colouring, the overlays and the
versions of the layers the map is built from) and handed to the same component; a map seen before is shown
again without any rendering. A folium map object is never kept (streamlit-folium renames its elements when
it renders it, so a kept map rendered twice gives broken JavaScript): only its strings are.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import folium
import streamlit_folium as sf

from layers.compactlayer import defer_data, inline_data
from ui import caches


def render_parts(fmap: folium.Map) -> dict:
    """What ``st_folium`` sends to its component for ``fmap`` (no widget state: ``returned_objects=[]``)."""
    deferred = defer_data(fmap)
    fmap.get_root().render()
    fmap.render()
    html = sf._get_html(fmap)
    header = sf._get_header(fmap)
    script = sf._get_map_string(fmap)
    digest = hashlib.sha256(
        script.encode()
    ).hexdigest()  # of the script without the data (it is in the key)
    script = inline_data(script, deferred)
    css, js = [], []

    def walk(element):
        if isinstance(element, folium.elements.JSCSSMixin):
            yield element
        for child in getattr(element, "_children", {}).values():
            yield from walk(child)

    for element in walk(fmap):
        css += [href for _, href in getattr(element, "default_css", [])]
        js += [src for _, src in getattr(element, "default_js", [])]
    return {
        "script": script,
        "header": header,
        "html": html,
        "id": sf.get_full_id(fmap),
        "css_links": list(dict.fromkeys(css)),
        "js_links": list(dict.fromkeys(js)),
        "digest": digest,
    }


def show_map(key: str, build: Callable[[], folium.Map], height: int) -> None:
    """Draw the map built by ``build`` (called only when ``key`` was never rendered in this process)."""
    parts = caches.rendered_map(key, lambda: render_parts(build()))
    sf._component_func(
        script=parts["script"],
        header=parts["header"],
        html=parts["html"],
        id=parts["id"],
        key=hashlib.sha256(f"{key}|{parts['digest']}".encode()).hexdigest(),
        height=height,
        width=None,
        returned_objects=[],
        default={},
        zoom=None,
        center=None,
        feature_group=None,
        return_on_hover=False,
        layer_control=None,
        pixelated=False,
        css_links=parts["css_links"],
        js_links=parts["js_links"],
        wrap_longitude=False,
    )
