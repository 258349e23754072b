"""At 10k points the speed ranking depends on the C allocator's state, not only on the code.

glibc serves large allocations with mmap and returns them to the OS when freed, so the whole-batch calls of a
fresh process page-fault their fresh buffers at 10k points; after a process has freed bigger blocks (larger
batches, training), glibc raises its mmap threshold and the same calls reuse heap memory. flowviz now keeps
10k rows in one chunk (``chunk_size = 16384``) and writes the conditioners' hidden activations into reused
scratch memory (``flowviz.flows.workspace``). This probe times ``trace`` and ``trace_inverse`` at 10k in the
four combinations (one chunk / 2 x 5000, scratch memory on / off; "2x5000, plain" was the default before),
interleaved, against zuko's ``log_prob``, for the three architectures:

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

from flowviz.flows import workspace  # noqa: E402


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

        def call(chunk: int, scratch: bool, inverse: bool, flow=flow, x=x):  # noqa: ANN001, ANN202
            def f() -> None:
                flow.chunk_size, workspace.ENABLED = chunk, scratch
                flow.trace_inverse(x) if inverse else flow.trace(x)
            return f

        fns = {f"{name} {label}": call(chunk, scratch, inverse)
               for name, inverse in (("trace", False), ("trace_inverse", True))
               for label, chunk, scratch in (("1 chunk, scratch (current)", 16384, True),
                                             ("2x5000, scratch", 8192, True), ("1 chunk, plain", 16384, False),
                                             ("2x5000, plain (previous)", 8192, False))}
        fns["zuko"] = lambda zk=zk, x=x: (setattr(workspace, "ENABLED", True), zk.log_prob(x))
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
        flow.chunk_size, workspace.ENABLED = 16384, True
        med = {k: 1e3 * statistics.median(v) for k, v in times.items()}
        print(f"{arch:8s} zuko {med['zuko']:.1f} ms; " + ", ".join(
            f"{k} {v:.1f} ms ({med['zuko'] / v:.2f}x)" for k, v in med.items() if k != "zuko"))


if __name__ == "__main__":
    main()
