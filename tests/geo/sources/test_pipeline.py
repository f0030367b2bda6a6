"""The one import pipeline (geo.sources.pipeline) on real files: every importer returns the one Report,
refuses too many bad rows by the same rule, names the user's file in its provenance, and folds the
arrondissements of Paris, Lyon and Marseille the same way.

Real inputs: the FINESS Occitanie extraction, the DREES APL workbook and communes.json of ../shared/data;
typology and CPTS files are made from the commune base, as in their own tests.
"""

from __future__ import annotations

import pandas as pd
import pytest

from geo.errors import DataError
from geo.sources.apl import parse_apl
from geo.sources.codes import ARRONDISSEMENTS, fold_arrondissements
from geo.sources.cpts import parse_cpts
from geo.sources.finess import insee_codes, parse_finess
from geo.sources.pipeline import MAX_BAD_SHARE, Report, check_bad_rows
from geo.sources.registry import IMPORTERS
from geo.sources.typology import parse_typology
from geo.store import layers as store
from tests.geo.sources.test_apl import GOOD_ROWS, make_workbook

FINESS = "finess/etalab-cs1100507-occitanie.csv"
APL = "apl/apl_generalistes_drees_2022_2023.xlsx"
COG = "cog/communes.json"
# The refusal message of the one bad-row rule: the file named, both counts, the share.
REFUSED = (
    r"{name}(, feuille « [^»]+ »)? : \d+ lignes sur \d+ sont mal formées ou ignorées "
    r"\(plus de 10 %\), fichier refusé"
)


def _ariege(communes) -> pd.DataFrame:
    return communes[communes["dep"] == "09"].sort_values("insee")


def _typology_file(folder, communes):
    path = folder / "typologie.csv"
    path.write_text(
        "code_insee;classe\n"
        + "".join(f"{c};{int(c[-2:]) % 6 + 1}\n" for c in _ariege(communes)["insee"]),
        encoding="utf-8",
    )
    return path


def _cpts_file(folder, communes, unknown: int = 0):
    """Two CPTS of Ariège communes (by EPCI), and ``unknown`` lines with codes the base does not know."""
    ariege = _ariege(communes)
    epcis = sorted(ariege["epci"].dropna().unique())[:2]
    lines = ["cpts_id;cpts_nom;code_insee;statut"]
    for i, epci in enumerate(epcis):
        lines += [
            f"C{i};CPTS {epci};{code};en projet"
            for code in ariege.loc[ariege["epci"] == epci, "insee"]
        ]
    lines += [f"C0;CPTS {epcis[0]};09{900 + i};en projet" for i in range(unknown)]
    path = folder / ("cpts.csv" if not unknown else "cpts-inconnus.csv")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, len(lines) - 1


@pytest.fixture
def inputs(shared_data, communes, tmp_path):
    """(importer name, path, options) for every importer, on real or base-made files."""
    return [
        ("finess", shared_data / FINESS, {}),
        ("apl", shared_data / APL, {"year": 2023}),
        ("population", shared_data / COG, {"vintage": "2026"}),
        ("typology", _typology_file(tmp_path, communes), {}),
        ("cpts", _cpts_file(tmp_path, communes)[0], {"vintage": "2024"}),
    ]


def test_every_importer_returns_the_one_report(isolated_data, inputs):
    for name, path, options in inputs:
        importer = IMPORTERS[name]
        shown = f"Mon fichier {name} (copie).{path.suffix[1:]}"
        said = []
        report = importer.run(
            path,
            progress=lambda f, m="", said=said: said.append((f, m)),
            display_name=shown,
            **options,
        )
        assert type(report) is importer.report and isinstance(report, Report), name
        assert report.rows > 0 and report.error_count >= len(report.errors), name
        assert report.file == shown, name
        out = report.to_dict()
        if "errors" in out:
            assert set(out["errors"]) == {"count", "messages"}, name
            assert out["errors"]["count"] == report.error_count, name
        lines = report.lines()
        assert lines and all(isinstance(line, str) and line for line in lines), name
        assert (
            said[0][0] == 0.05
            and said[0][1].startswith("Lecture du fichier ")
            and shown in said[0][1]
        ), name
        assert said[-1] == (1.0, f"Import terminé : {lines[0]}"), name
        # Provenance: the user's name of the file, under one member, and the date of the import.
        meta = store.read_meta(name)
        assert meta == report.meta | {"rows": meta["rows"]} and meta["imported_at"], name
        # (« origin » of the populations is where they were read from: a file's name or the API's URL.)
        named = [key for key, value in meta.items() if value == shown and key != "origin"]
        assert len(named) == 1 and "upload-" not in str(meta), (name, named)


def test_the_same_rule_refuses_too_many_bad_rows(isolated_data, shared_data, communes, tmp_path):
    # FINESS: the manifest and 200 MSP, centres or CPTS seats of the real extraction, then malformed lines
    # past a tenth of them.
    lines = (shared_data / FINESS).read_bytes().splitlines(keepends=True)
    head = (
        lines[:1]
        + [line for line in lines if line.split(b";")[18:19] in ([b"603"], [b"124"], [b"604"])][
            :200
        ]
    )
    finess = tmp_path / "finess-abîmé.csv"
    finess.write_bytes(b"".join(head) + b"structureet;1;2;3\r\n" * 25)
    # APL: DREES-shaped workbook whose rows are a tenth and more malformed.
    rows = GOOD_ROWS * 1 + [[f"31{i:03d}", "x", 3.0, 3.0, 100.0, 100] for i in range(1, 17)]
    apl = make_workbook(
        tmp_path / "apl-abîmé.xlsx", {"APL 2023": rows + [["ABCDE", "x", 1, 1, 1, 1]] * 3}
    )
    # CPTS: commune list where a tenth and more of the lines name a commune the base does not know.
    cpts, members = _cpts_file(tmp_path, communes, unknown=30)
    assert 30 > MAX_BAD_SHARE * members
    cases = [("finess", finess, parse_finess), ("apl", apl, parse_apl), ("cpts", cpts, parse_cpts)]
    for name, path, parse in cases:
        with pytest.raises(DataError, match=REFUSED.format(name=path.name)) as info:
            parse(path)
        assert "Premières erreurs" in str(info.value), name
        with pytest.raises(DataError):
            IMPORTERS[name].run(path)
        assert store.read_meta(name) is None, name  # nothing written

    # Just under the threshold, each is accepted with its bad rows counted.
    finess.write_bytes(b"".join(head) + b"structureet;1;2;3\r\n" * 19)
    assert parse_finess(finess)[1].error_count == 19
    apl = make_workbook(
        tmp_path / "apl-un-peu.xlsx", {"APL 2023": rows + [["ABCDE", "x", 1, 1, 1, 1]] * 2}
    )
    assert parse_apl(apl)[1].error_count == 2
    cpts, members = _cpts_file(tmp_path, communes, unknown=2)
    assert parse_cpts(cpts)[1].details["unknown_count"] == 2


def test_check_bad_rows_names_the_file_and_counts():
    check_bad_rows("f.csv", 10, 100, ["x"])  # exactly a tenth: kept
    with pytest.raises(
        DataError,
        match=r"^f\.csv, feuille « A » : 11 lignes sur 100 sont mal formées ou ignorées "
        r"\(plus de 10 %\), fichier refusé\. Premières erreurs : a ; b ; c\.$",
    ):
        check_bad_rows("f.csv", 11, 100, ["a", "b", "c", "d"], ", feuille « A »")


CODES = [
    "75101",
    "75120",
    "75100",
    "75121",
    "69381",
    "69389",
    "69380",
    "13201",
    "13216",
    "13217",
    "09122",
]
FOLDED = [
    "75056",
    "75056",
    "75100",
    "75121",
    "69123",
    "69123",
    "69380",
    "13055",
    "13055",
    "13217",
    "09122",
]


def test_arrondissements_fold_the_same_everywhere(communes, tmp_path):
    known = set(communes["insee"])
    assert (
        not {"75100", "75121", "69380", "13217"} & known
    )  # no such commune: an importer refuses or reports them
    # The table itself.
    assert [city for _, city in ARRONDISSEMENTS] == ["75056", "69123", "13055"]
    assert fold_arrondissements(pd.Series(CODES), known)[0].tolist() == FOLDED
    # FINESS: from the département and commune fields.
    insee, arrondissement = insee_codes(
        pd.Series([c[:2] for c in CODES]), pd.Series([c[2:] for c in CODES])
    )
    assert insee.tolist() == FOLDED
    assert [a if isinstance(a, str) else None for a in arrondissement] == [
        c if c != f else None for c, f in zip(CODES, FOLDED)
    ]
    # Typology: the arrondissements are folded; the non-arrondissements stay unknown and are refused.
    good = [c for c, f in zip(CODES, FOLDED) if f in known]
    typo = tmp_path / "typo.csv"
    typo.write_text("code_insee;classe\n" + "".join(f"{c};1\n" for c in good), encoding="utf-8")
    frame, report = parse_typology(typo, communes=communes)
    assert sorted(frame["insee"]) == ["09122", "13055", "69123", "75056"]
    typo.write_text("code_insee;classe\n75100;1\n09122;1\n", encoding="utf-8")
    with pytest.raises(DataError, match="75100"):
        parse_typology(typo, communes=communes)
    # CPTS: folded the same way; the others are listed as unknown codes.
    listing = tmp_path / "cpts.csv"
    good = [c for c, f in zip(CODES, FOLDED) if f in known]
    unknown = [c for c in CODES if c not in good]
    listing.write_text(
        "cpts_nom;code_insee\n"
        + "".join(f"CPTS {i % 5};{c}\n" for i, c in enumerate(good * 10))
        + "".join(f"CPTS 0;{c}\n" for c in unknown),
        encoding="utf-8",
    )  # under a tenth unknown
    frame, report = parse_cpts(listing, communes=communes)
    assert set(frame["insee"]) == {"09122", "13055", "69123", "75056"}
    assert sorted(report.details["unknown_codes"]) == ["13217", "69380", "75100", "75121"]
    # APL: arrondissement rows become their commune (weighted by standardised population).
    rows = [[c, "x", 2.0 + i, 2.0, 1000.0 * (i + 1), 1000] for i, c in enumerate(CODES)]
    frame, report = parse_apl(
        make_workbook(tmp_path / "apl.xlsx", {"APL 2023": rows}), base_codes=communes["insee"]
    )
    assert report.details["arrondissements_merged"] == {"75056": 2, "69123": 2, "13055": 2}
    assert {"75056", "69123", "13055"} <= set(frame["insee"])
    assert not {"75101", "75120", "69381", "69389", "13201", "13216"} & set(frame["insee"])
