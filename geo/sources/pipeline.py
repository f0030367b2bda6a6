"""The one way outside data becomes a layer: read → validate → report → write with provenance.

Every importer (FINESS, APL, typology, populations, CPTS) is a :class:`Source`: a ``parse`` function that
reads and checks the whole input and returns the layer's frame with a :class:`Report`, and a
``provenance`` function giving the source's members of the layer's metadata. :func:`import_file` runs
them in that order and writes the layer only after the whole input was checked, so a failed import
(``DataError``) leaves the previous layer as it was. The online updates (FINESS from data.gouv.fr,
populations from geo.api.gouv.fr) download first, then go through the same function.

Shared rules live here once: the bad-row threshold (:data:`MAX_BAD_SHARE`, :func:`check_bad_rows`), the
progress helper (:func:`progress_of`, :func:`scaled`) and the provenance members every layer has
(``imported_at`` and the user's name of the file, never the name it was stored under).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, ClassVar

import pandas as pd

from geo.errors import DataError
from geo.formats.french import integer
from geo.store import layers as store

MAX_BAD_SHARE = (
    0.10  # more malformed (or duplicated) rows than this share of the rows: the file is refused
)
MAX_MESSAGES = 20  # error messages kept in a report (all of them are counted)

Progress = Callable[..., None]  # progress(fraction between 0 and 1, French message)


def _silent(fraction: float, message: str = "") -> None:
    """Progress nobody watches."""


def progress_of(progress: Progress | None) -> Progress:
    """The callable to report progress to: ``progress`` itself, or one that does nothing."""
    return progress or _silent


def scaled(progress: Progress | None, start: float, end: float) -> Progress:
    """Progress of one step of a longer task: the step's 0..1 mapped onto ``start``..``end``."""
    say = progress_of(progress)

    def step(fraction: float, message: str = "") -> None:
        say(start + (end - start) * min(max(float(fraction), 0.0), 1.0), message)

    return step


def check_bad_rows(name: str, bad: int, total: int, messages: list[str], where: str = "") -> None:
    """Refuse the file ``name`` (DataError) when more than :data:`MAX_BAD_SHARE` of its ``total`` rows are bad.

    The one threshold of every importer that skips malformed rows; the French message names the file
    (and ``where`` in it, e.g. a sheet), gives both counts and the first messages.
    """
    if total and bad > MAX_BAD_SHARE * total:
        first = " ; ".join(messages[:3])
        raise DataError(
            f"{name}{where} : {integer(bad)} lignes sur {integer(total)} sont mal formées ou ignorées (plus de "
            f"{integer(100 * MAX_BAD_SHARE)} %), fichier refusé."
            + (f" Premières erreurs : {first}." if first else "")
        )


@dataclass
class Report:
    """What an import read, kept, skipped and wrote: the one report of every importer.

    The members common to every source are fields; the source's own figures are in ``details`` (their
    JSON names). ``to_dict()`` is the ``--json`` output: the common members the source has always shown
    (``JSON_MEMBERS``), then ``details``; ``errors`` is always ``{"count": N, "messages": [...]}``.
    ``lines()`` is the French description (command line and « Données » page).
    """

    file: str = ""  # the user's name of the file ("" for an online source)
    rows: int = 0  # rows (lines, entries, objects) read
    errors: list[str] = field(
        default_factory=list
    )  # the first MAX_MESSAGES messages of skipped rows
    error_count: int = 0  # every skipped row
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    details: dict = field(default_factory=dict)
    meta: dict | None = None  # the layer's stored provenance, once written

    JSON_MEMBERS: ClassVar[tuple[str, ...]] = (
        "file",
        "rows",
        "errors",
        "warnings",
        "seconds",
        "meta",
    )

    def skipped(self, messages: list[str], count: int | None = None) -> None:
        """Record skipped rows: their messages (the first MAX_MESSAGES kept) and their number."""
        self.errors = list(messages[:MAX_MESSAGES])
        self.error_count = len(messages) if count is None else int(count)

    def _common(self) -> dict:
        return {
            "file": self.file,
            "rows": self.rows,
            "errors": {"count": self.error_count, "messages": list(self.errors)},
            "warnings": list(self.warnings),
            "seconds": self.seconds,
            "meta": self.meta,
        }

    def to_dict(self) -> dict:
        common = self._common()
        out = {
            key: common[key]
            for key in self.JSON_MEMBERS
            if not (key == "meta" and self.meta is None)
        }
        return {**out, **self.details}

    def lines(self) -> list[str]:
        """French lines describing the import (each source words its own)."""
        lines = [f"Fichier {self.file} : {integer(self.rows)} ligne(s) lue(s)."]
        if self.error_count:
            lines.append(f"{integer(self.error_count)} ligne(s) ignorée(s) :")
            lines += [f"  - {m}" for m in self.errors]
        return lines + list(self.warnings)


def write_layer(layer: str, frame: pd.DataFrame, meta: dict, report: Report) -> dict:
    """Store the layer with its provenance (one file, one rename); return the stored metadata."""
    return store.write_layer(layer, frame, meta)


@dataclass(frozen=True)
class Source:
    """How one layer is imported: what ``import_file`` calls, in order.

    ``parse(path, name=..., **options) -> (frame, report)`` reads and checks everything, writes nothing;
    ``provenance(frame, report) -> dict`` gives the source's metadata members (source, vintage, licence,
    url...); ``write(layer, frame, meta, report) -> meta`` stores the layer (``store.write_layer`` unless
    the source keeps a file beside it).
    """

    layer: str
    what: str  # French name in progress messages: « FINESS », « APL »...
    parse: Callable[..., tuple[pd.DataFrame, Report]]
    provenance: Callable[..., dict]
    write: Callable[[str, pd.DataFrame, dict, Report], dict] = write_layer
    # The provenance member naming the file. FINESS has always kept it as « origin_file », so that
    # « data status » shows no file for it (tests/geo/cli/golden/data_status.json); every other layer « file ».
    file_key: str = "file"


def import_file(
    source: Source,
    path,
    *,
    display_name: str | None = None,
    progress: Progress | None = None,
    meta: dict | None = None,
    **options,
) -> Report:
    """Read, check and write ``source``'s layer from ``path``; return the report (``report.meta`` set).

    ``display_name``: the user's name of the file (an upload is stored under a generated name): the only
    name messages, the report and the provenance show; default the file's own name. ``path`` may be None
    for a source read from memory (``options`` then carry it, ``display_name`` names it). ``options`` go
    to ``parse``; ``meta`` overrides provenance members (the URL a file was downloaded from, a date given
    by the user). On any ``DataError`` nothing is written.
    """
    say = progress_of(progress)
    start = time.perf_counter()
    name = display_name or (Path(path).name if path is not None else source.what)
    say(
        0.05,
        f"Lecture du fichier {source.what} {name}…" if path is not None else f"Lecture de {name}…",
    )
    frame, report = source.parse(path, name=name, **options)
    say(0.85, f"Écriture de la couche {source.what}…")
    provenance = {
        **source.provenance(frame, report),
        **(meta or {}),
        "imported_at": store.now_iso(),
        source.file_key: report.file,
    }
    report.meta = source.write(source.layer, frame, provenance, report)
    report.seconds = round(time.perf_counter() - start, 2)
    say(1.0, f"Import terminé : {report.lines()[0]}")
    return report
