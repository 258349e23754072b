"""Fit quality of flowviz against zuko, normflows and nflows at the same architecture.

For each dataset (default: moons, true entropy 0.289 nats; 8gaussians, 2.834 nats), seed,
architecture (realnvp, maf, nsf: see benchmarks/_models.py) and library, the model is trained by
maximum likelihood for ``--steps`` Adam steps (lr 1e-3, batch 512, no gradient clipping, each
library's own initialisation seeded with the seed), then evaluated on a fixed test set:

    KL gap = mean over the test samples of [log p(x) - log q_theta(x)] = KL(p || q_theta)   (nats),

i.e. test NLL minus the test set's own mean -log p(x) (``test_entropy``), both datasets having an exact
log p. (Subtracting the true entropy instead adds the test sample's own error, -mean log p(test) - H,
about +-0.005 nats at 20k points and the same for every library of a (dataset, seed); runs record that
older estimate as ``kl_gap_true_entropy``. ``--requantify FILE...`` adds ``test_entropy`` and the paired
``kl_gap`` to results files written before, recomputing the shared test set from its seed.)

Fairness: per (dataset, seed) the training batches are drawn ONCE from the dataset's sampler with
a fixed generator (``steps x batch`` points) and the same tensors are fed to every library; the
test set (``--n-test`` points, an independent generator) is the same for every model. A checksum
of the batches is stored with every run. Every library is trained by the same plain loop
(``loss = -log_prob(batch).mean()``) on its own plain ``log_prob``; flowviz's own
:func:`flowviz.train.fit` is not used because it draws its own batches.

    python benchmarks/bench_quality.py                                  # full grid, 2 seeds
    python benchmarks/bench_quality.py --datasets moons --models nsf --libs flowviz zuko --steps 500
    python benchmarks/bench_quality.py --jobs 2                         # two worker processes

One process per job, each with torch.set_num_threads(1); at most 2 jobs. Results are merged into
benchmarks/results/quality.json (keyed by dataset, model, lib, seed, steps, batch, lr).
"""

from __future__ import annotations

import argparse
import datetime as dt
import fcntl
import hashlib
import importlib.metadata
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _models as M  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "quality.json"
PEERS = ("zuko", "normflows", "nflows")


def make_data(dataset: str, seed: int, steps: int, batch: int, n_test: int) -> tuple[torch.Tensor, torch.Tensor, float]:
    """(batches (steps, batch, 2), test set (n_test, 2), true entropy): deterministic in (dataset, seed)."""
    from flowviz.data import get_dataset

    ds = get_dataset(dataset)
    g_train = torch.Generator().manual_seed(1_000 + seed)
    g_test = torch.Generator().manual_seed(2_000_000 + seed)
    batches = ds.sample(steps * batch, g_train).reshape(steps, batch, 2)
    test = ds.sample(n_test, g_test)
    return batches, test, float(ds.entropy)


_TEST_ENTROPY: dict[tuple[str, int, int], tuple[float, str]] = {}


def test_entropy(dataset: str, seed: int, n_test: int = 20_000) -> tuple[float, str]:
    """(-mean log p(x) over the shared test set of (dataset, seed), in float64; that set's checksum)."""
    key = (dataset, seed, n_test)
    if key not in _TEST_ENTROPY:
        from flowviz.data import get_dataset

        _, test, _ = make_data(dataset, seed, 1, 1, n_test)
        logp = get_dataset(dataset).log_prob(test.double())
        _TEST_ENTROPY[key] = (-float(logp.mean()), _checksum(test))
    return _TEST_ENTROPY[key]


def requantify(run: dict) -> dict:
    """``run`` with ``test_entropy`` and the paired ``kl_gap`` (test NLL - test_entropy); the estimate it had
    before, test NLL - true entropy, kept as ``kl_gap_true_entropy``. The test set is recomputed from the seed
    (checked against the run's ``test_sha1`` where it has one)."""
    if "test_entropy" in run:
        return run
    h, sha = test_entropy(run["dataset"], run["seed"], run.get("n_test", 20_000))
    if run.get("test_sha1") not in (None, sha):
        raise ValueError(f"{run['dataset']} seed {run['seed']}: test set {sha} is not the run's {run['test_sha1']}")
    out = dict(run)
    if "entropy" in run:
        out["kl_gap_true_entropy"] = run["test_nll"] - run["entropy"]
    else:  # the probes' records: kl_gap was test NLL - true entropy
        out["kl_gap_true_entropy"] = run["kl_gap"]
    out["test_entropy"], out["kl_gap"] = h, run["test_nll"] - h
    return out


def _checksum(t: torch.Tensor) -> str:
    return hashlib.sha1(t.contiguous().numpy().tobytes()).hexdigest()[:12]


@torch.no_grad()
def _nll(model: M.Model, x: torch.Tensor, chunk: int = 20_000) -> float:
    model.module.eval()
    total = 0.0
    for i in range(0, x.shape[0], chunk):
        total += float(model.log_prob(x[i:i + chunk]).double().sum())
    model.module.train()
    return -total / x.shape[0]


def train_and_score(build: Callable[[], M.Model], dataset: str, seed: int, steps: int, batch: int = 512,
                    lr: float = 1e-3, n_test: int = 20_000) -> dict:
    """Seed torch, build the model, fit it by maximum likelihood on the shared batches of (dataset, seed)
    and score it on the shared test set: KL gap = test NLL - the test set's own -mean log p. Used by the probes
    too."""
    batches, test, entropy = make_data(dataset, seed, steps, batch, n_test)
    torch.manual_seed(seed)
    model = build()
    opt = torch.optim.Adam(model.module.parameters(), lr=lr)
    model.module.train()
    status, message, losses = "done", "", []
    t0 = time.perf_counter()
    for step in range(steps):
        loss = -model.log_prob(batches[step]).mean()
        if not torch.isfinite(loss):
            status, message = "non-finite", f"non-finite training loss at step {step}"
            break
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 100 == 0 or step == steps - 1:
            losses.append((step, float(loss.detach())))
    train_s = time.perf_counter() - t0
    test_nll = _nll(model, test) if status == "done" else float("nan")
    if not math.isfinite(test_nll) and status == "done":
        status, message = "non-finite", "non-finite test NLL"
    h_test, _ = test_entropy(dataset, seed, n_test)
    return {"dataset": dataset, "seed": seed, "steps": steps, "batch": batch, "lr": lr,
            "n_test": n_test, "entropy": entropy, "test_entropy": h_test, "test_nll": test_nll,
            "kl_gap": test_nll - h_test, "kl_gap_true_entropy": test_nll - entropy,
            "status": status, "message": message, "train_s": train_s, "params": model.n_params,
            "train_loss": losses, "batches_sha1": _checksum(batches), "test_sha1": _checksum(test),
            "date": dt.datetime.now().isoformat(timespec="seconds")}


def train_one(task: dict) -> dict:
    """Train one model on the shared batches; runs in a worker process (one thread)."""
    torch.set_num_threads(1)
    arch, lib = task["model"], task["lib"]
    r = train_and_score(lambda: M.build(lib, arch), task["dataset"], task["seed"], task["steps"], task["batch"],
                        task["lr"], task["n_test"])
    return {"dataset": r.pop("dataset"), "model": arch, "lib": lib, **r}


def _key(r: dict) -> tuple:
    return (r["dataset"], r["model"], r["lib"], r["seed"], r["steps"], r["batch"], r["lr"])


def summarise(runs: list[dict]) -> list[dict]:
    """Mean KL gap over seeds per (dataset, model, lib, steps)."""
    groups: dict[tuple, list[dict]] = {}
    for r in runs:
        groups.setdefault((r["dataset"], r["model"], r["lib"], r["steps"], r["batch"], r["lr"]), []).append(r)
    rows = []
    for (ds, model, lib, steps, batch, lr), rs in sorted(groups.items()):
        gaps = [r["kl_gap"] for r in sorted(rs, key=lambda r: r["seed"])]
        ok = all(r["status"] == "done" for r in rs)
        rows.append({"dataset": ds, "model": model, "lib": lib, "steps": steps, "batch": batch, "lr": lr,
                     "seeds": [r["seed"] for r in sorted(rs, key=lambda r: r["seed"])], "kl_gaps": gaps,
                     "mean_kl_gap": statistics.fmean(gaps) if ok else float("nan"),
                     "mean_test_nll": statistics.fmean(r["test_nll"] for r in rs) if ok else float("nan"),
                     "mean_train_s": statistics.fmean(r["train_s"] for r in rs), "params": rs[0]["params"],
                     "status": "done" if ok else "; ".join(r["message"] for r in rs if r["status"] != "done")})
    return rows


def print_table(rows: list[dict], libs: list[str] | None = None) -> None:
    libs = libs or [lib for lib in ("flowviz", *PEERS) if any(r["lib"] == lib for r in rows)]
    print("\nKL gap = mean of log p - log q over the test set (nats), mean over seeds [per-seed values]; lower is better")
    for steps in sorted({r["steps"] for r in rows}):
        print(f"-- {steps} steps")
        print(f"{'dataset':11s} {'model':8s} " + " ".join(f"{lib:>22s}" for lib in libs))
        cells = {(r["dataset"], r["model"], r["lib"]): r for r in rows if r["steps"] == steps}
        for ds, model in sorted({(d, m) for d, m, _ in cells}, key=lambda t: (t[0], M.ARCHS.index(t[1]))):
            out = []
            for lib in libs:
                r = cells.get((ds, model, lib))
                if r is None:
                    out.append(f"{'-':>22s}")
                elif r["status"] != "done":
                    out.append(f"{'non-finite':>22s}")
                else:
                    per = ",".join(f"{g:.3f}" for g in r["kl_gaps"])
                    out.append(f"{r['mean_kl_gap']:7.3f} [{per}]".rjust(22))
            print(f"{ds:11s} {model:8s} " + " ".join(out))


def markdown_table(rows: list[dict]) -> str:
    """The summary as a markdown table (mean KL gap over seeds, per-seed values in brackets)."""
    libs = [lib for lib in ("flowviz", *PEERS) if any(r["lib"] == lib for r in rows)]
    out = []
    for steps in sorted({r["steps"] for r in rows}):
        cells = {(r["dataset"], r["model"], r["lib"]): r for r in rows if r["steps"] == steps}
        out.append("| dataset | model | " + " | ".join(libs) + " |")
        out.append("|---|---|" + "---:|" * len(libs))
        for ds, model in sorted({(d, m) for d, m, _ in cells}, key=lambda t: (t[0] != "moons", t[0], M.ARCHS.index(t[1]))):
            row = []
            for lib in libs:
                r = cells.get((ds, model, lib))
                if r is None:
                    row.append("-")
                elif r["status"] != "done":
                    row.append("non-finite")
                else:
                    best = min(c["mean_kl_gap"] for (d, m, _), c in cells.items() if (d, m) == (ds, model))
                    v = f"{r['mean_kl_gap']:.3f}"
                    row.append((f"**{v}**" if r["mean_kl_gap"] == best else v)
                               + " [" + ", ".join(f"{g:.3f}" for g in r["kl_gaps"]) + "]")
            out.append(f"| {ds} | {model} | " + " | ".join(row) + " |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", nargs="+", default=["moons", "8gaussians"])
    p.add_argument("--models", nargs="+", default=list(M.ARCHS), choices=M.ARCHS)
    p.add_argument("--libs", nargs="+", default=["flowviz", *PEERS], choices=["flowviz", *PEERS])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--batch", type=int, default=512)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--n-test", type=int, default=20_000)
    p.add_argument("--jobs", type=int, default=1, choices=[1, 2], help="worker processes (one thread each)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--no-save", action="store_true")
    p.add_argument("--table", action="store_true", help="print the table of --out as markdown and exit (no runs)")
    p.add_argument("--requantify", nargs="+", type=Path, metavar="FILE",
                   help="add test_entropy and the paired kl_gap to results files written before (no runs)")
    args = p.parse_args(argv)
    if args.requantify:
        for path in args.requantify:
            data = json.loads(path.read_text())
            if isinstance(data, list):  # probe_quality.py's records
                data = [requantify(r) for r in data]
            else:
                data["runs"] = [requantify(r) for r in data["runs"]]
                data["summary"] = summarise(data["runs"])
            path.write_text(json.dumps(data, indent=1))
            print(f"requantified {path}")
        return
    if args.table:
        print(markdown_table(json.loads(args.out.read_text())["summary"]))
        return
    torch.set_num_threads(1)

    tasks = [{"dataset": ds, "model": m, "lib": lib, "seed": s, "steps": args.steps, "batch": args.batch,
              "lr": args.lr, "n_test": args.n_test}
             for ds in args.datasets for s in args.seeds for m in args.models for lib in args.libs]
    print(f"{len(tasks)} runs, {args.jobs} job(s); command: python {' '.join(sys.argv)}", flush=True)
    t0 = time.perf_counter()
    runs: list[dict] = []

    def report(r: dict) -> None:
        runs.append(r)
        if not args.no_save:
            save(args.out, [r])
        print(f"[{time.perf_counter() - t0:6.0f} s] {r['dataset']:10s} {r['model']:7s} {r['lib']:9s} seed {r['seed']}: "
              f"test NLL {r['test_nll']:.4f}  KL gap {r['kl_gap']:.4f}  ({r['train_s']:.0f} s, {r['params']} params, "
              f"batches {r['batches_sha1']}) {r['message']}", flush=True)

    if args.jobs == 1:
        for t in tasks:
            report(train_one(t))
    else:
        with ProcessPoolExecutor(max_workers=args.jobs) as ex:
            for f in as_completed([ex.submit(train_one, t) for t in tasks]):
                report(f.result())

    # the same batches and test set for every library within a (dataset, seed)
    for ds in args.datasets:
        for s in args.seeds:
            sums = {(r["batches_sha1"], r["test_sha1"]) for r in runs if r["dataset"] == ds and r["seed"] == s}
            assert len(sums) <= 1, f"{ds} seed {s}: runs saw different data {sums}"

    print_table(summarise(runs))
    print(f"\nwall time {time.perf_counter() - t0:.0f} s")
    if not args.no_save:
        save(args.out, runs, final=True, wall_s=time.perf_counter() - t0, jobs=args.jobs)
        print(f"wrote {args.out}")


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "torch": torch.__version__}
    for name in PEERS:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def save(path: Path, runs: list[dict], final: bool = False, wall_s: float | None = None, jobs: int = 1,
         command: str | None = None) -> None:
    """Merge ``runs`` into the JSON at ``path`` (replacing runs with the same key); written after every run.
    A lock file serialises concurrent invocations writing the same results file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name("." + path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _save_locked(path, runs, final, wall_s, jobs, command)


def _save_locked(path: Path, runs: list[dict], final: bool, wall_s: float | None, jobs: int,
                 command: str | None) -> None:
    merged: dict[tuple, dict] = {}
    meta: dict = {}
    if path.exists():
        old = json.loads(path.read_text())
        merged = {_key(r): r for r in old.get("runs", [])}
        meta = old.get("meta", {})
    merged.update({_key(r): r for r in runs})
    all_runs = sorted(merged.values(), key=_key)
    commands = meta.get("commands", [])
    if final:
        commands.append({"command": command or "python " + " ".join(sys.argv),
                         "date": dt.datetime.now().isoformat(timespec="seconds"),
                         "wall_s": wall_s, "jobs": jobs, "runs": len(runs)})
    meta = {"commands": commands, "threads_per_job": 1, "cpu_count": os.cpu_count(), "versions": _versions()}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"meta": meta, "summary": summarise(all_runs), "runs": all_runs}, indent=1))
    tmp.replace(path)


if __name__ == "__main__":
    main()
