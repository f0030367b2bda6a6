"""Build the PDF of a dossier: content (pure data) → maps (SVG) → typst (template + JSON) → PDF bytes.

typst reads the data as JSON from ``sys.inputs`` and prints it as text; the maps are files of a private
temporary folder that is the compiler's root (the template can read nothing else; the maps hold no user
text). Fonts are the ones embedded in the typst wheel (no system font, the same PDF on every machine,
offline).

typst writes a tagged PDF (the structure screen readers follow: one element per table cell) with every
object in the clear; :func:`compact_pdf` packs those objects into compressed object streams (qpdf, through
pikepdf): the same document, tags included, in half the bytes for a scenario's dossier.
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
from pathlib import Path

import pikepdf
import typst

from geo.errors import DataError
from geo.report.content import dossier_content
from geo.report.map import MapRenderer
from geo.store.dossiers import record_dossier
from geo.store.scenarios import Scenario, ScenarioStore
from geo.territory.context import Context

TEMPLATE = Path(__file__).with_name("template.typ")


def pick_territories(scenario: Scenario, territory: str | int | None) -> list[int] | None:
    """The territory ids a dossier covers: all (None) or the one named (or numbered) ``territory``."""
    if territory is None or str(territory).strip() == "":
        return None
    wanted = str(territory).strip()
    for terr in scenario.territories:
        if terr.name == wanted or str(terr.id) == wanted:
            return [terr.id]
    raise DataError(f"Le scénario « {scenario.name} » n'a pas de territoire « {wanted} ».")


def compact_pdf(pdf: bytes) -> bytes:
    """``pdf`` with its objects packed into compressed object streams (PDF 1.5): nothing else changes."""
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(pdf)) as document:
        document.save(
            out,
            object_stream_mode=pikepdf.ObjectStreamMode.generate,
            compress_streams=True,
            recompress_flate=False,  # typst's streams are compressed already: keep them as they are
        )
    return out.getvalue()


def render_pdf(content: dict, maps: dict[str, bytes]) -> bytes:
    """The PDF of ``content`` (made by :func:`geo.report.content.dossier_content`) with its maps (SVG)."""
    with tempfile.TemporaryDirectory(prefix="cartocpts-dossier-") as folder:
        root = Path(folder)
        shutil.copyfile(TEMPLATE, root / TEMPLATE.name)
        for name, image in maps.items():
            (root / Path(name).name).write_bytes(image)
        try:
            pdf = typst.compile(
                str(root / TEMPLATE.name),
                root=str(root),
                sys_inputs={"data": json.dumps(content, ensure_ascii=False, allow_nan=False)},
                ignore_system_fonts=True,
                format="pdf",
            )
        except Exception as exc:  # noqa: BLE001 - typst's errors are English compiler messages
            raise DataError(f"Le dossier PDF n'a pas pu être composé (typst) : {exc}") from exc
    return compact_pdf(pdf)


def build_dossier(
    scenario: Scenario,
    ctx: Context,
    territory: str | int | None = None,
    store: ScenarioStore | None = None,
    author: str = "",
    record: bool = True,
    progress=None,
    zone: tuple[str, list[str]] | None = None,
) -> bytes:
    """The dossier of a scenario, or of one of its territories, as PDF bytes.

    With ``store`` the dossier says what changed since the previous dossier of each territory and, when
    ``record``, is remembered for the next one. ``progress(done, total)`` is called after each map. The
    coverage check is made on the scenario's scope, or on ``zone`` (label, commune codes).
    """
    ids = pick_territories(scenario, territory)
    content, jobs = dossier_content(scenario, ctx, ids, store=store, author=author, zone=zone)
    renderer = MapRenderer(ctx)
    maps = {}
    for i, job in enumerate(jobs, start=1):
        maps[job.file] = renderer.render(job.codes, job.colour, job.others)
        if progress is not None:
            progress(i, len(jobs))
    pdf = render_pdf(content, maps)
    if store is not None and record:
        record_dossier(store, scenario, ids)
    return pdf
