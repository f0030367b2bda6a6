"""The one boundary between user text and the maps: text never becomes template source, HTML or script.

folium and branca render every map element through Jinja2 on the server,
and branca's ``MacroElement.render`` then wraps each element's *rendered*
output in a new ``Element``, which compiles it again as a Jinja template:
``streamlit_folium`` renders the whole figure (``get_root().render()``), so a
CPTS named ``{{ 7*7 }}`` was shown as ``49``, and a crafted name ran code on
the server. Two guards, both installed when :mod:`layers` is imported:

1. :func:`html_text` is the single way user text (names from files or typed
   in the app, vintages, nomenclature labels, file names) enters a layer:
   HTML-escaped for tooltips, popups, legends and layer names, and with
   ``{`` and ``}`` written as HTML entities, so that no Jinja delimiter
   (``{{``, ``{%``, ``{#``) survives in anything a template sees. Layer
   builders call it on every text they did not write themselves.
2. :func:`install_render_guard` makes branca and folium add the rendered
   output of each element to the page as literal text (:class:`Raw`) instead
   of compiling it again: even a text that skipped :func:`html_text` is never
   evaluated.

``tests/security/test_map_payloads.py`` renders every map of every page with
hostile names and checks both.
"""

from __future__ import annotations

import json
import re
from html import escape

import folium.map
from branca.element import Element, Figure, MacroElement

_BRACES = str.maketrans({"{": "&#123;", "}": "&#125;"})


def html_text(value) -> str:
    """``value`` as inert HTML text: ``& < > " '`` escaped, braces as entities (no Jinja delimiter left)."""
    if value is None:
        return ""
    return escape(str(value), quote=True).translate(_BRACES)


_CSS_COLOUR = re.compile(r"#[0-9A-Fa-f]{3,8}")
FALLBACK_COLOUR = "#999999"


def css_colour(value) -> str:
    """``value`` if it is a hex colour (``#RGB`` … ``#RRGGBBAA``), else a neutral grey: no CSS can be injected
    through a colour that a file or a user chose (``red;background:url(…)``)."""
    text = str(value or "")
    return text if _CSS_COLOUR.fullmatch(text) else FALLBACK_COLOUR


_SCRIPT_UNSAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "'": "\\u0027"})


def script_json(value) -> str:
    """JSON for a ``<script>`` block (as Jinja's ``tojson``): ``< > & '`` written as ``\\u`` escapes."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False).translate(_SCRIPT_UNSAFE)


class Raw(Element):
    """Already rendered text added to a figure: returned as it is, never compiled as a template."""

    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def render(self, **kwargs) -> str:
        return self.text


def _macro_render(self, **kwargs):
    """branca's ``MacroElement.render``, adding the macros' output as :class:`Raw` text."""
    figure = self.get_root()
    assert isinstance(figure, Figure), "You cannot render this Element if it is not in a Figure."
    macros = self._template.module.__dict__
    for part in ("header", "html", "script"):
        macro = macros.get(part)
        if macro is not None:
            getattr(figure, part).add_child(Raw(macro(self, kwargs)), name=self.get_name())
    for element in self._children.values():
        element.render(**kwargs)


def _popup_render(self, **kwargs):
    """folium's ``Popup.render``, its script added as :class:`Raw` text."""
    for child in self._children.values():
        child.render(**kwargs)
    figure = self.get_root()
    assert isinstance(figure, Figure), "You cannot render this Element if it is not in a Figure."
    figure.script.add_child(
        Raw(self._template.render(this=self, kwargs=kwargs)), name=self.get_name()
    )


def install_render_guard() -> None:
    """Render each element's output once (idempotent)."""
    MacroElement.render = _macro_render
    folium.map.Popup.render = _popup_render


install_render_guard()
