"""The IRDES typology: nomenclature, import by commune or territoire de vie, errors, CLI, map layer.

Classification files are test fixtures written in tmp_path from the real
commune base (no open file of IRDES classes exists): classes follow simple
rules stated in each test, and the EPCIs stand in for territoires de vie.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import folium
import openpyxl
import pandas as pd
import pytest

from geo.errors import DataError
from geo.sources.typology import (
    import_typology,
    load_nomenclature,
    parse_typology,
)
from geo.store import layers as store
from tests.conftest import REPO


@pytest.fixture(scope="module")
def communes(communes_in_use):
    """Expectations add up the populations in use (legal populations in force), never the 2017 ones."""
    return communes_in_use


README = REPO.parent / "shared" / "README.md"
ARIEGE = "09"


def rule(code: str) -> int:
    """Test rule: the class of a commune is its last digit modulo 6, plus 1."""
    return int(code[-1]) % 6 + 1


def write(path: Path, text: str, encoding="utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def commune_file(
    path: Path, codes, sep=";", header=("code_insee", "classe"), encoding="utf-8", bom=False
) -> Path:
    """Test fixture: one line per commune with its class by ``rule``."""
    lines = [sep.join(header)] + [f"{code}{sep}{rule(code)}" for code in codes]
    return write(path, ("\ufeff" if bom else "") + "\n".join(lines) + "\n", encoding)


@pytest.fixture(scope="module")
def ariege(communes):
    return communes[communes["dep"] == ARIEGE].copy()


def expected_shares(communes, codes):
    pop = communes.set_index("insee")["population"].fillna(0)
    return len(codes) / len(communes), float(pop.reindex(list(codes)).sum()) / float(pop.sum())


def layer_state():
    return store.read_meta("typology"), store.read_layer("typology")


# --------------------------------------------------------------------------- nomenclature


def test_builtin_nomenclature_matches_shared_readme():
    nomen = load_nomenclature()
    assert list(nomen.columns) == ["classe", "label", "short_label", "colour"]
    assert list(nomen["classe"]) == [1, 2, 3, 4, 5, 6] and nomen["classe"].dtype == "int64"
    assert nomen["colour"].is_unique and all(
        re.fullmatch(r"#[0-9A-F]{6}", c) for c in nomen["colour"]
    )
    assert all(0 < len(s) <= 30 for s in nomen["short_label"])
    assert (
        "document de travail n° 76" in nomen.attrs["reference"]
        and "Chevillard" in nomen.attrs["reference"]
    )
    assert nomen.attrs["vintage"] == "2019"
    if not README.exists():
        pytest.skip(f"README des données partagées absent : {README}")
    text = README.read_text(encoding="utf-8")
    sentence = next(
        line for line in text.splitlines() if "typology" in line and "six classes" in line
    )
    labels = dict((int(n), lab) for n, lab in re.findall(r"(\d) « ([^»]+?) »", sentence))
    assert len(labels) == 6
    assert dict(zip(nomen["classe"], nomen["label"])) == labels


def test_user_nomenclature_seven_classes_and_colours(tmp_path):
    path = write(
        tmp_path / "nomen.csv",
        "classe,label,colour,millesime\n"
        "1,Classe un,#123456,2024\n2,Classe deux,,\n3,Classe trois,abc,\n4,Classe quatre,,\n"
        "5,Classe cinq,,\n6,Classe six,,\n7,Un libellé bien plus long que trente caractères,,\n",
    )
    nomen = load_nomenclature(path)
    assert list(nomen["classe"]) == list(range(1, 8))
    assert nomen["colour"].is_unique
    assert nomen.loc[0, "colour"] == "#123456" and nomen.loc[2, "colour"] == "#AABBCC"
    assert len(nomen.loc[6, "short_label"]) <= 30 and nomen.loc[6, "short_label"].endswith("…")
    assert nomen.attrs["vintage"] == "2024" and "nomen.csv" in nomen.attrs["reference"]


def test_user_nomenclature_xlsx(tmp_path):
    path = tmp_path / "nomen.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["Classe", "Libellé", "Libellé court"])
    for i in (3, 1, 2):
        wb.active.append([i, f"Classe numéro {i}", f"C{i}"])
    wb.save(path)
    nomen = load_nomenclature(path)
    assert list(nomen["classe"]) == [1, 2, 3] and list(nomen["short_label"]) == ["C1", "C2", "C3"]


@pytest.mark.parametrize(
    "body, expected",
    [
        (
            "classe;label\n1;Un\n2;Deux\n1;Encore un\n",
            "ligne 4 : classe 1 en double (déjà définie ligne 2)",
        ),
        ("classe;label\n1;Un\nB;Deux\n", "ligne 3 : classe « B » non entière"),
        ("classe;label\n1;Un\n2;\n", "ligne 3 : libellé vide pour la classe 2"),
        ("classe;label;colour\n1;Un;rouge\n", "ligne 2 : couleur « rouge » invalide"),
        ("classe;nom_long\n1;Un\n", "colonne « label »"),
    ],
)
def test_bad_nomenclature(tmp_path, body, expected):
    with pytest.raises(DataError) as err:
        load_nomenclature(write(tmp_path / "nomen.csv", body))
    assert expected in str(err.value) and "nomen.csv" in str(err.value)


# --------------------------------------------------------------------------- import by commune


def test_import_by_commune_ariege(isolated_data, communes, ariege, tmp_path):
    codes = list(ariege["insee"])
    path = commune_file(tmp_path / "typo.csv", codes)
    report = import_typology(path)
    frame, meta = store.read_layer("typology"), store.read_meta("typology")
    assert sorted(frame["insee"]) == sorted(codes)
    assert dict(zip(frame["insee"], frame["classe"])) == {c: rule(c) for c in codes}
    share_c, share_p = expected_shares(communes, codes)
    assert report.to_dict()["rows"] == len(codes) == report.to_dict()["communes_classified"]
    assert report.to_dict()["communes_total"] == len(communes)
    assert report.to_dict()["share_communes"] == pytest.approx(share_c)
    assert report.to_dict()["share_population"] == pytest.approx(share_p)
    assert report.to_dict()["population_classified"] == int(ariege["population"].fillna(0).sum())
    expected_counts = pd.Series([rule(c) for c in codes]).value_counts()
    assert report.to_dict()["classes"] == {k: int(expected_counts.get(k, 0)) for k in range(1, 7)}
    assert report.to_dict()["duplicates"] == 0 and report.to_dict()["warnings"] == []
    for key in ("source", "vintage", "licence", "imported_at", "file"):
        assert meta[key], key
    assert (
        meta["vintage"] == "2019"
        and meta["file"] == "typo.csv"
        and meta["nomenclature_file"] is None
    )
    lines = report.lines()
    assert any(f"{len(codes)} communes classées" in line for line in lines)
    assert any(line.startswith("Classe 1 — Périurbain") for line in lines)


def test_codes_without_leading_zero_comma_bom(isolated_data, communes, tmp_path):
    ain = sorted(communes.loc[communes["dep"] == "01", "insee"])[:40]
    path = write(
        tmp_path / "ain.csv", "\ufeffINSEE,Classe\n" + "".join(f"{int(c)},{rule(c)}\n" for c in ain)
    )
    assert "\n1001," in path.read_text(encoding="utf-8-sig")
    frame, report = parse_typology(path)
    assert sorted(frame["insee"]) == ain and "01001" in set(frame["insee"])
    assert report.to_dict()["communes_classified"] == 40


def test_cp1252_with_names(isolated_data, ariege, tmp_path):
    sub = ariege[ariege["name"].str.contains("[éèêô]")].head(20)
    assert len(sub) >= 10
    text = "Code INSEE;Libellé commune;Classe Irdes\n" + "".join(
        f"{c};{n};{rule(c)}\n" for c, n in zip(sub["insee"], sub["name"])
    )
    path = write(tmp_path / "cp.csv", text, "cp1252")
    report = import_typology(path)
    assert report.to_dict()["communes_classified"] == len(sub)


def test_xlsx_input_with_numeric_codes(isolated_data, ariege, tmp_path):
    path = tmp_path / "typo.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["code_insee", "classe"])
    for code in ariege["insee"]:
        wb.active.append([int(code), rule(code)])  # 09122 stored as the number 9122
    wb.save(path)
    frame, report = parse_typology(path)
    assert set(frame["insee"]) == set(ariege["insee"])


def test_identical_duplicates_and_empty_classes_tolerated(isolated_data, tmp_path):
    path = write(tmp_path / "d.csv", "code_insee;classe\n09122;5\n09225;1\n09122;5\n09029;\n")
    frame, report = parse_typology(path)
    assert dict(zip(frame["insee"], frame["classe"])) == {"09122": 5, "09225": 1}
    assert report.to_dict()["duplicates"] == 1 and report.to_dict()["rows"] == 4
    assert any("09122" in w and "2, 4" in w for w in report.to_dict()["warnings"])
    assert any("ligne 5" in w and "sans classe" in w for w in report.to_dict()["warnings"])


def test_paris_arrondissements_folded(isolated_data, tmp_path):
    body = "".join(f"751{n:02d};5\n" for n in range(1, 21))
    frame, report = parse_typology(write(tmp_path / "p.csv", "code_insee;classe\n" + body))
    assert frame.to_dict("records") == [{"insee": "75056", "classe": 5}]
    assert any("75056" in w and "20 arrondissement" in w for w in report.to_dict()["warnings"])
    body = body.replace("75120;5", "75120;6")
    with pytest.raises(DataError, match="75056 lignes 2, .*21"):
        parse_typology(write(tmp_path / "p2.csv", "code_insee;classe\n" + body))


# --------------------------------------------------------------------------- import by territoire de vie


def tv_files(tmp_path, ariege, drop_first_tv_from_typology=False):
    """Test fixtures: EPCIs of Ariège as pseudo-territoires de vie; class by rule on the EPCI code."""
    epcis = sorted(ariege["epci"].unique())
    tv_class = {e: rule(e) for e in epcis}
    mapping = write(
        tmp_path / "passage.csv",
        "code_insee;code_tv\n"
        + "".join(f"{c};{e}\n" for c, e in zip(ariege["insee"], ariege["epci"])),
    )
    kept = epcis[1:] if drop_first_tv_from_typology else epcis
    typo = write(
        tmp_path / "tv.csv", "code_tv;classe\n" + "".join(f"{e};{tv_class[e]}\n" for e in kept)
    )
    return typo, mapping, tv_class


def test_import_by_territoire_de_vie(isolated_data, communes, ariege, tmp_path):
    typo, mapping, tv_class = tv_files(tmp_path, ariege)
    report = import_typology(typo, tv_map=mapping)
    frame = store.read_layer("typology")
    expected = {c: tv_class[e] for c, e in zip(ariege["insee"], ariege["epci"])}
    assert dict(zip(frame["insee"], frame["classe"])) == expected
    assert report.to_dict()["key"] == "code_tv" and report.to_dict()["territories"] == len(tv_class)
    assert report.to_dict()["rows"] == len(tv_class)
    share_c, share_p = expected_shares(communes, expected)
    assert report.to_dict()["share_communes"] == pytest.approx(share_c)
    assert report.to_dict()["share_population"] == pytest.approx(share_p)
    meta = store.read_meta("typology")
    assert meta["tv_map_file"] == "passage.csv" and meta["key"] == "code_tv"


def test_tv_partly_classified_is_reported(isolated_data, ariege, tmp_path):
    typo, mapping, tv_class = tv_files(tmp_path, ariege, drop_first_tv_from_typology=True)
    first = sorted(tv_class)[0]
    frame, report = parse_typology(typo, tv_map=mapping)
    left_out = int((ariege["epci"] == first).sum())
    assert report.to_dict()["communes_classified"] == len(ariege) - left_out
    assert any(
        first in w and f"{left_out} communes non classées" in w
        for w in report.to_dict()["warnings"]
    )


def test_tv_codes_without_leading_zero(isolated_data, tmp_path):
    # Territoires de vie named after their pole commune; the typology file lost the leading zero.
    mapping = write(
        tmp_path / "m.csv", "code_insee;code_tv\n09122;09122\n09225;09122\n09029;09029\n"
    )
    typo = write(tmp_path / "t.csv", "tv;classe\n9122;4\n9029;2\n")
    frame, _ = parse_typology(typo, tv_map=mapping)
    assert dict(zip(frame["insee"], frame["classe"])) == {"09029": 2, "09122": 4, "09225": 4}


def test_importer_registry_passes_tv_map(isolated_data, ariege, tmp_path):
    from geo.sources.registry import IMPORTERS

    typo, mapping, _ = tv_files(tmp_path, ariege)
    importer = IMPORTERS["typology"]
    report = importer.run(typo, progress=None, tv_map=mapping, nomenclature=None)
    assert report.to_dict()["communes_classified"] == len(ariege)
    assert importer.lines(report)[0].startswith("Fichier tv.csv")


# --------------------------------------------------------------------------- refusals


BAD_INPUTS = {
    "empty": (b"\n\n", "vide"),
    "zero_bytes": (b"", "vide (0 octet)"),
    "garbage_separator": (b"code_insee:classe\n09122:1\n", "séparateur"),
    "no_key_column": (b"commune;classe\n09122;1\n", "« code_insee » (par commune) ou « code_tv »"),
    "truncated": (b"code_insee;classe\n09122;1\n09225\n", "ligne 3 : ligne tronquée"),
    "unclosed_quote": (b'code_insee;classe\n09122;1\n"09225;2\n', "ligne 3"),
    "unknown_class": (
        b"code_insee;classe\n09122;1\n09225;7\n09029;0\n",
        "ligne 3 « 7 », ligne 4 « 0 »",
    ),
    "non_integer_class": (b"code_insee;classe\n09122;1,5\n", "ligne 2 « 1,5 »"),
    "unknown_codes": (b"code_insee;classe\n09122;1\n09999;1\n99999;2\n", "09999, 99999"),
    "malformed_code": (b"code_insee;classe\n09122;1\nFoix;2\n", "ligne 3 « Foix »"),
    "conflicting_duplicates": (
        b"code_insee;classe\n09122;1\n09225;1\n09122;3\n",
        "09122 lignes 2, 4 (1/3)",
    ),
    "png_renamed": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binaire"),
    "tv_without_map": (b"code_tv;classe\n200066231;1\n", "table de passage"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_inputs_keep_previous_layer(isolated_data, ariege, tmp_path, case):
    import_typology(commune_file(tmp_path / "good.csv", ariege["insee"]))
    before_meta, before = layer_state()
    data, expected = BAD_INPUTS[case]
    bad = tmp_path / "mauvais.csv"
    bad.write_bytes(data)
    with pytest.raises(DataError) as err:
        import_typology(bad)
    message = str(err.value)
    assert expected in message and "mauvais.csv" in message, message
    after_meta, after = layer_state()
    assert after_meta == before_meta
    pd.testing.assert_frame_equal(after, before)


def test_tv_missing_from_map_and_conflicting_map(isolated_data, ariege, tmp_path):
    import_typology(commune_file(tmp_path / "good.csv", ariege["insee"]))
    before_meta, before = layer_state()
    typo, mapping, _ = tv_files(tmp_path, ariege)
    extra = write(tmp_path / "tv2.csv", typo.read_text() + "TV-INCONNU;2\n")
    with pytest.raises(
        DataError,
        match=r"tv2.csv : 1 territoire\(s\) de vie absent\(s\) de la table de passage "
        r"passage.csv : TV-INCONNU",
    ):
        import_typology(extra, tv_map=mapping)
    conflict = write(tmp_path / "passage2.csv", mapping.read_text() + "09122;AUTRE\n")
    with pytest.raises(
        DataError,
        match=r"passage2.csv : doublons avec des territoires de vie différents \(1\) : commune 09122 lignes",
    ):
        import_typology(typo, tv_map=conflict)
    unknown = write(tmp_path / "passage3.csv", mapping.read_text() + "09999;X\n")
    with pytest.raises(DataError, match=r"passage3.csv : 1 code\(s\) commune absent\(s\).*09999"):
        import_typology(typo, tv_map=unknown)
    assert layer_state()[0] == before_meta
    pd.testing.assert_frame_equal(layer_state()[1], before)


# --------------------------------------------------------------------------- user nomenclature


def seven_classes(tmp_path) -> Path:
    return write(
        tmp_path / "irdes2024.csv",
        "classe;label;short_label;vintage\n"
        + "".join(f"{i};Classe {i} de la typologie communale;C{i};2024\n" for i in range(1, 8)),
    )


def test_seven_class_nomenclature_import_and_context(isolated_data, ariege, tmp_path):
    from geo.territory.context import context

    nomen_path = seven_classes(tmp_path)
    codes = list(ariege["insee"])
    body = "code_insee;classe\n" + "".join(f"{c};{int(c[-1]) % 7 + 1}\n" for c in codes)
    report = import_typology(write(tmp_path / "t7.csv", body), nomenclature=nomen_path)
    assert set(report.to_dict()["classes"]) == set(range(1, 8)) and sum(
        report.to_dict()["classes"].values()
    ) == len(codes)
    meta = store.read_meta("typology")
    kept = Path(meta["nomenclature_file"])
    assert kept.parent == isolated_data and kept.read_bytes() == nomen_path.read_bytes()
    assert meta["vintage"] == "2024"
    nomen_path.unlink()  # the layer keeps its own copy
    ctx = context()
    assert len(ctx.nomenclature) == 7 and ctx.typology["09122"] == int("09122"[-1]) % 7 + 1
    # class 7 is refused with the built-in nomenclature; the 7-class layer stays
    with pytest.raises(DataError, match="classes attendues : 1, 2, 3, 4, 5, 6"):
        import_typology(write(tmp_path / "t7b.csv", body))
    assert store.read_meta("typology") == meta and kept.exists()
    # a new import with the built-in nomenclature drops the copy
    import_typology(commune_file(tmp_path / "t6.csv", codes))
    assert store.read_meta("typology")["nomenclature_file"] is None and not kept.exists()


def test_bad_user_nomenclature_keeps_layer(isolated_data, ariege, tmp_path):
    import_typology(commune_file(tmp_path / "good.csv", ariege["insee"]))
    before_meta, before = layer_state()
    nomen = write(tmp_path / "n.csv", "classe;label\n1;Un\n1;Deux\n")
    with pytest.raises(DataError, match="n.csv : .*ligne 3 : classe 1 en double"):
        import_typology(commune_file(tmp_path / "t.csv", ariege["insee"]), nomenclature=nomen)
    assert layer_state()[0] == before_meta
    assert not list(isolated_data.glob("typology_nomenclature_*"))


# --------------------------------------------------------------------------- command line


def run_cli(data_dir: Path, *args):
    env = {**os.environ, "CARTOCPTS_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "geo", "import", "typology", *map(str, args)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_json_and_error(isolated_data, ariege, tmp_path):
    typo, mapping, tv_class = tv_files(tmp_path, ariege)
    done = run_cli(
        isolated_data,
        typo,
        "--tv-map",
        mapping,
        "--nomenclature",
        seven_classes(tmp_path),
        "--json",
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["communes_classified"] == len(ariege) and report["classes"].keys() == {
        str(i) for i in range(1, 8)
    }
    assert store.read_meta("typology")["nomenclature_file"]
    before = store.read_meta("typology")
    failed = run_cli(isolated_data, typo, "--json")
    assert failed.returncode != 0 and failed.stdout == ""
    assert "Erreur : tv.csv est classé par territoire de vie" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert store.read_meta("typology") == before


# --------------------------------------------------------------------------- map layer


def test_choropleth_colours_and_escaped_labels(base_dir, ariege, tmp_path):
    from layers.communes import NO_DATA, map_frame
    from layers.typology import typology_choropleth, typology_colouring, typology_legend

    nomen = load_nomenclature(
        write(tmp_path / "n.csv", 'classe;label;short_label\n1;Un;<b>un</b>\n2;Deux;"A & B"\n')
    )
    codes = sorted(ariege["insee"])
    typology = pd.DataFrame({"insee": codes[:100], "classe": [1 + i % 2 for i in range(100)]})
    layer = typology_choropleth(ariege, typology, nomen)
    colours = dict(zip(nomen["classe"], nomen["colour"]))
    fills = {f["id"]: layer.style_function(f)["fillColor"] for f in layer.data["features"]}
    assert len(fills) == len(ariege)
    expected = {c: colours[k] for c, k in zip(typology["insee"], typology["classe"])}
    assert all(fills[c] == expected.get(c, NO_DATA) for c in codes)
    texts = {f["id"]: f["properties"]["classe_txt"] for f in layer.data["features"]}
    assert texts[codes[0]] == "1 — &lt;b&gt;un&lt;/b&gt;" and texts[codes[1]] == "2 — A &amp; B"
    assert texts[codes[-1]] == "Non classée"
    fmap = folium.Map()
    layer.add_to(fmap)
    legend = typology_legend(nomen)
    legend.add_to(fmap)
    html = fmap.get_root().render()
    # labels reach the page escaped (inside JSON strings, "&" is written \\u0026, "<" \\u003c)
    assert "<b>un" not in html and "\\u003cb\\u003eun" not in html
    assert "\\u0026lt;b\\u0026gt;un" in html
    assert colours[1].lower() in legend.html.lower() and "Non classée" in legend.html
    colouring = typology_colouring(map_frame(ariege), typology, nomen)
    assert colouring.fills[codes[0]] == colours[1] and colouring.fills[codes[-1]] == NO_DATA
    assert colouring.tooltip[1][codes[1]] == "2 — A &amp; B"
