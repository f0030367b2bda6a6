"""App server memory with 1, then 10 browser sessions on the drawing page (issue 12, section 5).

``figures()`` prepares a data directory like ``bench/draw_bench.py`` (the commune base linked or built, one
of its bench scenarios: by default « Banc Occitanie 150 », 150 territories at the scope of the Occitanie
région, or « Banc Ariège » with ``--scope dep:09``; the FINESS extraction of Occitanie from
``../shared/data`` when present, so the map shows its MSP), starts
``streamlit run app.py`` and opens « Dessiner un territoire » in real Chromium (Playwright), one browser
context per session (separate cookies, separate Streamlit sessions), waiting each time until the map
shows the scope's communes and the page is idle. The server's resident memory (its process and any
children, ``VmRSS`` from ``/proc``) is read after the first session and after the tenth, every session
still open:

- ``app_rss_mb_1``, ``app_rss_mb_10``: MB (10^6 bytes) with 1 and 10 sessions;
- ``app_rss_mb_per_extra_session``: (``app_rss_mb_10`` - ``app_rss_mb_1``) / 9 (target ≤ 40 MB: what is
  shared is cached once per process, not per session);
- ``app_rss_mb_peak``: the highest RSS read after each new session (the allocator sometimes gives memory
  back to the system after a few sessions, so ``app_rss_mb_10`` can be below an earlier reading; the
  RSS after each session is printed on stderr).

Run alone: ``.venv/bin/python bench/memory_bench.py [--scope dep:09]`` (with ``CARTOCPTS_DATA_DIR`` set,
that directory's commune base is linked instead of built).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import draw_bench, harness  # noqa: E402

SESSIONS = 10
TIMEOUT_S = 600  # per session: the machine may be shared
MB = 1_000_000
SCOPE_PATHS = {"dep:09": 300, "reg:76": 4_000}  # commune paths the map must show before measuring
FINESS = Path(__file__).resolve().parents[2] / "shared" / "data" / "finess"


def tree_rss(pid: int) -> int:
    """Resident bytes of process ``pid`` and all its descendants, from ``/proc``."""
    total, todo, seen = 0, [pid], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                todo += [int(c) for c in task.read_text().split()]
            except OSError:
                continue
    return total


def settled_rss(pid: int, seconds: float = 5.0) -> int:
    """The server's RSS once it changed by less than 1 MB in ``seconds`` (a rerun or the région's
    background preparation may still be finishing)."""
    last = tree_rss(pid)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        time.sleep(seconds)
        now = tree_rss(pid)
        if abs(now - last) < MB:
            return now
        last = now
    return last


def _import_finess() -> None:
    files = sorted(FINESS.glob("etalab-cs1100507-*.csv")) if FINESS.is_dir() else []
    if files:
        from geo.sources.finess import import_finess

        import_finess(files[0])


def open_session(browser, app, scope: str):
    """A new browser context (a new Streamlit session) on the drawing page, its map shown."""
    context = browser.new_context(
        viewport={"width": 1400, "height": 1000}, locale="fr-FR", timezone_id="Europe/Paris"
    )
    page = context.new_page()
    socket = draw_bench.Socket(page)
    page.goto(f"{app.url}/Dessiner_un_territoire")
    draw_bench.wait_idle(page, timeout=TIMEOUT_S * 1000)
    draw_bench.wait_map(page, scope, SCOPE_PATHS.get(scope, 1), timeout=TIMEOUT_S * 1000)
    draw_bench.wait_quiet(page, socket, started=1, timeout=TIMEOUT_S)
    draw_bench.wait_idle(page, timeout=TIMEOUT_S * 1000)
    return context


def figures(base_dir: Path | None = None, scope: str = "reg:76") -> dict:
    """``app_rss_mb_1``, ``app_rss_mb_10``, ``app_rss_mb_per_extra_session`` (see the module docstring)."""
    from geo.store import preferences
    from geo.store.scenarios import ScenarioStore

    out: dict = {}
    with harness.data_dir(base_dir, "cartocpts-membench-") as data:
        draw_bench.build_scenarios()
        # the page opens the first scenario by name: keep the one of the scope measured
        ScenarioStore().delete(
            draw_bench.ARIEGE if scope.startswith("reg:") else draw_bench.OCCITANIE
        )
        _import_finess()
        preferences.put("scope", scope)
        with harness.app_and_browser(data) as (app, browser):
            contexts = [open_session(browser, app, scope)]
            out["app_rss_mb_1"] = settled_rss(app.proc.pid) / MB
            curve = [out["app_rss_mb_1"]]
            while len(contexts) < SESSIONS:
                contexts.append(open_session(browser, app, scope))
                curve.append(settled_rss(app.proc.pid) / MB)
            print(
                f"RSS par nombre de sessions (Mo) : {[round(v) for v in curve]}",
                file=sys.stderr,
            )
            out["app_rss_mb_10"] = settled_rss(app.proc.pid) / MB
            curve[-1] = out["app_rss_mb_10"]
            out["app_rss_mb_peak"] = max(curve)
            out["app_rss_mb_per_extra_session"] = (out["app_rss_mb_10"] - out["app_rss_mb_1"]) / (
                SESSIONS - 1
            )
            for context in contexts:
                context.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scope", default="reg:76", help="périmètre ouvert (reg:76 ou dep:09)")
    args = parser.parse_args()
    reason = draw_bench.unavailable()
    if reason:
        sys.exit(f"mesure impossible : {reason}")
    base = Path(os.environ["CARTOCPTS_DATA_DIR"]) if os.environ.get("CARTOCPTS_DATA_DIR") else None
    result = figures(base_dir=base, scope=args.scope)
    print(json.dumps({k: round(v, 1) for k, v in result.items()}, indent=2))


if __name__ == "__main__":
    main()
