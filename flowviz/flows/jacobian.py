"""Exact per-sample Jacobian matrices by automatic differentiation (torch.func).

``jacobian(f, x)[n] = d f(x_n) / d x_n``, shape (N, d_out, d_in). Used by the tests as the
independent check of every layer's log|det J|, and by the widgets' readouts.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch
from torch import Tensor

from .base import Bijection

__all__ = ["jacobian", "log_abs_det_jacobian"]


def _as_function(f: Bijection | Callable[[Tensor], Tensor | tuple[Tensor, Tensor]],
                 direction: str) -> Callable[[Tensor], Tensor]:
    if isinstance(f, Bijection):
        if direction not in ("forward", "inverse"):
            raise ValueError(f"direction must be 'forward' or 'inverse', got {direction!r}")
        fn: Callable[[Tensor], Tensor | tuple[Tensor, Tensor]] = f.forward if direction == "forward" else f.inverse
    else:
        fn = f

    def single(v: Tensor) -> Tensor:
        out = fn(v[None])
        if isinstance(out, tuple):
            out = out[0]
        return out[0]

    return single


def jacobian(f: Bijection | Callable[[Tensor], Tensor | tuple[Tensor, Tensor]], x: Tensor,
             direction: str = "forward", chunk_size: int = 4096) -> Tensor:
    """The Jacobian of ``f`` at every row of ``x``: (N, d_out, d_in).

    ``f`` is a Bijection (its ``forward``, or ``inverse`` with ``direction="inverse"``) or any
    function of an (N, d) tensor returning a tensor or an (output, log_det) pair. An empty batch (N = 0)
    gives an empty (0, d_out, d_in) tensor.
    """
    single = _as_function(f, direction)
    if x.shape[0] == 0:  # vmap over no rows fails for some layers (the spline's reshapes): nothing to differentiate
        if isinstance(f, Bijection):
            d_out = x.shape[-1]
        else:
            out = f(x)
            d_out = (out[0] if isinstance(out, tuple) else out).shape[-1]
        return x.new_zeros((0, d_out, x.shape[-1]))
    jac = torch.func.vmap(torch.func.jacrev(single))
    with warnings.catch_warnings():
        # under vmap the spline's bin search sees batched (non-contiguous) knots: a copy, not an error
        warnings.filterwarnings("ignore", message=r"torch\.searchsorted\(\): boundary tensor is non-contiguous")
        if x.shape[0] <= chunk_size:
            return jac(x)
        return torch.cat([jac(x[i:i + chunk_size]) for i in range(0, x.shape[0], chunk_size)])


def log_abs_det_jacobian(f: Bijection | Callable[[Tensor], Tensor | tuple[Tensor, Tensor]], x: Tensor,
                         direction: str = "forward") -> Tensor:
    """log|det J| by autograd and slogdet, (N,): the independent reference for layers' log_det."""
    return torch.linalg.slogdet(jacobian(f, x, direction))[1]
