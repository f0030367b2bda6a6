"""The dossier's map of a territory, drawn offline with matplotlib (no tile server).

What it shows: the territory's communes in its colour, the scenario's neighbouring territories (lighter),
the other communes in grey, the perimeters of the existing CPTS (dashed), the département limits, the MSP
and centres de santé (FINESS points), a scale bar, a north arrow and a legend. Coordinates are projected
locally (equirectangular around the territory, in km): true enough for a scale bar at this size, and the
same code serves the overseas départements. One :class:`MapRenderer` draws every map of a dossier, keeping
the simplified département limits and CPTS perimeters between maps.

The map is a vector drawing (SVG, embedded as vectors by typst): sharp when printed at any resolution and
small, because only what the page can show is drawn. Every shape is clipped to the map's frame and
simplified to :data:`PRINT_TOLERANCE_MM` at the map's scale (what a printer cannot show), the light fills
are opaque colours (the tint over white, no transparency group per shape) and the path coordinates are
written to a tenth of a point (0.035 mm).
"""

from __future__ import annotations

import io
import math

import matplotlib
import numpy as np
import shapely
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch
from matplotlib.path import Path

from geo.base.communes import load
from geo.store.cache import cached_layer
from geo.territory.context import Context

KM_PER_DEG_LAT = 110.574
KM_PER_DEG_LON = 111.320
SIMPLIFY_DEG = 0.0005  # CPTS perimeters, cached between maps of every scale (about 50 m)
PRINT_TOLERANCE_MM = 0.2  # shapes are simplified to this length on the printed map
MARGIN = 0.25  # of the territory's extent, on each side
SIZE_IN = (6.8, 6.8)  # printed at the text width of an A4 page (17.4 cm): about 1:1
SVG_DECIMALS = 1  # path coordinates in points: a tenth of a point is 0.035 mm
GREY, EDGE = "#e6e6e6", "#9a9a9a"
CPTS_COLOUR, DEP_COLOUR = "#6a3d9a", "#222222"
TERRITORY_ALPHA, OTHERS_ALPHA = 0.75, 0.3
MARKERS = {"msp": ("^", "#c0392b", "MSP"), "centre_sante": ("s", "#1f618d", "Centre de santé")}
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
    """The opaque colour of ``colour`` (#RRGGBB) laid with ``alpha`` over white paper."""
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(255 - alpha * (255 - v)):02x}" for v in rgb)


def _rings_path(geoms: np.ndarray, project) -> Path | None:
    """One path of the exterior rings of (multi)polygons (lon, lat), projected at once: drawn in one go, much
    faster than a patch per commune (holes are drawn by what fills them). Points repeated once rounded are
    dropped, and so are the rings left with less than three points."""
    parts = shapely.get_parts(geoms)
    parts = parts[shapely.get_type_id(parts) == 3]  # polygons (a clip may leave lines or points)
    if parts.size == 0:
        return None
    coords, index = shapely.get_coordinates(shapely.get_exterior_ring(parts), return_index=True)
    verts = project(coords)
    repeated = np.zeros(len(verts), dtype=bool)
    repeated[1:] = (index[1:] == index[:-1]) & (verts[1:] == verts[:-1]).all(axis=1)
    verts, index = verts[~repeated], index[~repeated]
    kept = np.bincount(index)[index] >= 4  # three points and the closing one
    verts, index = verts[kept], index[kept]
    if len(verts) == 0:
        return None
    starts = np.flatnonzero(np.diff(index, prepend=-1))
    ends = np.append(starts[1:], len(verts)) - 1
    codes = np.full(len(verts), Path.LINETO, dtype=Path.code_type)
    codes[starts] = Path.MOVETO
    codes[ends] = Path.CLOSEPOLY
    return Path(verts, codes)


def _lines(geoms, project) -> list[np.ndarray]:
    """Boundary lines of (multi)polygons, or lines, as projected coordinate arrays."""
    geoms = np.asarray(geoms, dtype=object)
    polygonal = shapely.get_dimensions(geoms) == 2
    geoms[polygonal] = shapely.boundary(geoms[polygonal])
    parts = shapely.get_parts(shapely.get_parts(geoms))
    parts = parts[shapely.get_num_coordinates(parts) >= 2]
    if parts.size == 0:
        return []
    coords, index = shapely.get_coordinates(parts, return_index=True)
    cuts = np.flatnonzero(np.diff(index)) + 1
    return np.split(project(coords), cuts)


def _nice_length(km: float) -> float:
    """A round length (1, 2 or 5 times a power of ten) not above ``km``."""
    if km <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(km))
    return max(step * power for step in (1, 2, 5) if step * power <= km)


class MapRenderer:
    """Draws the dossier maps on one context (reuses simplified limits and CPTS perimeters between maps)."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self._deps = None
        self._cpts_shapes: dict[tuple[str, str], object] = {}
        finess, _ = cached_layer("finess")
        self.points = (
            None
            if finess is None or "geometry" not in finess.columns
            else finess[finess["kind"].isin(list(MARKERS))]
        )

    def _departements(self):
        if self._deps is None:
            deps = load("departements")
            self._deps = (
                np.asarray(shapely.boundary(shapely.simplify(deps.geometry.values, 0.002))),
                shapely.STRtree(np.asarray(deps.geometry.values)),
            )
        return self._deps

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
        """SVG of the territory ``codes`` (its ``colour``), with ``others`` {name: (colour, communes)} of the
        scenario shown lighter. Raises ValueError for a territory without any shape."""
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
        lon0, lat0 = (minx + maxx) / 2 - half_lon, (miny + maxy) / 2 - half_lat
        pad = 0.01
        frame = (
            lon0 - pad * 2 * half_lon,
            lat0 - pad * 2 * half_lat,
            lon0 + (1 + pad) * 2 * half_lon,
            lat0 + (1 + pad) * 2 * half_lat,
        )
        box = shapely.box(*frame)
        # Drawing units are the SVG's points (1/72 inch), rounded to SVG_DECIMALS: matplotlib writes the
        # coordinates as they are (no trailing zeros), the SVG stays small.
        size = SIZE_IN[0] * 72
        pt_per_km = size / side

        def project(coords: np.ndarray) -> np.ndarray:
            return np.round(
                np.column_stack(
                    (
                        (coords[:, 0] - lon0) * kx * pt_per_km,
                        (coords[:, 1] - lat0) * KM_PER_DEG_LAT * pt_per_km,
                    )
                ),
                SVG_DECIMALS,
            )

        # What a printer can show: PRINT_TOLERANCE_MM on the printed map, in degrees of latitude (the finer
        # of the two axes in km per degree).
        tolerance = PRINT_TOLERANCE_MM / 25.4 * 72 / pt_per_km / KM_PER_DEG_LAT

        def drawable(geoms) -> np.ndarray:
            clipped = shapely.clip_by_rect(np.asarray(geoms, dtype=object), *frame)
            return shapely.simplify(clipped, tolerance, preserve_topology=False)

        inside = set(codes)
        near = [
            c for c in ctx.codes[ctx.point_tree.query(box.buffer(half_lon / 2))] if c not in inside
        ]
        others = others or {}
        owner = {c: col for _, (col, members) in others.items() for c in members}

        fig = Figure(
            figsize=SIZE_IN, dpi=72
        )  # not pyplot: no global state, safe in a server thread
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_axis_off()
        ax.set_xlim(0, size)
        ax.set_ylim(0, size)

        def fill(code_list, facecolor, edge=EDGE, lw=0.25, z=1):
            geoms = [ctx.geometry[c] for c in code_list if ctx.geometry.get(c) is not None]
            path = _rings_path(drawable(geoms), project) if geoms else None
            if path is not None:
                ax.add_artist(  # not add_patch: no data-limit walk (the limits are set)
                    PathPatch(path, facecolor=facecolor, edgecolor=edge, linewidth=lw, zorder=z)
                )

        fill(sorted(inside), over_white(colour, TERRITORY_ALPHA), edge="#ffffff", lw=0.35, z=1)
        plain = [c for c in near if c not in owner]
        fill(plain, GREY, z=2)
        by_colour: dict[str, list[str]] = {}
        for c in near:
            if c in owner:
                by_colour.setdefault(owner[c], []).append(c)
        for col, members in by_colour.items():
            fill(members, over_white(col, OTHERS_ALPHA), z=2)

        outline = shapely.simplify(shapely.union_all(shapes), tolerance)
        ax.add_collection(
            LineCollection(_lines([outline], project), colors="#000000", linewidths=1.6, zorder=5),
            autolim=False,
        )

        deps, tree = self._departements()
        ax.add_collection(
            LineCollection(
                _lines(drawable(deps[tree.query(box)]), project),
                colors=DEP_COLOUR,
                linewidths=0.9,
                linestyles="-.",
                zorder=4,
            ),
            autolim=False,
        )

        cpts = {}
        for c in list(inside) + near:
            for key in ctx.cpts_members.get(c, []):
                cpts.setdefault(key, None)
        members_of: dict[tuple[str, str], list[str]] = {}
        if cpts:
            for code, keys in ctx.cpts_members.items():
                for key in keys:
                    if key in cpts:
                        members_of.setdefault(key, []).append(code)
        if members_of:
            shapes_cpts = [self._cpts_shape(key, members) for key, members in members_of.items()]
            ax.add_collection(
                LineCollection(
                    _lines(drawable(shapes_cpts), project),
                    colors=CPTS_COLOUR,
                    linewidths=1.1,
                    linestyles="--",
                    zorder=4,
                ),
                autolim=False,
            )

        if self.points is not None and len(self.points):
            pts = self.points[self.points["insee"].isin(inside.union(near))]
            for kind, (marker, col, _label) in MARKERS.items():
                sel = pts[pts["kind"] == kind]
                if len(sel):
                    xy = project(shapely.get_coordinates(np.asarray(sel.geometry.values)))
                    ax.scatter(
                        xy[:, 0],
                        xy[:, 1],
                        marker=marker,
                        s=28,
                        c=col,
                        edgecolors="white",
                        linewidths=0.5,
                        zorder=6,
                    )

        self._decorate(ax, size, side)
        buffer = io.BytesIO()
        with matplotlib.rc_context({"svg.hashsalt": "cartocpts", "svg.fonttype": "path"}):
            fig.savefig(buffer, format="svg", metadata={"Date": None})
        return buffer.getvalue()

    @staticmethod
    def _decorate(ax, size: float, side: float) -> None:
        """Scale bar and north arrow on a map of ``size`` points showing ``side`` km (the legend is set under
        the map by the template, as text: see :data:`LEGEND`)."""
        length = _nice_length(side / 4)
        bx, by = size * 0.04, size * 0.04
        ax.plot(
            [bx, bx + length * size / side],
            [by, by],
            color="black",
            lw=3,
            solid_capstyle="butt",
            zorder=7,
        )
        ax.text(
            bx + length * size / side / 2,
            by + size * 0.015,
            f"{length:g} km".replace(".", ","),
            ha="center",
            fontsize=8,
            zorder=7,
        )
        nx, ny = size * 0.94, size * 0.87
        ax.annotate(
            "N",
            xy=(nx, ny + size * 0.08),
            xytext=(nx, ny),
            ha="center",
            fontsize=11,
            fontweight="bold",
            arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.5},
            zorder=7,
        )
