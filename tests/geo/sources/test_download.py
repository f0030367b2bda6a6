"""The downloader against a real HTTP server on 127.0.0.1 serving ../shared/data."""

import hashlib
import socket

import pytest

from geo.errors import DownloadError
from geo.sources.download import download, get_json
from tests.support.http_server import LocalHTTPServer

FINESS = "finess/etalab-cs1100507-occitanie.csv"


@pytest.fixture
def server(shared_data):
    with LocalHTTPServer(shared_data) as srv:
        yield srv


def test_download_real_file_with_progress_and_checksum(server, shared_data, tmp_path):
    source = (shared_data / FINESS).read_bytes()
    calls = []
    dest = download(
        f"{server.url}/{FINESS}",
        tmp_path / "finess.csv",
        progress=lambda got, total: calls.append((got, total)),
        expected_size=len(source),
        sha256=hashlib.sha256(source).hexdigest(),
    )
    assert dest.read_bytes() == source
    assert calls[0] == (0, len(source)) and calls[-1] == (len(source), len(source))
    assert len(calls) > 3  # streamed in chunks
    assert [p.name for p in tmp_path.iterdir()] == ["finess.csv"]  # no temp file left


def test_404_leaves_existing_file(server, tmp_path):
    dest = tmp_path / "finess.csv"
    dest.write_text("ancienne version")
    with pytest.raises(DownloadError, match="404"):
        download(f"{server.url}/finess/absent.csv", dest, retries=0)
    assert dest.read_text() == "ancienne version"
    assert [p.name for p in tmp_path.iterdir()] == ["finess.csv"]


def test_truncated_response_is_refused(server, shared_data, tmp_path):
    source = (shared_data / FINESS).read_bytes()
    server.add_truncated("/cut.csv", source[:100_000], announced=len(source))
    dest = tmp_path / "finess.csv"
    with pytest.raises(DownloadError, match="(tronqué|interrompu)"):
        download(f"{server.url}/cut.csv", dest, retries=1)
    assert not dest.exists()
    assert list(tmp_path.iterdir()) == []
    assert server.hits.count("/cut.csv") == 2  # retried once


def test_wrong_checksum_and_size(server, shared_data, tmp_path):
    with pytest.raises(DownloadError, match="SHA-256"):
        download(f"{server.url}/{FINESS}", tmp_path / "f.csv", sha256="0" * 64)
    with pytest.raises(DownloadError, match="Taille inattendue"):
        download(f"{server.url}/{FINESS}", tmp_path / "f.csv", expected_size=12)
    assert list(tmp_path.iterdir()) == []


def test_no_network(tmp_path):
    with socket.socket() as sock:  # a port with nobody listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(DownloadError, match="connexion"):
        download(f"http://127.0.0.1:{port}/x.csv", tmp_path / "x.csv", retries=0, timeout=2)
    with pytest.raises(DownloadError, match="connexion"):
        get_json(f"http://127.0.0.1:{port}/api", retries=0, timeout=2)


def test_get_json(server):
    server.add("/api/datasets/x/", b'{"resources": [{"url": "a"}]}', "application/json")
    assert get_json(f"{server.url}/api/datasets/x/") == {"resources": [{"url": "a"}]}
    server.add("/api/bad", b"<html>", "text/html")
    with pytest.raises(DownloadError, match="JSON"):
        get_json(f"{server.url}/api/bad")
