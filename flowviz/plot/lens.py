"""The matplotlib twin of JacobianLens: the same arrays (flowviz.scene.lens) drawn as a static figure.

Left: the deformed grid x = f(z) coloured by log p(x) = log pi(z) - log|det J_f(z)| (interpolated per pixel
and looked up in the colour table, as the browser; a colour bar beside it), the unit square (dashed) and its
image (filled). Right: the 2D histogram of pushed samples f(z_i), z_i ~ N(0, I), with
contours of the exact density p(x) = pi(A^{-1} (x - b)) |det J_{f^-1}| for a linear or affine map.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Colormap, Normalize

from ..scene.lens import LensScene, cube_edges, oblique_projection, parallelepiped, six_terms
from ._figure import new_figure, show_after_cell
from ._mesh import grid_segments, polylines, segments_only_in, stretch_flags, triangles
from ._raster import DensityImage

__all__ = ["flat3", "plot_jacobian_lens", "plot_parallelepiped"]

FLAT3_ULPS = 16  # js/src/views/lens/linalg.js flat3: |sum| <= 16 eps sum|term| reads as 0


def flat3(values: Sequence[float], total: float) -> bool:
    """Whether a 3x3 determinant, ``total`` = the sum of its six terms ``values``, is zero up to their
    rounding: not finite, or |total| <= 16 eps sum|term| (eps = 2^-52), the browser's rule (the cube is
    flattened: not invertible)."""
    mag = sum(abs(float(v)) for v in values)
    return not math.isfinite(total) or abs(total) <= FLAT3_ULPS * float(np.finfo(np.float64).eps) * mag


def _scene(view_or_scene: Any) -> LensScene:
    if isinstance(view_or_scene, LensScene):
        return view_or_scene
    scene = getattr(view_or_scene, "scene", None)
    if isinstance(scene, LensScene):
        return scene
    raise TypeError(f"plot_jacobian_lens needs a JacobianLens or a LensScene, got {type(view_or_scene).__name__}")


def plot_jacobian_lens(view_or_scene: Any, ax: Any = None, *, cmap: str | Colormap = "viridis") -> list[Any]:
    """Draw a JacobianLens (or a :class:`~flowviz.scene.lens.LensScene`); ``ax``: two Axes, or None
    for a new figure (not registered with pyplot; in a notebook it is shown when the cell ends; else
    ``axes[0].figure.savefig(...)``). The density panel gets a colour bar of log p(x), as the browser's.
    Returns the two Axes."""
    from matplotlib.collections import LineCollection, PolyCollection

    from .layers import FOLD

    s = _scene(view_or_scene)
    if ax is None:
        fig = new_figure(figsize=(10.8, 4.8), layout="constrained")
        ax = fig.subplots(1, 2)
        show_after_cell(fig)
    a0, a1 = list(ax)
    x, z = s.mesh[1], s.mesh[0]
    ok = s.finite[1] > 0
    tris = triangles(s.gx, s.gy)
    stretched = stretch_flags(s, tris)[1]  # cells the mesh cannot resolve stay unfilled, as in the browser
    folded = (s.folded[1] > 0)[tris].any(1)  # the lens's fold flags (minority sign of det J_f), as the browser
    placed_t = (s.placed[1] > 0)[tris].all(1)
    good = ok[tris].all(1) & ~stretched & ~folded
    lo, hi = s.logp_range
    if good.any():  # log p per pixel, coloured from the table, as the browser (a raster: small PDF/SVG files)
        a0.add_image(DensityImage(a0, np.where(ok[:, None], x, 0.0), np.where(ok, s.logp[1], lo), tris[good],
                                  cmap=cmap, lo=lo, hi=hi, zorder=1))
    # the key beside the panel, as tall as its (equal-aspect) box
    a0.figure.colorbar(ScalarMappable(norm=Normalize(lo, hi), cmap=cmap), cax=a0.inset_axes((1.03, 0.0, 0.035, 1.0)),
                       label="log p(x)")
    if (folded & placed_t).any():  # hatched red, no density: the map folds the plane there
        folds = PolyCollection(x[tris[folded & placed_t]], facecolors=(*FOLD, 0.35), edgecolors=(*FOLD, 0.85),
                               hatch="///", linewidths=0.0, zorder=2)
        folds.set_rasterized(True)
        a0.add_collection(folds, autolim=False)
    seg = grid_segments(s.gx, s.gy)
    placed = (s.placed[1] > 0)[seg].all(1)  # both ends at finite positions
    over = ok[seg].all(1)                   # ... and over the density map
    if stretched.any():
        placed &= ~segments_only_in(seg, tris, stretched)
    a0.add_collection(LineCollection([x[line] for line in polylines(seg[placed & over])], colors="white",
                                     linewidths=0.5, alpha=0.6))
    if (placed & ~over).any():  # e.g. a singular map's grid, squashed onto a line: no density under it
        a0.add_collection(LineCollection([x[line] for line in polylines(seg[placed & ~over])], colors="0.25",
                                         linewidths=0.6, alpha=0.7))
    a0.fill(s.square_image[:, 0], s.square_image[:, 1], color="orange", alpha=0.35)
    a0.plot(s.square_image[:, 0], s.square_image[:, 1], color="orange", lw=2)
    a0.plot(s.square[:, 0], s.square[:, 1], "--", color="white", lw=1.4)
    a0.plot(s.square[:, 0], s.square[:, 1], "--", color="black", lw=0.6)
    b0, b1 = s.bounds  # the browser's camera: both states' boxes and the unit square
    a0.set_xlim(min(b0[0], b1[0], -0.2), max(b0[1], b1[1], 1.2))
    a0.set_ylim(min(b0[2], b1[2], -0.2), max(b0[3], b1[3], 1.2))
    a0.set_aspect("equal")
    det_inv = "—" if s.det_inv is None else f"{1 / s.det_inv:.4g}"
    at = "" if s.linear else " at z = 0"
    det = f"{s.det:.4g}" if math.isfinite(s.det) else "non-finite"
    title = f"x = f(z) = ({s.text})\ndet J_f{at} = {det}, 1/det J_f⁻¹{at} = {det_inv}"
    if s.status != "ok":
        title += "\n" + textwrap.fill(f"{s.status}: {s.message}", 64)
    elif s.orientation == "reversed":
        title += " (orientation reversed)"
    a0.set_title(title, fontsize=9)
    a0.set_xlabel("x₁")
    a0.set_ylabel("x₂")
    e = s.hist_extent
    h = np.where(s.hist > 0, np.log(np.where(s.hist > 0, s.hist, 1.0)), np.nan)
    a1.imshow(h, origin="lower", extent=e, cmap=cmap, vmin=lo, vmax=hi, aspect="equal", interpolation="nearest")
    if s.formula is not None:
        nb = s.formula.shape[0]
        cx = e[0] + (np.arange(nb) + 0.5) * (e[1] - e[0]) / nb
        cy = e[2] + (np.arange(nb) + 0.5) * (e[3] - e[2]) / nb
        fmax = float(s.formula.max())
        if fmax > 0:
            a1.contour(cx, cy, s.formula, levels=[0.25 * fmax, 0.5 * fmax, 0.75 * fmax], colors="white",
                       linewidths=0.8)
    a1.set_title(f"histogram of {s.n_samples} samples f(zᵢ)" + ("; contours: formula" if s.formula is not None else ""),
                 fontsize=9)
    a1.set_xlabel("x₁")
    a1.set_ylabel("x₂")
    _ = z
    return [a0, a1]


def plot_parallelepiped(matrix: Any, ax: Any = None) -> Any:
    """The unit cube (dashed) and its image under the 3x3 ``matrix`` in the cabinet projection the
    browser uses, titled with the six terms and their sum = det. A sum that is zero up to the rounding of
    the terms (:func:`flat3`, the browser's rule) reads "det = 0 (up to rounding: residue)" with the
    browser's "not invertible" banner. ``ax``: an Axes, or None for a new figure (not registered with
    pyplot; shown when a notebook cell ends). Returns the Axes."""
    m = np.asarray(matrix, dtype=np.float64)
    if ax is None:
        fig = new_figure(figsize=(5, 5), layout="constrained")
        ax = fig.add_subplot()
        show_after_cell(fig)
    cube, img = oblique_projection(parallelepiped(np.eye(3))), oblique_projection(parallelepiped(m))
    for i, j in cube_edges():
        ax.plot(*cube[[i, j]].T, "--", color="grey", lw=1)
        ax.plot(*img[[i, j]].T, color="orange", lw=2)
    terms = six_terms(m)
    values = [float(t["value"]) for t in terms]
    total = 0.0
    for v in values:  # summed in order from 0, as the browser's reduce
        total += v
    flat = flat3(values, total)
    if flat:
        det = f"det = 0 (up to rounding: {total:.4g})" if math.isfinite(total) else f"det not finite ({total})"
    else:
        det = f"det = {total:.4g}" + (" < 0: orientation reversed" if total < 0 else "")
    ax.set_title("  ".join(f"{t['label']}={t['value']:.3g}" for t in terms[:3]) + "\n"
                 + "  ".join(f"{t['label']}={t['value']:.3g}" for t in terms[3:])
                 + f"\n{det}", fontsize=8)
    if flat:  # the browser's banner
        ax.text(0.5, 0.97, "not invertible \u2014 det M = 0: the cube is flattened", transform=ax.transAxes,
                ha="center", va="top", color="white", fontsize=8,
                bbox={"boxstyle": "round", "facecolor": (0.78, 0.09, 0.14, 0.9), "edgecolor": "none"})
    ax.set_aspect("equal")
    return ax
