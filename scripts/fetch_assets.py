"""Fetch the pinned npm packages the app needs at set-up: Leaflet assets and Etalab's COG data.

Run at set-up (``make assets``). Each package tarball is obtained with
``npm pack``, its sha512 is checked against the integrity pinned below, and one
of its folders (``dist/`` for the map libraries, ``data/`` for Etalab's
``@etalab/decoupage-administratif``: COG and legal populations in force) is
extracted with the licence files. Nothing here is committed: ``static/vendor/``
and ``data/vendor/`` are git-ignored.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "static" / "vendor"  # served by Streamlit to the browser
DATA_VENDOR = ROOT / "data" / "vendor"  # read by the app on the server, never served
TEST_VENDOR = (
    ROOT / "tests" / "vendor"
)  # used by the tests only (injected into the page by Playwright)

# name -> (version, npm "dist.integrity")
PACKAGES: dict[str, tuple[str, str]] = {
    "leaflet": (
        "1.9.4",
        "sha512-nxS1ynzJOmOlHp+iL3FyWqK89GtNL8U8rvlMOsQdTTssxZwCXh8N2NB3GDQOL+YR3XnWyZAxwQixURb+FA74PA==",
    ),
    "leaflet.markercluster": (
        "1.5.3",
        "sha512-vPTw/Bndq7eQHjLBVlWpnGeLa3t+3zGiuM7fJwCkiMFq+nmRuG3RI3f7f4N4TDX7T4NpbAXpR2+NTRSEGfCSeA==",
    ),
    "leaflet-draw": (
        "1.0.4",
        "sha512-rsQ6saQO5ST5Aj6XRFylr5zvarWgzWnrg46zQ1MEOEIHsppdC/8hnN8qMoFvACsPvTioAuysya/TVtog15tyAQ==",
    ),
    # COG 2026 and the populations légales 2023 in force on 1 January 2026 (Etalab, Licence Ouverte; code MIT).
    "@etalab/decoupage-administratif": (
        "6.0.0",
        "sha512-XavYsFlbcM/prKr8hNHPKER94IHw/dsxNM4nxjWMYk6PLFACpEedvn/7wK8Baozm0dCYhWWcf+7bcWpA5pmCaQ==",
    ),
    # The accessibility rules run by tests/browser/test_accessibility.py (Deque, MPL-2.0).
    "axe-core": (
        "4.14.1",
        "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==",
    ),
}
# name -> (where it goes, the package folder extracted there; "." for files at the package's root)
PLACES: dict[str, tuple[Path, str]] = {
    "@etalab/decoupage-administratif": (DATA_VENDOR / "decoupage-administratif", "data"),
    "axe-core": (TEST_VENDOR / "axe-core", "."),
}
ROOT_FILES = {
    "axe-core": ("axe.min.js",)
}  # the files taken from the package's root (with the licence)
AXE_SCRIPT = TEST_VENDOR / "axe-core" / "axe.min.js"


def target_of(name: str) -> tuple[Path, str]:
    """The folder a package is installed in and the package folder extracted there."""
    return PLACES.get(name, (VENDOR / name, "dist"))


def _stamp(version: str, integrity: str) -> str:
    return f"{version} {integrity}\n"


def is_current(name: str) -> bool:
    version, integrity = PACKAGES[name]
    stamp = target_of(name)[0] / ".version"
    return stamp.is_file() and stamp.read_text() == _stamp(version, integrity)


def _sri(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def _npm_pack(name: str, version: str, workdir: Path) -> bytes:
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit(
            "npm est introuvable : installez Node.js/npm (apt-get install npm) puis relancez « make assets »."
        )
    proc = subprocess.run(
        [npm, "pack", f"{name}@{version}", "--json", "--pack-destination", str(workdir)],
        capture_output=True,
        text=True,
        cwd=workdir,
    )
    if proc.returncode != 0:
        raise SystemExit(f"Échec de « npm pack {name}@{version} » :\n{proc.stderr.strip()}")
    info = json.loads(proc.stdout)[0]
    return (workdir / info["filename"]).read_bytes()


def install(name: str) -> None:
    version, integrity = PACKAGES[name]
    with tempfile.TemporaryDirectory() as tmp:
        data = _npm_pack(name, version, Path(tmp))
    got = _sri(data)
    if got != integrity:
        raise SystemExit(
            f"Empreinte inattendue pour {name}@{version} : {got} (attendu {integrity})."
        )
    target, folder = target_of(name)
    staging = target.parent / f".{target.name}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            rel = Path(member.name).relative_to("package")
            base = rel.name.upper()
            if rel.parts[0] == folder and len(rel.parts) > 1 and ".." not in rel.parts:
                out = staging / Path(*rel.parts[1:])
            elif len(rel.parts) == 1 and (
                base.startswith("LICENSE")
                or base.startswith("MIT-LICEN")
                or rel.name in ROOT_FILES.get(name, ())
            ):
                out = staging / rel.name
            else:
                continue
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(tar.extractfile(member).read())
    (staging / ".version").write_text(_stamp(version, integrity))
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)


def main() -> int:
    for name, (version, _) in PACKAGES.items():
        if is_current(name):
            print(f"{name}@{version} : déjà présent")
            continue
        target_of(name)[0].parent.mkdir(parents=True, exist_ok=True)
        install(name)
        print(f"{name}@{version} : installé dans {target_of(name)[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
