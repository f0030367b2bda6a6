"""User text never becomes template source, HTML or script on any map (issue 9, point 1).

Every page with a map is run for real (Streamlit's ``AppTest``, which runs the
page script and so ``st_folium``'s server-side rendering of the whole folium
figure) over data whose names carry Jinja payloads: CPTS perimeters and
FINESS structures imported through the real importers, a scenario and its
territories, an IRDES nomenclature. The rendered map must show the names as
text, never evaluate them (no ``49``, no marker file).
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest
from branca.element import MacroElement
from jinja2 import Template

from tests.conftest import link_base
from tests.support.apptest import REPO, protos, run_page

ARIEGE = ["09122", "09225", "09160", "09032", "09207", "09268"]


def payloads(marker: Path) -> dict[str, str]:
    """Hostile names: arithmetic, an unclosed raw block, and code that would create ``marker``."""
    run = f"{{{{ cycler.__init__.__globals__.os.popen('touch {marker}').read() }}}}"
    return {
        "calc": "ZZ{{ 7*7 }}ZZ",
        "raw": "RR{% raw %}RR",
        "comment": "CC{# x #}CC",
        "run": f"XX{run}XX",
        "html": "HH<img src=x onerror=alert(1)>HH",
    }


def assert_inert(sent: str, names: dict[str, str], marker: Path) -> None:
    """``sent`` (what goes to the browser) holds the names as text only: not evaluated, not live HTML."""
    assert not marker.exists(), "a name was run as code on the server"
    script = sent.encode().decode(
        "unicode_escape", errors="ignore"
    )  # \u escapes of JSON in the script
    assert "ZZ49ZZ" not in script
    assert "<img src=x" not in script, "a name reached the page as live HTML"
    shown = html.unescape(script)
    assert names["calc"] in shown, "the name is not shown as text"


# --------------------------------------------------------------------------- the two guards, alone


def test_html_text_leaves_no_template_delimiter():
    from layers.safe import html_text

    for payload in ("{{7*7}}", "{% raw %}", "{#", "}}", "<b>&'\"", None):
        text = html_text(payload)
        assert "{" not in text and "}" not in text and "<" not in text
        assert html.unescape(text) == ("" if payload is None else payload)


def test_rendered_output_is_never_compiled_again(tmp_path):
    """Even a text that skipped html_text is not evaluated: the render guard adds outputs as literal text."""
    import folium

    import layers  # noqa: F401 - installs the guard

    marker = tmp_path / "pwned"

    class Unsafe(MacroElement):
        _template = Template(
            "{% macro html(this, kwargs) %}<p>{{ this.text }}</p>{% endmacro %}"
            "{% macro script(this, kwargs) %}var t = {{ this.text|tojson }};{% endmacro %}"
        )

        def __init__(self, text):
            super().__init__()
            self.text = text

    fmap = folium.Map(tiles=None)
    names = payloads(marker)
    for name in names.values():
        Unsafe(name).add_to(fmap)
    out = fmap.get_root().render()
    assert not marker.exists()
    assert "ZZ49ZZ" not in out
    assert "ZZ{{ 7*7 }}ZZ" in out and "RR{% raw %}RR" in out


# --------------------------------------------------------------------------- every page's map


@pytest.fixture(scope="module")
def hostile_data(base_dir, tmp_path_factory):
    """A data directory with CPTS, FINESS, typology and a scenario whose names are payloads."""
    import os

    from geo.base.adjacency import graph

    graph()
    root = tmp_path_factory.mktemp("hostile")
    data = link_base(base_dir, root / "data")
    marker = root / "pwned"
    names = payloads(marker)
    old = os.environ.get("CARTOCPTS_DATA_DIR")
    os.environ["CARTOCPTS_DATA_DIR"] = str(data)
    try:
        _import_layers(root, names)
        yield data, names, marker
    finally:
        os.environ["CARTOCPTS_DATA_DIR"] = old or ""


def _import_layers(root: Path, names: dict[str, str]) -> None:
    from geo.sources.cpts import import_cpts
    from geo.sources.finess import import_finess
    from geo.sources.typology import import_typology
    from geo.store import preferences
    from geo.store.scenarios import ScenarioStore

    cpts = root / "cpts.csv"
    rows = ["cpts_id;cpts_nom;code_insee"]
    for i, name in enumerate(names.values()):
        rows.append(f"C{i};{name.replace(';', ',')};{ARIEGE[i]}")
    cpts.write_text("\n".join(rows) + "\n", encoding="utf-8")
    import_cpts(cpts, vintage="2026-11")

    shared = REPO.parent / "shared" / "data" / "finess" / "etalab-cs1100507-occitanie.csv"
    if shared.is_file():
        lines = shared.read_bytes().decode("cp1252").splitlines()
        keep = [lines[0]] + [
            ln for ln in lines[1:] if ";09" in ln[:40] or ln.startswith("geolocalisation;09")
        ]
        text = (
            "\n".join(keep)
            .replace("MSP DU PAYS DE FOIX", names["calc"])
            .replace("MSP DU PLANTAUREL", names["run"].replace(";", ","))
        )
        finess = root / "finess.csv"
        finess.write_bytes(text.encode("cp1252", errors="replace"))
        import_finess(finess)

    nomenclature = root / "nomenclature.csv"
    nomenclature.write_text(
        "classe;libelle;libelle_court;couleur\n"
        f"1;{names['calc']};{names['calc']};#E69F00\n"
        f"2;{names['raw']};{names['raw']};#56B4E9\n",
        encoding="utf-8",
    )
    typology = root / "typology.csv"
    typology.write_text(
        "code_insee;classe\n" + "".join(f"{c};{1 + i % 2}\n" for i, c in enumerate(ARIEGE)),
        encoding="utf-8",
    )
    import_typology(typology, nomenclature=nomenclature)

    store = ScenarioStore()
    scen = store.create(names["calc"], scope="dep:09")
    for i, key in enumerate(("calc", "raw", "run")):
        tid = store.add_territory(scen.name, names[key])
        store.change_communes(scen.name, tid, add=[ARIEGE[2 * i], ARIEGE[2 * i + 1]])
    preferences.put("scope", "dep:09")


def _all_component_args(at) -> str:
    """Everything the page's custom components send to the browser."""
    found = []
    for proto in protos(at):
        kind = type(proto).__name__
        if (
            kind == "ComponentInstance"
        ):  # streamlit-folium: the map's script, as the browser gets it
            found.extend(str(value) for value in json.loads(proto.json_args).values())
        elif (
            kind == "BidiComponent" and proto.json
        ):  # the drawing map: its data (GeoJSON, names, legend...)
            found.extend(str(value) for value in json.loads(proto.json).values())
    return "\n".join(found)


PAGES = [
    ("app.py", {"home-metric": "typology", "home-overlay-msp": True, "home-overlay-cpts": True}),
    ("pages/2_Dessiner_un_territoire.py", {}),
    ("pages/3_Couverture.py", {}),
]


@pytest.mark.parametrize("page,session", PAGES, ids=[p for p, _ in PAGES])
def test_every_map_shows_names_as_text(hostile_data, page, session):
    data, names, marker = hostile_data
    at = run_page(page, data, **session)
    assert not at.exception, [e.value for e in at.exception]
    assert not [e.value for e in at.error], [e.value for e in at.error]
    sent = _all_component_args(at)
    assert sent, "no map was sent to the browser"
    assert_inert(sent, names, marker)


def test_a_colour_cannot_carry_css(tmp_path, isolated_data):
    """Colours reach style attributes: only hex colours pass, in the store and in the layers."""
    from geo.errors import DataError
    from geo.store.scenarios import ScenarioStore
    from layers.legend import Legend
    from layers.safe import css_colour

    evil = "red;background-image:url(http://127.0.0.1:9/x.png)"
    assert css_colour(evil) == "#999999" and css_colour("#0072B2") == "#0072B2"
    assert "url(" not in Legend("Titre", [(evil, "classe")]).html
    store = ScenarioStore()
    store.create("Couleurs")
    with pytest.raises(DataError, match="Couleur"):
        store.add_territory("Couleurs", "T1", colour=evil)
    tid = store.add_territory("Couleurs", "T2", colour="#00ff00")
    with pytest.raises(DataError, match="Couleur"):
        store.update_territory("Couleurs", tid, colour=evil)
    assert store.get("Couleurs").territory(tid).colour == "#00ff00"
