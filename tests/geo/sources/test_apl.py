"""The DREES APL importer on the real workbook and on generated ones; the APL map layer."""

import argparse
import json
import re
import time

import openpyxl
import pandas as pd
import pytest

from geo.errors import DataError
from geo.sources.apl import (
    import_apl,
    list_years,
    parse_apl,
    plain_mean,
    weighted_apl,
)
from geo.store import layers as store

REAL = "apl/apl_generalistes_drees_2022_2023.xlsx"
HEADER = [
    "Code commune INSEE",
    "Commune",
    "APL aux médecins généralistes",
    "APL aux médecins généralistes de moins de 65 ans",
    "Population standardisée 2021 pour la médecine générale",
    "Population totale 2021",
]
UNITS = [
    None,
    None,
    "En nombre de consultations/visites",
    "En nombre de consultations/visites",
    "En nombre d'habitants standardisés",
    "En nombre d'habitants",
]
GOOD_ROWS = [
    ["09122", "Foix", 3.1, 2.9, 9000.5, 9500],
    ["09225", "Montgailhard", 2.0, 1.8, 1400.0, 1500],
    ["31555", "Toulouse", 4.2, 3.9, 470000.0, 480000],
    ["2A004", "Ajaccio", 3.8, 3.5, 70000.0, 71000],
]


def make_workbook(path, sheets: dict, header_row: int = 9, header=HEADER, units=True):
    """A workbook shaped like the DREES one: notes, a header on ``header_row``, units, data."""
    wb = openpyxl.Workbook()
    wb.active.title = "Paramètres"
    wb.active["A1"] = "Paramètres de l'indicateur"
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        ws.cell(1, 1, f"Indicateur d'accessibilité potentielle localisée ({name})")
        ws.cell(3, 1, "Millésime")
        for col, label in enumerate(header, 1):
            ws.cell(header_row, col, label)
        start = header_row + 1
        if units:
            for col, label in enumerate(UNITS, 1):
                ws.cell(start, col, label)
            start += 1
        for r, row in enumerate(rows):
            for c, value in enumerate(row, 1):
                ws.cell(start + r, c, value)
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def real_2023(base_dir):
    from tests.conftest import SHARED_DATA

    path = SHARED_DATA / REAL
    if not path.exists():
        pytest.skip(f"données d'exemple absentes : {path}")
    start = time.perf_counter()
    frame, report = parse_apl(path)
    return frame, report, time.perf_counter() - start


# ----------------------------------------------------------------------------- real workbook


def test_list_years_real(shared_data):
    assert list_years(shared_data / REAL) == [2022, 2023]


def test_parse_real_latest_year(real_2023, communes):
    frame, report, _ = real_2023
    assert report.to_dict()["year"] == 2023 and report.to_dict()["sheet"] == "APL 2023"
    assert report.to_dict()["population_year"] == 2021
    assert list(frame.columns) == ["insee", "apl", "apl_under65", "std_pop", "total_pop"]
    assert frame["insee"].is_unique and frame["insee"].str.len().eq(5).all()
    assert 34_000 < len(frame) < 35_500
    row = frame.set_index("insee").loc["01001"]  # first data row of the sheet
    assert (row["apl"], row["apl_under65"], row["std_pop"], row["total_pop"]) == (
        1.942,
        1.881,
        838.154,
        832,
    )
    assert {"2A004", "2B033"} <= set(frame["insee"])  # Corsica kept as 2A/2B
    # Paris, Lyon, Marseille are given by arrondissement: rebuilt as communes of the base, weighted.
    paris = frame.set_index("insee").loc["75056"]
    assert report.to_dict()["arrondissements_merged"] == {"75056": 20, "69123": 9, "13055": 16}
    assert 3 < paris["apl"] < 7 and paris["std_pop"] > 2_000_000
    assert report.to_dict()["errors"]["count"] == 0
    nib = report.to_dict()["communes_not_in_base"]
    assert (
        nib["count"] == len(set(frame["insee"]) - set(communes["insee"]))
        and len(nib["codes"]) <= 20
    )
    bwv = report.to_dict()["base_communes_without_value"]
    assert "97601" in bwv["codes"]  # Mayotte is outside the DREES field
    assert "75056" not in bwv["codes"]
    lines = report.lines()
    assert lines[0].startswith("APL 2023")
    # communes nouvelles: former codes are merged into the base's communes, so none may be left absent
    assert any("absentes de la base" in line for line in lines) == (nib["count"] > 0)


def test_weighted_apl_of_ariege_is_the_drees_aggregate(real_2023, communes):
    frame, _, _ = real_2023
    ariege = frame.merge(communes[["insee", "dep"]], on="insee")
    ariege = ariege[ariege["dep"] == "09"]
    assert len(ariege) > 300
    expected = (ariege["apl"] * ariege["std_pop"]).sum() / ariege["std_pop"].sum()
    value = weighted_apl(ariege)
    assert value == pytest.approx(expected, rel=1e-12)
    assert abs(value - plain_mean(ariege)) > 0.05  # the plain mean is a different (wrong) figure
    by_dep = weighted_apl(frame.merge(communes[["insee", "dep"]], on="insee"), by="dep")
    assert by_dep["09"] == pytest.approx(expected, rel=1e-12)
    assert set(by_dep.index) >= {"09", "31", "2A", "2B"}


def test_weighted_apl_rules():
    frame = pd.DataFrame(
        {
            "apl": [1.0, 3.0, None, 5.0],
            "std_pop": [100.0, 300.0, 50.0, None],
            "g": ["a", "a", "b", "b"],
        }
    )
    assert weighted_apl(frame) == pytest.approx((100 + 900) / 400)
    assert weighted_apl(frame.iloc[2:]) is None  # no commune with both values
    by = weighted_apl(frame, by="g")
    assert by["a"] == pytest.approx(2.5) and "b" not in by.index
    zero = pd.DataFrame({"apl": [2.0], "std_pop": [0.0], "g": ["z"]})
    assert weighted_apl(zero) is None and pd.isna(weighted_apl(zero, by="g")["z"])


def test_import_real_year_2022_and_reference_apl(isolated_data, shared_data, communes):
    report = import_apl(shared_data / REAL, year=2022)
    meta = store.read_meta("apl")
    assert meta["year"] == 2022 and meta["vintage"] == "APL 2022" and meta["sheet"] == "APL 2022"
    assert meta["licence"] == "Licence Ouverte / Open Licence"
    assert meta["source"] == "DREES" and meta["file"] == "apl_generalistes_drees_2022_2023.xlsx"
    assert "origin_file" not in meta  # one member names the file
    assert meta["imported_at"] and meta["rows"] == report.to_dict()["rows"]
    layer = store.read_layer("apl")
    assert layer["insee"].dtype == object or str(layer["insee"].dtype).startswith("str")
    assert layer.set_index("insee").loc["01001", "apl"] == 1.89  # APL 2022 value

    from geo.territory.context import context
    from geo.territory.diagnostics import reference_apl

    ctx = context()
    assert ctx.apl_year == 2022
    ref = reference_apl(ctx, ["09", "31"], ["76"])
    joined = layer.merge(communes[["insee", "dep", "reg"]], on="insee")
    assert ref["dep:09"] == round(weighted_apl(joined[joined["dep"] == "09"]), 3)
    assert ref["reg:76"] == round(weighted_apl(joined[joined["reg"] == "76"]), 3)
    assert set(ref) == {"dep:09", "dep:31", "reg:76"}


# ----------------------------------------------------------------------------- generated workbooks


def test_generated_workbook_tolerant_labels_and_codes(tmp_path, base_dir):
    header = [
        "code commune insee ",
        "COMMUNE",
        "APL aux medecins generalistes",
        "APL  aux médecins généralistes de moins de 65 ans",
        "Population Standardisée 2021 pour la médecine générale",
        "Population totale 2021",
    ]
    rows = [
        [9122, "Foix", 3.1, 2.9, 9000.5, 9500],
        ["2a004", "Ajaccio", "3,8", 3.5, 70000, 71000],
        ["1001", "L'Abergement", 1.9, 1.8, 810, 806],
    ]
    path = make_workbook(
        tmp_path / "apl.xlsx",
        {"APL 2021": rows, "apl 2023": GOOD_ROWS},
        header_row=4,
        header=header,
    )
    assert list_years(path) == [2021, 2023]
    frame, report = parse_apl(path, year=2021)
    assert frame["insee"].tolist() == ["01001", "09122", "2A004"]
    assert frame.set_index("insee").loc["2A004", "apl"] == 3.8
    assert report.to_dict()["year"] == 2021 and report.to_dict()["errors"]["count"] == 0
    frame, report = parse_apl(path)
    assert (
        report.to_dict()["year"] == 2023
        and report.to_dict()["sheet"] == "apl 2023"
        and len(frame) == 4
    )


@pytest.mark.parametrize(
    "content,match",
    [
        (b"", "vide"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "n'est pas un classeur Excel"),
        ("Code commune INSEE;APL\n01001;1,9\n".encode(), "n'est pas un classeur Excel"),
    ],
)
def test_not_a_workbook(tmp_path, content, match):
    path = tmp_path / "apl.xlsx"
    path.write_bytes(content)
    with pytest.raises(DataError, match=match) as err:
        parse_apl(path)
    assert "apl.xlsx" in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="introuvable"):
        parse_apl(tmp_path / "absent.xlsx")


def test_no_apl_sheet(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "Feuil1"
    wb.save(tmp_path / "autre.xlsx")
    with pytest.raises(DataError, match=r"Aucune feuille « APL <année> ».*Feuil1"):
        parse_apl(tmp_path / "autre.xlsx")
    with pytest.raises(DataError, match="Aucune feuille"):
        list_years(tmp_path / "autre.xlsx")


def test_year_not_present_lists_years(tmp_path):
    path = make_workbook(tmp_path / "apl.xlsx", {"APL 2022": GOOD_ROWS, "APL 2023": GOOD_ROWS})
    with pytest.raises(DataError, match=r"APL 2019.*années disponibles 2022, 2023"):
        parse_apl(path, year=2019)


def test_header_not_found_names_sheet(tmp_path):
    path = make_workbook(tmp_path / "apl.xlsx", {"APL 2023": GOOD_ROWS}, header_row=35)
    with pytest.raises(
        DataError, match=r"apl.xlsx, feuille « APL 2023 » : ligne d'en-tête introuvable"
    ):
        parse_apl(path)


def test_missing_required_column(tmp_path):
    header = HEADER[:2] + ["Autre chose"] + HEADER[3:]
    path = make_workbook(tmp_path / "apl.xlsx", {"APL 2023": GOOD_ROWS}, header=header)
    with pytest.raises(
        DataError,
        match=r"feuille « APL 2023 », ligne 9 : colonne\(s\) absente\(s\) : « APL aux médecins",
    ):
        parse_apl(path)


def test_few_bad_rows_are_skipped_and_reported(tmp_path, base_dir):
    rows = GOOD_ROWS * 1 + [[f"31{i:03d}", "x", 3.0, 3.0, 100.0, 100] for i in range(1, 40)]
    rows += [
        ["3155", "Mauvais code", 3.0, 3.0, 10.0, 10],
        ["31556", "Texte", "n.c.", 3.0, 10.0, 10],
    ]
    path = make_workbook(tmp_path / "apl.xlsx", {"APL 2023": rows})
    frame, report = parse_apl(path)
    assert len(frame) == len(rows) - 1  # "3155" is padded to 03155 (valid), the text APL is skipped
    assert report.to_dict()["errors"]["count"] == 1
    (message,) = report.to_dict()["errors"]["messages"]
    data_row = 11 + len(rows) - 1  # header row 9, units row 10
    assert (
        message
        == f"feuille « APL 2023 », ligne {data_row} (commune 31556) : APL non numérique « n.c. »"
    )
    assert any("ligne(s) mal formée(s)" in line for line in report.lines())


def test_mostly_bad_rows_are_refused(tmp_path):
    rows = GOOD_ROWS + [
        ["ABCDE", "x", 1, 1, 1, 1],
        ["0912", "x", "abc", 1, 1, 1],
        ["9999999", "x", 1, 1, 1, 1],
    ]
    path = make_workbook(tmp_path / "apl.xlsx", {"APL 2023": rows})
    with pytest.raises(
        DataError,
        match=r"feuille « APL 2023 » : 3 lignes sur 7 sont mal formées.*ligne 15 : code commune « ABCDE » mal formé",
    ):
        parse_apl(path)


def test_duplicate_codes_refused(tmp_path):
    path = make_workbook(
        tmp_path / "apl.xlsx", {"APL 2023": GOOD_ROWS + [["09122", "Foix bis", 1, 1, 1, 1]]}
    )
    with pytest.raises(DataError, match=r"code\(s\) commune en double : 09122 \(lignes 11, 15\)"):
        parse_apl(path)


def test_failed_import_keeps_previous_layer(isolated_data, tmp_path):
    good = make_workbook(tmp_path / "good.xlsx", {"APL 2023": GOOD_ROWS})
    import_apl(good)
    before = store.read_layer("apl")
    meta_before = store.read_meta("apl")
    assert before.set_index("insee").loc["31555", "apl"] == 4.2
    bad = make_workbook(
        tmp_path / "bad.xlsx", {"APL 2023": GOOD_ROWS + [["31555", "dup", 1, 1, 1, 1]]}
    )
    for path, kwargs in ((bad, {}), (good, {"year": 2020})):
        with pytest.raises(DataError):
            import_apl(path, **kwargs)
    (tmp_path / "empty.xlsx").write_bytes(b"")
    with pytest.raises(DataError):
        import_apl(tmp_path / "empty.xlsx")
    pd.testing.assert_frame_equal(store.read_layer("apl"), before)
    assert store.read_meta("apl") == meta_before
    assert sorted(
        p.name for p in isolated_data.iterdir() if p.name.startswith(("apl", ".apl"))
    ) == ["apl.parquet"]


# ----------------------------------------------------------------------------- command line


def _parser():
    from geo.cli.apl import add_commands

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    data = sub.add_parser("data").add_subparsers(dest="data_command", required=True)
    update_sub = data.add_parser("update").add_subparsers(dest="update_command", required=True)
    import_sub = sub.add_parser("import").add_subparsers(dest="import_command", required=True)
    add_commands(sub, update_sub, import_sub)
    return parser


def test_cli_import_apl(isolated_data, tmp_path, capsys):
    path = make_workbook(tmp_path / "apl.xlsx", {"APL 2022": GOOD_ROWS, "APL 2023": GOOD_ROWS[:2]})
    args = _parser().parse_args(["import", "apl", str(path), "--year", "2022", "--json"])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["year"] == 2022 and out["rows"] == 4 and out["meta"]["vintage"] == "APL 2022"
    args = _parser().parse_args(["import", "apl", str(path)])
    assert args.func(args) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("APL 2023") and "%]" in captured.err
    args = _parser().parse_args(["import", "apl", str(path), "--year", "2031"])
    with pytest.raises(DataError, match="années disponibles 2022, 2023"):
        args.func(args)
    assert store.read_meta("apl")["year"] == 2023


# ----------------------------------------------------------------------------- map layer


def test_apl_choropleth_renders_offline(communes):
    from layers.basemap import base_map
    from layers.indicators import APL_PALETTE, apl_choropleth, apl_colour

    ariege = communes[communes["dep"] == "09"]
    codes = ariege["insee"].tolist()
    values = pd.DataFrame(
        {"insee": codes[:-1], "apl": [1.0 + (i % 5) for i in range(len(codes) - 1)]}
    )
    choro = apl_choropleth(ariege, values, "APL 2023 <médecins>")
    assert choro.breaks == [2.5, 3.5, 4.5]
    assert [apl_colour(v) for v in (2.49, 2.5, 3.6, 4.5, None)] == APL_PALETTE[:1] + APL_PALETTE[
        1:
    ] + ["#cccccc"]
    fmap = base_map(tuple(ariege.total_bounds))
    choro.layer.add_to(fmap)
    choro.legend.add_to(fmap)
    html = fmap.get_root().render()
    assert "Pas de valeur" in html and "zone sous-dense" in html
    # The label reaches the page HTML-escaped (inside JSON strings of the script).
    assert "<médecins>" not in html and "<m\\u00e9decins>" not in html
    assert "\\u0026lt;m\\u00e9decins\\u0026gt;" in html
    assert '"apl_txt": "1,00"' in html or '"apl_txt":"1,00"' in html
    for tag in re.findall(r"<(?:script|link)[^>]*>", html):
        assert "http://" not in tag and "https://" not in tag and "cdn" not in tag.lower(), tag
    style = choro.layer.style_function
    first = {"id": codes[0]}
    assert style(first)["fillColor"] == APL_PALETTE[0]
    assert style({"id": codes[-1]})["fillColor"] == "#cccccc"


def test_apl_choropleth_without_layer(communes):
    from layers.indicators import apl_choropleth

    choro = apl_choropleth(communes[communes["dep"] == "09"].head(5), None, "APL")
    assert choro.legend.html.count("Pas de valeur") == 1


def test_former_communes_folded_into_commune_nouvelle(isolated_data, tmp_path, communes):
    from geo.sources.population import update_population

    assert "09999" not in set(communes["insee"])
    doc = [
        {
            "code": "09122",
            "nom": "Foix",
            "type": "commune-actuelle",
            "population": 10000,
            "departement": "09",
            "region": "76",
            "anciensCodes": ["09999"],
        }
    ]
    (tmp_path / "communes.json").write_text(json.dumps(doc), encoding="utf-8")
    update_population(tmp_path / "communes.json", vintage=2026)
    rows = [
        ["09122", "Foix", 3.0, 2.0, 1000.0, 1100],
        ["09999", "Ancienne", 1.0, 1.0, 3000.0, 2900],
        ["31555", "Toulouse", 4.2, 3.9, 470000.0, 480000],
    ]
    path = make_workbook(tmp_path / "apl.xlsx", {"APL 2023": rows})
    frame, report = parse_apl(path)
    foix = frame.set_index("insee").loc["09122"]
    assert foix["apl"] == pytest.approx((3.0 * 1000 + 1.0 * 3000) / 4000)
    assert foix["apl_under65"] == pytest.approx((2.0 * 1000 + 1.0 * 3000) / 4000)
    assert (foix["std_pop"], foix["total_pop"]) == (4000.0, 4000.0)
    assert (
        "09999" not in set(frame["insee"])
        and report.to_dict()["communes_not_in_base"]["count"] == 0
    )
    assert report.to_dict()["former_communes_merged"] == {"09122": ["09999"]}
    assert any("09122 ← 09999" in line for line in report.lines())
