"""What FlowPlayer shows, as arrays: the sample points and the base mesh pushed through every layer,
the exact log-density of the distribution after each layer at every vertex, and each layer's
Jacobian at every vertex. Pure computation, shared by the live widget and the matplotlib figures.

Density without inverses: a mesh vertex that starts at z carries

    log p_k(x_k) = log pi(z) - sum_{j <= k} log|det J_{G_j}(x_{j-1})|,   x_k = G_k(...G_1(z)),

the exact log-density of the distribution after layer k at the vertex's new position. This needs only
forward passes, so it works for layers with no closed-form inverse, and it shows folding (det J
changing sign) when a map stops being invertible.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..flows import Bijection, Flow
from ..flows.flow import check_finite
from .finite import FLOAT32_RANGE, finite32, wire_float32
from .mesh import base_extent, mesh_grid, stretch_flags

__all__ = ["AUTO_GRID", "AUTO_UNRESOLVED", "N_POINTS", "SEED", "LayerInfo", "PlayerScene", "SceneCache",
           "forward_with_jacobian", "layer_jacobians", "player_scene", "unresolved_share"]

#: ``gx="auto"``: the base mesh's vertices per side, and the finer one taken when the first leaves more than
#: AUTO_UNRESOLVED of some state's triangles unresolved (a trained flow's tails; the lecture's maps leave none)
AUTO_GRID = (65, 129)
#: FlowPlayer's default sample count and seed of its base points (flowviz.plot builds a flow's scene with the same,
#: so that a figure and the player of a flow show the same points, camera and colour scale)
N_POINTS = 5000
SEED = 0
AUTO_UNRESOLVED = 0.005


@dataclass
class LayerInfo:
    """One layer as the readouts name it."""

    name: str
    caption: str
    enabled: bool = True
    invertible: bool = True
    nonfinite: int = 0
    message: str = ""
    #: how many units of its dtype's roundoff the layer's outputs, log-det and Jacobian may be off by, relative
    #: to their size (at least 1): 8 for a closed-form layer, 1024 for one with a neural network inside (a
    #: float32 RealNVP coupling measured up to ~200 against float64). The readout shows only the digits this leaves.
    error_scale: float = 8.0


@dataclass
class PlayerScene:
    """Arrays (float32 numpy, C order) for a flow of K layers, N points and V = gx * gy mesh vertices.

    points (K+1, N, 2), points_logp (K+1, N), mesh (K+1, V, 2), logp (K+1, V), finite (K+1, V),
    jac (K, V, 2, 2): the Jacobian of layer k+1 at the vertex's state-k position, logdet (K, V):
    log|det J| of that layer as the layer computed it. Non-finite entries are zeroed and flagged 0 in
    ``finite`` (position and density finite). ``points_finite`` (K+1, N) flags the points whose position is
    finite (drawn even where the density is not: a layer with det J = 0 puts them on a line, with log p =
    +inf); ``placed`` (K+1, V), None when equal to ``finite``, the same for the mesh vertices (their grid
    lines are drawn, their cells are not filled). folded (K+1, V): 1 where some layer j <= k has det J with the
    opposite sign to that layer's own orientation (the sign on most of the mesh border), i.e. the map
    has folded the plane over itself there; an orientation-reversing but invertible layer (a reflection,
    ``Reverse``) folds nothing.
    """

    points: np.ndarray
    points_logp: np.ndarray
    points_finite: np.ndarray
    mesh: np.ndarray
    logp: np.ndarray
    finite: np.ndarray
    jac: np.ndarray
    logdet: np.ndarray
    folded: np.ndarray
    gx: int
    gy: int
    layers: list[LayerInfo]
    base: str
    status: str = "ok"
    message: str = ""
    logp_range: tuple[float, float] = (-10.0, 0.0)
    bounds: list[list[float]] = field(default_factory=list)
    placed: np.ndarray | None = None
    #: unit roundoff of the dtype the flow computed in (float32: 2^-24, float64: 2^-53): with the wire's float32
    #: rounding, what the browser's readout needs to show only the digits the numbers carry (readout.js)
    eps: float = 2.0**-24

    @property
    def K(self) -> int:
        return len(self.layers)

    @property
    def N(self) -> int:
        return int(self.points.shape[1])

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays the browser gets, as the wire format names them (js/WIRE.md).

        ``finite`` and ``points_finite`` only when some entry is 0 (the browser reads a missing one as
        all finite); ``points_logp`` stays here (``self.points_logp``): the browser does not draw it.
        At 10k points and 10 states that is 1.1 of 3.4 MB less per recompute.
        """
        out = {"points": self.points, "mesh": self.mesh, "logp": self.logp, "jac": self.jac.reshape(self.K, -1, 4),
               "logdet": self.logdet, "folded": self.folded}
        if not self.points_finite.all():
            out["points_finite"] = self.points_finite
        if not self.finite.all():
            out["finite"] = self.finite
        if self.placed is not None and not np.array_equal(self.placed, self.finite):
            out["placed"] = self.placed
        return out

    def meta(self, version: int = 0) -> dict[str, Any]:
        """The JSON metadata of the wire format (finite numbers only)."""
        return {
            "K": self.K, "N": self.N, "gx": self.gx, "gy": self.gy,
            "layers": [{"name": li.name, "caption": li.caption, "invertible": li.invertible,
                        "nonfinite": li.nonfinite, "enabled": li.enabled, "error_scale": li.error_scale}
                       for li in self.layers],
            "base": self.base, "logp_range": [float(v) for v in self.logp_range], "bounds": self.bounds,
            "status": self.status, "message": self.message, "eps": self.eps, "version": version,
        }


SNAPSHOT_MAX = 1 << 16  # entries of a parameter or buffer up to which a fingerprint keeps a copy of its values
# (a 1024 x 1024 weight: none; a copy of each per recompute doubled a big flow's cached call)


def _fingerprint(module: nn.Module) -> list[Any] | None:
    """What a flowviz layer's output depends on: every parameter and buffer of it and its submodules (the
    tensor itself, its in-place version counter: a slider's write or an optimizer step bumps it; a
    replaced tensor is another object; its storage address: ``param.data = t`` keeps the object and the
    counter; and a copy of its values: a write through ``param.data[i] = v`` changes none of the others)
    and every plain attribute (e.g. ``Planar.constrained``). None for a layer containing a module that is
    not flowviz's or torch's own: its forward may depend on anything. Tensors above ``SNAPSHOT_MAX``
    entries keep no copy (memory): after writing into one through ``.data``, call
    :meth:`FlowPlayer.recompute`."""
    out: list[Any] = []
    for m in module.modules():
        if not type(m).__module__.startswith(("flowviz.", "torch.")):
            return None
        out.append(type(m))
        out += [(k, v) for k, v in vars(m).items() if isinstance(v, (bool, int, float, str, type(None)))]
        for k, t in [*m._parameters.items(), *m._buffers.items()]:
            if t is None:
                out.append((k, None, 0, 0, None))
            else:
                copy = t.detach().clone() if t.numel() <= SNAPSHOT_MAX else None
                out.append((k, t, t._version, t.data_ptr(), copy))
    return out


def _same(a: list[Any] | None, b: list[Any] | None) -> bool:
    """Two fingerprints are equal (tensors compared by identity, version, storage address and, where both kept a
    copy, value: NaN never equals itself, so a layer with NaN parameters is always recomputed)."""
    if a is None or b is None or len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if isinstance(x, tuple) and len(x) == 5 and isinstance(y, tuple) and len(y) == 5:
            if x[0] != y[0] or x[1] is not y[1] or x[2:4] != y[2:4]:
                return False
            if (x[4] is None) != (y[4] is None) or (x[4] is not None and not torch.equal(x[4], y[4])):
                return False
        elif x != y:
            return False
    return True


@dataclass
class SceneCache:
    """What :func:`player_scene` keeps between calls so that a change to layer k recomputes layers k..K only
    (a slider on the last layer of a lecture flow recomputes one layer, not all). Reused only when the base
    points, the mesh, the base density and every earlier layer (its parameters, buffers, plain attributes and
    on/off state: see ``_fingerprint``) are the same objects at the same versions; the arrays are then
    identical to a full recompute (tests/test_scene.py). ``reused``: layers taken from the cache last call."""

    max_rows: int = 500_000  # (points + vertices) above which nothing is kept (memory)
    key: list[Any] | None = None
    prints: list[tuple[bool, list[Any] | None]] = field(default_factory=list)
    states: Tensor | None = None
    log_dets: Tensor | None = None
    jac: Tensor | None = None
    folded: Tensor | None = None
    finite_in: list[bool] = field(default_factory=list)
    infos: list[LayerInfo] = field(default_factory=list)
    reused: int = 0

    def clear(self) -> None:
        self.key, self.prints, self.finite_in, self.infos = None, [], [], []
        self.states = self.log_dets = self.jac = self.folded = None


def _reuse(cache: SceneCache, key: list[Any], prints: list[tuple[bool, list[Any] | None]], rows: int) -> int:
    """How many leading layers the cache holds for this call (0: none), and ``cache.reused`` set to it."""
    cache.reused = 0
    if cache.states is None or rows > cache.max_rows or len(cache.prints) != len(prints):
        return 0
    old = cache.key
    assert old is not None
    if (old[0] is not key[0] or old[1:8] != key[1:8] or old[8] is not key[8]
            or not _same(old[9], key[9])):
        return 0
    start = 0
    for (on, fp), (on_old, fp_old) in zip(prints, cache.prints, strict=True):
        if on != on_old or not _same(fp, fp_old):
            break
        start += 1
    cache.reused = start
    return start


def _error_scale(layer: nn.Module) -> float:
    """LayerInfo.error_scale: 1024 for a layer with a network inside (its sums over hidden units round more
    than a closed form does) or one that is not flowviz's own, else 8."""
    if not type(layer).__module__.startswith("flowviz."):
        return 1024.0
    return 1024.0 if any(isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d)) for m in layer.modules()) else 8.0


def forward_with_jacobian(layer: Bijection, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """(output, log_det, J) of ``layer.forward`` at the rows of x; J is (V, d, d), exact.

    Every flowviz layer maps each row independently, so row i of the batch Jacobian is
    d out_i / d x (one reverse pass per output coordinate: d passes in all, not V). Coordinates the
    layer copies unchanged (``layer.passthrough()``, a coupling layer's kept half) have row e_i and
    need no pass.
    """
    d = x.shape[1]
    kept = set(layer.passthrough())
    todo = [i for i in range(d) if i not in kept]
    rows: list[Tensor | None] = [None] * d
    with torch.enable_grad():
        xg = x.detach().requires_grad_(True)
        out, log_det = layer(xg)
        for n, i in enumerate(todo):
            rows[i] = torch.autograd.grad(out[:, i].sum(), xg, retain_graph=n < len(todo) - 1, allow_unused=True)[0]
    eye = torch.eye(d, dtype=x.dtype, device=x.device)
    full = [eye[i].expand_as(x) if i in kept else torch.zeros_like(x) if r is None else r for i, r in enumerate(rows)]
    return out.detach(), log_det.detach(), torch.stack(full, 1)


def layer_jacobians(layer: Bijection, x: Tensor) -> Tensor:
    """(V, d, d) exact Jacobians of ``layer.forward`` at the rows of x (see forward_with_jacobian)."""
    return forward_with_jacobian(layer, x)[2]


def _chunked(flow: Flow, layer: Bijection, x: Tensor) -> tuple[Tensor, Tensor]:
    """layer(x) in the flow's row chunks (Flow._chunks: a fresh 10k x hidden temporary per call
    costs page faults on a CPU; see benchmarks/README.md)."""
    chunks = flow._chunks(x.shape[0])
    if len(chunks) <= 1:
        return layer(x)
    outs, lds = zip(*(layer(x[s]) for s in chunks), strict=True)
    return torch.cat(outs), torch.cat(lds)


def _robust_bounds(p: Tensor, ok: Tensor) -> list[float]:
    step = max(1, -(-p.shape[0] // 1024))  # quantiles of a systematic subsample: plenty for a view box
    pts = p[::step][ok[::step]]
    if pts.shape[0] < 2:
        return [-4.0, 4.0, -4.0, 4.0]
    q = torch.quantile(pts.double().cpu(), torch.tensor([0.002, 0.998], dtype=torch.float64), dim=0)
    return _padded(q[0], q[1])


def _padded(lo: Tensor, hi: Tensor) -> list[float]:
    span = torch.maximum(hi - lo, torch.tensor(1e-3, dtype=torch.float64))
    pad = 0.12 * span
    return [float(lo[0] - pad[0]), float(hi[0] + pad[0]), float(lo[1] - pad[1]), float(hi[1] + pad[1])]


def _robust_bounds_all(p: Tensor) -> list[list[float]]:
    """_robust_bounds of every state of p (S, N, 2) at once, all points finite."""
    step = max(1, -(-p.shape[1] // 1024))
    if p[:, ::step].shape[1] < 2:
        return [[-4.0, 4.0, -4.0, 4.0] for _ in range(p.shape[0])]
    q = torch.quantile(p[:, ::step].double().cpu(), torch.tensor([0.002, 0.998], dtype=torch.float64), dim=1)
    return [_padded(q[0, k], q[1, k]) for k in range(p.shape[0])]


def _border_mask(gx: int, gy: int, device: torch.device) -> Tensor:
    m = torch.zeros((gy, gx), dtype=torch.bool, device=device)
    m[0, :] = m[-1, :] = m[:, 0] = m[:, -1] = True
    return m.reshape(-1)


def _orientation(det: Tensor, ok: Tensor | None, border: Tensor) -> Tensor:
    """+1 or -1: the sign of det J on most of the valid mesh border (all valid vertices if none; ok None:
    every vertex is valid)."""
    sign = torch.sign(det)
    if ok is None:
        return torch.where(sign[border].sum() >= 0, 1.0, -1.0).to(det.dtype)
    for mask in (ok & border, ok):
        if bool(mask.any()):
            return torch.where(torch.where(mask, sign, 0.0).sum() >= 0, 1.0, -1.0).to(det.dtype)
    return torch.ones((), dtype=det.dtype, device=det.device)


def _finite_text(text: str) -> str:
    """A layer's description with each printed NaN or inf (as Python formats them) read as "non-finite"."""
    return re.sub(r"[-+]?\b(?:nan|inf)\b", "non-finite", text)


def _nonfinite_parameters(module: nn.Module) -> bool:
    """True if some floating-point parameter or buffer of ``module`` holds NaN or inf (a diverged training)."""
    tensors = [t.detach() for t in (*module.parameters(), *module.buffers()) if t.is_floating_point()]
    flags = [torch.isfinite(t).all() for t in tensors]
    return bool(flags) and not bool(torch.stack(flags).all())  # (one device sync per layer)


def _all_finite(*ts: Tensor) -> bool:
    """True only if every entry is finite: one reduction per tensor instead of an elementwise test. A NaN or
    inf anywhere makes the sum NaN or inf; a sum of finite numbers that overflows only sends the caller to
    the exact per-entry test."""
    return all(bool(torch.isfinite(t.sum())) for t in ts)


def unresolved_share(scene: PlayerScene) -> float:
    """The largest share, over the states, of mesh triangles the mesh does not resolve (the renderers leave
    them unfilled: :func:`flowviz.scene.mesh.stretch_flags`)."""
    flags = stretch_flags(scene)
    return float(flags.mean(axis=1).max()) if flags.size else 0.0


@torch.no_grad()
def player_scene(flow: Flow, z: Tensor, *, gx: int | str = 65, gy: int | None = None,
                 enabled: list[bool] | None = None, extent: tuple[float, float, float, float] | None = None,
                 cache: SceneCache | None = None) -> PlayerScene:
    """Push base points ``z`` (N, 2) and a gx x gy base mesh through every layer of a 2D ``flow``.

    ``enabled[k] = False`` makes layer k+1 the identity (the per-layer on/off toggle). ``cache``: a
    :class:`SceneCache` kept between calls; the layers before the first one that changed are taken from it.
    ``gx="auto"``: a 65 x 65 mesh, or 129 x 129 when the 65 mesh leaves more than 0.5% of some state's
    triangles unresolved (:func:`unresolved_share`; the map bends faster than the mesh follows there).
    """
    if isinstance(gx, str):
        if gx != "auto" or gy is not None:
            raise ValueError(f"gx must be a whole number of vertices per side or 'auto' (with gy None), got {gx!r}")
        scene = player_scene(flow, z, gx=AUTO_GRID[0], enabled=enabled, extent=extent, cache=cache)
        if unresolved_share(scene) <= AUTO_UNRESOLVED:
            return scene
        return player_scene(flow, z, gx=AUTO_GRID[1], enabled=enabled, extent=extent, cache=cache)
    if not isinstance(flow, Flow):
        raise TypeError(f"player_scene needs a flowviz.flows.Flow, got {type(flow).__name__}")
    if flow.dim != 2:
        raise ValueError(f"FlowPlayer shows 2D flows; this flow has dim {flow.dim}")
    gy = gx if gy is None else gy
    device, dtype = flow.device, flow.dtype
    z = z.to(device=device, dtype=dtype)
    check_finite(z, "base points z")
    K = len(flow.layers)
    enabled = [True] * K if enabled is None else list(enabled)
    if len(enabled) != K:
        raise ValueError(f"enabled has {len(enabled)} entries for {K} layers")
    ext = base_extent(flow.base) if extent is None else extent
    mesh_z = mesh_grid(ext, gx, gy, device=device, dtype=dtype)
    N, V = z.shape[0], mesh_z.shape[0]

    v = torch.cat([z, mesh_z])
    states = v.new_empty((K + 1, N + V, 2))
    log_dets = v.new_zeros((K, N + V))
    jac = v.new_zeros((K, V, 2, 2))
    folded = torch.zeros((K + 1, V), dtype=torch.bool, device=device)
    border = _border_mask(gx, gy, device)
    states[0] = v
    infos: list[LayerInfo] = []
    eye = torch.eye(2, dtype=dtype, device=device)
    was_training = flow.training
    flow.eval()
    try:
        in_ok = True  # every entry of states[k] finite (z and the mesh are): the usual case, no masking
        finite_in: list[bool] = []  # in_ok before each layer
        start = 0
        if cache is not None:  # (fingerprints only for a cache: ~0.8 ms for 8 RealNVP layers with their copies)
            prints = [(enabled[k], _fingerprint(layer)) for k, layer in enumerate(flow.bijections)]
            key = [z, z._version, gx, gy, tuple(ext), dtype, device, K, flow.base, _fingerprint(flow.base)]
            start = _reuse(cache, key, prints, N + V)
            if start:
                states[: start + 1] = cache.states[: start + 1]  # type: ignore[index]
                log_dets[:start] = cache.log_dets[:start]  # type: ignore[index]
                jac[:start] = cache.jac[:start]  # type: ignore[index]
                folded[: start + 1] = cache.folded[: start + 1]  # type: ignore[index]
                infos = [dataclasses.replace(info) for info in cache.infos[:start]]
                finite_in = cache.finite_in[:start]
                in_ok = cache.finite_in[start]
        for k, layer in enumerate(flow.bijections):
            if k < start:
                continue
            finite_in.append(in_ok)
            info = LayerInfo(name=type(layer).__name__, caption=layer.describe(), enabled=enabled[k],
                             error_scale=_error_scale(layer))
            h = states[k]
            if enabled[k]:
                ok = None if in_ok else torch.isfinite(h).all(-1)
                safe = h if ok is None else torch.where(ok[:, None], h, torch.zeros_like(h))
                out_p, ld_p = _chunked(flow, layer, safe[:N])
                out_m, ld_m, J = forward_with_jacobian(layer, safe[N:])
                states[k + 1, :N], states[k + 1, N:] = out_p, out_m
                log_dets[k, :N], log_dets[k, N:] = ld_p, ld_m
                if ok is not None:
                    states[k + 1, ~ok] = float("nan")
                    log_dets[k, ~ok] = float("nan")
                out_ok = _all_finite(out_p, out_m)
                if ok is None and out_ok and _all_finite(ld_m, J):
                    mesh_ok = None
                    jac[k] = J
                else:
                    # vertices whose input, output and Jacobian are finite (autograd can give finite
                    # derivatives where the output is NaN, e.g. log of a negative number)
                    mesh_ok = (torch.isfinite(out_m).all(-1) & torch.isfinite(ld_m)
                               & torch.isfinite(J).flatten(1).all(-1))
                    if ok is not None:
                        mesh_ok &= ok[N:]
                    # the readout shows J wherever J itself is finite (det J = 0 gives log|det| = -inf)
                    j_ok = torch.isfinite(J).flatten(1).all(-1)
                    if ok is not None:
                        j_ok &= ok[N:]
                    jac[k] = torch.where(j_ok[:, None, None], J, torch.zeros_like(J))
                in_ok = in_ok and out_ok
                Jd = jac[k].double() if mesh_ok is None else torch.where(mesh_ok[:, None, None], jac[k], 0.0).double()
                det = Jd[:, 0, 0] * Jd[:, 1, 1] - Jd[:, 0, 1] * Jd[:, 1, 0]
                orientation = _orientation(det, mesh_ok, border)
                flipped = torch.sign(det) != orientation
                if mesh_ok is not None:
                    flipped &= mesh_ok
                folded[k + 1] = folded[k] | flipped
                invertible = layer.is_invertible()
                message = layer.invertibility_message()
                if invertible and bool(flipped.any()):
                    invertible = False
                    message = "det J changes sign or vanishes: the map folds the plane over itself"
                info.invertible, info.message = invertible, message
            else:
                states[k + 1] = h
                jac[k] = eye
                folded[k + 1] = folded[k]
                info.caption = f"(off) {info.caption}"
            infos.append(info)
        finite_in.append(in_ok)  # after the last layer
    finally:
        flow.train(was_training)
    if cache is not None:
        if N + V <= cache.max_rows:
            cache.key, cache.prints, cache.finite_in, cache.infos = key, prints, finite_in, infos
            cache.states, cache.log_dets, cache.jac, cache.folded = states, log_dets, jac, folded
        else:
            cache.clear()

    cum = torch.cat([log_dets.new_zeros((1, N + V)), torch.cumsum(log_dets, 0)])
    logp = flow.base.log_prob(v).unsqueeze(0) - cum
    # every state, log-det and density finite (as the wire's float32: a float64 flow's 1e39 is not): no flags
    all_finite = in_ok and _all_finite(logp) and (dtype in FLOAT32_RANGE or _all_finite(
        states.to(torch.float32), logp.to(torch.float32)))
    if all_finite:
        finite = None
        finite_logp = logp.reshape(-1)
    else:
        # placed: the position is finite in this state and every earlier one; finite: the density too
        placed = torch.cumprod(finite32(states).all(-1).to(torch.uint8), 0).bool()
        finite = torch.cumprod((placed & finite32(logp)).to(torch.uint8), 0).bool()
        # per layer: how many sample points first became non-finite there
        for k, info in enumerate(infos):
            info.nonfinite = int((finite[k, :N] & ~finite[k + 1, :N]).sum())
        finite_logp = logp[finite]

    if finite_logp.numel():
        step = max(1, -(-finite_logp.numel() // 2048))
        hi = float(torch.quantile(finite_logp[::step].double().cpu(), 0.995))
        lo = max(float(finite_logp.min()), hi - 10.0)
        if not lo < hi:
            lo = hi - 1.0
    else:
        lo, hi = -10.0, 0.0
    if finite is None:  # one quantile call for every state
        bounds = _robust_bounds_all(states[:, :N])
    else:
        bounds = [_robust_bounds(states[k, :N], placed[k, :N]) for k in range(K + 1)]

    status, message = "ok", ""
    # NaN/inf parameters first: their layer's own invertibility test would read NaN (e.g. "w . u = nan < -1")
    broken = [k for k, layer in enumerate(flow.bijections) if _nonfinite_parameters(layer)]
    for k in broken:  # the caption prints the parameters: "u = (non-finite, ...)", not "nan"
        infos[k].caption = _finite_text(infos[k].caption)
    broken = [k for k in broken if enabled[k]]
    bad = [(k, info) for k, info in enumerate(infos) if info.enabled and not info.invertible]
    base_name = flow.base.describe()
    if _nonfinite_parameters(flow.base):
        base_name = _finite_text(base_name)
        status, message = "non-finite", f"the base distribution ({base_name}) has non-finite parameters"
    elif broken:
        k = broken[0]
        status, message = "non-finite", f"layer {k + 1} ({infos[k].name}) has non-finite parameters"
    elif bad:
        k, info = bad[0]
        status, message = "not invertible", info.message
    elif any(info.nonfinite for info in infos):
        k = next(i for i, info in enumerate(infos) if info.nonfinite)
        status = "non-finite"
        message = f"NaN/inf for {infos[k].nonfinite} of {N} points first at layer {k + 1} ({infos[k].name})"
        if dtype not in FLOAT32_RANGE:
            message += " (shown in float32: beyond +-3.4e38 counts as inf)"

    w = wire_float32  # every array as the wire's float32
    eps = float(torch.finfo(dtype).eps) / 2
    if finite is None:
        ones = torch.ones((K + 1, N + V), dtype=torch.bool, device=device)
        return PlayerScene(
            points=w(states[:, :N], clean=True), points_logp=w(logp[:, :N], clean=True),
            points_finite=w(ones[:, :N], clean=True), mesh=w(states[:, N:], clean=True),
            logp=w(logp[:, N:], clean=True), finite=w(ones[:, N:], clean=True),
            jac=w(jac, clean=True), logdet=w(log_dets[:, N:], clean=True),
            folded=w(folded, clean=True), gx=gx, gy=gy, layers=infos, base=base_name,
            status=status, message=message, logp_range=(lo, hi), bounds=bounds, eps=eps)
    states = torch.where(placed[..., None], states, torch.zeros_like(states))
    logp = torch.where(finite, logp, torch.zeros_like(logp))
    return PlayerScene(
        points=w(states[:, :N]), points_logp=w(logp[:, :N]), points_finite=w(placed[:, :N], clean=True),
        mesh=w(states[:, N:]), logp=w(logp[:, N:]), finite=w(finite[:, N:], clean=True),
        jac=w(jac), logdet=w(log_dets[:, N:]), folded=w(folded, clean=True), gx=gx, gy=gy,
        layers=infos, base=base_name, status=status, message=message, logp_range=(lo, hi), bounds=bounds,
        placed=w(placed[:, N:], clean=True))
