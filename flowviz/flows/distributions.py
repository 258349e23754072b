"""Base densities pi(z) of a flow: a standard normal (the default) and a uniform box.

Both are ``nn.Module``s holding their parameters as buffers, so they follow the flow's device.
``log_prob`` sums over dimensions and returns shape (N,).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from .base import Configurable, check_count

__all__ = ["Distribution", "StandardNormal", "Uniform", "sample_count"]


def sample_count(n: Any) -> int:
    """The number of samples asked for: an int >= 0, or a one-entry shape such as ``(n,)`` or
    ``torch.Size([n])`` (the torch.distributions / zuko spelling); anything else is a clear error."""
    if isinstance(n, (tuple, list)):  # torch.Size is a tuple
        if len(n) != 1:
            raise ValueError(f"sample takes a number of samples n (or a shape (n,)), got shape {tuple(n)}")
        n = n[0]
    if isinstance(n, Tensor) and n.numel() == 1 and not n.is_floating_point() and n.dtype != torch.bool:
        n = int(n)
    return check_count(n, "number of samples n", 0, "sample")


def _randn_like_device(shape: tuple[int, ...], device: torch.device, dtype: torch.dtype,
                       generator: torch.Generator | None, uniform: bool = False) -> Tensor:
    gen_device = generator.device if generator is not None else device
    draw = torch.rand if uniform else torch.randn
    out = draw(shape, generator=generator, device=gen_device, dtype=dtype)
    return out.to(device)


class Distribution(Configurable):
    """A base density on R^dim with ``log_prob(z) -> (N,)`` and ``sample(n) -> (n, dim)``."""

    dim: int

    def log_prob(self, z: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:  # pragma: no cover
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def _like(self) -> Tensor:
        return next(iter(self.buffers()))

    @property
    def device(self) -> torch.device:
        return self._like().device


class StandardNormal(Distribution):
    """pi(z) = N(z; 0, I):  log pi(z) = -|z|^2 / 2 - (dim / 2) log(2 pi)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        if dim < 1:
            raise ValueError(f"dim must be >= 1, got {dim}")
        self.dim = dim
        self.register_buffer("_anchor", torch.zeros(()))

    def log_prob(self, z: Tensor) -> Tensor:
        """log N(z; 0, I), summed over dimensions: shape (N,)."""
        return -0.5 * (z * z).sum(-1) - 0.5 * self.dim * math.log(2 * math.pi)

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """n draws z ~ N(0, I), on the distribution's device and dtype."""
        a = self._like()
        return _randn_like_device((sample_count(n), self.dim), a.device, a.dtype, generator)

    def describe(self) -> str:
        return "N(0, I)"


class Uniform(Distribution):
    """pi(z) = prod_i 1/(high_i - low_i) on the box [low, high]^dim, 0 (log: -inf) outside.

    ``low`` < ``high`` must be finite numbers (an unbounded box has no uniform density).

    The lecture's first example is Z ~ U[0, 1] pushed through X = 2Z + 1.
    """

    low: Tensor
    high: Tensor

    def __init__(self, dim: int, low: float = 0.0, high: float = 1.0) -> None:
        super().__init__()
        for name, value in (("low", low), ("high", high)):
            if not math.isfinite(float(value)):
                raise ValueError(f"Uniform: {name} must be a finite number, got {float(value)} (a uniform density "
                                 "needs a bounded box)")
        if not high > low:
            raise ValueError(f"Uniform needs high > low, got low={low}, high={high}")
        self.dim = dim
        self.register_buffer("low", torch.full((dim,), float(low)))
        self.register_buffer("high", torch.full((dim,), float(high)))
        width = float((self.high - self.low)[0])
        if not (math.isfinite(width) and width > 0):
            kind = str(self.low.dtype).removeprefix("torch.")
            raise ValueError(f"Uniform: the box [{float(low)}, {float(high)}] has width {width} in {kind}; "
                             "it must be finite and > 0")

    def log_prob(self, z: Tensor) -> Tensor:
        """-sum_i log(high_i - low_i) inside the box, -inf outside; shape (N,)."""
        inside = ((z >= self.low) & (z <= self.high)).all(-1)
        value = -torch.log(self.high - self.low).sum()
        return torch.where(inside, value.expand(z.shape[0]).to(z.dtype), torch.full_like(z[:, 0], -math.inf))

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        u = _randn_like_device((sample_count(n), self.dim), self.low.device, self.low.dtype, generator, uniform=True)
        return self.low + (self.high - self.low) * u

    def describe(self) -> str:
        lo, hi = float(self.low[0]), float(self.high[0])
        return f"U[{lo:g}, {hi:g}]" + (f"^{self.dim}" if self.dim > 1 else "")
