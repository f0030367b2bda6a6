"""The one boundary between outside text and Streamlit's Markdown.

Every Streamlit text element (``st.markdown``, ``st.caption``, ``st.success``
and the other alerts, ``st.toast``, headers, ``st.metric``) and every widget
label, ``help`` tooltip, radio option, tab label or progress text is rendered
by Streamlit's Markdown pipeline: CommonMark + GitHub extensions (links,
images, autolinks of ``http://``/``www.``/e-mail addresses, tables), KaTeX
maths between ``$``, ``:red[...]``-style directives, ``:material/icon:``,
``:streamlit:`` and ``:emoji:`` shortcodes. A name typed by a user or read from
a file (scenario, territory, CPTS, commune, file name, vintage, a message that
embeds one) must be shown as the characters it holds, never as any of those.

``plain(value)`` is that boundary (``tests/security/test_streamlit_text.py``
checks that every Streamlit call of the app goes through it for anything but
constants and numbers formatted by ``geo.formats.french``):

* every ASCII punctuation character gets a backslash (CommonMark allows that for
  all of them, and renders the character alone): no link, image, emphasis,
  code, HTML tag or entity, table, heading, list, quote, directive, maths;
* a WORD JOINER (U+2060, invisible) goes after a ``:`` followed by a letter, digit,
  ``_``, ``+``, ``-`` or ``/``, after each ``@`` and between ``www`` and a ``.``:
  the shortcode (``:smile:``, ``:streamlit:``), ``:material/…:`` and autolink
  finders of Streamlit's front end run on the text *after* Markdown escapes are
  removed, and none of them matches across that character (``http:⁠//``,
  ``www⁠.``, ``a@⁠b.fr``, ``:⁠red[``). Elsewhere (« Source : x », ``finess.csv``)
  the text is left as it is, so that it can be searched and copied;
* control characters and bidirectional overrides are dropped, and any run of
  white space (line breaks included) becomes one space, so the text stays on
  its line (no setext heading, no indented code block, no block at all).

The rendered text reads exactly as the original (the word joiners have no
width). Do not use ``plain`` where Streamlit shows text as is (selectbox
options, ``st.text``, ``st.dataframe``, a text input's value, file names of
downloads): the backslashes would show there.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

WORD_JOINER = "\u2060"

# C0/C1 controls (white space is handled apart) and the bidirectional embedding / override / isolate marks,
# which could make a name display as something else.
_DROPPED = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SPACES = re.compile(r"\s+")
_ASCII_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def _escape(text: str, i: int) -> str:
    char = text[i]
    if char == "." and text[max(0, i - 3) : i].lower() == "www":
        return WORD_JOINER + "\\."
    if char == ":" and i + 1 < len(text) and (text[i + 1].isalnum() or text[i + 1] in "_+-/"):
        return "\\:" + WORD_JOINER
    if char == "@":
        return "\\@" + WORD_JOINER
    if char in _ASCII_PUNCTUATION:
        return "\\" + char
    return char


def plain(value) -> str:
    """``value`` (any object, shown with ``str``) as Markdown that Streamlit renders as exactly that text."""
    text = "" if value is None else str(value)
    text = _SPACES.sub(" ", _DROPPED.sub("", text)).strip()
    return "".join(_escape(text, i) for i in range(len(text)))


def link(label, url) -> str:
    """A Markdown link to an ``http(s)`` address of the application's own catalogue, ``label`` shown plain.

    Any other address (``javascript:``, ``data:``…) is shown as plain text, not as a link.
    """
    url = str(url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return plain(label) + (f" \\({plain(url)}\\)" if url else "")
    # percent-encode what could end the destination or open Markdown inside it: ( ) < > [ ] space, quotes
    target = quote(url, safe=":/?#@!$&*+,;=%-._~")
    return f"[{plain(label)}]({target})"


__all__ = ["WORD_JOINER", "link", "plain"]
