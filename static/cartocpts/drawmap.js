// CartoCPTS drawing map: a Streamlit components-v2 component around the locally served Leaflet.
//
// The commune layer of a scope is sent once (data.layer, compact: see decode) and kept here; a click
// recolours the commune at once and queues an edit {seq, scenario, territory, op, codes} that carries its own
// identity; the server applies each edit once (to the scenario and territory it was made in) and
// answers with small deltas of the territories' colours ({code: [colour, territory] | null}).
// Every text shown comes escaped from Python (commune names, territory names).

const VENDOR = "/app/static/vendor";

function load(tag, attrs) {
  return new Promise((resolve, reject) => {
    const el = document.createElement(tag);
    Object.assign(el, attrs);
    el.onload = resolve;
    el.onerror = reject;
    document.head.appendChild(el);
  });
}

// this module's own style, same version as the module (see ui/drawmap.py)
const STYLE = new URL("drawmap.css" + new URL(import.meta.url).search, import.meta.url).href;

function leaflet() {
  if (!window.__cartocptsLeaflet) {
    window.__cartocptsLeaflet = Promise.all([
      document.querySelector(`link[href="${STYLE}"]`) ? null : load("link", { rel: "stylesheet", href: STYLE }),
      (window.L ? Promise.resolve() : Promise.all([
        load("link", { rel: "stylesheet", href: VENDOR + "/leaflet/leaflet.css" }),
        load("script", { src: VENDOR + "/leaflet/leaflet.js" }),
      ])).then(() => (window.L.Draw ? null : Promise.all([
        load("link", { rel: "stylesheet", href: VENDOR + "/leaflet-draw/leaflet.draw.css" }),
        load("script", { src: VENDOR + "/leaflet-draw/leaflet.draw.js" }),
      ]))),
    ]).then(() => window.L);
  }
  return window.__cartocptsLeaflet;
}

const READ_ONLY = "Consultation en lecture seule : le scénario ne peut pas être modifié ici.";
const BASE_STYLE = { color: "#888888", weight: 0.5, fillColor: "#f2f2f2", fillOpacity: 0.35 };

function fmt(value) {
  return typeof value === "number" ? value.toLocaleString("fr-FR") : value;
}

function styleOf(s, code) {
  const own = s.fills[code];
  const under = s.under[code];
  if (own) {
    const active = own[1] === s.active.territory;
    return { color: active ? "#000000" : own[0], weight: active ? 1.5 : 0.8, fillColor: own[0],
             fillOpacity: active ? 0.6 : 0.45 };
  }
  if (under) return { color: "#888888", weight: 0.5, fillColor: under, fillOpacity: 0.55 };
  return BASE_STYLE;
}

function paint(s, code) {
  const layer = s.layers[code];
  if (layer) layer.setStyle(styleOf(s, code));
}

function tooltip(s, layer) {
  const code = layer.code;
  const rows = [["Commune", s.props.nom[layer.index]], ["Code INSEE", code], [s.populationLabel, s.props.pop[layer.index]]];
  const own = s.fills[code];
  if (own && s.names[own[1]] !== undefined) rows.push(["Territoire", s.names[own[1]]]);
  if (s.underLabel && s.underText[code] !== undefined) rows.push([s.underLabel, s.underText[code]]);
  return "<table>" + rows.filter((r) => r[1] !== null && r[1] !== undefined)
    .map((r) => "<tr><th style='text-align:left;padding-right:6px'>" + r[0] + "</th><td>" + fmt(r[1]) + "</td></tr>")
    .join("") + "</table>";
}

function say(s, text) {
  s.message.innerHTML = text;  // texts built from escaped names only
  s.message.style.display = text ? "block" : "none";
  clearTimeout(s.messageTimer);
  if (text) s.messageTimer = setTimeout(() => { s.message.style.display = "none"; }, 4000);
}

function ask(s, what) {
  s.setStateValue("need", Object.assign({ mount: s.mount, nonce: Math.random().toString(36).slice(2) }, what));
}

function queue(s, edit) {
  s.seq += 1;
  s.pending.push(Object.assign({ seq: s.seq }, edit));
  s.setStateValue("edits", { mount: s.mount, items: s.pending.slice() });
}

function clicked(s, code) {
  const a = s.active;
  if (a.readonly) { say(s, READ_ONLY); return; }
  if (!a.territory) { say(s, "Créez ou choisissez d'abord un territoire."); return; }
  if (a.locked) { say(s, "Le territoire « " + a.name + " » est verrouillé : clic ignoré."); return; }
  const own = s.fills[code];
  const remove = own && own[1] === a.territory;
  s.fills[code] = remove ? undefined : [a.colour, a.territory];
  if (remove) delete s.fills[code];
  paint(s, code);
  queue(s, { scenario: a.scenario, territory: a.territory, op: remove ? "remove" : "add", codes: [code] });
}

// The integers of a text written by layers/fastgeojson._varints, read one at a time.
function reader(text) {
  let i = 0;
  return () => {
    let value = 0, shift = 0, b;
    do {
      b = text.charCodeAt(i++) - 63;
      value |= (b & 31) << shift;
      shift += 5;
    } while (b >= 32);
    return value;
  };
}

// The features' polygons of a compact layer (layers/fastgeojson.compact) as Leaflet latlngs, in order.
function decode(L, layer) {
  const parts = reader(layer.parts), rings = reader(layer.rings), points = reader(layer.points);
  const coords = reader(layer.coords);
  const step = () => { const z = coords(); return (z >>> 1) ^ -(z & 1); };
  const out = new Array(layer.ids.length);
  let lat = 0, lng = 0;
  for (let f = 0; f < out.length; f++) {
    const polygons = new Array(parts());
    for (let p = 0; p < polygons.length; p++) {
      const ringList = polygons[p] = new Array(rings());
      for (let r = 0; r < ringList.length; r++) {
        const ring = ringList[r] = new Array(points());
        for (let k = 0; k < ring.length; k++) {
          lat += step();
          lng += step();
          ring[k] = new L.LatLng(lat / 1e5, lng / 1e5);
        }
      }
    }
    out[f] = polygons.length === 1 ? polygons[0] : polygons;
  }
  return out;
}

function setCommunes(s, L, data) {
  const t = { start: performance.now() };  // s.timings: the steps' times, read by bench/draw_bench.py --detail
  if (s.communes) s.map.removeLayer(s.communes);
  if (s.tip) s.map.closeTooltip(s.tip);
  s.layers = {};
  const layer = data.layer;
  const shapes = decode(L, layer);
  t.decoded = performance.now();
  s.props = layer.props;
  const group = s.communes = L.featureGroup();
  for (let i = 0; i < shapes.length; i++) {
    const code = layer.ids[i];
    const path = L.polygon(shapes[i], Object.assign({ className: "c-" + code }, styleOf(s, code)));
    path.code = code;
    path.index = i;
    s.layers[code] = path;
    group.addLayer(path);
  }
  // one tooltip and one click handler for all the communes (events of a path reach its group)
  s.tip = s.tip || L.tooltip({ sticky: true });
  group.on("mouseover", (e) => { s.tip.setLatLng(e.latlng).setContent(tooltip(s, e.layer)); s.map.openTooltip(s.tip); });
  group.on("mousemove", (e) => s.tip.setLatLng(e.latlng));
  group.on("mouseout", () => s.map.closeTooltip(s.tip));
  group.on("click", (e) => clicked(s, e.layer.code));
  t.created = performance.now();
  s.scope = data.scope;
  fit(s, data.bounds, false);  // the view first, so the paths are projected once, at its zoom
  t.fitted = performance.now();
  group.addTo(s.map);
  t.added = performance.now();
  requestAnimationFrame(() => { t.painted = performance.now(); });
  s.timings = t;
}

function fit(s, b, animate = true) {
  s.map.invalidateSize();
  s.map.fitBounds([[b[1], b[0]], [b[3], b[2]]], { animate });
  s.fitted = b;
  s.moved = false;
}

function applyFills(s, data) {
  const f = data.fills;
  if (!f) return;
  if (f.full) {
    const before = s.fills;
    s.fills = Object.assign({}, f.full);
    for (const code of new Set([...Object.keys(before), ...Object.keys(s.fills)])) paint(s, code);
  } else if (f.base === s.version) {
    for (const [code, value] of Object.entries(f.delta || {})) {
      if (value) s.fills[code] = value; else delete s.fills[code];
      paint(s, code);
    }
  } else if (f.version !== s.version) {
    ask(s, { scope: s.scope, version: s.version });  // missed a delta: ask for all the colours
    return;
  }
  s.version = f.version;
}

function update(s, L, data) {
  s.updated = performance.now();
  s.active = data.active || {};
  s.populationLabel = data.population_label || "Population";
  for (const name in data.held || {}) if (data[name]) s.held[name] = data.held[name];
  if (data.names) s.names = data.names;
  if (data.under) {
    s.under = data.under.fills || {};
    s.underText = data.under.text || {};
    s.underLabel = data.under.label || "";
    legend(s, L, data.under.legend);
  }
  if (data.layer) setCommunes(s, L, data);
  else if (data.scope !== s.scope) { ask(s, { scope: s.scope }); return; }
  // names or a layer sent but never received (a run's deltas dropped): ask for everything again
  const missing = Object.keys(data.held || {}).filter((name) => data.held[name] !== s.held[name]);
  if (missing.length) { ask(s, { scope: s.scope, version: s.version, missing }); return; }
  if (typeof data.ack === "number") s.pending = s.pending.filter((e) => e.seq > data.ack);
  applyFills(s, data);
  if (data.under) for (const code in s.layers) paint(s, code);
  if (data.markers) markers(s, L, data.markers.items || []);
  if (data.outlines) outlines(s, L, data.outlines.geojson);
  if (data.focus && data.focus.nonce !== s.focusNonce) {
    s.focusNonce = data.focus.nonce;
    fit(s, data.focus.bounds);
  }
  if (data.message && data.message.nonce !== s.messageNonce) {
    s.messageNonce = data.message.nonce;
    say(s, data.message.text);
  }
  s.root.dataset.version = String(s.version);
  s.root.dataset.scope = s.scope || "";
}

function legend(s, L, spec) {
  if (s.legend) { s.legend.remove(); s.legend = null; }
  if (!spec) return;
  s.legend = L.control({ position: "bottomright" });
  s.legend.onAdd = () => {
    const div = L.DomUtil.create("div", "cartocpts-drawmap-legend");
    div.innerHTML = "<b>" + spec.title + "</b>" + spec.entries.map((e) =>  // escaped in Python
      "<div><span style='background:" + e[0] + "'></span>" + e[1] + "</div>").join("");
    return div;
  };
  s.legend.addTo(s.map);
}

function markers(s, L, items) {
  if (s.markers) s.map.removeLayer(s.markers);
  s.markers = L.layerGroup(items.map((m) => L.circleMarker([m[0], m[1]], {
    radius: 5, color: "#ffffff", weight: 1.5, fillColor: m[2], fillOpacity: 1, interactive: true, bubblingMouseEvents: false,
  }).bindTooltip(m[3]))).addTo(s.map);
}

function outlines(s, L, text) {
  if (s.outlines) s.map.removeLayer(s.outlines);
  s.outlines = null;
  if (!text) return;
  s.outlines = L.geoJSON(JSON.parse(text), {
    style: { color: "#6a3d9a", weight: 2, dashArray: "6 4", fill: false, interactive: false },
  }).addTo(s.map);
}

const NAMES_FROM_ZOOM = 11;
const MAX_NAMES = 400;

function names(s, L) {
  if (!s.labels) s.labels = L.layerGroup().addTo(s.map);
  s.labels.clearLayers();
  if (s.map.getZoom() < NAMES_FROM_ZOOM || !s.communes) return;
  const view = s.map.getBounds();
  let shown = 0;
  for (const code in s.layers) {
    const layer = s.layers[code];
    const centre = layer.getBounds().getCenter();
    if (!view.contains(centre)) continue;
    const name = s.props.nom[layer.index];  // escaped in Python
    if (!name) continue;
    L.marker(centre, { interactive: false, keyboard: false,
      icon: L.divIcon({ className: "cartocpts-drawmap-name", html: name, iconSize: null }) }).addTo(s.labels);
    if (++shown >= MAX_NAMES) break;
  }
}

function init(s, parent, L) {
  s.root = document.createElement("div");
  s.root.className = "cartocpts-drawmap";
  s.root.style.height = s.height + "px";
  s.root.style.position = "relative";
  parent.appendChild(s.root);
  const mapDiv = document.createElement("div");
  mapDiv.style.height = "100%";
  s.root.appendChild(mapDiv);
  s.message = document.createElement("div");
  s.message.className = "cartocpts-drawmap-message";
  s.root.appendChild(s.message);
  s.map = L.map(mapDiv, { zoomSnap: 0.25, preferCanvas: false });
  for (const type of ["pointerdown", "wheel", "keydown"]) mapDiv.addEventListener(type, () => { s.moved = true; });
  // Leaflet focuses the map on mousedown and restores the window's scroll only: Streamlit scrolls its own
  // container, so the page moved under the pointer and the click landed on another commune, or none
  if (s.map.keyboard) {
    s.map.keyboard.disable();
    s.map.keyboard._onMouseDown = function () {
      if (!this._focused) this._map.getContainer().focus({ preventScroll: true });
    };
    s.map.keyboard.enable();
  }
  // the container gets its final size after the first paint: fit again until the user moves the map
  new ResizeObserver(() => {
    s.map.invalidateSize();
    if (s.fitted && !s.moved) s.map.fitBounds([[s.fitted[1], s.fitted[0]], [s.fitted[3], s.fitted[2]]]);
  }).observe(mapDiv);
  L.control.scale({ imperial: false }).addTo(s.map);
  s.map.on("zoomend moveend", () => names(s, L));
  const drawn = new L.FeatureGroup().addTo(s.map);
  s.map.addControl(new L.Control.Draw({
    position: "topleft",
    draw: { polyline: false, circle: false, marker: false, circlemarker: false,
            polygon: { allowIntersection: false }, rectangle: true },
    edit: { featureGroup: drawn, edit: false, remove: false },
  }));
  s.map.on(L.Draw.Event.CREATED, (e) => {
    const a = s.active;
    if (a.readonly) { say(s, READ_ONLY); return; }
    if (!a.territory) { say(s, "Créez ou choisissez d'abord un territoire."); return; }
    if (a.locked) { say(s, "Le territoire « " + a.name + " » est verrouillé : dessin ignoré."); return; }
    queue(s, { scenario: a.scenario, territory: a.territory, op: "draw", geometry: e.layer.toGeoJSON().geometry });
  });
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  let s = parentElement.__cartocpts;
  if (!s) {
    s = parentElement.__cartocpts = {
      mount: Math.random().toString(36).slice(2) + Date.now().toString(36),
      seq: 0, pending: [], fills: {}, under: {}, underText: {}, names: {}, held: {}, layers: {}, version: null,
      scope: null, active: {}, height: data.height || 600,
    };
    s.ready = leaflet().then((L) => { init(s, parentElement, L); return L; });
  }
  s.setStateValue = setStateValue;
  s.ready.then((L) => update(s, L, data));
}
