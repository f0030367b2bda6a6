"""geo.sources.tabular: reading user tables (CSV with any separator/encoding, XLSX) with French errors.

Every input file here is a test fixture written by the test in tmp_path.
"""

import re

import openpyxl
import pytest

from geo.errors import DataError
from geo.sources.tabular import decode_text, first_items, is_binary, normalise_code, read_table

COLUMNS = {"code_insee": ("insee", "code commune"), "classe": ("classe irdes",)}
OPTIONAL = {"nom": ("libellé", "commune")}


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def read(path, **kwargs):
    return read_table(path, "de test", COLUMNS, kwargs.pop("optional", OPTIONAL), **kwargs)


@pytest.mark.parametrize("sep", [";", ",", "\t", "|"])
def test_separators(tmp_path, sep):
    path = write(
        tmp_path,
        "t.csv",
        f"code_insee{sep}classe{sep}nom\n09122{sep}1{sep}Foix\n31555{sep}5{sep}Toulouse\n",
    )
    frame = read(path)
    assert frame.to_dict("records") == [
        {"code_insee": "09122", "classe": "1", "nom": "Foix", "_line": 2},
        {"code_insee": "31555", "classe": "5", "nom": "Toulouse", "_line": 3},
    ]


def test_bom_and_header_spellings(tmp_path):
    # UTF-8 with BOM, CRLF, accented and spaced header names matched through their aliases.
    text = "\ufeffCode Commune;Classe Irdes;Libellé\r\n09225;2;Montgaillard\r\n"
    frame = read(write(tmp_path, "t.csv", text.encode("utf-8")))
    assert frame.loc[0, "code_insee"] == "09225" and frame.loc[0, "classe"] == "2"
    assert frame.loc[0, "nom"] == "Montgaillard"


def test_cp1252(tmp_path):
    data = "insee;classe;commune\n09029;3;Bénac\n09030;3;Bénaix\n".encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    frame = read(write(tmp_path, "t.csv", data))
    assert list(frame["nom"]) == ["Bénac", "Bénaix"]


def test_utf16_excel_unicode_text(tmp_path):
    # Excel's « Texte Unicode » export: UTF-16 with BOM, tab-separated.
    data = "code_insee\tclasse\r\n09122\t1\r\n".encode("utf-16")
    assert not is_binary(data)
    frame = read(write(tmp_path, "t.txt", data))
    assert frame.loc[0, "code_insee"] == "09122"


def test_xlsx(tmp_path):
    path = tmp_path / "t.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Code INSEE", "Classe", "Commune"])
    ws.append([9122, 1.0, "Foix"])  # numbers as a spreadsheet stores them
    ws.append([None, None, None])  # empty row: skipped
    ws.append(["2A004", 3, "Ajaccio"])
    wb.save(path)
    frame = read(path)
    assert frame.to_dict("records") == [
        {"code_insee": "9122", "classe": "1", "nom": "Foix", "_line": 2},
        {"code_insee": "2A004", "classe": "3", "nom": "Ajaccio", "_line": 4},
    ]
    assert normalise_code(frame.loc[0, "code_insee"]) == "09122"


def test_not_an_xlsx(tmp_path):
    path = write(tmp_path, "t.xlsx", "code_insee;classe\n09122;1\n")
    with pytest.raises(DataError, match="t.xlsx n'est pas un classeur Excel XLSX"):
        read(path)


def test_old_xls(tmp_path):
    path = write(tmp_path, "t.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    with pytest.raises(DataError, match=r"Excel 97-2003 \(\.xls\).*XLSX ou CSV"):
        read(path)


def test_missing_column_names_found_columns(tmp_path):
    path = write(tmp_path, "t.csv", "code_insee;categorie\n09122;1\n")
    with pytest.raises(DataError) as err:
        read(path)
    msg = str(err.value)
    assert "t.csv, ligne 1" in msg and "« classe »" in msg and "« categorie »" in msg


def test_unknown_separator_hint(tmp_path):
    path = write(tmp_path, "t.csv", "code_insee:classe\n09122:1\n")
    with pytest.raises(DataError, match="séparateur n'est peut-être pas reconnu"):
        read(path)


def test_truncated_and_long_lines(tmp_path):
    path = write(tmp_path, "t.csv", "code_insee;classe\n09122;1\n\n09225\n")
    with pytest.raises(
        DataError, match=r"t.csv, ligne 4 : ligne tronquée \(1 champ\(s\) au lieu de 2\)"
    ):
        read(path)
    path = write(tmp_path, "u.csv", "code_insee;classe\n09122;1;en trop\n")
    with pytest.raises(DataError, match=r"u.csv, ligne 2 : 3 champs au lieu de 2"):
        read(path)
    # empty trailing fields (a spreadsheet's stray separators) are harmless
    assert len(read(write(tmp_path, "v.csv", "code_insee;classe\n09122;1;;\n"))) == 1


def test_quotes_and_line_numbers(tmp_path):
    # A quoted field spanning two lines: the next record is on line 4 of the file.
    path = write(
        tmp_path, "t.csv", 'code_insee;classe;nom\n09122;1;"Foix\n(préfecture)"\n09225;2;M\n'
    )
    frame = read(path)
    assert list(frame["_line"]) == [2, 4]
    assert frame.loc[0, "nom"] == "Foix\n(préfecture)"
    path = write(tmp_path, "u.csv", 'code_insee;classe;nom\n09122;1;Foix\n09225;2;"Montgaillard\n')
    with pytest.raises(DataError, match=r"u.csv, ligne 3 : .*guillemet"):
        read(path)


@pytest.mark.parametrize(
    "data, expected",
    [
        (b"", "est vide (0 octet)"),
        (b"\n  \n", "est vide (aucune donnée)"),
        (b"\xef\xbb\xbf", "est vide"),
        (b"code_insee;classe\n", "ne contient qu'une ligne d'en-tête"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "fichier binaire"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "fichier binaire"),
    ],
)
def test_empty_and_binary(tmp_path, data, expected):
    path = write(tmp_path, "t.csv", data)
    with pytest.raises(DataError, match=re.escape(expected)) as err:
        read(path)
    assert "t.csv" in str(err.value)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(DataError, match="introuvable"):
        read(tmp_path / "absent.csv")
    with pytest.raises(DataError, match="est un dossier"):
        read(tmp_path)


def test_decode_text():
    assert decode_text("é".encode("utf-8")) == "é"
    assert decode_text("é".encode("cp1252")) == "é"
    assert decode_text("\ufeffa".encode("utf-8")) == "a"


@pytest.mark.parametrize(
    "value, expected",
    [
        ("09122", "09122"),
        ("9122", "09122"),
        (9122, "09122"),
        (9122.0, "09122"),
        ("9122.0", "09122"),
        (" 2a004 ", "2A004"),
        ("2B033", "2B033"),
        ("97411", "97411"),
        ("123", None),
        ("ABCDE", None),
        ("", None),
        (None, None),
        (float("nan"), None),
        (True, None),
        (9122.5, None),
        ("123456", None),
    ],
)
def test_normalise_code(value, expected):
    assert normalise_code(value) == expected


def test_first_items():
    assert first_items(["a", "b"]) == "a, b"
    assert first_items(range(13), limit=3) == "0, 1, 2 (et 10 autre(s))"
