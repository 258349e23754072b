"""Elementwise maps x_i = f(z_i): the 1D change of variables, one coordinate at a time.

Their Jacobians are diagonal, so log|det J| = sum_i log|f'(z_i)|. Forward is base -> data (z -> x).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .base import Bijection, check_input

__all__ = ["Affine", "Sigmoid", "Logit", "SinhArcsinh"]


def _vector(value: float | Sequence[float] | Tensor | None, dim: int, default: float, name: str) -> Tensor:
    if value is None:
        return torch.full((dim,), float(default))
    t = torch.as_tensor(value, dtype=torch.get_default_dtype()).detach().clone()
    if t.dim() == 0:
        t = t.expand(dim).clone()
    if t.shape != (dim,):
        raise ValueError(f"{name} must be a number or have shape ({dim},), got shape {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise ValueError(f"{name} must be finite, got {t.tolist()}")
    return t


class Affine(Bijection):
    """Elementwise affine map, x = s * z + t (forward, base -> data).

    log|det J| = sum_i log|s_i|. A negative s_i is legal (a decreasing map in that coordinate);
    s_i = 0 is refused (not invertible). Inverse: z = (x - t) / s.

    Example: the lecture's X = 2Z + 1 is ``Affine(1, scale=2.0, shift=1.0)``.
    """

    def __init__(self, dim: int, scale: float | Sequence[float] | Tensor | None = None,
                 shift: float | Sequence[float] | Tensor | None = None, learnable: bool = True) -> None:
        super().__init__()
        self.dim = dim
        s = _vector(scale, dim, 1.0, "scale")
        if (s == 0).any():
            raise ValueError(f"Affine scale must be non-zero (s = 0 is not invertible), got {s.tolist()}")
        self.scale = nn.Parameter(s, requires_grad=learnable)
        self.shift = nn.Parameter(_vector(shift, dim, 0.0, "shift"), requires_grad=learnable)

    def forward(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """x = s * z + t; log_det = sum log|s|."""
        check_input(z, self.dim, "z")
        log_det = torch.log(self.scale.abs()).sum().expand(z.shape[0])
        return z * self.scale + self.shift, log_det

    def inverse(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """z = (x - t) / s; log_det = -sum log|s|."""
        check_input(x, self.dim, "x")
        log_det = -torch.log(self.scale.abs()).sum().expand(x.shape[0])
        return (x - self.shift) / self.scale, log_det

    def is_invertible(self) -> bool:
        return bool((self.scale != 0).all())

    def invertibility_message(self) -> str:
        return "" if self.is_invertible() else "a scale s_i = 0 collapses the space (det J = 0)"

    def describe(self) -> str:
        s = ", ".join(f"{v:.3g}" for v in self.scale.tolist())
        t = ", ".join(f"{v:.3g}" for v in self.shift.tolist())
        return f"Affine: x = s*z + t, s = ({s}), t = ({t})"


class Sigmoid(Bijection):
    """Logistic squashing, x = 1 / (1 + exp(-z)), maps R onto (0, 1) (forward, base -> data).

    log|det J| = sum_i log sigma(z_i)(1 - sigma(z_i)) = -sum_i [softplus(-z_i) + softplus(z_i)].
    Inverse: z = logit(x) = log x - log(1 - x), defined for x in (0, 1).
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    @staticmethod
    def _log_det(z: Tensor) -> Tensor:
        return -(F.softplus(-z) + F.softplus(z)).sum(-1)

    def forward(self, z: Tensor) -> tuple[Tensor, Tensor]:
        check_input(z, self.dim, "z")
        return torch.sigmoid(z), self._log_det(z)

    def inverse(self, x: Tensor) -> tuple[Tensor, Tensor]:
        check_input(x, self.dim, "x")
        z = torch.log(x) - torch.log1p(-x)
        return z, -self._log_det(z)

    def describe(self) -> str:
        return "Sigmoid: x = 1 / (1 + exp(-z))"


class Logit(Bijection):
    """The inverse of Sigmoid as a layer: x = log z - log(1 - z), maps (0, 1) onto R.

    log|det J| = -sum_i log z_i(1 - z_i). Inverse: z = sigmoid(x).
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, z: Tensor) -> tuple[Tensor, Tensor]:
        check_input(z, self.dim, "z")
        x = torch.log(z) - torch.log1p(-z)
        return x, -Sigmoid._log_det(x)

    def inverse(self, x: Tensor) -> tuple[Tensor, Tensor]:
        check_input(x, self.dim, "x")
        return torch.sigmoid(x), Sigmoid._log_det(x)

    def describe(self) -> str:
        return "Logit: x = log(z / (1 - z))"


def _log_cosh(u: Tensor) -> Tensor:
    """log cosh(u) without overflow: log(cosh(u)) for |u| < 1, else |u| + log1p(exp(-2|u|)) - log 2 (cosh
    overflows float32 past |u| = 89); each branch sees only its own range, so gradients stay finite."""
    a = u.abs()
    small = torch.log(torch.cosh(a.clamp_max(1.0)))
    large = a.clamp_min(1.0)
    return torch.where(a < 1, small, large + torch.log1p(torch.exp(-2 * large)) - math.log(2))


def _log_hypot1(z: Tensor) -> Tensor:
    """log sqrt(1 + z^2) = log hypot(1, z), without overflow (z * z overflows float32 past |z| = 1.8e19)."""
    return torch.log(torch.hypot(torch.ones_like(z), z))


class SinhArcsinh(Bijection):
    """A smooth monotone map with skew and tail weight (Jones & Pewsey 2009), forward base -> data:

        x = sinh((asinh(z) + skew) / tailweight),     tailweight > 0,

    dx/dz = cosh((asinh z + skew) / tailweight) / (tailweight * sqrt(1 + z^2)),
    log|det J| = sum_i [log cosh(u_i) - log tailweight_i - log hypot(1, z_i)], u = (asinh z + skew) / tailweight,
    each term evaluated without overflow at huge |z| (see ``_log_cosh``).
    Inverse: z = sinh(tailweight * asinh(x) - skew). skew = 0, tailweight = 1 is the identity;
    tailweight < 1 gives heavier tails, skew != 0 an asymmetric density.
    """

    def __init__(self, dim: int, skew: float | Sequence[float] | Tensor | None = None,
                 tailweight: float | Sequence[float] | Tensor | None = None, learnable: bool = True) -> None:
        super().__init__()
        self.dim = dim
        tail = _vector(tailweight, dim, 1.0, "tailweight")
        if (tail <= 0).any():
            raise ValueError(f"tailweight must be > 0, got {tail.tolist()}")
        self.skew = nn.Parameter(_vector(skew, dim, 0.0, "skew"), requires_grad=learnable)
        self.log_tailweight = nn.Parameter(torch.log(tail), requires_grad=learnable)

    def forward(self, z: Tensor) -> tuple[Tensor, Tensor]:
        check_input(z, self.dim, "z")
        tail = self.log_tailweight.exp()
        u = (torch.asinh(z) + self.skew) / tail
        log_det = _log_cosh(u) - self.log_tailweight - _log_hypot1(z)
        return torch.sinh(u), log_det.sum(-1)

    def inverse(self, x: Tensor) -> tuple[Tensor, Tensor]:
        check_input(x, self.dim, "x")
        tail = self.log_tailweight.exp()
        u = torch.asinh(x)
        v = tail * u - self.skew
        z = torch.sinh(v)
        log_det = _log_cosh(v) + self.log_tailweight - _log_hypot1(x)
        return z, log_det.sum(-1)

    def describe(self) -> str:
        return (f"SinhArcsinh: skew = {self.skew.mean().item():.3g}, "
                f"tailweight = {self.log_tailweight.exp().mean().item():.3g}")


