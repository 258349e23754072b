"""Why does flowviz's NSF fit moons worse than zuko's? Train flowviz NSF variants on the same batches.

Variants (monkeypatched, nothing in flowviz/ is edited):
  current      flowviz.flows.nsf as it is: the density direction (x -> z) applies the spline's INVERSE
  fwd_density  the density direction applies the spline FORWARD (as zuko, nflows, normflows do);
               sampling then uses the inverse
  random_init  the last MADE layer keeps torch's default init instead of zeros (as zuko)

    python benchmarks/probe_nsf_quality.py --variants current fwd_density --seeds 0 1 --dataset moons
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _models as M  # noqa: E402
from bench_quality import make_data  # noqa: E402


def run(variant: str, dataset: str, seed: int, steps: int) -> dict:
    torch.set_num_threads(1)
    from flowviz.flows import autoregressive
    from flowviz.flows.splines import rational_quadratic_spline

    if variant == "fwd_density":
        orig = autoregressive.MaskedAutoregressive._tau

        def tau(self, v, theta, inverse):  # noqa: ANN001, ANN202
            if self.transform == "affine":
                return orig(self, v, theta, inverse)
            out, logd = rational_quadratic_spline(v, theta, self.bound, inverse=not inverse)
            return out, logd.sum(-1)

        autoregressive.MaskedAutoregressive._tau = tau
    batches, test, entropy = make_data(dataset, seed, steps, 512, 20_000)
    torch.manual_seed(seed)
    model = M.build("flowviz", "nsf")
    if variant == "random_init":
        for layer in model.module.layers:
            if hasattr(layer, "made"):
                layer.made.net[-1].reset_parameters()
    opt = torch.optim.Adam(model.module.parameters(), lr=1e-3)
    t0 = time.perf_counter()
    for step in range(steps):
        loss = -model.log_prob(batches[step]).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        nll = -float(model.log_prob(test).double().mean())
    return {"variant": variant, "dataset": dataset, "seed": seed, "steps": steps, "test_nll": nll,
            "kl_gap": nll - entropy, "train_s": time.perf_counter() - t0}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variants", nargs="+", default=["fwd_density", "random_init"])
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
