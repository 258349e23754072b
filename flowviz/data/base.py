"""The base class of every 2D toy density: a sampler, and the exact log-density where it is known.

A :class:`Dataset` draws i.i.d. points ``x ~ p`` with :meth:`Dataset.sample` and, where ``p`` has a
closed form (or an integral that quadrature evaluates to ~1e-9), evaluates ``log p(x)`` with
:meth:`Dataset.log_prob`. Its :attr:`Dataset.entropy` is the true differential entropy
``H[p] = -E_p[log p(x)]`` in nats where it is known, else ``None``: the floor that a flow's
average negative log-likelihood can reach on fresh samples.

Randomness: everything is drawn from the ``torch.Generator`` passed in (or torch's global
generator), on that generator's device and in float64, then cast to the requested dtype and
moved to the requested device. So a seeded CPU generator gives the same points on every device
and, up to rounding, in every dtype.
"""

from __future__ import annotations

import abc
import math
import numbers
import operator
from statistics import NormalDist
from typing import ClassVar

import torch
from torch import Tensor

__all__ = ["BOUNDS_TAIL", "Dataset", "LOG_2PI", "gaussian_reach"]

#: ``log(2 pi)``, the constant of every Gaussian log-density in 2D.
LOG_2PI: float = math.log(2.0 * math.pi)

#: The share of the mass that a dataset's plotting window :attr:`Dataset.bounds` may leave out.
BOUNDS_TAIL: float = 1e-4


def gaussian_reach(tail: float = BOUNDS_TAIL) -> float:
    """How many standard deviations ``k`` to add on every side of a box around the centres of 2D Gaussian noise
    so that the box misses at most ``tail`` of the mass: ``k = -Phi^{-1}(tail / 4)`` (4.06 for 1e-4).

    A point ``c + sigma eps`` (``eps ~ N(0, I)``, ``c`` anywhere in the box ``[a1, b1] x [a2, b2]``) leaves the box
    ``[a1 - k sigma, b1 + k sigma] x [a2 - k sigma, b2 + k sigma]`` only if one of the four one-sided events
    ``eps_i > k`` or ``eps_i < -k`` happens, so by the union bound with probability at most ``4 Phi(-k) = tail``.
    The same holds for any mixture of such components, and for a curve of centres blurred by the noise.
    """
    return -NormalDist().inv_cdf(tail / 4)


def _check_n(n: object) -> int:
    """The number of samples: an integer >= 0, or a one-entry shape ``(n,)`` / ``torch.Size([n])`` as
    torch.distributions spells it (and as ``Flow.sample`` takes it)."""
    if isinstance(n, (tuple, list)) and len(n) == 1:
        n = n[0]
    try:
        if isinstance(n, bool):
            raise TypeError
        count = operator.index(n)  # type: ignore[arg-type]  # ints, numpy integers, 0-d integer tensors
    except TypeError:
        raise ValueError(f"n must be a non-negative integer, got {n!r} of type {type(n).__name__}") from None
    if count < 0:
        raise ValueError(f"n must be a non-negative integer, got {count}")
    return count


def _positive(**params: float) -> tuple[float, ...]:
    """The named parameters as Python floats, in order; ValueError unless each is a finite positive real number
    (a Python or numpy int or float, as the flows' layers take them; not a bool, a string or a tensor)."""
    out: list[float] = []
    for key, value in params.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < float(value) < math.inf:
            raise ValueError(f"{key} must be a finite positive number, got {value!r}")
        out.append(float(value))
    return tuple(out)


def _work_dtype(device: torch.device) -> torch.dtype:
    """float64 wherever the device has it (MPS has not)."""
    return torch.float32 if device.type == "mps" else torch.float64


def _default_device() -> torch.device:
    """The device new tensors go to when none is named (``torch.set_default_device`` respected)."""
    return torch.empty(0).device


class Dataset(abc.ABC):
    """A 2D toy density: ``sample`` draws i.i.d. points, ``log_prob`` evaluates ``log p(x)``.

    Subclasses implement ``_sample(n, generator, device, dtype)`` (points in the working
    precision, float64 on CPU/CUDA) and, where the density is known, ``_log_prob(x)`` on a float64
    tensor of shape ``(..., 2)``. Every density is a distribution of ``x`` in data space (the
    flow's ``forward``, base -> data, should push its base onto it).

    Attributes:
        name: the registry name, e.g. ``"moons"``.
        dim: 2 for every toy density (a user's :class:`~flowviz.data.Samples` may have another).
        bounds: ``(xmin, xmax, ymin, ymax)``, a plotting window holding all but a share
            :data:`BOUNDS_TAIL` (1e-4) of the mass. A dataset with parameters computes it from them
            (a box around its centres widened by :func:`gaussian_reach` noise widths, where the noise is
            Gaussian); a user's ``d``-column Samples gives ``(lo_1, hi_1, ..., lo_d, hi_d)``.
    """

    name: ClassVar[str] = "dataset"
    dim: int = 2
    bounds: tuple[float, ...] = (-4.0, 4.0, -4.0, 4.0)

    # ---- what subclasses provide --------------------------------------------------------------
    @abc.abstractmethod
    def _sample(
        self, n: int, generator: torch.Generator | None, device: torch.device, dtype: torch.dtype
    ) -> Tensor:
        """Draw ``n`` i.i.d. points, shape ``(n, 2)``, on ``device`` in ``dtype``."""

    def _log_prob(self, x: Tensor) -> Tensor:
        """``log p(x)`` for ``x`` of shape ``(..., 2)`` in the working precision; shape ``(...)``."""
        raise self._no_density()

    def _no_density(self) -> NotImplementedError:
        """The error that ``log_prob`` raises when the density has no closed form."""
        return NotImplementedError(
            f"dataset {self.name!r} ({type(self).__name__}) has no closed-form density: "
            "log_prob is not available; use its samples (e.g. a histogram or a fitted flow) instead"
        )

    @property
    def entropy(self) -> float | None:
        """The differential entropy ``H[p] = -E_p[log p(x)]`` in nats, or ``None`` when unknown."""
        return None

    # ---- the public API -----------------------------------------------------------------------
    @property
    def has_log_prob(self) -> bool:
        """Whether :meth:`log_prob` is available (the density is analytic or exactly integrable)."""
        return type(self)._log_prob is not Dataset._log_prob

    def sample(
        self,
        n: int,
        generator: torch.Generator | None = None,
        *,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str | None = None,
    ) -> Tensor:
        """Draw ``n`` i.i.d. points ``x ~ p``, a tensor of shape ``(n, 2)``.

        Args:
            n: how many points (0 allowed).
            generator: the source of randomness; the same seeded generator gives the same points.
                ``None`` uses torch's global generator (so ``torch.manual_seed`` applies).
            dtype: a floating dtype for the result.
            device: where the result lives; ``None`` means torch's default device.
        """
        n = _check_n(n)
        if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
            raise ValueError(f"dtype must be a floating torch dtype, got {dtype!r}")
        out_device = torch.device(device) if device is not None else _default_device()
        work_device = generator.device if generator is not None else torch.device("cpu")
        x = self._sample(n, generator, work_device, _work_dtype(work_device))
        return self._cast(x, dtype).to(device=out_device)

    def _cast(self, x: Tensor, dtype: torch.dtype) -> Tensor:
        """``x`` (drawn in the working precision) in ``dtype``. A dataset whose support has edges overrides this
        so that rounding cannot carry a point onto an edge outside the support (Checkerboard)."""
        return x.to(dtype)

    def log_prob(self, x: Tensor) -> Tensor:
        """The exact log-density ``log p(x)`` of points ``x`` of shape ``(n, 2)`` (or ``(..., 2)``).

        Returns a tensor of shape ``(n,)`` (or ``(...)``) in ``x``'s dtype and on ``x``'s device;
        the computation runs in float64 (float32 on MPS). ``-inf`` where ``p(x) = 0``.

        Raises:
            NotImplementedError: the density has no closed form (see :attr:`has_log_prob`).
            ValueError: ``x`` is not a tensor whose last dimension is 2.
        """
        if not self.has_log_prob:
            raise self._no_density()
        if not isinstance(x, Tensor):
            raise ValueError(f"log_prob expects a torch.Tensor of shape (n, 2), got {type(x).__name__}")
        if x.is_complex() or x.dtype == torch.bool or x.ndim < 1 or x.shape[-1] != 2:
            raise ValueError(
                f"log_prob expects real points of shape (n, 2), got shape {tuple(x.shape)}, dtype {x.dtype}"
            )
        out_dtype = x.dtype if x.is_floating_point() else torch.get_default_dtype()
        return self._log_prob(x.to(_work_dtype(x.device))).to(out_dtype)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
