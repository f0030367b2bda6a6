"""The dossier's map of a territory, drawn offline with matplotlib (no tile server).

What it shows: the territory's communes in its colour, the scenario's neighbouring territories (lighter),
the other communes in grey, the perimeters of the existing CPTS (dashed), the département limits, the MSP
and centres de santé (FINESS points), a scale bar, a north arrow and a legend. Coordinates are projected
locally (equirectangular around the territory, in km): true enough for a scale bar at this size, and the
same code serves the overseas départements. One :class:`MapRenderer` draws every map of a dossier, keeping
the simplified département limits and CPTS perimeters between maps.
"""

from __future__ import annotations

import io
import math

import matplotlib

matplotlib.use("Agg")  # no display: the map becomes a JPEG

import matplotlib.pyplot as plt  # noqa: E402 - after the backend is chosen
import numpy as np  # noqa: E402
import shapely  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.patches import PathPatch  # noqa: E402
from matplotlib.path import Path  # noqa: E402

from geo.base.communes import load  # noqa: E402
from geo.store.cache import cached_layer  # noqa: E402
from geo.territory.context import Context  # noqa: E402

KM_PER_DEG_LAT = 110.574
KM_PER_DEG_LON = 111.320
SIMPLIFY_DEG = 0.0005
MARGIN = 0.25  # of the territory's extent, on each side
DPI = 100
SIZE_IN = (6.8, 6.8)
GREY, EDGE = "#e6e6e6", "#9a9a9a"
CPTS_COLOUR, DEP_COLOUR = "#6a3d9a", "#222222"
TERRITORY_ALPHA, OTHERS_ALPHA = 0.75, 0.3
MARKERS = {"msp": ("^", "#c0392b", "MSP"), "centre_sante": ("s", "#1f618d", "Centre de santé")}
# The legend the template prints under each map: (kind, colour, label); « territoire » takes the territory's
# colour. Constants only: no data reaches the map's text.
LEGEND = (
    ("fill", "", "Territoire"),
    ("fill-light", "#888888", "Autres territoires du scénario"),
    ("fill", GREY, "Autres communes"),
    ("dash", CPTS_COLOUR, "CPTS existantes"),
    ("dashdot", DEP_COLOUR, "Limites de départements"),
    ("triangle", MARKERS["msp"][1], "MSP"),
    ("square", MARKERS["centre_sante"][1], "Centre de santé"),
)


def _compound(rings: list[np.ndarray], project) -> Path | None:
    """One path of closed rings (lon, lat), projected at once: drawn in one go, much faster than a patch per
    commune."""
    if not rings:
        return None
    verts = project(np.concatenate(rings))
    sizes = np.array([len(r) for r in rings])
    ends = np.cumsum(sizes) - 1
    codes = np.full(len(verts), Path.LINETO, dtype=Path.code_type)
    codes[ends - sizes + 1] = Path.MOVETO
    codes[ends] = Path.CLOSEPOLY
    return Path(verts, codes)


def _lines(geoms, project) -> list[np.ndarray]:
    """Boundary lines of (multi)polygons as projected coordinate arrays."""
    parts = shapely.get_parts(shapely.get_parts(shapely.boundary(np.asarray(geoms, dtype=object))))
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
        self._rings: dict[
            str, list[np.ndarray]
        ] = {}  # code -> simplified exterior rings (lon, lat)
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
                np.asarray(shapely.simplify(deps.geometry.values, 0.002)),
                shapely.STRtree(np.asarray(deps.geometry.values)),
            )
        return self._deps

    def _commune_rings(self, code: str) -> list[np.ndarray]:
        """Exterior rings of a commune, simplified to about 50 m (holes are drawn by what fills them)."""
        rings = self._rings.get(code)
        if rings is None:
            geom = self.ctx.geometry.get(code)
            rings = []
            if geom is not None and not geom.is_empty:
                simple = shapely.simplify(geom, SIMPLIFY_DEG, preserve_topology=False)
                for part in shapely.get_parts(simple if not simple.is_empty else geom):
                    if isinstance(part, shapely.Polygon) and not part.is_empty:
                        rings.append(shapely.get_coordinates(part.exterior))
            self._rings[code] = rings
        return rings

    def _cpts_shape(self, key: tuple[str, str], codes: list[str]):
        shape = self._cpts_shapes.get(key)
        if shape is None:
            shape = shapely.union_all(
                [self.ctx.geometry[c] for c in codes if c in self.ctx.geometry]
            )
            shape = shapely.simplify(shape, 0.0005)
            self._cpts_shapes[key] = shape
        return shape

    def render(
        self,
        codes,
        colour: str = "#0072B2",
        others: dict[str, tuple[str, set[str]]] | None = None,
    ) -> bytes:
        """JPEG of the territory ``codes`` (its ``colour``), with ``others`` {name: (colour, communes)} of the
        scenario shown lighter. Raises ValueError for a territory without any shape."""
        ctx = self.ctx
        shapes = [ctx.geometry[c] for c in codes if ctx.geometry.get(c) is not None]
        if not shapes:
            raise ValueError("territory without shape")
        minx, miny, maxx, maxy = shapely.total_bounds(np.asarray(shapes, dtype=object))
        lat0 = (miny + maxy) / 2
        kx = KM_PER_DEG_LON * math.cos(math.radians(lat0))

        def project(coords: np.ndarray) -> np.ndarray:
            return np.column_stack(
                ((coords[:, 0] - minx) * kx, (coords[:, 1] - miny) * KM_PER_DEG_LAT)
            )

        width, height = max((maxx - minx) * kx, 1.0), max((maxy - miny) * KM_PER_DEG_LAT, 1.0)
        side = max(width, height) * (1 + 2 * MARGIN)
        cx, cy = ((maxx - minx) * kx) / 2, ((maxy - miny) * KM_PER_DEG_LAT) / 2
        x0, x1, y0, y1 = cx - side / 2, cx + side / 2, cy - side / 2, cy + side / 2
        box = shapely.box(
            minx + x0 / kx, miny + y0 / KM_PER_DEG_LAT, minx + x1 / kx, miny + y1 / KM_PER_DEG_LAT
        )

        inside = set(codes)
        near = [
            c for c in ctx.codes[ctx.point_tree.query(box.buffer(side / 4 / kx))] if c not in inside
        ]
        others = others or {}
        owner = {c: col for _, (col, members) in others.items() for c in members}

        fig = plt.figure(figsize=SIZE_IN, dpi=DPI)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_axis_off()
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_aspect("equal")

        def fill(code_list, facecolor, alpha=1.0, edge=EDGE, lw=0.25, z=1):
            path = _compound([r for c in code_list for r in self._commune_rings(c)], project)
            if path is not None:
                ax.add_artist(  # not add_patch: no data-limit walk (the limits are set)
                    PathPatch(
                        path,
                        facecolor=facecolor,
                        edgecolor=edge,
                        linewidth=lw,
                        alpha=alpha,
                        zorder=z,
                    )
                )

        fill(sorted(inside), colour, alpha=TERRITORY_ALPHA, edge="#ffffff", lw=0.35, z=1)
        plain = [c for c in near if c not in owner]
        fill(plain, GREY, z=2)
        by_colour: dict[str, list[str]] = {}
        for c in near:
            if c in owner:
                by_colour.setdefault(owner[c], []).append(c)
        for col, members in by_colour.items():
            fill(members, col, alpha=OTHERS_ALPHA, z=2)

        outline = shapely.simplify(shapely.union_all(shapes), SIMPLIFY_DEG)
        ax.add_collection(
            LineCollection(_lines([outline], project), colors="#000000", linewidths=1.6, zorder=5),
            autolim=False,
        )

        deps, tree = self._departements()
        ax.add_collection(
            LineCollection(
                _lines(deps[tree.query(box)], project),
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
                    _lines(shapes_cpts, project),
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

        self._decorate(ax, (x0, x1, y0, y1), side)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="jpg", dpi=DPI, pil_kwargs={"quality": 88})
        plt.close(fig)
        return buffer.getvalue()

    @staticmethod
    def _decorate(ax, extent, side) -> None:
        """Scale bar and north arrow (the legend is set under the map by the template, as text: see
        :data:`LEGEND`)."""
        x0, x1, y0, y1 = extent
        length = _nice_length(side / 4)
        bx, by = x0 + side * 0.04, y0 + side * 0.04
        ax.plot([bx, bx + length], [by, by], color="black", lw=3, solid_capstyle="butt", zorder=7)
        ax.text(
            bx + length / 2,
            by + side * 0.015,
            f"{length:g} km".replace(".", ","),
            ha="center",
            fontsize=8,
            zorder=7,
        )
        nx, ny = x1 - side * 0.06, y1 - side * 0.13
        ax.annotate(
            "N",
            xy=(nx, ny + side * 0.08),
            xytext=(nx, ny),
            ha="center",
            fontsize=11,
            fontweight="bold",
            arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.5},
            zorder=7,
        )
