"""What TriangularJacobian shows, as arrays: the Jacobian of an autoregressive or coupling layer in n
dimensions at one point, its zero pattern, and log|det J| three ways; and the cost of log|det| by a
dense LU against the diagonal.

Direction: the layer's ``forward`` (base z -> data x). For a MAF layer x_i = tau(z_i; x_1..x_{i-1}),
so dx_i/dz_j = 0 for j > i: J is lower triangular in the natural order. For a coupling layer
x_A = z_A, x_B = tau(z_B; z_A): in the order (A, B) J is block lower triangular with a diagonal
dx_B/dz_B block, hence lower triangular too. Either way

    log|det J| = sum_i log|J_ii|            (O(n), what the layer computes as its log_det)

instead of slogdet of the dense matrix (an LU factorisation, O(n^3)).

Pure computation: torch in, numpy float32 out (the three log-determinants as float64 Python floats).
Every number the browser shows that float32 would spoil is computed here in float64: log|J_ii| near 0
(|J_ii| near 1) taken from the float32 J_ii loses digits to cancellation (a relative error up to
2^-24 / |log|J_ii||), so ``logdiag`` is log|J_ii| of the float64 Jacobian, sent as float32 (a log keeps
its relative precision there).
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..flows import AffineCoupling, Bijection, MaskedAutoregressive, jacobian
from ..flows.base import check_whole
from .finite import finite32, json_safe, wire_float32
from .player import forward_with_jacobian

__all__ = ["DEFAULT_SIZES", "DIAG_SIZES", "TriangularScene", "fit_loglog", "layer_order", "make_layer", "time_logdet",
           "triangular_scene"]

KINDS = ("maf", "coupling")
DEFAULT_SIZES = (32, 64, 128, 256, 512, 1024, 2048)
MAX_N = 512


def make_layer(kind: str, n: int, seed: int = 0, hidden: int = 64, noise: float = 0.3) -> Bijection:
    """A MaskedAutoregressive ("maf") or AffineCoupling ("coupling") layer of dimension n with random,
    non-identity parameters (the conditioner's last layer starts at zero; noise is added to every weight,
    masks still apply), in float64."""
    if kind not in KINDS:
        raise ValueError(f"kind must be 'maf' or 'coupling', got {kind!r}")
    n = check_whole(n, "n", 2, MAX_N)
    with torch.random.fork_rng(devices=[]):  # module initialisers use the global generator: leave it alone
        torch.manual_seed(int(seed))
        layer: Bijection = (MaskedAutoregressive(int(n), hidden=hidden) if kind == "maf"
                            else AffineCoupling(int(n), hidden=hidden))
    g = torch.Generator().manual_seed(int(seed) + 1)
    with torch.no_grad():
        for p in layer.parameters():
            p.add_(noise * torch.randn(p.shape, generator=g, dtype=p.dtype) / math.sqrt(max(1, p.shape[-1])))
    return layer.double()


def layer_order(layer: Bijection) -> np.ndarray:
    """The coordinate order in which the layer's Jacobian is lower triangular: natural for MAF,
    (kept A, then transformed B) for a coupling layer."""
    idx_a, idx_b = getattr(layer, "idx_a", None), getattr(layer, "idx_b", None)
    if isinstance(idx_a, torch.Tensor) and isinstance(idx_b, torch.Tensor):
        return torch.cat([idx_a, idx_b]).cpu().numpy().astype(np.int64)
    return np.arange(layer.dim, dtype=np.int64)


@dataclass
class TriangularScene:
    """jac (n, n): J = dx/dz at z, rows and columns in ``order`` (lower triangular there); jac_natural
    (n, n): the same in the natural order; diag (n,): J_ii; logdiag (n,): log|J_ii| computed from the float64
    J (float64 here; -inf where J_ii = 0); zero (n, n): 1 where an entry is exactly 0."""

    jac: np.ndarray
    jac_natural: np.ndarray
    diag: np.ndarray
    logdiag: np.ndarray
    zero: np.ndarray
    order: np.ndarray
    kind: str
    caption: str
    logdet_slogdet: float  # slogdet of the full autograd Jacobian (float64)
    logdet_diag: float     # sum_i log|J_ii|
    logdet_layer: float    # the layer's own log_det
    method: str            # "forward" or "inverse" (see triangular_scene)
    upper_max: float       # max |J_ij| over the strictly upper part (in ``order``): 0 for a triangular map

    @property
    def n(self) -> int:
        return int(self.jac.shape[0])

    def arrays(self) -> dict[str, np.ndarray]:
        """What the browser gets (float32): ``logdiag`` is the float64 log|J_ii| rounded once to float32 (the
        hover shows it, not a log of the float32 J_ii), 0 where it is not finite and flagged 0 in
        ``logdiag_finite`` (1 elsewhere)."""
        logdiag = torch.as_tensor(self.logdiag)
        return {"jac": self.jac, "diag": self.diag, "logdiag": wire_float32(logdiag),
                "logdiag_finite": wire_float32(finite32(logdiag), clean=True)}

    def meta(self, version: int = 0) -> dict[str, Any]:
        """JSON metadata; a log-determinant that is not finite (a J_ii = 0) is null (scene/finite.py)."""
        meta = {"n": self.n, "kind": self.kind, "caption": self.caption, "order": self.order.tolist(),
                "pattern": "lower" if self.upper_max == 0 else "not triangular",
                "logdet_slogdet": self.logdet_slogdet, "logdet_diag": self.logdet_diag,
                "logdet_layer": self.logdet_layer, "method": self.method, "upper_max": self.upper_max,
                "max_abs": float(np.abs(self.jac).max()), "status": "ok", "message": "", "version": version}
        return json_safe(meta)


def triangular_scene(layer: Bijection, z: torch.Tensor | None = None, seed: int = 0, method: str = "auto"
                     ) -> TriangularScene:
    """The Jacobian of ``layer.forward`` at one point z (1, n) (default: z ~ N(0, I) with ``seed``), in float64.

    ``method="forward"``: reverse-mode autograd (one pass per output row) through the forward pass.
    For a MAF layer that pass is sequential (n conditioner passes), so its Jacobian costs O(n^2)
    conditioner passes: ``"inverse"`` instead takes the autograd Jacobian of the one-pass
    inverse at x = f(z) and inverts it (inverse function theorem, J_f(z) = J_{f^-1}(x)^{-1};
    a triangular solve keeps the zeros exact).
    ``"auto"``: forward for coupling layers and n <= 32, inverse otherwise."""
    n = int(layer.dim)
    layer = layer.double()
    if z is None:
        z = torch.randn(1, n, generator=torch.Generator().manual_seed(int(seed) + 7), dtype=torch.float64)
    z = z.reshape(1, n).to(torch.float64)
    if method not in ("auto", "forward", "inverse"):
        raise ValueError(f"method must be 'auto', 'forward' or 'inverse', got {method!r}")
    if method == "auto":
        method = "forward" if (not isinstance(layer, MaskedAutoregressive) or n <= 32) else "inverse"
    with torch.no_grad():
        x, ld = layer(z)
    if method == "forward":
        J = forward_with_jacobian(layer, z)[2][0].detach()
    else:
        Ji = jacobian(layer, x, "inverse")[0].detach()
        eye = torch.eye(n, dtype=torch.float64)
        lower = bool((Ji.triu(1) == 0).all())
        J = torch.linalg.solve_triangular(Ji, eye, upper=False) if lower else torch.linalg.inv(Ji)
    order = layer_order(layer)
    o = torch.as_tensor(order)
    Jo = J[o][:, o]
    diag = torch.diagonal(Jo)
    kind = ("maf" if isinstance(layer, MaskedAutoregressive) else "coupling" if hasattr(layer, "idx_a")
            else type(layer).__name__)
    desc = layer.describe()
    if kind == "coupling" and n > 12:
        idx_a = layer.idx_a  # a coupling layer keeps idx_a and transforms the rest
        kept = int(idx_a.shape[0]) if isinstance(idx_a, torch.Tensor) else 0
        desc = (f"{type(layer).__name__}: keeps {kept} coordinates (A), transforms {n - kept} (B)")
    caption = f"{desc}; order: " + ("kept coordinates A first, then transformed B" if kind == "coupling"
                                    else "natural (x_i depends on z_1..z_i)")
    return TriangularScene(
        jac=np.ascontiguousarray(Jo.to(torch.float32).numpy()),
        jac_natural=np.ascontiguousarray(J.to(torch.float32).numpy()),
        diag=np.ascontiguousarray(diag.to(torch.float32).numpy()),
        logdiag=diag.abs().log().to(device="cpu", dtype=torch.float64).numpy().copy(),
        zero=(Jo == 0).to(torch.float32).numpy(), order=order, kind=kind, caption=caption,
        logdet_slogdet=float(torch.linalg.slogdet(J)[1]), logdet_diag=float(diag.abs().log().sum()),
        logdet_layer=float(ld[0]), method=method, upper_max=float(Jo.triu(1).abs().max()) if n > 1 else 0.0,
    )


def fit_loglog(ns: Sequence[float] | np.ndarray, ts: Sequence[float] | np.ndarray) -> float:
    """Least-squares slope of log t against log n (nan with fewer than two points)."""
    pts = [(math.log(a), math.log(b)) for a, b in zip(ns, ts, strict=True) if a > 0 and b > 0]
    if len(pts) < 2:
        return float("nan")
    x, y = np.array(pts).T
    return float(np.polyfit(x, y, 1)[0])


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


DIAG_SIZES = (4096, 16384, 65536, 262144, 1048576)


def time_logdet(sizes: Sequence[int] = DEFAULT_SIZES, *, repeats: int = 5, device: str | torch.device | None = None,
                dtype: torch.dtype = torch.float32, budget_s: float = 5.0, large_from: int = 256, seed: int = 0,
                diag_sizes: Sequence[int] = DIAG_SIZES) -> dict[str, Any]:
    """Time log|det J| of a lower-triangular n x n matrix two ways, on ``device``: a dense LU
    (``torch.linalg.slogdet``, O(n^3)) and the sum of log|diag| (O(n)). Medians over ``repeats`` runs
    after one warm-up. Sizes are taken in increasing order until ``budget_s`` seconds are spent.

    Returns {"n", "lu_median_s", "diag_median_s", "lu_slope", "diag_slope", "slope_from_n", "device",
    "threads", "note", "diag_only"}; slopes are fitted on log-log axes over the sizes >= ``large_from`` (all
    sizes if fewer than two are that large). Up to n = 4096 the O(n) diagonal sum is bound by the per-call
    overhead (microseconds), so its slope is near 0 there; ``diag_only`` times the same sum on diagonals
    alone (no dense matrix needed) up to ``max(diag_sizes)`` entries, where the slope approaches 1."""
    dev = torch.device(device) if device is not None else torch.device("cpu")
    sizes = sorted({int(s) for s in sizes})
    if not sizes or sizes[0] < 2 or sizes[-1] > 4096:
        raise ValueError(f"sizes must lie in 2..4096, got {sizes}")
    repeats = check_whole(repeats, "repeats", 1, 50)
    g = torch.Generator().manual_seed(seed)
    out_n: list[int] = []
    lu: list[float] = []
    dg: list[float] = []
    start = time.perf_counter()
    for n in sizes:
        if out_n and time.perf_counter() - start > budget_s:
            break
        a = torch.randn(n, n, generator=g, dtype=torch.float64).tril() / math.sqrt(n)
        a.diagonal().copy_(torch.rand(n, generator=g, dtype=torch.float64) + 0.5)
        a = a.to(device=dev, dtype=dtype)

        def run(fn: Any) -> float:
            fn()
            _sync(dev)
            times = []
            for _ in range(int(repeats)):
                t0 = time.perf_counter()
                fn()
                _sync(dev)
                times.append(time.perf_counter() - t0)
            return statistics.median(times)

        lu.append(run(lambda a=a: torch.linalg.slogdet(a)[1]))
        dg.append(run(lambda a=a: torch.diagonal(a).abs().log().sum()))
        out_n.append(n)
    d_n: list[int] = []
    d_t: list[float] = []
    for n in sorted({int(s) for s in diag_sizes}):
        if not 2 <= n <= 50_000_000 or time.perf_counter() - start > 2 * budget_s:
            break
        d = (torch.rand(n, generator=g, dtype=torch.float64) + 0.5).to(device=dev, dtype=dtype)

        def run_d(d: torch.Tensor = d) -> float:
            d.abs().log().sum()
            _sync(dev)
            times = []
            for _ in range(int(repeats)):
                t0 = time.perf_counter()
                d.abs().log().sum()
                _sync(dev)
                times.append(time.perf_counter() - t0)
            return statistics.median(times)

        d_t.append(run_d())
        d_n.append(n)
    d_big = [i for i, n in enumerate(d_n) if n >= 65536]
    d_idx = d_big if len(d_big) >= 2 else list(range(len(d_n)))
    diag_only = {"n": d_n, "median_s": d_t,
                 "slope": fit_loglog([d_n[i] for i in d_idx], [d_t[i] for i in d_idx]),
                 "slope_from_n": d_n[d_idx[0]] if d_idx else None}
    big = [i for i, n in enumerate(out_n) if n >= large_from]
    idx = big if len(big) >= 2 else list(range(len(out_n)))
    lu_slope = fit_loglog([out_n[i] for i in idx], [lu[i] for i in idx])
    dg_slope = fit_loglog([out_n[i] for i in idx], [dg[i] for i in idx])
    if not math.isfinite(lu_slope):
        note = "too few sizes measured to fit a slope"
    elif lu_slope > 2.4:
        note = f"dense LU grows like n^{lu_slope:.2f} (theory: 3); the diagonal like n^{dg_slope:.2f} (theory: 1)"
    else:
        note = (f"dense LU fitted slope {lu_slope:.2f}, below the asymptotic 3: at these sizes call overhead, "
                f"cache effects and multithreading dominate on this {dev.type.upper()}; measure larger n to see n^3. "
                f"Diagonal: slope {dg_slope:.2f} (overhead-bound, theory 1).")
    if d_n and math.isfinite(float(diag_only["slope"])):  # type: ignore[arg-type]
        note += (f" Diagonal alone, n = {d_n[0]}..{d_n[-1]}: slope {diag_only['slope']:.2f}"
                 f" (fitted from n = {diag_only['slope_from_n']}).")
    elif d_n:
        note += f" Diagonal alone, n = {d_n[0]}..{d_n[-1]}: too few sizes to fit a slope."
    return {"n": out_n, "lu_median_s": lu, "diag_median_s": dg, "lu_slope": lu_slope, "diag_slope": dg_slope,
            "slope_from_n": out_n[idx[0]] if idx else None, "device": str(dev), "threads": torch.get_num_threads(),
            "repeats": int(repeats), "note": note, "diag_only": diag_only}
