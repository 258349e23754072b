"""A user's own points as a dataset: resampling with replacement from an ``(N, d)`` array (``d = 2`` unless said)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from .base import Dataset

__all__ = ["Samples", "as_points"]


def _describe(obj: Any) -> str:
    """What was received, for error messages: the type, and the shape and dtype of an array."""
    if isinstance(obj, (Tensor, np.ndarray)):
        return (
            f"{type(obj).__module__}.{type(obj).__name__} of shape {tuple(obj.shape)} and dtype {obj.dtype}"
        )
    return f"{type(obj).__name__} {obj!r:.80}"


def as_points(array: Any, dim: int | None = 2, what: str = "points") -> Tensor:
    """Check and convert a user's ``(N, dim)`` numpy array or torch tensor to a real-valued tensor (a copy).

    ``dim``: the number of columns required; ``None`` takes any ``d >= 1``. ``what`` names the array in errors
    (e.g. ``"test_data"``). Integer input becomes the default float dtype.

    Raises:
        ValueError: not an array or tensor, not real, not of shape ``(N, dim)`` with ``N >= 1``, or holding NaN or
            inf; the message says what was received (for a wrong column count, both numbers).
    """
    cols = "d" if dim is None else str(dim)
    if isinstance(array, np.ndarray):
        if array.dtype.kind not in "fiu":
            raise ValueError(f"{what} must be a real numeric (N, {cols}) array, got {_describe(array)}")
        if array.dtype.kind in "iu":  # integers become the default float dtype (below)
            array_ = array.astype(np.float64)
        else:  # a native-byte-order copy
            array_ = array.astype(array.dtype.newbyteorder("="))
        data = torch.from_numpy(np.ascontiguousarray(array_))
        if array.dtype.kind in "iu":
            data = data.to(torch.get_default_dtype())
    elif isinstance(array, Tensor):
        if array.is_complex() or array.dtype == torch.bool:
            raise ValueError(f"{what} must be a real numeric (N, {cols}) tensor, got {_describe(array)}")
        data = array.detach().clone()
    else:
        raise ValueError(
            f"expected an (N, {cols}) numpy array or torch tensor of {what}; got {_describe(array)}"
            + (" (np.asarray(...) makes one of a list)" if isinstance(array, (list, tuple)) else "")
        )
    if data.ndim != 2 or data.shape[1] == 0:
        raise ValueError(f"{what} must have shape (N, {cols}) (N points in {cols}D), got {_describe(array)}")
    if dim is not None and data.shape[1] != dim:
        raise ValueError(
            f"{what} must have shape (N, {dim}) (N points in {dim}D): it has {data.shape[1]} columns, "
            f"not {dim}; got {_describe(array)}"
        )
    if data.shape[0] == 0:
        raise ValueError(f"{what} must hold at least one row, got {_describe(array)}")
    if not data.is_floating_point():
        data = data.to(torch.get_default_dtype())
    bad = ~torch.isfinite(data).all(-1)
    if bool(bad.any()):
        rows = torch.nonzero(bad).flatten()[:5].tolist()
        raise ValueError(
            f"{what} must be finite: {int(bad.sum())} of {data.shape[0]} rows hold NaN or inf "
            f"(first rows: {rows}), in {_describe(array)}"
        )
    return data


class Samples(Dataset):
    """The empirical distribution of a user's points ``x_1..x_N``: ``x = x_I``, ``I ~ U{1..N}``.

    ``sample(n, generator)`` resamples rows with replacement (a bootstrap draw); ``data`` holds the
    points as a tensor (a copy, on the device and in the floating dtype given; integer input becomes
    the default float dtype). The empirical distribution has no density, so ``log_prob`` raises
    ``NotImplementedError`` and ``entropy`` is ``None``.

    ``dim``: the number of columns required (2, the toy densities' dimension, unless said; ``None`` takes
    the array's own); :attr:`dim` is then the array's. :attr:`bounds` pads each column's range by 5%:
    ``(xmin, xmax, ymin, ymax)`` in 2D, ``(lo_1, hi_1, ..., lo_d, hi_d)`` in general (it holds every point).
    """

    name = "samples"

    def __init__(self, array: np.ndarray | Tensor, name: str = "samples", *, dim: int | None = 2) -> None:
        self.data: Tensor = as_points(array, dim)
        self.name = str(name)  # type: ignore[misc]  # instance name overrides the class default
        self.dim = self.data.shape[1]
        lo = self.data.amin(0).double()
        hi = self.data.amax(0).double()
        pad = 0.05 * torch.clamp(hi - lo, min=1e-6)
        self.bounds = tuple(v for pair in zip((lo - pad).tolist(), (hi + pad).tolist(), strict=True) for v in pair)

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
        shape = f"{self.data.shape[0]} points" + (f" in {self.dim}D" if self.dim != 2 else "")
        return f"Samples(<{shape}>, name={self.name!r})"
