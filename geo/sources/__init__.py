"""Outside data coming in: one module per source, the limits every reader respects, the importer registry.

- ``registry``: the importable layers (the « Données » page and ``python -m geo import`` use it).
- ``finess``, ``apl``, ``typology``, ``population``, ``cpts``: one importer each.
- ``download``: official files fetched into the cache (bounded, checked, atomic).
- ``limits``: size, decompressed size, nesting depth and row limits of every reader.
- ``tabular``: CSV/XLSX tables with French errors; ``csv_safe``: formula cells neutralised.
"""

from geo.sources.registry import IMPORTERS, Importer

__all__ = ["IMPORTERS", "Importer"]
