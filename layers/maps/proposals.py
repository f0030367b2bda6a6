"""The proposals page map: the proposed territories, one colour each, fitted to their extent."""

from __future__ import annotations

import folium

from layers.basemap import base_map
from layers.territories import territories_group


def proposal_map(territories: list[dict], ctx) -> folium.Map:
    """Proposed territories (dicts with id, name, colour, communes) over the communes of ``ctx``."""
    codes = [c for t in territories for c in t["communes"]]
    communes = ctx.communes.loc[codes]
    fmap = base_map(tuple(communes.total_bounds))
    territories_group(territories, communes, active_id=None).add_to(fmap)
    return fmap
