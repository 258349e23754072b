"""A user's own points as a dataset: resampling with replacement from an ``(N, 2)`` array."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from .base import Dataset

__all__ = ["Samples"]


def _describe(obj: Any) -> str:
    """What was received, for error messages: the type, and the shape and dtype of an array."""
    if isinstance(obj, (Tensor, np.ndarray)):
        return (
            f"{type(obj).__module__}.{type(obj).__name__} of shape {tuple(obj.shape)} and dtype {obj.dtype}"
        )
    return f"{type(obj).__name__} {obj!r:.80}"


def _as_points(array: Any) -> Tensor:
    """Check and convert a user's ``(N, 2)`` numpy array or torch tensor to a real-valued tensor."""
    if isinstance(array, np.ndarray):
        if array.dtype.kind not in "fiu":
            raise ValueError(f"points must be a real numeric (N, 2) array, got {_describe(array)}")
        if array.dtype.kind in "iu":  # integers become the default float dtype (below)
            array_ = array.astype(np.float64)
        else:  # a native-byte-order copy
            array_ = array.astype(array.dtype.newbyteorder("="))
        data = torch.from_numpy(np.ascontiguousarray(array_))
        if array.dtype.kind in "iu":
            data = data.to(torch.get_default_dtype())
    elif isinstance(array, Tensor):
        if array.is_complex() or array.dtype == torch.bool:
            raise ValueError(f"points must be a real numeric (N, 2) tensor, got {_describe(array)}")
        data = array.detach().clone()
    else:
        raise ValueError(
            "expected a Dataset, a dataset name, or an (N, 2) numpy array or torch tensor of points; "
            f"got {_describe(array)}"
        )
    if data.ndim != 2 or data.shape[1] != 2:
        raise ValueError(f"points must have shape (N, 2) (N points in 2D), got {_describe(array)}")
    if data.shape[0] == 0:
        raise ValueError(f"points must hold at least one row, got {_describe(array)}")
    if not data.is_floating_point():
        data = data.to(torch.get_default_dtype())
    bad = ~torch.isfinite(data).all(-1)
    if bool(bad.any()):
        rows = torch.nonzero(bad).flatten()[:5].tolist()
        raise ValueError(
            f"points must be finite: {int(bad.sum())} of {data.shape[0]} rows hold NaN or inf "
            f"(first rows: {rows}), in {_describe(array)}"
        )
    return data


class Samples(Dataset):
    """The empirical distribution of a user's points ``x_1..x_N``: ``x = x_I``, ``I ~ U{1..N}``.

    ``sample(n, generator)`` resamples rows with replacement (a bootstrap draw); ``data`` holds the
    points as a tensor (a copy, on the device and in the floating dtype given; integer input becomes
    the default float dtype). The empirical distribution has no density, so ``log_prob`` raises
    ``NotImplementedError`` and ``entropy`` is ``None``.
    """

    name = "samples"

    def __init__(self, array: np.ndarray | Tensor, name: str = "samples") -> None:
        self.data: Tensor = _as_points(array)
        self.name = str(name)  # type: ignore[misc]  # instance name overrides the class default
        lo = self.data.amin(0).double()
        hi = self.data.amax(0).double()
        pad = 0.05 * torch.clamp(hi - lo, min=1e-6)
        (x0, y0), (x1, y1) = (lo - pad).tolist(), (hi + pad).tolist()
        self.bounds = (x0, x1, y0, y1)

    def __len__(self) -> int:
        return self.data.shape[0]

    def _sample(
        self, n: int, generator: torch.Generator | None, device: torch.device, dtype: torch.dtype
    ) -> Tensor:
        idx = torch.randint(self.data.shape[0], (n,), generator=generator, device=device)
        return self.data[idx.to(self.data.device)]

    def _no_density(self) -> NotImplementedError:
        return NotImplementedError(
            f"Samples {self.name!r} is an empirical distribution of {len(self)} points: it has no "
            "closed-form density, so log_prob is not available"
        )

    def __repr__(self) -> str:
        return f"Samples(<{self.data.shape[0]} points>, name={self.name!r})"
