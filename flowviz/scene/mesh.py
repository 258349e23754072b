"""The base-space mesh that flowviz pushes through a flow to draw exact densities.

A regular grid of gx x gy vertices, vertex index i = row * gx + col (rows run along z2, columns
along z1), covering where the base density has its mass.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..flows import Distribution, StandardNormal, Uniform

__all__ = ["base_extent", "mesh_grid"]


def base_extent(base: Distribution, radius: float = 3.5) -> tuple[float, float, float, float]:
    """(z1_min, z1_max, z2_min, z2_max) of the base mesh: +-radius for a standard normal, the box for a
    uniform, else the 0.1%..99.9% quantiles of 20k samples."""
    if isinstance(base, StandardNormal):
        return (-radius, radius, -radius, radius)
    if isinstance(base, Uniform):
        lo, hi = base.low.tolist(), base.high.tolist()
        return (lo[0], hi[0], lo[1], hi[1])
    with torch.no_grad():
        s = base.sample(20_000, torch.Generator(device=base._like().device).manual_seed(0)).float()
    q = torch.quantile(s, torch.tensor([0.001, 0.999], device=s.device), dim=0)
    return (float(q[0, 0]), float(q[1, 0]), float(q[0, 1]), float(q[1, 1]))


def mesh_grid(extent: tuple[float, float, float, float], gx: int, gy: int, *, device: torch.device | None = None,
              dtype: torch.dtype = torch.float32) -> Tensor:
    """(gy * gx, 2) vertices of a regular grid over ``extent``; index = row * gx + col."""
    if gx < 2 or gy < 2:
        raise ValueError(f"a mesh needs at least 2 x 2 vertices, got {gx} x {gy}")
    x0, x1, y0, y1 = extent
    xs = torch.linspace(x0, x1, gx, device=device, dtype=dtype)
    ys = torch.linspace(y0, y1, gy, device=device, dtype=dtype)
    yy, xx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([xx.reshape(-1), yy.reshape(-1)], -1)
