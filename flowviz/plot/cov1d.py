"""The matplotlib twin of ChangeOfVariables1D: the same arrays (flowviz.scene.cov1d) drawn statically.

Left: pi(z) with the histogram of z_i ~ pi and the strip [z', z' + dz] shaded blue. Right: p(x) =
pi(z) |dz/dx| with the histogram of x_i = G(z_i) and the image [x', x' + dx] shaded green (equal area).
Direction: forward is base -> data, x = G(z).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..scene.cov1d import Cov1DScene, strip_readout
from ._figure import new_figure, show_after_cell

__all__ = ["plot_change_of_variables"]

BLUE, GREEN = "#1f77b4", "#2ca02c"


def _fmt(v: float) -> str:
    return f"{v:.4g}" if np.isfinite(v) else "∞ (not invertible)"


def plot_change_of_variables(view_or_scene: Any, ax: Any = None, *, strip: tuple[float, float] | None = None) -> Any:
    """Draw a :class:`~flowviz.widgets.cov1d.ChangeOfVariables1D` (its current strip) or a
    :class:`~flowviz.scene.cov1d.Cov1DScene` (``strip=(z', dz)``, default (1/2, 0.1) on U[0, 1], else
    (0.3, 0.1)). ``ax``: a pair of axes (z panel, x panel), or None for a new figure (not registered with
    pyplot; in a notebook it is shown when the cell ends). Returns the axes.
    """
    if isinstance(view_or_scene, Cov1DScene):
        scene = view_or_scene
        if strip is None:
            strip = (0.5, 0.1) if scene.base == "uniform" else (0.3, 0.1)
    else:
        scene = view_or_scene.scene
        if strip is None:
            strip = (float(view_or_scene.strip_z), float(view_or_scene.strip_dz))
    if ax is None:
        fig = new_figure(figsize=(10, 3.8), layout="constrained")
        ax = fig.subplots(1, 2)
        show_after_cell(fig)
    if not isinstance(ax, Sequence | np.ndarray) or len(ax) != 2:
        raise ValueError("ax must be a pair of matplotlib axes (z panel, x panel)")
    az, axx = ax[0], ax[1]
    z0, dz = strip
    z0 = float(np.clip(z0, scene.z[0], scene.z[-1] - dz))
    r = strip_readout(scene, z0, dz)
    valid = scene.valid > 0

    # z panel
    az.stairs(scene.hz, scene.hz_edges, fill=True, color="0.85", edgecolor="0.6", label="histogram of z_i ~ π")
    az.plot(np.r_[scene.z[0], scene.z, scene.z[-1]], np.r_[0, scene.pi, 0], color="C0", lw=2, label="π(z)")
    inside = (scene.z >= z0) & (scene.z <= z0 + dz)
    zs = np.r_[z0, scene.z[inside], z0 + dz]
    az.fill_between(zs, np.interp(zs, scene.z, scene.pi), color=BLUE, alpha=0.45, label="strip [z′, z′+dz]")
    az.set(xlim=scene.z_bounds[:2], ylim=(0, scene.z_bounds[3]), xlabel="z", ylabel="π(z)",
           title=f"base π(z), Z ~ {scene.meta()['base_label']}:  π(z′ = {z0:.3g}) = {_fmt(r.pi)}")
    az.legend(loc="upper right", fontsize="small")

    # x panel
    axx.stairs(scene.hx, scene.hx_edges, fill=True, color="0.85", edgecolor="0.6", label="histogram of x_i = G(z_i)")
    if valid.any():
        xv, pv = scene.x[valid], scene.px[valid]
        axx.plot(np.r_[xv[0], xv, xv[-1]], np.r_[0, pv, 0], color="C0", lw=2, label="p(x) = π(z)|dz/dx|")
    if r.ok:
        sel = valid & inside
        xs = np.r_[r.x, scene.x[sel], r.x_end]
        ps = np.r_[np.interp(z0, scene.z, scene.px), scene.px[sel], np.interp(z0 + dz, scene.z, scene.px)]
        order = np.argsort(xs)
        axx.fill_between(xs[order], ps[order], color=GREEN, alpha=0.45, label="image [x′, x′+dx]")
        title = f"p(x), {scene.formula}:  |dz/dx| = {_fmt(r.dzdx)},  p(x′ = {r.x:.3g}) = {_fmt(r.px)}"
    else:
        title = f"p(x), {scene.formula}:  |dz/dx| = {_fmt(r.dzdx)}"
    axx.set(xlim=scene.x_bounds[:2], ylim=(0, scene.x_bounds[3]), xlabel="x", ylabel="p(x)", title=title)
    axx.title.set_fontsize("medium")
    axx.legend(loc="upper right", fontsize="small")
    if scene.status != "ok":
        axx.text(0.5, 0.55, f"{scene.status}\n{scene.message}", transform=axx.transAxes, ha="center", va="center",
                 color="white", fontsize="medium", wrap=True,
                 bbox={"boxstyle": "round", "facecolor": (0.78, 0.09, 0.14, 0.9), "edgecolor": "none"})
    return ax
