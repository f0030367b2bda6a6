"""Fetch the pinned Leaflet assets from the npm registry into static/vendor/.

Run at set-up (``make assets``). Each package tarball is obtained with
``npm pack``, its sha512 is checked against the integrity pinned below, and its
``dist/`` folder and licence files are extracted. Nothing here is committed:
``static/vendor/`` is git-ignored.
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
VENDOR = ROOT / "static" / "vendor"

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
}


def _stamp(version: str, integrity: str) -> str:
    return f"{version} {integrity}\n"


def is_current(name: str) -> bool:
    version, integrity = PACKAGES[name]
    stamp = VENDOR / name / ".version"
    return stamp.is_file() and stamp.read_text() == _stamp(version, integrity)


def _sri(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def _npm_pack(name: str, version: str, workdir: Path) -> bytes:
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm est introuvable : installez Node.js/npm (apt-get install npm) puis relancez « make assets ».")
    proc = subprocess.run(
        [npm, "pack", f"{name}@{version}", "--json", "--pack-destination", str(workdir)],
        capture_output=True, text=True, cwd=workdir,
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
        raise SystemExit(f"Empreinte inattendue pour {name}@{version} : {got} (attendu {integrity}).")
    target = VENDOR / name
    staging = VENDOR / f".{name}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            rel = Path(member.name).relative_to("package")
            base = rel.name.upper()
            if rel.parts[0] == "dist" and ".." not in rel.parts:
                out = staging / Path(*rel.parts[1:])
            elif len(rel.parts) == 1 and (base.startswith("LICENSE") or base.startswith("MIT-LICEN")):
                out = staging / rel.name
            else:
                continue
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(tar.extractfile(member).read())
    (staging / ".version").write_text(_stamp(version, integrity))
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)


def main() -> int:
    VENDOR.mkdir(parents=True, exist_ok=True)
    for name, (version, _) in PACKAGES.items():
        if is_current(name):
            print(f"{name}@{version} : déjà présent")
            continue
        install(name)
        print(f"{name}@{version} : installé dans {VENDOR / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
