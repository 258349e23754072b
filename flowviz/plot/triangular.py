"""The matplotlib twin of TriangularJacobian: the Jacobian heatmap (exact zeros neutral, non-finite entries
black) in the browser's colours, and the LU-vs-diagonal timing on log-log axes, from the same arrays
(flowviz.scene.triangular)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.collections import PatchCollection
from matplotlib.colors import FuncNorm, ListedColormap
from matplotlib.patches import Rectangle

from ..scene.triangular import TriangularScene, fit_loglog
from ._figure import new_figure, show_after_cell

__all__ = ["HEAT_ZERO", "heat_colors", "heat_max", "heat_position", "plot_triangular"]

# js/src/views/triangular/heat.js
HEAT_ZERO = (236, 238, 242)  # an exact zero
HEAT_NONFINITE = (0, 0, 0)  # NaN or +-inf
HEAT_WHITE = (247, 247, 247)
HEAT_RED = (178, 24, 43)  # positive
HEAT_BLUE = (33, 102, 172)  # negative
OUTLINE_MAX_N = 48  # the browser outlines the diagonal cells up to this n
# the timing plot's series, as the browser draws them
LU_COLOUR, DIAG_COLOUR = (207 / 255, 34 / 255, 46 / 255), (9 / 255, 105 / 255, 218 / 255)


def heat_max(jac: np.ndarray) -> float:
    """The browser's maxAbs: ``meta.max_abs || 1``, i.e. max|J| where that is finite and non-zero, else 1
    (the JSON meta carries a non-finite max as null)."""
    m = float(np.abs(np.asarray(jac, dtype=np.float64)).max()) if np.size(jac) else 0.0
    return m if math.isfinite(m) and m != 0 else 1.0


def heat_position(abs_v: np.ndarray | float, max_abs: float) -> np.ndarray:
    """heat.js heatPosition: t = min(1, log1p(|v|/s) / log1p(m/s)), s = m/100 (m = max_abs, 1 if not > 0)."""
    m = max_abs if max_abs > 0 else 1.0
    s = m / 100
    with np.errstate(over="ignore", invalid="ignore"):
        return np.minimum(1.0, np.log1p(np.asarray(abs_v, dtype=np.float64) / s) / math.log1p(m / s))


def _tint(t: np.ndarray) -> np.ndarray:
    """heat.js tintOf for signed positions t != 0: white tinted towards red (t > 0) or blue by
    0.25 + 0.75 |t| (every non-zero at least 25%), each channel rounded half up. (..., 3) float64."""
    t = np.asarray(t, dtype=np.float64)
    lo = 0.25 + 0.75 * np.abs(t)
    c = np.where((t > 0)[..., None], np.array(HEAT_RED, float), np.array(HEAT_BLUE, float))
    w = np.array(HEAT_WHITE, float)
    return np.floor(w + (c - w) * lo[..., None] + 0.5)


def heat_colors(jac: np.ndarray, max_abs: float | None = None) -> np.ndarray:
    """(n, n, 3) uint8: heat.js heatColor of every entry: an exact zero HEAT_ZERO, a non-finite entry black,
    else the tint at sign(v) heatPosition(|v|, max_abs) (``max_abs`` default: :func:`heat_max` of ``jac``).
    Computed in float64 from the float32 entries, as the browser does."""
    v = np.asarray(jac, dtype=np.float64)
    m = heat_max(v) if max_abs is None else float(max_abs)
    out = np.empty((*v.shape, 3), dtype=np.float64)
    zero, bad = v == 0, ~np.isfinite(v)
    rest = ~zero & ~bad
    out[zero] = HEAT_ZERO
    out[bad] = HEAT_NONFINITE
    out[rest] = _tint(np.sign(v[rest]) * heat_position(np.abs(v[rest]), m))
    return out.astype(np.uint8)


def _js_number(x: float) -> str:
    """Number(x.toPrecision(2)).toString(), as the key's tick labels."""
    v = float(f"{x:.2g}")
    if v == int(v) and abs(v) < 1e21:
        return str(int(v))
    text = repr(v)
    if "e" in text:
        mant, exp = text.split("e")
        text = f"{mant}e{'+' if int(exp) > 0 else '-'}{abs(int(exp))}"
    return text


def _key(ax: Any, image: Any, m: float) -> Any:
    """The heatmap's key, as the browser's (heat.js heatKey): -m at the bottom to +m at the top, the same
    colours (a hard step at 0, where the smallest non-zeros of either sign meet), ticks at -m, -m/10, +m/10,
    +m placed where the heatmap puts those values."""
    steps = 256
    pos = (np.arange(steps) + 0.5) / steps * 2 - 1  # signed scale positions, never 0
    cmap = ListedColormap(_tint(pos) / 255.0, name="flowviz-heat")

    def forward(v: np.ndarray) -> np.ndarray:
        v = np.asarray(v, dtype=np.float64)
        return 0.5 + 0.5 * np.sign(v) * heat_position(np.abs(v), m)

    def inverse(p: np.ndarray) -> np.ndarray:
        t = np.clip(2 * np.asarray(p, dtype=np.float64) - 1, -1, 1)
        return np.sign(t) * (m / 100) * np.expm1(np.abs(t) * math.log1p(m / (m / 100)))

    norm = FuncNorm((forward, inverse), vmin=-m, vmax=m)
    cb = ax.figure.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, fraction=0.046, pad=0.04,
                            label="J_ij  (grey: exactly 0; black: not finite)")
    ticks = [-m, -m / 10, m / 10, m]
    cb.set_ticks(ticks, labels=[_js_number(v) for v in ticks])
    image.colorbar = cb  # the heatmap's key (an RGB image has no norm of its own)
    return cb


def plot_triangular(view_or_scene: Any, timing: dict[str, Any] | None = None, ax: Any = None) -> list[Any]:
    """Draw a TriangularJacobian (or a TriangularScene, with an optional ``timing`` dict from
    :func:`~flowviz.scene.triangular.time_logdet`).

    The heatmap has the browser's colours exactly (:func:`heat_colors`, heat.js heatColor): exact zeros
    grey, non-zeros tinted at least 25% towards red (positive) or blue (negative) on a log scale of |J_ij| up
    to max|J|, non-finite entries black (a J with no finite entry still draws, with a note), and a key from
    -max|J| to +max|J|. The timing panel shows dense LU, the sum of log|diag|, and the "diagonal alone"
    series (``timing["diag_only"]``, dashed), each with its fitted slope. ``ax``: one Axes (two with timing),
    or None for a new figure (not registered with pyplot; in a notebook it is shown when the cell ends).
    Returns the Axes (one, or two with timing)."""
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
        fig = new_figure(figsize=(5.4 * n_ax, 4.8), layout="constrained")
        ax = fig.subplots(1, n_ax)
        show_after_cell(fig)
    axes = list(np.atleast_1d(ax))
    a0 = axes[0]
    jac = np.asarray(scene.jac)
    m = heat_max(jac)
    n = int(jac.shape[0])
    im = a0.imshow(heat_colors(jac, m), interpolation="nearest")
    _key(a0, im, m)
    if 0 < n <= OUTLINE_MAX_N:  # the browser's diagonal outline
        a0.add_collection(PatchCollection([Rectangle((i - 0.5, i - 0.5), 1, 1) for i in range(n)],
                                          facecolor="none", edgecolor=(0, 0, 0, 0.5), linewidth=0.8))
    bad = int((~np.isfinite(jac)).sum())
    title = (f"J = ∂x/∂z ({scene.kind}, n={scene.n}); zeros grey\n"
             f"log|det|: slogdet {scene.logdet_slogdet:.6g}, Σlog|diag| {scene.logdet_diag:.6g}, "
             f"layer {scene.logdet_layer:.6g}")
    if bad:
        title += ("\nno entry of J is finite (all drawn black)" if bad == jac.size
                  else f"\n{bad} non-finite entr{'y' if bad == 1 else 'ies'} (black)")
    a0.set_title(title, fontsize=8)
    a0.set_xlabel("column j (z, in layer order)")
    a0.set_ylabel("row i (x, in layer order)")
    if n_ax == 2 and timing:
        _plot_timing(axes[1], timing)
    return axes


def _plot_timing(a1: Any, timing: dict[str, Any]) -> None:
    """The browser's timing plot: dense LU (red), sum of log|diag| (blue) and the diagonal alone (blue,
    dashed), medians on log-log axes, the slopes fitted over n >= slope_from_n (the diagonal alone: its own
    fitted slope, ``diag_only["slope"]``)."""
    ns = np.asarray(timing["n"], dtype=float)
    sel = ns >= (timing.get("slope_from_n") or 0)
    for key, label, color in (("lu_median_s", "dense LU (slogdet)", LU_COLOUR), ("diag_median_s", "Σ log|diag|",
                                                                                 DIAG_COLOUR)):
        t = np.asarray(timing[key], dtype=float)
        slope = fit_loglog(ns[sel], t[sel])
        a1.loglog(ns, t, "o-", color=color, lw=2, label=f"{label}: slope {slope:.2f}")
    d = timing.get("diag_only") or {}
    if d.get("n"):
        dn, dt = np.asarray(d["n"], dtype=float), np.asarray(d["median_s"], dtype=float)
        given = d.get("slope")
        slope = fit_loglog(dn, dt) if given is None else float(given)
        text = f"slope {slope:.2f}" if math.isfinite(slope) else "too few sizes for a slope"
        a1.loglog(dn, dt, marker="o", ls=(0, (5, 4)), color=DIAG_COLOUR, lw=2,
                  label=f"diagonal alone (n = {int(dn[0])}..{int(dn[-1])}): {text}")
    a1.set_xlabel("n")
    a1.set_ylabel("median seconds")
    a1.legend(fontsize=8)
    a1.set_title(timing.get("note", ""), fontsize=7, wrap=True)
