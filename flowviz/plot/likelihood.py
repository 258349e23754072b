"""The matplotlib twin of LikelihoodSplit: the same arrays (flowviz.scene.likelihood) drawn statically.

Panels: the data points coloured by term 1 = log pi(c G^{-1}(x)), by term 2 = log|det J_{G^{-1}}(x)| + d log c,
and the averages of both and their sum against c (log scale), with the current c marked and the bound
log pi(0) dashed. Direction: the split uses the inverse, data -> base.
"""

from __future__ import annotations

import math
import textwrap
from typing import Any

import numpy as np
from matplotlib.transforms import blended_transform_factory

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


def _number(v: float) -> str:
    """v with 4 significant digits; "-inf (non-finite)" / "+inf (non-finite)" / "non-finite" as the browser
    writes numbers that are not finite (js/src/readout.js formatNumber)."""
    if math.isinf(v):
        return ("+" if v > 0 else "\u2212") + "inf (non-finite)"
    return f"{v:.4g}" if math.isfinite(v) else "non-finite"


def _mean(v: np.ndarray) -> float:
    """The mean of every value (-inf if one is -inf, NaN without values), as the browser averages the terms."""
    return float(v.mean()) if v.size else math.nan


def plot_likelihood_split(view_or_scene: Any, ax: Any = None, *, c: float | None = None) -> Any:
    """Draw a :class:`~flowviz.widgets.likelihood.LikelihoodSplit` (at its current c) or a
    :class:`~flowviz.scene.likelihood.LikelihoodScene` (at ``c``, default 1). ``ax``: three axes or None
    for a new figure. Returns the axes. The terms at c come from ``scene.terms_at(c)``, the numbers the browser
    shows: exact for a standard-normal or uniform base, interpolated in log c on the scene's grid otherwise (c is
    clamped to [c_min, 1]). Each term panel is coloured over :func:`robust_range` of its finite values (the
    browser's scale); points whose term is not finite (term 1 = -inf: c z outside the base's support) are drawn
    as grey rings and counted in the title, and a mean that is -inf reads "-inf (non-finite)". A view's status
    (e.g. "not invertible" after a recompute, the last picture kept) is written on the averages panel as the
    browser's banner writes it. A new figure is not registered with pyplot; in a notebook it is shown when the
    cell ends."""
    if isinstance(view_or_scene, LikelihoodScene):
        scene, c = view_or_scene, 1.0 if c is None else c
        status, message = scene.status, scene.message
    else:
        scene, c = view_or_scene.scene, float(view_or_scene.c) if c is None else c
        meta = view_or_scene.meta or {}
        status, message = str(meta.get("status", scene.status)), str(meta.get("message", scene.message))
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
        fin = np.isfinite(vals)
        sc = a.scatter(scene.x[fin, 0], scene.x[fin, 1], c=vals[fin], s=6, cmap="viridis", vmin=lo, vmax=hi,
                       rasterized=True)  # thousands of points: one image in a PDF/SVG
        fig.colorbar(sc, ax=a, shrink=0.85)
        note = ""
        if not fin.all():
            a.scatter(scene.x[~fin, 0], scene.x[~fin, 1], s=14, facecolors="none", edgecolors="0.5", linewidths=0.8,
                      rasterized=True)
            note = f", {int((~fin).sum())} of {len(vals)} non-finite (rings)"
        a.set(title=f"{title}\nc = {cj:.3g}, mean = {_number(_mean(vals))}{note}", xlabel="x₁", ylabel="x₂",
              aspect="equal")
        a.set_xlim(scene.bounds[0], scene.bounds[1])
        a.set_ylim(scene.bounds[2], scene.bounds[3])
    lc = np.log10(scene.cs.astype(np.float64))
    a = ax[2]
    a.plot(lc, scene.mean1, color="C0", lw=2, label="mean term 1 = log π(c z)")  # -inf: left out (a gap)
    a.plot(lc, scene.mean2, color="C3", lw=2, label="mean term 2 = log|det J| + d log c")
    a.plot(lc, scene.mean_total, color="0.15", lw=2, label="mean log p (their sum)")
    if math.isfinite(scene.log_pi_0):
        a.axhline(scene.log_pi_0, color="C0", ls="--", lw=1, label=f"log π(0) = {scene.log_pi_0:.4g}")
    a.axvline(np.log10(cj), color="C9", lw=1.5)
    below = blended_transform_factory(a.transData, a.transAxes)
    for v, col in ((_mean(t1), "C0"), (_mean(t2), "C3"), (_mean(t1 + t2), "0.15")):
        if math.isfinite(v):
            a.plot([np.log10(cj)], [v], "o", color=col)
        else:  # -inf (or NaN): a marker on the lower edge, pointing down
            a.plot([np.log10(cj)], [0.03], "v", color=col, transform=below, clip_on=False)
    if not exact:
        a.text(0.02, 0.04, "term 1 interpolated in log c between grid values", transform=a.transAxes, fontsize="small")
    a.set(xlabel="log₁₀ c", ylabel="average over the data", title="the collapse c → 0: term 2 → −∞")
    a.legend(fontsize="small", loc="lower right")
    if status != "ok":
        text = f"{status} — {message}" if message else status
        a.text(0.5, 0.97, textwrap.fill(text, 60), transform=a.transAxes, ha="center", va="top", color="white",
               fontsize="small", bbox={"boxstyle": "round", "facecolor": (0.78, 0.09, 0.14, 0.9)})
    return ax
