"""Download official files into the data cache: streamed, bounded, checked, atomic.

``download(url, dest)`` streams ``url`` to a temporary file beside ``dest``
with a progress callback, checks the announced size (Content-Length) and an
optional expected size and SHA-256, then renames it into place. On any
failure (``KeyboardInterrupt`` included) the temporary file is removed and
``dest`` is left as it was. ``get_json(url)`` reads an API answer the same
way into memory and parses it strictly (:func:`geo.sources.limits.load_json`).

Every transfer is bounded:

* one wall-clock deadline for the whole call, retries included: a watchdog
  thread shuts the sockets down when it expires, so a server dripping one
  byte a second (even in its headers) cannot hold the application;
* a size cap on the decoded bytes, checked as they stream; a Content-Length
  above the cap is refused before reading;
* gzip/deflate answers are decoded here, chunk by chunk with a bounded
  output, so the raw and decoded sizes are both known: Content-Length is
  compared with the raw bytes, and a decoded/raw ratio above
  :data:`geo.sources.limits.MAX_ZIP_RATIO` (a decompression bomb) is refused;
* at most :data:`MAX_REDIRECTS` redirects, only to http(s) and never from
  https down to http.

Errors are ``DownloadError`` with a French message naming the URL.
"""

from __future__ import annotations

import hashlib
import os
import socket
import tempfile
import threading
import time
import zlib
from pathlib import Path
from typing import Callable
from urllib.parse import urljoin, urlsplit

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from geo.errors import DataError, DownloadError
from geo.formats.french import megabytes
from geo.sources.limits import MAX_FILE_BYTES, MAX_ZIP_RATIO, load_json
from geo.store.layers import write_error

Progress = Callable[[int, int | None], None]  # (bytes received, total or None)

USER_AGENT = "CartoCPTS (planification territoriale des CPTS)"
CHUNK = 1 << 16
MAX_REDIRECTS = 5
DOWNLOAD_DEADLINE = 15 * 60  # seconds for a whole download, retries included
JSON_DEADLINE = 3 * 60  # seconds for a whole API answer, retries included
RATIO_FLOOR = 1 << 20  # the decoded/raw ratio is judged once this many bytes are decoded
SCHEMES = ("http", "https")


# --------------------------------------------------------------------------- deadline


class _Deadline(Exception):
    pass


class _Watchdog:
    """A wall-clock deadline: when it expires every socket opened under it is shut down."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.fired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(seconds, 0), self._fire)
        self._timer.daemon = True

    def __enter__(self):
        self._timer.start()
        return self

    def __exit__(self, *exc):
        self._timer.cancel()

    def track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            fired = self.fired
        if fired:
            _shut(sock)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def expired(self) -> bool:
        return self.fired or self.remaining() <= 0

    def check(self) -> None:
        if self.expired():
            raise _Deadline()


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)  # wakes up a recv blocked in another thread
    except OSError:
        pass


def _deadline_error(url: str, seconds: float) -> DownloadError:
    return DownloadError(
        f"Délai total dépassé en téléchargeant {url} : transfert interrompu au bout de {seconds:g} s "
        "(serveur trop lent ou bloqué). Réessayez plus tard ou importez le fichier à la main."
    )


class _TrackingAdapter(HTTPAdapter):
    """An adapter whose connections register their socket with the watchdog as soon as it exists."""

    def __init__(self, watchdog: _Watchdog):
        track = watchdog.track

        class Conn(HTTPConnection):
            def _new_conn(self):
                sock = super()._new_conn()
                track(sock)
                return sock

        class SConn(HTTPSConnection):
            def _new_conn(self):
                sock = super()._new_conn()
                track(sock)
                return sock

        self._pools = {
            "http": type("TrackedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": Conn}),
            "https": type("TrackedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": SConn}),
        }
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(self._pools)

    def proxy_manager_for(self, proxy, **kwargs):
        manager = super().proxy_manager_for(proxy, **kwargs)
        if not proxy.lower().startswith("socks"):
            manager.pool_classes_by_scheme = dict(self._pools)
        return manager


# --------------------------------------------------------------------------- session, redirects


def _redirect_target(resp: requests.Response) -> str:
    """The absolute URL a redirect points to, refused unless http(s) and not a downgrade from https."""
    location = resp.headers.get("Location", "")
    new = urljoin(resp.url, location.encode("latin1").decode("utf-8", "replace"))
    scheme = urlsplit(new).scheme.lower()
    if not location or scheme not in SCHEMES:
        raise DownloadError(
            f"Redirection refusée : {resp.url} renvoie vers « {new} » ({scheme or 'sans protocole'}:) ; "
            "seules les adresses http et https sont suivies."
        )
    if scheme == "http" and urlsplit(resp.url).scheme.lower() == "https":
        raise DownloadError(
            f"Redirection refusée : {resp.url} renvoie vers une adresse non chiffrée (http) « {new} »."
        )
    return new


def _open(session, url, watchdog, timeout, params=None) -> requests.Response:
    """GET ``url`` (streamed), following at most MAX_REDIRECTS checked redirects without reading their bodies."""
    current = url
    for hop in range(MAX_REDIRECTS + 1):
        watchdog.check()
        read_timeout = max(min(timeout, watchdog.remaining()), 0.1)
        resp = session.get(
            current,
            params=params if hop == 0 else None,
            stream=True,
            allow_redirects=False,
            timeout=(read_timeout, read_timeout),
        )
        if not resp.is_redirect:
            return resp
        try:
            current = _redirect_target(resp)
        finally:
            resp.close()  # a redirect's body is never read (it could be endless)
    raise DownloadError(
        f"Trop de redirections en téléchargeant {url} (plus de {MAX_REDIRECTS}) : boucle de "
        "redirection probable, téléchargement abandonné."
    )


class _Session(requests.Session):
    """Redirects are followed by :func:`_open` only: requests itself would read a redirect's whole body."""

    def get_redirect_target(self, resp):
        return None


def _session(watchdog: _Watchdog) -> requests.Session:
    session = _Session()
    session.headers["User-Agent"] = USER_AGENT
    session.headers["Accept-Encoding"] = "gzip, deflate"  # the encodings _Decoder understands
    adapter = _TrackingAdapter(watchdog)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _check_url(url: str) -> None:
    scheme = urlsplit(str(url)).scheme.lower()
    if scheme not in SCHEMES:
        raise DownloadError(f"Adresse refusée : « {url} » n'est pas une adresse http ou https.")


def _network_error(url: str, exc: Exception | None) -> DownloadError:
    if isinstance(exc, requests.exceptions.SSLError):
        return DownloadError(
            f"Connexion sécurisée impossible avec {url} : certificat refusé ou connexion TLS "
            "interrompue."
        )
    if isinstance(exc, (requests.Timeout, urllib3.exceptions.TimeoutError)):
        return DownloadError(
            f"Délai dépassé en contactant {url} : le serveur ne répond pas. Réessayez plus tard."
        )
    return DownloadError(
        f"Impossible de joindre {url} : pas de connexion internet ou serveur injoignable. "
        "Vous pouvez importer à la main un fichier téléchargé ailleurs (champ « Fichier » de la même "
        "couche, ou « python -m geo import »)."
    )


def _check_status(resp: requests.Response, url: str) -> None:
    if 300 <= resp.status_code < 400:
        raise DownloadError(
            f"Réponse inattendue de {url} (HTTP {resp.status_code}) : redirection sans adresse."
        )
    if resp.status_code == 404:
        raise DownloadError(f"Fichier introuvable (HTTP 404) : {url}.")
    if resp.status_code >= 400:
        raise DownloadError(
            f"Le serveur a refusé le téléchargement de {url} (HTTP {resp.status_code})."
        )


# --------------------------------------------------------------------------- decoding


class _Truncated(Exception):
    pass


class _Decoder:
    """Content-Encoding decoder (identity, gzip, deflate) whose output comes in pieces of at most CHUNK bytes."""

    def __init__(self, encoding: str, url: str):
        self.encoding = encoding
        self.url = url
        if encoding in ("", "identity"):
            self._obj = None
        elif encoding in ("gzip", "x-gzip"):
            self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._obj = None  # zlib-wrapped or raw: decided on the first bytes
            self._first = True
        else:
            raise DownloadError(
                f"Réponse de {url} compressée en « {encoding} », format non pris en charge."
            )

    def feed(self, data: bytes):
        if not self.encoding or self.encoding == "identity":
            if data:
                yield data
            return
        if self.encoding == "deflate" and self._obj is None:
            # RFC says zlib-wrapped; some servers send raw deflate.
            wrapped = (
                len(data) >= 2 and (data[0] & 0x0F) == 8 and ((data[0] << 8) | data[1]) % 31 == 0
            )
            self._obj = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        try:
            while data:
                out = self._obj.decompress(data, CHUNK)
                data = self._obj.unconsumed_tail
                if self._obj.eof and self._obj.unused_data:
                    data = self._obj.unused_data  # another gzip member follows
                    self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
                if out:
                    yield out
        except zlib.error as exc:
            raise DownloadError(
                f"Réponse compressée ({self.encoding}) illisible reçue de {self.url} : fichier refusé."
            ) from exc

    def finish(self) -> None:
        if self._obj is not None and not self._obj.eof:
            raise _Truncated(f"Réponse compressée ({self.encoding}) tronquée reçue de {self.url}.")


def _stream(
    session,
    url,
    watchdog,
    *,
    timeout,
    max_bytes,
    write,
    progress=None,
    params=None,
    expected_size=None,
) -> int:
    """GET ``url`` and pass its decoded body to ``write`` chunk by chunk; return the decoded size."""
    with _open(session, url, watchdog, timeout, params) as resp:
        if resp.status_code >= 500:
            raise _Retry(resp.status_code)  # a server error may be transient: retried
        _check_status(resp, url)
        encoding = resp.headers.get("Content-Encoding", "").strip().lower()
        decoder = _Decoder(encoding, url)
        announced_text = resp.headers.get("Content-Length", "").strip()
        announced = int(announced_text) if announced_text.isdigit() else None
        if announced is not None and announced > max_bytes:
            raise DownloadError(
                f"Fichier trop gros annoncé par {url} : {megabytes(announced, 1)}, au plus {megabytes(max_bytes, 1)} : "
                "téléchargement refusé."
            )
        plain = encoding in ("", "identity")
        total = announced if announced is not None else (expected_size if plain else None)
        if progress:
            progress(0, total)
        raw = received = 0
        try:
            for block in resp.raw.stream(CHUNK, decode_content=False):
                raw += len(block)
                for chunk in decoder.feed(block):
                    received += len(chunk)
                    if received > max_bytes:
                        raise DownloadError(
                            f"Fichier trop gros reçu de {url} : plus de {megabytes(max_bytes, 1)} "
                            + ("une fois décompressé " if not plain else "")
                            + ": téléchargement interrompu et refusé."
                        )
                    if not plain and received > RATIO_FLOOR and received > MAX_ZIP_RATIO * raw:
                        raise DownloadError(
                            f"Réponse compressée suspecte reçue de {url} : {megabytes(raw, 1)} "
                            f"compressés donnent plus de {megabytes(received, 1)} "
                            f"(plus de {MAX_ZIP_RATIO} fois) — bombe de décompression probable, "
                            "téléchargement refusé."
                        )
                    write(chunk)
                    watchdog.check()
                if progress:
                    progress(raw if announced is not None else received, total)
                watchdog.check()
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            watchdog.check()
            if isinstance(exc, (urllib3.exceptions.TimeoutError, requests.Timeout, socket.timeout)):
                raise requests.Timeout(str(exc)) from exc
            raise _Truncated(
                f"Téléchargement interrompu de {url} : {raw} octets reçus"
                + (f" sur {announced}." if announced else ".")
            ) from exc
        watchdog.check()
        if announced is not None and raw != announced:
            raise _Truncated(
                f"Fichier tronqué en téléchargeant {url} : {raw} octets reçus sur {announced} annoncés."
            )
        decoder.finish()
    return received


def _with_retries(url: str, retries: int, deadline: float, attempt_once):
    """Run ``attempt_once(watchdog)`` under one deadline, retrying network failures; French errors."""
    _check_url(url)
    last: Exception | None = None
    with _Watchdog(deadline) as watchdog:
        for attempt in range(retries + 1):
            try:
                return attempt_once(watchdog)
            except _Deadline:
                raise _deadline_error(url, deadline) from None
            except (
                requests.exceptions.InvalidSchema,
                requests.exceptions.InvalidURL,
                requests.exceptions.MissingSchema,
            ) as exc:
                raise DownloadError(f"Adresse de téléchargement invalide : {url} ({exc}).") from exc
            except _Retry as exc:
                last = exc
            except (requests.ConnectionError, requests.Timeout, _Truncated) as exc:
                if watchdog.expired():
                    raise _deadline_error(url, deadline) from None
                last = exc
            except requests.RequestException as exc:  # anything else requests may raise
                if watchdog.expired():
                    raise _deadline_error(url, deadline) from None
                raise DownloadError(f"Téléchargement impossible depuis {url} : {exc}.") from exc
            if attempt < retries:
                pause = 0.5 * (attempt + 1)
                if watchdog.remaining() <= pause:
                    raise _deadline_error(url, deadline)
                time.sleep(pause)
    if isinstance(last, _Retry):
        raise DownloadError(f"Le serveur a refusé le téléchargement de {url} (HTTP {last.status}).")
    if isinstance(last, _Truncated):
        raise DownloadError(str(last))
    raise _network_error(url, last)


class _Retry(Exception):
    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


# --------------------------------------------------------------------------- public API


def get_json(
    url: str,
    timeout: float = 30,
    retries: int = 2,
    params: dict | None = None,
    deadline: float = JSON_DEADLINE,
    max_bytes: int = MAX_FILE_BYTES,
):
    """GET a JSON document (an API answer) with retries, size cap and deadline; strict JSON; French errors."""

    def once(watchdog):
        body = bytearray()
        with _session(watchdog) as session:
            _stream(
                session,
                url,
                watchdog,
                timeout=timeout,
                max_bytes=max_bytes,
                write=body.extend,
                params=params,
            )
        return bytes(body)

    data = _with_retries(url, retries, deadline, once)
    try:
        return load_json(data, f"Réponse de {url}", "JSON")
    except DataError as exc:
        raise DownloadError(str(exc)) from exc


def download(
    url: str,
    dest: Path,
    progress: Progress | None = None,
    expected_size: int | None = None,
    sha256: str | None = None,
    timeout: float = 30,
    retries: int = 2,
    deadline: float = DOWNLOAD_DEADLINE,
    max_bytes: int = MAX_FILE_BYTES,
) -> Path:
    """Download ``url`` to ``dest`` atomically; return ``dest``.

    ``deadline``: seconds for the whole call (retries included); ``max_bytes``:
    cap on the decoded size. ``dest`` is replaced only by a complete, checked file.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    return _with_retries(
        url,
        retries,
        deadline,
        lambda watchdog: _download_once(
            url, dest, progress, expected_size, sha256, timeout, watchdog, max_bytes
        ),
    )


def _download_once(
    url, dest, progress, expected_size, sha256, timeout, watchdog, max_bytes
) -> Path:
    try:
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    except OSError as exc:
        raise DownloadError(str(write_error(exc, dest))) from exc
    tmp = Path(tmp_name)
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out, _session(watchdog) as session:

            def write(chunk: bytes) -> None:
                try:
                    out.write(chunk)
                except OSError as exc:
                    raise DownloadError(str(write_error(exc, dest))) from exc
                digest.update(chunk)

            received = _stream(
                session,
                url,
                watchdog,
                timeout=timeout,
                max_bytes=max_bytes,
                write=write,
                progress=progress,
                expected_size=expected_size,
            )
        if expected_size is not None and received != expected_size:
            raise DownloadError(
                f"Taille inattendue pour {url} : {received} octets au lieu de {expected_size}."
            )
        if sha256 and digest.hexdigest().lower() != sha256.lower():
            raise DownloadError(
                f"Empreinte SHA-256 inattendue pour {url} : le fichier est corrompu."
            )
        if received == 0:
            raise DownloadError(f"Fichier vide reçu de {url}.")
        try:
            os.replace(tmp, dest)
        except OSError as exc:
            raise DownloadError(str(write_error(exc, dest))) from exc
        return dest
    finally:
        tmp.unlink(missing_ok=True)
