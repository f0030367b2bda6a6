"""A throwaway PostgreSQL cluster for the tests, and the fixture that runs a test on both store back ends.

The cluster is Debian's ``postgresql`` (installed by ``.ci/run``), started once per test session with
``initdb`` and ``pg_ctl`` on 127.0.0.1 and a free port, as the unprivileged ``postgres`` user when the
tests run as root (PostgreSQL refuses to run as root). Each test gets its own schema (its own empty
store); the cluster is stopped and removed at the end. Nothing is mocked.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from geo.store.database import close_pools

USER = "cartocpts"
DATABASE = "cartocpts_test"


def _bindir() -> Path:
    """The newest PostgreSQL server binaries (``CARTOCPTS_PG_BINDIR`` overrides)."""
    if os.environ.get("CARTOCPTS_PG_BINDIR"):
        return Path(os.environ["CARTOCPTS_PG_BINDIR"])
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3])
    )
    if found:
        return Path(found[-1]).parent
    raise RuntimeError(
        "PostgreSQL est introuvable : installez le paquet Debian « postgresql » "
        "(apt-get install -y postgresql) ; .ci/run le fait."
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_server_user(args: list[str]) -> list[str]:
    if os.geteuid() == 0:  # CI runs as root: the server runs as Debian's postgres user
        return ["runuser", "-u", "postgres", "--", *args]
    return args


class Cluster:
    def __init__(self):
        self.bindir = _bindir()
        self.root = Path(tempfile.mkdtemp(prefix="cartocpts-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        subprocess.run(
            _as_server_user(
                [
                    str(self.bindir / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    USER,
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-locale",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
            timeout=120,
        )
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        subprocess.run(
            _as_server_user(
                [
                    str(self.bindir / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.root / "server.log"),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
            timeout=120,
        )
        with psycopg.connect(self.url("postgres"), autocommit=True) as con:
            con.execute(f"CREATE DATABASE {DATABASE}")

    def url(self, database: str = DATABASE, schema: str | None = None) -> str:
        url = f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"
        if schema:
            url += "?options=" + quote(f"-csearch_path={schema}")
        return url

    def new_schema(self) -> str:
        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url(), autocommit=True) as con:
            con.execute(f"CREATE SCHEMA {name}")
        return name

    def stop(self) -> None:
        close_pools()
        subprocess.run(
            _as_server_user(
                [str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"]
            ),
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_cluster():
    cluster = Cluster()
    yield cluster
    cluster.stop()


@pytest.fixture
def postgres_url(postgres_cluster):
    """A ``postgresql://`` URL whose store is empty (a schema of its own)."""
    yield postgres_cluster.url(schema=postgres_cluster.new_schema())
    close_pools()


@pytest.fixture(params=["sqlite", "postgresql"])
def scenario_location(request, tmp_path):
    """Where a test's scenario store lives: an SQLite file, then a PostgreSQL schema (the same test twice)."""
    if request.param == "sqlite":
        return tmp_path / "scenarios.sqlite"
    return request.getfixturevalue("postgres_url")
