"""At 10k points the speed ranking depends on the C allocator's state, not only on the code.

glibc serves large allocations with mmap and returns them to the OS when freed, so every whole-batch call at
10k points page-faults its fresh buffers; after a process has freed big blocks (bench_speed.py's 1M runs),
glibc raises its mmap threshold and the same calls reuse heap memory. flowviz's row chunks (8192 rows: 10k
as 2 x 5000) stay small, so they win in the first state and pay one extra pass of per-layer overhead in the
second. This probe times MAF and NSF at 10k in a fresh process, interleaved, flowviz at chunk sizes 8192
(default) and 16384 (10k in one chunk) against zuko and the bare-torch reference:

    python benchmarks/probe_allocator_10k.py                                  # fresh process (page faults)
    MALLOC_MMAP_THRESHOLD_=1000000000 MALLOC_TRIM_THRESHOLD_=1000000000 \\
        python benchmarks/probe_allocator_10k.py                              # allocator kept warm
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _models as M  # noqa: E402


def main() -> None:
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    for arch in ("maf", "nsf"):
        fv = M.build("flowviz", arch)
        M.perturb(fv.module, g)
        zk = M.build("zuko", arch)
        M.perturb(zk.module, g)
        bare = M.bare_from_flowviz(fv)
        x = 1.5 * torch.randn(10_000, 2, generator=torch.Generator().manual_seed(1))
        flow = fv.module

        def trace_inverse(chunk: int, flow=flow, x=x):  # noqa: ANN001, ANN202
            def f() -> None:
                flow.chunk_size = chunk
                flow.trace_inverse(x)
            return f

        fns = {"flowviz chunk 8192": trace_inverse(8192), "flowviz chunk 16384": trace_inverse(16384),
               "zuko": lambda zk=zk, x=x: zk.log_prob(x), "bare": lambda bare=bare, x=x: bare.log_prob(x)}
        times: dict[str, list[float]] = {k: [] for k in fns}
        names = list(fns)
        with torch.no_grad():
            for f in fns.values():
                f()
                f()
            for r in range(60):
                for k in names[r % 4:] + names[:r % 4]:
                    t = time.perf_counter()
                    fns[k]()
                    times[k].append(time.perf_counter() - t)
        med = {k: 1e3 * statistics.median(v) for k, v in times.items()}
        print(f"{arch} 10k, median ms: " + ", ".join(f"{k} {v:.1f}" for k, v in med.items())
              + f"; zuko / flowviz(8192) = {med['zuko'] / med['flowviz chunk 8192']:.2f}")


if __name__ == "__main__":
    main()
