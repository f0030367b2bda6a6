"""Benchmarks: print a JSON object of figures (no assertion; see README)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from pathlib import Path

sys.path.insert(
    0, str(Path(__file__).resolve().parents[1])
)  # run as a file: the project's packages come next

from streamlit.testing.v1 import AppTest  # noqa: E402

from bench import (
    dossier_bench,  # noqa: E402 - issue 13: the PDF dossier
    draw_bench,  # noqa: E402 - issue 10: the drawing page in real Chromium
    home_bench,  # noqa: E402 - issue 14: the home page's France view and switches in real Chromium
    memory_bench,  # noqa: E402 - issue 12: server memory with 1 and 10 browser sessions
)
from bench.coverage_bench import figures as coverage_figures  # noqa: E402
from geo.base import communes as base  # noqa: E402
from geo.base.adjacency import build_adjacency  # noqa: E402
from geo.base.geometry import dissolve  # noqa: E402
from geo.base.scope import parse_scope, scope_communes, scope_outlines  # noqa: E402
from geo.base.shapes import simplify_coverage, simplify_outlines  # noqa: E402
from geo.sources.cpts import import_cpts  # noqa: E402
from geo.store import preferences  # noqa: E402
from geo.store.cache import clear_all  # noqa: E402
from geo.store.scenarios import ScenarioStore  # noqa: E402
from geo.territory.context import context  # noqa: E402
from geo.territory.diagnostics import Tally, diagnose  # noqa: E402
from layers.communes import map_frame  # noqa: E402
from layers.fastgeojson import serialise  # noqa: E402
from layers.maps import scope_map  # noqa: E402


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def communes_layer_bytes(spec: str) -> int:
    """Size of the commune layer alone (the GeoJSON text sent to the browser)."""
    return len(
        serialise(map_frame(simplify_coverage(scope_communes(parse_scope(spec))))).encode("utf-8")
    )


def map_payload(spec: str) -> tuple[int, float]:
    """Size of the map's script (GeoJSON embedded) and Python time to build it."""
    start = time.perf_counter()
    scope = parse_scope(spec)
    communes = simplify_coverage(scope_communes(scope))
    deps, regs = (simplify_outlines(areas, len(communes)) for areas in scope_outlines(scope))
    fmap = scope_map(communes, deps, regs, population_label=f"Population {base.POPULATION_VINTAGE}")
    html = fmap.get_root().render()
    elapsed = time.perf_counter() - start
    return len(html.encode("utf-8")), elapsed


def contiguous_block(start: str, size: int) -> list[str]:
    """``size`` communes grown breadth-first from ``start`` in the real adjacency graph."""
    graph = context().graph
    seen, queue = [start], deque([start])
    while queue and len(seen) < size:
        for nb in sorted(graph.neighbours(queue.popleft())):
            if nb not in seen and len(seen) < size:
                seen.append(nb)
                queue.append(nb)
    return seen


def territory_figures() -> dict:
    """Issue 4: warm diagnostics of 200 communes, dissolve of 500, territory page rerun at région scale."""
    out = {}
    ctx, out["context_build_s"] = timed(context)
    block = contiguous_block("31555", 200)  # around Toulouse
    tally = Tally.of(block, ctx)
    diagnose(tally, ctx)  # warm-up
    runs = [timed(diagnose, tally, ctx)[1] for _ in range(5)]
    out["diagnostics_200_warm_ms"] = statistics.median(runs) * 1000
    moved = block[-1]
    out["tally_update_one_commune_ms"] = timed(tally.update, ctx, remove=[moved])[1] * 1000
    big = contiguous_block("31555", 500)
    runs = [timed(dissolve, [ctx.geometry[c] for c in big])[1] for _ in range(3)]
    out["dissolve_500_ms"] = statistics.median(runs) * 1000
    out.update(page_rerun(block))
    return out


def page_rerun(block: list[str]) -> dict:
    """Python time of one rerun of the territory page (région scope, a 200-commune territory), no browser."""
    preferences.put("scope", "reg:76")
    store = ScenarioStore()
    store.create("Banc d'essai")
    tid = store.add_territory("Banc d'essai", "Autour de Toulouse")
    store.change_communes("Banc d'essai", tid, add=block)
    app = AppTest.from_file(
        str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=300
    )
    app.run()  # the home page, then the territory page (as a user would)
    app.switch_page("pages/2_Dessiner_un_territoire.py")
    first = timed(app.run)[1]
    if app.exception:
        raise RuntimeError(app.exception[0].message)
    runs = []
    for code in block[:5]:  # a click: one commune out, then the rerun
        store.change_communes("Banc d'essai", tid, remove=[code])
        runs.append(timed(app.run)[1])
    return {"page_first_run_s": first, "page_rerun_after_click_ms": statistics.median(runs) * 1000}


def cpts_list_file(path: Path, rows: int = 1_000_000, cpts: int = 5_000) -> Path:
    """A CPTS commune list of ``rows`` lines: ``cpts`` CPTS of consecutive real commune codes (overlapping)."""
    codes = sorted(base.load("communes")["insee"])
    per = rows // cpts
    step = max(1, (len(codes) - per) // cpts)
    lines = ["cpts_id;cpts_nom;code_insee;statut"]
    for k in range(cpts):
        start = (k * step) % (len(codes) - per)
        lines += [f"C{k:04d};CPTS n° {k};{code};projet" for code in codes[start : start + per]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def cpts_import_figure(tmp: str) -> dict:
    """Issue 9: import of a 1,000,000-row CPTS list (5,000 CPTS over real commune codes), layer written."""
    path = cpts_list_file(Path(tmp) / "cpts_1m.csv")
    _, seconds = timed(import_cpts, path)
    return {"cpts_import_1m_s": seconds}


def _team_figures() -> dict:
    """Issue 12: 20 writers on one scenario in a throwaway PostgreSQL. Run as a process of its own, so that
    its 20 spawned writers import that light script, not this one (each would otherwise carry the whole app:
    about 1 GB apiece)."""
    script = Path(__file__).with_name("team_bench.py")
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        print(f"figures du mode équipe non mesurées : {done.stderr[-2000:]}", file=sys.stderr)
        return {}
    return json.loads(done.stdout)


def main() -> None:
    figures: dict[str, float | int] = {}
    with tempfile.TemporaryDirectory(prefix="cartocpts-bench-") as tmp:
        os.environ["CARTOCPTS_DATA_DIR"] = tmp
        _, figures["build_s"] = timed(base.build_base, force=True)
        clear_all()  # the next load reads the file again
        _, figures["load_s"] = timed(base.load, "communes")
        figures["map_payload_bytes_occitanie"], figures["map_build_s_occitanie"] = map_payload(
            "reg:76"
        )
        figures["map_payload_bytes_haute_garonne"], figures["map_build_s_haute_garonne"] = (
            map_payload("dep:31")
        )
        figures["communes_layer_bytes_occitanie"] = communes_layer_bytes("reg:76")
        _, figures["adjacency_build_s"] = timed(build_adjacency)
        figures.update(territory_figures())
        figures.update(cpts_import_figure(tmp))
        figures.update(coverage_figures())
        reason = draw_bench.unavailable()
        if reason:
            print(f"figures de dessin non mesurées : {reason}", file=sys.stderr)
        else:
            figures.update(draw_bench.figures(base_dir=Path(tmp)))
            figures.update(memory_bench.figures(base_dir=Path(tmp)))
            figures.update(home_bench.figures(base_dir=Path(tmp)))
        figures.update(dossier_bench.figures(base_dir=Path(tmp)))
        figures.update(_team_figures())
    rounded = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in figures.items()}
    print(json.dumps(rounded, indent=2))


if __name__ == "__main__":
    main()
