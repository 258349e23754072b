"""The matplotlib twin of LikelihoodSplit: the same arrays (flowviz.scene.likelihood) drawn statically.

Panels: the data points coloured by term 1 = log pi(c G^{-1}(x)), by term 2 = log|det J_{G^{-1}}(x)| + d log c,
and the averages of both and their sum against c (log scale), with the current c marked and the bound
log pi(0) dashed. Direction: the split uses the inverse, data -> base.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..scene.likelihood import LikelihoodScene

__all__ = ["plot_likelihood_split"]


def plot_likelihood_split(view_or_scene: Any, ax: Any = None, *, c: float | None = None) -> Any:
    """Draw a :class:`~flowviz.widgets.likelihood.LikelihoodSplit` (at its current c) or a
    :class:`~flowviz.scene.likelihood.LikelihoodScene` (at ``c``, default 1). ``ax``: three axes or None
    for a new figure. Returns the axes. The terms at c come from ``scene.terms_at(c)``, the numbers the browser
    shows: exact for a standard-normal base, interpolated in log c on the scene's grid otherwise (c is clamped to
    [c_min, 1])."""
    if isinstance(view_or_scene, LikelihoodScene):
        scene, c = view_or_scene, 1.0 if c is None else c
    else:
        scene, c = view_or_scene.scene, float(view_or_scene.c) if c is None else c
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(1, 3, figsize=(14, 4.2), layout="constrained")
    if len(ax) != 3:
        raise ValueError("ax must be three matplotlib axes")
    cj = min(max(float(c), float(scene.cs[0])), 1.0)
    t1, t2, exact = scene.terms_at(cj)
    fig = ax[0].figure
    panels = ((ax[0], t1, "term 1: log π(c·G⁻¹(x))"), (ax[1], t2, "term 2: log|det J_{G⁻¹}(x)| + d log c"))
    for a, vals, title in panels:
        lo, hi = np.percentile(vals, [2, 98]) if len(vals) else (0, 1)
        sc = a.scatter(scene.x[:, 0], scene.x[:, 1], c=vals, s=6, cmap="viridis", vmin=lo,
                       vmax=hi if hi > lo else lo + 1)
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
