"""What LikelihoodSplit shows, as arrays: log p(x) split into its two change-of-variables terms.

Direction: the flow's forward is base -> data (x = G(z)); here we evaluate the inverse, data -> base:

    log p(x) = log pi(G^{-1}(x)) + log|det J_{G^{-1}}(x)|
             =      term 1       +        term 2

The lecture's argument against "just push every z to 0": compose the inverse with a shrink z -> c z,
c in (0, 1], i.e. G_c^{-1}(x) = c G^{-1}(x). Then, with d the dimension,

    term1(c) = log pi(c z),                          z = G^{-1}(x)
    term2(c) = log|det J_{G^{-1}}(x)| + d log c      (exactly: the Jacobian of z -> c z is c I)

As c -> 0, term 1 rises to its bound log pi(0) (for N(0, I): -(d/2) log 2 pi) while term 2 goes to -inf
like d log c, so the sum (the log-likelihood of the shrunk model) collapses: concentrating every point
at the base's mode is punished by the volume term. Everything is evaluated on a log-spaced grid of c
(down to ``c_min``), so the browser moves the slider without the kernel.

The browser's slider is continuous: term 2 is exact for any c from ``logdet``. Term 1 is exact for any c
for the two bases of flowviz.flows with a closed form (``base_family``): the standard normal
("standard_normal": log pi(c z) = -c^2 |z|^2 / 2 - (d/2) log 2 pi, from ``z``) and the uniform box
("uniform": log pi(c z) = -sum_i log(high_i - low_i) where low <= c z <= high, -inf outside, from ``z``
and ``support``). For any other base it is interpolated linearly in log c between the two neighbouring
grid values of ``term1`` (sent only then). :meth:`LikelihoodScene.terms_at` computes the same numbers in
Python.

Where pi(c z) = 0 (c z outside a bounded base's support) term 1 is -inf, and so are the means and
log p there: never a substituted 0. Pure computation: torch in, numpy float32 out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..flows import Flow, StandardNormal, Uniform
from ..flows.distributions import Distribution
from .finite import finite_or_none

__all__ = ["LikelihoodScene", "base_family", "c_grid", "likelihood_scene", "split_terms"]

LOG_2PI = math.log(2 * math.pi)


def c_grid(c_min: float = 1e-3, n: int = 121) -> np.ndarray:
    """n log-spaced shrink factors from c_min to 1 (both included), float64."""
    if not 0 < c_min < 1:
        raise ValueError(f"c_min must be in (0, 1), got {c_min}")
    if n < 2:
        raise ValueError(f"the c grid needs at least 2 values, got {n}")
    return np.logspace(math.log10(c_min), 0.0, n)


def base_family(base: Distribution) -> str:
    """"standard_normal" or "uniform" for exactly those bases of flowviz.flows (term 1 has a closed form the
    browser evaluates at any c), "other" for any other base (a subclass may change log_prob: "other" too)."""
    if type(base) is StandardNormal:
        return "standard_normal"
    if type(base) is Uniform:
        return "uniform"
    return "other"


@torch.no_grad()
def split_terms(flow: Flow, x: Tensor, c: float = 1.0) -> tuple[Tensor, Tensor]:
    """(term1, term2), each (N,), of the shrunk model G_c^{-1}(x) = c G^{-1}(x):
    term1 = log pi(c z), term2 = log|det J_{G^{-1}}(x)| + d log c, z = G^{-1}(x). At c = 1 their sum is
    flow.log_prob(x). term1 is -inf where c z lies outside the base's support. term2 is returned in float64,
    so that term2(c) - term2(1) = d log c exactly."""
    if not c > 0:
        raise ValueError(f"c must be > 0, got {c}")
    z, log_det = flow.inverse(x)
    return flow.base.log_prob(c * z), log_det.double() + flow.dim * math.log(c)


@dataclass
class LikelihoodScene:
    """Arrays (float32) for N data points of dimension d = 2 and C shrink factors:

    x (N, 2): the data points shown; z (N, 2): G^{-1}(x); logdet (N,): log|det J_{G^{-1}}(x)| (term 2 at
    c = 1); cs (C,): the c grid (log-spaced, cs[-1] = 1); term1 (C, N): log pi(cs[j] z_i), for
    ``base_family`` "other" only (the browser computes term 1 itself for the others: there it is empty,
    shape (0, N), and not sent); mean1, mean2, mean_total (C,): the averages over the points of term 1,
    term 2 = logdet + d log c, and their sum, computed in float64 (-inf where some c z leaves the base's
    support: pi(c z) = 0).
    Points whose data or inverse is not finite are dropped (counted in ``dropped``); ``rows`` (N,) holds
    the indices of the input data's rows that are shown. ``base_family``: "standard_normal", "uniform"
    (``support`` then holds the box, ``{"low": [...], "high": [...], "log_pi": -sum log(high - low)}``) or "other" (see
    :func:`base_family`). ``c_min`` is the smallest c offered (float64, cs[0] rounded to float32 may differ
    in the last bit).
    """

    x: np.ndarray
    z: np.ndarray
    logdet: np.ndarray
    cs: np.ndarray
    term1: np.ndarray
    mean1: np.ndarray
    mean2: np.ndarray
    mean_total: np.ndarray
    dim: int
    log_pi_0: float
    base: str
    status: str = "ok"
    message: str = ""
    dropped: int = 0
    bounds: list[float] = field(default_factory=list)
    base_family: str = "other"
    c_min: float = 1e-3
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    support: dict[str, Any] | None = None

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays sent to the browser: ``term1`` only for base_family "other" (the only case it reads it)."""
        out = {"x": self.x, "z": self.z, "logdet": self.logdet, "cs": self.cs, "mean1": self.mean1,
               "mean2": self.mean2, "mean_total": self.mean_total}
        if self.base_family == "other":
            out["term1"] = self.term1
        return out

    def meta(self) -> dict[str, Any]:
        """JSON metadata; ``log_pi_0`` is None where log pi(0) is not finite (0 outside a uniform base's box)."""
        return {"dim": self.dim, "log_pi_0": finite_or_none(self.log_pi_0), "base": self.base, "status": self.status,
                "message": self.message, "dropped": self.dropped, "bounds": self.bounds, "N": int(len(self.x)),
                "C": int(len(self.cs)), "base_family": self.base_family, "c_min": self.c_min,
                "support": self.support}

    def index(self, c: float) -> int:
        """The grid index nearest to c (in log c)."""
        return int(np.argmin(np.abs(np.log(self.cs.astype(np.float64)) - math.log(max(c, 1e-300)))))

    def terms_at(self, c: float) -> tuple[np.ndarray, np.ndarray, bool]:
        """(term1, term2, exact) per point at any c > 0, from these arrays, as the browser computes them
        (float64). term2 = logdet + d log c (exact). term1: for the standard-normal base exactly
        -c^2 |z|^2 / 2 - (d/2) log 2 pi; for the uniform base exactly ``support["log_pi"]`` where
        low <= c z <= high and -inf outside; otherwise linear in log c between the grid values around c
        (c clamped to the grid; an infinite grid value with a nonzero weight makes the result infinite), and
        ``exact`` is False."""
        if not (math.isfinite(c) and c > 0):
            raise ValueError(f"c must be a positive number, got {c}")
        t2 = self.logdet.astype(np.float64) + self.dim * math.log(c)
        z = self.z.astype(np.float64)
        if self.base_family == "standard_normal":
            t1 = -0.5 * (c * c) * (z * z).sum(1) - 0.5 * self.dim * LOG_2PI
            return t1, t2, True
        if self.base_family == "uniform" and self.support is not None:
            cz = c * z
            inside = ((cz >= np.asarray(self.support["low"])) & (cz <= np.asarray(self.support["high"]))).all(1)
            return np.where(inside, float(self.support["log_pi"]), -math.inf), t2, True
        lc = np.log(self.cs.astype(np.float64))
        u = min(max(math.log(c), float(lc[0])), float(lc[-1]))
        j = int(min(max(np.searchsorted(lc, u, side="right") - 1, 0), len(lc) - 2))
        w = float((u - lc[j]) / (lc[j + 1] - lc[j]))
        r0, r1 = self.term1[j].astype(np.float64), self.term1[j + 1].astype(np.float64)
        # a weight of 0 leaves its neighbour out (0 * -inf would be NaN)
        t1 = r0 if w == 0 else r1 if w == 1 else (1 - w) * r0 + w * r1
        return t1, t2, False


def _bounds(x: np.ndarray) -> list[float]:
    """[x0, x1, y0, y1]: the 0.5..99.5 percentiles of the points padded by 8% of their span on each side. Data with
    no visible extent (one point, duplicates: a span within 1e-6 of the data's magnitude) get a window
    max(1, |x| / 10) wide around it; an axis spanning less than 1/20 of the other is widened to that (a line
    of points)."""
    if len(x) == 0:
        return [-3.0, 3.0, -3.0, 3.0]
    x64 = x.astype(np.float64)
    lo, hi = np.percentile(x64, 0.5, axis=0), np.percentile(x64, 99.5, axis=0)
    span, mid = hi - lo, (hi + lo) / 2
    size, magnitude = float(span.max()), float(np.abs(mid).max())
    if size > 1e-6 * magnitude and size > 0:
        width = np.maximum(span, size / 20)
    else:  # no extent to show: a window as wide as a unit, or a tenth of the data's magnitude
        width = np.full_like(span, max(1.0, 0.1 * magnitude))
    half = width / 2 + 0.08 * width
    return [float(mid[0] - half[0]), float(mid[0] + half[0]), float(mid[1] - half[1]), float(mid[1] + half[1])]


@torch.no_grad()
def likelihood_scene(flow: Flow, data: Tensor | np.ndarray, *, c_min: float = 1e-3, n_c: int = 121) -> LikelihoodScene:
    """Evaluate the split for every data point on the flow's device, and every c on the grid.

    ``data``: (N, 2) data points x. Raises NotInvertibleError if the flow cannot be inverted. The means are
    accumulated in float64; term 1 (C, N) is kept only where the browser needs it (base_family "other").
    """
    if not isinstance(flow, Flow):
        raise TypeError(f"need a flowviz.flows.Flow, got {type(flow).__name__}")
    x = torch.as_tensor(np.asarray(data) if not isinstance(data, Tensor) else data)
    x = x.to(device=flow.device, dtype=flow.dtype)
    if x.dim() != 2 or x.shape[1] != flow.dim:
        raise ValueError(f"data must have shape (N, {flow.dim}), got {tuple(x.shape)}")
    keep_x = torch.isfinite(x).all(-1)
    rows = torch.nonzero(keep_x).flatten()
    x = x[keep_x]
    z, log_det = flow.inverse(x)
    ok = torch.isfinite(z).all(-1) & torch.isfinite(log_det)
    dropped = int((~keep_x).sum()) + int((~ok).sum())
    x, z, log_det, rows = x[ok], z[ok], log_det[ok], rows[ok]
    cs = c_grid(c_min, n_c)
    d, n, family = flow.dim, int(z.shape[0]), base_family(flow.base)
    cs64 = torch.as_tensor(cs, device=z.device, dtype=torch.float64)
    z64 = z.double()
    term1 = torch.zeros(0, n, dtype=z.dtype, device=z.device)
    n_inf = torch.zeros(len(cs), dtype=torch.int64)  # per c: points with term 1 = -inf (pi(c z) = 0)
    n_bad = torch.zeros(len(cs), dtype=torch.int64)  # per c: points with term 1 NaN or +inf
    support: dict[str, Any] | None = None
    if family == "standard_normal":
        mean1 = -0.5 * cs64 * cs64 * (z64 * z64).sum(1).mean() - 0.5 * d * LOG_2PI
    elif family == "uniform":
        box = flow.base
        assert isinstance(box, Uniform)
        low, high = box.low.double(), box.high.double()
        log_pi = float(-torch.log(high - low).sum())
        support = {"low": low.tolist(), "high": high.tolist(), "log_pi": log_pi}
        for j, c in enumerate(cs64):
            cz = c * z64
            n_inf[j] = int((~((cz >= low) & (cz <= high)).all(-1)).sum())
        mean1 = torch.full_like(cs64, log_pi).masked_fill(n_inf.to(cs64.device) > 0, -math.inf)
    else:
        c_t = torch.as_tensor(cs, device=z.device, dtype=z.dtype)
        term1 = torch.stack([flow.base.log_prob(c * z) for c in c_t]) if n else term1.reshape(len(cs), 0)
        t64 = term1.double()
        mean1 = t64.mean(1)
        n_inf = (t64 == -math.inf).sum(1).cpu()
        n_bad = (~torch.isfinite(t64) & (t64 != -math.inf)).sum(1).cpu()
    mean2 = log_det.double().mean() + d * torch.log(cs64)
    if not n:
        mean1 = mean2 = torch.full_like(cs64, math.nan)
    log_pi_0 = float(flow.base.log_prob(torch.zeros(1, d, device=z.device, dtype=z.dtype))[0])
    status, msgs = "ok", []
    if dropped:
        status = "non-finite"
        msgs.append(f"{dropped} point(s) with a non-finite inverse were left out")
    if int(n_inf.max()):
        status = "non-finite"
        j = int(torch.argmax(n_inf))
        msgs.append(f"term 1 = log \u03c0(c z) is \u2212inf where c z leaves the support of {flow.base.describe()} "
                    f"({int(n_inf[-1])} of {n} point(s) at c = 1, {int(n_inf[j])} at c = {cs[j]:.3g}): there the "
                    "means and log p are \u2212inf; such points are drawn as grey rings")
    if int(n_bad.sum()):
        status = "non-finite"
        msgs.append(f"log \u03c0(c z) was NaN or +inf for {int(n_bad.sum())} (point, c) value(s): those means are "
                    "not finite")
    if not n:
        status, msgs = "non-finite", ["no data point has a finite inverse"]

    def f32(t: Tensor | np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(t.detach().cpu().numpy() if isinstance(t, Tensor) else t, dtype=np.float32)

    x_np = f32(x)
    return LikelihoodScene(x=x_np, z=f32(z), logdet=f32(log_det), cs=f32(cs), term1=f32(term1), mean1=f32(mean1),
                           mean2=f32(mean2), mean_total=f32(mean1 + mean2), dim=d, log_pi_0=log_pi_0,
                           base=flow.base.describe(), status=status, message="; ".join(msgs), dropped=dropped,
                           bounds=_bounds(x_np), c_min=float(c_min), base_family=family,
                           rows=rows.cpu().numpy().astype(np.int64), support=support)
