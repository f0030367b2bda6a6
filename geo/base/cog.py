"""The official geographic code (COG) installed at set-up: Etalab's ``@etalab/decoupage-administratif``.

``scripts/fetch_assets.py`` installs the pinned package's ``data/`` folder in
``data/vendor/decoupage-administratif/`` (a sha512-checked copy: trusted, unlike user files).
This module says where it is, which version it is, what COG year and which
legal populations it carries, and maps the codes of former communes (merged
into a commune nouvelle: ``anciensCodes`` of a current commune, or a
« commune déléguée » / « commune associée » entry with its ``chefLieu``) to
the current commune that holds them.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from geo.store.paths import REPO_ROOT

PACKAGE = "@etalab/decoupage-administratif"
VENDOR_DIR = REPO_ROOT / "data" / "vendor" / "decoupage-administratif"
NPM_URL = "https://www.npmjs.com/package/@etalab/decoupage-administratif"
# package version -> (COG year, year of the legal populations in force that year)
RELEASES: dict[str, tuple[int, int]] = {"6.0.0": (2026, 2023)}
CURRENT = "commune-actuelle"
FORMER_TYPES = ("commune-deleguee", "commune-associee")


def vendor_file(name: str = "communes.json") -> Path | None:
    """A file of the installed package, or None when it is not installed (``make assets``)."""
    path = VENDOR_DIR / name
    return path if path.is_file() else None


def vendor_version() -> str | None:
    """The installed package version (from the stamp written by fetch_assets.py), or None."""
    stamp = VENDOR_DIR / ".version"
    if not stamp.is_file() or vendor_file() is None:
        return None
    text = stamp.read_text(encoding="utf-8").split()
    return text[0] if text else None


def cog_year(version: str | None = None) -> int | None:
    """The COG year of the installed package (or of ``version``), None when unknown."""
    release = RELEASES.get(version or vendor_version() or "")
    return release[0] if release else None


def population_label(version: str | None = None) -> str:
    """The vintage label of the package's populations: « population légale 2023, en vigueur en 2026 »."""
    version = version or vendor_version() or ""
    release = RELEASES.get(version)
    if release is None:
        return f"population légale en vigueur ({PACKAGE} {version})".strip()
    year, pop_year = release
    return f"population légale {pop_year}, en vigueur en {year}"


def source_stamp(version: str | None = None) -> str:
    """How a layer built from the package names its source version, e.g. ``@etalab/decoupage-administratif 6.0.0``."""
    return f"{PACKAGE} {version or vendor_version()}"


@lru_cache(maxsize=2)
def _entries(path: str, mtime_ns: int) -> tuple[dict, ...]:
    return tuple(json.loads(Path(path).read_text(encoding="utf-8")))


def entries() -> tuple[dict, ...]:
    """Every entry of the installed ``communes.json`` (empty when the package is not installed)."""
    path = vendor_file()
    if path is None:
        return ()
    return _entries(str(path), path.stat().st_mtime_ns)


def current_codes() -> set[str]:
    """Codes of the current communes of the installed COG."""
    return {e["code"] for e in entries() if e.get("type") == CURRENT}


def successors() -> dict[str, str]:
    """Former commune code -> the current commune that holds it (from the installed COG).

    A former commune is listed among the ``anciensCodes`` of its commune nouvelle, or as a
    commune déléguée / associée whose ``chefLieu`` is the current commune. A code that is
    itself a current commune (the chef-lieu of a commune nouvelle keeps its code) is not a
    former code.
    """
    current = current_codes()
    out: dict[str, str] = {}
    for entry in entries():
        kind, code = entry.get("type"), entry.get("code")
        if kind == CURRENT:
            for former in entry.get("anciensCodes") or []:
                if former not in current:
                    out[str(former)] = code
    for entry in entries():
        kind, code, parent = entry.get("type"), entry.get("code"), entry.get("chefLieu")
        if kind in FORMER_TYPES and parent and code not in current:
            out.setdefault(code, parent)
    return out


def former_codes() -> dict[str, list[str]]:
    """Current commune code -> its former communes (sorted), from :func:`successors`."""
    out: dict[str, list[str]] = {}
    for former, current in successors().items():
        out.setdefault(current, []).append(former)
    return {code: sorted(codes) for code, codes in out.items()}


def base_differences(base_codes) -> dict:
    """How the commune base's codes differ from the installed COG's current communes.

    ``not_in_base``: current communes the base lacks (created since, or overseas collectivities
    outside the base); ``not_current``: base communes that are no longer current communes,
    each with the current commune holding it when the COG says (``merged_into``).
    """
    base = set(map(str, base_codes))
    current = current_codes()
    follow = successors()
    not_current = sorted(base - current)
    return {
        "not_in_base": sorted(current - base),
        "not_current": not_current,
        "merged_into": {code: follow[code] for code in not_current if code in follow},
    }


def base_cog_year(base_codes) -> int | None:
    """The COG year of a commune base: the installed COG's when their communes are the same.

    Every base commune is a current commune of the installed COG, and every current commune of
    the base's départements is in the base (the overseas collectivities, outside the base, are
    not compared). None when they differ or the package is not installed.
    """
    year = cog_year()
    if year is None:
        return None
    base = set(map(str, base_codes))
    deps = {code[:3] if code.startswith("97") else code[:2] for code in base}
    current = {
        code
        for code in current_codes()
        if (code[:3] if code.startswith("97") else code[:2]) in deps
    }
    return year if base == current else None
