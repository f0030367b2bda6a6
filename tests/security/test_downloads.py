"""Downloads are bounded and atomic: deadline, size caps, gzip/deflate, redirects, partial files, cached FINESS.

Every test talks to a real HTTP server on 127.0.0.1 (tests/support/http_server.py);
no other address is contacted.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.errors import DataError, DownloadError
from geo.sources.download import MAX_REDIRECTS, download, get_json
from geo.sources.finess import update_finess
from geo.store import layers as store
from tests.geo.sources.test_finess import (  # noqa: F401 - fixtures
    API_PATH,
    _dataset,
    assert_layer_intact,
    imported,
    real_file,
)
from tests.support.http_server import LocalHTTPServer

NEWEST = "etalab-cs1100507-stock-20260105-0400.csv"


@pytest.fixture
def server():
    with LocalHTTPServer() as srv:
        yield srv


def only(tmp_path, *names):
    """The directory holds exactly these names: no ``.part`` or staging leftovers."""
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)


# --------------------------------------------------------------------------- deadline


def test_dripping_body_is_cut_by_the_overall_deadline(server, tmp_path):
    # One byte a second never trips the per-read timeout (30 s): only the overall deadline can stop it.
    server.add_drip("/slow.csv", b"x" * 600, interval=1.0)
    dest = tmp_path / "slow.csv"
    dest.write_text("ancienne version")
    with pytest.raises(DownloadError, match="Délai total dépassé") as caught:
        download(f"{server.url}/slow.csv", dest, timeout=30, retries=2, deadline=2)
    assert f"{server.url}/slow.csv" in str(caught.value)
    assert server.hits.count("/slow.csv") == 1  # the deadline covers retries: none after it
    assert dest.read_text() == "ancienne version"
    only(tmp_path, "slow.csv")


def test_dripping_headers_are_cut_too(server, tmp_path):
    server.add_drip("/slow-headers", b"a" * 600, interval=1.0, in_headers=True)
    with pytest.raises(DownloadError, match="Délai total dépassé"):
        download(f"{server.url}/slow-headers", tmp_path / "x.csv", timeout=30, deadline=2)
    with pytest.raises(DownloadError, match="Délai total dépassé"):
        get_json(f"{server.url}/slow-headers", timeout=30, deadline=1.5)
    only(tmp_path)


# --------------------------------------------------------------------------- size caps


def test_announced_size_above_the_cap_is_refused_before_reading(server, tmp_path):
    # The body is 3 bytes: without the check, the transfer would end as « interrompu », not « trop gros ».
    server.add("/huge.csv", b"abc", announced=10**12)
    with pytest.raises(DownloadError, match="trop gros annoncé.*téléchargement refusé"):
        download(f"{server.url}/huge.csv", tmp_path / "huge.csv", retries=0)
    server.add("/big.csv", b"x" * 5000)
    with pytest.raises(DownloadError, match="trop gros annoncé"):
        download(f"{server.url}/big.csv", tmp_path / "big.csv", max_bytes=4096)
    assert server.hits.count("/big.csv") == 1  # refused, not retried
    with pytest.raises(DownloadError, match="trop gros annoncé"):
        get_json(f"{server.url}/big.csv", max_bytes=4096)
    only(tmp_path)


def test_stream_without_length_is_cut_at_the_cap(server, tmp_path):
    server.add_endless("/endless")
    dest = tmp_path / "endless.csv"
    dest.write_bytes(b"avant")
    with pytest.raises(DownloadError, match="Fichier trop gros reçu.*plus de 1,0 Mo"):
        download(f"{server.url}/endless", dest, max_bytes=1 << 20)
    assert dest.read_bytes() == b"avant"
    with pytest.raises(DownloadError, match="trop gros"):
        get_json(f"{server.url}/endless", max_bytes=1 << 20)
    only(tmp_path, "endless.csv")


# --------------------------------------------------------------------------- Content-Encoding


def test_gzip_answer_is_accepted_and_decoded(server, shared_data, tmp_path):
    source = (shared_data / "finess" / "etalab-cs1100507-occitanie.csv").read_bytes()
    server.add_gzip("/finess.csv", source, "text/csv")
    calls = []
    dest = download(
        f"{server.url}/finess.csv",
        tmp_path / "finess.csv",
        expected_size=len(source),
        sha256=hashlib.sha256(source).hexdigest(),
        progress=lambda got, total: calls.append((got, total)),
    )
    assert dest.read_bytes() == source
    compressed = len(gzip.compress(source))
    assert compressed < len(source) // 3  # really compressed on the wire
    assert calls[-1] == (
        compressed,
        compressed,
    )  # progress counts the bytes on the wire, as announced
    # A decoded size other than the expected one is still caught.
    with pytest.raises(DownloadError, match="Taille inattendue"):
        download(f"{server.url}/finess.csv", tmp_path / "f.csv", expected_size=compressed)
    document = {"resources": [{"url": "a", "title": "é" * 5000}]}
    server.add_gzip("/api", json.dumps(document).encode(), "application/json")
    assert get_json(f"{server.url}/api") == document
    only(tmp_path, "finess.csv")


def test_gzip_bomb_is_refused(server, tmp_path):
    bomb = gzip.compress(b"\0" * (64 << 20), compresslevel=9)  # 64 MB of zeros in about 64 KB
    assert len(bomb) * 100 < 64 << 20
    server.add("/bomb.csv", bomb, headers={"Content-Encoding": "gzip"})
    with pytest.raises(DownloadError, match="bombe de décompression"):
        download(f"{server.url}/bomb.csv", tmp_path / "bomb.csv")
    with pytest.raises(DownloadError, match="bombe de décompression"):
        get_json(f"{server.url}/bomb.csv")
    only(tmp_path)


def test_gzip_decoded_size_over_the_cap_is_refused(server, shared_data, tmp_path):
    text = (
        shared_data / "finess" / "etalab-cs1100507-occitanie.csv"
    ).read_bytes()  # 3.5 MB, ratio < 100
    packed = gzip.compress(text)
    assert len(text) < 100 * len(packed) and len(packed) < (1 << 20) < len(text)
    server.add("/text.csv", packed, headers={"Content-Encoding": "gzip"})
    with pytest.raises(DownloadError, match="une fois décompressé"):
        download(f"{server.url}/text.csv", tmp_path / "t.csv", max_bytes=1 << 20)
    assert download(f"{server.url}/text.csv", tmp_path / "t.csv").read_bytes() == text
    only(tmp_path, "t.csv")


def test_corrupt_or_cut_gzip_is_refused(server, tmp_path):
    packed = gzip.compress(b"code;nom\n" * 50_000)
    server.add("/cut.gz.csv", packed[: len(packed) // 2], headers={"Content-Encoding": "gzip"})
    with pytest.raises(DownloadError, match="compressée.*tronquée"):
        download(f"{server.url}/cut.gz.csv", tmp_path / "c.csv", retries=0)
    server.add("/junk.gz.csv", b"pas du gzip du tout", headers={"Content-Encoding": "gzip"})
    with pytest.raises(DownloadError, match="compressée.*illisible"):
        download(f"{server.url}/junk.gz.csv", tmp_path / "c.csv", retries=0)
    only(tmp_path)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.binary(min_size=1, max_size=300_000),
    encoding=st.sampled_from(["identity", "gzip", "gzip2", "deflate", "rawdeflate"]),
)
def test_every_encoding_round_trips(server, tmp_path, data, encoding):
    if encoding == "identity":
        body, header = data, {}
    elif encoding == "gzip":
        body, header = gzip.compress(data), {"Content-Encoding": "gzip"}
    elif encoding == "gzip2":  # two gzip members, as concatenated archives are
        half = len(data) // 2
        body, header = (
            gzip.compress(data[:half]) + gzip.compress(data[half:]),
            {"Content-Encoding": "gzip"},
        )
    elif encoding == "deflate":
        body, header = zlib.compress(data), {"Content-Encoding": "deflate"}
    else:
        packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        body, header = packer.compress(data) + packer.flush(), {"Content-Encoding": "deflate"}
    server.add("/any", body, headers=header)
    assert download(f"{server.url}/any", tmp_path / "any.bin", retries=0).read_bytes() == data


# --------------------------------------------------------------------------- redirects


def test_redirect_loop_is_refused(server, tmp_path):
    server.add_redirect("/a", "/b")
    server.add_redirect("/b", "/a")
    with pytest.raises(DownloadError, match="Trop de redirections"):
        download(f"{server.url}/a", tmp_path / "a.csv")
    assert len(server.hits) == MAX_REDIRECTS + 1  # capped and not retried
    with pytest.raises(DownloadError, match="Trop de redirections"):
        get_json(f"{server.url}/a")
    only(tmp_path)


@pytest.mark.parametrize(
    "target", ["file:///etc/passwd", "ftp://127.0.0.1/finess.csv", "gopher://127.0.0.1/x"]
)
def test_redirect_to_another_scheme_is_refused(server, tmp_path, target):
    server.add_redirect("/r", target, status=301)
    with pytest.raises(
        DownloadError, match="Redirection refusée.*seules les adresses http et https"
    ):
        download(f"{server.url}/r", tmp_path / "r.csv")
    with pytest.raises(DownloadError, match="Redirection refusée"):
        get_json(f"{server.url}/r")
    with pytest.raises(DownloadError, match="Adresse refusée"):
        download(target, tmp_path / "r.csv")
    only(tmp_path)


def test_redirect_within_http_is_followed_without_reading_its_body(server, tmp_path):
    server.add("/real.csv", b"code;nom\n31555;Toulouse\n", "text/csv")
    server.add_redirect("/moved.csv", f"{server.url}/real.csv")
    assert (
        download(f"{server.url}/moved.csv", tmp_path / "m.csv").read_bytes()
        == b"code;nom\n31555;Toulouse\n"
    )
    # A redirect whose own body never ends: followed at once (reading that body would hit the deadline).
    server.add_redirect("/endless-redirect", "/real.csv", endless_body=True)
    path = download(f"{server.url}/endless-redirect", tmp_path / "m.csv", deadline=20)
    assert path.read_bytes() == b"code;nom\n31555;Toulouse\n"
    server.add("/no-location", b"", status=302)
    with pytest.raises(DownloadError, match="HTTP 302.*redirection sans adresse"):
        download(f"{server.url}/no-location", tmp_path / "n.csv")
    only(tmp_path, "m.csv")


def test_server_errors_are_retried_then_reported(server, tmp_path):
    server.add_status("/busy", 503)
    with pytest.raises(DownloadError, match="HTTP 503"):
        download(f"{server.url}/busy", tmp_path / "b.csv", retries=1)
    with pytest.raises(DownloadError, match="HTTP 503"):
        get_json(f"{server.url}/busy", retries=1)
    assert server.hits.count("/busy") == 4
    only(tmp_path)


# --------------------------------------------------------------------------- partial files


def test_truncated_answer_leaves_no_part_and_keeps_the_previous_file(server, tmp_path):
    server.add_truncated("/cut.csv", b"code;nom\n" * 1000, announced=100_000)
    dest = tmp_path / "cut.csv"
    dest.write_bytes(b"version officielle precedente")
    with pytest.raises(DownloadError, match="interrompu|tronqué"):
        download(f"{server.url}/cut.csv", dest, retries=1)
    assert server.hits.count("/cut.csv") == 2
    assert dest.read_bytes() == b"version officielle precedente"
    only(tmp_path, "cut.csv")


def test_interrupt_mid_transfer_leaves_no_part(server, tmp_path):
    server.add("/file.csv", b"x" * 500_000)
    dest = tmp_path / "file.csv"
    dest.write_bytes(b"avant")

    def stop(received, total):
        if received > 100_000:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        download(f"{server.url}/file.csv", dest, progress=stop)
    assert dest.read_bytes() == b"avant"
    only(tmp_path, "file.csv")


def test_get_json_is_strict(server):
    server.add("/nan", b'{"population": NaN}', "application/json")
    with pytest.raises(DownloadError, match="JSON"):
        get_json(f"{server.url}/nan")
    server.add("/deep", b"[" * 1000 + b"]" * 1000, "application/json")
    with pytest.raises(DownloadError, match="imbriqué"):
        get_json(f"{server.url}/deep")
    with pytest.raises(DownloadError, match="Adresse refusée"):
        get_json("file:///etc/passwd")


# --------------------------------------------------------------------------- FINESS cache


def _serve_finess(server, body: bytes, **kwargs):
    server.add(API_PATH, json.dumps(_dataset(server)).encode(), "application/json")
    server.add(f"/files/{NEWEST}", body, "text/csv", **kwargs)


def test_refused_answers_never_replace_the_cached_finess(
    imported, server, real_file, isolated_data
):
    source = real_file.read_bytes()
    _serve_finess(server, source)
    report = update_finess(api_base=f"{server.url}/api/1")
    assert report.to_dict()["msp"] == 372
    downloads = isolated_data / "downloads"
    cached = downloads / NEWEST
    assert cached.read_bytes() == source
    meta = store.read_meta("finess")
    assert meta["origin_file"] == NEWEST

    # An HTML error page served with 200 under the official name: refused by the importer.
    _serve_finess(server, b"<!DOCTYPE html><html><body>Maintenance en cours</body></html>\n" * 20)
    with pytest.raises(DataError):
        update_finess(api_base=f"{server.url}/api/1")
    assert cached.read_bytes() == source
    assert_layer_intact(meta)
    only(downloads, NEWEST)

    # A transfer cut in the middle.
    _serve_finess(server, source[: len(source) // 3], announced=len(source))
    with pytest.raises(DownloadError, match="interrompu|tronqué"):
        update_finess(api_base=f"{server.url}/api/1")
    assert cached.read_bytes() == source
    assert_layer_intact(meta)
    only(downloads, NEWEST)


def test_finess_first_download_failure_caches_nothing(isolated_data, server):
    _serve_finess(server, b"<html>erreur</html>\n")
    with pytest.raises(DataError):
        update_finess(api_base=f"{server.url}/api/1")
    assert store.read_layer("finess") is None
    only(isolated_data / "downloads")
