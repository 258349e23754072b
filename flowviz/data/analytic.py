"""Toy densities with a closed-form log-density: 8gaussians, checkerboard, circles, rings, crescent.

The first four follow FFJORD's ``lib/toy_data.py`` (Grathwohl, Chen et al., "FFJORD: Free-form
continuous dynamics for scalable reversible generative models", ICLR 2019), made i.i.d. where
FFJORD uses deterministic ``linspace`` angles or fixed class counts.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .base import LOG_2PI, Dataset, _positive, gaussian_reach

__all__ = ["Checkerboard", "Circles", "Crescent", "EightGaussians", "Rings", "log_ring"]


def log_ring(x: Tensor, radius: float, noise: float) -> Tensor:
    """Log-density of a uniform circle of radius ``R`` blurred by ``N(0, s^2 I)``, at ``x (..., 2)``.

    ``p(x) = (1 / 2 pi) int_0^{2 pi} N(x; R (cos t, sin t), s^2 I) dt
           = exp(-(r^2 + R^2) / (2 s^2)) I0(r R / s^2) / (2 pi s^2)``,  ``r = |x|``,

    evaluated stably with the scaled Bessel function ``i0e(z) = exp(-z) I0(z)``:
    ``log p = -(r - R)^2 / (2 s^2) + log i0e(r R / s^2) - log(2 pi s^2)``.
    """
    r = torch.linalg.vector_norm(x, dim=-1)
    s2 = noise * noise
    return (
        -((r - radius) ** 2) / (2 * s2)
        + torch.log(torch.special.i0e(r * radius / s2))
        - math.log(2 * math.pi * s2)
    )


class _RingMixture(Dataset):
    """A mixture of blurred circles centred at the origin: ``sum_k w_k p_ring(x; R_k, s)``."""

    radii: tuple[float, ...]
    weights: tuple[float, ...]
    noise: float

    def _sample(
        self, n: int, generator: torch.Generator | None, device: torch.device, dtype: torch.dtype
    ) -> Tensor:
        # circle k with probability w_k: the first k whose cumulative weight exceeds u ~ U[0, 1)
        u = torch.rand(n, generator=generator, device=device, dtype=dtype)
        edges = torch.tensor(self.weights, dtype=dtype, device=device).cumsum(0)[:-1]
        k = torch.searchsorted(edges, u, right=True)
        t = 2 * math.pi * torch.rand(n, generator=generator, device=device, dtype=dtype)
        eps = torch.randn(n, 2, generator=generator, device=device, dtype=dtype)
        r = torch.tensor(self.radii, dtype=dtype, device=device)[k]
        return r[:, None] * torch.stack([torch.cos(t), torch.sin(t)], -1) + self.noise * eps

    def _ring_bounds(self) -> tuple[float, float, float, float]:
        """The square ``[-(R_max + k s), R_max + k s]^2``, ``k`` = :func:`gaussian_reach`: every circle lies in
        ``[-R_max, R_max]^2``, so a point leaves the square only if its noise strays beyond ``k s`` (< 1e-4)."""
        half = max(self.radii) + gaussian_reach() * self.noise
        return (-half, half, -half, half)

    def _log_prob(self, x: Tensor) -> Tensor:
        terms = [
            math.log(w) + log_ring(x, r, self.noise) for r, w in zip(self.radii, self.weights, strict=True)
        ]
        return torch.logsumexp(torch.stack(terms, -1), -1)


class Circles(_RingMixture):
    """Two concentric noisy circles (FFJORD ``circles``: ``make_circles(factor=0.5, noise=0.08) * 3``).

    ``k ~ {0, 1}`` with probability 1/2 each, ``t ~ U[0, 2 pi)``, ``eps ~ N(0, I)``;
    ``x = scale * (R_k (cos t, sin t) + noise * eps)`` with ``R_0 = 1``, ``R_1 = factor``.
    The noise is added before the scaling, so the blur in data space is ``s = scale * noise = 0.24``
    and the radii are 3 and 1.5. Exact density: the mixture of :func:`log_ring` terms
    ``p(x) = sum_k 1/2 exp(-(r^2 + R_k^2)/(2 s^2)) I0(r R_k / s^2) / (2 pi s^2)``.
    (sklearn spaces the angles with ``linspace`` and splits the points half and half; here angles
    and circles are random, so the points are i.i.d. from that density.)
    :attr:`bounds`: ``[-(R_max + k s), R_max + k s]^2`` with ``R_max = scale * max(1, factor)`` and ``k``
    from :func:`~flowviz.data.base.gaussian_reach`.
    """

    name = "circles"

    def __init__(self, noise: float = 0.08, factor: float = 0.5, scale: float = 3.0) -> None:
        noise, factor, scale = _positive(noise=noise, factor=factor, scale=scale)
        self.params = (noise, factor, scale)
        self.radii = (scale, scale * factor)
        self.weights = (0.5, 0.5)
        self.noise = scale * noise
        self.bounds = self._ring_bounds()

    @property
    def entropy(self) -> float | None:
        # Computed offline as the radial integral -int_0^inf p(r) log p(r) 2 pi r dr with scipy.integrate.quad
        # (epsabs = epsrel = 1e-13, breakpoints at the radii, upper limit 3 + 40 s, p from scipy.special.i0e);
        # a 2D trapezoid rule on a 3000^2 grid over [-5, 5]^2 gives the same 15 digits, and a 4e6-sample
        # Monte Carlo estimate (seed 12345) 3.26802 +- 0.00039.
        return 3.2681357117058 if self.params == (0.08, 0.5, 3.0) else None

    def __repr__(self) -> str:
        noise, factor, scale = self.params
        return f"Circles(noise={noise}, factor={factor}, scale={scale})"


class Rings(_RingMixture):
    """Four concentric noisy circles (FFJORD ``rings``).

    ``k ~ U{0..3}``, ``t ~ U[0, 2 pi)``, ``x = R_k (cos t, sin t) + noise * eps``, ``eps ~ N(0, I)``,
    with radii ``R = (3, 2.25, 1.5, 0.75)`` (FFJORD: ``(1, 0.75, 0.5, 0.25) * 3``) and ``noise = 0.08``
    added after the scaling. Exact density: ``p(x) = sum_k 1/4 p_ring(x; R_k, 0.08)`` (:func:`log_ring`).
    :attr:`bounds`: ``[-(3 + k noise), 3 + k noise]^2``, ``k`` from :func:`~flowviz.data.base.gaussian_reach`.
    (FFJORD uses ``linspace`` angles and equal counts; here they are random, so points are i.i.d.)
    """

    name = "rings"

    def __init__(self, noise: float = 0.08) -> None:
        (self.noise,) = _positive(noise=noise)
        self.radii = (3.0, 2.25, 1.5, 0.75)
        self.weights = (0.25, 0.25, 0.25, 0.25)
        self.bounds = self._ring_bounds()

    @property
    def entropy(self) -> float | None:
        # Computed offline as the radial integral -int_0^inf p(r) log p(r) 2 pi r dr with
        # scipy.integrate.quad (epsabs = epsrel = 1e-13, breakpoints at the radii, p from scipy.special.i0e);
        # a 2D trapezoid rule on a 3000^2 grid over [-4, 4]^2 gives the same 15 digits, and a 4e6-sample
        # Monte Carlo estimate (seed 12345) 2.62322 +- 0.00044.
        return 2.6231827703003 if self.noise == 0.08 else None

    def __repr__(self) -> str:
        return f"Rings(noise={self.noise})"


class EightGaussians(Dataset):
    """Eight Gaussians on a circle (FFJORD ``8gaussians``).

    ``k ~ U{0..7}``, ``u_k = (cos(k pi/4), sin(k pi/4))``, ``eps ~ N(0, I)``;
    ``x = (scale * u_k + std * eps) / 1.414`` with ``scale = 4``, ``std = 0.5`` (FFJORD divides by
    the literal 1.414, kept here). Exact density: the equal-weight mixture
    ``p(x) = 1/8 sum_k N(x; scale u_k / 1.414, (std / 1.414)^2 I)``.
    :attr:`bounds`: the centres' box ``[-scale, scale]^2 / 1.414`` widened by ``k std / 1.414``,
    ``k`` from :func:`~flowviz.data.base.gaussian_reach`.
    """

    name = "8gaussians"

    def __init__(self, scale: float = 4.0, std: float = 0.5) -> None:
        self.scale, self.std = _positive(scale=scale, std=std)
        half = (self.scale + gaussian_reach() * self.std) / 1.414
        self.bounds = (-half, half, -half, half)

    def _centres(self, device: torch.device, dtype: torch.dtype) -> Tensor:
        a = torch.arange(8, device=device, dtype=dtype) * (math.pi / 4)
        return self.scale * torch.stack([torch.cos(a), torch.sin(a)], -1) / 1.414

    def _sample(
        self, n: int, generator: torch.Generator | None, device: torch.device, dtype: torch.dtype
    ) -> Tensor:
        k = torch.randint(8, (n,), generator=generator, device=device)
        eps = torch.randn(n, 2, generator=generator, device=device, dtype=dtype)
        return self._centres(device, dtype)[k] + (self.std / 1.414) * eps

    def _log_prob(self, x: Tensor) -> Tensor:
        s = self.std / 1.414
        d2 = ((x[..., None, :] - self._centres(x.device, x.dtype)) ** 2).sum(-1)
        return torch.logsumexp(-d2 / (2 * s * s), -1) - math.log(8) - LOG_2PI - 2 * math.log(s)

    @property
    def entropy(self) -> float | None:
        # Computed offline as -sum p log p h^2, the trapezoid rule on [-7, 7]^2 with h = 0.005 (spectrally
        # accurate for this smooth, Gaussian-tailed integrand: h = 0.01 gives the same 15 digits); a
        # 4e6-sample Monte Carlo estimate (seed 12345) gives 2.83224 +- 0.00049. Below the well-separated
        # limit log 8 + log(2 pi e s^2) = 2.83818 because neighbouring components overlap a little.
        return 2.8318804061377 if (self.scale, self.std) == (4.0, 0.5) else None

    def __repr__(self) -> str:
        return f"EightGaussians(scale={self.scale}, std={self.std})"


class Checkerboard(Dataset):
    """Uniform on the 8 dark squares of a 4x4 checkerboard on ``[-4, 4)^2`` (FFJORD ``checkerboard``).

    FFJORD: ``x1 ~ U[-2, 2)``, ``x2 = U[0, 1) - 2 b + (floor(x1) mod 2)`` with ``b ~ U{0, 1}``,
    then ``x = 2 (x1, x2)``. So each square has side 2 and the density is ``1/32`` where
    ``floor(x1/2) + floor(x2/2)`` is even (inside the box) and 0 elsewhere; entropy ``log 32``.
    """

    name = "checkerboard"
    bounds = (-4.0, 4.0, -4.0, 4.0)

    def _sample(
        self, n: int, generator: torch.Generator | None, device: torch.device, dtype: torch.dtype
    ) -> Tensor:
        x1 = 4 * torch.rand(n, generator=generator, device=device, dtype=dtype) - 2
        b = torch.randint(2, (n,), generator=generator, device=device).to(dtype)
        x2 = (
            torch.rand(n, generator=generator, device=device, dtype=dtype)
            - 2 * b
            + torch.remainder(torch.floor(x1), 2)
        )
        return 2 * torch.stack([x1, x2], -1)

    def _cast(self, x: Tensor, dtype: torch.dtype) -> Tensor:
        """Cells are half-open, [2k, 2k + 2): a point just below an upper edge that rounds onto it in ``dtype``
        would land in the next cell (a white one, or outside at 4), where log_prob is -inf. It is moved to the
        largest ``dtype`` value below the edge instead (float32: about 8 points in 1e8; bfloat16: 0.5%)."""
        out = x.to(dtype)
        on_edge = (torch.remainder(out, 2) == 0) & (x < out.to(x.dtype))
        if bool(on_edge.any()):
            out = torch.where(on_edge, torch.nextafter(out, torch.full_like(out, -math.inf)), out)
        return out

    def _log_prob(self, x: Tensor) -> Tensor:
        inside = ((x >= -4) & (x < 4)).all(-1)
        cell = torch.floor(x / 2).sum(-1)
        dark = torch.remainder(cell, 2) == 0
        log_density = torch.full(x.shape[:-1], -math.log(32.0), dtype=x.dtype, device=x.device)
        return log_density.masked_fill(~(inside & dark), -math.inf)

    @property
    def entropy(self) -> float | None:
        return math.log(32.0)


class Crescent(Dataset):
    """A banana (triangular) density: ``x1 ~ N(0, 1)``, ``x2 = m(x1) + sigma * eps``, ``eps ~ N(0, 1)``.

    ``m(x1) = 0.5 x1^2 - 1`` and ``sigma = 0.25``: a density whose triangular (autoregressive) map
    ``(z1, z2) -> (z1, m(z1) + sigma z2)`` is known exactly. Exact density
    ``p(x) = N(x1; 0, 1) N(x2; m(x1), sigma^2)`` and entropy
    ``H = 1/2 log(2 pi e) + 1/2 log(2 pi e sigma^2) = log(2 pi e sigma)`` (the map has Jacobian
    determinant ``sigma`` everywhere, so ``H = H[N(0, I)] + log sigma``).

    :attr:`bounds`: ``x1 in [-k, k]``, ``x2 in [-1 - k sigma, k^2 / 2 - 1 + k sigma]`` with ``k`` from
    :func:`~flowviz.data.base.gaussian_reach`: a point is outside only if ``|z1| > k`` or ``|z2| > k``
    (``x2 >= m(x1) - k sigma >= -1 - k sigma``, and ``x2 <= k^2/2 - 1 + k sigma`` once ``|z1| <= k``),
    whose probability is at most ``4 Phi(-k) = 1e-4``.
    """

    name = "crescent"

    def __init__(self, sigma: float = 0.25) -> None:
        (self.sigma,) = _positive(sigma=sigma)
        k = gaussian_reach()
        self.bounds = (-k, k, -1 - k * self.sigma, 0.5 * k * k - 1 + k * self.sigma)

    def _sample(
        self, n: int, generator: torch.Generator | None, device: torch.device, dtype: torch.dtype
    ) -> Tensor:
        z = torch.randn(n, 2, generator=generator, device=device, dtype=dtype)
        x1 = z[:, 0]
        return torch.stack([x1, 0.5 * x1**2 - 1 + self.sigma * z[:, 1]], -1)

    def _log_prob(self, x: Tensor) -> Tensor:
        x1, x2 = x[..., 0], x[..., 1]
        r2 = ((x2 - (0.5 * x1**2 - 1)) / self.sigma) ** 2
        return -0.5 * x1**2 - 0.5 * r2 - LOG_2PI - math.log(self.sigma)

    @property
    def entropy(self) -> float | None:
        return math.log(2 * math.pi * math.e * self.sigma)

    def __repr__(self) -> str:
        return f"Crescent(sigma={self.sigma})"
