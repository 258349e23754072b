"""Speed of flowviz against zuko, normflows, nflows and a bare-torch reference, in one process.

For each architecture (8-layer RealNVP, 5-layer MAF, 5-layer NSF; conditioners 2x64; 2D) and
each size N, the implementations are timed round-robin (the order rotates every repeat), after
a warm-up call of each at that size, under ``torch.no_grad()``; medians are reported.

Timed calls:
  flowviz.trace_inverse(x)  all K+1 states and K per-layer log-dets, data -> base (density direction)
  flowviz.trace(z)          the same for base -> data (what the FlowPlayer widget draws)
  flowviz.log_prob(x)       (for information)
  bare.log_prob(x)          a straightforward whole-batch torch implementation (benchmarks/_models.py)
  zuko / normflows / nflows .log_prob(x)   each library's plain density call

ratio = peer time / flowviz time (> 1: flowviz faster). Targets (issue): flowviz no slower than
the fastest peer at 10k and 100k, at least 2x faster at 1M.

    python benchmarks/bench_speed.py                 # full run, CPU (~10 min on 2 cores)
    python benchmarks/bench_speed.py --quick         # ~1 min smoke run
    python benchmarks/bench_speed.py --device cuda   # on a GPU, when there is one

Writes benchmarks/results/speed-<device>.json (``--out`` to change).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import importlib.metadata
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _models as M  # noqa: E402

PEERS = ("zuko", "normflows", "nflows")
FLOWVIZ_CALLS = ("flowviz.trace_inverse", "flowviz.trace")
DEFAULT_REPEATS = {10_000: 15, 100_000: 7, 1_000_000: 3}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _time(fn: Callable[[], object], device: torch.device) -> float:
    _sync(device)
    t0 = time.perf_counter()
    out = fn()
    _sync(device)
    t = time.perf_counter() - t0
    del out
    return t


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "torch": torch.__version__}
    for name in ("zuko", "normflows", "nflows"):
        try:
            out[name] = importlib.metadata.version(name)
        except Exception as e:  # noqa: BLE001
            out[name] = f"unavailable ({type(e).__name__})"
    return out


def build_tasks(arch: str, libs: list[str], device: torch.device, seed: int) -> tuple[dict, dict[str, int]]:
    """Models for one architecture: name -> (kind, model); and parameter counts."""
    g = torch.Generator().manual_seed(seed)
    models: dict[str, M.Model] = {}
    fv = M.build("flowviz", arch)
    M.perturb(fv.module, g)
    models["flowviz"] = fv
    if "bare" in libs:
        models["bare"] = M.bare_from_flowviz(fv)  # the same weights: its log_prob must agree
    for lib in libs:
        if lib in PEERS:
            try:
                m = M.build(lib, arch)
            except Exception as e:  # noqa: BLE001
                print(f"  [{arch}] {lib} unavailable: {type(e).__name__}: {e}")
                continue
            M.perturb(m.module, g)
            models[lib] = m
    for m in models.values():
        m.module.to(device).eval()
    return models, {k: m.n_params for k, m in models.items()}


def run(args: argparse.Namespace) -> dict:
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device here")
    torch.set_num_threads(args.threads)
    libs = args.libs
    results: list[dict] = []
    params: dict[str, dict[str, int]] = {}
    checks: dict[str, float] = {}
    t_start = time.perf_counter()
    load_start = os.getloadavg()
    for arch in args.archs:
        models, params[arch] = build_tasks(arch, libs, device, args.seed)
        print(f"\n== {arch}: parameters " + ", ".join(f"{k} {v}" for k, v in params[arch].items()), flush=True)
        fv = models["flowviz"]
        flow = fv.module
        gx = torch.Generator().manual_seed(args.seed + 1)
        with torch.no_grad():
            x_chk = (1.5 * torch.randn(4096, 2, generator=gx)).to(device)
            if "bare" in models:
                checks[arch] = float((fv.log_prob(x_chk) - models["bare"].log_prob(x_chk)).abs().max())
                print(f"  bare vs flowviz log_prob, max |diff| on 4096 points: {checks[arch]:.2e}")
            tr = flow.trace_inverse(x_chk)
            lp = flow.base.log_prob(tr.states[-1]) + tr.log_det
            print(f"  trace_inverse vs log_prob, max |diff|: {float((lp - fv.log_prob(x_chk)).abs().max()):.2e}")
        for n in args.sizes:
            x = (1.5 * torch.randn(n, 2, generator=gx)).to(device)
            z = torch.randn(n, 2, generator=gx).to(device)
            tasks: dict[str, Callable[[], object]] = {
                "flowviz.trace_inverse": lambda: flow.trace_inverse(x),
                "flowviz.trace": lambda: flow.trace(z),
            }
            if args.flowviz_log_prob and n <= 100_000:
                tasks["flowviz.log_prob"] = lambda: fv.log_prob(x)
            for lib, m in models.items():
                if lib != "flowviz":
                    tasks[f"{lib}.log_prob"] = (lambda m=m: m.log_prob(x))
            names = list(tasks)
            reps = args.repeats_for(n)
            times: dict[str, list[float]] = {k: [] for k in names}
            with torch.no_grad():
                for k in names:  # warm-up at this size (allocator, caches, lazy init)
                    for _ in range(args.warmup):
                        _time(tasks[k], device)
                gc.collect()
                for r in range(reps):
                    order = names[r % len(names):] + names[:r % len(names)]
                    for k in order:
                        times[k].append(_time(tasks[k], device))
            med = {k: statistics.median(v) for k, v in times.items()}
            for k in names:
                results.append({"arch": arch, "n": n, "impl": k, "median_s": med[k], "min_s": min(times[k]),
                                "times_s": times[k], "repeats": reps})
            _print_block(arch, n, med)
            del x, z, tasks
            gc.collect()
        del models, fv, flow
        gc.collect()
    wall = time.perf_counter() - t_start
    return {
        "meta": {"date": dt.datetime.now().isoformat(timespec="seconds"), "device": str(device),
                 "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else _cpu_name(),
                 "threads": torch.get_num_threads(), "cpu_count": os.cpu_count(), "versions": _versions(),
                 "command": "python " + " ".join(sys.argv), "warmup": args.warmup, "seed": args.seed,
                 "flowviz_chunk_size": _chunk_size(), "wall_s": wall,
                 "loadavg_start": load_start, "loadavg_end": os.getloadavg()},
        "params": params, "bare_vs_flowviz_max_abs_diff": checks, "results": results,
        "summary": summarise(results),
    }


def _chunk_size() -> int:
    from flowviz.flows.flow import DEFAULT_CHUNK_SIZE
    return DEFAULT_CHUNK_SIZE


def _print_block(arch: str, n: int, med: dict[str, float]) -> None:
    fvi, fvt = med["flowviz.trace_inverse"], med["flowviz.trace"]
    print(f"  N={n:>9,d}   {'median ms':>10s}  {'/ trace_inv':>11s}  {'/ trace':>8s}")
    for k, v in med.items():
        print(f"    {k:24s} {1e3 * v:10.1f}  {v / fvi:11.2f}  {v / fvt:8.2f}", flush=True)


def summarise(results: list[dict]) -> list[dict]:
    """Per (arch, n): the fastest peer and the ratios against both flowviz calls, with the target."""
    rows = []
    keys = sorted({(r["arch"], r["n"]) for r in results}, key=lambda t: (M.ARCHS.index(t[0]), t[1]))
    for arch, n in keys:
        med = {r["impl"]: r["median_s"] for r in results if r["arch"] == arch and r["n"] == n}
        peers = {k.split(".")[0]: v for k, v in med.items() if k.split(".")[0] in PEERS}
        row = {"arch": arch, "n": n, "ms": {k: 1e3 * v for k, v in med.items()}}
        if peers:
            best = min(peers, key=peers.get)
            target = 2.0 if n >= 1_000_000 else 1.0
            row.update({"fastest_peer": best, "target_ratio": target})
            for call in FLOWVIZ_CALLS:
                ratio = peers[best] / med[call]
                row[f"ratio_{call.split('.')[1]}"] = ratio
                row[f"meets_{call.split('.')[1]}"] = ratio >= target
        if "bare.log_prob" in med:
            for call in FLOWVIZ_CALLS:
                row[f"bare_ratio_{call.split('.')[1]}"] = med["bare.log_prob"] / med[call]
        rows.append(row)
    return rows


def print_summary(summary: list[dict]) -> None:
    print("\nSummary: median ms; ratio = fastest peer / flowviz (> 1: flowviz faster); target >= 1 at 10k, 100k; >= 2 at 1M")
    head = (f"{'arch':8s} {'N':>9s} {'fv.trace_inv':>12s} {'fv.trace':>9s} {'bare':>8s} {'zuko':>8s} "
            f"{'normflows':>9s} {'nflows':>8s}  {'fastest':>9s} {'r(tr_inv)':>9s} {'r(trace)':>8s}  met")
    print(head)
    for r in summary:
        ms = r["ms"]

        def f(k: str, w: int) -> str:
            return f"{ms[k]:{w}.1f}" if k in ms else f"{'-':>{w}s}"

        met = ""
        if "fastest_peer" in r:
            met = ("yes" if r["meets_trace_inverse"] else "NO") + "/" + ("yes" if r["meets_trace"] else "NO")
        print(f"{r['arch']:8s} {r['n']:>9,d} {f('flowviz.trace_inverse', 12)} {f('flowviz.trace', 9)} "
              f"{f('bare.log_prob', 8)} {f('zuko.log_prob', 8)} {f('normflows.log_prob', 9)} {f('nflows.log_prob', 8)}  "
              f"{r.get('fastest_peer', '-'):>9s} {r.get('ratio_trace_inverse', float('nan')):9.2f} "
              f"{r.get('ratio_trace', float('nan')):8.2f}  {met}")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--quick", action="store_true", help="~1 minute smoke run (10k and 100k, few repeats)")
    p.add_argument("--archs", nargs="+", default=list(M.ARCHS), choices=M.ARCHS)
    p.add_argument("--libs", nargs="+", default=["bare", *PEERS], choices=["bare", *PEERS],
                   help="implementations besides flowviz")
    p.add_argument("--sizes", nargs="+", type=int, default=None)
    p.add_argument("--repeats", type=int, default=None, help="repeats at every size (default 15 / 7 / 3)")
    p.add_argument("--warmup", type=int, default=1, help="untimed calls per implementation and size")
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    p.add_argument("--no-flowviz-log-prob", dest="flowviz_log_prob", action="store_false",
                   help="skip the informational flowviz.log_prob row (timed only up to 100k)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    if args.sizes is None:
        args.sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    quick_reps = {10_000: 5, 100_000: 2}

    def repeats_for(n: int) -> int:
        if args.repeats is not None:
            return args.repeats
        if args.quick:
            return quick_reps.get(n, 2)
        return DEFAULT_REPEATS.get(n, 15 if n < 50_000 else 7 if n < 500_000 else 3)

    args.repeats_for = repeats_for
    report = run(args)
    print_summary(report["summary"])
    print(f"\nwall time {report['meta']['wall_s']:.0f} s")
    out = args.out or Path(__file__).resolve().parent / "results" / (
        f"speed-{torch.device(args.device).type}" + ("-quick" if args.quick else "") + ".json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
