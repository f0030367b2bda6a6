"""Issue #9 §4, ``scenario import``: an export read back is outside input (geo.territory.export.read_export)."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.cli import main
from geo.errors import DataError
from geo.store.scenarios import ScenarioStore
from geo.territory.context import context
from geo.territory.export import (
    MAX_ENTRIES,
    MAX_TERRITORIES,
    geojson_bytes,
    read_export,
    to_csv,
    to_geojson,
)

HEAD = "cpts_id;cpts_nom;code_insee\n"


@pytest.fixture(scope="module")
def exports(base_dir):
    """Real exports (GeoJSON and CSV) of three Ariège territories made with geo.territory.export."""
    ctx = context()
    communes = ctx.communes[ctx.communes["dep"] == "09"]
    groups = list(communes.groupby("epci").groups.values())[:3]
    terrs = [{"name": f"CPTS Ariège {i}", "communes": sorted(g)[:12]} for i, g in enumerate(groups)]
    return ctx, terrs, geojson_bytes(to_geojson(terrs, ctx, scenario="Essai")), to_csv(terrs)


def feature_collection(*features) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def feature(**props) -> dict:
    return {"type": "Feature", "geometry": None, "properties": props}


BAD_FILES = [
    ("deep.geojson", b"[" * 100_000 + b"]" * 100_000, "imbriqué"),
    ("deep2.geojson", b'{"features": ' + b'{"a": ' * 5_000 + b"1" + b"}" * 5_001, "imbriqué"),
    ("five.geojson", b'{"features": 5}', "features"),
    ("list.geojson", b"[1, 2]", "FeatureCollection"),
    ("nan.geojson", b'{"features": [], "x": NaN}', "NaN"),
    ("notobj.geojson", feature_collection(5), "objet n° 1"),
    (
        "props.geojson",
        feature_collection(feature(name="A", communes=["09122"]), {"properties": ["x"]}),
        "objet n° 2 : « properties » doit être un objet",
    ),
    (
        "noname.geojson",
        feature_collection(feature(communes=["09122"])),
        "objet n° 1 : la propriété « name »",
    ),
    ("namelist.geojson", feature_collection(feature(name=["A"], communes=["09122"])), "objet n° 1"),
    (
        "commstr.geojson",
        feature_collection(feature(name="A", communes="09122")),
        "objet n° 1 : la propriété « communes »",
    ),
    (
        "commobj.geojson",
        feature_collection(feature(name="A", communes=["09122", {"code": "09225"}])),
        "objet n° 1 : la commune n° 2",
    ),
    (
        "commbool.geojson",
        feature_collection(feature(name="A", communes=[True])),
        "objet n° 1 : la commune n° 1",
    ),
    (
        "status.geojson",
        feature_collection(feature(name="A", communes=["09122"], status={"x": 1})),
        "objet n° 1 : statut",
    ),
    (
        "bigint.geojson",
        b'{"features": [{"properties": {"name": "A", "communes": [' + b"9" * 5000 + b"]}}]}",
        "bigint.geojson",
    ),
    (
        "latin1.csv",
        (HEAD + "1;Ariège;09122\n").encode("latin-1"),
        "ligne 2 : le fichier n'est pas en UTF-8",
    ),
    ("noheader.csv", b"1;A;09122\n2;B;09225\n", "ligne 1 : colonnes attendues"),
    ("short.csv", (HEAD + "1;A;09122\n2;B\n").encode(), "ligne 3 : 3 champs attendus"),
    ("quote.csv", (HEAD + '1;"A;09122\n').encode(), "CSV mal formé"),
    ("field.csv", (HEAD + "1;" + "A" * 200_000 + ";09122\n").encode(), "ligne 2 : CSV mal formé"),
    ("nul.csv", (HEAD + "1;A\x00;09122\n").encode(), "octets nuls"),
    ("png.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "UTF-8"),
    ("empty.csv", b"\xef\xbb\xbf  \n", "vide"),
    (
        "unknown.csv",
        (HEAD + "1;A;<img src=x onerror=alert(1)>\n2;B;99999\n3;C;1001x\n").encode(),
        "aucun code commune reconnu",
    ),
    (
        "manyrows.csv",
        (HEAD + "1;A;09122\n" * (MAX_ENTRIES + 1)).encode(),
        f"plus de {MAX_ENTRIES} lignes",
    ),
    (
        "manyterr.csv",
        (HEAD + "".join(f"{i};T{i};09122\n" for i in range(MAX_TERRITORIES + 1))).encode(),
        f"plus de {MAX_TERRITORIES} territoires",
    ),
    (
        "manyfeat.geojson",
        feature_collection(
            *[feature(name=f"T{i}", communes=["09122"]) for i in range(MAX_TERRITORIES + 1)]
        ),
        f"{MAX_TERRITORIES} au plus",
    ),
    (
        "manycodes.geojson",
        feature_collection(feature(name="A", communes=["09122"] * (MAX_ENTRIES + 1))),
        f"plus de {MAX_ENTRIES} codes",
    ),
]


@pytest.mark.parametrize("filename,data,match", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_files_are_french_data_errors_naming_the_file(exports, filename, data, match):
    ctx = exports[0]
    with pytest.raises(DataError, match=match) as info:
        read_export(data, filename, known=ctx.population)
    assert str(info.value).startswith(filename)


def test_codes_checked_against_the_commune_base(exports):
    ctx = exports[0]
    text = (
        HEAD + "1;A;09122\n1;A;<img src=x onerror=alert(1)>\n1;A;1001\n1;A;2a004\n"
        "2;B;99999\n2;B;\n3;C;09225\n3;C;9225\n"
    )
    got = read_export(text.encode(), "codes.csv", known=ctx.population)
    assert [(t["name"], t["communes"]) for t in got] == [
        ("A", ["09122", "01001", "2A004"]),
        ("C", ["09225"]),
    ]
    assert all(c in ctx.population for t in got for c in t["communes"])
    assert len(got.warnings) == 2
    assert "codes.csv : 3 code(s) commune inconnu(s)" in got.warnings[0]
    assert "ligne 3 « <img src=x onerror=alert(1)> »" in got.warnings[0]
    assert "ligne 6 « 99999 »" in got.warnings[0] and "ligne 7 « (vide) »" in got.warnings[0]
    assert (
        got.warnings[1]
        == "codes.csv : territoire(s) sans aucune commune reconnue, non importé(s) : « B »."
    )

    doc = feature_collection(
        feature(name="A", communes=[9122, 9225.0, "2B033", 9122.5, "x" * 500]),
        feature(name="B", status="projet", id=7, communes=["09122"]),
    )
    got = read_export(doc, "codes.geojson", known=ctx.population)
    assert [(t["id"], t["status"], t["communes"]) for t in got] == [
        ("A", "proposition", ["09122", "09225", "2B033"]),
        ("7", "projet", ["09122"]),
    ]
    assert "objet n° 1 « 9122.5 »" in got.warnings[0] and "« " + "x" * 40 + "… »" in got.warnings[0]


def test_round_trip_into_the_store(exports, tmp_path):
    ctx, terrs, geojson, csv_data = exports
    store = ScenarioStore(tmp_path / "s.sqlite")
    for label, data in (("geojson", geojson), ("csv", csv_data)):
        got = read_export(data, f"export.{label}", known=ctx.population)
        assert got.warnings == []
        scen = store.create_from(f"Retour {label}", got)
        assert {t.name: t.communes for t in scen.territories} == {
            t["name"]: set(t["communes"]) for t in terrs
        }


def test_cli_scenario_import(exports, isolated_data, tmp_path, capsys):
    ctx, terrs, geojson, _ = exports
    path = tmp_path / "export.csv"
    path.write_bytes(to_csv(terrs) + b"9;Autre;<script>\n")
    assert main(["scenario", "import", str(path), "--name", "Importé"]) == 0
    out = capsys.readouterr()
    assert "Scénario « Importé » créé avec 3 territoire(s)." in out.out
    assert (
        "Attention : export.csv : 1 code(s) commune inconnu(s)" in out.err
        and "« <script> »" in out.err
    )
    scen = ScenarioStore().get("Importé")
    assert {t.name: t.communes for t in scen.territories} == {
        t["name"]: set(t["communes"]) for t in terrs
    }

    bad = tmp_path / "bad.geojson"
    bad.write_bytes(feature_collection(feature(name="A", communes=["09122"]), "x"))
    assert main(["scenario", "import", str(bad), "--name", "Mauvais"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Erreur : bad.geojson, objet n° 2") and "Traceback" not in err
    assert main(["scenario", "import", str(tmp_path), "--name", "Dossier"]) == 2
    assert "est un dossier" in capsys.readouterr().err
    assert main(["scenario", "import", str(tmp_path / "absent.csv"), "--name", "Absent"]) == 2
    assert "introuvable : absent.csv" in capsys.readouterr().err
    assert ScenarioStore().names() == ["Importé"]


# --- property tests: anything → territories or DataError ---------------------------------------------------

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def outcome(data: bytes, filename: str, ctx):
    """read_export's answer: a list of well-formed territories, or a DataError (anything else fails the test)."""
    try:
        got = read_export(data, filename, known=ctx.population)
    except DataError as exc:
        assert str(exc).startswith(filename)
        return None
    assert isinstance(got, list) and got and all(isinstance(w, str) for w in got.warnings)
    for terr in got:
        assert (
            isinstance(terr["name"], str)
            and isinstance(terr["status"], str)
            and isinstance(terr["id"], str)
        )
        assert terr["communes"] and all(c in ctx.population for c in terr["communes"])
    return got


@SETTINGS
@given(data=st.binary(max_size=2000))
def test_random_bytes(exports, data):
    outcome(data, "hasard.csv", exports[0])


@SETTINGS
@given(
    which=st.sampled_from(["geojson", "csv"]),
    edits=st.lists(
        st.tuples(
            st.sampled_from(["flip", "cut", "insert", "repeat", "delete"]),
            st.integers(0, 10**9),
            st.binary(min_size=1, max_size=40),
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_mutated_real_exports(exports, which, edits):
    ctx, _, geojson, csv_data = exports
    data = bytearray(geojson if which == "geojson" else csv_data)
    for kind, where, chunk in edits:
        pos = where % (len(data) + 1)
        if kind == "flip" and data:
            data[pos % len(data)] ^= chunk[0] or 1
        elif kind == "cut":
            del data[pos:]
        elif kind == "insert":
            data[pos:pos] = chunk
        elif kind == "repeat":
            data[pos:pos] = data[pos : pos + len(chunk) * 50]
        elif kind == "delete":
            del data[pos : pos + len(chunk)]
    outcome(bytes(data), f"muté.{which}", ctx)


def json_paths(node, prefix=()):
    yield prefix
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, child in items:
        yield from json_paths(child, prefix + (key,))


@SETTINGS
@given(st.data())
def test_real_geojson_with_parts_replaced(exports, data):
    """A real export whose members (the whole document, a feature, a property, a code...) are replaced by
    arbitrary JSON."""
    ctx, _, geojson, _ = exports
    doc = json.loads(geojson)
    for feat in doc["features"]:
        feat["geometry"] = None  # keeps each example small; read_export ignores the geometry
    for _ in range(data.draw(st.integers(1, 4))):
        path = data.draw(st.sampled_from(list(json_paths(doc))))
        value = data.draw(JSON_VALUES)
        if not path:
            doc = value
            continue
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = value
    outcome(json.dumps(doc).encode(), "remplacé.geojson", ctx)
