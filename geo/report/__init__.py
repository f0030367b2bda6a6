"""The ARS dossier: a PDF (French, A4) of a territory or a whole scenario.

- ``content``: what the dossier says, as pure data (French texts and numbers, JSON-ready).
- ``map``: the map of a territory drawn offline as a vector SVG (no tile server).
- ``template.typ``: the typst template; it prints the data as text, never as markup.
- ``build``: content → maps → typst → PDF bytes, and the record of the dossier for the next one.
"""

from geo.report.build import build_dossier, pick_territories, render_pdf
from geo.report.content import MapJob, dossier_content
from geo.report.map import MapRenderer

__all__ = [
    "MapJob",
    "MapRenderer",
    "build_dossier",
    "dossier_content",
    "pick_territories",
    "render_pdf",
]
