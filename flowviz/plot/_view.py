"""What a panel shows at a layer position: the lerp between neighbouring states, titles, the camera
and the status banner (the rules of js/src/interp.js, view.js and scene.js).

Position t in [0, K] runs base -> data: t = 0 is the base state z, t = k the state after layer k
(layer k maps state k-1 to state k), and a fractional t shows (1 - f) state[floor t] + f state[ceil t].
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ..scene import PlayerScene, player_scene
from ..scene.player import N_POINTS, SEED

__all__ = ["N_POINTS", "SEED", "as_scene", "camera", "check_position", "layer_span", "lerp", "state_title",
           "status_text"]



def check_position(position: float, K: int) -> float:
    """``position`` as a float, if it is a layer position of a flow with K layers: finite and in [0, K]
    (fractional positions in between are the lerp of the neighbouring states); else ValueError naming
    the range."""
    try:
        t = float(position)
    except (TypeError, ValueError):
        raise ValueError(f"layer position {position!r} is not a number: positions run 0..{K}") from None
    if not (math.isfinite(t) and 0.0 <= t <= K):
        layers = f"{K} layer{'' if K == 1 else 's'}"
        raise ValueError(f"layer position {position!r} is out of range: this flow has {layers}, positions run "
                         f"0..{K} (0 the base, k the state after layer k, fractions in between)")
    return t


def layer_span(position: float, K: int) -> tuple[float, int, int, float]:
    """(t, k0, k1, f): the position t (checked by :func:`check_position`: finite, in [0, K]), the
    neighbouring states k0 <= k1 and the weight f of state k1."""
    t = check_position(position, K)
    k0 = math.floor(t)
    if k0 >= K:
        return t, K, K, 0.0
    return t, k0, k0 + 1, t - k0


def lerp(stack: np.ndarray, position: float) -> np.ndarray:
    """State ``stack[(K+1), ...]`` at a layer position: exact at integers, else the linear interpolation."""
    _, k0, k1, f = layer_span(position, stack.shape[0] - 1)
    if f == 0.0:
        return np.array(stack[k0], copy=True)
    a, b = stack[k0].astype(np.float64), stack[k1].astype(np.float64)
    return ((1.0 - f) * a + f * b).astype(np.float32)  # as the browser: double maths into float32


def round_half_up(t: float) -> int:
    """The browser's Math.round (halves round up): the state whose folds and readouts are shown."""
    return math.floor(t + 0.5)


def camera(scene: PlayerScene, position: float | None = None) -> tuple[float, float, float, float]:
    """(xmin, xmax, ymin, ymax): the union of all states' finite bounds (fixed, so motion is visible);
    without bounds, the padded extent of the finite mesh and points. With a layer ``position`` (the
    browser's "zoom to layer", ``follow=True``): the bounds of the state shown there, those of the two
    neighbouring states mixed as the points are."""
    if position is not None and scene.bounds and len(scene.bounds) == scene.K + 1:
        _, k0, k1, f = layer_span(position, scene.K)
        lo, hi = scene.bounds[k0], scene.bounds[k1]
        if all(map(math.isfinite, [*lo[:4], *hi[:4]])):
            x0, x1, y0, y1 = ((1.0 - f) * p + f * q for p, q in zip(lo[:4], hi[:4], strict=True))
            if x1 > x0 and y1 > y0:
                return (float(x0), float(x1), float(y0), float(y1))
    boxes = [b for b in (scene.bounds or []) if b is not None and len(b) >= 4
             and all(map(math.isfinite, b[:4]))]
    if boxes:
        b = np.asarray([q[:4] for q in boxes], dtype=np.float64)
        x0, x1, y0, y1 = b[:, 0].min(), b[:, 1].max(), b[:, 2].min(), b[:, 3].max()
    else:
        p = np.concatenate([scene.mesh.reshape(-1, 2), scene.points.reshape(-1, 2)]).astype(np.float64)
        p = p[np.isfinite(p).all(-1)]
        if not len(p):
            return (-3.0, 3.0, -3.0, 3.0)
        (x0, y0), (x1, y1) = p.min(0), p.max(0)
        px, py = 0.05 * ((x1 - x0) or 1.0), 0.05 * ((y1 - y0) or 1.0)
        x0, x1, y0, y1 = x0 - px, x1 + px, y0 - py, y1 + py
    if not x1 > x0:
        x0, x1 = x0 - 1.0, x1 + 1.0
    if not y1 > y0:
        y0, y1 = y0 - 1.0, y1 + 1.0
    return (float(x0), float(x1), float(y0), float(y1))


def logp_range(scene: PlayerScene) -> tuple[float, float]:
    """The colour-scale limits: ``scene.logp_range`` if finite with lo < hi, else the finite logp range."""
    r = scene.logp_range
    if r is not None and len(r) == 2 and all(map(math.isfinite, r)) and r[1] > r[0]:
        return (float(r[0]), float(r[1]))
    v = scene.logp[np.isfinite(scene.logp)]
    if not v.size:
        return (-1.0, 1.0)
    lo, hi = float(v.min()), float(v.max())
    return (lo, hi) if hi > lo else (lo - 1.0, hi + 1.0)


def state_title(scene: PlayerScene, position: float) -> str:
    """Panel title: "base  pi(z)" at state 0, "after layer k: <name>" at state k, else the layer
    being applied."""
    t, k0, k1, f = layer_span(position, scene.K)
    if f == 0.0:
        if k0 == 0:
            return "base  pi(z)"
        layer = scene.layers[k0 - 1]
        return f"after layer {k0}: {layer.name}" + ("" if layer.enabled else " (off)")
    return f"applying layer {k1}: {scene.layers[k1 - 1].name}  (t = {t:.2f})"


def status_text(scene: PlayerScene) -> str:
    """The banner text for ``scene.status`` ("" when "ok"), worded as the browser words it."""
    if not scene.status or scene.status == "ok":
        return ""
    if scene.status == "non-finite":
        bad = [(k + 1, layer.nonfinite) for k, layer in enumerate(scene.layers) if layer.nonfinite > 0]
        text = ("non-finite: " + "; ".join(f"layer {k}, {n} point{'' if n == 1 else 's'}" for k, n in bad)
                if bad else "non-finite values")
    elif scene.status == "not invertible":
        folds = [(k + 1, layer.name) for k, layer in enumerate(scene.layers) if not layer.invertible]
        text = ("not invertible: " + ", ".join(f"layer {k} ({name or '?'})" for k, name in folds)
                if folds else "not invertible")
    else:
        text = str(scene.status)
    return f"{text} \u2014 {scene.message}" if scene.message else text


def as_scene(scene_or_flow: Any, *, n_points: int = N_POINTS, grid: int | str = "auto", seed: int = SEED
             ) -> PlayerScene:
    """A PlayerScene as is, or the scene of a Flow: ``n_points`` base samples z ~ pi (seeded) and a
    grid x grid base mesh pushed forward (base -> data) through every layer (``"auto"``: 65, or 129 where 65
    leaves triangles unresolved). The defaults are FlowPlayer's, so the scene is the one a
    ``FlowPlayer(flow)`` shows (same points, bounds and logp_range)."""
    if isinstance(scene_or_flow, PlayerScene):
        return scene_or_flow
    from ..flows import Flow

    if not isinstance(scene_or_flow, Flow):
        raise TypeError(f"expected a PlayerScene or a flowviz.flows.Flow, got {type(scene_or_flow).__name__}")
    flow = scene_or_flow
    g = torch.Generator(device=flow.device).manual_seed(int(seed))
    with torch.no_grad():
        z = flow.base.sample(int(n_points), g)
    return player_scene(flow, z, gx=grid if isinstance(grid, str) else int(grid))
