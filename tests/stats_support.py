"""Goodness-of-fit helpers shared by the tests: binned counts, a density's mass per bin, Pearson's chi-square."""

from __future__ import annotations

import math

import numpy as np
import torch

F64 = torch.float64


def bin_counts(x: torch.Tensor, bounds: tuple[float, ...], nb: int) -> torch.Tensor:
    """Counts in an nb x nb grid of bins over bounds (flattened), then one overflow cell."""
    x0, x1, y0, y1 = bounds
    ix = torch.floor((x[:, 0] - x0) / (x1 - x0) * nb).long()
    iy = torch.floor((x[:, 1] - y0) / (y1 - y0) * nb).long()
    inside = (ix >= 0) & (ix < nb) & (iy >= 0) & (iy < nb)
    counts = torch.bincount(ix[inside] * nb + iy[inside], minlength=nb * nb).to(F64)
    return torch.cat([counts, torch.tensor([float((~inside).sum())], dtype=F64)])


def bin_probs(log_prob, bounds: tuple[float, ...], nb: int, order: int = 4) -> torch.Tensor:
    """The density's mass in each bin (order x order Gauss-Legendre per bin), then the rest, 1 - sum."""
    x0, x1, y0, y1 = bounds
    xi, wi = (torch.tensor(a, dtype=F64) for a in np.polynomial.legendre.leggauss(order))
    hx, hy = (x1 - x0) / nb, (y1 - y0) / nb
    cx = x0 + hx * (torch.arange(nb, dtype=F64) + 0.5)
    cy = y0 + hy * (torch.arange(nb, dtype=F64) + 0.5)
    px = (cx[:, None] + hx / 2 * xi).reshape(nb, 1, order, 1).expand(nb, nb, order, order)
    py = (cy[:, None] + hy / 2 * xi).reshape(1, nb, 1, order).expand(nb, nb, order, order)
    dens = log_prob(torch.stack([px, py], -1)).exp()
    w = (hx / 2 * wi)[:, None] * (hy / 2 * wi)[None, :]
    p = (dens * w).sum((-1, -2)).flatten()
    return torch.cat([p, (1 - p.sum()).clamp(min=0).reshape(1)])


def chi2_z(observed: torch.Tensor, expected: torch.Tensor) -> float:
    """Pearson's chi-square as a z-score, (X^2 - df) / sqrt(2 df); cells with E < 5 are pooled."""
    big = expected >= 5
    o, e = observed[big].clone(), expected[big].clone()
    o_rest, e_rest = observed[~big].sum(), expected[~big].sum()
    if e_rest >= 5:
        o, e = torch.cat([o, o_rest.reshape(1)]), torch.cat([e, e_rest.reshape(1)])
    else:  # too little to stand alone: pool it with the smallest cell
        j = torch.argmin(e)
        o[j] += o_rest
        e[j] += e_rest
    df = len(e) - 1
    return float((((o - e) ** 2 / e).sum() - df) / math.sqrt(2 * df))
