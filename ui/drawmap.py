"""The territory page's map: a components-v2 Leaflet map that paints at once and exchanges small deltas.

Protocol (see ``static/cartocpts/drawmap.js``):

- Python → browser (``data``): the scope's communes (``layer``: the compact form of
  ``layers.fastgeojson.compact``, a quarter of the GeoJSON) only when the scope changes or the browser says
  it lacks it (its ``need`` state: a new mount of the map, or a layer that never reached it), the
  territories' colours as a delta against the version the browser was last sent (``{"base", "version",
  "delta": {code: [colour, territory] | None}}``, or ``full`` when the browser asks for it), the active
  scenario and territory (``readonly``: read mode, clicks and drawings refused in the browser, see
  ``ui.read_view``), the orientation layers (``under``, ``markers``, ``outlines``) and territory names when
  they change, ``ack``: the last edit applied, ``held``: how many times the names and each layer were sent
  (what the browser should hold), and ``run``: a counter that makes every run's data new. What was sent is
  not always what arrived (Streamlit drops a run's unflushed deltas when the next run starts): the browser
  compares the scope, the colours' version and ``held`` with what it holds, and asks (``need``) for
  everything again when one differs.
- Browser → Python (component state ``edits``): every click or drawing queued as an edit with its own
  identity (browser mount, sequence number, scenario id, territory id). :func:`new_edits` returns each edit
  once; replayed or already applied ones are dropped, and an edit is applied to the scenario and territory
  it was made in, whatever is active when it arrives.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

from layers.communes import map_frame
from layers.fastgeojson import compact
from ui import caches
from ui.common import map_communes, population_stamp

# The component's script and style are served by Streamlit's static server (static/cartocpts/drawmap.js and
# drawmap.css) and imported by a two-line loader: the loader, not the whole script and style, is what travels
# with every rerun of the page (the style, sent with the component, cost 800 bytes a click). The version in
# the addresses changes with the files, so a browser never keeps an old copy.
STATIC = Path(__file__).resolve().parent.parent / "static" / "cartocpts"
SCRIPT = STATIC / "drawmap.js"
_VERSION = hashlib.sha256(SCRIPT.read_bytes() + (STATIC / "drawmap.css").read_bytes()).hexdigest()[
    :12
]
_JS = (
    "export default async function (component) {\n"
    f"  const url = new URL('/app/static/cartocpts/drawmap.js?v={_VERSION}', document.baseURI);\n"
    "  const module = await import(url.href);\n"
    "  return module.default(component);\n}\n"
)
COMPONENT = st.components.v2.component("cartocpts_drawmap", js=_JS, isolate_styles=False)
_NONCE = itertools.count(1)


@dataclass
class Edit:
    """One map edit as made in the browser."""

    mount: str
    seq: int
    scenario: int
    territory: int
    op: str  # "add", "remove" or "draw"
    codes: list[str] = field(default_factory=list)
    geometry: dict | None = None


def _state(key: str) -> dict:
    value = st.session_state.get(key)
    try:
        return dict(value) if value is not None else {}
    except (TypeError, ValueError):
        return {}


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _memo(key: str) -> dict:
    return st.session_state.setdefault(
        f"{key}::sent",
        {
            "applied": {},
            "version": 0,
            "fills": None,
            "names": None,
            "need": None,
            "layers": {},
            "run": 0,
            "sends": {},
        },
    )


def new_edits(key: str) -> list[Edit]:
    """The browser's edits not applied yet, in order; each is returned once (then acknowledged)."""
    raw = _dict(_state(key).get("edits"))  # the browser's state is checked, not trusted
    items = raw.get("items")
    items = items if isinstance(items, list) else []
    mount = str(raw.get("mount") or "")
    memo = _memo(key)
    done = memo["applied"].get(mount, 0)
    out = []
    for item in items:
        try:
            edit = Edit(
                mount=mount,
                seq=int(item["seq"]),
                scenario=int(item["scenario"]),
                territory=int(item["territory"]),
                op=str(item["op"]),
                codes=[str(c) for c in item.get("codes") or []],
                geometry=item.get("geometry"),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            continue  # not an edit this page made
        if edit.seq > done and edit.op in ("add", "remove", "draw"):
            out.append(edit)
    out.sort(key=lambda e: e.seq)
    if out:
        memo["applied"][mount] = out[-1].seq
    return out


def scope_layer(spec: str) -> dict:
    """The scope's simplified communes in the map's compact form (names escaped), built once per scope."""
    return _scope_layer(spec, population_stamp())


def _scope_layer(spec: str, stamp: str) -> dict:
    return caches.drawing_layer(
        spec, stamp, lambda: compact(map_frame(map_communes(spec)), columns=("nom", "pop"))
    )


_WARMED: set[tuple[str, str]] = set()  # (région, population stamp) built or being built
_WARMED_LOCK = threading.Lock()


def prepare_region(spec: str) -> None:
    """Build, in a background thread, the layer of the région holding a département scope: switching to it
    then costs no simplification or serialisation (about two seconds for a région's 4,000 communes).
    Started once per région and process; the page's own call waits for it through Streamlit's cache lock."""
    if (
        not spec.startswith("dep:") or not st.runtime.exists()
    ):  # a served app only (not AppTest runs)
        return
    regions = map_communes(spec)["reg"].dropna().unique()
    if len(regions) != 1:
        return
    region = f"reg:{regions[0]}"
    stamp = population_stamp()
    with _WARMED_LOCK:
        if (region, stamp) in _WARMED:
            return
        _WARMED.add((region, stamp))
    threading.Thread(
        target=_warm, args=(region, stamp), name=f"cartocpts-warm-{region}", daemon=True
    ).start()


def _warm(spec: str, stamp: str) -> None:
    try:
        _scope_layer(spec, stamp)
    except Exception:  # noqa: BLE001 - a warm-up only: the page builds the layer itself if this failed
        with _WARMED_LOCK:
            _WARMED.discard((spec, stamp))


def message(text: str) -> dict:
    """A message shown over the map once (``text`` must be escaped HTML)."""
    return {"nonce": next(_NONCE), "text": text}


def show(
    key: str,
    *,
    spec: str,
    bounds,
    fills: dict,
    names: dict,
    active: dict,
    touched=(),
    population_label: str = "Population",
    focus: dict | None = None,
    note: dict | None = None,
    layers: dict | None = None,
    height: int = 600,
):
    """Mount the map of the scope ``spec`` (its layer is built by :func:`scope_layer` when sent);
    ``fills`` maps codes to ``[colour, territory id]``; ``names`` territory ids to escaped names; ``touched``
    codes whose colour is re-sent even if unchanged (edits the server refused or corrected); ``layers`` the
    orientation payloads (``under``, ``markers``, ``outlines``, each a dict with an ``id``: sent when it
    changes, see ``ui.orientation``)."""
    state = _state(key)
    memo = _memo(key)
    need = _dict(state.get("need"))
    fresh_need = bool(need) and need.get("nonce") != memo["need"]
    memo["need"] = need.get("nonce")
    memo["run"] += 1
    data = {
        # Every run's data differs: the browser only hears data that changed, and what this memo records as
        # sent may never have reached it (Streamlit drops the deltas of a run not yet flushed when the next
        # run starts). An unchanged map must still reach the browser, which then asks for what it lacks.
        "run": memo["run"],
        "scope": spec,
        "bounds": [float(b) for b in bounds],
        "active": active,
        "height": height,
        "population_label": population_label,
        "ack": memo["applied"].get(str(_dict(state.get("edits")).get("mount") or ""), 0),
    }
    # The scope's communes go once; the browser says when it lacks them (a new mount of the map).
    send_scope = memo.get("scope") != spec or (fresh_need and need.get("scope") != spec)
    if send_scope:
        data["layer"] = scope_layer(spec)
        memo["scope"] = spec
    prepare_region(spec)
    full = memo["fills"] is None or send_scope or fresh_need
    previous = memo["fills"] or {}
    changed = {c: v for c, v in fills.items() if previous.get(c) != v}
    changed.update({c: None for c in previous if c not in fills})
    changed.update({c: fills.get(c) for c in touched})
    if full or changed:
        memo["version"] += 1
    if full:
        data["fills"] = {"full": fills, "version": memo["version"]}
    else:
        data["fills"] = {
            "base": memo["version"] - (1 if changed else 0),
            "version": memo["version"],
            "delta": changed,
        }
    sends = memo["sends"]  # how many times the names and each layer were sent

    def send(name: str, payload) -> None:
        data[name] = payload
        sends[name] = sends.get(name, 0) + 1

    if full or names != memo["names"]:
        send("names", names)
    sent_layers = memo["layers"]
    for name, payload in (layers or {}).items():
        if full or payload.get("id") != sent_layers.get(name):
            send(name, payload)
            sent_layers[name] = payload.get("id")
    # What the browser should hold by now: it asks again for whatever never arrived.
    data["held"] = {name: sends.get(name, 0) for name in ("names", *(layers or {}))}
    if focus:
        data["focus"] = focus
    if note:
        data["message"] = note
    memo.update(fills=dict(fills), names=dict(names))
    noop = lambda: None  # noqa: E731 - the component only needs its state names declared
    return COMPONENT(key=key, data=data, on_edits_change=noop, on_need_change=noop)
