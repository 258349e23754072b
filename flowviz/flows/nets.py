"""Conditioner networks: a plain MLP (for couplings) and MADE (for autoregressive layers).

MADE: Germain et al., "MADE: Masked Autoencoder for Distribution Estimation", 2015.
Output j of a MADE depends only on inputs with degree < degree(j), so output block i
(the parameters for coordinate i) sees only coordinates 0..i-1.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from . import workspace

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

    def forward(self, x: Tensor) -> Tensor:  # type: ignore[override]
        """The layers in order; without autograd on a CPU the hidden activations go to reused scratch memory
        (:mod:`flowviz.flows.workspace`: no page faults for fresh (rows x hidden) arrays, same numbers)."""
        if workspace.applies(x, self):
            return workspace.run(self, x)
        return super().forward(x)


class MaskedLinear(nn.Linear):
    """y = x (W * M)^T + b with a fixed binary mask M (a buffer)."""

    mask: Tensor

    def __init__(self, n_in: int, n_out: int, mask: Tensor) -> None:
        super().__init__(n_in, n_out)
        self.register_buffer("mask", mask.to(self.weight.dtype))

    def forward(self, x: Tensor) -> Tensor:
        return nn.functional.linear(x, self.weight * self.mask, self.bias)


def _index(keep: Tensor, device: torch.device) -> slice | Tensor:
    """A boolean keep-mask as a slice when the kept entries are one contiguous run, else as indices."""
    idx = torch.nonzero(keep).flatten()
    if idx.numel() and int(idx[-1] - idx[0]) + 1 == idx.numel():
        return slice(int(idx[0]), int(idx[-1]) + 1)
    return idx.to(device)


def _take(t: Tensor, where: slice | Tensor, dim: int) -> Tensor:
    """t restricted to ``where`` along dim (a view for a slice)."""
    if isinstance(where, slice):
        return t if where == slice(None) else t[(slice(None),) * dim + (where,)]
    return t.index_select(dim, where)


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
        """(N, dim) -> (N, dim, params); hidden activations in scratch memory as for :class:`MLP`."""
        out = workspace.run(self.net, x) if workspace.applies(x, self) else self.net(x)
        return out.reshape(x.shape[0], self.dim, self.params)

    def transient(self, x: Tensor) -> Tensor:
        """``self(x)``, except that without autograd on a CPU the result may lie in scratch memory that the
        next network evaluated in this thread overwrites: for a caller that uses it up first (the layer's own
        elementwise map). Saves page-faulting a fresh (N, dim x params) array per call."""
        if workspace.applies(x, self):
            return workspace.run(self.net, x, transient=True).reshape(x.shape[0], self.dim, self.params)
        return self(x)

    def block(self, x: Tensor, i: int) -> Tensor:
        """(N, params): ``self(x)[:, i]``, the parameters for coordinate i, through only the units they depend on.

        Output block i sees inputs 0..i-1 and, layer by layer, the hidden units the masks connect to it
        (degree <= i); the masks give every other unit weight exactly 0, so leaving them out changes nothing
        but the work: about half the network summed over the sequential passes of a sampling-direction MAF
        in higher dimensions. In 2D, where block 2 needs every hidden unit and half the output layer, the whole
        network runs: leaving out only those output rows measured no faster (benchmarks/probe_speedups.py).
        Columns >= i of x are multiplied by exact zeros, so they must be finite (the sequential forward
        passes zeros there); their values do not matter.
        """
        if self.dim <= 2:  # every hidden unit feeds the last block: all of the network but half the output layer
            return self(x)[:, i]
        h = x
        for module, plan in zip(self.net, self._block_plan(i), strict=True):
            if plan is None:  # an activation, or a layer the block needs whole
                h = module(h)
            else:
                assert isinstance(module, MaskedLinear)
                rows, cols = plan
                w = _take(_take(module.weight, rows, 0), cols, 1) * _take(_take(module.mask, rows, 0), cols, 1)
                h = nn.functional.linear(h, w, _take(module.bias, rows, 0))
        return h

    def _block_plan(self, i: int) -> list[tuple[slice | Tensor, slice | Tensor] | None]:
        """Per module of ``self.net``: (rows, cols) of its weight that output block i needs, as slices where
        they are contiguous (views, no copy), or None where the module runs as it is (an activation, or a
        layer needed whole); cached per block and device (the masks are fixed)."""
        last = self.net[-1]
        assert isinstance(last, MaskedLinear)
        device = last.mask.device
        key = (i, device)
        cache: dict[tuple[int, torch.device], list[tuple[slice | Tensor, slice | Tensor] | None]]
        cache = self.__dict__.setdefault("_plans", {})
        if key not in cache:
            linears = [m for m in self.net if isinstance(m, MaskedLinear)]
            need = torch.zeros(self.dim * self.params, dtype=torch.bool)
            need[i * self.params:(i + 1) * self.params] = True
            wanted: list[tuple[Tensor, Tensor]] = []
            for lin in reversed(linears):  # from the output back to the inputs
                cols = lin.mask.detach().cpu()[need].any(0)
                wanted.append((need, cols))
                need = cols
            need_in = torch.arange(self.dim) < i
            if bool((need & ~need_in).any()):
                raise AssertionError(f"MADE masks connect block {i} to an input of degree > {i}")
            wanted.reverse()
            # the first layer reads every column of x: the mask zeroes those >= i for these rows, and a
            # GEMM over all d inputs is faster than over a strided slice of i of them (K = 1 in 2D)
            wanted[0] = (wanted[0][0], torch.ones(self.dim, dtype=torch.bool))
            whole = slice(None)
            plan = iter([None if bool(r.all()) and bool(c.all())
                         else (whole if bool(r.all()) else _index(r, device), _index(c, device))
                         for r, c in wanted])
            cache[key] = [next(plan) if isinstance(m, MaskedLinear) else None for m in self.net]
        return cache[key]

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
