"""The matplotlib twin of LikelihoodSplit: the same arrays (flowviz.scene.likelihood) drawn statically.

Panels: the data points coloured by term 1 = log pi(c G^{-1}(x)), by term 2 = log|det J_{G^{-1}}(x)| + d log c,
and the averages of both and their sum against c (log scale), with the current c marked and the bound
log pi(0) dashed. Direction: the split uses the inverse, data -> base.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..scene.likelihood import LikelihoodScene
from ._figure import new_figure, show_after_cell

__all__ = ["plot_likelihood_split", "robust_range"]


def robust_range(values: Any, q: float = 0.02) -> tuple[float, float]:
    """The colour scale of a term panel, as the browser's robustRange (js/src/views/likelihood/math.js):
    [lo, hi] between the q-th and (1-q)-th quantiles of the finite values, each the sorted value at index
    round(p (n - 1)) (halves up); a flat range (hi <= lo) widened by max(|lo| 1e-3, 1e-6) on both sides, so a
    constant term sits mid-scale; (0, 1) without finite values."""
    v = np.sort(np.asarray(values, dtype=np.float64).ravel())
    v = v[np.isfinite(v)]
    if not v.size:
        return (0.0, 1.0)

    def at(p: float) -> float:
        return float(v[min(v.size - 1, max(0, math.floor(p * (v.size - 1) + 0.5)))])

    lo, hi = at(q), at(1 - q)
    if not hi > lo:
        m = max(abs(lo) * 1e-3, 1e-6)
        lo, hi = lo - m, hi + m
    return (lo, hi)


def plot_likelihood_split(view_or_scene: Any, ax: Any = None, *, c: float | None = None) -> Any:
    """Draw a :class:`~flowviz.widgets.likelihood.LikelihoodSplit` (at its current c) or a
    :class:`~flowviz.scene.likelihood.LikelihoodScene` (at ``c``, default 1). ``ax``: three axes or None
    for a new figure. Returns the axes. The terms at c come from ``scene.terms_at(c)``, the numbers the browser
    shows: exact for a standard-normal base, interpolated in log c on the scene's grid otherwise (c is clamped to
    [c_min, 1]). Each term panel is coloured over :func:`robust_range` of its values (the browser's scale). A
    new figure is not registered with pyplot; in a notebook it is shown when the cell ends."""
    if isinstance(view_or_scene, LikelihoodScene):
        scene, c = view_or_scene, 1.0 if c is None else c
    else:
        scene, c = view_or_scene.scene, float(view_or_scene.c) if c is None else c
    if ax is None:
        fig = new_figure(figsize=(14, 4.2), layout="constrained")
        ax = fig.subplots(1, 3)
        show_after_cell(fig)
    if len(ax) != 3:
        raise ValueError("ax must be three matplotlib axes")
    cj = min(max(float(c), float(scene.cs[0])), 1.0)
    t1, t2, exact = scene.terms_at(cj)
    fig = ax[0].figure
    panels = ((ax[0], t1, "term 1: log π(c·G⁻¹(x))"), (ax[1], t2, "term 2: log|det J_{G⁻¹}(x)| + d log c"))
    for a, vals, title in panels:
        lo, hi = robust_range(vals)
        sc = a.scatter(scene.x[:, 0], scene.x[:, 1], c=vals, s=6, cmap="viridis", vmin=lo, vmax=hi,
                       rasterized=True)  # thousands of points: one image in a PDF/SVG
        fig.colorbar(sc, ax=a, shrink=0.85)
        a.set(title=f"{title}\nc = {cj:.3g}, mean = {vals.mean():.4g}", xlabel="x₁", ylabel="x₂", aspect="equal")
        a.set_xlim(scene.bounds[0], scene.bounds[1])
        a.set_ylim(scene.bounds[2], scene.bounds[3])
    lc = np.log10(scene.cs.astype(np.float64))
    a = ax[2]
    a.plot(lc, scene.mean1, color="C0", lw=2, label="mean term 1 = log π(c z)")
    a.plot(lc, scene.mean2, color="C3", lw=2, label="mean term 2 = log|det J| + d log c")
    a.plot(lc, scene.mean_total, color="0.15", lw=2, label="mean log p (their sum)")
    a.axhline(scene.log_pi_0, color="C0", ls="--", lw=1, label=f"log π(0) = {scene.log_pi_0:.4g}")
    a.axvline(np.log10(cj), color="C9", lw=1.5)
    for v, col in ((t1.mean(), "C0"), (t2.mean(), "C3"), ((t1 + t2).mean(), "0.15")):
        a.plot([np.log10(cj)], [v], "o", color=col)
    if not exact:
        a.text(0.02, 0.04, "term 1 interpolated in log c between grid values", transform=a.transAxes, fontsize="small")
    a.set(xlabel="log₁₀ c", ylabel="average over the data", title="the collapse c → 0: term 2 → −∞")
    a.legend(fontsize="small", loc="lower right")
    if scene.status != "ok":
        a.text(0.5, 0.9, f"{scene.status}: {scene.message}", transform=a.transAxes, ha="center", color="white",
               bbox={"boxstyle": "round", "facecolor": (0.78, 0.09, 0.14, 0.9)})
    return ax
