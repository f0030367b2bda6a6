"""How the app writes values: French numbers for people, strict JSON and formula-safe CSV for programs.

- ``french``: the one number formatter (narrow no-break space for thousands, decimal comma).
- ``strict_json``: the one JSON writer (non-finite numbers become ``null``).
- ``csv_cells``: the one CSV boundary (cells a spreadsheet would run as a formula are neutralised).

A leaf package: it imports nothing else from geo and nothing heavy.
"""

from geo.formats import french
from geo.formats.csv_cells import csv_bytes, neutralise_cell, restore_cell
from geo.formats.strict_json import finite_json, json_text

__all__ = ["csv_bytes", "finite_json", "french", "json_text", "neutralise_cell", "restore_cell"]
