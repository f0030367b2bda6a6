"""Readers of user files (FINESS, APL, typology tables, communes.json): size cap, XLSX archive checks,
encoding rule, strict JSON. Every refusal is a French DataError naming the file, never another exception."""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from geo.errors import DataError
from geo.sources import limits
from geo.sources.apl import import_apl
from geo.sources.finess import import_finess
from geo.sources.population import update_population
from geo.sources.tabular import decode_text, read_table
from geo.sources.typology import import_typology

REPO = Path(__file__).resolve().parents[2]
SHEET = "xl/worksheets/sheet1.xml"
APL_HEADER = [
    "Code commune INSEE",
    "Commune",
    "APL aux médecins généralistes",
    "APL aux médecins généralistes de moins de 65 ans",
    "Population standardisée 2023 pour la médecine générale",
    "Population totale 2023",
]


def run_cli(args, data_dir, memory_limit=None, timeout=300):
    """``python -m geo ARGS`` in a child process (optionally under an address-space limit);
    returns (exit code, stderr, bytes the child read according to /proc/self/io)."""
    code = [
        "import resource, sys",
        f"limit = {memory_limit!r}",
        "if limit: resource.setrlimit(resource.RLIMIT_AS, (limit, limit))",
        "from geo.cli import main",
        f"rc = main({list(args)!r})",
        "io = dict(l.split(': ') for l in open('/proc/self/io').read().splitlines())",
        "print('RCHAR', io['rchar'], file=sys.stderr)",
        "sys.exit(rc)",
    ]
    env = {**os.environ, "CARTOCPTS_DATA_DIR": str(data_dir)}
    proc = subprocess.run(
        [sys.executable, "-c", "\n".join(code)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    rchar = next(
        (int(line.split()[1]) for line in proc.stderr.splitlines() if line.startswith("RCHAR ")),
        None,
    )
    return proc.returncode, proc.stderr, rchar


def make_xlsx(path: Path, rows, title="Feuille1") -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def replace_member(path: Path, member: str, content=None, writer=None) -> Path:
    """Rewrite the archive ``path`` with ``member`` replaced by ``content`` (or written by ``writer(handle)``)."""
    source = zipfile.ZipFile(path)
    parts = {info.filename: source.read(info) for info in source.infolist()}
    source.close()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in parts.items():
            if name != member:
                out.writestr(name, data)
        if writer is None:
            out.writestr(member, content)
        else:
            with out.open(member, "w", force_zip64=True) as handle:
                writer(handle)
    return path


def typology_xlsx(tmp_path, name="typo.xlsx") -> Path:
    return make_xlsx(tmp_path / name, [["code_insee", "classe"], ["31555", 5], ["09122", 2]])


def apl_xlsx(tmp_path, name="apl.xlsx") -> Path:
    return make_xlsx(
        tmp_path / name, [APL_HEADER, ["31555", "Toulouse", 4.2, 4.0, 500000, 498000]], "APL 2023"
    )


# --------------------------------------------------------------------------- 1. size cap


def test_cli_refuses_dev_zero_reading_at_most_the_cap(isolated_data):
    rc, err, rchar = run_cli(["import", "finess", "/dev/zero"], isolated_data)
    assert rc == 2, err
    assert "Erreur : Le fichier FINESS zero dépasse 200 Mo : fichier refusé." in err
    assert "Erreur inattendue" not in err and "Traceback" not in err
    # The cap plus one byte, plus what the interpreter reads to import its modules.
    assert limits.MAX_FILE_BYTES < rchar < limits.MAX_FILE_BYTES + 150 * 1024 * 1024


@pytest.fixture
def sparse_201mb(tmp_path) -> Path:
    path = tmp_path / "enorme.csv"
    subprocess.run(["truncate", "-s", "201M", str(path)], check=True)
    assert path.stat().st_size == 201 * 1024 * 1024
    return path


def test_cli_refuses_sparse_201mb_file_without_reading_it(isolated_data, sparse_201mb):
    rc, err, rchar = run_cli(["import", "finess", str(sparse_201mb)], isolated_data)
    assert rc == 2, err
    assert "Le fichier FINESS enorme.csv est trop gros (201 Mo) : 200 Mo au plus." in err
    assert rchar < 150 * 1024 * 1024  # refused from its size: its 201 Mo were not read


@pytest.mark.parametrize(
    "importer",
    [
        import_finess,
        import_apl,
        import_typology,
        lambda path: update_population(path, vintage=2026),
    ],
)
def test_every_importer_refuses_an_oversized_file(isolated_data, sparse_201mb, importer):
    with pytest.raises(DataError, match=r"enorme\.csv est trop gros \(201 Mo\) : 200 Mo au plus"):
        importer(sparse_201mb)


# --------------------------------------------------------------------------- 2. XLSX archives


def _write_zeros(total):
    def writer(handle):
        handle.write(
            b'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="http://schemas.openxmlformats.org/'
            b'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>'
        )
        chunk = b"0" * (1024 * 1024)
        for _ in range(total // len(chunk)):
            handle.write(chunk)
        handle.write(b"</t></is></c></row></sheetData></worksheet>")

    return writer


@pytest.mark.parametrize("command", ["apl", "typology"])
def test_zip_bomb_workbook_refused_under_a_memory_limit(isolated_data, tmp_path, command):
    bomb = replace_member(
        typology_xlsx(tmp_path, "bombe.xlsx"), SHEET, writer=_write_zeros(300 * 1024 * 1024)
    )
    assert bomb.stat().st_size < 2 * 1024 * 1024
    rc, err, _ = run_cli(
        ["import", command, str(bomb)], isolated_data, memory_limit=1536 * 1024 * 1024
    )
    assert rc == 2, err
    assert f"bombe.xlsx : l'élément {SHEET} est compressé" in err
    assert "fichier refusé (archive piégée ?)" in err


def test_declared_uncompressed_size_over_limit_refused(tmp_path):
    path = replace_member(
        typology_xlsx(tmp_path), SHEET, writer=_write_zeros(limits.MAX_UNCOMPRESSED_BYTES + 1)
    )
    with pytest.raises(
        DataError, match=r"typo\.xlsx occupe 500 Mo une fois décompressé \(500 Mo au plus\)"
    ):
        import_typology(path)


def test_too_many_members_refused(tmp_path):
    path = typology_xlsx(tmp_path)
    with zipfile.ZipFile(path, "a") as archive:
        for i in range(limits.MAX_ZIP_MEMBERS):
            archive.writestr(f"xl/media/vide{i}.txt", b"")
    with pytest.raises(DataError, match=r"typo\.xlsx contient plus de 2\u202f000 éléments"):
        read_table(path, "typologie", {"classe": ()})


BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    + b']>\n<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    + b'<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>'
)
XXE = (
    b'<?xml version="1.0"?>\n<!DOCTYPE w [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c></row></sheetData></worksheet>'
)


@pytest.mark.parametrize(
    "payload",
    [
        BILLION_LAUGHS,
        XXE,
        XXE.decode()
        .replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>')
        .encode("utf-16"),
        b"<!-- "
        + os.urandom(1536 * 1024).hex().encode()
        + b" -->"
        + XXE.split(b"\n", 1)[1],  # DTD 3 Mo in
    ],
    ids=["billion-laughs", "xxe", "xxe-utf16", "xxe-after-long-comment"],
)
@pytest.mark.parametrize("reader", ["apl", "table"])
def test_dtd_and_entities_refused(isolated_data, tmp_path, payload, reader):
    if reader == "apl":
        path = replace_member(apl_xlsx(tmp_path), SHEET, payload)
        call = lambda: import_apl(path)  # noqa: E731
    else:
        path = replace_member(typology_xlsx(tmp_path), SHEET, payload)
        call = lambda: read_table(path, "typologie", {"classe": ()})  # noqa: E731
    with pytest.raises(
        DataError, match=rf"{path.name} : l'élément {SHEET} contient une déclaration DTD"
    ):
        call()


def test_exotic_xml_encoding_refused(tmp_path):
    payload = b'<?xml version="1.0" encoding="cp500"?>\n<worksheet/>'
    path = replace_member(typology_xlsx(tmp_path), SHEET, payload)
    with pytest.raises(DataError, match=r"encodé en « cp500 » \(UTF-8 attendu\)"):
        import_typology(path)


@pytest.mark.parametrize(
    "member,payload",
    [
        (
            SHEET,
            b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>code_insee</t></is></c>',
        ),
        ("xl/workbook.xml", b"<workbook><sheets><sheet name="),
    ],
)
def test_malformed_xml_is_a_french_error_naming_the_file(isolated_data, tmp_path, member, payload):
    table = replace_member(typology_xlsx(tmp_path), member, payload)
    apl = replace_member(apl_xlsx(tmp_path), member, payload)
    with pytest.raises(
        DataError,
        match=r"Le fichier typo\.xlsx n'est pas un classeur Excel XLSX lisible "
        r"\(typologie Irdes\) : XML mal formé \(ligne \d+, colonne \d+",
    ):
        import_typology(table)
    with pytest.raises(
        DataError,
        match=r"Le fichier apl\.xlsx n'est pas un classeur Excel XLSX lisible "
        r"\(APL de la DREES\) : XML mal formé",
    ):
        import_apl(apl)


def test_corrupt_zip_and_crc_refused(isolated_data, tmp_path):
    broken = tmp_path / "casse.xlsx"
    broken.write_bytes(b"PK\x03\x04" + os.urandom(2000))
    with pytest.raises(
        DataError, match=r"casse\.xlsx n'est pas un classeur Excel XLSX lisible \(archive ZIP"
    ):
        import_typology(broken)
    with pytest.raises(
        DataError, match=r"casse\.xlsx n'est pas un classeur Excel XLSX lisible \(archive ZIP"
    ):
        import_apl(broken)
    # One flipped byte inside the compressed sheet: the CRC (or the inflate stream) is wrong.
    good = typology_xlsx(tmp_path)
    data = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as archive:
        info = archive.getinfo(SHEET)
    start = (
        info.header_offset
        + 30
        + len(info.filename.encode())
        + len(info.extra)
        + info.compress_size // 2
    )
    data[start] ^= 0xFF
    good.write_bytes(bytes(data))
    with pytest.raises(
        DataError, match=rf"typo\.xlsx est corrompu : l'élément {SHEET} est illisible"
    ):
        import_typology(good)


def test_row_cap_refuses_an_oversized_sheet(isolated_data, tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_SHEET_ROWS", 50)
    path = make_xlsx(tmp_path / "long.xlsx", [["code_insee", "classe"]] + [["31555", 5]] * 60)
    with pytest.raises(DataError, match=r"long\.xlsx, feuille « Feuille1 » : plus de 50 lignes"):
        import_typology(path)
    apl = make_xlsx(
        tmp_path / "apl_long.xlsx", [APL_HEADER] + [["31555", "T", 1, 1, 1, 1]] * 60, "APL 2023"
    )
    with pytest.raises(
        DataError, match=r"apl_long\.xlsx, feuille « APL 2023 » : plus de 50 lignes \(APL\)"
    ):
        import_apl(apl)


def test_forged_dimensions_do_not_pad_rows(tmp_path, monkeypatch):
    """A sheet declaring A1:XFD1048576 with a cell in column XFD: rows are not padded, the cell cap holds."""
    sheet = (
        b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<dimension ref="A1:XFD1048576"/><sheetData>'
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>code_insee</t></is></c>'
        b'<c r="B1" t="inlineStr"><is><t>classe</t></is></c></row>'
        b'<row r="2"><c r="A2" t="inlineStr"><is><t>31555</t></is></c><c r="B2"><v>5</v></c></row>'
        b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData></worksheet>'
    )
    path = replace_member(typology_xlsx(tmp_path), SHEET, sheet)
    table = read_table(path, "typologie", {"classe": ()}, {"code_insee": ()})
    assert table.to_dict("records") == [
        {"classe": "5", "code_insee": "31555", "_line": 2},
        {"classe": "", "code_insee": "", "_line": 1048576},
    ]
    monkeypatch.setattr(limits, "MAX_SHEET_CELLS", 10_000)
    with pytest.raises(
        DataError, match=r"typo\.xlsx, feuille « Feuille1 » : plus de 10\u202f000 cellules"
    ):
        read_table(path, "typologie", {"classe": ()})


def test_real_apl_workbook_passes_the_archive_checks(shared_data):
    data = (shared_data / "apl" / "apl_generalistes_drees_2022_2023.xlsx").read_bytes()
    limits.check_xlsx(data, "apl.xlsx", "APL")  # no exception: a genuine workbook is accepted


# --------------------------------------------------------------------------- 3. encoding rule


def test_decode_rule():
    assert decode_text("ÉCOLE;été\n".encode("utf-8")) == "ÉCOLE;été\n"
    assert decode_text("\ufeffÉCOLE\n".encode("utf-8")) == "ÉCOLE\n"
    assert decode_text("ÉCOLE;été\n".encode("cp1252")) == "ÉCOLE;été\n"
    assert decode_text("ÉCOLE;été\n".encode("utf-16")) == "ÉCOLE;été\n"
    # A Windows-1252 file where « Â » + non-breaking space happen to form one UTF-8 sequence.
    text = "PRIX Â\xa0: été, côté, à, où, ÉCOLE\n"
    assert decode_text(text.encode("cp1252")) == text
    # A multi-byte sequence cut by the end of a sniffed prefix.
    assert decode_text("été".encode("utf-8")[:-1]) == "ét\ufffd"


def test_utf8_with_one_stray_byte_is_refused_with_its_line():
    data = (
        "code;nom\n31555;Toulouse\n".encode("utf-8")
        + b"09122;\xc9COLE\n"
        + "31000;Hôpital\n".encode("utf-8")
    )
    with pytest.raises(
        DataError,
        match=r"Le fichier CPTS liste\.csv, ligne 3 : encodage incohérent, le fichier est "
        r"en UTF-8 mais contient 1 octet\(s\) invalide\(s\)",
    ):
        decode_text(data, "liste.csv", "CPTS")
    # With a UTF-8 BOM, even a file whose only other non-ASCII byte is invalid is UTF-8 damaged.
    with pytest.raises(DataError, match=r"ligne 2 : encodage incohérent"):
        decode_text(b"\xef\xbb\xbfcode\n\xc9COLE\n")


def test_damaged_utf8_refused_by_importers(isolated_data, tmp_path):
    typo = tmp_path / "typo.csv"
    typo.write_bytes(
        "code_insee;classe\n31555;5\n".encode("utf-8") + b"09122;2 \xe9\n" + "# Hôpital\n".encode()
    )
    with pytest.raises(
        DataError, match=r"Le fichier typologie Irdes typo\.csv, ligne 3 : encodage incohérent"
    ):
        import_typology(typo)
    finess = tmp_path / "finess.csv"
    finess.write_bytes(
        "finess;etalab;0;2026-01-01\nstructureet;é\n".encode("utf-8") + b"structureet;\xe9\n"
    )
    with pytest.raises(
        DataError, match=r"Le fichier FINESS finess\.csv, ligne 3 : encodage incohérent"
    ):
        import_finess(finess)


def test_real_finess_sample_still_windows_1252(shared_data):
    data = (shared_data / "finess" / "etalab-cs1100507-occitanie.csv").read_bytes()
    text = decode_text(data, "etalab.csv", "FINESS")
    assert "\ufffd" not in text
    assert "Maison de santé" in text or "MAISON DE SANTE" in text.upper()
    assert "é" in text and "Ã" not in text


# --------------------------------------------------------------------------- 4. population JSON


@pytest.mark.parametrize(
    "content,match",
    [
        (
            b"[" * 5000 + b"]" * 5000,
            r"communes\.json : le fichier JSON est imbriqué sur plus de 64 niveaux",
        ),
        (b'{"communes": 5}', r"communes\.json : forme inattendue"),
        (b"12", r"communes\.json : forme inattendue \(int\)"),
        (b"[1, 2]", r"communes\.json, entrée n° 0 : un objet JSON était attendu, trouvé int"),
        (
            b'[{"code": "01001", "population": NaN}]',
            r"communes\.json : JSON refusé \(valeur non finie NaN",
        ),
        (
            b'[{"code": "01001", "population": 1e999}]',
            r"communes\.json : JSON refusé \(nombre hors limites",
        ),
        (
            b'[{"code": "01001", "population": 1e300}]',
            r"entrée n° 0 \(commune 01001\) : population « 1e\+300 » invalide",
        ),
        (
            b'[{"code": "01001", "population": 10, "type": ["commune-actuelle"]}]',
            r"entrée n° 0 : champ « type » invalide",
        ),
        (
            b'[{"code": {"a": 1}, "population": 10}]',
            r"entrée n° 0 : champ « code » invalide \(dict",
        ),
        (
            b'[{"code": "01001", "population": 10, "nom": ["x"]}]',
            r"entrée n° 0 : champ « nom » invalide \(list",
        ),
        (
            b'{"millesime": {"a": 1}, "communes": [{"code": "01001", "population": 10}]}',
            r"millésime .* invalide",
        ),
        (b'{"features": [{"properties": 3}]}', r"entrée n° 0 : un objet JSON était attendu"),
    ],
)
def test_population_json_shapes(isolated_data, tmp_path, content, match):
    path = tmp_path / "communes.json"
    path.write_bytes(content)
    with pytest.raises(DataError, match=match):
        update_population(path, vintage=None)


def test_malformed_sibling_epci_is_ignored(isolated_data, tmp_path):
    (tmp_path / "communes.json").write_text(
        json.dumps([{"code": "31555", "nom": "Toulouse", "population": 5}])
    )
    for bad in (
        '[{"code": "243100518", "membres": 5}, 3, {"membres": [{"code": ["x"]}]}]',
        "[[[[",
        '{"a": 1}',
    ):
        (tmp_path / "epci.json").write_text(bad)
        report = update_population(tmp_path / "communes.json", vintage=2026)
        assert report.to_dict()["rows"] == 1
    (tmp_path / "epci.json").write_text(
        json.dumps([{"code": "243100518", "membres": [{"code": "31555"}]}])
    )
    update_population(tmp_path / "communes.json", vintage=2026)
    from geo.store import layers as store

    assert list(store.read_layer("population")["epci"]) == ["243100518"]
