"""Reused scratch memory for the conditioner networks (MLP, MADE) evaluated without autograd on a CPU.

Why: a conditioner's hidden activations are (rows x hidden) float arrays, 2.5 MB at 10k rows x 64. glibc
serves blocks that large with mmap or at the top of the heap and gives them back to the OS when they are
freed, so a fresh process page-faults a new copy of every activation on every call; that is most of the
time of a 10k-row layer in that state (benchmarks/README.md, "Why 10k is sensitive to the allocator").
Here each hidden layer writes into one of two per-thread buffers that stay mapped between calls
(``torch.addmm(..., out=)``), and only the network's output, which the caller keeps, is a fresh tensor.
The numbers are the same as the plain forward's (the same kernels on the same inputs).

The plain forward is used instead whenever this would be unsafe or pointless: autograd on (the backward
pass needs each layer's own input), a non-CPU device (the GPU allocators cache), tensors under a
``torch.func`` transform (vmap, grad, jacrev) or forward-mode AD (dual tensors), or forward hooks on the
network or its layers (a hook may keep an activation, which the next call would overwrite).
"""

from __future__ import annotations

import threading

import torch
from torch import Tensor, nn
from torch.autograd import forward_ad

__all__ = ["ENABLED", "MAX_ELEMENTS", "applies", "run", "scratch"]

#: Set to False to evaluate every conditioner the plain way (for A/B measurements: benchmarks/).
ENABLED = True
#: Largest scratch buffer (elements; 4M = 16 MB of float32) kept per slot and thread: a wider layer on more
#: rows takes the plain path, where allocation is small next to its arithmetic.
MAX_ELEMENTS = 1 << 22

_local = threading.local()


def scratch(slot: int, rows: int, cols: int, dtype: torch.dtype) -> Tensor:
    """A (rows, cols) CPU tensor in this thread's buffer ``slot`` (0, 1 or 2), contents undefined; grown as
    needed, never shrunk. The next request for the same slot in this thread returns the same memory."""
    pools: dict[tuple[int, torch.dtype], Tensor] | None = getattr(_local, "pools", None)
    if pools is None:
        pools = _local.pools = {}
    need = rows * cols
    pool = pools.get((slot, dtype))
    if pool is None or pool.numel() < need:
        with torch.inference_mode(False):  # a normal tensor even when first asked for under inference_mode
            pool = pools[(slot, dtype)] = torch.empty(need, dtype=dtype)
    return pool[:need].view(rows, cols)


def _hooked(net: nn.Module) -> bool:
    """Forward hooks anywhere on net, its Sequential (a MADE's .net) and their layers, or global ones."""
    if nn.modules.module._global_forward_hooks or nn.modules.module._global_forward_pre_hooks:
        return True
    inner = net._modules.get("net") or net
    mods = [net, inner, *(m for m in inner._modules.values() if m is not None)]
    return any(m._forward_hooks or m._forward_pre_hooks for m in mods)


def applies(x: Tensor, net: nn.Module) -> bool:
    """Whether :func:`run` may evaluate ``net`` (an MLP, or a MADE's Sequential) on x (see the module docstring
    for when it may not)."""
    return (ENABLED and not torch.is_grad_enabled() and x.device.type == "cpu" and x.dim() == 2
            and getattr(forward_ad, "_current_level", -1) < 0  # forward-mode AD has no out= kernels
            and not torch._C._functorch.is_functorch_wrapped_tensor(x) and not _hooked(net))


def _plan(seq: nn.Sequential) -> list[tuple[nn.Module, bool, bool]]:
    """(module, is a Linear, masked) per layer, cached on the Sequential (its layers do not change)."""
    plan = seq.__dict__.get("_workspace_plan")
    if plan is None or len(plan) != len(seq):
        plan = seq.__dict__["_workspace_plan"] = [
            (m, isinstance(m, nn.Linear), isinstance(m, nn.Linear) and "mask" in m._buffers) for m in seq]
    return plan


def run(seq: nn.Sequential, x: Tensor, transient: bool = False) -> Tensor:
    """``seq(x)`` for a Sequential of Linear layers (masked or not) and activations, the hidden layers'
    outputs in scratch buffers (alternating slots 0 and 1), the last layer's output a fresh tensor; with
    ``transient`` in slot 2 too, for a caller that uses it up before it runs another network in this thread
    (an autoregressive layer's parameters: benchmarks/README.md, speed-up 15)."""
    plan = _plan(seq)
    h, slot, end = x, 0, len(plan) - 1
    for j, (m, linear, masked) in enumerate(plan):
        if linear:
            params = m._parameters
            w: Tensor = params["weight"]  # type: ignore[assignment]
            b = params["bias"]
            if masked:
                w = w * m._buffers["mask"]  # type: ignore[operator]
            last = j == end
            if (last and not transient) or h.shape[0] * w.shape[0] > MAX_ELEMENTS:
                h = nn.functional.linear(h, w, b)
            else:
                out = scratch(2 if last else slot, h.shape[0], w.shape[0], h.dtype)
                slot ^= 1
                if b is None:
                    torch.mm(h, w.t(), out=out)
                else:
                    torch.addmm(b, h, w.t(), out=out)
                h = out
        else:
            h = m(h)  # activations (in place where they can be: nets._activation)
    if not plan[-1][1] and not transient:
        h = h.clone()  # never hand out scratch memory (a network ending in an activation)
    return h
