"""The matplotlib twin of TriangularJacobian: the Jacobian heatmap (exact zeros neutral) and the
LU-vs-diagonal timing on log-log axes, from the same arrays (flowviz.scene.triangular)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..scene.triangular import TriangularScene, fit_loglog

__all__ = ["plot_triangular"]


def plot_triangular(view_or_scene: Any, timing: dict[str, Any] | None = None, ax: Any = None) -> list[Any]:
    """Draw a TriangularJacobian (or a TriangularScene, with an optional ``timing`` dict from
    :func:`~flowviz.scene.triangular.time_logdet`). The heatmap has a colour bar from -max|J| to +max|J|.
    Returns the Axes (one, or two with timing)."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import SymLogNorm

    scene = view_or_scene
    if not isinstance(scene, TriangularScene):
        scene = getattr(view_or_scene, "scene", None)
    if not isinstance(scene, TriangularScene):
        raise TypeError("plot_triangular needs a TriangularJacobian or TriangularScene, "
                        f"got {type(view_or_scene).__name__}")
    if timing is None:
        timing = getattr(view_or_scene, "timing", None) or None
    n_ax = 2 if timing and timing.get("n") else 1
    if ax is None:
        _, ax = plt.subplots(1, n_ax, figsize=(5.2 * n_ax, 4.6))
    axes = list(np.atleast_1d(ax))
    a0 = axes[0]
    m = max(float(np.abs(scene.jac).max()), 1e-12)
    shown = np.ma.masked_where(scene.jac == 0, scene.jac)
    cmap = plt.get_cmap("RdBu_r").with_extremes(bad="#eceef2")
    im = a0.imshow(shown, cmap=cmap, norm=SymLogNorm(linthresh=m / 100, vmin=-m, vmax=m), interpolation="nearest")
    # the key, as under the widget's heatmap: -max|J| .. +max|J| on the same symmetric-log scale
    a0.figure.colorbar(im, ax=a0, fraction=0.046, pad=0.04, label="J_ij")
    a0.set_title(f"J = ∂x/∂z ({scene.kind}, n={scene.n}); zeros grey\n"
                 f"log|det|: slogdet {scene.logdet_slogdet:.6g}, Σlog|diag| {scene.logdet_diag:.6g}, "
                 f"layer {scene.logdet_layer:.6g}", fontsize=8)
    a0.set_xlabel("column j (z, in layer order)")
    a0.set_ylabel("row i (x, in layer order)")
    if n_ax == 2 and timing:
        a1 = axes[1]
        ns = np.asarray(timing["n"], dtype=float)
        for key, label, color in (("lu_median_s", "dense LU (slogdet)", "C3"), ("diag_median_s", "Σ log|diag|", "C0")):
            t = np.asarray(timing[key], dtype=float)
            sel = ns >= (timing.get("slope_from_n") or 0)
            slope = fit_loglog(ns[sel], t[sel])
            a1.loglog(ns, t, "o-", color=color, label=f"{label}: slope {slope:.2f}")
        a1.set_xlabel("n")
        a1.set_ylabel("median seconds")
        a1.legend(fontsize=8)
        a1.set_title(timing.get("note", ""), fontsize=7, wrap=True)
    return axes
