"""The base-space mesh that flowviz pushes through a flow to draw exact densities.

A regular grid of gx x gy vertices, vertex index i = row * gx + col (rows run along z2, columns
along z1), covering where the base density has its mass; each cell split into two triangles in the order
the browser uses (js/src/mesh.js), and the test for triangles the mesh does not resolve (``stretch_flags``),
shared by the widget (which picks a finer mesh for a flow that leaves many) and the matplotlib renderer.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..flows import Distribution, StandardNormal, Uniform

__all__ = ["STRETCH", "base_extent", "mesh_grid", "signed_areas", "stretch_flags", "triangles"]


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


def triangles(gx: int, gy: int) -> np.ndarray:
    """(2 (gx-1)(gy-1), 3) int64 vertex indices, two per cell: (a, a+1, a+gx+1) and (a, a+gx+1, a+gx)."""
    r, c = np.meshgrid(np.arange(max(gy - 1, 0)), np.arange(max(gx - 1, 0)), indexing="ij")
    a = (r * gx + c).reshape(-1)
    b, d = a + 1, a + gx
    e = d + 1
    return np.stack([np.stack([a, b, e], -1), np.stack([a, e, d], -1)], 1).reshape(-1, 3).astype(np.int64)


def signed_areas(pos: np.ndarray, tris: np.ndarray) -> np.ndarray:
    """Twice the signed area of every triangle (float64), from (V, 2) positions."""
    p = np.asarray(pos, dtype=np.float64)
    a, b, c = p[tris[:, 0]], p[tris[:, 1]], p[tris[:, 2]]
    return (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (c[:, 0] - a[:, 0]) * (b[:, 1] - a[:, 1])


#: a triangle covering more than STRETCH times the area its base cell maps to is not filled (js/src/mesh.js)
STRETCH = 4.0


def stretch_flags(scene: Any, tris: np.ndarray | None = None) -> np.ndarray:
    """(K+1, T) bool: triangle over-drawn in state k. The image of a base triangle of area A0 has area
    ~ A0 * mean |det J_cum| over its corners (|det J_cum| = exp(log pi(z) - log p_k)); a straight triangle
    through the three mapped corners covering more than STRETCH times that cuts across places the cell
    never reaches (the map bends faster than the mesh resolves) and is left unfilled, as in the browser.
    ``scene``: anything with ``mesh`` (K+1, V, 2), ``logp`` (K+1, V), ``gx``, ``gy`` (a PlayerScene, a LensScene)."""
    tris = triangles(scene.gx, scene.gy) if tris is None else tris
    base = np.abs(signed_areas(scene.mesh[0], tris))
    lp0 = np.asarray(scene.logp[0], dtype=np.float64)
    K = len(scene.mesh) - 1
    out = np.zeros((K + 1, len(tris)), dtype=bool)
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, K + 1):
            det = np.exp(lp0 - np.asarray(scene.logp[k], dtype=np.float64))[tris].mean(-1)
            out[k] = np.abs(signed_areas(scene.mesh[k], tris)) > STRETCH * base * det  # NaN: False
    return out
