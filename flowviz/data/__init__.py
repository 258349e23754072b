"""2D toy densities: i.i.d. samplers, plus the exact log-density and entropy where they are known.

Every dataset is a :class:`Dataset` with ``sample(n, generator)`` (shape ``(n, 2)``),
``log_prob(x)`` (exact, or ``NotImplementedError`` when the density has no closed form),
``has_log_prob`` and ``entropy`` (true differential entropy in nats, or ``None``).

=============  ==========================================================  ========  ==========
name           definition (source)                                         log_prob  entropy
=============  ==========================================================  ========  ==========
moons          sklearn ``make_moons(noise=0.05)``                          quadrat.  0.28923
8gaussians     FFJORD, 8 Gaussians on a circle of radius 4/1.414           exact     2.83188
checkerboard   FFJORD, uniform on 8 squares of ``[-4, 4)^2``               exact     log 32
circles        FFJORD, ``make_circles(factor=0.5, noise=0.08) * 3``        Bessel    3.26814
rings          FFJORD, 4 circles of radii 3, 2.25, 1.5, 0.75, noise 0.08   Bessel    2.62318
crescent       ``x1 ~ N(0,1)``, ``x2 ~ N(x1^2/2 - 1, 0.25^2)``             exact     log(2 pi e/4)
pinwheel       FFJORD                                                      no        None
2spirals       FFJORD                                                      no        None
swissroll      FFJORD (``make_swiss_roll(noise=1)[:, [0, 2]] / 5``)        no        None
=============  ==========================================================  ========  ==========

A user's own points stand in wherever a dataset is accepted: :func:`as_dataset` wraps an
``(N, 2)`` numpy array or torch tensor in :class:`Samples` (resampling with replacement); fitting a
``d``-dimensional flow takes ``(N, d)`` points (``as_dataset(x, dim=d)``).
"""

from __future__ import annotations

from .analytic import Checkerboard, Circles, Crescent, EightGaussians, Rings, log_ring
from .base import Dataset
from .empirical import Samples, as_points
from .moons import Moons
from .registry import DATASETS, DatasetLike, as_dataset, get_dataset, train_test
from .samplers import Pinwheel, SwissRoll, TwoSpirals

__all__ = [
    "DATASETS",
    "Checkerboard",
    "Circles",
    "Crescent",
    "Dataset",
    "DatasetLike",
    "EightGaussians",
    "Moons",
    "Pinwheel",
    "Rings",
    "Samples",
    "SwissRoll",
    "TwoSpirals",
    "as_dataset",
    "as_points",
    "get_dataset",
    "log_ring",
    "train_test",
]
