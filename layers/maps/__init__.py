"""The maps of the pages, each built whole from layers (one module per map).

- ``home``: the home page map (communes coloured by a metric, outlines, overlays); ``scope_map`` is it without
  overlays.
- ``coverage``: the coverage page map (uncovered and overlapping communes, uncovered zones, CPTS outlines).
- ``proposals``: the proposals page map (the proposed territories).
- ``disputes``: the « Arbitrages » page map (disputed communes by status); imported from its module.

The territory page draws its own map in the browser (``ui.drawmap``).
"""

from layers.maps.coverage import coverage_map
from layers.maps.home import home_map, scope_map
from layers.maps.proposals import proposal_map

__all__ = ["coverage_map", "home_map", "proposal_map", "scope_map"]
