"""The registry of toy densities by name, and the helpers that turn what a user holds into a dataset."""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np
import torch
from torch import Tensor

from .analytic import Checkerboard, Circles, Crescent, EightGaussians, Rings
from .base import Dataset
from .empirical import Samples, _describe
from .moons import Moons
from .samplers import Pinwheel, SwissRoll, TwoSpirals

__all__ = ["DATASETS", "DatasetLike", "as_dataset", "get_dataset", "train_test"]

#: Every toy density by its FFJORD name.
DATASETS: dict[str, type[Dataset]] = {
    cls.name: cls
    for cls in (
        Moons,
        EightGaussians,
        Checkerboard,
        Circles,
        Rings,
        Pinwheel,
        TwoSpirals,
        SwissRoll,
        Crescent,
    )
}

#: What may stand for a dataset: a Dataset (or its class), its name, or an (N, d) array or tensor of points.
DatasetLike: TypeAlias = "Dataset | type[Dataset] | str | np.ndarray | Tensor"


def get_dataset(name: str, **kwargs: Any) -> Dataset:
    """The dataset called ``name`` (e.g. ``"moons"``), built with ``kwargs`` (e.g. ``noise=0.1``).

    Raises:
        ValueError: ``name`` is not in :data:`DATASETS`; the message lists the valid names.
    """
    key = name.strip().lower() if isinstance(name, str) else name
    if key not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; valid names: {', '.join(sorted(DATASETS))}")
    return DATASETS[key](**kwargs)


def as_dataset(obj: DatasetLike, dim: int | None = 2) -> Dataset:
    """Whatever stands for a dataset, as a :class:`Dataset`.

    A Dataset is returned unchanged; a Dataset class is instantiated with its defaults; a string is
    looked up with :func:`get_dataset`; an ``(N, dim)`` numpy array or torch tensor becomes
    :class:`Samples` (the empirical distribution of its rows). ``dim``: the dimension required
    (2 unless said, as the toy densities; ``None`` takes an array's own number of columns).

    Raises:
        ValueError: an unknown name, an array of the wrong shape, with no rows or with non-finite
            entries, a dataset of another dimension, or an object of another type; the message says what
            was received.
    """
    if isinstance(obj, Dataset):
        ds = obj
    elif isinstance(obj, type) and issubclass(obj, Dataset):
        ds = obj()
    elif isinstance(obj, str):
        ds = get_dataset(obj)
    elif isinstance(obj, (np.ndarray, Tensor)):
        return Samples(obj, dim=dim)
    else:
        cols = "d" if dim is None else str(dim)
        raise ValueError(
            f"expected a Dataset, a dataset name, or an (N, {cols}) numpy array or torch tensor of points; "
            f"got {_describe(obj)}"
        )
    if dim is not None and ds.dim != dim:
        raise ValueError(f"dataset {ds.name!r} ({type(ds).__name__}) has dimension {ds.dim}, but {dim} is needed")
    return ds


def train_test(
    dataset: DatasetLike,
    n_train: int,
    n_test: int,
    seed: int,
    *,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> tuple[Tensor, Tensor]:
    """Draw a training set ``(n_train, 2)`` and a test set ``(n_test, 2)`` from independent streams.

    The two CPU generators are seeded with two 64-bit words that numpy's ``SeedSequence(seed)``
    spawns for children 0 and 1, so the streams are statistically independent, the training set
    does not depend on ``n_test`` (nor the test set on ``n_train``), and the same ``seed`` gives
    the same pair.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    ds = as_dataset(dataset)
    words = [
        int(child.generate_state(1, np.uint64)[0]) for child in np.random.SeedSequence(int(seed)).spawn(2)
    ]
    # manual_seed takes a signed or unsigned 64-bit integer; keep it in [0, 2**63) to be portable.
    gens = [torch.Generator().manual_seed(w >> 1) for w in words]
    train = ds.sample(n_train, gens[0], dtype=dtype, device=device)
    test = ds.sample(n_test, gens[1], dtype=dtype, device=device)
    return train, test
