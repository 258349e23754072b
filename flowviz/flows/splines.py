"""Monotone rational-quadratic splines with linear tails (Durkan et al., "Neural Spline Flows", 2019).

On [-B, B] the map is a piecewise rational-quadratic through K+1 knots (x_k, y_k) with positive
derivatives delta_k at the knots; outside it is the identity (derivative 1 at the boundary knots,
so the map is C^1). Within bin k, with theta = (x - x_k) / w_k and s_k = h_k / w_k:

    y = y_k + h_k [s_k theta^2 + delta_k theta (1 - theta)] / [s_k + (delta_{k+1} + delta_k - 2 s_k) theta (1 - theta)]

    dy/dx = s_k^2 [delta_{k+1} theta^2 + 2 s_k theta (1 - theta) + delta_k (1 - theta)^2]
            / [s_k + (delta_{k+1} + delta_k - 2 s_k) theta (1 - theta)]^2

The inverse solves the quadratic in theta in its numerically stable form.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["rational_quadratic_spline", "spline_params"]

MIN_BIN = 1e-3
MIN_DERIVATIVE = 1e-3
_DERIVATIVE_SHIFT = math.log(math.expm1(1 - MIN_DERIVATIVE))


def spline_params(bins: int) -> int:
    """Number of unconstrained numbers per coordinate: K widths, K heights, K - 1 inner derivatives."""
    return 3 * bins - 1


def _knots(raw: Tensor, bound: float) -> tuple[Tensor, Tensor]:
    bins = raw.shape[-1]
    frac = MIN_BIN + (1 - MIN_BIN * bins) * torch.softmax(raw, dim=-1)
    cum = F.pad(torch.cumsum(frac, dim=-1), (1, 0))
    cum = 2 * bound * cum - bound
    cum = torch.cat([torch.full_like(cum[..., :1], -bound), cum[..., 1:-1], torch.full_like(cum[..., :1], bound)], -1)
    return cum, cum[..., 1:] - cum[..., :-1]


def _gather(t: Tensor, idx: Tensor) -> Tensor:
    return torch.gather(t, -1, idx[..., None])[..., 0]


def rational_quadratic_spline(x: Tensor, params: Tensor, bound: float = 5.0,
                              inverse: bool = False) -> tuple[Tensor, Tensor]:
    """Apply the spline elementwise. x: (...,), params: (..., 3K - 1) unconstrained.

    Returns (y, log|dy/dx|) elementwise; with ``inverse=True`` returns (x, log|dx/dy|) of the
    inverse map. Identity with log-derivative 0 outside [-bound, bound].
    """
    bins = (params.shape[-1] + 1) // 3
    raw_w, raw_h, raw_d = params[..., :bins], params[..., bins:2 * bins], params[..., 2 * bins:]
    cum_x, widths = _knots(raw_w, bound)
    cum_y, heights = _knots(raw_h, bound)
    # shifted so that all-zero params give derivative 1 everywhere: the identity map
    inner = MIN_DERIVATIVE + F.softplus(raw_d + _DERIVATIVE_SHIFT)
    # boundary derivatives 1 so the linear tails (identity) join smoothly
    ones = torch.ones_like(inner[..., :1])
    deriv = torch.cat([ones, inner, ones], -1)

    inside = (x > -bound) & (x < bound)
    xc = x.clamp(-bound, bound)
    knots = cum_y if inverse else cum_x
    idx = (xc[..., None] >= knots[..., 1:-1]).sum(-1)

    xk, wk = _gather(cum_x, idx), _gather(widths, idx)
    yk, hk = _gather(cum_y, idx), _gather(heights, idx)
    dk, dk1 = _gather(deriv, idx), _gather(deriv[..., 1:], idx)
    sk = hk / wk
    if not inverse:
        theta = (xc - xk) / wk
        t1mt = theta * (1 - theta)
        den = sk + (dk1 + dk - 2 * sk) * t1mt
        y = yk + hk * (sk * theta * theta + dk * t1mt) / den
        num = sk * sk * (dk1 * theta * theta + 2 * sk * t1mt + dk * (1 - theta) ** 2)
        logd = torch.log(num) - 2 * torch.log(den)
    else:
        dy = xc - yk
        c2 = dk1 + dk - 2 * sk
        a = hk * (sk - dk) + dy * c2
        b = hk * dk - dy * c2
        c = -sk * dy
        disc = (b * b - 4 * a * c).clamp_min(0)
        theta = (2 * c) / (-b - torch.sqrt(disc))
        y = theta * wk + xk
        t1mt = theta * (1 - theta)
        den = sk + c2 * t1mt
        num = sk * sk * (dk1 * theta * theta + 2 * sk * t1mt + dk * (1 - theta) ** 2)
        logd = -(torch.log(num) - 2 * torch.log(den))
    y = torch.where(inside, y, x)
    logd = torch.where(inside, logd, torch.zeros_like(logd))
    return y, logd
