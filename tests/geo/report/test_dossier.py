"""The PDF dossier on real data: the commune base, the real FINESS extraction of Occitanie (../shared/data),
real EPCIs of Haute-Garonne as territories. The PDF is read back with poppler (pdftotext, pdftoppm,
pdfimages, pdftocairo: Debian package poppler-utils)."""

import io
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from geo.formats import french
from geo.report.build import build_dossier, pick_territories
from geo.report.content import colour_of, dossier_content
from geo.report.map import TERRITORY_ALPHA, over_white
from geo.store.scenarios import ScenarioStore
from geo.territory.aci import aci_band
from geo.territory.context import context
from geo.territory.diagnostics import Tally, diagnose
from tests.conftest import REPO, SHARED_DATA, link_base

LAURAGAIS = "200071298"  # Communauté de communes des Terres du Lauragais (31), with MSPs
SICOVAL = "243100633"  # Communauté d'agglomération du Sicoval (31)
HOSTILE = [
    "{{ config }} {% if 1 %}x{% endif %}",
    "<script>alert(1)</script>",
    "![x](http://evil.example/a.png)",
    "=cmd|' /C calc'!A0",
    '#import "evil.typ": * #set text(red)',
    "] * $x^2$ _y_ `z` @ref <lbl> // /* \\ #",
]

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler-utils absent (apt-get install poppler-utils)"
)


@pytest.fixture(scope="module")
def data(base_dir, tmp_path_factory):
    """A data folder of its own: the commune base linked, the real FINESS extraction of Occitanie imported."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"données d'exemple absentes : {SHARED_DATA}")
    from geo.base.adjacency import graph
    from geo.sources.finess import import_finess

    graph()
    folder = link_base(base_dir, tmp_path_factory.mktemp("dossier") / "data")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CARTOCPTS_DATA_DIR", str(folder))
        import_finess(SHARED_DATA / "finess" / "etalab-cs1100507-occitanie.csv")
        yield folder


@pytest.fixture(scope="module")
def ctx(data):
    return context()


def epci(ctx, code) -> list[str]:
    return ctx.communes.index[ctx.communes["epci"] == code].tolist()


@pytest.fixture(scope="module")
def scenario(data, ctx):
    """« Haute-Garonne est » (dep:31): the Lauragais and the Sicoval."""
    store = ScenarioStore()
    store.create("Haute-Garonne est", scope="dep:31")
    a = store.add_territory("Haute-Garonne est", "CPTS du Lauragais")
    store.change_communes("Haute-Garonne est", a, add=epci(ctx, LAURAGAIS))
    b = store.add_territory("Haute-Garonne est", "CPTS du Sicoval")
    store.change_communes("Haute-Garonne est", b, add=epci(ctx, SICOVAL))
    return store, store.get("Haute-Garonne est")


def pdf_text(pdf: bytes, *options: str) -> str:
    done = subprocess.run(
        ["pdftotext", *options, "-", "-"], input=pdf, capture_output=True, check=True
    )
    return done.stdout.decode("utf-8")


def pixels(pdf: bytes, page: int, dpi: int, mode: str = "L") -> np.ndarray:
    """Page ``page`` of ``pdf`` printed at ``dpi`` (pdftoppm), as an array of pixels."""
    png = subprocess.run(
        ["pdftoppm", "-f", str(page), "-l", str(page), "-r", str(dpi), "-png", "-singlefile", "-"],
        input=pdf,
        capture_output=True,
        check=True,
    ).stdout
    return np.asarray(Image.open(io.BytesIO(png)).convert(mode), dtype=float)


def squashed(text: str) -> str:
    """Without any white space (table cells wrap long names over lines)."""
    return "".join(text.split())


def test_territory_dossier_holds_the_figures_codes_and_msps(scenario, ctx):
    store, scen = scenario
    terr = next(t for t in scen.territories if t.name == "CPTS du Lauragais")
    pdf = build_dossier(scen, ctx, territory="CPTS du Lauragais", store=store, record=False)
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf, "-raw")
    flat = squashed(text)
    d = diagnose(Tally.of(terr.communes, ctx), ctx)
    assert squashed(french.integer(d.population)) in flat  # « 39 639 » with a narrow no-break space
    assert (
        squashed(aci_band(d.population).label) in flat
    )  # « Taille 1 (moins de 40 000 habitants) »
    for code in terr.communes:
        assert code in text
    msps = [
        rec["name"]
        for code in terr.communes
        for rec in ctx.structures.get(code, [])
        if rec["kind"] == "msp"
    ]
    assert msps, "the Lauragais holds MSPs in the real FINESS extraction"
    for name in msps:
        assert squashed(name) in flat
    for swing in d.aci_sensitivity:  # the sensitivity table
        assert swing.code_insee in text and squashed(swing.commune) in flat
    assert "Sources, millésimes et licences" in text


def test_page_one_is_not_blank_and_the_map_page_holds_the_vector_map(scenario, ctx, tmp_path):
    store, scen = scenario
    sicoval = next(t for t in scen.territories if t.name == "CPTS du Sicoval")
    pdf = build_dossier(scen, ctx, territory="CPTS du Sicoval", store=store, record=False)
    assert pixels(pdf, 1, 40).std() > 5, "page 1 is blank"
    # The map page (the page of « Fig. 1 ») carries the map as vectors, not as a picture: no image on it,
    # a path for each commune of the territory at least (poppler's SVG of the page), and, printed, the
    # territory's tint over a good part of the map.
    pages = pdf_text(pdf).split("\f")
    map_page = next(i for i, page in enumerate(pages, start=1) if "Fig. 1" in page)
    path = tmp_path / "dossier.pdf"
    path.write_bytes(pdf)
    listing = subprocess.run(
        ["pdfimages", "-list", str(path)], capture_output=True, check=True
    ).stdout.decode()
    images = [line.split() for line in listing.splitlines()[2:] if line.strip()]
    assert not [row for row in images if int(row[0]) == map_page]
    svg = subprocess.run(
        ["pdftocairo", "-svg", "-f", str(map_page), "-l", str(map_page), str(path), "-"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    assert svg.count("<path") >= len(sicoval.communes)
    tint = np.array(
        [int(over_white(colour_of(sicoval), TERRITORY_ALPHA)[i : i + 2], 16) for i in (1, 3, 5)]
    )
    page = pixels(pdf, map_page, 72, mode="RGB")
    share = (np.abs(page - tint).max(axis=2) <= 6).mean()
    assert share > 0.03, f"the territory's tint covers {share:.1%} of the map page"


def test_scenario_dossier_summary_coverage_and_changes_since_the_previous_one(scenario, ctx):
    store, scen = scenario
    text = pdf_text(build_dossier(scen, ctx, store=store), "-raw")  # recorded
    assert "Synthèse du scénario" in text and "Vérification de la couverture" in text
    assert "31555" in text  # Toulouse: the largest uncovered commune of dep:31
    assert "Changements depuis le dossier précédent" not in text
    # Move a commune out of the Sicoval; the next dossier of the Sicoval names it.
    sicoval = next(t for t in scen.territories if t.name == "CPTS du Sicoval")
    gone = sorted(sicoval.communes)[0]
    store.change_communes(scen.name, sicoval.id, remove=[gone])
    again = pdf_text(
        build_dossier(store.get(scen.name), ctx, territory="CPTS du Sicoval", store=store),
        "-raw",
    )
    assert "Changements depuis le dossier précédent" in again
    removed_line = next(line for line in again.splitlines() if "Communes retirées" in line)
    assert gone in removed_line
    assert "Communes ajoutées : —" in again


def test_hostile_names_are_printed_as_text(data, ctx):
    store = ScenarioStore()
    name = "Scénario " + HOSTILE[0]
    store.create(name, scope="dep:31")
    for i, hostile in enumerate(HOSTILE):
        tid = store.add_territory(name, hostile)
        store.change_communes(name, tid, add=[sorted(epci(ctx, LAURAGAIS))[i]])
    text = pdf_text(build_dossier(store.get(name), ctx, store=store, record=False), "-raw")
    flat = squashed(text)
    for hostile in [name, *HOSTILE]:
        assert squashed(hostile) in flat, hostile


def test_content_is_plain_json_and_unknown_territory_is_refused(scenario, ctx):
    store, scen = scenario
    content, jobs = dossier_content(scen, ctx, store=store)
    json.dumps(content, allow_nan=False)
    assert [job.file for job in jobs] == ["map-1.svg", "map-2.svg"]
    assert content["territories"][0]["aci"]["sensitivity"]
    from geo.errors import DataError

    with pytest.raises(DataError, match="pas de territoire « Nulle part »"):
        pick_territories(scen, "Nulle part")


def test_command_line_report(scenario, data, tmp_path):
    out = tmp_path / "dossier.pdf"
    env = {**os.environ, "CARTOCPTS_DATA_DIR": str(data)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "geo",
            "report",
            "--scenario",
            "Haute-Garonne est",
            "--territory",
            "CPTS du Lauragais",
            "--out",
            str(out),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert "Dossier écrit" in done.stdout and out.read_bytes().startswith(b"%PDF")
    bad = subprocess.run(
        [sys.executable, "-m", "geo", "report", "--scenario", "Absent", "--out", str(out)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert bad.returncode == 2 and "n'existe pas" in bad.stderr and "Traceback" not in bad.stderr
