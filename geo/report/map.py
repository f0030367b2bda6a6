"""The dossier's map of a territory, drawn offline as an SVG (no tile server).

What it shows: the territory's communes in its colour, the scenario's neighbouring territories (lighter),
the other communes in grey, the perimeters of the existing CPTS (dashed), the département limits, the MSP
and centres de santé (FINESS points), a scale bar, a north arrow and a legend (set under the map by the
template). Coordinates are projected locally (equirectangular around the territory, in km): true enough for
a scale bar at this size, and the same code serves the overseas départements. One :class:`MapRenderer`
draws every map of a dossier, keeping the département limits and the CPTS perimeters between maps.

The map is a vector drawing that typst embeds as vectors: sharp when printed at any resolution, and small
because only what the page can show is drawn. Every shape is clipped to the map's frame and simplified to
:data:`PRINT_TOLERANCE_MM` at the map's scale, the light fills are opaque colours (the tint over white: no
transparency group per shape) and coordinates are whole half points (within 0.09 mm). The SVG is written
here, a few elements with numbers and the constants of this module: no name or other user text reaches it.
"""

from __future__ import annotations

import math

import numpy as np
import shapely

from geo.base.communes import load
from geo.store.cache import cached_layer
from geo.territory.context import Context

KM_PER_DEG_LAT = 110.574
KM_PER_DEG_LON = 111.320
SIMPLIFY_DEG = 0.0005  # CPTS perimeters, cached between maps of every scale (about 50 m)
PRINT_TOLERANCE_MM = 0.2  # shapes are simplified to this length on the printed map
MARGIN = 0.25  # of the territory's extent, on each side
SIZE_PT = 489.6  # the map's side: printed at the text width of an A4 page (17.4 cm), about 1:1
UNIT = 2  # SVG units per point: coordinates are whole half points (0.18 mm: rounded within 0.09 mm)
FONT = "Libertinus Serif"  # the document's font (typst's own fonts draw the SVG's text)
GREY, EDGE = "#e6e6e6", "#9a9a9a"
CPTS_COLOUR, DEP_COLOUR = "#6a3d9a", "#222222"
TERRITORY_ALPHA, OTHERS_ALPHA = 0.75, 0.3
MARKERS = {
    "msp": ("triangle", "#c0392b", "MSP"),
    "centre_sante": ("square", "#1f618d", "Centre de santé"),
}
MARKER_PT = 5.3  # a marker's width, in points
# The legend the template prints under each map: (kind, colour, label); « territoire » takes the territory's
# colour. Constants only: no data reaches the map's text. The template tints "fill" and "fill-light" as the
# map does (TERRITORY_ALPHA, OTHERS_ALPHA over white); "solid" is the colour as it is.
LEGEND = (
    ("fill", "", "Territoire"),
    ("fill-light", "#888888", "Autres territoires du scénario"),
    ("solid", GREY, "Autres communes"),
    ("dash", CPTS_COLOUR, "CPTS existantes"),
    ("dashdot", DEP_COLOUR, "Limites de départements"),
    ("triangle", MARKERS["msp"][1], "MSP"),
    ("square", MARKERS["centre_sante"][1], "Centre de santé"),
)


def over_white(colour: str, alpha: float) -> str:
    """The opaque colour of ``colour`` (#RRGGBB) laid with ``alpha`` over white paper (#rrggbb)."""
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(255 - alpha * (255 - v)):02x}" for v in rgb)


def _path_data(verts: np.ndarray, index: np.ndarray, closed: bool) -> str:
    """SVG path data of the point runs of ``verts`` (whole SVG units) grouped by ``index``: « M x y x y … »
    (the points after a move are lines), « Z » closing each ring when ``closed``."""
    starts = np.flatnonzero(np.diff(index, prepend=-1))
    numbers = verts.astype(np.int64).ravel().tolist()
    end = "Z" if closed else ""
    bounds = np.append(starts, len(verts)) * 2
    return "".join(
        "M" + " ".join(map(str, numbers[a:b])) + end for a, b in zip(bounds[:-1], bounds[1:])
    )


def _rings(geoms: np.ndarray, project) -> str:
    """Path data of the exterior rings of (multi)polygons (holes are drawn by what fills them). Points
    repeated once rounded are dropped, and so are the rings left with less than three points."""
    parts = shapely.get_parts(geoms)
    parts = parts[shapely.get_type_id(parts) == 3]  # polygons (a clip may leave lines or points)
    if parts.size == 0:
        return ""
    coords, index = shapely.get_coordinates(shapely.get_exterior_ring(parts), return_index=True)
    verts = project(coords)
    repeated = np.zeros(len(verts), dtype=bool)
    repeated[1:] = (index[1:] == index[:-1]) & (verts[1:] == verts[:-1]).all(axis=1)
    last = np.append(index[1:] != index[:-1], True)  # the closing point: « Z » draws that side
    keep = ~repeated & ~last
    verts, index = verts[keep], index[keep]
    kept = np.bincount(index)[index] >= 3
    if not kept.any():
        return ""
    return _path_data(verts[kept], index[kept], closed=True)


def _lines(geoms, project) -> str:
    """Path data of the boundaries of (multi)polygons, or of lines."""
    geoms = np.asarray(geoms, dtype=object)
    if geoms.size == 0:
        return ""
    polygonal = shapely.get_dimensions(geoms) == 2
    geoms[polygonal] = shapely.boundary(geoms[polygonal])
    parts = shapely.get_parts(shapely.get_parts(geoms))
    parts = parts[shapely.get_num_coordinates(parts) >= 2]
    if parts.size == 0:
        return ""
    coords, index = shapely.get_coordinates(parts, return_index=True)
    return _path_data(project(coords), index, closed=False)


def _network(lines: np.ndarray, frame: tuple[float, float, float, float], tolerance: float):
    """``lines`` clipped to ``frame``, a shared stretch kept once (the limit of two départements or two CPTS:
    drawn twice, its dashes would overlap into a solid line), simplified to ``tolerance``."""
    near = shapely.clip_by_rect(lines, *frame)
    if near.size == 0:
        return near
    network = shapely.line_merge(shapely.union_all(near))
    return np.asarray([shapely.simplify(network, tolerance)], dtype=object)


def _nice_length(km: float) -> float:
    """A round length (1, 2 or 5 times a power of ten) not above ``km``."""
    if km <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(km))
    return max(step * power for step in (1, 2, 5) if step * power <= km)


def _markers(xy: np.ndarray, shape: str) -> str:
    """Path data of a marker (« triangle » or « square ») centred on each point."""
    h = MARKER_PT * UNIT / 2
    if shape == "triangle":
        corners = np.array([[0, -1.15 * h], [h, 0.85 * h], [-h, 0.85 * h]])
    else:
        corners = np.array([[-h, -h], [h, -h], [h, h], [-h, h]])
    verts = np.round(xy[:, None, :] + corners[None, :, :]).reshape(-1, 2)
    index = np.repeat(np.arange(len(xy)), len(corners))
    return _path_data(verts, index, closed=True)


class MapRenderer:
    """Draws the dossier maps on one context (reuses département limits and CPTS perimeters between maps)."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self._deps = None
        self._cpts_shapes: dict[tuple[str, str], object] = {}
        finess, _ = cached_layer("finess")
        self.points: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # kind -> (insee codes, lon/lat)
        if finess is not None and "geometry" in finess.columns:
            for kind in MARKERS:
                sel = finess[finess["kind"] == kind]
                self.points[kind] = (
                    sel["insee"].to_numpy(dtype=object),
                    shapely.get_coordinates(np.asarray(sel.geometry.values)),
                )

    def _departement_limits(self, frame: tuple[float, float, float, float], tolerance: float):
        """The département limits within ``frame``, each drawn once, simplified to ``tolerance``."""
        if self._deps is None:
            deps = np.asarray(load("departements").geometry.values)
            self._deps = (np.asarray(shapely.boundary(deps)), shapely.STRtree(deps))
        limits, tree = self._deps
        return _network(limits[tree.query(shapely.box(*frame))], frame, tolerance)

    def _cpts_shape(self, key: tuple[str, str], codes: list[str]):
        """The perimeter (a line) of an existing CPTS."""
        shape = self._cpts_shapes.get(key)
        if shape is None:
            shape = shapely.union_all(
                [self.ctx.geometry[c] for c in codes if c in self.ctx.geometry]
            )
            shape = shapely.boundary(shapely.simplify(shape, SIMPLIFY_DEG))
            self._cpts_shapes[key] = shape
        return shape

    def render(
        self,
        codes,
        colour: str = "#0072B2",
        others: dict[str, tuple[str, set[str]]] | None = None,
    ) -> bytes:
        """SVG of the territory ``codes`` (its ``colour``, #RRGGBB), with ``others`` {name: (colour,
        communes)} of the scenario shown lighter. Raises ValueError for a territory without any shape."""
        ctx = self.ctx
        shapes = [ctx.geometry[c] for c in codes if ctx.geometry.get(c) is not None]
        if not shapes:
            raise ValueError("territory without shape")
        minx, miny, maxx, maxy = shapely.total_bounds(np.asarray(shapes, dtype=object))
        kx = KM_PER_DEG_LON * math.cos(math.radians((miny + maxy) / 2))
        width, height = max((maxx - minx) * kx, 1.0), max((maxy - miny) * KM_PER_DEG_LAT, 1.0)
        side = max(width, height) * (1 + 2 * MARGIN)  # km
        # The map's frame in degrees (the territory in the middle), a little wider than the map so that the
        # clipped edges of shapes fall outside it.
        half_lon, half_lat = side / 2 / kx, side / 2 / KM_PER_DEG_LAT
        west, north = (minx + maxx) / 2 - half_lon, (miny + maxy) / 2 + half_lat
        pad = 0.02
        frame = (
            west - pad * half_lon,
            north - (2 + pad) * half_lat,
            west + (2 + pad) * half_lon,
            north + pad * half_lat,
        )
        box = shapely.box(*frame)
        size = round(SIZE_PT * UNIT)  # the map's side in SVG units
        per_km = size / side

        def project(coords: np.ndarray) -> np.ndarray:
            """lon/lat → whole SVG units (y down)."""
            return np.round(
                np.column_stack(
                    (
                        (coords[:, 0] - west) * kx * per_km,
                        (north - coords[:, 1]) * KM_PER_DEG_LAT * per_km,
                    )
                )
            )

        # What a printer can show: PRINT_TOLERANCE_MM on the printed map, in degrees of latitude (the finer
        # of the two axes in km per degree).
        tolerance = PRINT_TOLERANCE_MM / 25.4 * 72 * UNIT / per_km / KM_PER_DEG_LAT

        def drawable(geoms) -> np.ndarray:
            clipped = shapely.clip_by_rect(np.asarray(geoms, dtype=object), *frame)
            return shapely.simplify(clipped, tolerance, preserve_topology=False)

        inside = set(codes)
        near = [
            c for c in ctx.codes[ctx.point_tree.query(box.buffer(half_lon / 2))] if c not in inside
        ]
        others = others or {}
        owner = {c: col for _, (col, members) in others.items() for c in members}

        svg = _Svg(size)

        def fill(code_list, facecolor, edge=EDGE, lw=0.25):
            geoms = [ctx.geometry[c] for c in code_list if ctx.geometry.get(c) is not None]
            if geoms:
                svg.path(_rings(drawable(geoms), project), fill=facecolor, stroke=edge, width=lw)

        fill(sorted(inside), over_white(colour, TERRITORY_ALPHA), edge="#ffffff", lw=0.35)
        fill([c for c in near if c not in owner], GREY)
        by_colour: dict[str, list[str]] = {}
        for c in near:
            if c in owner:
                by_colour.setdefault(owner[c], []).append(c)
        for col, members in by_colour.items():
            fill(members, over_white(col, OTHERS_ALPHA))

        svg.path(
            _lines(self._departement_limits(frame, tolerance), project),
            stroke=DEP_COLOUR,
            width=0.9,
            dash=(5.8, 1.4, 0.9, 1.4),
        )
        cpts = {key for c in list(inside) + near for key in ctx.cpts_members.get(c, [])}
        members_of: dict[tuple[str, str], list[str]] = {}
        if cpts:
            for code, keys in ctx.cpts_members.items():
                for key in keys:
                    if key in cpts:
                        members_of.setdefault(key, []).append(code)
        if members_of:
            perimeters = np.asarray(
                [self._cpts_shape(key, members) for key, members in members_of.items()],
                dtype=object,
            )
            svg.path(
                _lines(_network(perimeters, frame, tolerance), project),
                stroke=CPTS_COLOUR,
                width=1.1,
                dash=(4.1, 1.8),
            )

        outline = shapely.simplify(shapely.union_all(shapes), tolerance)
        svg.path(_lines([outline], project), stroke="#000000", width=1.6)

        shown = np.asarray(sorted(inside.union(near)), dtype=object)
        for kind, (shape, col, _label) in MARKERS.items():
            if kind in self.points:
                insee, lonlat = self.points[kind]
                where = (
                    np.isin(insee, shown)
                    & (lonlat[:, 0] >= frame[0])
                    & (lonlat[:, 0] <= frame[2])
                    & (lonlat[:, 1] >= frame[1])
                    & (lonlat[:, 1] <= frame[3])
                )
                if where.any():
                    svg.path(
                        _markers(project(lonlat[where]), shape),
                        fill=col,
                        stroke="#ffffff",
                        width=0.5,
                    )

        svg.decorations(side)
        return svg.bytes()


class _Svg:
    """The SVG of a map: paths with constant styles, clipped to the square of ``size`` units."""

    def __init__(self, size: int):
        self.size = size
        pt = f"{size / UNIT:g}pt"
        self.parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{pt}" height="{pt}" '
            f'viewBox="0 0 {size} {size}">'
            f'<clipPath id="frame"><rect width="{size}" height="{size}"/></clipPath>'
            f'<g clip-path="url(#frame)" stroke-linejoin="round">'
            f'<rect width="{size}" height="{size}" fill="#ffffff"/>'
        ]

    def path(self, data: str, fill="none", stroke="none", width=0.0, dash=()) -> None:
        if not data:
            return
        style = f'fill="{fill}" stroke="{stroke}" stroke-width="{width * UNIT:g}"'
        if dash:
            style += ' stroke-dasharray="' + " ".join(f"{d * UNIT:g}" for d in dash) + '"'
        self.parts.append(f'<path {style} d="{data}"/>')

    def text(self, x: float, y: float, label: str, size_pt: float, bold: bool = False) -> None:
        """``label`` (a constant of this module or a number, never user text) centred on ``x``, with a white
        halo that keeps it legible over any fill."""
        weight = ' font-weight="bold"' if bold else ""
        self.parts.append(
            f'<text x="{x:.0f}" y="{y:.0f}" font-family="{FONT}" font-size="{size_pt * UNIT:g}"'
            f'{weight} text-anchor="middle" fill="#000000" stroke="#ffffff" '
            f'stroke-width="{2 * UNIT}" stroke-linejoin="round" paint-order="stroke">{label}</text>'
        )

    def decorations(self, side: float) -> None:
        """Scale bar (a round length near a quarter of the map) and north arrow."""
        size = self.size
        length = _nice_length(side / 4)
        bar = length * size / side
        x, y = size * 0.04, size * 0.96
        halo = f"M{x - UNIT:.0f} {y:.0f}h{bar + 2 * UNIT:.0f}"
        self.path(halo, stroke="#ffffff", width=5)
        self.path(f"M{x:.0f} {y:.0f}h{bar:.0f}", stroke="#000000", width=3)
        self.text(x + bar / 2, y - size * 0.02, f"{length:g} km".replace(".", ","), 9)
        nx, top, bottom = size * 0.94, size * 0.05, size * 0.12
        head = 4 * UNIT
        self.path(f"M{nx:.0f} {bottom:.0f}V{top + head:.0f}", stroke="#000000", width=1.5)
        self.path(
            f"M{nx:.0f} {top:.0f}l{head / 2:.0f} {head * 1.6:.0f}h{-head:.0f}Z", fill="#000000"
        )
        self.text(nx, bottom + size * 0.035, "N", 12, bold=True)

    def bytes(self) -> bytes:
        return ("".join(self.parts) + "</g></svg>").encode("ascii")
