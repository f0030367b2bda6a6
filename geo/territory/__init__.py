"""A CPTS territory and a scenario of territories: the data they are judged on and their diagnostics.

- ``context``: everything diagnostics read, loaded and indexed once per version of the layer files (shared, frozen).
- ``diagnostics``: small pure functions over a territory's communes, the running ``Tally`` and the typed
  ``Diagnostics`` (one documented field per figure; ``to_dict()`` is the JSON of ``geo assess``).
- ``plan``: a scenario in memory, one running tally per territory (updated from the communes that moved).
- ``aci``: the ACI size class (taille 1 to 4) from a population.
- ``sensitivity``: the border communes whose addition or removal changes the ACI size class.
- ``export``: GeoJSON and commune-list exports, read back.
"""

from geo.territory.aci import AciEdge, aci_size, distance_to_edge
from geo.territory.context import Context, context
from geo.territory.diagnostics import (
    CptsOverlap,
    Diagnostics,
    Tally,
    TerritoryOverlap,
    assess,
    diagnose,
    reference_apl,
    split_codes,
    territory_overlaps,
    with_apl_reference,
)
from geo.territory.export import (
    geojson_bytes,
    read_export,
    read_export_file,
    territory_feature,
    to_csv,
    to_geojson,
)
from geo.territory.plan import Plan
from geo.territory.sensitivity import AciSwing, aci_sensitivity, border

__all__ = [
    "AciEdge",
    "AciSwing",
    "Context",
    "CptsOverlap",
    "Diagnostics",
    "Plan",
    "Tally",
    "TerritoryOverlap",
    "aci_sensitivity",
    "aci_size",
    "assess",
    "border",
    "context",
    "diagnose",
    "distance_to_edge",
    "geojson_bytes",
    "read_export",
    "read_export_file",
    "reference_apl",
    "split_codes",
    "territory_feature",
    "territory_overlaps",
    "to_csv",
    "to_geojson",
    "with_apl_reference",
]
