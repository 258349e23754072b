"""Toy densities known only through a sampler: pinwheel, 2spirals, swissroll (FFJORD definitions).

From FFJORD's ``lib/toy_data.py`` (Grathwohl, Chen et al., ICLR 2019), made i.i.d. (random class
or arm per point instead of fixed counts). Their densities have no closed form, so ``log_prob``
raises ``NotImplementedError`` and ``entropy`` is ``None``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .base import Dataset

__all__ = ["Pinwheel", "SwissRoll", "TwoSpirals"]


class Pinwheel(Dataset):
    """Five curved blades (FFJORD ``pinwheel``).

    ``k ~ U{0..4}``, ``f = (1 + 0.3 e1, 0.1 e2)`` with ``e ~ N(0, I)``,
    ``a = 2 pi k / 5 + 0.25 exp(f_1)``, and ``x = 2 f R(a)`` with the row vector ``f`` times
    ``R(a) = [[cos a, -sin a], [sin a, cos a]]``, i.e.
    ``x = 2 (f_1 cos a + f_2 sin a, -f_1 sin a + f_2 cos a)`` (a rotation by ``-a``).
    """

    name = "pinwheel"
    bounds = (-4.5, 4.5, -4.5, 4.5)

    def _sample(
        self, n: int, generator: torch.Generator | None, device: torch.device, dtype: torch.dtype
    ) -> Tensor:
        k = torch.randint(5, (n,), generator=generator, device=device).to(dtype)
        e = torch.randn(n, 2, generator=generator, device=device, dtype=dtype)
        f1, f2 = 1 + 0.3 * e[:, 0], 0.1 * e[:, 1]
        a = 2 * math.pi * k / 5 + 0.25 * torch.exp(f1)
        c, s = torch.cos(a), torch.sin(a)
        return 2 * torch.stack([f1 * c + f2 * s, -f1 * s + f2 * c], -1)


class TwoSpirals(Dataset):
    """Two interleaved spirals (FFJORD ``2spirals``).

    ``u ~ U[0, 1)``, ``n = sqrt(u) * 3 pi`` (540 degrees), ``v ~ U[0, 1)^2``, sign ``b ~ {+1, -1}``
    with probability 1/2 each, ``eps ~ N(0, I)``:
    ``x = b (-n cos n + 0.5 v_1, n sin n + 0.5 v_2) / 3 + 0.1 eps``.
    """

    name = "2spirals"
    bounds = (-4.0, 4.0, -4.0, 4.0)

    def _sample(
        self, n: int, generator: torch.Generator | None, device: torch.device, dtype: torch.dtype
    ) -> Tensor:
        t = torch.sqrt(torch.rand(n, generator=generator, device=device, dtype=dtype)) * (3 * math.pi)
        v = torch.rand(n, 2, generator=generator, device=device, dtype=dtype)
        b = 1 - 2 * torch.randint(2, (n, 1), generator=generator, device=device).to(dtype)
        eps = torch.randn(n, 2, generator=generator, device=device, dtype=dtype)
        arm = torch.stack([-t * torch.cos(t) + 0.5 * v[:, 0], t * torch.sin(t) + 0.5 * v[:, 1]], -1)
        return b * arm / 3 + 0.1 * eps


class SwissRoll(Dataset):
    """A 2D Swiss roll (FFJORD ``swissroll``: sklearn ``make_swiss_roll(noise=1.0)``, columns 0 and 2, / 5).

    ``t = 1.5 pi (1 + 2 u)`` with ``u ~ U[0, 1)``, ``eps ~ N(0, I)``:
    ``x = (t cos t + eps_1, t sin t + eps_2) / 5``.
    """

    name = "swissroll"
    bounds = (-4.0, 4.0, -4.0, 4.0)

    def _sample(
        self, n: int, generator: torch.Generator | None, device: torch.device, dtype: torch.dtype
    ) -> Tensor:
        t = 1.5 * math.pi * (1 + 2 * torch.rand(n, generator=generator, device=device, dtype=dtype))
        eps = torch.randn(n, 2, generator=generator, device=device, dtype=dtype)
        return torch.stack([t * torch.cos(t) + eps[:, 0], t * torch.sin(t) + eps[:, 1]], -1) / 5
