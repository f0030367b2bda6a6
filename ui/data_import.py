"""Widgets of the « Données » page: upload and import a file, online update, removal."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

import streamlit as st

from geo.store import layers as store
from geo.errors import DataError
from geo.sources.registry import Importer
from geo.sources.limits import MAX_FILE_BYTES, MAX_UPLOAD_MB
from geo.store.paths import data_dir
from ui.common import fmt_int
from ui.text import plain

ONLINE = {
    "finess": ("Télécharger le dernier fichier depuis data.gouv.fr", "geo.sources.finess", "update_finess"),
    "population": ("Mettre à jour depuis geo.api.gouv.fr", "geo.sources.population", "update_population"),
}


def _lines(name: str, report: dict) -> list[str]:
    from geo.sources.registry import IMPORTERS

    return IMPORTERS[name].lines(report) if name in IMPORTERS else []


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


def import_panel(importer: Importer, present: dict | None) -> None:
    """Upload a file for a layer, validate and import it; remove the layer after confirmation."""
    name = importer.layer
    show_pending_report(name)
    st.caption(plain(importer.help))
    upload = st.file_uploader(f"Fichier ({plain(', '.join(importer.formats))})", type=list(importer.formats),
                              key=f"upload-{name}")
    options = {}
    for option, label in importer.options.items():
        options[option] = st.text_input(plain(label), key=f"opt-{name}-{option}")
    if name == "typology":
        tv_map = st.file_uploader("Table de passage commune → territoire de vie (si le fichier est par code_tv)",
                                  type=["csv", "xlsx"], key="upload-typology-tvmap")
        nomen = st.file_uploader("Nomenclature propre (facultatif : classe, libellé, libellé court, couleur)",
                                 type=["csv", "xlsx"], key="upload-typology-nomen")
    replace_ok = True
    if present:
        replace_ok = st.checkbox(f"Remplacer la couche actuelle ({fmt_int(present['rows'])} lignes, "
                                 f"{plain(present['vintage'])})",
                                 key=f"replace-{name}")
    if st.button("Importer", key=f"import-{name}", disabled=upload is None or not replace_ok, type="primary"):
        extra = {}
        if name == "typology":
            extra = {"tv_map": tv_map, "nomenclature": nomen}
        run_import(importer, upload, options, extra)
    if present:
        st.divider()
        confirm = st.checkbox("Je confirme la suppression de cette couche", key=f"confirm-rm-{name}")
        if st.button("Supprimer la couche", key=f"rm-{name}", disabled=not confirm):
            store.remove_layer(name)
            st.success("Couche supprimée.")
            st.rerun()


UPLOAD_PREFIX = "upload-"
MAX_NAME_CHARS = 500  # of a user's file name kept for messages and provenance


def original_name(name) -> str:
    """The user's file name as kept for messages and provenance: as given (folders, dots, spaces, accents
    included), without control or bidirectional-override characters, cut at 500 characters."""
    text = "".join(ch for ch in str(name or "") if ch.isprintable()).strip()
    if len(text) > MAX_NAME_CHARS:
        text = text[: MAX_NAME_CHARS - 1] + "…"
    return text or "fichier sans nom"


def store_upload(name: str, data: bytes, folder: Path, formats) -> Path:
    """Write an uploaded file in ``folder`` under a generated name, ``upload-<uuid>.<extension>``.

    The user's name never becomes a path: only its extension is used, and only if it is one of
    ``formats`` (the importer's, lower case), so a name with ``/``, ``..``, NUL, control characters or
    longer than the file system allows is stored all the same. Raises DataError (French, naming the
    file) for another extension or a file above the size limit.
    """
    shown = original_name(name)
    extension = shown.rsplit(".", 1)[-1].lower() if "." in shown else ""
    allowed = [str(f).lower() for f in formats]
    if extension not in allowed:
        raise DataError(f"Le fichier « {shown} » n'a pas une extension acceptée ici ({', '.join(allowed)}) : "
                        "fichier refusé.")
    if len(data) > MAX_FILE_BYTES:
        raise DataError(f"Le fichier « {shown} » dépasse {MAX_UPLOAD_MB} Mo : fichier refusé.")
    path = Path(folder) / f"{UPLOAD_PREFIX}{uuid.uuid4().hex}.{extension}"
    path.touch(mode=0o600, exist_ok=False)  # a new file in the private folder, never one that exists
    path.write_bytes(data)
    return path


def restore_names(value, names: dict[str, str]):
    """``value`` (text, or lists / dicts of texts) with each stored upload (full path, then file name)
    replaced by the user's file name, for messages, reports and provenance."""
    if isinstance(value, str):
        for stored, shown in names.items():
            value = value.replace(stored, shown)
        return value
    if isinstance(value, dict):
        return {key: restore_names(item, names) for key, item in value.items()}
    if type(value) in (list, tuple):
        return type(value)(restore_names(item, names) for item in value)
    return value


def _restore_provenance(layer: str, names: dict[str, str]) -> None:
    """The layer's provenance names the user's files, not the generated names they were stored under."""
    meta = store.read_meta(layer)
    if meta is None:
        return
    fixed = restore_names(meta, names)
    if fixed != meta:
        store.update_meta(layer, fixed)


def import_upload(importer: Importer, name: str, data: bytes, options: dict | None = None,
                  extra: dict | None = None, progress=None) -> tuple[dict, list[str]]:
    """Import an uploaded file (``name``: the user's file name, ``data``: its bytes) with ``importer``.

    ``extra`` maps an importer option to another upload ``(name, bytes)`` (typology: ``tv_map``,
    ``nomenclature``). Each upload is stored under a generated name in a private temporary folder,
    removed afterwards; messages, progress texts, the report and the layer's provenance name the user's
    files. Returns the report and its French summary lines; raises DataError (nothing imported).
    """
    options = {key: value for key, value in (options or {}).items()}
    say = progress or (lambda fraction, message="": None)
    if str(options.get("year") or "").strip():
        try:
            options["year"] = int(str(options["year"]).strip())
        except ValueError:
            raise DataError(f"Année invalide : « {original_name(options['year'])} » (attendu : un nombre, "
                            "ex. 2023).") from None
    uploads = data_dir() / "uploads"
    uploads.mkdir(exist_ok=True)
    names: dict[str, str] = {}
    with tempfile.TemporaryDirectory(dir=uploads) as tmp:
        folder = Path(tmp)

        def keep(upload_name: str, upload_data: bytes, formats) -> Path:
            path = store_upload(upload_name, upload_data, folder, formats)
            names[str(path)] = names[path.name] = original_name(upload_name)
            return path

        path = keep(name, data, importer.formats)
        for key, value in (extra or {}).items():
            if value is not None:
                options[key] = keep(value[0], value[1], EXTRA_FORMATS)
        try:
            report = importer.run(path, progress=lambda f, m="": say(f, restore_names(str(m or ""), names)),
                                  **options)
        except DataError as exc:
            raise DataError(restore_names(str(exc), names)) from exc
        report = restore_names(report, names)
        _restore_provenance(importer.layer, names)
    return report, restore_names(importer.lines(report), names)


EXTRA_FORMATS = ("csv", "xlsx")  # the typology's passage table and nomenclature


def run_import(importer: Importer, upload, options: dict, extra: dict) -> None:
    bar = st.progress(0.0, text="Lecture du fichier…")

    def progress(fraction, message=""):
        bar.progress(min(max(float(fraction), 0.0), 1.0), text=plain(message or "Import…"))

    shown = original_name(upload.name)
    try:
        _, lines = import_upload(importer, upload.name, upload.getvalue(), options,
                                 {key: (value.name, value.getvalue()) for key, value in extra.items()
                                  if value is not None}, progress)
    except DataError as exc:
        bar.empty()
        message = str(exc)
        named = "" if shown in message else f" ({shown})"  # importers' messages name the file
        st.error(plain(f"Import refusé{named} : {message} La couche précédente est conservée."))
        return
    bar.empty()
    _keep_report(importer.layer, f"Import réussi : {shown}.", lines)


def online_update(name: str) -> None:
    if name not in ONLINE:
        return
    label, module, function = ONLINE[name]
    if st.button(plain(label), key=f"online-{name}"):
        import importlib

        bar = st.progress(0.0, text="Connexion…")

        def progress(fraction, message=""):
            bar.progress(min(max(float(fraction), 0.0), 1.0), text=plain(message or "Mise à jour…"))

        try:
            report = getattr(importlib.import_module(module), function)(progress=progress)
        except DataError as exc:
            bar.empty()
            st.error(plain(exc))
            return
        bar.empty()
        _keep_report(name, "Mise à jour réussie.", _lines(name, report))


__all__ = ["import_panel", "import_upload", "online_update", "original_name", "restore_names", "run_import",
           "show_pending_report", "store_upload"]
