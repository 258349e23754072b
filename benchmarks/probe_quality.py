"""Why did flowviz's MAF and NSF fit worse than zuko's? Train flowviz variants on the same batches as
bench_quality.py (same seed, same batches, same test set) and report the KL gap of each.

NSF (``--model nsf``; 5 spline MADE layers, 8 bins; results/probe-nsf-quality.json, where older runs call
``sampling`` "current" and ``density`` "fwd_density"):
  sampling     nsf(direction="sampling"): x_i = S(z_i), the density direction inverts the spline
  density      nsf(direction="density"): z_i = S(x_i), as zuko, nflows, normflows do; flowviz's nsf now
  random_init  sampling, with the last MADE layer at torch's default init instead of zeros (as zuko)

MAF (``--model maf``; 5 affine MADE layers; results/probe-maf-quality.json, older names in brackets):
  sampling3    x_i = z_i exp(s_i) + t_i, log-scale soft-clamped to +-3: flowviz's maf before [default]
  sampling7    the same with the bound +-6.9 (zuko's MonotonicAffineTransform: near +-log(1e3)) [limit7]
  density3     written in the density direction, z_i = x_i exp(s_i) + t_i (as zuko), bound +-3 [density]
  density7     density direction and bound +-6.9: zuko's parametrisation; flowviz's maf now [density7]
  random_init  sampling3 with the last MADE layer at torch's default init

    python benchmarks/probe_quality.py --model nsf --variants sampling density --seeds 0 1 --dataset moons
    python benchmarks/probe_quality.py --model maf --variants sampling3 density7 --seeds 0 1 2 3 4 5 --dataset 8gaussians
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _models as M  # noqa: E402
from bench_quality import train_and_score  # noqa: E402

VARIANTS = {"nsf": ("sampling", "density", "random_init"),
            "maf": ("sampling3", "sampling7", "density3", "density7", "random_init")}
RESULTS = Path(__file__).resolve().parent / "results"


def build(model: str, variant: str) -> M.Model:
    from flowviz.flows import maf, nsf

    direction = "density" if variant.startswith("density") else "sampling"
    if model == "nsf":
        flow = nsf(2, M.LAYERS["nsf"], 64, bins=M.BINS, bound=M.BOUND, depth=2, direction=direction)
    else:
        flow = maf(2, M.LAYERS["maf"], 64, depth=2, direction=direction,
                   scale_limit=6.9 if variant.endswith("7") else 3.0)
    if variant == "random_init":
        for layer in flow.layers:
            if hasattr(layer, "made"):
                layer.made.net[-1].reset_parameters()
    return M.Model("flowviz", model, flow, flow.log_prob)


def run(model: str, variant: str, dataset: str, seed: int, steps: int) -> dict:
    torch.set_num_threads(1)
    r = train_and_score(lambda: build(model, variant), dataset, seed, steps)
    return {"variant": variant, **{k: r[k] for k in ("dataset", "seed", "steps", "test_nll", "test_entropy", "kl_gap", "kl_gap_true_entropy", "train_s")}}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", choices=sorted(VARIANTS), required=True)
    p.add_argument("--variants", nargs="+")
    p.add_argument("--dataset", default="moons")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--jobs", type=int, default=1, choices=[1, 2])
    p.add_argument("--out", type=Path, help="default: results/probe-<model>-quality.json (runs are appended)")
    args = p.parse_args()
    variants = args.variants or list(VARIANTS[args.model][:2])
    bad = [v for v in variants if v not in VARIANTS[args.model]]
    if bad:
        p.error(f"unknown {args.model} variants {bad}; choose from {VARIANTS[args.model]}")
    out = args.out or RESULTS / f"probe-{args.model}-quality.json"
    tasks = [(args.model, v, args.dataset, s, args.steps) for s in args.seeds for v in variants]
    with ProcessPoolExecutor(max_workers=args.jobs) as ex:
        results = []
        for r in ex.map(run, *zip(*tasks)):
            print(f"{r['variant']:12s} {r['dataset']} seed {r['seed']}: KL gap {r['kl_gap']:.4f} ({r['train_s']:.0f} s)",
                  flush=True)
            results.append(r)
    old = json.loads(out.read_text()) if out.exists() else []
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(old + results, indent=1))


if __name__ == "__main__":
    main()
