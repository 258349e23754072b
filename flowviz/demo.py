"""``python -m flowviz.demo``: fit a flow to a toy density and write a figure (data, density, samples).

    python -m flowviz.demo --data moons --model realnvp --steps 2000 --out flowviz-demo.png
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

import torch

from . import flows
from .data import DATASETS, get_dataset
from .train import fit

MODELS: dict[str, Callable[[int], flows.Flow]] = {
    "realnvp": flows.realnvp, "maf": flows.maf, "nsf": flows.nsf, "planar": flows.planar_flow}


def _steps(text: str) -> int:
    """argparse type: a whole number of steps >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"steps must be a whole number >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"steps must be a whole number >= 0, got {value}")
    return value


def _check_writable(parser: argparse.ArgumentParser, option: str, path: str) -> None:
    """Refuse (argparse error, exit status 2) an output path whose folder is missing or not writable, or that
    is a folder itself: checked before training, so that a typo does not cost the whole fit."""
    target = Path(path)
    folder = target.parent
    if target.is_dir():
        parser.error(f"{option} {path!r} is a folder; give a file name")
    if not folder.is_dir():
        parser.error(f"{option} {path!r}: the folder {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK):
        parser.error(f"{option} {path!r}: the folder {str(folder)!r} is not writable")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flowviz.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="moons", choices=sorted(DATASETS))
    parser.add_argument("--model", default="realnvp", choices=sorted(MODELS))
    parser.add_argument("--steps", type=_steps, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="flowviz-demo.png")
    parser.add_argument("--save", default=None, help="also save the fitted flow to this path (.pt)")
    args = parser.parse_args(argv)
    _check_writable(parser, "--out", args.out)
    if args.save:
        _check_writable(parser, "--save", args.save)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    torch.manual_seed(args.seed)
    dataset = get_dataset(args.data)
    flow = MODELS[args.model](2)
    history = fit(flow, dataset, steps=args.steps, seed=args.seed)
    data = dataset.sample(5000, torch.Generator().manual_seed(args.seed + 7))
    with torch.no_grad():
        samples = flow.sample(5000, torch.Generator().manual_seed(args.seed + 8))
        lo, hi = data.min(0).values - 0.5, data.max(0).values + 0.5
        t0 = torch.linspace(float(lo[0]), float(hi[0]), 300)
        t1 = torch.linspace(float(lo[1]), float(hi[1]), 300)
        xx, yy = torch.meshgrid(t0, t1, indexing="xy")
        density = flow.log_prob(torch.stack([xx.reshape(-1), yy.reshape(-1)], -1)).exp().reshape(300, 300)
    # matplotlib takes numpy arrays (tensors go through a deprecated __array__ path)
    data_np, samples_np, xx_np, yy_np, density_np = (t.cpu().numpy() for t in (data, samples, xx, yy, density))

    fig, axes = plt.subplots(1, 4, figsize=(16, 4), constrained_layout=True)
    axes[0].scatter(data_np[:, 0], data_np[:, 1], s=1, alpha=0.5)
    axes[0].set_title(f"data: {args.data}")
    axes[1].pcolormesh(xx_np, yy_np, density_np, cmap="viridis", shading="auto")
    axes[1].set_title(f"{args.model}: p(x) after {args.steps} steps")
    axes[2].scatter(samples_np[:, 0], samples_np[:, 1], s=1, alpha=0.5, color="C1")
    axes[2].set_title("samples x = G(z)")
    axes[3].plot(history.steps, history.train_nll, lw=0.6, label="train NLL")
    axes[3].plot(history.test_steps, history.test_nll, label="test NLL")
    if dataset.entropy is not None:
        axes[3].axhline(dataset.entropy, color="k", ls="--", lw=0.8, label="true entropy")
    axes[3].set_ylim(top=max(history.test_nll[:5] + [2.0]) if history.test_nll else None)
    axes[3].legend()
    axes[3].set_xlabel("step")
    for ax in axes[:3]:
        ax.set_xlim(float(lo[0]), float(hi[0]))
        ax.set_ylim(float(lo[1]), float(hi[1]))
        ax.set_aspect("equal")
    fig.savefig(args.out, dpi=120)
    gap = ""
    if dataset.entropy is not None and history.final_test_nll is not None:
        gap = f", KL gap {history.final_test_nll - dataset.entropy:.3f} nats"
    print(f"test NLL {history.final_test_nll:.3f} nats{gap}; figure written to {args.out}")
    if args.save:
        command = (f"python -m flowviz.demo --data {args.data} --model {args.model} --steps {args.steps}"
                   f" --seed {args.seed}")
        flows.save(flow, args.save, made_by=command, test_nll=history.final_test_nll, entropy=dataset.entropy,
                   steps=args.steps, seed=args.seed, torch=str(torch.__version__))
        print(f"flow saved to {args.save}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
