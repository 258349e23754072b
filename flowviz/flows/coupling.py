"""Coupling layers: split z into a conditioning part A and a transformed part B.

x_A = z_A,   x_B = tau(z_B; theta(z_A)),

so the Jacobian (in the order A, B) is block lower triangular with dx_B/dz_B diagonal: its
determinant is the product of the diagonal, O(dim) instead of O(dim^3). Forward is base -> data.
NICE: Dinh et al. 2014; RealNVP: Dinh et al. 2017; spline coupling: Durkan et al. 2019.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from .base import Bijection, check_input, check_positive
from .nets import MLP
from .splines import rational_quadratic_spline, spline_params

__all__ = ["Coupling", "AdditiveCoupling", "AffineCoupling", "SplineCoupling", "soft_clamp"]


def soft_clamp(s: Tensor, limit: float) -> Tensor:
    """limit * tanh(s / limit): a smooth bound on log-scales that allows both expansion and contraction.

    ``limit`` must be finite and > 0 (the layers check it when built): 0 gives 0 * tanh(s / 0) = NaN and inf
    gives inf * tanh(s / inf) = NaN, not the identity."""
    return limit * torch.tanh(s / limit)


def _refresh_kept(module: torch.nn.Module, incompatible_keys: object) -> None:
    """After load_state_dict: the kept indices follow the loaded idx_a buffer."""
    if isinstance(module, Coupling):
        module._kept = [int(i) for i in module.idx_a.tolist()]


class Coupling(Bijection):
    """Common machinery of coupling layers. ``mask[i]`` True means coordinate i is in A (kept).

    The default mask keeps the coordinates i with i % 2 == parity.
    """

    triangular = True
    idx_a: Tensor
    idx_b: Tensor
    unsplit: Tensor

    def __init__(self, dim: int, params_per_coordinate: int, mask: Sequence[bool] | None, parity: int,
                 hidden: int, depth: int) -> None:
        super().__init__()
        if dim < 2:
            raise ValueError(f"a coupling layer needs dim >= 2 (it conditions one part on another), got {dim}")
        self.dim = dim
        m = torch.tensor([i % 2 == parity % 2 for i in range(dim)] if mask is None else list(mask), dtype=torch.bool)
        if m.shape != (dim,) or m.all() or not m.any():
            raise ValueError(f"mask must have {dim} entries with both True (kept) and False (transformed) ones")
        idx_a, idx_b = torch.nonzero(m)[:, 0], torch.nonzero(~m)[:, 0]
        self.register_buffer("idx_a", idx_a)
        self._kept = [int(i) for i in idx_a.tolist()]  # passthrough() without a device read per call
        self.register_load_state_dict_post_hook(_refresh_kept)  # a loaded idx_a replaces the list too
        self.register_buffer("idx_b", idx_b)
        self.register_buffer("unsplit", torch.argsort(torch.cat([idx_a, idx_b])))
        self.n_params = params_per_coordinate
        self.conditioner = MLP(len(idx_a), len(idx_b) * params_per_coordinate, hidden, depth)

    def _theta(self, z_a: Tensor) -> Tensor:
        return self.conditioner(z_a).reshape(z_a.shape[0], len(self.idx_b), self.n_params)

    def _transform(self, v: Tensor, theta: Tensor, inverse: bool) -> tuple[Tensor, Tensor]:
        """Elementwise map of part B given parameters theta; returns (out, per-sample log_det)."""
        raise NotImplementedError

    def _couple(self, v: Tensor, inverse: bool) -> tuple[Tensor, Tensor]:
        # index_select, not v[:, idx]: the same copy, several times faster on CPU for a few columns
        a, b = torch.index_select(v, 1, self.idx_a), torch.index_select(v, 1, self.idx_b)
        out_b, log_det = self._transform(b, self._theta(a), inverse)
        return torch.index_select(torch.cat([a, out_b], -1), 1, self.unsplit), log_det

    def forward(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """x_A = z_A, x_B = tau(z_B; theta(z_A)); log_det = sum_B log|tau'|."""
        check_input(z, self.dim, "z")
        return self._couple(z, inverse=False)

    def inverse(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """z_A = x_A, z_B = tau^{-1}(x_B; theta(x_A)); log_det = -sum_B log|tau'|."""
        check_input(x, self.dim, "x")
        return self._couple(x, inverse=True)

    def passthrough(self) -> list[int]:
        """The kept half A: x_A = z_A in both directions."""
        kept = getattr(self, "_kept", None)  # None: a pickled older layer
        return list(kept) if kept is not None else [int(i) for i in self.idx_a.tolist()]

    def describe(self) -> str:
        return (f"{type(self).__name__}: keeps z{[i + 1 for i in self.idx_a.tolist()]}, "
                f"transforms z{[i + 1 for i in self.idx_b.tolist()]}")


class AdditiveCoupling(Coupling):
    """NICE: x_B = z_B + m(z_A). Volume preserving: log|det J| = 0."""

    def __init__(self, dim: int, mask: Sequence[bool] | None = None, parity: int = 0, hidden: int = 64,
                 depth: int = 2) -> None:
        super().__init__(dim, 1, mask, parity, hidden, depth)

    def _transform(self, v: Tensor, theta: Tensor, inverse: bool) -> tuple[Tensor, Tensor]:
        shift = theta[..., 0]
        return (v - shift if inverse else v + shift), v.new_zeros(v.shape[0])


class AffineCoupling(Coupling):
    """RealNVP: x_B = z_B * exp(s(z_A)) + t(z_A), log|det J| = sum_B s(z_A).

    s is soft-clamped to (-scale_limit, scale_limit) by limit * tanh(s / limit) (``scale_limit``: a finite
    number > 0), so each layer can both expand and contract (a peer library's sigmoid bound only contracts;
    see the team's ../shared/FIELD-NOTES.md, outside this repository).
    """

    def __init__(self, dim: int, mask: Sequence[bool] | None = None, parity: int = 0, hidden: int = 64,
                 depth: int = 2, scale_limit: float = 3.0) -> None:
        super().__init__(dim, 2, mask, parity, hidden, depth)
        self.scale_limit = check_positive(scale_limit, "scale_limit", type(self).__name__)

    def _transform(self, v: Tensor, theta: Tensor, inverse: bool) -> tuple[Tensor, Tensor]:
        shift, s = theta[..., 0], soft_clamp(theta[..., 1], self.scale_limit)
        if inverse:
            return (v - shift) * torch.exp(-s), -s.sum(-1)
        return v * torch.exp(s) + shift, s.sum(-1)


class SplineCoupling(Coupling):
    """Rational-quadratic spline coupling (Durkan et al. 2019): x_B = RQS(z_B; theta(z_A)),
    ``bins`` bins on [-bound, bound], identity (linear tails) outside. log|det J| = sum_B log RQS'."""

    def __init__(self, dim: int, mask: Sequence[bool] | None = None, parity: int = 0, hidden: int = 64,
                 depth: int = 2, bins: int = 8, bound: float = 5.0) -> None:
        super().__init__(dim, spline_params(bins), mask, parity, hidden, depth)
        self.bins, self.bound = int(bins), float(bound)

    def _transform(self, v: Tensor, theta: Tensor, inverse: bool) -> tuple[Tensor, Tensor]:
        out, logd = rational_quadratic_spline(v, theta, self.bound, inverse=inverse)
        return out, logd.sum(-1)


