"""Measure proposed speed changes to flowviz.flows without editing it (monkeypatches, restored after).

Each proposal is checked for exactness first (states, log-dets and gradients equal to the current
code's on random, non-identity parameters, up to float32 rounding: MKL's matmul results can differ
in the last bits with the row count and buffer alignment), then timed interleaved against the current code:

  ar_forward     MaskedAutoregressive.forward: the first MADE pass sees x = 0, so it is evaluated on one
                 row and broadcast; each pass then applies the transform to its own coordinate only.
                 (Sequential sampling in 2D: one full MADE pass + one full transform instead of two of each.)
  balanced       Flow._chunks: ceil(N / chunk_size) chunks of equal size (10k -> 2 x 5000, not 8192 + 1808).
  couple_copy    Coupling._couple: clone + index_copy_ of part B instead of cat([a, b])[:, unsplit].
  (spline_pad, F.pad for the spline's knots, was removed with the spline rewrite it patched: speed-up 5 in
  benchmarks/README.md superseded it.)
  no_check       (for scale only, not proposed) per-layer check_input calls made no-ops.
  csN / csNb     trace chunks of N rows (b: balanced, at most N rows), e.g. cs16384b; for chunk-size sweeps.
  all            ar_forward + balanced + couple_copy.

    python benchmarks/bench_proposals.py            # ~3-4 min on 2 cores
    python benchmarks/bench_proposals.py --sizes 10000 100000 --repeats 15

Writes benchmarks/results/proposals-cpu.json.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import torch
from torch import Tensor

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _models as M  # noqa: E402

from flowviz.flows import autoregressive, coupling, linear  # noqa: E402
from flowviz.flows import flow as flow_mod
from flowviz.flows.base import check_input  # noqa: E402


# -- the proposed code ------------------------------------------------------------------------
def ar_forward(self: autoregressive.MaskedAutoregressive, z: Tensor) -> tuple[Tensor, Tensor]:
    """Sequential: pass i fixes coordinate i. Pass 0 sees x = 0, the same for every row."""
    check_input(z, self.dim, "z")
    n = z.shape[0]
    x = torch.zeros_like(z)
    log_det = z.new_zeros(n)
    theta = self.made(z.new_zeros(1, self.dim))
    for i in range(self.dim):
        if i:
            theta = self.made(x)
        xi, ld = self._tau(z[:, i:i + 1], theta[:, i:i + 1].expand(n, 1, -1), inverse=False)
        x = x.index_copy(1, torch.tensor([i], device=z.device), xi)  # out of place: autograd-safe
        log_det = log_det + ld
    return x, log_det


def balanced_chunks(self: flow_mod.Flow, n: int) -> list[slice]:
    if not n:
        return []
    k = math.ceil(n / max(1, int(self.chunk_size)))
    size = math.ceil(n / k)
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


def _fixed_chunks(size_: int, balanced: bool) -> Callable:
    def chunks(self: flow_mod.Flow, n: int) -> list[slice]:
        if not n:
            return []
        size = size_
        if balanced:
            size = math.ceil(n / math.ceil(n / size_))
        return [slice(i, min(i + size, n)) for i in range(0, n, size)]
    return chunks


def couple_copy(self: coupling.Coupling, v: Tensor, inverse: bool) -> tuple[Tensor, Tensor]:
    a = v.index_select(1, self.idx_a)
    out_b, log_det = self._transform(v.index_select(1, self.idx_b), self._theta(a), inverse)
    return v.clone().index_copy_(1, self.idx_b, out_b), log_det


def _patch(obj: object, name: str, value: object) -> contextlib.AbstractContextManager:
    @contextlib.contextmanager
    def cm() -> Iterator[None]:
        old = obj.__dict__[name] if isinstance(obj, type) else getattr(obj, name)
        setattr(obj, name, value)
        try:
            yield
        finally:
            setattr(obj, name, old)
    return cm()


def patches(name: str) -> contextlib.ExitStack:
    st = contextlib.ExitStack()
    names = ["ar_forward", "balanced", "couple_copy"] if name == "all" else [name]
    for n in names:
        if n == "ar_forward":
            st.enter_context(_patch(autoregressive.MaskedAutoregressive, "forward", ar_forward))
        elif n == "balanced":
            st.enter_context(_patch(flow_mod.Flow, "_chunks", balanced_chunks))
        elif n == "couple_copy":
            st.enter_context(_patch(coupling.Coupling, "_couple", couple_copy))
        elif n.startswith("cs"):  # e.g. cs16384, cs16384b (balanced): trace's chunking only
            size = int(n[2:].rstrip("b"))
            st.enter_context(_patch(flow_mod.Flow, "_chunks", _fixed_chunks(size, n.endswith("b"))))
        elif n == "no_check":
            def noop(*a: object, **k: object) -> None:
                return None
            for mod in (coupling, autoregressive, linear):
                st.enter_context(_patch(mod, "check_input", noop))
        elif n != "current":
            raise ValueError(n)
    return st


# -- checks and timing ------------------------------------------------------------------------
def check_exact(arch: str, name: str, g: torch.Generator) -> dict[str, float]:
    fv = M.build("flowviz", arch)
    M.perturb(fv.module, g, std=0.05)
    flow = fv.module
    x, z = 2 * torch.randn(3000, 2, generator=g), torch.randn(3000, 2, generator=g)
    x[:5] *= 4  # some points outside the spline interval
    ref_i, ref_f = flow.trace_inverse(x), flow.trace(z)
    xs, zs = x[:256], z[:256]
    flow.zero_grad()
    (flow.log_prob(xs).sum() + sum(t.sum() for t in flow(zs))).backward()
    ref_g = [p.grad.clone() for p in flow.parameters()]
    old_cs = flow.chunk_size
    flow.chunk_size = 700  # several (unequal) chunks
    ref_ci = flow.trace_inverse(x)
    with patches(name):
        new_i, new_f = flow.trace_inverse(x), flow.trace(z)
        new_ci = flow.trace_inverse(x)
        flow.chunk_size = old_cs
        flow.zero_grad()
        (flow.log_prob(xs).sum() + sum(t.sum() for t in flow(zs))).backward()
        new_g = [p.grad.clone() for p in flow.parameters()]
    flow.chunk_size = old_cs

    def d(a: Tensor, b: Tensor) -> float:  # relative: max |a - b| / max |a|
        return float((a - b).abs().max() / a.abs().max().clamp_min(1e-30))

    return {"trace_inverse": max(d(ref_i.states, new_i.states), d(ref_i.log_dets, new_i.log_dets)),
            "trace": max(d(ref_f.states, new_f.states), d(ref_f.log_dets, new_f.log_dets)),
            "chunked": max(d(ref_ci.states, new_ci.states), d(ref_ci.log_dets, new_ci.log_dets)),
            "grad": max(d(a, b) for a, b in zip(ref_g, new_g, strict=True))}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--archs", nargs="+", default=list(M.ARCHS), choices=M.ARCHS)
    p.add_argument("--sizes", nargs="+", type=int, default=[10_000, 100_000])
    p.add_argument("--repeats", type=int, default=None)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--variants", nargs="+", default=None,
                   help="override the variants timed, e.g. current balanced cs16384 cs16384b (chunk sizes)")
    p.add_argument("--calls", nargs="+", default=["trace_inverse", "trace"], choices=["trace_inverse", "trace"])
    p.add_argument("--no-exactness", action="store_true")
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "proposals-cpu.json")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(0)
    relevant = {"realnvp": ["current", "no_check", "balanced", "couple_copy", "all"],
                "maf": ["current", "no_check", "balanced", "ar_forward", "all"],
                "nsf": ["current", "no_check", "balanced", "ar_forward", "all"]}
    out: dict = {"meta": {"date": dt.datetime.now().isoformat(timespec="seconds"), "threads": args.threads,
                          "command": "python " + " ".join(sys.argv), "loadavg_start": os.getloadavg()},
                 "exactness": {}, "timings": []}
    if args.variants:
        relevant = {a: ["current", *[v for v in args.variants if v != "current"]] for a in relevant}
    for arch in args.archs if not args.no_exactness else []:
        for name in relevant[arch][1:]:
            if name != "no_check":
                out["exactness"][f"{arch}/{name}"] = ex = check_exact(arch, name, g)
                print(f"exactness {arch:8s} {name:12s} max |diff| / max |ref| " + "  ".join(f"{k} {v:.1e}" for k, v in ex.items()))
    print("\nmin / median ms over interleaved repeats; speed-up = current / variant (medians)")
    for arch in args.archs:
        fv = M.build("flowviz", arch)
        M.perturb(fv.module, g)
        flow = fv.module
        bare = M.bare_from_flowviz(fv)
        for n in args.sizes:
            x, z = 1.5 * torch.randn(n, 2, generator=g), torch.randn(n, 2, generator=g)
            reps = args.repeats or (21 if n <= 20_000 else 9 if n <= 200_000 else 3)
            for call in args.calls:
                variants = relevant[arch]
                fns: dict[str, Callable[[], object]] = {}
                for v in variants:
                    def fn(v: str = v) -> object:
                        with patches(v):
                            return getattr(flow, call)(x if call == "trace_inverse" else z)
                    fns[v] = fn
                if call == "trace_inverse":
                    fns["bare.log_prob"] = lambda: bare.log_prob(x)
                times: dict[str, list[float]] = {k: [] for k in fns}
                with torch.no_grad():
                    for f in fns.values():
                        f()
                    for r in range(reps):
                        keys = list(fns)
                        keys = keys[r % len(keys):] + keys[:r % len(keys)]
                        for k in keys:
                            t0 = time.perf_counter()
                            res = fns[k]()
                            times[k].append(time.perf_counter() - t0)
                            del res
                med = {k: statistics.median(v) for k, v in times.items()}
                row = {"arch": arch, "n": n, "call": call, "repeats": reps,
                       "min_ms": {k: 1e3 * min(v) for k, v in times.items()},
                       "median_ms": {k: 1e3 * m for k, m in med.items()},
                       "speedup_vs_current": {k: med["current"] / m for k, m in med.items()}}
                out["timings"].append(row)
                print(f"{arch:8s} {n:>8,d} {call:14s} " + "  ".join(
                    f"{k}:{row['min_ms'][k]:.1f}/{row['median_ms'][k]:.1f} (x{row['speedup_vs_current'][k]:.2f})"
                    for k in fns), flush=True)
    out["meta"]["loadavg_end"] = os.getloadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
