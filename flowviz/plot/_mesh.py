"""Mesh topology, validity and fold detection for the matplotlib renderer (the rules of js/src/mesh.js).

The base mesh has V = gx * gy vertices, vertex index ``row * gx + col``. Each grid cell is split into
two triangles, ``(v00, v10, v11)`` and ``(v00, v11, v01)``, in the same order as the browser, so a
triangle index means the same cell in both renderers. States run base -> data: state 0 is the base
mesh z, state k is the mesh after layer k (layer k maps state k-1 to state k).
"""

from __future__ import annotations

import math

import numpy as np

from ..scene import PlayerScene
from ..scene.mesh import STRETCH, signed_areas, stretch_flags, triangles

__all__ = ["STRETCH", "fold_flags", "grid_segments", "grid_step", "placed_vertices", "polylines", "segments_only_in",
           "signed_areas", "stretch_flags", "triangles", "valid_triangles", "valid_vertices"]


def grid_step(gx: int, gy: int, target: int = 16) -> int:
    """Grid-line stride m so that about ``target`` lines are drawn each way (as the browser rounds)."""
    return max(1, math.floor((max(gx, gy) - 1) / target + 0.5))


def grid_segments(gx: int, gy: int, m: int | None = None) -> np.ndarray:
    """(S, 2) vertex-index pairs along every m-th row and column, the borders included."""
    m = grid_step(gx, gy) if m is None else max(1, int(m))
    rows = [r for r in range(gy) if r % m == 0 or r == gy - 1]
    cols = [c for c in range(gx) if c % m == 0 or c == gx - 1]
    seg = [(r * gx + c, r * gx + c + 1) for r in rows for c in range(gx - 1)]
    seg += [(r * gx + c, (r + 1) * gx + c) for c in cols for r in range(gy - 1)]
    return np.asarray(seg, dtype=np.int64).reshape(-1, 2)


def polylines(segments: np.ndarray) -> list[np.ndarray]:
    """The (S, 2) vertex-index segments chained into polylines: consecutive segments that share a vertex
    (segment i ends where i + 1 starts, as grid_segments orders them along a row or column) form one line.
    The same lines as the segments, but one path per grid line: a PDF or SVG holds dozens of paths, not
    thousands."""
    seg = np.asarray(segments, dtype=np.int64).reshape(-1, 2)
    if not len(seg):
        return []
    cuts = np.nonzero(seg[1:, 0] != seg[:-1, 1])[0] + 1
    return [np.concatenate([run[:1, 0], run[:, 1]]) for run in np.split(seg, cuts)]


def valid_vertices(scene: PlayerScene, k: int) -> np.ndarray:
    """(V,) bool: vertex drawn in state k (``finite`` flag set, position and log p finite)."""
    pos, logp = scene.mesh[k], scene.logp[k]
    ok = np.isfinite(pos).all(-1) & np.isfinite(logp)
    if scene.finite is not None:
        ok &= np.asarray(scene.finite[k]) != 0
    return ok


def segments_only_in(segments: np.ndarray, tris: np.ndarray, flags: np.ndarray) -> np.ndarray:
    """(S,) bool: grid segments every one of whose triangles is flagged (a line across a place none of its
    cells reaches)."""
    code = np.array([1 << 32, 1], dtype=np.int64)
    edges = np.sort(np.concatenate([tris[:, [0, 1]], tris[:, [1, 2]], tris[:, [0, 2]]]), 1) @ code
    keys, where = np.unique(edges, return_inverse=True)
    total = np.bincount(where, minlength=len(keys))
    marked = np.bincount(where, weights=np.tile(flags, 3).astype(np.float64), minlength=len(keys))
    seg = np.sort(segments, 1) @ code
    i = np.minimum(np.searchsorted(keys, seg), len(keys) - 1)
    return (keys[i] == seg) & (marked[i] == total[i])


def placed_vertices(scene: PlayerScene, k: int) -> np.ndarray:
    """(V,) bool: vertex at a finite position in state k (``placed`` flag, else ``finite``): its grid lines
    are drawn even where the density is not finite (det J = 0 squashes the mesh onto a line)."""
    flags = scene.placed if scene.placed is not None else scene.finite
    ok = np.isfinite(scene.mesh[k]).all(-1)
    if flags is not None:
        ok &= np.asarray(flags[k]) != 0
    return ok


def valid_triangles(scene: PlayerScene, tris: np.ndarray, k0: int, k1: int | None = None) -> np.ndarray:
    """(T,) bool: all three vertices valid in state k0 and in state k1 (drawn between them)."""
    ok = valid_vertices(scene, k0)
    if k1 is not None and k1 != k0:
        ok = ok & valid_vertices(scene, k1)
    return ok[tris].all(-1)


def fold_flags(scene: PlayerScene, tris: np.ndarray | None = None) -> np.ndarray:
    """(K+1, T) bool: triangle folded over in state k: any of its vertices is flagged in
    ``scene.folded`` (some layer j <= k has det J against that layer's own orientation there; see
    :class:`flowviz.scene.PlayerScene`). The browser uses the same flags, so both pictures agree."""
    tris = triangles(scene.gx, scene.gy) if tris is None else tris
    folded = np.asarray(scene.folded) > 0
    return np.asarray(folded[:, tris].any(-1))
