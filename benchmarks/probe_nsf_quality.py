"""Why did flowviz's NSF fit moons worse than zuko's? Train flowviz NSF variants on the same batches.

Variants:
  sampling     nsf(direction="sampling"): x_i = S(z_i), the density direction inverts the spline
               (flowviz's default before 2026-11-28; called ``current`` in results/probe-nsf-quality.json)
  density      nsf(direction="density"): z_i = S(x_i), as zuko, nflows, normflows do; now the
               default (called ``fwd_density`` in the results file, where it was monkeypatched)
  random_init  "sampling" with the last MADE layer at torch's default init instead of zeros (as zuko)

    python benchmarks/probe_nsf_quality.py --variants sampling density --seeds 0 1 --dataset moons
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

VARIANTS = ("sampling", "density", "random_init")


def build(variant: str) -> M.Model:
    from flowviz.flows import nsf

    flow = nsf(2, M.LAYERS["nsf"], 64, bins=M.BINS, bound=M.BOUND, depth=2,
               direction="density" if variant == "density" else "sampling")
    if variant == "random_init":
        for layer in flow.layers:
            if hasattr(layer, "made"):
                layer.made.net[-1].reset_parameters()
    return M.Model("flowviz", "nsf", flow, flow.log_prob)


def run(variant: str, dataset: str, seed: int, steps: int) -> dict:
    torch.set_num_threads(1)
    r = train_and_score(lambda: build(variant), dataset, seed, steps)
    return {"variant": variant, **{k: r[k] for k in ("dataset", "seed", "steps", "test_nll", "kl_gap", "train_s")}}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variants", nargs="+", default=["sampling", "density"], choices=VARIANTS)
    p.add_argument("--dataset", default="moons")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--jobs", type=int, default=2, choices=[1, 2])
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "probe-nsf-quality.json")
    args = p.parse_args()
    tasks = [(v, args.dataset, s, args.steps) for v in args.variants for s in args.seeds]
    with ProcessPoolExecutor(max_workers=args.jobs, max_tasks_per_child=1) as ex:  # a fresh process per run: patches stay apart
        results = list(ex.map(run, *zip(*tasks)))
    for r in results:
        print(f"{r['variant']:12s} {r['dataset']} seed {r['seed']}: KL gap {r['kl_gap']:.4f} ({r['train_s']:.0f} s)")
    old = json.loads(args.out.read_text()) if args.out.exists() else []
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(old + results, indent=1))


if __name__ == "__main__":
    main()
