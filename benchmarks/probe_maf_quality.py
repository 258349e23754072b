"""Why was flowviz's MAF behind zuko's on 8gaussians? Train MAF variants on the same batches.

Variants (all 5 affine MADE layers, MADE 2x64, order reversed between layers, same seed and batches as
bench_quality.py); the names in results/probe-maf-quality.json are in brackets:
  sampling3    x_i = z_i exp(s_i) + t_i, log-scale soft-clamped to +-3: flowviz's maf before 2026-11-28 [default]
  sampling7    the same with the bound +-6.9 (zuko's MonotonicAffineTransform: near +-log(1e3)) [limit7]
  density3     written in the density direction, z_i = x_i exp(s_i) + t_i (as zuko), bound +-3 [density]
  density7     density direction and bound +-6.9: zuko's parametrisation; flowviz's maf now [density7]
  random_init  sampling3 with the last MADE layer at torch's default init instead of zeros (as zuko)

    python benchmarks/probe_maf_quality.py --variants sampling3 density7 --seeds 0 1 2 3 4 5 --dataset 8gaussians
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _models as M  # noqa: E402
from bench_quality import train_and_score  # noqa: E402

VARIANTS = ("sampling3", "sampling7", "density3", "density7", "random_init")


def build(variant: str) -> M.Model:
    from flowviz.flows import maf

    direction = "density" if variant.startswith("density") else "sampling"
    flow = maf(2, M.LAYERS["maf"], 64, depth=2, direction=direction, scale_limit=6.9 if variant.endswith("7") else 3.0)
    if variant == "random_init":
        for layer in flow.layers:
            if hasattr(layer, "made"):
                layer.made.net[-1].reset_parameters()
    return M.Model("flowviz", "maf", flow, flow.log_prob)


def run(variant: str, dataset: str, seed: int, steps: int) -> dict:
    torch.set_num_threads(1)
    r = train_and_score(lambda: build(variant), dataset, seed, steps)
    return {"variant": variant, **{k: r[k] for k in ("dataset", "seed", "steps", "test_nll", "kl_gap", "train_s")}}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variants", nargs="+", default=["sampling3", "density7"], choices=VARIANTS)
    p.add_argument("--dataset", default="8gaussians")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "probe-maf-quality.json")
    args = p.parse_args()
    results = []
    for s in args.seeds:
        for v in args.variants:
            r = run(v, args.dataset, s, args.steps)
            print(f"{r['variant']:12s} {r['dataset']} seed {r['seed']}: KL gap {r['kl_gap']:.4f} ({r['train_s']:.0f} s)",
                  flush=True)
            results.append(r)
    old = json.loads(args.out.read_text()) if args.out.exists() else []
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(old + results, indent=1))


if __name__ == "__main__":
    main()
