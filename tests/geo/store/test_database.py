"""The scenario store's two back ends: versioned migrations, the copy of a local store into PostgreSQL,
serialised writes between app instances, French errors. PostgreSQL is a real throwaway cluster."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading

import pytest

from geo.errors import DataError
from geo.store.database import open_database
from geo.store.migrations import LATEST, MIGRATIONS, applied_versions
from geo.store.scenarios import ScenarioStore
from tests.conftest import REPO

FOIX, PAMIERS, SAINT_GIRONS = "09122", "09225", "09261"


@pytest.fixture(scope="module")
def ariege(communes) -> list[str]:
    return sorted(communes.loc[communes["dep"] == "09", "insee"])


def geo_cli(*args, env_extra=None):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "geo", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_new_store_has_every_migration(scenario_location):
    store = ScenarioStore(scenario_location)
    assert applied_versions(store.db) == [m.version for m in MIGRATIONS]
    assert (
        ScenarioStore(scenario_location).names() == []
    )  # opening again applies nothing, changes nothing


def test_db_migrate_command_on_postgresql(postgres_url, isolated_data):
    first = geo_cli("db", "migrate", "--json", env_extra={"CARTOCPTS_DATABASE_URL": postgres_url})
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["kind"] == "postgresql" and report["applied"] == [m.version for m in MIGRATIONS]
    assert report["version"] == LATEST and "@127.0.0.1" in report["database"]
    again = json.loads(
        geo_cli(
            "db", "migrate", "--json", env_extra={"CARTOCPTS_DATABASE_URL": postgres_url}
        ).stdout
    )
    assert again["applied"] == [] and again["version"] == LATEST
    text = geo_cli("db", "migrate", env_extra={"CARTOCPTS_DATABASE_URL": postgres_url})
    assert "déjà à jour" in text.stdout


def test_copy_local_store_into_postgresql_is_idempotent(tmp_path, postgres_url, ariege):
    local = ScenarioStore(tmp_path / "local.sqlite")
    local.create("Ariège 2027", scope="dep:09")
    foix = local.add_territory("Ariège 2027", "CPTS du Pays de Foix", session="a")
    couserans = local.add_territory("Ariège 2027", "CPTS du Couserans", session="a")
    local.change_communes("Ariège 2027", foix, add=[FOIX, PAMIERS], session="a")
    local.change_communes("Ariège 2027", couserans, add=[SAINT_GIRONS], session="a")
    local.update_territory("Ariège 2027", couserans, status="projet", session="a")
    local.create_from("Variante", [{"name": "T1", "communes": ariege[:40]}])

    # The team's database already holds a territory numbered like the local ones: numbers are given anew.
    team = ScenarioStore(postgres_url)
    team.create("Déjà là")
    team.add_territory("Déjà là", "Existant")

    done = geo_cli(
        "db", "copy", "--to", postgres_url, "--from", str(tmp_path / "local.sqlite"), "--json"
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["copied"] == ["Ariège 2027", "Variante"] and report["skipped"] == []
    assert report["territories"] == 3 and report["history_steps"] == 5

    team = ScenarioStore(postgres_url)
    copied = team.get("Ariège 2027")
    by_name = {t.name: t for t in copied.territories}
    assert by_name["CPTS du Pays de Foix"].communes == {FOIX, PAMIERS}
    assert by_name["CPTS du Couserans"].communes == {SAINT_GIRONS}
    assert by_name["CPTS du Couserans"].status == "projet"
    assert {t.name: t.communes for t in team.get("Variante").territories} == {
        "T1": set(ariege[:40])
    }
    # The history came along, on the new numbers: the session's undo walks it.
    assert team.history_state("Ariège 2027", "a")["undo"] == 5
    assert team.undo("Ariège 2027", "a") == "Modification de « CPTS du Couserans »"
    assert team.undo("Ariège 2027", "a") == "Communes de « CPTS du Couserans »"
    assert team.get("Ariège 2027").territory(by_name["CPTS du Couserans"].id).communes == set()
    assert local.get("Ariège 2027").territory(couserans).communes == {
        SAINT_GIRONS
    }  # the source is untouched

    before = {name: team.get(name) for name in team.names()}
    again = json.loads(
        geo_cli(
            "db", "copy", "--to", postgres_url, "--from", str(tmp_path / "local.sqlite"), "--json"
        ).stdout
    )
    assert again["copied"] == [] and again["skipped"] == ["Ariège 2027", "Variante"]
    assert {name: team.get(name) for name in team.names()} == before


def test_copy_refuses_a_target_that_is_not_postgresql(tmp_path):
    done = geo_cli("db", "copy", "--to", str(tmp_path / "x.sqlite"))
    assert (
        done.returncode == 2 and "postgresql://" in done.stderr and "Traceback" not in done.stderr
    )


def test_two_instances_never_put_a_commune_in_two_territories(postgres_url, ariege):
    """Two app instances (two stores, two pools) add the same communes to two territories at once."""
    first, second = ScenarioStore(postgres_url), ScenarioStore(postgres_url)
    first.create("Concurrence")
    t1 = first.add_territory("Concurrence", "Nord")
    t2 = second.add_territory("Concurrence", "Sud")
    codes = ariege[:60]
    barrier = threading.Barrier(2)
    errors = []

    def claim(store, tid):
        try:
            barrier.wait()
            for code in codes:
                store.change_communes("Concurrence", tid, add=[code])
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [
        threading.Thread(target=claim, args=(first, t1)),
        threading.Thread(target=claim, args=(second, t2)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    scen = ScenarioStore(postgres_url).get("Concurrence")
    north, south = scen.territory(t1).communes, scen.territory(t2).communes
    assert north | south == set(codes) and not north & south


def test_unreachable_postgresql_gives_a_french_error_without_the_password(free_port):
    url = f"postgresql://agent:motdepasse-secret@127.0.0.1:{free_port}/equipe"
    with pytest.raises(DataError) as caught:
        ScenarioStore(url)
    message = str(caught.value)
    assert "injoignable" in message and "CARTOCPTS_DATABASE_URL" in message
    assert "motdepasse-secret" not in message and "agent@127.0.0.1" in message


def test_database_url_must_name_postgresql(monkeypatch):
    monkeypatch.setenv("CARTOCPTS_DATABASE_URL", "mysql://x@y/z")
    with pytest.raises(DataError, match="postgresql://"):
        ScenarioStore()


def test_open_database_kinds(tmp_path, postgres_url):
    assert open_database(tmp_path / "s.sqlite").kind == "sqlite"
    assert open_database(postgres_url).kind == "postgresql"


@pytest.fixture
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gathered_writes_apply_together_or_not_at_all(scenario_location):
    """``Database.writes``: the statements gathered in the block (one statement on PostgreSQL) all land, or
    none when one of them fails."""
    store = ScenarioStore(scenario_location)
    store.create("Lot")
    tid = store.add_territory("Lot", "T")
    store.change_communes("Lot", tid, add=[SAINT_GIRONS])
    insert = "INSERT INTO assignments VALUES (?,?)"
    with store.db.transaction() as con:
        with store.db.writes(con) as writes:
            writes.executemany(insert, [(tid, FOIX), (tid, PAMIERS)])
            writes.execute(
                "DELETE FROM assignments WHERE territory_id=? AND insee=?", (tid, SAINT_GIRONS)
            )
    assert store.get("Lot").territories[0].communes == {FOIX, PAMIERS}
    with pytest.raises(store.db.integrity_errors):
        with store.db.transaction() as con:
            with store.db.writes(con) as writes:
                writes.execute(insert, (tid, SAINT_GIRONS))
                writes.execute(insert, (tid, FOIX))  # already there: the whole block is refused
    assert store.get("Lot").territories[0].communes == {FOIX, PAMIERS}
