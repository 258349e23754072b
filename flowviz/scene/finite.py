"""JSON-safe numbers for the views' JSON traits (meta, controls, params): JSON has no NaN or inf.

The wire format (js/WIRE.md) sends a number that does not exist (a Jacobian entry of log z1 at z1 = 0, a
parameter a diverged training left NaN, a determinant that overflowed) as ``null``; the browser shows it as
"non-finite" (``formatNumber``). Arrays are not for here: they cross as float32 with a ``finite`` flag.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["finite_or_none", "json_safe"]


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
