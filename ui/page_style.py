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
from ui.uploads import upload_limit_mb

UPLOAD_BUTTON = "Choisir un fichier"
UPLOAD_HINT = f"ou glisser-déposer ici — {integer(upload_limit_mb())} Mo au plus"
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
# The chosen file's chip (name, size « 1.2MB », « Error: File must be 200.0MB or smaller. », « Remove … »): the
# script writes the French text in a ``data-fr`` attribute of each English text element (it never changes
# the text React wrote) and the sheet shows that attribute in place of the text.
CHIP_CSS = """
[data-testid="stFileChip"] [data-fr], [data-baseweb="tooltip"] [data-fr] { font-size: 0; }
[data-testid="stFileChip"] [data-fr]::after, [data-baseweb="tooltip"] [data-fr]::after {
  content: attr(data-fr); font-size: 0.875rem; }
"""
CSS += CHIP_CSS
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
    # « 1.2MB » → « 1,2 Mo »; the uploader's English messages → French
    "  const units = {B: 'o', KB: 'Ko', MB: 'Mo', GB: 'Go', TB: 'To'};\n"
    "  const size = t => t.replace(/(\\d+(?:\\.\\d+)?)\\s*([KMGT]?B)\\b/g,"
    " (m, n, u) => n.replace(/\\.0$/, '').replace('.', ',') + '\\u00a0' + units[u]);\n"
    "  const message = t => {\n"
    "    const big = t.match(/File must be (.+) or smaller/);\n"
    "    if (big) return 'Fichier trop volumineux : ' + size(big[1]) + ' au plus.';\n"
    "    if (/files are not allowed/.test(t)) return 'Type de fichier refusé.';\n"
    "    if (/Only one file/.test(t)) return 'Un seul fichier à la fois.';\n"
    "    if (/too small/.test(t)) return 'Fichier trop petit.';\n"
    '    if (/Upload failed|Unexpected error/.test(t)) return "Échec de l\'envoi : réessayez.";\n'
    "    return null;\n"
    "  };\n"
    "  const mark = (e, fr) => { if (fr && e.dataset.fr !== fr) e.dataset.fr = fr; };\n"
    "  const relabel = (e, fr) => { if (e.getAttribute('aria-label') !== fr) e.setAttribute('aria-label', fr); };\n"
    "  const chips = () => {\n"
    "    document.querySelectorAll('[data-testid=\"stFileChip\"]').forEach(chip => {\n"
    "      const name = chip.querySelector('[data-testid=\"stFileChipName\"]');\n"
    "      if (name && name.nextElementSibling) {\n"
    "        const s = name.nextElementSibling;\n"
    "        mark(s, size(s.textContent));\n"
    "        relabel(chip, name.textContent + ', ' + size(s.textContent));\n"
    "      }\n"
    "      chip.querySelectorAll('[role=\"alert\"]').forEach(a => { const fr = message(a.textContent);"
    " if (fr) { mark(a, 'Erreur : ' + fr); } });\n"
    "      const del = chip.querySelector('[data-testid=\"stFileChipDeleteBtn\"] button');\n"
    "      const text = del && del.getAttribute('aria-label') || '';\n"
    "      if (text.startsWith('Remove ')) relabel(del, 'Retirer ' + text.slice(7));\n"
    "      if (text.startsWith('Cancel upload of ')) relabel(del, \"Annuler l'envoi de \" + text.slice(17));\n"
    "      if (chip.title === 'Click to retry upload') chip.title = \"Cliquer pour réessayer l'envoi\";\n"
    "    });\n"
    "    document.querySelectorAll('[data-baseweb=\"tooltip\"] *').forEach(e => {\n"
    "      if (!e.children.length) mark(e, message(e.textContent));\n"
    "    });\n"
    "  };\n"
    "  const all = () => { label(); help(); chips(); };\n"
    "  all();\n"
    "  new MutationObserver(all).observe(document.body, {childList: true, subtree: true, characterData: true});\n"
    "}\n"
)
_STYLE = st.components.v2.component("cartocpts_style", css=CSS, js=_JS, isolate_styles=False)


def apply() -> None:
    """Put the style sheet in the page (an empty element of no height)."""
    _STYLE(key="cartocpts-style", height=0)


__all__ = [
    "CAPTION_COLOUR",
    "CHIP_CSS",
    "CSS",
    "DROP_HERE",
    "UPLOAD_BUTTON",
    "UPLOAD_HINT",
    "apply",
]
