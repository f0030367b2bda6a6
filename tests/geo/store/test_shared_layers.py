"""Imported layers shared by two app instances (two data directories) through one real PostgreSQL.

An « instance » is a data directory holding the commune base: switching ``CARTOCPTS_DATA_DIR`` switches
instance, as two app servers with their own folders would. Nothing is mocked: the real FINESS file of
Occitanie is imported, the rows are read back from a throwaway PostgreSQL cluster.
"""

from __future__ import annotations

import hashlib

import psycopg
import pytest

from geo.errors import DataError
from geo.sources.finess import import_finess
from geo.store import database, shared_layers
from geo.store import layers as store
from geo.territory.context import context
from geo.territory.diagnostics import Tally, diagnose
from tests.conftest import link_base

FINESS = "finess/etalab-cs1100507-occitanie.csv"
FOIX = "09122"  # the MSP of the Pays de Foix is there


@pytest.fixture
def instances(base_dir, tmp_path, monkeypatch, postgres_url):
    """Two data directories (instances A and B) and a function switching between them, in team mode."""
    from geo.base.adjacency import graph

    graph()  # the adjacency layer exists in the session directory
    folders = {name: link_base(base_dir, tmp_path / f"instance-{name}") for name in ("A", "B")}
    monkeypatch.setenv("CARTOCPTS_DATABASE_URL", postgres_url)
    monkeypatch.setattr(shared_layers, "CHECK_SECONDS", 0.0)  # every read checks the database

    def use(name: str):
        monkeypatch.setenv("CARTOCPTS_DATA_DIR", str(folders[name]))
        return folders[name]

    use.folders = folders
    use.url = postgres_url
    return use


def msp_in(codes) -> int:
    ctx = context()
    return diagnose(Tally.of(codes, ctx), ctx).msp_count


def all_msp() -> int:
    frame = store.read_layer("finess")
    return 0 if frame is None else int((frame["kind"] == "msp").sum())


def without_foix_msp(shared_data, tmp_path):
    """The real file less the structureet line of the Foix MSP (a « newer » extraction)."""
    lines = (shared_data / FINESS).read_bytes().splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith(b"structureet;090004219;")]
    assert len(kept) == len(lines) - 1
    path = tmp_path / "etalab-cs1100507-plus-recent.csv"
    path.write_bytes(b"".join(kept))
    return path


def test_an_import_on_one_instance_is_what_the_other_shows(
    instances, shared_data, tmp_path, monkeypatch
):
    instances("B")
    assert store.read_meta("finess") is None and msp_in([FOIX]) == 0

    instances("A")
    report = import_finess(shared_data / FINESS)
    assert report.to_dict()["msp"] == 372
    meta_a = store.read_meta("finess")
    assert meta_a["shared_version"] >= 1 and meta_a["imported_by"] == "poste local"

    instances("B")
    assert msp_in([FOIX]) == 1  # B's diagnostics see A's import
    assert all_msp() == 372
    assert store.read_meta("finess") == meta_a
    local_b = (instances.folders["B"] / "finess.parquet").read_bytes()
    assert local_b == (instances.folders["A"] / "finess.parquet").read_bytes()
    assert [row["layer"] for row in store.list_layers() if row["layer"] == "finess"] == ["finess"]

    # B imports a newer extraction (without the Foix MSP), under its user's name: A follows.
    monkeypatch.setenv("CARTOCPTS_USER", "Claire (ARS)")
    import_finess(without_foix_msp(shared_data, tmp_path))
    monkeypatch.delenv("CARTOCPTS_USER")
    meta_b = store.read_meta("finess")
    assert meta_b["shared_version"] > meta_a["shared_version"]
    assert meta_b["imported_by"] == "Claire (ARS)" and msp_in([FOIX]) == 0

    instances("A")
    assert msp_in([FOIX]) == 0 and all_msp() == 371
    assert store.read_meta("finess") == meta_b

    with psycopg.connect(instances.url) as con:
        rows = con.execute(
            "SELECT name, version, imported_by, size, sha256 FROM shared_layers"
        ).fetchall()
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("finess", meta_b["shared_version"], "Claire (ARS)")
    ]
    local = (instances.folders["A"] / "finess.parquet").read_bytes()
    assert rows[0][3] == len(local) and rows[0][4] == hashlib.sha256(local).hexdigest()


def test_a_removal_reaches_every_instance(instances, shared_data):
    instances("A")
    import_finess(shared_data / FINESS)
    instances("B")
    assert all_msp() == 372
    store.remove_layer("finess")
    assert store.read_meta("finess") is None
    instances("A")
    assert store.read_meta("finess") is None and msp_in([FOIX]) == 0
    assert "finess" not in [row["layer"] for row in store.list_layers()]


@pytest.mark.parametrize("damage", ["truncated", "not_parquet", "other_version"])
def test_bad_bytes_in_the_database_leave_the_local_copy(instances, shared_data, damage):
    instances("A")
    import_finess(shared_data / FINESS)
    instances("B")
    assert all_msp() == 372
    before = (instances.folders["B"] / "finess.parquet").read_bytes()
    meta_before = store.read_meta("finess")

    with psycopg.connect(instances.url) as con:
        data = bytes(con.execute("SELECT data FROM shared_layers").fetchone()[0])
        if damage == "truncated":  # bytes cut, the fingerprint of the whole file kept
            con.execute(
                "UPDATE shared_layers SET version = nextval('shared_layer_version'), data = %s",
                (data[: len(data) // 2],),
            )
        else:  # consistent fingerprint, but not a layer of that version
            bad = b"PAR1 pas un fichier" if damage == "not_parquet" else data
            con.execute(
                "UPDATE shared_layers SET version = nextval('shared_layer_version'), data = %s, "
                "sha256 = %s",
                (bad, hashlib.sha256(bad).hexdigest()),
            )

    with pytest.raises(DataError) as err:
        shared_layers.refresh()
    message = str(err.value)
    assert "La couche partagée « finess »" in message and "copie locale" in message
    expected = {
        "truncated": "empreinte SHA-256",
        "not_parquet": "illisible",
        "other_version": "ne correspond pas à sa provenance",
    }[damage]
    assert expected in message
    assert (instances.folders["B"] / "finess.parquet").read_bytes() == before

    # On the read path the instance goes on with its copy and keeps the message.
    assert msp_in([FOIX]) == 1 and store.read_meta("finess") == meta_before
    assert shared_layers.problems()["finess"] == message

    # A sound import repairs it for everyone.
    instances("A")
    import_finess(shared_data / FINESS)
    instances("B")
    assert shared_layers.refresh() == ["finess"]
    assert "finess" not in shared_layers.problems() and all_msp() == 372


def test_a_typology_with_its_own_nomenclature_is_shared_with_it(instances, communes, tmp_path):
    from geo.sources.typology import import_typology

    nomenclature = tmp_path / "irdes2024.csv"
    nomenclature.write_text(
        "classe;label;short_label;vintage\n"
        + "".join(f"{i};Classe {i} de la typologie communale;C{i};2024\n" for i in range(1, 8)),
        encoding="utf-8",
    )
    codes = sorted(communes.loc[communes["dep"] == "09", "insee"])
    body = "code_insee;classe\n" + "".join(f"{c};{int(c[-1]) % 7 + 1}\n" for c in codes)
    (tmp_path / "t7.csv").write_text(body, encoding="utf-8")
    instances("A")
    import_typology(tmp_path / "t7.csv", nomenclature=nomenclature)

    instances("B")
    ctx = context()
    assert len(ctx.nomenclature) == 7 and ctx.typology[FOIX] == int(FOIX[-1]) % 7 + 1
    kept = store.read_meta("typology")["nomenclature_file"]
    assert kept.startswith(str(instances.folders["B"]))
    assert open(kept, "rb").read() == nomenclature.read_bytes()
    assert shared_layers.local_version("typology") == store.read_meta("typology")["shared_version"]
    assert shared_layers.refresh() == []  # the rewritten local copy counts as up to date


def test_single_user_mode_never_touches_the_database(
    base_dir, tmp_path, monkeypatch, shared_data, postgres_url
):
    from geo.base.adjacency import graph

    graph()
    monkeypatch.delenv("CARTOCPTS_DATABASE_URL", raising=False)
    database.close_pools()
    folder = link_base(base_dir, tmp_path / "seul")
    monkeypatch.setenv("CARTOCPTS_DATA_DIR", str(folder))

    import_finess(shared_data / FINESS)
    assert msp_in([FOIX]) == 1
    meta = store.read_meta("finess")
    assert "shared_version" not in meta and "imported_by" not in meta
    store.remove_layer("finess")
    assert shared_layers.refresh() == [] and store.list_layers()

    assert database._POOLS == {}  # no connection was ever opened
    with psycopg.connect(postgres_url) as con:
        assert con.execute("SELECT to_regclass('shared_layers')").fetchone()[0] is None
