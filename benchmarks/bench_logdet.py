"""log|det J| of a lower-triangular n x n Jacobian: dense LU (torch.linalg.slogdet, O(n^3)) against the sum of
log|diagonal| (O(n)), medians on log-log axes with fitted slopes. The same measurement as the "measure" button
of flowviz.widgets.triangular.TriangularJacobian.

    python benchmarks/bench_logdet.py [--device cuda] [--max-n 4096] [--repeats 5] [--png out.png]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

try:
    import flowviz  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flowviz.scene.triangular import time_logdet  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--max-n", type=int, default=4096)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--budget", type=float, default=60.0, help="seconds before larger sizes are skipped")
    ap.add_argument("--png", default="", help="also save the log-log plot here")
    args = ap.parse_args()
    sizes = [n for n in (16, 32, 64, 128, 256, 512, 1024, 2048, 4096) if n <= args.max_n]
    r = time_logdet(sizes, repeats=args.repeats, device=args.device, budget_s=args.budget)
    print(f"device {r['device']}, {r['threads']} threads, median of {r['repeats']}")
    print(f"{'n':>6} {'LU (s)':>12} {'diag (s)':>12}")
    for n, a, b in zip(r["n"], r["lu_median_s"], r["diag_median_s"], strict=True):
        print(f"{n:>6} {a:>12.3e} {b:>12.3e}")
    print(f"slopes from n = {r['slope_from_n']}: LU {r['lu_slope']:.2f}, diagonal {r['diag_slope']:.2f}")
    print(r["note"])
    print(json.dumps(r["diag_only"]))
    if args.png:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from flowviz.plot.triangular import plot_triangular
        from flowviz.scene.triangular import make_layer, triangular_scene

        axes = plot_triangular(triangular_scene(make_layer("maf", 32)), timing=r)
        plt.gcf().savefig(args.png, dpi=120)
        print(f"wrote {args.png}", len(axes))


if __name__ == "__main__":
    main()
