"""Widgets of the « Données » page: upload and import a file, online update, removal."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

import streamlit as st

from geo.errors import DataError
from geo.formats.french import integer
from geo.sources.limits import MAX_FILE_BYTES, MAX_UPLOAD_MB
from geo.sources.pipeline import Report
from geo.sources.registry import Importer
from geo.store import layers as store
from geo.store.paths import data_dir
from ui.text import plain
from ui.uploads import accepted_extension, file_input, formats_label, original_name

UPLOAD_PREFIX = "upload-"
EXTRA_FORMATS = (
    "csv",
    "xlsx",
)  # the second files of an importer (typology: passage table, nomenclature)


def _keep_report(name: str, title: str, lines: list[str]) -> None:
    """Remember the report and rerun, so that the layer table above shows the new layer at once."""
    st.session_state[f"report-{name}"] = (title, lines)
    st.rerun()


def show_pending_report(name: str) -> None:
    """The report of the import or update that just succeeded (kept across the rerun)."""
    pending = st.session_state.pop(f"report-{name}", None)
    if pending:
        title, lines = pending
        st.success(plain(title))
        st.markdown("\n".join(f"- {plain(line)}" for line in lines))


def _bar_progress(bar, default: str):
    """A progress callback drawing on the Streamlit progress ``bar``."""

    def progress(fraction, message=""):
        bar.progress(min(max(float(fraction), 0.0), 1.0), text=plain(message or default))

    return progress


def import_panel(importer: Importer, present: dict | None) -> None:
    """Upload a file for a layer, validate and import it; remove the layer after confirmation."""
    name = importer.layer
    show_pending_report(name)
    st.caption(plain(importer.help))
    upload = file_input(
        f"Fichier {formats_label(importer.formats)}", importer.formats, f"upload-{name}"
    )
    options = {}
    for option, label in importer.options.items():
        options[option] = st.text_input(plain(label), key=f"opt-{name}-{option}")
    extra = {
        option: file_input(label, EXTRA_FORMATS, f"upload-{name}-{option}")
        for option, label in importer.files.items()
    }
    replace_ok = True
    if present:
        replace_ok = st.checkbox(
            f"Remplacer la couche actuelle ({plain(integer(present['rows']))} lignes, "
            f"{plain(present['vintage'])})",
            key=f"replace-{name}",
        )
    if st.button(
        "Importer", key=f"import-{name}", disabled=upload is None or not replace_ok, type="primary"
    ):
        run_import(importer, upload, options, extra)
    if present:
        st.divider()
        confirm = st.checkbox(
            "Je confirme la suppression de cette couche", key=f"confirm-rm-{name}"
        )
        if st.button("Supprimer la couche", key=f"rm-{name}", disabled=not confirm):
            store.remove_layer(name)
            st.success("Couche supprimée.")
            st.rerun()


def store_upload(name: str, data: bytes, folder: Path, formats) -> Path:
    """Write an uploaded file in ``folder`` under a generated name, ``upload-<uuid>.<extension>``.

    The user's name never becomes a path: only its extension is used, and only if it is one of
    ``formats`` (the importer's, lower case), so a name with ``/``, ``..``, NUL, control characters or
    longer than the file system allows is stored all the same. Raises DataError (French, naming the
    file) for another extension or a file above the size limit.
    """
    shown = original_name(name)
    extension = accepted_extension(name, formats)
    if len(data) > MAX_FILE_BYTES:
        raise DataError(f"Le fichier « {shown} » dépasse {MAX_UPLOAD_MB} Mo : fichier refusé.")
    path = Path(folder) / f"{UPLOAD_PREFIX}{uuid.uuid4().hex}.{extension}"
    path.touch(
        mode=0o600, exist_ok=False
    )  # a new file in the private folder, never one that exists
    path.write_bytes(data)
    return path


def import_upload(
    importer: Importer,
    name: str,
    data: bytes,
    options: dict | None = None,
    extra: dict | None = None,
    progress=None,
) -> tuple[Report, list[str]]:
    """Import an uploaded file (``name``: the user's file name, ``data``: its bytes) with ``importer``.

    ``extra`` maps an importer's second file (``importer.files``) to another upload ``(name, bytes)``.
    Each upload is stored under a generated name in a private temporary folder, removed afterwards; the
    importer is given the user's names (``display_name``, ``<option>_name``), so its messages, progress
    texts, report and the layer's provenance name the user's files. Returns the report and its French
    summary lines; raises DataError (nothing imported).
    """
    options = dict(options or {})
    if str(options.get("year") or "").strip():
        try:
            options["year"] = int(str(options["year"]).strip())
        except ValueError:
            raise DataError(
                f"Année invalide : « {original_name(options['year'])} » (attendu : un nombre, "
                "ex. 2023)."
            ) from None
    uploads = data_dir() / "uploads"
    uploads.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=uploads) as tmp:
        folder = Path(tmp)
        path = store_upload(name, data, folder, importer.formats)
        for key, value in (extra or {}).items():
            if value is not None:
                options[key] = store_upload(value[0], value[1], folder, EXTRA_FORMATS)
                options[f"{key}_name"] = original_name(value[0])
        report = importer.run(path, progress=progress, display_name=original_name(name), **options)
    return report, importer.lines(report)


def run_import(importer: Importer, upload, options: dict, extra: dict) -> None:
    bar = st.progress(0.0, text="Lecture du fichier…")
    shown = original_name(upload.name)
    try:
        _, lines = import_upload(
            importer,
            upload.name,
            upload.getvalue(),
            options,
            {
                key: (value.name, value.getvalue())
                for key, value in extra.items()
                if value is not None
            },
            _bar_progress(bar, "Import…"),
        )
    except DataError as exc:
        bar.empty()
        message = str(exc)
        named = "" if shown in message else f" ({shown})"  # importers' messages name the file
        st.error(plain(f"Import refusé{named} : {message} La couche précédente est conservée."))
        return
    bar.empty()
    _keep_report(importer.layer, f"Import réussi : {shown}.", lines)


def online_update(importer: Importer) -> None:
    """The button updating the layer from its official source online, when it has one."""
    if importer.update is None:
        return
    if st.button(plain(importer.update_label), key=f"online-{importer.layer}"):
        bar = st.progress(0.0, text="Connexion…")
        try:
            report = importer.update(progress=_bar_progress(bar, "Mise à jour…"))
        except DataError as exc:
            bar.empty()
            st.error(plain(exc))
            return
        bar.empty()
        _keep_report(importer.layer, "Mise à jour réussie.", importer.lines(report))


__all__ = [
    "import_panel",
    "import_upload",
    "online_update",
    "original_name",
    "run_import",
    "show_pending_report",
    "store_upload",
]
