"""Calls to libgeoda (pygeoda) for regionalisation: max-p and AZP on our commune adjacency.

A call is described by a ``Job`` (plain lists, no GeoDataFrame) so that it
can run either here or in a child process. Small zones run here; large
ones (more than ``CHILD_UNITS`` communes, a région) run in a child process
(``python geo/coverage/regionalise.py``, job and labels as JSON) that is killed at
once when the user cancels or leaves the page: the library itself cannot
be interrupted, a process can.

- Contiguity is ours: the spatial weights are written as a GAL file from
  the neighbour lists (positions in the job), not recomputed by pygeoda.
- ``bounds`` are (minimum, values) pairs: every region reaches each
  minimum. libgeoda's max-p takes several of them (pygeoda's
  ``maxp_greedy`` only passes one, so the lower-level ``gda_maxp_greedy``
  is called with the same arguments); a second bound of 1 on "this
  commune has an MSP" makes every region hold an MSP commune.
- A bound must be reachable by the whole zone, or libgeoda keeps looking
  for a region that cannot exist (it did not return in minutes on Nord
  with no MSP): ``_solve`` refuses such a job.

Light on purpose: only the standard library, ``geo.errors`` and ``geo.formats`` (standard library only) at the
top, since the child process runs this file alone; numpy and pygeoda are imported where they are used.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from geo.errors import DataError
from geo.formats.french import integer

ITERATIONS = 99  # GeoDa's default, for up to ITERATION_UNITS communes
ITERATION_UNITS = 1500  # above, fewer iterations (cost grows with units x iterations)
MIN_ITERATIONS = 10
CHILD_UNITS = 1200  # zones above this size are cut in a child process, which a cancel stops
TICK_S = 0.25  # how often the parent reports progress and checks for a cancel while a child works


class Cancelled(DataError):
    """The user cancelled the computation."""

    def __init__(self, message: str = "Calcul de la proposition annulé."):
        super().__init__(message)


@dataclass
class Job:
    kind: str  # "maxp" or "azp"
    neighbours: list[list[int]]  # by position
    coords: list[list[float]]  # columns: x km, y km (compactness is the homogeneity criterion)
    bounds: list[tuple[float, list[float]]]  # (minimum, values per unit)
    seed: int = 1
    p: int = 0  # number of regions, for AZP
    iterations: int = ITERATIONS
    threads: int = field(default_factory=lambda: max(1, min(8, os.cpu_count() or 1)))

    @property
    def size(self) -> int:
        return len(self.neighbours)


def iterations(units: int) -> int:
    if units <= ITERATION_UNITS:
        return ITERATIONS
    return max(MIN_ITERATIONS, ITERATIONS * ITERATION_UNITS // units)


def job_for(
    kind: str, codes: list[str], ctx, bounds: list[tuple[float, list[float]]], seed: int, p: int = 0
) -> Job:
    """A job on ``codes`` (their order gives the positions) with our adjacency and km coordinates."""
    index = {c: i for i, c in enumerate(codes)}
    neighbours = [sorted(index[n] for n in ctx.graph.neighbours(c) if n in index) for c in codes]
    return Job(
        kind=kind,
        neighbours=neighbours,
        coords=coordinates(codes, ctx),
        bounds=bounds,
        seed=int(seed),
        p=int(p),
        iterations=iterations(len(codes)),
    )


def coordinates(codes: list[str], ctx) -> list[list[float]]:
    """Representative points in km (local equirectangular projection), as two columns."""
    import numpy as np  # noqa: PLC0415 - the child process (this file run alone) never needs it

    pos = {c: i for i, c in enumerate(ctx.codes)}
    xy = np.full((len(codes), 2), np.nan)
    for k, code in enumerate(codes):
        if code in pos:
            p = ctx.points[pos[code]]
            xy[k] = (p.x, p.y)
    if np.isnan(xy).all():
        xy[:] = 0.0
    xy = np.where(np.isnan(xy), np.nanmean(xy, axis=0), xy)
    lat0 = math.radians(float(np.mean(xy[:, 1])))
    return [(xy[:, 0] * 111.32 * math.cos(lat0)).tolist(), (xy[:, 1] * 110.57).tolist()]


def regions_of(codes: list[str], labels: list[int]) -> list[list[str]]:
    """Codes grouped by label, in label order (label 0, "left out", is a group like the others)."""
    regions: dict[int, list[str]] = {}
    for code, lab in zip(codes, labels):
        regions.setdefault(int(lab), []).append(code)
    return [regions[k] for k in sorted(regions)]


# --- the library ----------------------------------------------------------------------------


def _weights(job: Job, folder: Path):
    import pygeoda  # noqa: PLC0415 - heavy (libgeoda): loaded only when a job is solved

    lines = [f"0 {job.size} communes insee"]
    for i, nbrs in enumerate(job.neighbours):
        lines.append(f"{i} {len(nbrs)}")
        lines.append(" ".join(map(str, nbrs)))
    path = folder / "communes.gal"
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    return pygeoda.read_gal(str(path), [str(i) for i in range(job.size)])


def _solve(job: Job) -> list[int]:
    """Region labels by position (1..p; 0 for units the library left out)."""
    # heavy (libgeoda): loaded only when a job is solved
    from pygeoda.clustering.utils import calculate_clustering_statistics  # noqa: PLC0415
    from pygeoda.libgeoda import VecInt, VecPair, VecVecDouble, gda_azp_greedy, gda_maxp_greedy  # noqa: PLC0415

    for minimum, values in job.bounds:
        if sum(values) < minimum:  # unreachable: libgeoda would search without end
            raise DataError(
                f"Borne inatteignable pour la zone ({integer(sum(values))} < {integer(minimum)})."
            )
    data = VecVecDouble()
    for column in job.coords:
        data.push_back(column)
    mins = VecPair()
    for minimum, values in job.bounds:
        mins.push_back((float(minimum), [float(v) for v in values]))
    with tempfile.TemporaryDirectory(prefix="cartocpts-regions-") as tmp:
        w = _weights(job, Path(tmp))
        if job.kind == "maxp":
            ids = gda_maxp_greedy(
                w.gda_w,
                data,
                "raw",
                job.iterations,
                mins,
                VecPair(),
                VecInt([]),
                "euclidean",
                int(job.seed),
                int(job.threads),
            )
        elif job.kind == "azp":
            ids = gda_azp_greedy(
                int(job.p),
                w.gda_w,
                data,
                "raw",
                0,
                mins,
                VecPair(),
                VecInt([]),
                "euclidean",
                int(job.seed),
            )
        else:
            raise ValueError(f"unknown job kind {job.kind!r}")
        return [int(x) for x in calculate_clustering_statistics(ids, data, job.size)["Clusters"]]


# --- running here or in a child process -----------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def _child_main() -> int:
    """``python geo/coverage/regionalise.py``: a JSON job on stdin, JSON labels (or a French error) on stdout."""
    try:
        labels = _solve(Job(**json.load(sys.stdin)))
    except DataError as exc:
        json.dump({"error": str(exc)}, sys.stdout)
        return 2
    json.dump({"labels": labels}, sys.stdout)
    return 0


def _child_result(returncode: int, out: bytes, err: bytes) -> list[int]:
    try:
        doc = json.loads(out.decode("utf-8") or "{}")
    except ValueError:
        doc = {}
    if returncode == 0 and "labels" in doc:
        return [int(x) for x in doc["labels"]]
    if "error" in doc:
        raise DataError(doc["error"])
    last = (err.decode("utf-8", "replace").strip().splitlines() or ["sans message"])[-1]
    raise DataError(
        f"Le calcul du découpage a échoué dans la bibliothèque libgeoda (code {returncode} : {last})."
    )


def run(job: Job, tick=None, cancel=None) -> list[int]:
    """Solve ``job``; a large one in a child process, ``tick(seconds)`` called and ``cancel()`` checked meanwhile.

    The child is a plain ``python .../geo/coverage/regionalise.py`` (not multiprocessing,
    which re-imports the parent's main script; run as a file so that the package's
    heavier ``__init__`` is not imported). ``tick`` may raise
    (Streamlit stops a script that way when the user leaves or clicks
    « Annuler »): the child is then killed too.
    """
    if job.size <= CHILD_UNITS:
        return _solve(job)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
    }
    payload = json.dumps(dataclasses.asdict(job)).encode("utf-8")
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve())],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=env,
    )
    try:
        while True:
            try:
                out, err = child.communicate(payload, timeout=TICK_S)
                break
            except subprocess.TimeoutExpired:
                payload = None  # sent on the first call only
                if cancel is not None and cancel():
                    raise Cancelled() from None
                if tick is not None:
                    tick(time.perf_counter() - start)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    return _child_result(child.returncode, out, err)


if __name__ == "__main__":
    raise SystemExit(_child_main())
