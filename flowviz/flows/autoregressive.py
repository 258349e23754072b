"""Masked autoregressive flow (MAF; Papamakarios et al. 2017) with a MADE conditioner.

Forward (base -> data, sampling) is sequential: x_i = T(z_i; theta_i(x_1..x_{i-1})), i = 1..dim,
so dx/dz is lower triangular and log|det J| = sum_i log|T'(z_i)|: O(dim), not O(dim^3).
Inverse (data -> base, density) is one pass: z_i = T^{-1}(x_i; theta_i(x_<i)).
Which way the elementwise map tau is parametrised is ``direction``: "sampling" (the layer's default) has
T = tau (x_i = tau(z_i)); "density" (what :func:`flowviz.flows.maf` and :func:`~flowviz.flows.nsf` build, as
in the paper: the density pass is the cheap, stable one) has T = tau^{-1}, i.e. z_i = tau(x_i; theta_i(x_<i)).
``Inverse(MaskedAutoregressive(d))`` is an inverse autoregressive flow (IAF, Kingma et al. 2016):
one-pass sampling, sequential density.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .base import Bijection, check_input, check_positive
from .coupling import soft_clamp
from .nets import MADE
from .splines import rational_quadratic_spline, spline_params

__all__ = ["MaskedAutoregressive"]


class MaskedAutoregressive(Bijection):
    """MAF layer: each coordinate goes through an elementwise map tau whose parameters depend on
    x_1..x_{i-1} through a MADE. ``transform="affine"``: tau(v) = v exp(s_i) + t_i with s_i soft-clamped to
    (-scale_limit, scale_limit) (expands and contracts; ``scale_limit`` finite and > 0); ``transform="spline"``:
    a rational-quadratic spline per coordinate (the autoregressive neural spline flow of Durkan et al. 2019).

    ``direction`` says which way tau is written; the other way uses its closed-form inverse (both exact,
    same cost): ``"sampling"`` (the layer's default): x_i = tau(z_i); ``"density"``: z_i = tau(x_i), i.e.
    x_i = tau^{-1}(z_i), as zuko, nflows and normflows parametrise it. The two are different families of
    maps with different training behaviour; :func:`flowviz.flows.maf` and :func:`flowviz.flows.nsf` use
    ``"density"``, which fitted better over 6-8 paired seeds (benchmarks/README.md).
    """

    triangular = True

    def __init__(self, dim: int, hidden: int = 64, depth: int = 2, transform: str = "affine",
                 bins: int = 8, bound: float = 5.0, scale_limit: float = 3.0,
                 direction: str = "sampling") -> None:
        super().__init__()
        if transform not in ("affine", "spline"):
            raise ValueError(f"transform must be 'affine' or 'spline', got {transform!r}")
        if direction not in ("sampling", "density"):
            raise ValueError(f"direction must be 'sampling' or 'density', got {direction!r}")
        scale_limit = check_positive(scale_limit, "scale_limit", type(self).__name__)  # finite: inf gives NaN
        self.dim, self.transform, self.direction = dim, transform, direction
        self.bins, self.bound, self.scale_limit = int(bins), float(bound), scale_limit
        n = 2 if transform == "affine" else spline_params(bins)
        self.made = MADE(dim, n, hidden, depth)

    def _tau(self, v: Tensor, theta: Tensor, inverse: bool) -> tuple[Tensor, Tensor]:
        """tau (or tau^{-1}) elementwise, and the summed log|derivative| of what was applied. ``inverse``
        is the layer's direction (data -> base); tau itself is applied when it matches ``direction``."""
        backwards = inverse != (self.direction == "density")  # apply tau^{-1}
        if self.transform == "affine":
            shift, s = theta[..., 0], soft_clamp(theta[..., 1], self.scale_limit)
            if backwards:
                return (v - shift) * torch.exp(-s), -s.sum(-1)
            return v * torch.exp(s) + shift, s.sum(-1)
        out, logd = rational_quadratic_spline(v, theta, self.bound, inverse=backwards)
        return out, logd.sum(-1)

    def forward(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """Sequential: pass i fixes coordinate i from the MADE's parameters at x_<i (already final).

        Pass 0 needs no input (coordinate 1 depends on nothing): its parameters are read off the MADE
        (``MADE.first_params``) and shared by every row; pass i >= 1 evaluates only the MADE's output block i
        (``MADE.block``: the units it depends on) and transforms just its own coordinate.
        x_i = T(z_i), log_det = sum_i log|T'(z_i)| (T = tau, or tau^{-1} for ``direction="density"``).
        """
        check_input(z, self.dim, "z")
        n = z.shape[0]
        x = torch.zeros_like(z)
        log_det = z.new_zeros(n)
        # without autograd the columns are written into x in place (a few % at 10k rows, benchmarks/probe_speedups.py);
        # with it, out of place: the MADE keeps its input x for the backward pass
        in_place = not torch.is_grad_enabled()
        for i in range(self.dim):
            # pass 0: one row, shared by every point (broadcast, not copied n times); pass i: block i alone
            theta = self.made.first_params()[:, :1] if i == 0 else self.made.block(x, i)[:, None]
            xi, ld = self._tau(z[:, i:i + 1], theta, inverse=False)
            if in_place:
                x[:, i:i + 1] = xi
            else:
                x = x.index_copy(1, torch.tensor([i], device=z.device), xi.expand(n, 1))
            log_det = log_det + ld.expand(n)
        return x, log_det

    def inverse(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """One pass: z_i = T^{-1}(x_i; theta_i(x_<i)) (tau^{-1}, or tau itself for ``direction="density"``);
        log_det = -sum_i log|T'(z_i)|."""
        check_input(x, self.dim, "x")
        return self._tau(x, self.made.transient(x), inverse=True)  # tau's outputs are fresh tensors

    def describe(self) -> str:
        if self.direction == "density":
            return f"MaskedAutoregressive ({self.transform}): z_i = tau(x_i; x_1..x_(i-1))"
        return f"MaskedAutoregressive ({self.transform}): x_i = tau(z_i; x_1..x_(i-1))"
