"""Planar and radial flows (Rezende & Mohamed, "Variational Inference with Normalizing Flows", 2015).

Both are residual maps x = z + (something small) whose log|det J| comes from the matrix
determinant lemma. Forward is base -> data (z -> x). Neither has an inverse in closed form in
the paper; here Planar inverts by 1D root finding along w and Radial in closed form.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .base import Bijection, NotInvertibleError, check_input

__all__ = ["Planar", "Radial"]


def _inverse_softplus(y: float) -> float:
    if y <= 0:
        raise ValueError(f"softplus only reaches positive values, got {y}")
    return y + math.log(-math.expm1(-y))


def _param(value: Sequence[float] | Tensor | None, dim: int, name: str, generator: torch.Generator,
           std: float) -> Tensor:
    if value is None:
        return torch.randn(dim, generator=generator) * std
    t = torch.as_tensor(value, dtype=torch.get_default_dtype()).detach().clone().reshape(-1)
    if t.numel() == 1 and dim > 1:
        t = t.expand(dim).clone()
    if t.shape != (dim,):
        raise ValueError(f"{name} must have shape ({dim},), got {tuple(t.shape)}")
    return t


class Planar(Bijection):
    """Planar flow, forward (base -> data):

        x = z + u_hat * tanh(w . z + b)

    log|det J| = log|1 + u_hat . psi(z)|, psi(z) = (1 - tanh^2(w . z + b)) w.
    The map is invertible iff w . u_hat >= -1. With ``constrained=True`` (default) u_hat is
    u + (m(w . u) - w . u) w / |w|^2 with m(a) = -1 + softplus(a), which guarantees it; with
    ``constrained=False`` u_hat = u as given, so the lecture can show what happens when the
    constraint is crossed (a fold: det J changes sign, ``is_invertible()`` is False).

    Inverse: with a = w . z, the scalar equation a + (w . u_hat) tanh(a + b) = w . x is monotone in a
    when w . u_hat >= -1; it is solved by bisection in the bracket w . x +- |w . u_hat| (polished by
    Newton steps), then z = x - u_hat tanh(a + b).
    """

    def __init__(self, dim: int, u: Sequence[float] | Tensor | None = None,
                 w: Sequence[float] | Tensor | None = None, b: float = 0.0,
                 constrained: bool = True, seed: int | None = None) -> None:
        super().__init__()
        self.dim = dim
        self.constrained = constrained
        g = torch.Generator().manual_seed(0 if seed is None else seed)
        if seed is None and (u is None or w is None):
            g.seed()
        self.u = nn.Parameter(_param(u, dim, "u", g, 0.5))
        self.w = nn.Parameter(_param(w, dim, "w", g, 0.5))
        self.b = nn.Parameter(torch.tensor(float(b)))

    def u_hat(self) -> Tensor:
        """The u actually used: constrained so that w . u_hat >= -1 when ``constrained``."""
        if not self.constrained:
            return self.u
        wu = self.w @ self.u
        m = -1.0 + F.softplus(wu)
        return self.u + (m - wu) * self.w / (self.w @ self.w + 1e-12)

    def forward(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """x = z + u_hat tanh(w . z + b); log_det = log|1 + (1 - tanh^2(w . z + b)) w . u_hat|."""
        check_input(z, self.dim, "z")
        u = self.u_hat()
        h = torch.tanh(z @ self.w + self.b)
        x = z + h[:, None] * u
        log_det = torch.log(torch.abs(1 + (1 - h * h) * (self.w @ u)))
        return x, log_det

    def inverse(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Root-find a = w . z, then z = x - u_hat tanh(a + b); log_det = -forward log_det at z."""
        check_input(x, self.dim, "x")
        if not self.is_invertible():
            raise NotInvertibleError(self.invertibility_message())
        u = self.u_hat()
        wu = self.w @ u
        y = x @ self.w
        lo, hi = y - wu.abs(), y + wu.abs()
        iterations = 60 if x.dtype == torch.float64 else 40
        for _ in range(iterations):
            mid = 0.5 * (lo + hi)
            above = mid + wu * torch.tanh(mid + self.b) > y
            hi = torch.where(above, mid, hi)
            lo = torch.where(above, lo, mid)
        a = 0.5 * (lo + hi)
        for _ in range(2):  # Newton polish; the derivative is >= 0 and the step is tiny here
            t = torch.tanh(a + self.b)
            deriv = 1 + wu * (1 - t * t)
            step = (a + wu * t - y) / deriv.clamp_min(1e-12)
            a = torch.where(deriv > 1e-6, a - step, a)
        h = torch.tanh(a + self.b)
        z = x - h[:, None] * u
        log_det = -torch.log(torch.abs(1 + (1 - h * h) * wu))
        return z, log_det

    @torch.no_grad()
    def is_invertible(self) -> bool:
        """w . u_hat >= -1. Always True when ``constrained``: m(a) = -1 + softplus(a) > -1 guarantees it
        analytically, while the computed w . u_hat can land a few ulps below -1 (softplus underflows for a
        strongly negative raw w . u), which must not count as a fold."""
        if self.constrained:
            return True
        return bool((self.w @ self.u_hat()) >= -1)

    @torch.no_grad()
    def invertibility_message(self) -> str:
        if self.is_invertible():
            return ""
        wu = float(self.w @ self.u_hat())
        text = f"{wu:.3g}"
        if not float(text) < -1:  # rounds to -1: print every digit, never "-1 < -1"
            text = repr(wu)
        return f"w . u = {text} < -1: the planar map folds the plane (det J changes sign)"

    @torch.no_grad()
    def describe(self) -> str:
        u = ", ".join(f"{v:.3g}" for v in self.u_hat().tolist())
        w = ", ".join(f"{v:.3g}" for v in self.w.tolist())
        return f"Planar: x = z + u tanh(w.z + b), u = ({u}), w = ({w}), b = {self.b.item():.3g}"


class Radial(Bijection):
    """Radial flow around a centre z0, forward (base -> data):

        x = z + beta h(alpha, r) (z - z0),   r = |z - z0|,   h = 1 / (alpha + r),

    log|det J| = (d - 1) log|1 + beta h| + log|1 + beta h + beta h' r|,  h' = -1 / (alpha + r)^2.
    Invertible iff beta >= -alpha (alpha > 0). With ``constrained=True`` (default) the stored raw
    parameters map to alpha = softplus(a), beta = -alpha + softplus(c), so training cannot break it.

    Inverse in closed form: |x - z0| = r (1 + beta / (alpha + r)) is a quadratic in r,
    r^2 + (alpha + beta - r_x) r - alpha r_x = 0; take its positive root, then
    z = z0 + (x - z0) / (1 + beta / (alpha + r)).
    """

    def __init__(self, dim: int, centre: Sequence[float] | Tensor | None = None, alpha: float = 1.0,
                 beta: float = 0.5, constrained: bool = True) -> None:
        super().__init__()
        self.dim = dim
        self.constrained = constrained
        if not alpha > 0:
            raise ValueError(f"Radial needs alpha > 0, got {alpha}")
        if constrained and not beta > -alpha:
            raise ValueError(f"beta must be > -alpha = {-alpha} for an invertible radial map, got {beta}; "
                             "pass constrained=False to allow it")
        self.centre = nn.Parameter(torch.zeros(dim) if centre is None else _param(centre, dim, "centre",
                                                                                  torch.Generator(), 0.0))
        self.alpha_raw = nn.Parameter(torch.tensor(_inverse_softplus(alpha)))
        raw_beta = _inverse_softplus(beta + alpha) if constrained else beta
        self.beta_raw = nn.Parameter(torch.tensor(float(raw_beta)))

    @property
    def alpha(self) -> Tensor:
        return F.softplus(self.alpha_raw)

    @property
    def beta(self) -> Tensor:
        return -self.alpha + F.softplus(self.beta_raw) if self.constrained else self.beta_raw

    def set_parameters(self, alpha: float | None = None, beta: float | None = None) -> None:
        """Set alpha and/or beta to given values (used by sliders); refuses beta <= -alpha when constrained."""
        a = float(self.alpha) if alpha is None else float(alpha)
        b = float(self.beta) if beta is None else float(beta)
        if not a > 0:
            raise ValueError(f"alpha must be > 0, got {a}")
        if self.constrained and not b > -a:
            raise ValueError(f"beta must be > -alpha = {-a} while constrained, got {b}")
        with torch.no_grad():
            self.alpha_raw.fill_(_inverse_softplus(a))
            self.beta_raw.fill_(_inverse_softplus(b + a) if self.constrained else b)

    def _terms(self, r: Tensor) -> tuple[Tensor, Tensor]:
        alpha, beta = self.alpha, self.beta
        h = 1 / (alpha + r)
        dh = -h * h
        log_det = (self.dim - 1) * torch.log(torch.abs(1 + beta * h)) + torch.log(
            torch.abs(1 + beta * h + beta * dh * r))
        return beta * h, log_det

    def forward(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """x = z + beta (z - z0) / (alpha + r); log_det from the determinant lemma (see class doc)."""
        check_input(z, self.dim, "z")
        diff = z - self.centre
        r = torch.linalg.vector_norm(diff, dim=-1)  # not sqrt(sum diff^2): its gradient is NaN at the centre
        bh, log_det = self._terms(r)
        return z + bh[:, None] * diff, log_det

    def inverse(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Closed form: the positive root r of r^2 + (alpha + beta - r_x) r - alpha r_x = 0."""
        check_input(x, self.dim, "x")
        if not self.is_invertible():
            raise NotInvertibleError(self.invertibility_message())
        alpha, beta = self.alpha, self.beta
        diff = x - self.centre
        r_x = torch.linalg.vector_norm(diff, dim=-1)  # gradient 0 (not NaN) at the centre
        q = alpha + beta - r_x
        s = torch.sqrt(q * q + 4 * alpha * r_x)
        r = torch.where(q > 0, 2 * alpha * r_x / (q + s), 0.5 * (s - q))
        bh, log_det = self._terms(r)
        return self.centre + diff / (1 + bh)[:, None], -log_det

    @torch.no_grad()
    def is_invertible(self) -> bool:
        return bool(self.beta >= -self.alpha)

    @torch.no_grad()
    def invertibility_message(self) -> str:
        if self.is_invertible():
            return ""
        return f"beta = {float(self.beta):.3g} < -alpha = {-float(self.alpha):.3g}: the radial map folds"

    @torch.no_grad()
    def describe(self) -> str:
        c = ", ".join(f"{v:.3g}" for v in self.centre.tolist())
        return f"Radial: centre ({c}), alpha = {float(self.alpha):.3g}, beta = {float(self.beta):.3g}"
