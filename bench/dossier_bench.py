"""Dossier figures (issue 13): the PDF of one territory and of a 150-territory scenario.

``figures()`` makes a data directory of its own (the commune base of ``base_dir`` linked, or built), imports
the real FINESS extraction of Occitanie when ``../shared/data`` is there (MSPs on the maps and in the lists),
creates the drawing bench's scenarios (``bench.draw_bench.build_scenarios``: « Banc Occitanie 150 », 150
territories of about 25 real contiguous communes, reg:76) and times, on a warm context:

- ``dossier_1_s``: the dossier of one territory (map, diagnosis, lists, typst), bytes in ``dossier_1_bytes``;
- ``dossier_150_s``: the dossier of the whole scenario (150 maps, summary, coverage), bytes in
  ``dossier_150_bytes`` (about 5 MB at most: a file that can be e-mailed to the ARS).

``dossier_1_cpu_s`` and ``dossier_150_cpu_s`` are the CPU seconds of the same builds (all threads of the
process, typst's included): on a shared, loaded machine they say more than the wall-clock figures.

Run alone: ``.venv/bin/python bench/dossier_bench.py``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import draw_bench, harness  # noqa: E402

SHARED = Path(
    os.environ.get("CARTOCPTS_SHARED_DATA")
    or Path(__file__).resolve().parents[2] / "shared" / "data"
)


def figures(base_dir: Path | None = None) -> dict:
    from geo.report.build import build_dossier
    from geo.sources.finess import import_finess
    from geo.store.scenarios import ScenarioStore
    from geo.territory.context import context

    out: dict[str, float | int] = {}
    with harness.data_dir(base_dir, "cartocpts-dossier-bench-"):
        finess = SHARED / "finess" / "etalab-cs1100507-occitanie.csv"
        if finess.exists():
            import_finess(finess)
        draw_bench.build_scenarios()
        store = ScenarioStore()
        scenario = store.get(draw_bench.OCCITANIE)
        ctx = context()  # warm, as in the app
        first = scenario.territories[0].name
        start, cpu = time.perf_counter(), time.process_time()
        pdf = build_dossier(scenario, ctx, territory=first, store=store, record=False)
        out["dossier_1_s"] = time.perf_counter() - start
        out["dossier_1_cpu_s"] = time.process_time() - cpu
        out["dossier_1_bytes"] = len(pdf)
        start, cpu = time.perf_counter(), time.process_time()
        pdf = build_dossier(scenario, ctx, store=store, record=False)
        out["dossier_150_s"] = time.perf_counter() - start
        out["dossier_150_cpu_s"] = time.process_time() - cpu
        out["dossier_150_bytes"] = len(pdf)
        out["dossier_150_territories"] = len(scenario.territories)
    return out


if __name__ == "__main__":
    base = os.environ.get("CARTOCPTS_DATA_DIR")
    result = figures(Path(base) if base else None)
    print(
        json.dumps(
            {k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()}, indent=2
        )
    )
