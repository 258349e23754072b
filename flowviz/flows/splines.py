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


def _knots(raw: Tensor, bound: float) -> Tensor:
    """Knots x_1..x_K (..., K) of one axis (or of both at once, raw (..., 2, K)) from K unconstrained numbers.

    Bin k has width w_k = 2B (MIN_BIN + c softmax(raw)_k), c = 1 - K MIN_BIN, so the knots are
    x_0 = -B, x_k = -B + 2B (k MIN_BIN + c sum_{j<=k-1} softmax_j), and x_K = B exactly (set, not summed).
    """
    bins = raw.shape[-1]
    cum = torch.cumsum(torch.softmax(raw, dim=-1), dim=-1)
    offsets = torch.arange(1, bins + 1, dtype=raw.dtype, device=raw.device) * (2 * bound * MIN_BIN) - bound
    knots = torch.add(offsets, cum, alpha=2 * bound * (1 - MIN_BIN * bins))
    knots[..., -1] = bound
    return knots


def _derivatives(raw_d: Tensor) -> Tensor:
    """delta at the inner knots 1..K-1: MIN_DERIVATIVE + softplus(raw + shift), shifted so that all-zero
    params give derivative 1 (the identity map); the end knots' delta is 1 (the identity tails join C^1)."""
    return MIN_DERIVATIVE + F.softplus(raw_d + _DERIVATIVE_SHIFT)


def _lookup_shared(params: Tensor, xc: Tensor, bins: int, bound: float, inverse: bool) -> tuple[Tensor, ...]:
    """One spline for every element: small tables (K + 1 entries) indexed by each element's bin."""
    knots = _knots(params[:2 * bins].view(2, bins), bound)
    table = torch.cat([knots.new_full((2, 1), -bound), knots], -1)  # x_0..x_K and y_0..y_K
    one = params.new_ones(1)
    deriv = torch.cat([one, _derivatives(params[2 * bins:]), one])  # delta_0..delta_K
    search = table[1 if inverse else 0, 1:-1].contiguous()
    idx = torch.searchsorted(search, xc.contiguous(), right=True)
    xk, yk = table[0][idx], table[1][idx]
    return xk, table[0][idx + 1] - xk, yk, table[1][idx + 1] - yk, deriv[idx], deriv[idx + 1]


def _lookup_batched(params: Tensor, xc: Tensor, bins: int, bound: float, inverse: bool) -> tuple[Tensor, ...]:
    """Per-element splines: only the searched axis's knots are compared for every bin; the bin's edges on
    both axes and the two derivatives are gathered at once."""
    knots = _knots(params[..., :2 * bins].unflatten(-1, (2, bins)), bound)  # (..., 2, K)
    search = knots[..., 1 if inverse else 0, :-1].contiguous()
    idx = torch.searchsorted(search, xc.unsqueeze(-1), right=True)  # (..., 1) in 0..K-1
    # [left, right] knot of the bin on both axes; x_0 = y_0 = -B is not stored
    pair = torch.cat([(idx - 1).clamp_min(0), idx], -1)  # (..., 2)
    edges = torch.gather(knots, -1, pair.unsqueeze(-2).expand(*pair.shape[:-1], 2, 2))  # (..., axis, side)
    first = idx == 0  # (..., 1): the bin starts at -B
    left = torch.where(first, -bound, edges[..., 0])
    size = edges[..., 1] - left
    if bins > 1:  # delta at the bin's two knots: inner knot j uses raw_d[j - 1]; end knots have delta 1
        d = _derivatives(torch.gather(params[..., 2 * bins:], -1, pair.clamp_max(bins - 2)))
        d = torch.where(torch.cat([first, idx == bins - 1], -1), 1.0, d)
    else:
        d = torch.ones_like(left)
    return left[..., 0], size[..., 0], left[..., 1], size[..., 1], d[..., 0], d[..., 1]


def rational_quadratic_spline(x: Tensor, params: Tensor, bound: float = 5.0,
                              inverse: bool = False) -> tuple[Tensor, Tensor]:
    """Apply the spline elementwise. x: (...,), params: (..., 3K - 1) unconstrained, with the same
    leading shape as x, or all leading sizes 1 (one spline shared by every element of x).

    Returns (y, log|dy/dx|) elementwise; with ``inverse=True`` returns (x, log|dx/dy|) of the
    inverse map. Identity with log-derivative 0 outside [-bound, bound].

    Only the knots of the searched axis are compared for every bin; the rest (the bin on the other
    axis, the two derivatives) is gathered at each element's bin, so the per-bin work is one softmax
    and one cumulative sum (memory-bound passes and op count dominate this function's cost on CPU).
    """
    bins = (params.shape[-1] + 1) // 3
    inside = (x > -bound) & (x < bound)
    xc = x.clamp(-bound, bound)
    if all(n == 1 for n in params.shape[:-1]) and params.dim() - 1 <= x.dim():
        # one spline for every element (e.g. the first coordinate of an autoregressive layer)
        shape = torch.broadcast_shapes(x.shape, params.shape[:-1])
        x, inside, xc = x.expand(shape), inside.expand(shape), xc.expand(shape)
        xk, wk, yk, hk, dk, dk1 = _lookup_shared(params.reshape(-1), xc, bins, bound, inverse)
    else:
        xk, wk, yk, hk, dk, dk1 = _lookup_batched(params, xc, bins, bound, inverse)
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
