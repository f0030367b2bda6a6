"""Team mode under load: 20 writers (20 processes, as 20 app instances would be) × 200 edits each on one
scenario in PostgreSQL, through the scenario store. PostgreSQL is a throwaway cluster started here.

Keys: ``team_edit_p50_ms``, ``team_edit_p95_ms`` (latency of one ``change_communes``), ``team_lost_edits``
(edits acknowledged but missing from the scenario or its journal at the end; must be 0).

    .venv/bin/python bench/team_bench.py
"""

from __future__ import annotations

import json
import multiprocessing
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

WRITERS = 20
EDITS = 200
SCENARIO = "Charge"


def _writer(url: str, index: int, codes: list[str], territory: int, ready, start, out) -> None:
    from geo.store.scenarios import ScenarioStore

    store = ScenarioStore(url, user=f"agent{index:02d}")
    store.last_change(SCENARIO)  # connected
    ready.put(index)
    start.wait()
    times = []
    acknowledged = []
    for code in codes:
        began = time.perf_counter()
        result = store.change_communes(SCENARIO, territory, add=[code], session=f"bench-{index}")
        times.append((time.perf_counter() - began) * 1000)
        acknowledged += result.added
    out.put((index, times, acknowledged))


def figures() -> dict:
    from geo.base.communes import load
    from geo.store.database import close_pools
    from geo.store.scenarios import ScenarioStore
    from tests.support.postgres import Cluster

    codes = sorted(load("communes")["insee"])[: WRITERS * EDITS]
    cluster = Cluster()
    try:
        url = cluster.url(schema=cluster.new_schema())
        admin = ScenarioStore(url, user="admin")
        admin.add_user("admin", "arbitre")
        for i in range(WRITERS):
            admin.add_user(f"agent{i:02d}", "editeur")
        admin.create(SCENARIO)
        admin.share(SCENARIO, "ecriture")
        territories = [admin.add_territory(SCENARIO, f"T{i:02d}") for i in range(WRITERS)]
        close_pools()
        context = multiprocessing.get_context("spawn")
        ready, start, out = context.Queue(), context.Event(), context.Queue()
        workers = [
            context.Process(
                target=_writer,
                args=(
                    url,
                    i,
                    codes[i * EDITS : (i + 1) * EDITS],
                    territories[i],
                    ready,
                    start,
                    out,
                ),
                daemon=True,  # never outlives the bench
            )
            for i in range(WRITERS)
        ]
        for worker in workers:
            worker.start()
        # Every writer imported, connected and waiting before the first edit (20 processes importing
        # pandas take about 15 s of these 2 cores: edits measured meanwhile would wait for the imports)
        for _ in workers:
            ready.get(timeout=300)
        start.set()
        results = sorted(out.get(timeout=900) for _ in workers)
        for worker in workers:
            worker.join(60)
        times = sorted(t for _, took, _ in results for t in took)
        acknowledged = {(i, code) for i, _, added in results for code in added}
        scen = ScenarioStore(url, user="admin").get(SCENARIO)
        saved = {(territories.index(t.id), code) for t in scen.territories for code in t.communes}
        journal = sum(
            1
            for row in ScenarioStore(url, user="admin").history(SCENARIO)
            if row["action"] == "communes"
        )
        lost = len(acknowledged - saved) + max(0, len(acknowledged) - journal)
        return {
            "team_edit_p50_ms": statistics.median(times),
            "team_edit_p95_ms": times[int(len(times) * 0.95) - 1],
            "team_lost_edits": lost,
        }
    finally:
        close_pools()
        cluster.stop()


if __name__ == "__main__":
    print(
        json.dumps(
            {k: round(v, 2) if isinstance(v, float) else v for k, v in figures().items()}, indent=2
        )
    )
