"""Conditioner networks: a plain MLP (for couplings) and MADE (for autoregressive layers).

MADE: Germain et al., "MADE: Masked Autoencoder for Distribution Estimation", 2015.
Output j of a MADE depends only on inputs with degree < degree(j), so output block i
(the parameters for coordinate i) sees only coordinates 0..i-1.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["MLP", "MADE"]


def _activation(activation: type[nn.Module]) -> nn.Module:
    """The activation, in place where it can be (ReLU & co.): it overwrites the preceding Linear's fresh
    output instead of allocating another (N, hidden) array (1-3% of a conditioner at 10k rows on CPU,
    benchmarks/probe_speedups.py); safe under autograd (a Linear's backward needs its input, not its output)."""
    try:
        return activation(inplace=True)  # type: ignore[call-arg]
    except TypeError:
        return activation()


class MLP(nn.Sequential):
    """in -> [Linear, activation] x depth -> Linear -> out; the last layer starts at zero,
    so a freshly built coupling layer is the identity map."""

    def __init__(self, n_in: int, n_out: int, hidden: int = 64, depth: int = 2,
                 activation: type[nn.Module] = nn.ReLU) -> None:
        layers: list[nn.Module] = []
        width = n_in
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), _activation(activation)]
            width = hidden
        last = nn.Linear(width, n_out)
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        layers.append(last)
        super().__init__(*layers)


class MaskedLinear(nn.Linear):
    """y = x (W * M)^T + b with a fixed binary mask M (a buffer)."""

    mask: Tensor

    def __init__(self, n_in: int, n_out: int, mask: Tensor) -> None:
        super().__init__(n_in, n_out)
        self.register_buffer("mask", mask.to(self.weight.dtype))

    def forward(self, x: Tensor) -> Tensor:
        return nn.functional.linear(x, self.weight * self.mask, self.bias)


class MADE(nn.Module):
    """Autoregressive network R^dim -> R^(dim x params): out[:, i, :] depends on x[:, :i] only.

    Degrees: inputs 1..dim; hidden units cyclically 1..dim-1 (0 when dim = 1: no inputs reach
    them); an output for coordinate i (degree i + 1) connects to hidden units of degree <= i.
    """

    def __init__(self, dim: int, params: int, hidden: int = 64, depth: int = 2,
                 activation: type[nn.Module] = nn.ReLU) -> None:
        super().__init__()
        self.dim, self.params = dim, params
        in_deg = torch.arange(1, dim + 1)
        layers: list[nn.Module] = []
        prev = in_deg
        for _ in range(depth):
            deg = (torch.arange(hidden) % max(dim - 1, 1)) + 1 if dim > 1 else torch.zeros(hidden, dtype=torch.long)
            layers += [MaskedLinear(len(prev), hidden, (deg[:, None] >= prev[None, :])), _activation(activation)]
            prev = deg
        out_deg = in_deg.repeat_interleave(params)
        last = MaskedLinear(len(prev), dim * params, (out_deg[:, None] > prev[None, :]))
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        layers.append(last)
        self.net = nn.Sequential(*layers)
        # block 1 of the output sees no hidden unit (checked once here: no device sync per call)
        self._first_is_bias = dim > 1 and not bool(last.mask[:params].any())

    def forward(self, x: Tensor) -> Tensor:
        """(N, dim) -> (N, dim, params)."""
        return self.net(x).reshape(x.shape[0], self.dim, self.params)

    def first_params(self) -> Tensor:
        """(1, dim, params) whose block for coordinate 1 is the network's output, which depends on no input.

        With dim > 1 every hidden unit has degree >= 1, so the mask cuts block 1 off from all of them and it
        is exactly the last layer's bias there; the other blocks (which depend on x) are then just the bias
        and must not be used. dim = 1 runs the network at x = 0: its hidden units have degree 0 and feed
        the output.
        """
        last = self.net[-1]
        if getattr(self, "_first_is_bias", False) and isinstance(last, MaskedLinear):  # False: a pickled older MADE
            return last.bias.reshape(1, self.dim, self.params)
        ref = next(self.parameters())
        return self(torch.zeros(1, self.dim, dtype=ref.dtype, device=ref.device))
