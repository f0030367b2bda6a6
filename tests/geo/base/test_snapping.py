"""Snapping a drawn or imported polygon to whole communes (geo.base.snapping), on the real commune base."""

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo.base.geometry import dissolve
from geo.base.snapping import overlap_shares, snap_polygon_to_communes


def shares_2154(box, communes) -> pd.Series:
    """Independent check: share of each commune's area inside ``box``, computed in Lambert-93 by geopandas."""
    near = communes[communes.intersects(box)]
    projected = near.to_crs("EPSG:2154")
    shape = gpd.GeoSeries([box.segmentize(0.001)], crs="EPSG:4326").to_crs("EPSG:2154").iloc[0]
    return pd.Series(
        (projected.intersection(shape).area / projected.area).to_numpy(),
        index=near["insee"].to_numpy(),
    )


def test_snap_rules_on_a_drawn_box(communes):
    box = shapely.box(1.2, 42.7, 2.0, 43.2)
    frame = communes.reset_index(drop=True)
    half, split = snap_polygon_to_communes(box, frame, rule="half_area")
    point, split_point = snap_polygon_to_communes(box, frame, rule="point")
    assert split == split_point
    shares = shares_2154(box, communes)
    clear = (shares - 0.5).abs() > 0.01
    assert set(half) & set(shares[clear].index) == set(shares[clear & (shares >= 0.5)].index)
    cut = shares[(shares > 0.02) & (shares < 0.98)].index
    assert set(cut) <= set(split) and set(split) <= set(
        shares[(shares > 0.005) & (shares < 0.995)].index
    )
    near = communes[communes["insee"].isin(shares.index)]
    inside = near.loc[near.representative_point().within(box), "insee"]
    assert point == sorted(inside)
    assert set(point) != set(half)  # the rules differ on some cut communes
    assert set(point) ^ set(half) <= set(split)
    assert snap_polygon_to_communes(shapely.box(-40, 0, -39, 1), frame) == ([], [])


def test_snap_a_departement_gives_its_communes(communes):
    ariege = communes[communes["dep"] == "09"]
    shape = dissolve(ariege.geometry.to_numpy())
    members, split = snap_polygon_to_communes(
        shape, communes.reset_index(drop=True), rule="half_area"
    )
    assert members == sorted(ariege["insee"]) and split == []


def test_overlap_shares_of_a_commune_and_its_half(communes):
    foix = communes.set_index("insee").loc["09122"].geometry
    minx, miny, maxx, maxy = foix.bounds
    geoms = communes.geometry.to_numpy()
    whole = overlap_shares(foix, geoms)
    codes = communes["insee"].to_numpy()
    by_code = dict(zip(codes[whole["pos"].to_numpy()], whole["share"].to_numpy()))
    assert by_code["09122"] == pytest.approx(1.0, abs=1e-6)
    assert all(
        share < 0.01 for code, share in by_code.items() if code != "09122"
    )  # neighbours only touch
    west = shapely.box(minx - 1, miny - 1, (minx + maxx) / 2, maxy + 1).intersection(foix)
    half = overlap_shares(west, geoms)
    share = dict(zip(codes[half["pos"].to_numpy()], half["share"].to_numpy()))["09122"]
    expected = shares_2154(west, communes[communes["insee"] == "09122"])["09122"]
    assert 0.05 < share < 0.95 and share == pytest.approx(expected, abs=0.01)
