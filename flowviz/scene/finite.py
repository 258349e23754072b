"""Non-finite numbers on the wire (js/WIRE.md), for every view's scene.

JSON traits (meta, controls, params) have no NaN or inf: a number that does not exist (a Jacobian entry of log z1
at z1 = 0, a parameter a diverged training left NaN, a determinant that overflowed) travels as ``null``, which the
browser shows as "non-finite" (``formatNumber``). Arrays cross as float32 with a ``finite`` flag: what counts as
finite is what is finite as float32 (a float64 beyond +-3.4e38 is not), and such entries are sent as 0.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

__all__ = ["finite32", "finite_or_none", "json_safe", "wire_float32"]

#: dtypes whose every finite value is finite as float32 (a float64 above 3.4e38 is not)
FLOAT32_RANGE = (torch.float32, torch.float16, torch.bfloat16, torch.bool, torch.uint8)


def finite32(t: torch.Tensor) -> torch.Tensor:
    """Where ``t`` is finite as the wire's float32 (for float32 itself: no copy)."""
    return torch.isfinite(t if t.dtype in FLOAT32_RANGE else t.to(torch.float32))


def wire_float32(t: torch.Tensor | np.ndarray, clean: bool = False) -> np.ndarray:
    """``t`` as the wire's float32: a C-order numpy copy (never a view: ``t`` may be a cache's), cast first and then
    every entry that is not finite zeroed, so that a finite float64 beyond float32's range is zeroed, not sent as
    inf. ``clean``: known finite as float32 (a float32 tensor checked finite, or boolean flags), nothing to zero."""
    src = torch.as_tensor(t).detach()
    out = src.to(device="cpu", dtype=torch.float32, memory_format=torch.contiguous_format, copy=True)
    if not clean or src.dtype not in FLOAT32_RANGE:
        out = torch.nan_to_num_(out, nan=0.0, posinf=0.0, neginf=0.0)
    return out.numpy()


def finite_or_none(value: float) -> float | None:
    """``float(value)``, or None where it is NaN or +-inf."""
    number = float(value)
    return number if math.isfinite(number) else None


def json_safe(obj: Any) -> Any:
    """``obj`` with every non-finite float inside dicts, lists and tuples (tuples become lists) replaced by None,
    so that ``json.dumps(obj, allow_nan=False)`` holds; anything else is returned as it is."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj
