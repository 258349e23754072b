"""The density map as the browser draws it: log p interpolated linearly inside each triangle per pixel, then
looked up in the 256-entry colour table (js/src/renderer-canvas2d.js rasterizeDensity, the WebGL shader alike).

matplotlib's Gouraud shading would blend the vertices' RGB colours instead (off by up to 24/255 on a coarse
mesh), and thousands of triangles make a PDF or SVG tens of megabytes. :class:`DensityImage` is an image
artist that rasterises the triangles onto the pixel grid it is drawn at (the screen, a PNG at any dpi, or the
image embedded in a PDF/SVG at the saving dpi), so it is exact at every resolution and small in vector files.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import Colormap, Normalize
from matplotlib.image import AxesImage
from matplotlib.transforms import Bbox

__all__ = ["DensityImage", "lut_bytes", "lut_index", "lut_rgb", "rasterize_triangles"]

EDGE_TOLERANCE = 1e-7  # barycentric slack, as the browser: a pixel centre on a shared edge is never left out
CHUNK = 1 << 22  # candidate pixels per batch (bounds the memory of a triangle far larger than the view)


def _cmap(cmap: str | Colormap) -> Colormap:
    return colormaps[cmap] if isinstance(cmap, str) else cmap


def lut_rgb(cmap: str | Colormap = "viridis") -> np.ndarray:
    """(256, 3) float32 RGB in 0..1: the table the browser gets (flowviz.widgets.lut.colormap_lut)."""
    return np.asarray(_cmap(cmap).resampled(256)(np.linspace(0.0, 1.0, 256))[:, :3], dtype=np.float32)


def lut_bytes(cmap: str | Colormap = "viridis") -> np.ndarray:
    """(256, 3) uint8: the table as the browser uploads it (js/src/colormap.js lutToRGBA8: round(255 v))."""
    return np.floor(lut_rgb(cmap).astype(np.float64) * 255.0 + 0.5).clip(0, 255).astype(np.uint8)


def lut_index(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Table index 0..255 of each value (js/src/colormap.js lutIndex): round((v - lo) / (hi - lo) * 255),
    halves up, clamped at both ends; 128 for a degenerate range. Values must be finite."""
    v = np.asarray(values, dtype=np.float64)
    span = hi - lo
    if not (span > 0 and np.isfinite(span)):
        return np.full(v.shape, 128, dtype=np.intp)
    return np.floor((v - lo) * (255.0 / span) + 0.5).clip(0, 255).astype(np.intp)


def rasterize_triangles(px: np.ndarray, values: np.ndarray, tris: np.ndarray, width: int, height: int
                        ) -> np.ndarray:
    """(height, width) float64: the value interpolated linearly (barycentric) at each pixel centre
    (i + 0.5, j + 0.5) that a triangle covers, NaN elsewhere. ``px`` (V, 2): vertex positions in pixel units;
    ``values`` (V,); ``tris`` (T, 3). Where triangles overlap the later one wins (drawing order), and a centre
    on an edge belongs to both sides (tolerance 1e-7): the rule of the browser's rasterizeDensity."""
    out = np.full(height * width, np.nan)
    tris = np.asarray(tris, dtype=np.int64).reshape(-1, 3)
    if not len(tris) or width <= 0 or height <= 0:
        return out.reshape(height, width)
    p = np.asarray(px, dtype=np.float64)[tris]  # (T, 3, 2)
    val = np.asarray(values, dtype=np.float64)[tris]  # (T, 3)
    ax, ay, bx, by, cx, cy = p[:, 0, 0], p[:, 0, 1], p[:, 1, 0], p[:, 1, 1], p[:, 2, 0], p[:, 2, 1]
    with np.errstate(invalid="ignore", over="ignore"):
        area = (bx - ax) * (cy - ay) - (cx - ax) * (by - ay)
        keep = np.isfinite(area) & (area != 0) & np.isfinite(val).all(1)
        xs, ys = p[..., 0], p[..., 1]
        x0 = np.maximum(0, np.floor(xs.min(1))).astype(np.float64)
        x1 = np.minimum(width - 1, np.ceil(xs.max(1)))
        y0 = np.maximum(0, np.floor(ys.min(1)))
        y1 = np.minimum(height - 1, np.ceil(ys.max(1)))
        keep &= (x1 >= x0) & (y1 >= y0)
    order = np.nonzero(keep)[0]  # drawing order kept: ascending triangle index
    if not len(order):
        return out.reshape(height, width)
    nx = (x1[order] - x0[order] + 1).astype(np.int64)
    ny = (y1[order] - y0[order] + 1).astype(np.int64)
    count = nx * ny
    ends = np.cumsum(count)
    starts = ends - count
    pix_all: list[np.ndarray] = []
    val_all: list[np.ndarray] = []
    first = 0
    while first < len(order):  # batches of triangles with at most CHUNK candidate pixels (at least one triangle)
        last = max(first + 1, int(np.searchsorted(ends, starts[first] + CHUNK, side="right")))
        sel = order[first:last]
        c, n_x = count[first:last], nx[first:last]
        tri = np.repeat(np.arange(len(sel)), c)
        local = np.arange(int(c.sum())) - np.repeat(starts[first:last] - starts[first], c)
        ix = x0[sel][tri].astype(np.int64) + local % n_x[tri]
        iy = y0[sel][tri].astype(np.int64) + local // n_x[tri]
        qx, qy = ix + 0.5, iy + 0.5
        t = sel[tri]
        inv = 1.0 / area[t]
        wa = ((bx[t] - qx) * (cy[t] - qy) - (cx[t] - qx) * (by[t] - qy)) * inv
        wb = ((cx[t] - qx) * (ay[t] - qy) - (ax[t] - qx) * (cy[t] - qy)) * inv
        inside = (wa >= -EDGE_TOLERANCE) & (wb >= -EDGE_TOLERANCE) & (wa + wb <= 1.0 + EDGE_TOLERANCE)
        v = val[t, 0] * wa + val[t, 1] * wb + val[t, 2] * (1.0 - wa - wb)
        pix_all.append((iy * width + ix)[inside])
        val_all.append(v[inside])
        first = last
    pix, v = np.concatenate(pix_all), np.concatenate(val_all)
    # the last triangle drawn at a pixel wins: the first occurrence in the reversed order
    keys, at = np.unique(pix[::-1], return_index=True)
    out[keys] = v[::-1][at]
    return out.reshape(height, width)


class DensityImage(AxesImage):
    """The density of a triangle mesh as an image artist: log p (``values``, per vertex of ``mesh``)
    interpolated per pixel inside each of ``triangles`` and coloured from the 256-entry table of ``cmap``
    over [lo, hi] (clamped), as the browser does; transparent outside the triangles. It is rasterised at
    draw time onto the pixel grid of the output (screen, PNG, or the image inside a PDF/SVG at the saving
    dpi). ``norm`` and ``cmap`` are set for colour bars (matplotlib's own lookup may differ from the table's
    rounding by one of 256 entries; the pixels drawn use the table)."""

    def __init__(self, ax: Axes, mesh: np.ndarray, values: np.ndarray, triangles: np.ndarray, *,
                 cmap: str | Colormap = "viridis", lo: float, hi: float, **kwargs: Any) -> None:
        super().__init__(ax, cmap=_cmap(cmap), norm=Normalize(lo, hi, clip=True), interpolation="nearest",
                         origin="lower", **kwargs)
        self.mesh = np.asarray(mesh, dtype=np.float64).reshape(-1, 2)
        self.values = np.asarray(values, dtype=np.float64).reshape(-1)
        self.triangles = np.asarray(triangles, dtype=np.int64).reshape(-1, 3)
        self.lo, self.hi = float(lo), float(hi)
        self.lut = lut_bytes(self.cmap)
        self._A = self.values  # (what get_array returns: the per-vertex log p, for colour bars and checks)
        self._extent = self.get_extent()  # (matplotlib's get_window_extent reads it)

    def get_extent(self) -> tuple[float, float, float, float]:  # type: ignore[override]
        """(x0, x1, y0, y1) of the drawn triangles' vertices in data units."""
        used = self.mesh[np.unique(self.triangles)] if len(self.triangles) else np.zeros((1, 2))
        (x0, y0), (x1, y1) = used.min(0), used.max(0)
        return (float(x0), float(x1), float(y0), float(y1))

    def pixel_values(self, px: np.ndarray, width: int, height: int) -> np.ndarray:
        """(height, width): log p at each pixel centre (NaN outside the triangles), for vertex positions ``px``
        in pixel units."""
        return rasterize_triangles(px, self.values, self.triangles, width, height)

    def colour(self, values: np.ndarray) -> np.ndarray:
        """(..., 4) uint8 RGBA of log p values: the table's colour, opaque; transparent where NaN."""
        v = np.asarray(values, dtype=np.float64)
        rgba = np.zeros((*v.shape, 4), dtype=np.uint8)
        ok = np.isfinite(v)
        rgba[ok, :3] = self.lut[lut_index(v[ok], self.lo, self.hi)]
        rgba[ok, 3] = 255
        return rgba

    def make_image(self, renderer: Any, magnification: float = 1.0, unsampled: bool = False  # type: ignore[override]
                   ) -> tuple[np.ndarray | None, float, float, Any]:
        """The RGBA raster of the clipped view at ``magnification`` (pixel grid aligned as matplotlib aligns
        images with the axes), rows bottom to top, and its lower-left corner in display units."""
        if not len(self.triangles):
            return None, 0, 0, None
        trans = self.get_transform()
        disp = np.asarray(trans.transform(self.mesh), dtype=np.float64)
        used = disp[np.unique(self.triangles)]
        used = used[np.isfinite(used).all(1)]
        if not len(used):
            return None, 0, 0, None
        fig = self.get_figure(root=True)
        clip = (self.get_clip_box() or self.axes.bbox) if self.get_clip_on() or fig is None else fig.bbox
        clipped = Bbox.intersection(Bbox([used.min(0), used.max(0)]), clip)
        if clipped is None:
            return None, 0, 0, None
        # rounded to whole output pixels as matplotlib's _ImageBase._make_image does
        e = np.asarray(clipped.extents, dtype=np.float64) * magnification
        x0, y0 = np.floor(e[0] + 0.5), np.ceil(e[1] - 0.5 - 1e-8)
        x1, y1 = np.floor(e[2] + 0.5 + 1e-8), np.ceil(e[3] - 0.5)
        width, height = int(x1 - x0), int(y1 - y0)
        if width <= 0 or height <= 0:
            return None, 0, 0, None
        px = disp * magnification - np.array([x0, y0])
        rgba = self.colour(self.pixel_values(px, width, height))
        return rgba, float(x0 / magnification), float(y0 / magnification), None

    def get_cursor_data(self, event: Any) -> float | None:
        """log p under the pointer (interpolated in the triangle there), or None outside the mesh."""
        if event.x is None or event.y is None:
            return None
        disp = np.asarray(self.get_transform().transform(self.mesh), dtype=np.float64) - [event.x - 0.5, event.y - 0.5]
        v = rasterize_triangles(disp, self.values, self.triangles, 1, 1)[0, 0]
        return float(v) if np.isfinite(v) else None
