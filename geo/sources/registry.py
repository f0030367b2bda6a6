"""The importable layers: for each, how to import a user's file and describe the report.

The "Données" page and the command line both go through this table, so a
layer is imported the same way wherever it comes from. Every importer
validates the whole file before writing anything; a failed import raises
``DataError`` and leaves the previous layer as it was.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable



@dataclass(frozen=True)
class Importer:
    layer: str
    label: str
    formats: tuple[str, ...]  # accepted file extensions, without the dot
    module: str
    function: str
    describe: str | None
    help: str
    options: dict = field(default_factory=dict)  # option name -> French label

    def run(self, path: Path, progress: Callable | None = None, **options) -> dict:
        func = getattr(importlib.import_module(self.module), self.function)
        return func(path, progress=progress, **{k: v for k, v in options.items() if v not in (None, "")})

    def lines(self, report: dict) -> list[str]:
        """French summary of a report."""
        if self.describe:
            return list(getattr(importlib.import_module(self.module), self.describe)(report))
        return [f"{key} : {value}" for key, value in report.items() if not isinstance(value, (list, dict))]


IMPORTERS: dict[str, Importer] = {
    "finess": Importer(
        "finess", "FINESS (MSP, centres de santé, sièges de CPTS)", ("csv", "txt"),
        "geo.sources.finess", "import_finess", "describe_report",
        "Fichier « etalab-cs1100507 » de data.gouv.fr (séparateur ;, UTF-8 ou Windows-1252).",
    ),
    "apl": Importer(
        "apl", "APL aux médecins généralistes (DREES)", ("xlsx",),
        "geo.sources.apl", "import_apl", "describe_apl_report",
        "Classeur de la DREES, feuilles « APL 2022 », « APL 2023 »… (la plus récente par défaut).",
        {"year": "Année (feuille « APL <année> »)"},
    ),
    "population": Importer(
        "population", "Populations légales en vigueur", ("json",),
        "geo.sources.population", "update_population", "describe_population_report",
        "Fichier communes.json au format « decoupage-administratif » d'Etalab.",
        {"vintage": "Millésime des populations (ex. 2026)"},
    ),
    "typology": Importer(
        "typology", "Typologie socio-sanitaire (Irdes)", ("csv", "xlsx"),
        "geo.sources.typology", "import_typology", "describe_typology_report",
        "Colonnes code_insee;classe (ou code_tv;classe avec une table de passage commune → territoire de vie).",
    ),
    "cpts": Importer(
        "cpts", "Périmètres des CPTS existantes", ("csv", "xlsx", "geojson", "json", "gpkg"),
        "geo.sources.cpts", "import_cpts", "describe_cpts_report",
        "Liste cpts_id;cpts_nom;code_insee[;statut] (une ligne par commune) ou polygones GeoJSON / GeoPackage.",
        {"vintage": "Date des périmètres (facultatif, ex. 2026-10 ; par défaut la date du jour)"},
    ),
}
