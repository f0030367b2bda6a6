"""File inputs that refuse a file of the wrong type in French, and never hand back an earlier file.

Streamlit's own check of the type (``st.file_uploader(type=...)``) happens in the browser, in English
(« … files are not allowed. »), and leaves the earlier accepted file as the widget's value: « Importer »
then imports that earlier file again. Here the browser accepts any file and the extension is checked on
the server: a file of another type replaces the earlier one, is refused with a French message naming it,
and :func:`file_input` returns None (nothing to import).
"""

from __future__ import annotations

import streamlit as st

from geo.errors import DataError
from geo.sources.limits import MAX_UPLOAD_MB
from ui.text import plain

MAX_NAME_CHARS = 500  # of a user's file name kept for messages and provenance


def upload_limit_mb() -> int:
    """The largest file the app accepts, in MB: Streamlit's ``server.maxUploadSize`` (the browser refuses
    larger files) within the readers' own limit (``geo.sources.limits.MAX_UPLOAD_MB``)."""
    return min(int(st.get_option("server.maxUploadSize")), MAX_UPLOAD_MB)


def original_name(name) -> str:
    """The user's file name as kept for messages and provenance: as given (folders, dots, spaces, accents
    included), without control or bidirectional-override characters, cut at 500 characters."""
    text = "".join(ch for ch in str(name or "") if ch.isprintable()).strip()
    if len(text) > MAX_NAME_CHARS:
        text = text[: MAX_NAME_CHARS - 1] + "…"
    return text or "fichier sans nom"


def accepted_extension(name, formats) -> str:
    """The extension of the file ``name`` (lower case) if it is one of ``formats``; else a French DataError
    naming the file and the accepted types."""
    shown = original_name(name)
    extension = shown.rsplit(".", 1)[-1].lower() if "." in shown else ""
    allowed = [str(f).lower() for f in formats]
    if extension not in allowed:
        raise DataError(
            f"Le fichier « {shown} » n'a pas une extension acceptée ici ({', '.join(allowed)}) : "
            "fichier refusé."
        )
    return extension


def formats_label(formats) -> str:
    """« CSV ou TXT », « GEOJSON, JSON ou CSV »."""
    names = [str(f).upper() for f in formats]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} ou {names[-1]}"


def file_input(label: str, formats, key: str):
    """A file uploader for files of ``formats`` (extensions): the uploaded file, or None when there is none
    or when it has another extension (then a French message says so under the uploader)."""
    upload = st.file_uploader(
        plain(label),
        type=None,  # checked below, in French
        key=key,
        help=plain(f"Fichier {formats_label(formats)}."),
    )
    if upload is None:
        return None
    try:
        accepted_extension(upload.name, formats)
    except DataError as exc:
        st.error(plain(f"{exc} Aucun import n'est lancé."))
        return None
    return upload


__all__ = ["accepted_extension", "file_input", "formats_label", "original_name"]
