"""Drawing-page figures of issue 10, measured in real Chromium (Playwright) against a running app.

``figures()`` builds a data directory of its own (or links the commune base of ``base_dir``), creates two
scenarios through the store (« Banc Ariège », dep:09, 2 territories; « Banc Occitanie 150 », reg:76,
150 territories of contiguous real communes), starts ``streamlit run app.py`` on 127.0.0.1 and clicks
communes with the real mouse. Every click figure is the median of 10 clicks on distinct communes:

- ``draw_click_recolour_ms``: pointerdown (capture listener) → the clicked path's ``fill`` attribute changed
  (MutationObserver), both stamped with ``performance.now()`` in the page;
- ``draw_click_panel_ms_dep`` / ``draw_click_panel_ms_reg150``: pointerdown → the panel's « Communes »
  metric shows the new count (MutationObserver on the document);
- ``draw_scope_switch_s``: Enter in the sidebar scope select (Ariège → Occitanie) → the map's
  ``data-scope`` is ``reg:76`` and its commune paths are drawn (wall clock, first switch of the session);
- ``draw_click_bytes``: payload bytes of the Streamlit websocket frames, both directions, from the click
  until the panel is updated and the socket has been quiet for 500 ms.

Run alone: ``.venv/bin/python bench/draw_bench.py [--detail]`` (with ``CARTOCPTS_DATA_DIR`` set, that
directory's commune base is linked instead of built; ``--detail`` also prints, on stderr, the
websocket messages of one click by kind and size, and the rerun's time from the browser's message to
``script_finished``).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections import deque
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import harness  # noqa: E402

ARIEGE, OCCITANIE = "Banc Ariège", "Banc Occitanie 150"
FOIX, PAMIERS = "09122", "09225"
CLICKS = 10
QUIET_S = 0.5


# --- data --------------------------------------------------------------------------------


def _grow(graph, start: str, size: int, allowed: set[str]) -> list[str]:
    """Up to ``size`` communes of ``allowed`` grown breadth-first from ``start`` (contiguous)."""
    seen, queue = [start], deque([start])
    taken = {start}
    while queue and len(seen) < size:
        for nb in sorted(graph.neighbours(queue.popleft())):
            if nb in allowed and nb not in taken and len(seen) < size:
                seen.append(nb)
                taken.add(nb)
                queue.append(nb)
    return seen


def _ring(graph, block: list[str], allowed: set[str]) -> list[str]:
    """The communes of ``allowed`` next to ``block`` and not in it, sorted."""
    inside = set(block)
    return sorted(
        {nb for c in block for nb in graph.neighbours(c) if nb in allowed and nb not in inside}
    )


def build_scenarios() -> dict:
    """The two bench scenarios; returns the communes to click in each (free communes next to territory 1)."""
    from geo.base.adjacency import graph
    from geo.base.communes import load
    from geo.store import preferences
    from geo.store.scenarios import ScenarioStore

    communes = load("communes")
    g = graph()
    ariege = set(communes.loc[communes["dep"] == "09", "insee"])
    occitanie = set(communes.loc[communes["reg"] == "76", "insee"])
    store = ScenarioStore()

    # Ariège: territory 1 around Foix (12 communes), territory 2 around Pamiers; clicks on Foix's free ring
    t1 = _grow(g, FOIX, 12, ariege)
    t2 = _grow(g, PAMIERS, 12, ariege - set(t1))
    ring_dep = [c for c in _ring(g, t1, ariege) if c not in t2]
    store.create_from(
        ARIEGE,
        [{"name": "Banc T1 (Foix)", "communes": t1}, {"name": "Banc T2 (Pamiers)", "communes": t2}],
        scope="dep:09",
    )

    # Occitanie: territory 1 around Foix, its ring left free for the clicks, then 149 blocks of ~25 communes
    ring_reg = _ring(g, t1, occitanie)
    free = occitanie - set(t1) - set(ring_reg)
    blocks = [t1]
    for seed in sorted(free):
        if len(blocks) == 150:
            break
        if seed not in free:
            continue
        block = _grow(g, seed, 25, free)
        if len(block) >= 5:  # too small a leftover: leave it free
            blocks.append(block)
            free -= set(block)
    territories = [{"name": f"Banc R{i + 1:03d}", "communes": b} for i, b in enumerate(blocks)]
    territories[0]["name"] = "Banc R001 (Foix)"
    store.create_from(OCCITANIE, territories, scope="reg:76")
    preferences.put("scope", "dep:09")
    points = communes.set_index("insee").geometry.representative_point()
    return {
        "dep": [(c, points[c].y, points[c].x) for c in ring_dep],
        "reg": [(c, points[c].y, points[c].x) for c in ring_reg],
        "reg_territories": len(blocks),
        "reg_communes": sum(len(b) for b in blocks),
        "reg_scope_communes": len(occitanie),
    }


# --- browser -----------------------------------------------------------------------------

STATE = "document.querySelector('.cartocpts-drawmap').parentElement.__cartocpts"

INSTALL = """([code, expected]) => {
  const path = document.querySelector('path.c-' + code);
  const b = window.__bench = {t0: null, recolour: null, panel: null, before: path.getAttribute('fill')};
  window.addEventListener('pointerdown', () => { if (b.t0 === null) b.t0 = performance.now(); },
                          {capture: true, once: true});
  new MutationObserver((_, obs) => {
    if (path.getAttribute('fill') !== b.before) { b.recolour = performance.now(); obs.disconnect(); }
  }).observe(path, {attributes: true, attributeFilter: ['fill']});
  const count = () => {
    for (const m of document.querySelectorAll('[data-testid="stMetric"]')) {
      const label = m.querySelector('[data-testid="stMetricLabel"]');
      if (label && label.innerText.trim() === 'Communes') {
        return m.querySelector('[data-testid="stMetricValue"]').innerText.replace(/[\\s\\u202f]/g, '');
      }
    }
    return null;
  };
  const check = (obs) => {
    if (b.panel === null && count() === expected) { b.panel = performance.now(); if (obs) obs.disconnect(); }
  };
  new MutationObserver((_, obs) => check(obs)).observe(document.body,
    {subtree: true, childList: true, characterData: true});
}"""

# communes whose representative point, on screen, hits their own path (viewport coordinates)
HITS = (
    """(points) => {
  const s = %s;
  const box = s.map.getContainer().getBoundingClientRect();
  const out = [];
  for (const [code, lat, lng] of points) {
    const p = s.map.latLngToContainerPoint([lat, lng]);
    const x = box.left + p.x, y = box.top + p.y;
    if (x < box.left + 5 || y < box.top + 5 || x > box.right - 5 || y > box.bottom - 5) continue;
    if (y < 0 || y > window.innerHeight || x < 0 || x > window.innerWidth) continue;
    const el = document.elementFromPoint(x, y);
    if (el && el.classList && el.classList.contains('c-' + code)) out.push([code, x, y]);
  }
  return out;
}"""
    % STATE
)


# every websocket message sent or received by the page, stamped with performance.now() (breakdown of a click)
WS_LOG = """(() => {
  const log = window.__wsLog = [];
  const size = (d) => typeof d === 'string' ? d.length : (d.byteLength !== undefined ? d.byteLength : d.size);
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (d) { log.push([performance.now(), 's', size(d)]); return send.call(this, d); };
  const Native = window.WebSocket;
  window.WebSocket = function (...args) {
    const ws = new Native(...args);
    ws.addEventListener('message', (e) => log.push([performance.now(), 'r', size(e.data)]));
    return ws;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
})();"""


class Socket:
    """Payload bytes of the Streamlit websocket frames, with their time and direction."""

    def __init__(self, page):
        self.frames: list[tuple[float, str, bytes | str]] = []
        self.finished = 0  # script runs ended (script_finished received after their new_session)
        self.started = 0  # script runs started (new_session received)
        self.statuses: list[int] = []  # script_finished statuses, in order
        page.on("websocket", self._attach)

    def _attach(self, ws):
        if "_stcore/stream" not in ws.url:
            return
        ws.on("framesent", lambda payload: self.frames.append((time.monotonic(), "sent", payload)))
        ws.on("framereceived", self._received)

    def _received(self, payload) -> None:
        self.frames.append((time.monotonic(), "received", payload))
        kind, status = _kind(payload) if not isinstance(payload, str) else (None, None)
        if kind == "new_session":
            self.started += 1
        elif kind == "script_finished" and self.started > self.finished:
            self.finished += 1
            self.statuses.append(status)

    def since(self, index: int) -> list[tuple[float, str, bytes | str]]:
        return self.frames[index:]


def _kind(payload: bytes) -> tuple[str | None, int | None]:
    """The ForwardMsg's type and, for ``script_finished``, its status."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    msg = ForwardMsg()
    try:
        msg.ParseFromString(payload)
    except Exception:  # noqa: BLE001 - not a ForwardMsg
        return None, None
    kind = msg.WhichOneof("type")
    return kind, (int(msg.script_finished) if kind == "script_finished" else None)


def _size(payload) -> int:
    return len(payload.encode("utf-8")) if isinstance(payload, str) else len(payload)


def wait_idle(page, timeout: float = 120_000) -> None:
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout
    )


def wait_quiet(
    page, socket: Socket, quiet: float = QUIET_S, timeout: float = 120.0, started: int = 0
) -> None:
    """Until at least ``started`` script runs have started, every started run has ended, and no websocket
    frame has arrived or left for ``quiet`` seconds (Playwright's events are pumped while waiting)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page.wait_for_timeout(100)
        last = socket.frames[-1][0] if socket.frames else 0.0
        if (
            socket.started >= started
            and socket.finished >= socket.started
            and time.monotonic() - last >= quiet
        ):
            return
    raise RuntimeError("le websocket ne s'est pas tu (script toujours en cours ?)")


def metric_count(page) -> int:
    text = page.evaluate("""() => {
      for (const m of document.querySelectorAll('[data-testid="stMetric"]')) {
        const label = m.querySelector('[data-testid="stMetricLabel"]');
        if (label && label.innerText.trim() === 'Communes')
          return m.querySelector('[data-testid="stMetricValue"]').innerText.replace(/[\\s\\u202f]/g, '');
      }
      return null; }""")
    if text is None:
        raise RuntimeError("métrique « Communes » absente du panneau")
    return int(text)


def wait_map(page, scope: str, min_paths: int, timeout: float = 120_000) -> None:
    page.wait_for_function(
        """([scope, n]) => { const m = document.querySelector('.cartocpts-drawmap');
             return m && m.dataset.scope === scope && m.querySelectorAll('path[class*="c-"]').length >= n; }""",
        arg=[scope, min_paths],
        timeout=timeout,
    )


def click_series(page, socket: Socket, points: list, detail: list | None = None) -> dict:
    """Click up to ``CLICKS`` distinct communes (adding each to the active territory); per-click figures."""
    page.locator(".cartocpts-drawmap").scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    hits = page.evaluate(HITS, [list(p) for p in points])
    if len(hits) < CLICKS:
        raise RuntimeError(f"{len(hits)} communes cliquables seulement (il en faut {CLICKS})")
    recolour, panel, sizes, runs, sends, lasts, reruns = [], [], [], [], [], [], []
    for code, x, y in hits[:CLICKS]:
        expected = metric_count(page) + 1
        page.evaluate(INSTALL, [code, str(expected)])
        start, started = len(socket.frames), socket.started
        log_start = page.evaluate("() => window.__wsLog.length")
        page.mouse.click(x, y)
        page.wait_for_function("() => window.__bench.panel !== null", timeout=120_000)
        wait_quiet(page, socket, started=started + 1)
        wait_idle(page)
        b = page.evaluate("() => window.__bench")
        log = page.evaluate("(n) => window.__wsLog.slice(n)", log_start)
        sent = [t for t, d, _ in log if d == "s"]
        if sent:
            sends.append(sent[0] - b["t0"])
        lasts.append(log[-1][0] - b["t0"] if log else 0.0)
        reruns.append(socket.started - started)
        if b["recolour"] is None:
            raise RuntimeError(f"la commune {code} n'a pas changé de couleur")
        recolour.append(b["recolour"] - b["t0"])
        panel.append(b["panel"] - b["t0"])
        frames = socket.since(start)
        sizes.append(sum(_size(p) for _, _, p in frames))
        runs.append(_script_time(frames))
        if detail is not None:
            detail[:] = frames  # the last click's
    return {
        "recolour_ms": statistics.median(recolour),
        "panel_ms": statistics.median(panel),
        "bytes": statistics.median(sizes),
        "script_ms": statistics.median(r for r in runs if r is not None)
        if any(r is not None for r in runs)
        else None,
        "click_to_send_ms": statistics.median(sends) if sends else None,
        "click_to_last_message_ms": statistics.median(lasts),
        "panel_all_ms": [round(v) for v in panel],
        "bytes_all": sizes,
        "runs_per_click": reruns,
    }


def _script_time(frames) -> float | None:
    """Time from the browser's rerun message to the server's ``script_finished`` (Python clock, ms)."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    sent = finished = None
    session = False
    for stamp, direction, payload in frames:
        if isinstance(payload, str):
            continue
        if direction == "sent" and sent is None:
            msg = BackMsg()
            try:
                msg.ParseFromString(payload)
            except Exception:  # noqa: BLE001 - not a BackMsg: ignore it
                continue
            if msg.WhichOneof("type") == "rerun_script":
                sent = stamp
        elif direction == "received" and sent is not None:
            msg = ForwardMsg()
            try:
                msg.ParseFromString(payload)
            except Exception:  # noqa: BLE001
                continue
            if msg.WhichOneof("type") == "new_session":
                session = True
            elif msg.WhichOneof("type") == "script_finished" and session:
                finished = stamp
                break
    return (finished - sent) * 1000 if sent is not None and finished is not None else None


def describe(frames) -> list[dict]:
    """Each frame of a click: direction, size, message type and, for deltas, the element type."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    out, t0 = [], frames[0][0] if frames else 0.0
    for stamp, direction, payload in frames:
        row = {"t_ms": round((stamp - t0) * 1000), "dir": direction, "bytes": _size(payload)}
        if not isinstance(payload, str):
            if direction == "sent":
                msg = BackMsg()
                msg.ParseFromString(payload)
                row["type"] = msg.WhichOneof("type")
                if row["type"] == "rerun_script":
                    states = msg.rerun_script.widget_states.widgets
                    big = sorted(((w.ByteSize(), w.id[-40:]) for w in states), reverse=True)[:3]
                    row["widgets"] = len(states)
                    row["largest_widget_states"] = big
            else:
                msg = ForwardMsg()
                msg.ParseFromString(payload)
                row["type"] = msg.WhichOneof("type")
                if row["type"] == "delta":
                    kind = msg.delta.WhichOneof("type")
                    row["delta"] = kind
                    if kind == "new_element":
                        row["element"] = msg.delta.new_element.WhichOneof("type")
                        if row["element"] == "bidi_component":
                            bidi = msg.delta.new_element.bidi_component
                            row["js_content"] = len(bidi.js_content.encode("utf-8"))
                            row["css_content"] = len(bidi.css_content.encode("utf-8"))
                            row["json"] = len(bidi.json.encode("utf-8"))
                            try:
                                row["json_keys"] = {
                                    k: len(json.dumps(v)) for k, v in json.loads(bidi.json).items()
                                }
                            except ValueError:
                                pass
                    elif kind == "add_block":
                        row["element"] = "block"
        out.append(row)
    return out


def switch_scope(page, socket: Socket, spec: str, min_paths: int, detail: bool) -> float:
    """Seconds from Enter in the (already typed) scope select to the map holding ``spec``'s paths."""
    started, first = socket.started, len(socket.frames)
    log_start, t0 = page.evaluate("() => [window.__wsLog.length, performance.now()]")
    start = time.monotonic()
    page.keyboard.press("Enter")
    wait_map(page, spec, min_paths)
    seconds = time.monotonic() - start
    wait_quiet(page, socket, started=started + 1)
    wait_idle(page)
    if detail:
        # the browser's side, in ms from Enter: the largest message received, then the map's own steps
        log = page.evaluate("(n) => window.__wsLog.slice(n)", log_start)
        received = [(t, n) for t, d, n in log if d == "r"]
        big = max(received, key=lambda r: r[1]) if received else None
        steps = page.evaluate(
            f"() => {{ const s = {STATE}; return Object.assign({{updated: s.updated}}, s.timings); }}"
        )
        print(
            json.dumps(
                {
                    "scope_switch_browser_ms": {
                        "largest_message_received": round(big[0] - t0) if big else None,
                        "largest_message_bytes": big[1] if big else None,
                        **{
                            k: round(v - t0)
                            for k, v in steps.items()
                            if isinstance(v, (int, float))
                        },
                    }
                }
            ),
            file=sys.stderr,
        )
        frames = socket.since(first)
        rows = describe(frames)
        for row, (stamp, _, _) in zip(rows, frames):
            row["t_ms"] = round((stamp - start) * 1000)
        bidi = [r for r in rows if r.get("element") == "bidi_component"]
        print(
            json.dumps(
                {
                    "scope_switch": spec,
                    "seconds": seconds,
                    "bytes": sum(r["bytes"] for r in rows),
                    "runs": socket.started - started,
                    "map_messages": bidi,
                    "script_finished_ms": [
                        r["t_ms"] for r in rows if r.get("type") == "script_finished"
                    ],
                },
                indent=1,
            ),
            file=sys.stderr,
        )
    return seconds


def select_in_sidebar(page, label_text: str, typed: str) -> None:
    box = (
        page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]')
        .filter(has_text=label_text)
        .first
    )
    box.click()
    page.keyboard.type(typed)


def unavailable() -> str | None:
    """Why the browser figures cannot be measured here (None when they can)."""
    from tests.support.streamlit_server import CHROMIUM

    if not Path(CHROMIUM).exists():
        return f"Chromium absent ({CHROMIUM})"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright pour Python absent"
    from layers.assets import assets_present

    if not assets_present():
        return "fichiers Leaflet absents (make assets)"
    return None


def figures(base_dir: Path | None = None, detail: bool = False) -> dict:
    """The drawing figures of issue 10 (see the module docstring); ``base_dir`` holds a built commune base."""
    out: dict = {}
    with harness.data_dir(base_dir, "cartocpts-drawbench-") as data:
        plan = build_scenarios()
        with harness.app_and_browser(data) as (app, browser):
            context = browser.new_context(
                viewport={"width": 1400, "height": 1000},
                locale="fr-FR",
                timezone_id="Europe/Paris",
            )
            context.add_init_script(WS_LOG)
            page = context.new_page()
            socket = Socket(page)
            out.update(_drive(page, socket, app, plan, detail))
    return out


def _drive(page, socket: Socket, app, plan: dict, detail: bool) -> dict:
    out: dict = {}
    page.goto(f"{app.url}/Dessiner_un_territoire")
    wait_idle(page)
    wait_map(page, "dep:09", 300)
    page.get_by_text("Banc T1 (Foix)").first.wait_for()
    wait_quiet(page, socket, started=1)

    frames: list = []
    dep = click_series(page, socket, plan["dep"], frames if detail else None)
    out["draw_click_recolour_ms"] = dep["recolour_ms"]
    out["draw_click_panel_ms_dep"] = dep["panel_ms"]
    if detail:
        print(
            json.dumps({"dep_clicks": dep, "one_click_frames": describe(frames)}, indent=1),
            file=sys.stderr,
        )

    # scope switch Ariège → Occitanie (the Ariège scenario stays active)
    select_in_sidebar(page, "Région ou département", "Occitanie")
    out["draw_scope_switch_s"] = switch_scope(
        page, socket, "reg:76", plan["reg_scope_communes"] - 50, detail
    )

    # the 150-territory scenario at Occitanie scope
    select_in_sidebar(page, "Scénario", "Banc Occitanie")
    started = socket.started
    page.keyboard.press("Enter")
    page.get_by_text("Banc R001 (Foix)").first.wait_for(timeout=120_000)
    page.wait_for_function(
        f"() => Object.keys({STATE}.fills).length >= {plan['reg_communes'] - 10}", timeout=120_000
    )
    wait_quiet(page, socket, started=started + 1)
    wait_idle(page)
    frames = []
    reg = click_series(page, socket, plan["reg"], frames if detail else None)
    out["draw_click_panel_ms_reg150"] = reg["panel_ms"]
    out["draw_click_recolour_ms_reg150"] = reg["recolour_ms"]
    out["draw_click_bytes"] = dep["bytes"]
    out["draw_click_bytes_reg150"] = reg["bytes"]
    for name, series in (("dep", dep), ("reg150", reg)):
        if series["click_to_send_ms"] is not None:
            out[f"draw_click_to_send_ms_{name}"] = series["click_to_send_ms"]
        out[f"draw_click_to_last_message_ms_{name}"] = series["click_to_last_message_ms"]
    if dep["script_ms"] is not None:
        out["draw_click_script_ms_dep"] = dep["script_ms"]
    if reg["script_ms"] is not None:
        out["draw_click_script_ms_reg150"] = reg["script_ms"]
    out["draw_reg150_territories"] = plan["reg_territories"]
    # the same switch again, the server's caches warm (the 150-territory scenario active)
    select_in_sidebar(page, "Région ou département", "Ariège")
    switch_scope(page, socket, "dep:09", 300, False)
    select_in_sidebar(page, "Région ou département", "Occitanie")
    out["draw_scope_switch_again_s"] = switch_scope(
        page, socket, "reg:76", plan["reg_scope_communes"] - 50, detail
    )
    if detail:
        print(
            json.dumps({"reg_clicks": reg, "one_click_frames": describe(frames)}, indent=1),
            file=sys.stderr,
        )
    errors = page.locator('[data-testid="stException"]')
    if errors.count():
        raise RuntimeError(errors.first.inner_text())
    return out


if __name__ == "__main__":
    # a data directory given by CARTOCPTS_DATA_DIR lends its commune base (linked, not rebuilt)
    given = os.environ.get("CARTOCPTS_DATA_DIR")
    result = figures(base_dir=Path(given) if given else None, detail="--detail" in sys.argv)
    print(
        json.dumps(
            {k: (round(v, 3) if isinstance(v, float) else v) for k, v in result.items()}, indent=2
        )
    )
