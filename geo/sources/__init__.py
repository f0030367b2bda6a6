"""Outside data coming in: one module per source, the one import pipeline, the limits every reader respects.

- ``pipeline``: read → validate → report → write with provenance, the way every importer goes
  (``Report``, ``Source``, ``import_file``, the bad-row rule ``check_bad_rows``, the progress helpers).
- ``codes``: the arrondissements of Paris, Lyon and Marseille, INSEE column spellings, CPTS statuts.
- ``finess``, ``apl``, ``typology``, ``population``, ``cpts``: one importer each.
- ``registry``: the importable layers (the « Données » page and ``python -m geo import`` use it).
- ``download``: official files fetched into the cache (bounded, checked, atomic).
- ``limits``: size, decompressed size, nesting depth and row limits of every reader.
- ``tabular``: CSV/XLSX tables with French errors.
"""

from geo.sources.pipeline import Report, import_file
from geo.sources.registry import IMPORTERS, Importer

__all__ = ["IMPORTERS", "Importer", "Report", "import_file"]
