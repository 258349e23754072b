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


def _finite(value: float | Tensor, name: str, owner: str) -> float:
    """``value`` as a finite Python float, else a ValueError naming the argument."""
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{owner}: {name} must be a finite number, got {number}")
    return number


def _param(value: Sequence[float] | Tensor | None, dim: int, name: str, generator: torch.Generator,
           std: float, owner: str) -> Tensor:
    if value is None:
        return torch.randn(dim, generator=generator) * std
    t = torch.as_tensor(value, dtype=torch.get_default_dtype()).detach().clone().reshape(-1)
    if t.numel() == 1 and dim > 1:
        t = t.expand(dim).clone()
    if t.shape != (dim,):
        raise ValueError(f"{name} must have shape ({dim},), got {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise ValueError(f"{owner}: {name} must be finite, got {t.tolist()}")
    return t


def _norm(v: Tensor) -> Tensor:
    """|v| per row, (N, d) -> (N,), without overflow or underflow of the squares.

    torch.linalg.vector_norm squares the entries: in float32 it overflows to inf for |v| > 1.8e19. Here each
    row is scaled by 2^-e, with 2^e the order of its largest entry (a power of two: the scaling is exact), so
    |v| = 2^e |v 2^-e|. The scale is a constant to autograd (|v| does not depend on it), and the gradient at
    v = 0 is 0, not NaN (vector_norm's subgradient; sqrt(sum v^2) would give 0 * inf there)."""
    big = v.detach().abs().amax(-1, keepdim=True)
    e = torch.frexp(big)[1]  # big = m 2^e, m in [0.5, 1); e = 0 for big = 0
    e = e.clamp_min(-math.floor(math.log2(torch.finfo(v.dtype).max)))  # 2^-e must not overflow (float16)
    scale = torch.ldexp(torch.ones_like(big), -e)
    return torch.linalg.vector_norm(v * scale, dim=-1) / scale[:, 0]


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
        self.u = nn.Parameter(_param(u, dim, "u", g, 0.5, "Planar"))
        self.w = nn.Parameter(_param(w, dim, "w", g, 0.5, "Planar"))
        self.b = nn.Parameter(torch.tensor(_finite(b, "b", "Planar")))

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

    log|det J| = (d - 1) log|1 + beta h| + log|1 + beta h + beta h' r|,  h' = -1 / (alpha + r)^2,
    computed as (d - 1) log|1 + beta h| + log|1 + beta h a| with a = alpha h = alpha / (alpha + r) in (0, 1]
    (the same number, since 1 - r h = a; h' = -h^2 itself would overflow at the centre for a tiny alpha).
    Invertible iff beta >= -alpha (alpha > 0). With ``constrained=True`` (default) the stored raw
    parameters map to alpha = softplus(a), beta = -alpha + softplus(c), so training cannot break it.
    alpha, beta and the centre must be finite; alpha must stay a normal number of the parameters' dtype
    and |beta| / alpha (the Jacobian at the centre is (1 + beta / alpha) I) must fit in it.

    Inverse in closed form: |x - z0| = r (1 + beta / (alpha + r)) is a quadratic in r,
    r^2 + q r - alpha r_x = 0 with q = alpha + beta - r_x; its positive root is
    r = 2 alpha r_x / (q + s) for q > 0 and r = (s - q) / 2 otherwise, s = sqrt(q^2 + 4 alpha r_x) (neither
    form cancels), then z = z0 + (x - z0) / (1 + beta / (alpha + r)).
    """

    def __init__(self, dim: int, centre: Sequence[float] | Tensor | None = None, alpha: float = 1.0,
                 beta: float = 0.5, constrained: bool = True) -> None:
        super().__init__()
        self.dim = dim
        self.constrained = constrained
        alpha, beta = _finite(alpha, "alpha", "Radial"), _finite(beta, "beta", "Radial")
        if not alpha > 0:
            raise ValueError(f"Radial needs alpha > 0, got {alpha}")
        if constrained and not beta > -alpha:
            raise ValueError(f"beta must be > -alpha = {-alpha} for an invertible radial map, got {beta}; "
                             "pass constrained=False to allow it")
        self.centre = nn.Parameter(torch.zeros(dim) if centre is None else _param(centre, dim, "centre",
                                                                                  torch.Generator(), 0.0, "Radial"))
        raw_alpha, raw_beta = self._raw(alpha, beta, torch.get_default_dtype())
        self.alpha_raw = nn.Parameter(torch.tensor(raw_alpha))
        self.beta_raw = nn.Parameter(torch.tensor(raw_beta))

    @property
    def alpha(self) -> Tensor:
        return F.softplus(self.alpha_raw)

    @property
    def beta(self) -> Tensor:
        return -self.alpha + F.softplus(self.beta_raw) if self.constrained else self.beta_raw

    def _raw(self, alpha: float, beta: float, dtype: torch.dtype) -> tuple[float, float]:
        """The raw parameters (alpha_raw, beta_raw) that store alpha and beta, checked in ``dtype``: alpha must
        stay a normal number > 0 (1e-46 is 0.0 in float32), beta finite, and |beta| / alpha finite."""
        raw_alpha = _inverse_softplus(alpha)
        raw_beta = _inverse_softplus(beta + alpha) if self.constrained else beta
        a_t, b_raw = F.softplus(torch.tensor(raw_alpha, dtype=dtype)), torch.tensor(raw_beta, dtype=dtype)
        a, b = float(a_t), float(-a_t + F.softplus(b_raw) if self.constrained else b_raw)
        info, kind = torch.finfo(dtype), str(dtype).removeprefix("torch.")
        if not math.isfinite(a):
            raise ValueError(f"Radial: alpha = {alpha:.3g} does not fit in {kind} (largest {info.max:.3g})")
        if not a >= info.tiny:
            raise ValueError(f"Radial: alpha = {alpha:.3g} is too small for {kind}: it would be stored as {a:.3g}, "
                             f"below the smallest normal {kind} number {info.tiny:.3g}")
        if not math.isfinite(b):
            raise ValueError(f"Radial: beta = {beta:.3g} does not fit in {kind} (largest {info.max:.3g})")
        if not abs(b) / a <= info.max:
            raise ValueError(f"Radial: |beta| / alpha = {abs(b) / a:.3g} does not fit in {kind}: the Jacobian at the "
                             f"centre, (1 + beta / alpha) I, overflows")
        return raw_alpha, raw_beta

    def set_parameters(self, alpha: float | None = None, beta: float | None = None) -> None:
        """Set alpha and/or beta to given values (used by sliders); refuses beta <= -alpha when constrained,
        and values that are not finite or do not fit the parameters' dtype (see the class doc)."""
        a = float(self.alpha.detach()) if alpha is None else _finite(alpha, "alpha", "Radial")
        b = float(self.beta.detach()) if beta is None else _finite(beta, "beta", "Radial")
        if not a > 0:
            raise ValueError(f"alpha must be > 0, got {a}")
        if self.constrained and not b > -a:
            raise ValueError(f"beta must be > -alpha = {-a} while constrained, got {b}")
        raw_alpha, raw_beta = self._raw(a, b, self.alpha_raw.dtype)
        with torch.no_grad():
            self.alpha_raw.fill_(raw_alpha)
            self.beta_raw.fill_(raw_beta)

    def _terms(self, r: Tensor) -> tuple[Tensor, Tensor]:
        """beta h and log|det J_f| at radius r = |z - z0| (see the class doc): with h = 1 / (alpha + r) and
        a = alpha h, log|det J| = (d - 1) log|1 + beta h| + log|1 + beta h a|. Both products stay below
        |beta| / alpha (finite); r = inf (|z - z0| beyond the dtype's range) gives beta h = 0, log_det = 0."""
        alpha, beta = self.alpha, self.beta
        h = 1 / (alpha + r)
        bh = beta * h
        log_det = (self.dim - 1) * torch.log(torch.abs(1 + bh)) + torch.log(torch.abs(1 + bh * (alpha * h)))
        return bh, log_det

    def forward(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """x = z + beta (z - z0) / (alpha + r); log_det from the determinant lemma (see class doc)."""
        check_input(z, self.dim, "z")
        diff = z - self.centre
        r = _norm(diff)  # not sqrt(sum diff^2): its gradient is NaN at the centre, and the squares overflow
        bh, log_det = self._terms(r)
        return z + bh[:, None] * diff, log_det

    def inverse(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Closed form: the positive root r of r^2 + q r - alpha r_x = 0, q = alpha + beta - r_x (class doc);
        z = z0 + (x - z0) / (1 + beta / (alpha + r)); log_det = -forward log_det at z."""
        check_input(x, self.dim, "x")
        if not self.is_invertible():
            raise NotInvertibleError(self.invertibility_message())
        alpha, beta = self.alpha, self.beta
        diff = x - self.centre
        r_x = _norm(diff)  # gradient 0 (not NaN) at the centre
        q = alpha + beta - r_x
        # s = sqrt(q^2 + 4 alpha r_x) evaluated on q, alpha, r_x scaled by an exact power of two 2^-e of the order
        # of the largest of them, so the squares cannot overflow (|x - z0| = 1e20 in float32); a constant to autograd
        big = torch.maximum(r_x.detach(), (alpha.abs() + beta.abs()).detach())
        e = torch.frexp(big)[1].clamp_min(-math.floor(math.log2(torch.finfo(big.dtype).max)))
        scale = torch.ldexp(torch.ones_like(big), -e)
        qs = q * scale
        s = torch.sqrt(qs * qs + 4 * (alpha * scale) * (r_x * scale)) / scale
        # the safe-where pattern: the branch not taken must have a finite derivative too, or 0 * inf = NaN reaches
        # every parameter's gradient (q + s rounds to 0 for q << 0); its denominator is replaced by 1 there
        positive = q > 0
        den = torch.where(positive, q + s, torch.ones_like(q))
        r = torch.where(positive, r_x * (2 * alpha / den), 0.5 * s - 0.5 * q)
        bh, log_det = self._terms(r)
        return self.centre + diff / (1 + bh)[:, None], -log_det

    @torch.no_grad()
    def _problem(self) -> str:
        """Why the current parameters do not make an invertible map ("" when they do)."""
        params = dict(self.named_parameters())
        if not bool(torch.stack([torch.isfinite(p).all() for p in params.values()]).all()):  # one device sync
            bad = [name for name, p in params.items() if not bool(torch.isfinite(p).all())]
            return f"non-finite parameters (NaN or inf): {', '.join(bad)}"
        alpha, beta = float(self.alpha), float(self.beta)
        if not alpha > 0:
            kind = str(self.alpha_raw.dtype).removeprefix("torch.")
            return (f"alpha = softplus({float(self.alpha_raw):.3g}) underflows to 0 in {kind}: the radial map "
                    "tears the space apart at its centre")
        if not beta >= -alpha:
            return f"beta = {beta:.3g} < -alpha = {-alpha:.3g}: the radial map folds"
        return ""

    def is_invertible(self) -> bool:
        """Finite parameters, alpha > 0 (as stored) and beta >= -alpha."""
        return self._problem() == ""

    def invertibility_message(self) -> str:
        return self._problem()

    @torch.no_grad()
    def describe(self) -> str:
        c = ", ".join(f"{v:.3g}" for v in self.centre.tolist())
        return f"Radial: centre ({c}), alpha = {float(self.alpha):.3g}, beta = {float(self.beta):.3g}"
