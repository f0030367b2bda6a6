"""The FINESS map layer: groups per kind, clustering, escaped popups, local assets only."""

from __future__ import annotations

import json
import re

import folium
import geopandas as gpd
import pytest
from folium.plugins import MarkerCluster
from shapely.geometry import Point

from geo.base.communes import load
from geo.sources.finess import parse_finess
from layers.basemap import base_map
from layers.structures import (
    CLUSTER_THRESHOLD,
    StructureMarkers,
    icon_html,
    popup_html,
    structures_layer,
    structures_legend,
)
from tests.conftest import SHARED_DATA

FINESS = "finess/etalab-cs1100507-occitanie.csv"


@pytest.fixture(scope="module")
def occitanie(request):
    if not (SHARED_DATA / FINESS).exists():
        pytest.skip(f"données d'exemple absentes : {SHARED_DATA / FINESS}")
    request.getfixturevalue("base_dir")
    frame, _ = parse_finess(SHARED_DATA / FINESS, communes=load("communes"))
    return frame


def small_frame(n=3, kind="msp", name="MSP <script>alert('x')</script> & Cie", approx=False):
    return gpd.GeoDataFrame(
        {
            "nofinesset": [f"09000000{i}" for i in range(n)],
            "name": [name] * n,
            "kind": [kind] * n,
            "categetab": ["603"] * n,
            "category_label": ["Maison de santé (L.6223-3)"] * n,
            "address": ['2 AVENUE "DU" CARDIE, 09000 FOIX'] * n,
            "insee": ["09122"] * n,
            "dateouv": ["2018-10-11"] * n,
            "approx_location": [approx] * n,
            "outside_commune": [False] * n,
        },
        geometry=[Point(1.6 + i / 100, 42.96) for i in range(n)],
        crs="EPSG:4326",
    )


def render(groups, bounds=(1.5, 42.9, 1.7, 43.0)) -> str:
    fmap = base_map(bounds)
    for group in groups:
        group.add_to(fmap)
    structures_legend().add_to(fmap)
    folium.LayerControl().add_to(fmap)
    return fmap.get_root().render()


def rows_of(group) -> list:
    """The rows of the StructureMarkers element of a group (directly or inside its cluster)."""
    for child in group._children.values():
        if isinstance(child, StructureMarkers):
            return child.rows
        if isinstance(child, MarkerCluster):
            return rows_of(child)
    raise AssertionError("no StructureMarkers element")


def test_groups_per_kind_with_french_names(occitanie):
    groups = structures_layer(occitanie)
    assert [g.layer_name for g in groups] == ["MSP", "Centres de santé", "Sièges de CPTS"]
    assert [len(rows_of(g)) for g in groups] == [372, 280, 82]
    assert all(any(isinstance(c, MarkerCluster) for c in g._children.values()) for g in groups)
    only = structures_layer(occitanie, kinds=("cpts_seat",))
    assert [g.layer_name for g in only] == ["Sièges de CPTS"]
    for lat, lon, approx, _tooltip, popup in rows_of(only[0]):
        assert 42 <= lat <= 45.1 and -0.5 <= lon <= 5 and approx in (0, 1)
        assert "N° FINESS : " in popup


def test_small_groups_are_not_clustered():
    (group,) = structures_layer(small_frame(CLUSTER_THRESHOLD))
    assert not any(isinstance(c, MarkerCluster) for c in group._children.values())
    (group,) = structures_layer(small_frame(CLUSTER_THRESHOLD + 1))
    assert any(isinstance(c, MarkerCluster) for c in group._children.values())
    assert structures_layer(small_frame(0)) == []
    assert structures_layer(None) == []


def test_text_from_the_file_is_escaped():
    frame = small_frame(1)
    popup = popup_html(frame).iloc[0]
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; Cie" in popup
    assert "<script>" not in popup
    assert "2 AVENUE &quot;DU&quot; CARDIE, 09000 FOIX" in popup
    assert "Ouverture : 11/10/2018" in popup and "N° FINESS : 090000000" in popup
    assert "Maison de santé (L.6223-3) (603)" in popup
    html = render(structures_layer(frame))
    assert "<script>alert" not in html and "alert('x')" not in html
    # The rows reach the page as JSON, still escaped once decoded.
    data = re.search(r"var rows = (\[.*?\]);\n", html).group(1)
    (row,) = json.loads(data)
    assert row[3] == "MSP &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; Cie"


def test_approximate_and_outside_locations_are_shown():
    frame = small_frame(2, approx=True)
    frame.loc[1, "outside_commune"] = True
    rows = rows_of(structures_layer(frame)[0])
    assert [r[2] for r in rows] == [1, 1]
    assert "Position approximative" in rows[0][4] and "hors de la commune" in rows[1][4]
    assert "dashed" in icon_html("msp", approx=True) and "dashed" not in icon_html("msp")
    frame.loc[0, "geometry"] = None
    assert len(rows_of(structures_layer(frame)[0])) == 1  # no position, no marker


def test_distinct_icons_per_kind():
    icons = {kind: icon_html(kind) for kind in ("msp", "centre_sante", "cpts_seat")}
    assert len(set(icons.values())) == 3
    assert ">M<" in icons["msp"] and ">C<" in icons["centre_sante"] and ">S<" in icons["cpts_seat"]


def test_rendered_map_loads_only_local_assets(occitanie):
    html = render(structures_layer(occitanie), bounds=tuple(occitanie.total_bounds))
    urls = re.findall(r"<(?:script|link)\b[^>]*?(?:src|href)=[\"']([^\"']+)", html)
    assert urls, "no asset at all?"
    assert all(u.startswith("/app/static/") for u in urls), urls
    assert "leaflet.markercluster.js" in html
    assert (
        "ges de CPTS" in html and "Structures (FINESS)" in html
    )  # layer control and legend (JSON-escaped)
    assert "L.divIcon" in html and "L.AwesomeMarkers" not in html and "glyphicon" not in html
    assert "setMaxZoom" in html  # clusters work on a map without tiles


def test_legend_entries():
    legend = structures_legend(kinds=("msp", "cpts_seat"))
    assert (
        "MSP" in legend.html
        and "Sièges de CPTS" in legend.html
        and "Centres de santé" not in legend.html
    )
