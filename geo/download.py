"""Download official files into the data cache: streamed, checked, atomic.

``download(url, dest)`` streams ``url`` to a temporary file beside ``dest``
with a progress callback, checks the announced size (Content-Length) and an
optional expected size and SHA-256, then renames it into place. On any
failure the temporary file is removed and ``dest`` is left as it was. Errors
are ``DownloadError`` with a French message.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from pathlib import Path
from typing import Callable

import requests

from geo.errors import DownloadError

Progress = Callable[[int, int | None], None]  # (bytes received, total or None)

USER_AGENT = "CartoCPTS (planification territoriale des CPTS)"
CHUNK = 1 << 16


def _session() -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    return session


def get_json(url: str, timeout: float = 30, retries: int = 2, params: dict | None = None):
    """GET a JSON document (an API answer) with retries; French errors."""
    last: Exception | None = None
    for attempt in range(retries + 1):
        try:
            with _session() as session:
                resp = session.get(url, params=params, timeout=timeout)
            if resp.status_code >= 500 and attempt < retries:
                time.sleep(0.5 * (attempt + 1))
                continue
            _check_status(resp, url)
            try:
                return resp.json()
            except ValueError as exc:
                raise DownloadError(f"Réponse illisible de {url} : ce n'est pas du JSON.") from exc
        except requests.ConnectionError as exc:
            last = exc
        except requests.Timeout as exc:
            last = exc
        if attempt < retries:
            time.sleep(0.5 * (attempt + 1))
    raise _network_error(url, last)


def _network_error(url: str, exc: Exception | None) -> DownloadError:
    if isinstance(exc, requests.Timeout):
        return DownloadError(f"Délai dépassé en contactant {url} : le serveur ne répond pas. Réessayez plus tard.")
    return DownloadError(
        f"Impossible de joindre {url} : pas de connexion internet ou serveur injoignable. "
        "Vous pouvez importer le fichier à la main depuis la page « Données »."
    )


def _check_status(resp: requests.Response, url: str) -> None:
    if resp.status_code == 404:
        raise DownloadError(f"Fichier introuvable (HTTP 404) : {url}.")
    if resp.status_code >= 400:
        raise DownloadError(f"Le serveur a refusé le téléchargement de {url} (HTTP {resp.status_code}).")


def download(
    url: str,
    dest: Path,
    progress: Progress | None = None,
    expected_size: int | None = None,
    sha256: str | None = None,
    timeout: float = 30,
    retries: int = 2,
) -> Path:
    """Download ``url`` to ``dest`` atomically; return ``dest``."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    last: Exception | None = None
    for attempt in range(retries + 1):
        try:
            return _download_once(url, dest, progress, expected_size, sha256, timeout)
        except (requests.ConnectionError, requests.Timeout, _Truncated) as exc:
            last = exc
            if attempt < retries:
                time.sleep(0.5 * (attempt + 1))
    if isinstance(last, _Truncated):
        raise DownloadError(str(last))
    raise _network_error(url, last)


class _Truncated(Exception):
    pass


def _download_once(url, dest, progress, expected_size, sha256, timeout) -> Path:
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    tmp = Path(tmp_name)
    digest = hashlib.sha256()
    received = 0
    try:
        with os.fdopen(fd, "wb") as out, _session() as session:
            with session.get(url, stream=True, timeout=timeout) as resp:
                _check_status(resp, url)
                announced = resp.headers.get("Content-Length")
                total = int(announced) if announced and announced.isdigit() else expected_size
                if progress:
                    progress(0, total)
                try:
                    for chunk in resp.iter_content(CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        received += len(chunk)
                        if progress:
                            progress(received, total)
                except (requests.exceptions.ChunkedEncodingError, requests.ConnectionError) as exc:
                    raise _Truncated(
                        f"Téléchargement interrompu de {url} : {received} octets reçus"
                        + (f" sur {total}." if total else ".")
                    ) from exc
                if announced and announced.isdigit() and received != int(announced):
                    raise _Truncated(
                        f"Fichier tronqué en téléchargeant {url} : {received} octets reçus sur {announced} annoncés."
                    )
        if expected_size is not None and received != expected_size:
            raise DownloadError(
                f"Taille inattendue pour {url} : {received} octets au lieu de {expected_size}."
            )
        if sha256 and digest.hexdigest().lower() != sha256.lower():
            raise DownloadError(f"Empreinte SHA-256 inattendue pour {url} : le fichier est corrompu.")
        if received == 0:
            raise DownloadError(f"Fichier vide reçu de {url}.")
        os.replace(tmp, dest)
        return dest
    finally:
        tmp.unlink(missing_ok=True)
