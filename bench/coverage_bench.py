"""Benchmark of issue 5: coverage of France by every EPCI taken as a territory, and a proposal for a département.

``figures()`` is called by ``bench/run.py`` (in its temporary data
directory); ``python bench/coverage_bench.py`` prints the figures alone
(using the usual data directory, the commune base built if needed).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(
    0, str(Path(__file__).resolve().parents[1])
)  # run as a file: the project's packages come next

from geo.base.communes import build_base  # noqa: E402
from geo.coverage.gaps import clusters_geojson, coverage, coverage_json, uncovered_csv  # noqa: E402
from geo.coverage.proposals import propose  # noqa: E402
from geo.sources.finess import import_finess  # noqa: E402
from geo.store import layers as store  # noqa: E402
from geo.territory.context import context  # noqa: E402

PROPOSE_DEP = "31"  # Haute-Garonne, 586 communes
PROPOSE_REG = "76"  # Occitanie, 4,454 communes: cut in a child process
SHARED_FINESS = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "finess"
    / "etalab-cs1100507-occitanie.csv"
)


def figures() -> dict:
    ctx = context()
    communes = ctx.communes
    known = communes[communes["epci"].notna() & (communes["epci"] != "")]
    assignment = {code: [epci] for code, epci in zip(known["insee"], known["epci"])}
    start = time.perf_counter()
    result = coverage("fr", assignment, ctx)
    coverage_json(result)
    coverage_s = time.perf_counter() - start

    # the early state of a région: few CPTS (here Ariège's EPCIs), France almost entirely uncovered
    few = {code: terr for code, terr in assignment.items() if ctx.dep.get(code) == "09"}
    start = time.perf_counter()
    sparse = coverage("fr", few, ctx)
    clusters_geojson(sparse, ctx)
    uncovered_csv(sparse, ctx)
    zones_s = time.perf_counter() - start

    codes = sorted(code for code, dep in ctx.dep.items() if dep == PROPOSE_DEP)
    start = time.perf_counter()
    proposal = propose(codes, ctx, min_pop=20000, seed=1, around_msp=False)
    propose_s = time.perf_counter() - start
    out = {
        "coverage_fr_s": coverage_s,
        "coverage_fr_territories": len(result.territories),
        "coverage_fr_sparse_zones_s": zones_s,
        "coverage_fr_sparse_uncovered": len(sparse.uncovered),
        "propose_dep_s": propose_s,
        "propose_dep_communes": len(codes),
        "propose_dep_territories": len(proposal.territories),
    }
    return out | msp_figures()


def msp_figures() -> dict:
    """Proposals around the MSPs (Haute-Garonne, then the whole of Occitanie cut in a child process).

    Needs MSPs: the FINESS layer of the data directory or, when there is
    none, the sample extraction of ``../shared/data`` (bench only; the app
    never reads it). Without either, the figures are null.
    """
    if store.read_meta("finess") is None:
        if not SHARED_FINESS.exists():
            return {"propose_dep_msp_s": None, "propose_reg_msp_s": None}
        import_finess(SHARED_FINESS)
    ctx = context()
    codes = sorted(code for code, dep in ctx.dep.items() if dep == PROPOSE_DEP)
    start = time.perf_counter()
    dep = propose(codes, ctx, min_pop=20000, seed=1)
    dep_s = time.perf_counter() - start
    codes = sorted(code for code, reg in ctx.reg.items() if reg == PROPOSE_REG)
    start = time.perf_counter()
    reg = propose(codes, ctx, min_pop=20000, seed=1)
    reg_s = time.perf_counter() - start
    return {
        "propose_dep_msp_s": dep_s,
        "propose_dep_msp_territories": len(dep.territories),
        "propose_dep_msp_with_msp": dep.msp_territories,
        "propose_reg_msp_s": reg_s,
        "propose_reg_communes": len(codes),
        "propose_reg_msp_territories": len(reg.territories),
        "propose_reg_msp_with_msp": reg.msp_territories,
    }


def main() -> None:
    build_base()
    rounded = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in figures().items()}
    print(json.dumps(rounded, indent=2))


if __name__ == "__main__":
    main()
