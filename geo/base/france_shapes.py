"""The communes of all France simplified for the national view, kept as a layer built once per commune base.

Simplifying the 35,000 communes together (``shapely.coverage_simplify``, a kilometre's tolerance) takes
several seconds of a core: done at each start of the app server, « France entière » waited for it after
every restart. The shapes are written once as the ``shapes_france`` layer (one file, one rename, like the
``adjacency`` layer) and read again by every later process while the commune base and the tolerance are
the same.
"""

from __future__ import annotations

import geopandas as gpd

from geo.base.communes import load, source_version
from geo.base.shapes import simplify_coverage
from geo.store import layers as store
from geo.store.cache import cached_by_layers

FRANCE_TOLERANCE = (
    0.01  # degrees (about 1 km): the France view's communes, a few pixels each on screen
)
FRANCE_LAYER = "shapes_france"


def _stored_shapes(communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
    """The stored shapes when they were made from this commune base with this tolerance, else None."""
    meta = store.read_meta(FRANCE_LAYER)
    if (
        meta is None
        or meta.get("source_version") != source_version()
        or meta.get("tolerance_deg") != FRANCE_TOLERANCE
        or meta.get("communes_rows") != len(communes)
    ):
        return None
    return store.read_layer(FRANCE_LAYER)


@cached_by_layers(("communes", FRANCE_LAYER))
def france_communes() -> gpd.GeoDataFrame:
    """Every commune with a contour, its shape simplified for the France view (the base's other columns
    kept, and its index); shared: read it, never change it."""
    communes = load("communes")
    shapes = _stored_shapes(communes)
    if shapes is None:
        simplified = simplify_coverage(communes, FRANCE_TOLERANCE)
        store.write_layer(
            FRANCE_LAYER,
            gpd.GeoDataFrame(
                {"insee": simplified["insee"].to_numpy()},
                geometry=simplified.geometry.to_numpy(),
                crs=simplified.crs,
            ),
            {
                "source": "Calculé par CartoCPTS (contours simplifiés pour la vue de la France entière)",
                "vintage": "Contours de la base communale",
                "licence": "Licence Ouverte / Open Licence",
                "source_version": source_version(),
                "tolerance_deg": FRANCE_TOLERANCE,
                "communes_rows": len(communes),
                "cache": True,  # a display cache, not a data layer: not listed by « data status »
            },
        )
        return simplified
    geometry = shapes.set_index("insee").geometry
    kept = communes[communes["insee"].isin(geometry.index)]
    out = kept.copy()
    out.geometry = gpd.GeoSeries(
        geometry.reindex(kept["insee"]).to_numpy(), index=kept.index, crs=kept.crs
    )
    return out
