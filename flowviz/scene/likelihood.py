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
(down to ``c_min``, finite all the way), so the browser moves the slider without the kernel.

The browser's slider is continuous: term 2 is exact for any c from ``logdet``; term 1 is exact for any c
when the base is the standard normal (``base_family == "standard_normal"``: log pi(c z) =
-c^2 |z|^2 / 2 - (d/2) log 2 pi, from ``z``), and otherwise interpolated linearly in log c between the
two neighbouring grid values (:meth:`LikelihoodScene.terms_at` computes the same numbers in Python).
Pure computation: torch in, numpy float32 out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..flows import Flow, StandardNormal
from .finite import finite_or_none

__all__ = ["LikelihoodScene", "c_grid", "likelihood_scene", "split_terms"]


def c_grid(c_min: float = 1e-3, n: int = 121) -> np.ndarray:
    """n log-spaced shrink factors from c_min to 1 (both included), float64."""
    if not 0 < c_min < 1:
        raise ValueError(f"c_min must be in (0, 1), got {c_min}")
    if n < 2:
        raise ValueError(f"the c grid needs at least 2 values, got {n}")
    return np.logspace(math.log10(c_min), 0.0, n)


@torch.no_grad()
def split_terms(flow: Flow, x: Tensor, c: float = 1.0) -> tuple[Tensor, Tensor]:
    """(term1, term2), each (N,), of the shrunk model G_c^{-1}(x) = c G^{-1}(x):
    term1 = log pi(c z), term2 = log|det J_{G^{-1}}(x)| + d log c, z = G^{-1}(x). At c = 1 their sum is
    flow.log_prob(x). term2 is returned in float64, so that term2(c) - term2(1) = d log c exactly."""
    if not c > 0:
        raise ValueError(f"c must be > 0, got {c}")
    z, log_det = flow.inverse(x)
    return flow.base.log_prob(c * z), log_det.double() + flow.dim * math.log(c)


@dataclass
class LikelihoodScene:
    """Arrays (float32) for N data points of dimension d = 2 and C shrink factors:

    x (N, 2): the data; z (N, 2): G^{-1}(x); logdet (N,): log|det J_{G^{-1}}(x)| (term 2 at c = 1);
    cs (C,): the c grid (log-spaced, cs[-1] = 1); term1 (C, N): log pi(cs[j] z_i); mean1, mean2, mean_total
    (C,): the averages over the points of term 1, term 2 = logdet + d log c, and their sum.
    Points whose inverse is not finite are dropped (counted in ``dropped``). ``base_family`` is
    "standard_normal" when term 1 has the closed form -c^2 |z|^2 / 2 - (d/2) log 2 pi, else "other";
    ``c_min`` is the smallest c offered (float64, cs[0] rounded to float32 may differ in the last bit).
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

    def arrays(self) -> dict[str, np.ndarray]:
        return {"x": self.x, "z": self.z, "logdet": self.logdet, "cs": self.cs, "term1": self.term1,
                "mean1": self.mean1, "mean2": self.mean2, "mean_total": self.mean_total}

    def meta(self) -> dict[str, Any]:
        """JSON metadata; ``log_pi_0`` is None where log pi(0) is not finite (0 outside a uniform base's box)."""
        return {"dim": self.dim, "log_pi_0": finite_or_none(self.log_pi_0), "base": self.base, "status": self.status,
                "message": self.message, "dropped": self.dropped, "bounds": self.bounds, "N": int(len(self.x)),
                "C": int(len(self.cs)), "base_family": self.base_family, "c_min": self.c_min}

    def index(self, c: float) -> int:
        """The grid index nearest to c (in log c)."""
        return int(np.argmin(np.abs(np.log(self.cs.astype(np.float64)) - math.log(max(c, 1e-300)))))

    def terms_at(self, c: float) -> tuple[np.ndarray, np.ndarray, bool]:
        """(term1, term2, exact) per point at any c > 0, from these arrays, as the browser computes them
        (float64). term2 = logdet + d log c (exact). term1: for the standard-normal base exactly
        -c^2 |z|^2 / 2 - (d/2) log 2 pi; otherwise linear in log c between the grid values around c
        (c clamped to the grid), and ``exact`` is False."""
        if not (math.isfinite(c) and c > 0):
            raise ValueError(f"c must be a positive number, got {c}")
        t2 = self.logdet.astype(np.float64) + self.dim * math.log(c)
        if self.base_family == "standard_normal":
            z = self.z.astype(np.float64)
            t1 = -0.5 * c * c * (z * z).sum(1) - 0.5 * self.dim * math.log(2 * math.pi)
            return t1, t2, True
        lc = np.log(self.cs.astype(np.float64))
        u = min(max(math.log(c), float(lc[0])), float(lc[-1]))
        j = int(min(max(np.searchsorted(lc, u, side="right") - 1, 0), len(lc) - 2))
        w = (u - lc[j]) / (lc[j + 1] - lc[j])
        t1 = (1 - w) * self.term1[j].astype(np.float64) + w * self.term1[j + 1].astype(np.float64)
        return t1, t2, False


def _bounds(x: np.ndarray) -> list[float]:
    if len(x) == 0:
        return [-3.0, 3.0, -3.0, 3.0]
    lo, hi = np.percentile(x, 0.5, axis=0), np.percentile(x, 99.5, axis=0)
    pad = 0.08 * np.maximum(hi - lo, 1e-6)
    return [float(lo[0] - pad[0]), float(hi[0] + pad[0]), float(lo[1] - pad[1]), float(hi[1] + pad[1])]


@torch.no_grad()
def likelihood_scene(flow: Flow, data: Tensor | np.ndarray, *, c_min: float = 1e-3, n_c: int = 121) -> LikelihoodScene:
    """Evaluate the split for every data point on the flow's device, and every c on the grid.

    ``data``: (N, 2) data points x. Raises NotInvertibleError if the flow cannot be inverted.
    """
    if not isinstance(flow, Flow):
        raise TypeError(f"need a flowviz.flows.Flow, got {type(flow).__name__}")
    x = torch.as_tensor(np.asarray(data) if not isinstance(data, Tensor) else data)
    x = x.to(device=flow.device, dtype=flow.dtype)
    if x.dim() != 2 or x.shape[1] != flow.dim:
        raise ValueError(f"data must have shape (N, {flow.dim}), got {tuple(x.shape)}")
    keep_x = torch.isfinite(x).all(-1)
    x = x[keep_x]
    z, log_det = flow.inverse(x)
    ok = torch.isfinite(z).all(-1) & torch.isfinite(log_det)
    dropped = int((~keep_x).sum()) + int((~ok).sum())
    x, z, log_det = x[ok], z[ok], log_det[ok]
    cs = c_grid(c_min, n_c)
    d = flow.dim
    c_t = torch.as_tensor(cs, device=z.device, dtype=z.dtype)
    term1 = torch.stack([flow.base.log_prob(c * z) for c in c_t])  # (C, N)
    fin1 = torch.isfinite(term1)
    n_bad = int((~fin1).sum())
    term1 = torch.where(fin1, term1, torch.zeros_like(term1))
    n = max(int(z.shape[0]), 1)
    mean1 = term1.sum(1) / n
    mean2 = log_det.mean() + d * torch.log(c_t) if z.shape[0] else torch.zeros_like(c_t)
    log_pi_0 = float(flow.base.log_prob(torch.zeros(1, d, device=z.device, dtype=z.dtype))[0])
    status, msgs = "ok", []
    if dropped:
        status = "non-finite"
        msgs.append(f"{dropped} point(s) with a non-finite inverse were left out")
    if n_bad:
        status = "non-finite"
        msgs.append(f"{n_bad} value(s) of log pi(c z) were not finite (outside the base's support) and count as 0")
    if not z.shape[0]:
        status, msgs = "non-finite", ["no data point has a finite inverse"]
    f32 = lambda t: np.ascontiguousarray(t.detach().cpu().numpy() if isinstance(t, Tensor) else t,  # noqa: E731
                                         dtype=np.float32)
    x_np = f32(x)
    return LikelihoodScene(x=x_np, z=f32(z), logdet=f32(log_det), cs=f32(cs), term1=f32(term1), mean1=f32(mean1),
                           mean2=f32(mean2), mean_total=f32(mean1 + mean2), dim=d, log_pi_0=log_pi_0,
                           base=flow.base.describe(), status=status, message="; ".join(msgs), dropped=dropped,
                           bounds=_bounds(x_np), c_min=float(c_min),
                           base_family="standard_normal" if type(flow.base) is StandardNormal else "other")

