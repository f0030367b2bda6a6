"""The app's one global style sheet, mounted once per page by ``ui.common.page_nav``.

Streamlit's captions are a faded grey below the WCAG AA contrast (3.9:1 on white): they are darkened here.

Streamlit has no translations: its file uploader writes « Upload » and « 200MB per file » in English. Those
texts are replaced here by French ones through CSS (the English text is hidden with ``display: none``, so it
leaves the accessibility tree too, and the French text is generated content, which browsers include in the
accessible name of the button). The selectors are Streamlit 1.67's ``data-testid`` attributes, checked by
``tests/browser/test_uploads.py``: a Streamlit upgrade that renames them fails that test.

The sheet travels as the CSS of a components-v2 element without HTML (its script only labels the uploader's
button, see ``_JS``): with ``isolate_styles=False``
Streamlit writes it in a ``<style>`` of the page itself, so it applies to the whole page. It holds constant text
only (no user text ever reaches it).
"""

from __future__ import annotations

import streamlit as st

from geo.formats.french import integer
from geo.sources.limits import MAX_UPLOAD_MB

UPLOAD_BUTTON = "Choisir un fichier"
UPLOAD_HINT = f"ou glisser-déposer ici — {integer(MAX_UPLOAD_MB)} Mo au plus"
DROP_HERE = "Déposer le fichier ici"

_UPLOADER = '[data-testid="stFileUploaderDropzone"]'
CAPTION_COLOUR = (
    "#5c5b59"  # 6.7:1 on white (WCAG AA: 4.5:1); Streamlit's faded caption grey is 3.9:1
)
CSS = f"""
[data-testid="stCaptionContainer"] {{ color: {CAPTION_COLOUR}; opacity: 1; }}
{_UPLOADER} button [data-testid="stMarkdownContainer"] p {{ display: none; }}
{_UPLOADER} button [data-testid="stMarkdownContainer"]::after {{ content: "{UPLOAD_BUTTON}"; }}
[data-testid="stFileUploaderDropzoneInstructions"] > div > span {{ display: none; }}
[data-testid="stFileUploaderDropzoneInstructions"] > div::after {{ content: "{UPLOAD_HINT}"; }}
{_UPLOADER} > div:not([data-testid]) > * {{ font-size: 0; }}
{_UPLOADER} > div:not([data-testid]) > *::after {{ content: "{DROP_HERE}"; font-size: 1rem; }}
"""
# Generated content is part of a button's accessible name for browsers, not for every checker (axe-core): the
# uploader's button also gets the French text as its aria-label, set once per button as Streamlit draws it;
# the « Help for … » label of the help tooltips' buttons becomes « Aide : … ».
_JS = (
    "export default function () {\n"
    "  if (window.__cartocptsLabels) return;\n"
    "  window.__cartocptsLabels = true;\n"
    "  const label = () => document.querySelectorAll("
    "'[data-testid=\"stFileUploaderDropzone\"] button:not([aria-label])')"
    f".forEach(b => b.setAttribute('aria-label', '{UPLOAD_BUTTON}'));\n"
    "  const help = () => document.querySelectorAll('button[aria-label^=\"Help for \"]')"
    ".forEach(b => b.setAttribute('aria-label', 'Aide : ' + b.getAttribute('aria-label').slice(9)));\n"
    "  const all = () => { label(); help(); };\n"
    "  all();\n"
    "  new MutationObserver(all).observe(document.body, {childList: true, subtree: true});\n"
    "}\n"
)
_STYLE = st.components.v2.component("cartocpts_style", css=CSS, js=_JS, isolate_styles=False)


def apply() -> None:
    """Put the style sheet in the page (an empty element of no height)."""
    _STYLE(key="cartocpts-style", height=0)


__all__ = ["CAPTION_COLOUR", "CSS", "DROP_HERE", "UPLOAD_BUTTON", "UPLOAD_HINT", "apply"]
