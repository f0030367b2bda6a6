"""Home page figures of issue 14, measured in real Chromium (Playwright) against a running app.

``figures()`` links the commune base of ``base_dir`` (or builds one) into a data directory of its own,
starts ``streamlit run app.py`` on 127.0.0.1, opens the home page (Occitanie, the default) and waits until
the server is idle (under 5 % of a core for 8 s: the France view is built in the background at start-up,
``ui.home.prepare_france``, which first sleeps ``WARM_DELAY_S``: the quiet window is longer than that). Then,
in the same tab:

- ``home_france_s``: Enter in the sidebar's scope select on « France entière » → the France commune layer
  (35,000 communes) is in the map and painted (wall clock);
- ``home_france_bytes``: bytes Chromium received meanwhile, through the Chrome DevTools Protocol: HTTP
  responses (``Network.loadingFinished.encodedDataLength``) plus the payload of every websocket frame
  (``Network.webSocketFrameReceived``; CDP gives it after permessage-deflate, so the bytes on the wire are
  fewer: an upper bound);
- ``home_france_load_bytes`` / ``home_france_load_s``: a new tab opening the app when « France entière »
  is the scope in the preferences: everything received from the navigation to the drawn map (Streamlit's
  own scripts included);
- ``home_switch_s``: switching between two départements already shown (Haute-Garonne → Ariège →
  Haute-Garonne, the last one timed), Enter → the new map drawn;
- ``home_colouring_s``: changing the colouring (population → density) of a scope already shown.

Then the page « Couverture », with the EPCIs of Ariège imported as the only CPTS (34,546 uncovered
communes in France), opened on Occitanie:

- ``coverage_france_s``: Enter on « France entière » → the uncovered communes' layer is in the map and
  painted (the coverage of France is computed and its map built then: nothing is prepared in advance);
- ``coverage_france_bytes``: bytes received meanwhile (as ``home_france_bytes``).

Run alone: ``.venv/bin/python bench/home_bench.py`` (with ``CARTOCPTS_DATA_DIR`` set, that directory's commune
base is linked instead of built).
"""

from __future__ import annotations

import base64
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import harness  # noqa: E402
from ui.home import WARM_DELAY_S  # noqa: E402

# the newest commune layer of the page (a map not marked as seen), with at least ``n`` features, painted
NEW_LAYER = """([n]) => {
  const frames = [window, ...Array.from(document.querySelectorAll('iframe')).map(f => f.contentWindow)];
  for (const w of frames) {
    try {
      const g = w.cartocptsLayers && w.cartocptsLayers.Communes;
      if (g && !g.__seen && g.cartocptsIds.length >= n && w.map && w.map._loaded) return true;
    } catch (e) { /* a frame being replaced */ }
  }
  return false;
}"""
UNCOVERED_LAYER = """([n]) => {
  for (const f of document.querySelectorAll('iframe')) {
    try {
      const w = f.contentWindow, g = w.cartocptsLayers && w.cartocptsLayers['Communes non couvertes'];
      if (g && g.cartocptsIds.length >= n && w.map && w.map._loaded) return true;
    } catch (e) { /* a frame being replaced */ }
  }
  return false;
}"""
MARK_SEEN = """() => {
  for (const f of document.querySelectorAll('iframe')) {
    try { const g = f.contentWindow.cartocptsLayers && f.contentWindow.cartocptsLayers.Communes;
          if (g) g.__seen = true; } catch (e) {}
  }
}"""
PAINTED = (
    "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))"
)


class Received:
    """Bytes received by the page (HTTP responses and websocket frame payloads), from the DevTools Protocol."""

    def __init__(self, page):
        self.total = 0
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("Network.enable")
        self.cdp.on("Network.loadingFinished", self._http)
        self.cdp.on("Network.webSocketFrameReceived", self._frame)

    def _http(self, event) -> None:
        self.total += int(event.get("encodedDataLength") or 0)

    def _frame(self, event) -> None:
        response = event.get("response") or {}
        data = response.get("payloadData") or ""
        if response.get("opcode") == 2:  # binary frames come base64-encoded
            self.total += len(base64.b64decode(data))
        else:
            self.total += len(data.encode())


def server_idle(pid: int, window: float = 3.0, timeout: float = 600.0) -> None:
    """Wait until the process used under 5 % of a core over ``window`` seconds (its websocket pings
    and housekeeping cost a clock tick now and then)."""

    def cpu() -> int:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])

    ticks = os.sysconf("SC_CLK_TCK")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = cpu()
        time.sleep(window)
        if (cpu() - before) / ticks < 0.05 * window:
            return


def wait_new_map(page, features: int, timeout: float = 300_000) -> None:
    page.wait_for_function(NEW_LAYER, arg=[features], timeout=timeout, polling=50)
    page.evaluate(PAINTED)


def choose_scope(page, text: str) -> float:
    """Type ``text`` into the sidebar's scope select, press Enter; the time of the Enter."""
    box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first
    box.click()
    page.keyboard.type(text)
    page.get_by_role("option", name=text).first.wait_for()
    page.evaluate(MARK_SEEN)
    start = time.perf_counter()
    page.keyboard.press("Enter")
    return start


def _drive(browser, app) -> dict:
    from tests.support.browser import wait_for_app

    out: dict = {}
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="fr-FR")
    page = context.new_page()
    page.goto(app.url)
    wait_for_app(page, timeout=600_000)
    wait_new_map(page, 1000)  # Occitanie
    # the France warm-up sleeps WARM_DELAY_S before it starts: a shorter quiet window could end first
    server_idle(app.proc.pid, window=WARM_DELAY_S + 3.0)

    received = Received(page)
    before = received.total
    start = choose_scope(page, "France entière")
    wait_new_map(page, 34_000)
    out["home_france_s"] = time.perf_counter() - start
    time.sleep(1.0)  # frames still arriving (the rest of the page)
    out["home_france_bytes"] = received.total - before

    for text, n in (("Haute-Garonne", 500), ("Ariège", 300)):
        choose_scope(page, text)
        wait_new_map(page, n)
        wait_for_app(page)
    start = choose_scope(page, "Haute-Garonne")
    wait_new_map(page, 500)
    out["home_switch_s"] = time.perf_counter() - start
    wait_for_app(page)

    page.evaluate(MARK_SEEN)
    start = time.perf_counter()
    page.get_by_text("Densité (hab./km²)", exact=True).click()
    wait_new_map(page, 500)
    out["home_colouring_s"] = time.perf_counter() - start
    wait_for_app(page)
    context.close()

    # a new tab when France is the remembered scope: the whole first display
    from geo.store import preferences

    preferences.put("scope", "fr")
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="fr-FR")
    page = context.new_page()
    received = Received(page)
    start = time.perf_counter()
    page.goto(app.url)
    wait_new_map(page, 34_000)
    out["home_france_load_s"] = time.perf_counter() - start
    time.sleep(1.0)
    out["home_france_load_bytes"] = received.total
    context.close()
    out.update(_coverage_france(browser, app))
    return out


def _coverage_france(browser, app) -> dict:
    """The page « Couverture » switched from Occitanie to France (see the module's docstring)."""
    from geo.base.communes import load
    from geo.sources.cpts import import_cpts
    from geo.store import preferences
    from tests.support.browser import wait_for_app

    communes = load("communes")
    ariege = communes[communes["dep"] == "09"]
    path = Path(os.environ["CARTOCPTS_DATA_DIR"]).parent / "cpts-ariege.csv"
    path.write_text(
        "cpts_id;cpts_nom;code_insee\n"
        + "".join(f"{e};CPTS {e};{c}\n" for e, c in zip(ariege["epci"], ariege["insee"])),
        encoding="utf-8",
    )
    import_cpts(path)
    preferences.put("scope", "reg:76")
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="fr-FR")
    page = context.new_page()
    page.goto(f"{app.url}/Couverture")
    wait_for_app(page, timeout=600_000)
    page.wait_for_function(UNCOVERED_LAYER, arg=[1000], timeout=300_000, polling=50)  # Occitanie
    server_idle(app.proc.pid)
    received = Received(page)
    start = choose_scope(page, "France entière")
    page.wait_for_function(UNCOVERED_LAYER, arg=[34_000], timeout=300_000, polling=50)
    page.evaluate(PAINTED)
    out = {"coverage_france_s": time.perf_counter() - start}
    time.sleep(1.0)
    out["coverage_france_bytes"] = received.total
    context.close()
    return out


def unavailable() -> str | None:
    from tests.support.browser import browser_available

    return browser_available()


def figures(base_dir: Path | None = None) -> dict:
    with harness.data_dir(base_dir, "cartocpts-homebench-") as data:
        with harness.app_and_browser(data) as (app, browser):
            return _drive(browser, app)


if __name__ == "__main__":
    given = os.environ.get("CARTOCPTS_DATA_DIR")
    result = figures(Path(given) if given else None)
    print(
        json.dumps(
            {k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()}, indent=2
        )
    )
