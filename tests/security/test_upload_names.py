"""Uploads are stored under generated names; the user's file name only lives in messages and provenance
(issue #9, §4).

``ui.data_import.store_upload`` writes an upload as ``upload-<uuid>.<extension>``
in a private folder whatever its name (300 characters, ``/``, ``..``, NUL,
control characters, Markdown); ``import_upload`` runs a real importer on it and
puts the user's name back in the messages, the report and the layer's provenance.
"""

from __future__ import annotations

import json
import re

import pytest

from geo.errors import DataError
from geo.sources.registry import IMPORTERS
from geo.store import layers as store
from geo.store.paths import data_dir
from ui.data_import import import_upload, original_name, store_upload

GENERATED = re.compile(r"upload-[0-9a-f]{32}\.(csv|txt)")

AWKWARD_NAMES = [
    "f" * 296 + ".csv",  # 300 characters: longer than a file name may be (255 bytes)
    "é" * 200 + ".csv",  # 400 bytes in UTF-8
    "../../../etc/finess.csv",
    "/etc/passwd.csv",
    "dossier/sous-dossier/finess.csv",
    "..\\..\\windows\\finess.csv",
    "fi\x00ness.csv",
    "fi\nne\rss\t\x1b[31mrouge.csv",
    "\u202evsc.finess.csv",  # right-to-left override
    ".csv",
    "..csv",
    "CON.csv",
    "finess.CSV",
    "![i](http://127.0.0.1:9/x.png).csv",
    "<script>alert(1)</script>.txt",
]


@pytest.mark.parametrize("name", AWKWARD_NAMES)
def test_an_upload_is_stored_under_a_generated_name(name, tmp_path):
    path = store_upload(name, b"contenu\n", tmp_path, ("csv", "txt"))
    assert path.parent == tmp_path
    assert GENERATED.fullmatch(path.name), path.name
    assert path.read_bytes() == b"contenu\n"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # nothing else written, nowhere else


def test_two_uploads_with_the_same_name_do_not_collide(tmp_path):
    first = store_upload("finess.csv", b"1", tmp_path, ("csv",))
    second = store_upload("finess.csv", b"2", tmp_path, ("csv",))
    assert first != second and first.read_bytes() == b"1" and second.read_bytes() == b"2"


@pytest.mark.parametrize(
    "name", ["finess.exe", "finess", "finess.csv.exe", "finess.csv/", "finess.csv\x00.sh"]
)
def test_an_extension_outside_the_importer_s_is_refused(name, tmp_path):
    with pytest.raises(DataError) as info:
        store_upload(name, b"x", tmp_path, ("csv", "txt"))
    message = str(info.value)
    assert original_name(name) in message and "extension" in message
    assert list(tmp_path.iterdir()) == []


def test_original_name_keeps_what_the_user_sees():
    assert original_name("../a/b.csv") == "../a/b.csv"
    assert original_name("fi\x00ne\nss.csv") == "finess.csv"
    assert original_name("\u202evsc.csv") == "vsc.csv"
    assert original_name("") == "fichier sans nom"
    long = original_name("x" * 2000 + ".csv")
    assert len(long) == 500 and long.endswith("…")


@pytest.fixture
def finess_ariege(shared_data) -> bytes:
    """The manifest line and the structure / location lines of Ariège (09) of the Occitanie extraction."""
    lines = (
        (shared_data / "finess" / "etalab-cs1100507-occitanie.csv")
        .read_bytes()
        .splitlines(keepends=True)
    )
    kept = [lines[0]]
    numbers = set()
    for line in lines[1:]:
        fields = line.split(b";")
        if fields[0] == b"structureet" and fields[13] == b"09":
            numbers.add(fields[1])
            kept.append(line)
    kept += [
        line
        for line in lines[1:]
        if line.startswith(b"geolocalisation;") and line.split(b";")[1] in numbers
    ]
    assert len(numbers) > 20
    return b"".join(kept)


def _uploads_left() -> list:
    folder = data_dir() / "uploads"
    return [p for p in folder.rglob("*")] if folder.exists() else []


@pytest.mark.parametrize(
    "name",
    [
        "F" * 296 + ".csv",
        "../../etc/etalab-cs1100507 ariège.csv",
        "fi\x00chier\n\x07finess.txt",
        "![i](http://127.0.0.1:9/x.png) :red[x] $x$.csv",
    ],
)
def test_import_keeps_the_user_s_file_name_in_provenance(name, finess_ariege, isolated_data):
    said = []
    report, lines = import_upload(
        IMPORTERS["finess"],
        name,
        finess_ariege,
        progress=lambda fraction, message="": said.append(message),
    )
    shown = original_name(name)
    meta = store.read_meta("finess")
    assert meta["origin_file"] == shown
    assert report.to_dict()["msp"] > 0 and meta["rows"] > 20
    assert any(shown in message for message in said)  # « Lecture du fichier FINESS <name>… »
    everything = json.dumps([meta, report.to_dict(), lines, said], ensure_ascii=False)
    assert "upload-" not in everything  # the generated name never shows
    assert _uploads_left() == []  # the stored copy is removed


def test_a_refused_import_names_the_user_s_file(finess_ariege, isolated_data):
    import_upload(IMPORTERS["finess"], "bon.csv", finess_ariege)
    before = store.read_meta("finess")
    name = "../mauvais [x](javascript:alert(1)).csv"
    with pytest.raises(DataError) as info:
        import_upload(IMPORTERS["finess"], name, b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    message = str(info.value)
    assert name in message and "upload-" not in message
    assert store.read_meta("finess") == before  # the previous layer stays
    assert _uploads_left() == []


def test_an_invalid_year_is_refused_before_anything_is_stored(isolated_data):
    with pytest.raises(DataError, match="Année invalide"):
        import_upload(IMPORTERS["apl"], "apl.xlsx", b"PK", options={"year": "2O23"})
    assert _uploads_left() == []
