"""The importable layers: for each, the function importing a user's file and the report it returns.

The « Données » page and the command line both go through this table, so a layer is imported the same
way wherever it comes from. Every importer goes through ``geo.sources.pipeline.import_file``: it
validates the whole file before writing anything; a failed import raises ``DataError`` and leaves the
previous layer as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from geo.sources.apl import AplReport, import_apl
from geo.sources.cpts import CptsReport, import_cpts
from geo.sources.finess import FinessReport, import_finess, update_finess
from geo.sources.pipeline import Report
from geo.sources.population import PopulationReport, update_population
from geo.sources.typology import TypologyReport, import_typology


@dataclass(frozen=True)
class Importer:
    """One importable layer.

    ``function(path, progress=..., display_name=..., **options)`` imports a file and returns a
    ``report`` (a :class:`~geo.sources.pipeline.Report` subclass). ``options``: option name -> French
    label of a text field; ``files``: option name -> French label of a second file (the function takes
    it as ``<option>`` and the user's name of it as ``<option>_name``). ``update(progress=...)``, when
    given, fetches the layer from its official source online (``update_label`` on its button).
    """

    layer: str
    label: str
    formats: tuple[str, ...]  # accepted file extensions, without the dot
    function: Callable[..., Report]
    report: type[Report]
    help: str
    options: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    update: Callable[..., Report] | None = None
    update_label: str = ""

    def run(
        self,
        path: Path,
        progress: Callable | None = None,
        display_name: str | None = None,
        **options,
    ) -> Report:
        """Import ``path`` (``display_name``: the user's name of it); empty options are left out."""
        given = {key: value for key, value in options.items() if value not in (None, "")}
        return self.function(path, progress=progress, display_name=display_name, **given)

    def lines(self, report: Report) -> list[str]:
        """French summary of a report."""
        return self.report.lines(report)


IMPORTERS: dict[str, Importer] = {
    "finess": Importer(
        "finess",
        "FINESS (MSP, centres de santé, sièges de CPTS)",
        ("csv", "txt"),
        import_finess,
        FinessReport,
        "Fichier « etalab-cs1100507 » de data.gouv.fr (séparateur ;, UTF-8 ou Windows-1252).",
        update=update_finess,
        update_label="Télécharger le dernier fichier depuis data.gouv.fr",
    ),
    "apl": Importer(
        "apl",
        "APL aux médecins généralistes (DREES)",
        ("xlsx",),
        import_apl,
        AplReport,
        "Classeur de la DREES, feuilles « APL 2022 », « APL 2023 »… (la plus récente par défaut).",
        {"year": "Année (feuille « APL <année> »)"},
    ),
    "population": Importer(
        "population",
        "Populations légales en vigueur",
        ("json",),
        update_population,
        PopulationReport,
        "Fichier communes.json au format « decoupage-administratif » d'Etalab.",
        {"vintage": "Millésime des populations (ex. 2026)"},
        update=update_population,
        update_label="Mettre à jour depuis geo.api.gouv.fr",
    ),
    "typology": Importer(
        "typology",
        "Typologie socio-sanitaire (Irdes)",
        ("csv", "xlsx"),
        import_typology,
        TypologyReport,
        "Colonnes code_insee;classe (ou code_tv;classe avec une table de passage commune → territoire de vie).",
        files={
            "tv_map": "Table de passage commune → territoire de vie (si le fichier est par code_tv)",
            "nomenclature": "Nomenclature propre (facultatif : classe, libellé, libellé court, couleur)",
        },
    ),
    "cpts": Importer(
        "cpts",
        "Périmètres des CPTS existantes",
        ("csv", "xlsx", "geojson", "json", "gpkg"),
        import_cpts,
        CptsReport,
        "Liste cpts_id;cpts_nom;code_insee[;statut] (une ligne par commune) ou polygones GeoJSON / GeoPackage.",
        {"vintage": "Date des périmètres (facultatif, ex. 2026-10 ; par défaut la date du jour)"},
    ),
}
