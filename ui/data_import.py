"""Widgets of the « Données » page: upload and import a file, online update, removal."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from geo import store
from geo.errors import DataError
from geo.imports import Importer
from geo.paths import data_dir

ONLINE = {
    "finess": ("Télécharger le dernier fichier depuis data.gouv.fr", "geo.finess", "update_finess"),
    "population": ("Mettre à jour depuis geo.api.gouv.fr", "geo.population", "update_population"),
}


def _lines(name: str, report: dict) -> list[str]:
    from geo.imports import IMPORTERS

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
        st.success(title)
        st.markdown("\n".join(f"- {line}" for line in lines))


def import_panel(importer: Importer, present: dict | None) -> None:
    """Upload a file for a layer, validate and import it; remove the layer after confirmation."""
    name = importer.layer
    show_pending_report(name)
    st.caption(importer.help)
    upload = st.file_uploader(f"Fichier ({', '.join(importer.formats)})", type=list(importer.formats),
                              key=f"upload-{name}")
    options = {}
    for option, label in importer.options.items():
        options[option] = st.text_input(label, key=f"opt-{name}-{option}")
    if name == "typology":
        tv_map = st.file_uploader("Table de passage commune → territoire de vie (si le fichier est par code_tv)",
                                  type=["csv", "xlsx"], key="upload-typology-tvmap")
        nomen = st.file_uploader("Nomenclature propre (facultatif : classe, libellé, libellé court, couleur)",
                                 type=["csv", "xlsx"], key="upload-typology-nomen")
    replace_ok = True
    if present:
        replace_ok = st.checkbox(f"Remplacer la couche actuelle ({present['rows']} lignes, {present['vintage']})",
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


def _save_upload(upload, folder: Path) -> Path:
    """Write an uploaded file under its own name (no folder part, no control character) in a private temporary
    folder, so that messages and the layer's provenance name the file as the user knows it."""
    base = Path(upload.name.replace("\\", "/")).name
    safe = "".join(ch for ch in base if ch.isprintable()).strip().lstrip(".") or "fichier"
    path = folder / safe
    path.write_bytes(upload.getvalue())
    return path


def run_import(importer: Importer, upload, options: dict, extra: dict) -> None:
    bar = st.progress(0.0, text="Lecture du fichier…")

    def progress(fraction, message=""):
        bar.progress(min(max(float(fraction), 0.0), 1.0), text=message or "Import…")

    uploads = data_dir() / "uploads"
    uploads.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=uploads) as tmp:
        folder = Path(tmp)
        path = _save_upload(upload, folder)
        for key, value in extra.items():
            if value is not None:  # each in its own folder: two uploads may bear the same name
                (folder / key).mkdir()
                options[key] = _save_upload(value, folder / key)
        if "year" in options and options["year"]:
            try:
                options["year"] = int(options["year"])
            except ValueError:
                bar.empty()
                st.error(f"Année invalide : « {options['year']} ».")
                return
        try:
            report = importer.run(path, progress=progress, **options)
        except DataError as exc:
            bar.empty()
            named = "" if path.name in str(exc) else f" ({path.name})"  # importers' messages name the file
            st.error(f"Import refusé{named} : {exc} La couche précédente est conservée.")
            return
    bar.empty()
    _keep_report(importer.layer, f"Import réussi : {upload.name}.", importer.lines(report))


def online_update(name: str) -> None:
    if name not in ONLINE:
        return
    label, module, function = ONLINE[name]
    if st.button(label, key=f"online-{name}"):
        import importlib

        bar = st.progress(0.0, text="Connexion…")

        def progress(fraction, message=""):
            bar.progress(min(max(float(fraction), 0.0), 1.0), text=message or "Mise à jour…")

        try:
            report = getattr(importlib.import_module(module), function)(progress=progress)
        except DataError as exc:
            bar.empty()
            st.error(str(exc))
            return
        bar.empty()
        _keep_report(name, "Mise à jour réussie.", _lines(name, report))


__all__ = ["import_panel", "online_update", "run_import", "show_pending_report"]
