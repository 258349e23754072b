"""At 10k points the speed ranking depends on the C allocator's state, not only on the code.

glibc serves large allocations with mmap and returns them to the OS when freed, so the whole-batch calls of a
fresh process page-fault their fresh buffers at 10k points; after a process has freed bigger blocks (larger
batches, training), glibc raises its mmap threshold and the same calls reuse heap memory. Splitting 10k rows
into 2 x 5000 (flowviz's default, ``chunk_size = 8192``) wins in the first state, by up to 2.5x, and costs
one more pass of per-layer overhead in the second (up to ~10%). This probe times ``trace`` and
``trace_inverse`` at 10k as 2 x 5000 and as one chunk (``chunk_size = 16384``), interleaved, against
zuko's ``log_prob``, for the three architectures:

    python benchmarks/probe_allocator_10k.py                                  # fresh process (page faults)
    MALLOC_MMAP_THRESHOLD_=1000000000 MALLOC_TRIM_THRESHOLD_=1000000000 \\
        python benchmarks/probe_allocator_10k.py                              # allocator kept warm
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _models as M  # noqa: E402


def main() -> None:
    torch.set_num_threads(1)
    state = "warm (MALLOC_MMAP_THRESHOLD_ set)" if "MALLOC_MMAP_THRESHOLD_" in os.environ else "fresh process"
    print(f"allocator: {state}; medians of 40 interleaved repeats; ratio = zuko / flowviz (> 1: flowviz faster)")
    g = torch.Generator().manual_seed(0)
    for arch in M.ARCHS:
        fv = M.build("flowviz", arch)
        M.perturb(fv.module, g)
        zk = M.build("zuko", arch)
        M.perturb(zk.module, g)
        flow = fv.module
        x = 1.5 * torch.randn(10_000, 2, generator=torch.Generator().manual_seed(1))

        def call(chunk: int, inverse: bool, flow=flow, x=x):  # noqa: ANN001, ANN202
            def f() -> None:
                flow.chunk_size = chunk
                flow.trace_inverse(x) if inverse else flow.trace(x)
            return f

        fns = {"trace 2x5000": call(8192, False), "trace 1 chunk": call(16384, False),
               "trace_inverse 2x5000": call(8192, True), "trace_inverse 1 chunk": call(16384, True),
               "zuko": lambda zk=zk, x=x: zk.log_prob(x)}
        times: dict[str, list[float]] = {k: [] for k in fns}
        names = list(fns)
        with torch.no_grad():
            for f in fns.values():
                f()
                f()
            for r in range(40):
                for k in names[r % len(names):] + names[:r % len(names)]:
                    t = time.perf_counter()
                    fns[k]()
                    times[k].append(time.perf_counter() - t)
        flow.chunk_size = 8192
        med = {k: 1e3 * statistics.median(v) for k, v in times.items()}
        print(f"{arch:8s} zuko {med['zuko']:.1f} ms; " + ", ".join(
            f"{k} {v:.1f} ms ({med['zuko'] / v:.2f}x)" for k, v in med.items() if k != "zuko"))


if __name__ == "__main__":
    main()
