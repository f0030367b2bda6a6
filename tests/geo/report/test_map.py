"""The dossier's map (the SVG written by geo.report.map) on real communes: two real EPCIs of Haute-Garonne,
the Terres du Lauragais and the Sicoval, as the territory, a neighbouring territory and two existing CPTS."""

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import shapely

from geo.report.map import (
    CPTS_COLOUR,
    DEP_COLOUR,
    GREY,
    OTHERS_ALPHA,
    TERRITORY_ALPHA,
    MapRenderer,
    over_white,
)
from geo.territory.context import context

LAURAGAIS = "200071298"  # Communauté de communes des Terres du Lauragais (31)
SICOVAL = "243100633"  # Communauté d'agglomération du Sicoval (31)
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def epcis(communes) -> dict[str, list[str]]:
    return {
        epci: sorted(communes.loc[communes["epci"] == epci, "insee"])
        for epci in (LAURAGAIS, SICOVAL)
    }


@pytest.fixture
def with_cpts(isolated_data, epcis, tmp_path):
    """The two EPCIs imported as existing CPTS (the real importer, a commune list)."""
    from geo.sources.cpts import import_cpts

    lines = ["cpts_id;cpts_nom;code_insee;statut"]
    for cid, epci in (("C1", LAURAGAIS), ("C2", SICOVAL)):
        lines += [f"{cid};CPTS {cid};{code};Contractualisee" for code in epcis[epci]]
    path = tmp_path / "cpts.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    import_cpts(path)
    return isolated_data


def runs(data: str) -> list[np.ndarray]:
    """The point runs of SVG path data « Mx y x y …[Z] » (whole numbers), closed runs ending on their
    first point."""
    out = []
    for run in re.findall(r"M([^MZ]*)(Z?)", data):
        points = np.array(run[0].split(), dtype=float).reshape(-1, 2)
        out.append(np.vstack([points, points[:1]]) if run[1] else points)
    return out


def segments(data: str) -> list[tuple]:
    """The undirected segments of SVG path data."""
    out = []
    for points in runs(data):
        for a, b in zip(points[:-1], points[1:]):
            out.append(tuple(sorted((tuple(a), tuple(b)))))
    return out


def test_the_map_is_a_clipped_vector_drawing_with_each_limit_drawn_once(with_cpts, epcis):
    ctx = context()
    lauragais, sicoval = epcis[LAURAGAIS], epcis[SICOVAL]
    shared = shapely.intersection(
        shapely.union_all([ctx.geometry[c] for c in lauragais]).boundary,
        shapely.union_all([ctx.geometry[c] for c in sicoval]).boundary,
    )
    assert shared.length > 0, "the two EPCIs meet: their CPTS share a limit"
    svg = MapRenderer(ctx).render(lauragais, "#0072B2", {"Sicoval": ("#E69F00", set(sicoval))})
    root = ET.fromstring(svg)
    size = float(root.get("viewBox").split()[2])
    paths = {(p.get("fill"), p.get("stroke")): p for p in root.iter(f"{SVG}path")}

    territory = paths[(over_white("#0072B2", TERRITORY_ALPHA), "#ffffff")].get("d")
    assert len(runs(territory)) >= len(lauragais)  # a ring for each commune at least
    assert (over_white("#E69F00", OTHERS_ALPHA), "#9a9a9a") in paths  # the Sicoval, lighter
    assert (GREY, "#9a9a9a") in paths  # the other communes
    limits = paths[("none", DEP_COLOUR)]  # the Lauragais touches the Aude
    perimeters = paths[("none", CPTS_COLOUR)]
    assert limits.get("stroke-dasharray") and perimeters.get("stroke-dasharray")
    for line in (limits, perimeters):
        drawn = segments(line.get("d"))
        assert drawn and len(set(drawn)) == len(drawn), "a stretch drawn twice"

    # The layers are clipped to the frame (a little wider than the map), the scale and the north arrow
    # are drawn apart; only numbers and constants in the drawing.
    layers = [
        p.get("d") for p in root.iter(f"{SVG}path") if re.fullmatch(r"[MZ0-9 -]+", p.get("d"))
    ]
    every = np.vstack([pts for d in layers for pts in runs(d)])
    assert every.min() >= -0.03 * size and every.max() <= 1.03 * size
    labels = sorted(t.text for t in root.iter(f"{SVG}text"))
    assert len(labels) == 2 and labels[1] == "N" and re.fullmatch(r"\d+(,\d+)? km", labels[0])
