"""The micro-measurements behind speed-ups 5-7, the readout Jacobians' skipped rows and the scene's chunks
(benchmarks/README.md): each change against the code it replaced, interleaved in one process, medians, one thread.

  spline      splines.rational_quadratic_spline, inverse, 5000 x 2 per-element parameters and 5000 x 1 with one
              shared parameter set, against the previous bin lookup (knots and derivatives for every bin, then
              gathers; a shared set was expanded to n copies), patched in for the comparison
  relu        MADE(2, 23 params, 2 x 64) at 10k rows with ReLU in place (current) and not
  select      a permutation of (10000, 2): torch.index_select (current) against x[:, idx]
  ar_forward  MaskedAutoregressive.forward (MAF affine and NSF spline layers, density direction, 10k rows, no autograd):
              current (pass 0 read off the MADE's bias, columns written in place) against the previous forward
              (a one-row MADE pass, out-of-place index_copy per column)
  made_block  MaskedAutoregressive.forward (sampling passes, density direction), dim 2 and 5, 5000 rows: each pass
              i >= 1 through MADE.block (output block i and the units it depends on; current) against the whole MADE
  jacobians   scene.player_scene for Affine + 8 RealNVP layers, 10k points, 65 x 65 mesh: readout Jacobians
              with the coupling's kept rows as unit rows (current) and with a derivative pass for every row
  scene_chunks the same scene at 10k and 100k points, the sample points through each layer in the flow's row
              chunks (current: one piece at 10k, 7 x 14286 at 100k; 2 x 5000 / 13 x 7693 before chunk_size went
              from 8192 to 16384) and all at once (previous)
  scene_finite the same scene at 10k and 100k points: finiteness known per layer from one sum per tensor
              (current) against commit 3189588's elementwise tests (loaded from git history)
  scene_cache  FlowPlayer's recompute after a change in the first or the last layer: player_scene with a
              SceneCache (the layers before the changed one reused; current) and without; Affine + 8 RealNVP
              at 10k points and the lecture flow at 5k points

  auto_grid    what grid="auto" costs (not a speed-up: the price of a finer mesh where 65 leaves triangles
              unresolved): player_scene of the shipped moons RealNVP, 5000 points, at gx=65 and gx="auto" (65, then
              129), with each one's share of unresolved triangles; and the lecture flow, which stays at 65

    python benchmarks/probe_speedups.py            # ~1-2 min on 2 cores
    python benchmarks/probe_speedups.py scene_cache jacobians   # some of them
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import statistics
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:  # run from a checkout without installing flowviz
    sys.path.insert(0, _ROOT)

from flowviz.flows import Affine, Flow, MaskedAutoregressive, realnvp, splines  # noqa: E402
from flowviz.flows.nets import MADE  # noqa: E402
from flowviz.scene import player as scene_player  # noqa: E402


def interleaved(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median seconds of each function, called in rotating order."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    names = list(fns)
    for f in fns.values():
        f()
    for r in range(repeats):
        for k in names[r % len(names):] + names[:r % len(names)]:
            t = time.perf_counter()
            fns[k]()
            times[k].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in times.items()}


# -- the replaced code ------------------------------------------------------------------------
def _old_knots(raw: Tensor, bound: float) -> tuple[Tensor, Tensor]:
    bins = raw.shape[-1]
    frac = splines.MIN_BIN + (1 - splines.MIN_BIN * bins) * torch.softmax(raw, dim=-1)
    cum = 2 * bound * F.pad(torch.cumsum(frac, dim=-1), (1, 0)) - bound
    cum = torch.cat([torch.full_like(cum[..., :1], -bound), cum[..., 1:-1], torch.full_like(cum[..., :1], bound)], -1)
    return cum, cum[..., 1:] - cum[..., :-1]


def old_lookup(params: Tensor, xc: Tensor, bins: int, bound: float, inverse: bool) -> tuple[Tensor, ...]:
    """The previous lookup: knots of both axes and the derivatives of every bin, then six gathers."""
    cum_x, widths = _old_knots(params[..., :bins], bound)
    cum_y, heights = _old_knots(params[..., bins:2 * bins], bound)
    inner = splines.MIN_DERIVATIVE + F.softplus(params[..., 2 * bins:] + splines._DERIVATIVE_SHIFT)
    ones = torch.ones_like(inner[..., :1])
    deriv = torch.cat([ones, inner, ones], -1)
    idx = (xc[..., None] >= (cum_y if inverse else cum_x)[..., 1:-1]).sum(-1)

    def g(t: Tensor) -> Tensor:
        return torch.gather(t, -1, idx[..., None])[..., 0]

    return g(cum_x), g(widths), g(cum_y), g(heights), g(deriv), g(deriv[..., 1:])


def old_ar_forward(layer: MaskedAutoregressive, z: Tensor) -> tuple[Tensor, Tensor]:
    """The previous sequential forward."""
    n = z.shape[0]
    x, log_det = torch.zeros_like(z), z.new_zeros(n)
    theta = layer.made(z.new_zeros(1, layer.dim))
    for i in range(layer.dim):
        if i:
            theta = layer.made(x)
        xi, ld = layer._tau(z[:, i:i + 1], theta[:, i:i + 1], inverse=False)
        x = x.index_copy(1, torch.tensor([i], device=z.device), xi.expand(n, 1))
        log_det = log_det + ld.expand(n)
    return x, log_det


def full_made_ar_forward(layer: MaskedAutoregressive, z: Tensor) -> tuple[Tensor, Tensor]:
    """The sequential forward before ``MADE.block``: pass i ran the whole MADE and used its block i."""
    n = z.shape[0]
    x, log_det = torch.zeros_like(z), z.new_zeros(n)
    theta = layer.made.first_params()
    for i in range(layer.dim):
        if i:
            theta = layer.made(x)
        xi, ld = layer._tau(z[:, i:i + 1], theta[:, i:i + 1], inverse=False)
        x[:, i:i + 1] = xi
        log_det = log_det + ld.expand(n)
    return x, log_det


def old_forward_with_jacobian(layer: nn.Module, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """The previous readout Jacobian: one reverse pass for every output row."""
    with torch.enable_grad():
        xg = x.detach().requires_grad_(True)
        out, log_det = layer(xg)
        rows = [torch.autograd.grad(out[:, i].sum(), xg, retain_graph=i < x.shape[1] - 1, allow_unused=True)[0]
                for i in range(x.shape[1])]
    rows = [torch.zeros_like(x) if r is None else r for r in rows]
    return out.detach(), log_det.detach(), torch.stack(rows, 1)


# -- the probes -------------------------------------------------------------------------------
def probe_spline() -> None:
    g = torch.Generator().manual_seed(0)
    x2, p2 = torch.randn(5000, 2, generator=g), torch.randn(5000, 2, 23, generator=g)
    x1, p1 = torch.randn(5000, 1, generator=g), torch.randn(1, 1, 23, generator=g)
    current = splines._lookup_batched

    def with_lookup(lookup: Callable[..., tuple[Tensor, ...]], x: Tensor, p: Tensor) -> Callable[[], object]:
        def run() -> object:
            splines._lookup_batched = lookup
            try:
                return splines.rational_quadratic_spline(x, p, inverse=True)
            finally:
                splines._lookup_batched = current
        return run

    a = with_lookup(old_lookup, x2, p2)()
    b = with_lookup(current, x2, p2)()
    diff = max(float((u - v).abs().max()) for u, v in zip(a, b, strict=True))
    with torch.no_grad():
        med = interleaved({"5000x2 previous": with_lookup(old_lookup, x2, p2),
                           "5000x2 current": with_lookup(current, x2, p2),
                           # the previous code expanded one shared parameter set to every row
                           "5000x1 shared previous": with_lookup(old_lookup, x1, p1.expand(5000, 1, 23)),
                           "5000x1 shared current": lambda: splines.rational_quadratic_spline(x1, p1, inverse=True)},
                          300)
    print(f"spline (inverse; max |difference| {diff:.1e}): "
          + ", ".join(f"{k} {1e6 * v:.0f} us" for k, v in med.items()))


def probe_relu() -> None:
    made = MADE(2, 23, 64, 2)
    plain = copy.deepcopy(made)
    for i, m in enumerate(plain.net):
        if isinstance(m, nn.ReLU):
            plain.net[i] = nn.ReLU()
    x = torch.randn(10_000, 2)
    with torch.no_grad():
        med = interleaved({"ReLU in place (current)": lambda: made(x), "ReLU": lambda: plain(x)}, 100)
    print("MADE 2 x 64 at 10k: " + ", ".join(f"{k} {1e3 * v:.2f} ms" for k, v in med.items()))


def probe_select() -> None:
    x, idx = torch.randn(10_000, 2), torch.tensor([1, 0])
    med = interleaved({"index_select (current)": lambda: torch.index_select(x, 1, idx),
                       "x[:, idx]": lambda: x[:, idx]}, 2000)
    print("permute (10000, 2): " + ", ".join(f"{k} {1e6 * v:.0f} us" for k, v in med.items()))


def probe_ar_forward() -> None:
    for transform in ("affine", "spline"):
        layer = MaskedAutoregressive(2, transform=transform, direction="density")
        g = torch.Generator().manual_seed(1)
        with torch.no_grad():
            for p in layer.parameters():
                p.add_(0.1 * torch.randn(p.shape, generator=g))
            z = torch.randn(10_000, 2, generator=g)
            same = torch.equal(layer(z)[0], old_ar_forward(layer, z)[0])
            med = interleaved({"current": lambda: layer(z), "previous": lambda: old_ar_forward(layer, z)}, 200)
        print(f"MaskedAutoregressive({transform}).forward at 10k (identical output: {same}): "
              + ", ".join(f"{k} {1e3 * v:.2f} ms" for k, v in med.items()))


def probe_made_block() -> None:
    for dim in (2, 5):
        for transform in ("affine", "spline"):
            layer = MaskedAutoregressive(dim, transform=transform, direction="density")
            g = torch.Generator().manual_seed(1)
            with torch.no_grad():
                for p in layer.parameters():
                    p.add_(0.1 * torch.randn(p.shape, generator=g))
                z = torch.randn(5000, dim, generator=g)
                diff = float((layer(z)[0] - full_made_ar_forward(layer, z)[0]).abs().max())
                med = interleaved({"block": lambda: layer(z), "whole MADE": lambda: full_made_ar_forward(layer, z)},
                                  300)
            print(f"MaskedAutoregressive({transform}, dim {dim}).forward at 5000 rows (max |difference| {diff:.1e}): "
                  + ", ".join(f"{k} {1e3 * v:.2f} ms" for k, v in med.items())
                  + f" ({med['whole MADE'] / med['block']:.2f}x)")


def player_flow() -> tuple[Flow, Tensor]:
    """bench_widget's parameter flow (Affine + 8 perturbed RealNVP layers) and 10k base points."""
    torch.manual_seed(0)
    flow8 = realnvp(2, layers=8, hidden=64)
    with torch.no_grad():
        for p in flow8.parameters():
            p.add_(0.1 * torch.randn_like(p))
    flow = Flow([Affine(2)] + [copy.deepcopy(layer) for layer in flow8.layers])
    return flow, flow.base.sample(10_000, torch.Generator().manual_seed(0))


def scene_with(name: str, fn: Callable[..., object], flow: Flow, z: Tensor) -> Callable[[], object]:
    """player_scene(flow, z) with scene.player's ``name`` replaced by ``fn`` for the call."""
    def run() -> object:
        current = getattr(scene_player, name)
        setattr(scene_player, name, fn)
        try:
            return scene_player.player_scene(flow, z, gx=65)
        finally:
            setattr(scene_player, name, current)
    return run


def module_at(rev: str, path: str, name: str) -> types.ModuleType:
    """The module at ``path`` as it was at git revision ``rev``, loaded as ``name`` (same package, so its
    relative imports resolve to the current flowviz): the replaced code, without a copy of it here."""
    source = subprocess.run(["git", "-C", _ROOT, "show", f"{rev}:{path}"], check=True, capture_output=True,
                            text=True).stdout
    spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    module.__package__ = name.rpartition(".")[0]
    sys.modules[name] = module  # dataclasses look their module up there
    exec(compile(source, f"{rev}:{path}", "exec"), module.__dict__)  # noqa: S102 - this repository's own history
    return module


def probe_scene_finite() -> None:
    """player_scene with finiteness known per layer from one sum per tensor (current) against 3189588's
    (an elementwise isfinite test of every input, output, Jacobian and state, and of every array sent)."""
    before = module_at("3189588", "flowviz/scene/player.py", "flowviz.scene._player_3189588")
    flow, _ = player_flow()
    for n in (10_000, 100_000):
        z = flow.base.sample(n, torch.Generator().manual_seed(0))
        a, b = scene_player.player_scene(flow, z, gx=65), before.player_scene(flow, z, gx=65)
        same = all(np.array_equal(v, b.arrays()[k]) for k, v in a.arrays().items()) and a.meta() == b.meta()
        med = interleaved({"current": lambda z=z: scene_player.player_scene(flow, z, gx=65),
                           "3189588": lambda z=z: before.player_scene(flow, z, gx=65)}, 30 if n == 10_000 else 8)
        print(f"player_scene, Affine + 8 RealNVP, {n:,} points (identical arrays and meta: {same}): "
              + ", ".join(f"{k} {1e3 * v:.1f} ms" for k, v in med.items()) + f" ({med['3189588'] / med['current']:.2f}x)")


def probe_jacobians() -> None:
    flow, z = player_flow()
    med = interleaved({
        "kept rows as unit rows (current)": scene_with("forward_with_jacobian", scene_player.forward_with_jacobian, flow, z),
        "a pass for every row": scene_with("forward_with_jacobian", old_forward_with_jacobian, flow, z)}, 30)
    print("player_scene, Affine + 8 RealNVP, 10k points: "
          + ", ".join(f"{k} {1e3 * v:.1f} ms" for k, v in med.items()))


def probe_scene_chunks() -> None:
    flow, _ = player_flow()

    def whole(flow: Flow, layer: nn.Module, x: Tensor) -> tuple[Tensor, Tensor]:
        return layer(x)  # the previous code: all points through a layer at once

    for n, repeats in ((10_000, 30), (100_000, 6)):
        z = flow.base.sample(n, torch.Generator().manual_seed(0))
        current = scene_with("_chunked", scene_player._chunked, flow, z)
        previous = scene_with("_chunked", whole, flow, z)
        same = all(torch.equal(torch.as_tensor(a), torch.as_tensor(b)) for a, b in
                   zip(current().arrays().values(), previous().arrays().values(), strict=True))
        med = interleaved({"points in the flow's row chunks (current)": current, "all points at once": previous}, repeats)
        print(f"player_scene, Affine + 8 RealNVP, {n // 1000}k points (identical arrays: {same}): "
              + ", ".join(f"{k} {1e3 * v:.1f} ms" for k, v in med.items()))


def probe_scene_cache() -> None:
    """FlowPlayer's recompute after one layer changed: player_scene with a SceneCache (layers before the
    changed one reused) against without, for a change in the first and in the last layer (a parameter nudged
    in place, alternately up and down, as a slider does), on Affine + 8 RealNVP at 10k points and on the
    lecture flow (affine, linear, planar, radial) at 5k points; identical arrays checked."""
    from flowviz.flows import Linear, Planar, Radial
    from flowviz.scene import SceneCache

    big, z_big = player_flow()
    lecture = Flow([Affine(2, scale=[1.5, 0.6], shift=[0.5, 0.0]), Linear(2, matrix=[[1.0, 1.0], [2.0, 0.0]]),
                    Planar(2, u=[1.0, 0.5], w=[1.2, 0.3], b=0.0), Radial(2, centre=[0.5, -0.5], alpha=0.5, beta=1.0)])
    z_lec = lecture.base.sample(5000, torch.Generator().manual_seed(0))
    for label, flow, z in (("Affine + 8 RealNVP, 10k points", big, z_big), ("lecture flow, 5k points", lecture, z_lec)):
        for where, layer in (("first", flow.layers[0]), ("last", flow.layers[-1])):
            param = next(p for p in layer.parameters())
            sign = [1.0]

            def nudge(param: Tensor = param, sign: list[float] = sign) -> None:
                with torch.no_grad():
                    param.view(-1)[0] += 1e-3 * sign[0]
                sign[0] = -sign[0]

            cache = SceneCache()
            scene_player.player_scene(flow, z, gx=65, cache=cache)
            nudge()
            a, b = scene_player.player_scene(flow, z, gx=65, cache=cache), scene_player.player_scene(flow, z, gx=65)
            same = all(np.array_equal(v, b.arrays()[k]) for k, v in a.arrays().items()) and a.meta() == b.meta()
            reused = cache.reused

            def cached(cache: SceneCache = cache, flow: Flow = flow, z: Tensor = z, nudge=nudge) -> object:  # noqa: ANN001
                nudge()
                return scene_player.player_scene(flow, z, gx=65, cache=cache)

            def full(flow: Flow = flow, z: Tensor = z, nudge=nudge) -> object:  # noqa: ANN001
                nudge()
                return scene_player.player_scene(flow, z, gx=65)

            med = interleaved({"cache (current)": cached, "no cache": full}, 30)
            print(f"player_scene, {label}, change in the {where} layer ({reused} layers reused; identical arrays "
                  f"and meta: {same}): " + ", ".join(f"{k} {1e3 * v:.1f} ms" for k, v in med.items())
                  + f" ({med['no cache'] / med['cache (current)']:.2f}x)")


def probe_auto_grid() -> None:
    """player_scene at gx=65 and gx="auto" for the shipped moons RealNVP and the lecture flow (5000 points):
    the mesh auto picks, the share of unresolved triangles (scene_player.unresolved_share) and the time."""
    from flowviz import pretrained
    from flowviz.flows import Linear, Planar, Radial

    lecture = Flow([Affine(2, scale=[1.5, 0.6], shift=[0.5, 0.0]), Linear(2, matrix=[[1.0, 1.0], [2.0, 0.0]]),
                    Planar(2, u=[1.0, 0.5], w=[1.2, 0.3], b=0.0), Radial(2, centre=[0.5, -0.5], alpha=0.5, beta=1.0)])
    for label, flow in (("moons RealNVP (pretrained)", pretrained.load("moons-realnvp")), ("lecture flow", lecture)):
        z = flow.base.sample(5000, torch.Generator().manual_seed(0))
        shown = {g: scene_player.player_scene(flow, z, gx=g) for g in (65, "auto")}
        med = interleaved({str(g): (lambda g=g: scene_player.player_scene(flow, z, gx=g)) for g in (65, "auto")}, 9)
        print(f"player_scene, {label}, 5000 points: " + ", ".join(
            f"gx={g}: {shown[g].gx} x {shown[g].gy}, unresolved {100 * scene_player.unresolved_share(shown[g]):.1f}%, "
            f"{1e3 * med[str(g)]:.0f} ms" for g in (65, "auto")) + f" ({med['auto'] / med['65']:.2f}x the time)")


PROBES = {"spline": probe_spline, "relu": probe_relu, "select": probe_select, "ar_forward": probe_ar_forward,
          "made_block": probe_made_block, "jacobians": probe_jacobians, "scene_chunks": probe_scene_chunks,
          "scene_finite": probe_scene_finite, "scene_cache": probe_scene_cache,
          "auto_grid": probe_auto_grid}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("probes", nargs="*", help=f"which probes, of {', '.join(PROBES)} (default: all)")
    args = parser.parse_args()
    unknown = [p for p in args.probes if p not in PROBES]
    if unknown:
        parser.error(f"unknown probe(s) {', '.join(unknown)}; choose from {', '.join(PROBES)}")
    torch.set_num_threads(1)
    for name in args.probes or PROBES:
        PROBES[name]()


if __name__ == "__main__":
    main()
