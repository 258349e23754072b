"""The matplotlib twin of JacobianLens: the same arrays (flowviz.scene.lens) drawn as a static figure.

Left: the deformed grid x = f(z) coloured by log p(x) = log pi(z) - log|det J_f(z)|, the unit square
(dashed) and its image (filled). Right: the 2D histogram of pushed samples f(z_i), z_i ~ N(0, I), with
contours of the exact density p(x) = pi(A^{-1} (x - b)) |det J_{f^-1}| for a linear or affine map.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..scene.lens import LensScene, cube_edges, oblique_projection, parallelepiped, six_terms
from ._mesh import grid_segments, segments_only_in, stretch_flags, triangles

__all__ = ["plot_jacobian_lens", "plot_parallelepiped"]


def _scene(view_or_scene: Any) -> LensScene:
    if isinstance(view_or_scene, LensScene):
        return view_or_scene
    scene = getattr(view_or_scene, "scene", None)
    if isinstance(scene, LensScene):
        return scene
    raise TypeError(f"plot_jacobian_lens needs a JacobianLens or a LensScene, got {type(view_or_scene).__name__}")


def plot_jacobian_lens(view_or_scene: Any, ax: Any = None, *, cmap: str = "viridis") -> list[Any]:
    """Draw a JacobianLens (or a :class:`~flowviz.scene.lens.LensScene`); ``ax``: two Axes, or None
    for a new figure. Returns the two Axes."""
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.tri import Triangulation

    from .layers import FOLD

    s = _scene(view_or_scene)
    if ax is None:
        _, ax = plt.subplots(1, 2, figsize=(10, 4.8))
    a0, a1 = list(ax)
    x, z = s.mesh[1], s.mesh[0]
    ok = s.finite[1] > 0
    tris = triangles(s.gx, s.gy)
    stretched = stretch_flags(s, tris)[1]  # cells the mesh cannot resolve stay unfilled, as in the browser
    folded = (s.folded[1] > 0)[tris].any(1)  # the lens's fold flags (minority sign of det J_f), as the browser
    placed_t = (s.placed[1] > 0)[tris].all(1)
    good = ok[tris].all(1) & ~stretched & ~folded
    lo, hi = s.logp_range
    if good.any():
        tri = Triangulation(x[:, 0], x[:, 1], tris[good])
        a0.tripcolor(tri, s.logp[1], cmap=cmap, vmin=lo, vmax=hi, shading="gouraud")
    if (folded & placed_t).any():  # hatched red, no density: the map folds the plane there
        a0.add_collection(PolyCollection(x[tris[folded & placed_t]], facecolors=(*FOLD, 0.35), edgecolors=(*FOLD, 0.85),
                                         hatch="///", linewidths=0.0, zorder=2), autolim=False)
    seg = grid_segments(s.gx, s.gy)
    placed = (s.placed[1] > 0)[seg].all(1)  # both ends at finite positions
    over = ok[seg].all(1)                   # ... and over the density map
    if stretched.any():
        placed &= ~segments_only_in(seg, tris, stretched)
    a0.add_collection(LineCollection(x[seg[placed & over]], colors="white", linewidths=0.5, alpha=0.6))
    if (placed & ~over).any():  # e.g. a singular map's grid, squashed onto a line: no density under it
        a0.add_collection(LineCollection(x[seg[placed & ~over]], colors="0.25", linewidths=0.6, alpha=0.7))
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
        title += f"\n{s.status}: {s.message}"
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
    browser uses, titled with the six terms and their sum = det."""
    import matplotlib.pyplot as plt

    m = np.asarray(matrix, dtype=np.float64)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    cube, img = oblique_projection(parallelepiped(np.eye(3))), oblique_projection(parallelepiped(m))
    for i, j in cube_edges():
        ax.plot(*cube[[i, j]].T, "--", color="grey", lw=1)
        ax.plot(*img[[i, j]].T, color="orange", lw=2)
    terms = six_terms(m)
    ax.set_title("  ".join(f"{t['label']}={t['value']:.3g}" for t in terms[:3]) + "\n"
                 + "  ".join(f"{t['label']}={t['value']:.3g}" for t in terms[3:])
                 + f"\ndet = {sum(t['value'] for t in terms):.4g}", fontsize=8)
    ax.set_aspect("equal")
    return ax
