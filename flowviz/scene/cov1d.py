"""What ChangeOfVariables1D shows, as arrays: the 1D change of variables, x = G(z), z ~ pi.

Direction: forward is generative, base -> data, ``x = G(z)`` (the lecture's G). For a monotone G

    p(x) = pi(z) |dz/dx| = pi(z) / |G'(z)|,      z = G^{-1}(x),

and the strip [z', z' + dz] maps onto [x', x' + dx] (x' = G(z'), x' + dx = G(z' + dz), sorted when G
decreases) with equal probability mass:  int_{z'}^{z'+dz} pi(z) dz = int_{x'}^{x'+dx} p(x) dx
(the lecture's "the blue and the green square are equal in area"; for small dz: pi(z') dz = p(x') |dx|).

The maps are built from flowviz.flows layers (no second copy of the maths):

    "affine"        x = a z + b                                  [Affine]
    "sigmoid"       x = sigmoid(a z + b)                         [Affine, Sigmoid]
    "sinh_arcsinh"  x = a sinh((asinh z + skew) / tail) + b      [SinhArcsinh, Affine]
    "logit"         x = a logit(z) + b   (base must live in (0, 1))  [Logit, Affine]

a < 0 is legal (a decreasing map: |G'| gives the same density formula); a = 0 collapses every z onto
one x (G' = 0): the scene is marked "not invertible" and its x-arrays are zero with ``valid = 0``.
Pure computation: torch in (float64, with the parameters exactly as given), numpy float32 out. Every array is
computed at the float32 grid points that are sent (z rounded to float32 first), so that each sent (z, x, G'(z),
p) row belongs together. Parameters whose image of the base is too narrow for its position to be drawn from
float32 arrays (b = 1e15: x in [1e15, 1e15 + 2]) are refused with :class:`UnresolvedImageError`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..flows import Affine, Flow, Logit, Sigmoid, SinhArcsinh, StandardNormal, Uniform
from ..flows.distributions import Distribution
from .finite import finite32, wire_float32

__all__ = ["BASES", "MAPS", "MIN_RELATIVE_WIDTH", "Cov1DScene", "StripReadout", "UnresolvedImageError",
           "build_map", "cov1d_scene", "default_params", "make_base", "strip_readout"]

BASES = ("uniform", "normal")
MAPS = ("affine", "sigmoid", "sinh_arcsinh", "logit")

_PARAM_DEFAULTS = {
    "affine": {"a": 2.0, "b": 1.0},
    "sigmoid": {"a": 2.0, "b": 0.0},
    "sinh_arcsinh": {"skew": 0.5, "tail": 0.8, "a": 1.0, "b": 0.0},
    "logit": {"a": 1.0, "b": 0.0},
}


#: the narrowest x-view the float32 arrays can draw, relative to its position: (x_hi - x_lo) >= this * max|x|.
#: float32 resolves 2^-23 = 1.2e-7 relative, so such a view holds at least ~840 distinct float32 x values
#: (about 20 per histogram bin of 40); b = 1e15 on x = 2z + b has 2e-15 and is refused.
MIN_RELATIVE_WIDTH = 1e-4


class UnresolvedImageError(ValueError):
    """The image of the base under G is too narrow, for where it lies, to be sent as float32 arrays and drawn
    (e.g. x = 2z + 1e15: every x rounds to the same float32, and numpy cannot bin the range)."""


def default_params(map: str) -> dict[str, float]:
    """The parameters a map starts with (the lecture's X = 2Z + 1 for "affine")."""
    if map not in _PARAM_DEFAULTS:
        raise ValueError(f"map must be one of {MAPS}, got {map!r}")
    return dict(_PARAM_DEFAULTS[map])


def make_base(base: str) -> Distribution:
    """"uniform": pi = U[0, 1]; "normal": pi = N(0, 1)."""
    if base == "uniform":
        return Uniform(1, 0.0, 1.0)
    if base == "normal":
        return StandardNormal(1)
    raise ValueError(f"base must be one of {BASES}, got {base!r}")


def build_map(map: str, params: dict[str, float], base: str = "uniform") -> Flow:
    """The 1D flow x = G(z) for ``map`` with ``params`` (see the module docstring), in float64.

    The parameters are written into the float64 layers exactly as given (the layers are built in the default
    float32 first: b = 0.7 would otherwise be 0.699999988, and the browser's exact readouts, computed from the
    same parameters in float64, would differ from Python's in the last digits).
    a = 0 is allowed here (the Affine scale is set to 0 after construction): the flow then is not
    invertible, and :func:`cov1d_scene` reports it.
    """
    p = {**default_params(map), **params}
    for k, v in p.items():
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
            raise ValueError(f"parameter {k} must be a finite number, got {v!r}")
    if map == "logit" and base != "uniform":
        raise ValueError("the logit map needs z in (0, 1): use base='uniform'")
    affine = Affine(1, scale=1.0, shift=0.0, learnable=False)
    sas: SinhArcsinh | None = None
    if map == "affine":
        layers: list[Any] = [affine]
    elif map == "sigmoid":
        layers = [affine, Sigmoid(1)]
    elif map == "sinh_arcsinh":
        if not p["tail"] > 0:
            raise ValueError(f"tail must be > 0, got {p['tail']}")
        sas = SinhArcsinh(1, skew=0.0, tailweight=1.0, learnable=False)
        layers = [sas, affine]
    else:
        layers = [Logit(1), affine]
    flow = Flow(layers, base=make_base(base)).to(torch.float64)
    with torch.no_grad():  # exact float64 parameters (see above)
        affine.scale.fill_(p["a"])
        affine.shift.fill_(p["b"])
        if sas is not None:
            sas.skew.fill_(p["skew"])
            sas.log_tailweight.fill_(math.log(p["tail"]))
    return flow


@dataclass
class StripReadout:
    """The strip [z', z' + dz] and its image, as the readouts show them (exact, float64).

    dzdx = |dz/dx| at z' = 1 / |G'(z')|;  px = p(x') = pi(z') |dz/dx|;  area_z = int pi over the strip,
    area_x = int p over the image (equal for an invertible map). ``ok`` is False when G'(z') = 0.
    """

    z: float
    dz: float
    x: float
    x_end: float
    dx: float
    pi: float
    dxdz: float
    dzdx: float
    px: float
    area_z: float
    area_x: float
    ok: bool


@dataclass
class Cov1DScene:
    """Arrays (float32, shape (M,) on a dense z-grid unless said):

    z: base grid (ascending; the support [0, 1] for the uniform base, [-4.5, 4.5] for the normal);
    pi: pi(z); x: G(z) (monotone, decreasing when a < 0); dxdz: G'(z) (signed); px: p(G(z)) =
    pi(z) / |G'(z)|; valid: 1 where x, px are finite and G'(z) != 0. Histograms of pushed samples,
    as densities: hz_edges (B+1,), hz (B,) of the z-samples; hx_edges, hx of x = G(z).
    """

    z: np.ndarray
    pi: np.ndarray
    x: np.ndarray
    dxdz: np.ndarray
    px: np.ndarray
    valid: np.ndarray
    hz_edges: np.ndarray
    hz: np.ndarray
    hx_edges: np.ndarray
    hx: np.ndarray
    base: str
    map: str
    params: dict[str, float]
    flow: Flow
    status: str = "ok"
    message: str = ""
    formula: str = ""
    z_bounds: list[float] = field(default_factory=list)
    x_bounds: list[float] = field(default_factory=list)
    n_samples: int = 0

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays as the wire format names them."""
        return {"z": self.z, "pi": self.pi, "x": self.x, "dxdz": self.dxdz, "px": self.px, "valid": self.valid,
                "hz_edges": self.hz_edges, "hz": self.hz, "hx_edges": self.hx_edges, "hx": self.hx}

    def meta(self) -> dict[str, Any]:
        """JSON metadata: base, map, params, status/message, formula and view bounds [lo, hi, 0, ymax]."""
        return {"base": self.base, "map": self.map, "params": dict(self.params), "status": self.status,
                "message": self.message, "formula": self.formula, "z_bounds": self.z_bounds,
                "x_bounds": self.x_bounds, "n_samples": self.n_samples,
                "base_label": "U[0, 1]" if self.base == "uniform" else "N(0, 1)"}


_FORMULAS = {
    "affine": "x = a z + b",
    "sigmoid": "x = sigmoid(a z + b)",
    "sinh_arcsinh": "x = a sinh((asinh z + skew) / tail) + b",
    "logit": "x = a logit(z) + b",
}


def _grid(base: str, m: int) -> torch.Tensor:
    """The z-grid as it is sent: float32 values (held in float64), so that x = G(z), G'(z) and p are computed at
    the very z the browser receives (1 - 1e-6 is sent as 0.99999899: logit there is 13.8053, not 13.8155)."""
    if base == "uniform":
        # open at the ends for the logit map's sake, by a hair; pi is exactly 1 on the grid
        z = torch.linspace(0.0, 1.0, m, dtype=torch.float64).clamp(1e-6, 1 - 1e-6)
    else:
        z = torch.linspace(-4.5, 4.5, m, dtype=torch.float64)
    return z.to(torch.float32).to(torch.float64)


@torch.no_grad()
def _forward(flow: Flow, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """x = G(z) and the signed derivative G'(z) (product of the layers' signed slopes)."""
    v = z[:, None]
    slope = torch.ones_like(z)
    for layer in flow.layers:
        out, log_det = layer(v)
        sign = torch.ones_like(z)
        if isinstance(layer, Affine):
            sign = torch.sign(layer.scale.detach()).expand_as(z)
        slope = slope * sign * torch.exp(log_det)
        v = out
    return v[:, 0], slope


def _log_pi(flow: Flow, z: torch.Tensor) -> torch.Tensor:
    return flow.base.log_prob(z[:, None])


def _bounds(lo: float, hi: float, ymax: float) -> list[float]:
    pad = 0.08 * (hi - lo) if hi > lo else 1.0
    return [float(lo - pad), float(hi + pad), 0.0, float(ymax)]


def cov1d_scene(base: str = "uniform", map: str = "affine", params: dict[str, float] | None = None, *,
                grid: int = 4001, n_samples: int = 20000, bins: int = 40, seed: int = 0) -> Cov1DScene:
    """Compute every array of the view for ``base`` ("uniform" | "normal") and ``map`` (see MAPS).

    Formulas: x = G(z); G'(z) = prod_k (signed slope of layer k) with |slope| = exp(log|det J_k|) from the
    layers themselves; p(x) = pi(z) / |G'(z)|. Histograms: z_i ~ pi (seeded), x_i = G(z_i), counts / (n w).
    """
    params = {**default_params(map), **(params or {})}
    flow = build_map(map, params, base)
    z = _grid(base, grid)
    pi = torch.exp(_log_pi(flow, z))
    inv_ok = bool(params.get("a", 1.0) != 0.0)
    x, dxdz = _forward(flow, z)
    px = pi / dxdz.abs()
    # finite as the wire's float32 (x = 1e300 z is finite in float64, inf in float32): else valid = 0, zeroed
    valid = finite32(x) & finite32(px) & (dxdz != 0) & finite32(dxdz)
    status, message = "ok", ""
    if not inv_ok:
        status = "not invertible"
        message = f"a = 0 maps every z to x = {params['b']:g} (dx/dz = 0): p(x) is not a density"
        valid[:] = False
    elif not bool(valid.all()):
        status = "non-finite"
        message = f"{int((~valid).sum())} of {grid} grid points give a non-finite x or p(x)"
    zeros = torch.zeros_like(z)
    x_out = torch.where(valid, x, zeros)
    px_out = torch.where(valid, px, zeros)
    dxdz_out = torch.where(finite32(dxdz), dxdz, zeros)

    g = torch.Generator().manual_seed(seed)
    zs = flow.base.sample(n_samples, g).to(torch.float64)[:, 0]
    xs, _ = _forward(flow, zs)
    z_lo, z_hi = float(z[0]), float(z[-1])
    if base == "uniform":
        z_lo, z_hi = 0.0, 1.0
    hz, hz_edges = np.histogram(zs.numpy(), bins=bins, range=(z_lo, z_hi), density=True)
    if inv_ok and bool(valid.any()):
        xv = x[valid]
        x_lo, x_hi = float(xv.min()), float(xv.max())
        # the x-view spans the image of the base's central mass (all of U[0, 1] except for the logit map,
        # whose image of (0, 1) is the whole line; N(0, 1) between its 0.05% and 99.95% quantiles)
        q = {"uniform": (0.0, 1.0), "normal": (-3.29, 3.29)}[base]
        if map == "logit":
            q = (0.002, 0.998)
        ends = _forward(flow, torch.tensor(q, dtype=torch.float64))[0]
        if bool(finite32(ends).all()) and float(ends.max()) > float(ends.min()):
            x_lo, x_hi = float(ends.min()), float(ends.max())
        _check_resolved(x_lo, x_hi)
        xs_f = xs[finite32(xs)].numpy()
        # density relative to all samples (those outside the range are not lost silently: they lower the bars)
        counts, hx_edges = np.histogram(xs_f, bins=bins, range=(x_lo, x_hi))
        hx = counts / (n_samples * np.diff(hx_edges))
        pmax = float(px[valid].max())
        x_ymax = _ymax(pmax, hx, px[valid].numpy())
    else:
        x_lo, x_hi = (float(params.get("b", 0.0)) - 1.0, float(params.get("b", 0.0)) + 1.0)
        hx_edges = np.linspace(x_lo, x_hi, bins + 1)
        hx = np.zeros(bins)
        x_ymax = 1.0
    z_ymax = _ymax(float(pi.max()), hz, pi.numpy())
    f32 = wire_float32
    return Cov1DScene(
        z=f32(z.numpy()), pi=f32(pi.numpy()), x=f32(x_out.numpy()), dxdz=f32(dxdz_out.numpy()),
        px=f32(px_out.numpy()), valid=f32(valid.numpy()), hz_edges=f32(hz_edges), hz=f32(hz),
        hx_edges=f32(hx_edges), hx=f32(hx), base=base, map=map, params=params, flow=flow, status=status,
        message=message, formula=_FORMULAS[map], z_bounds=_bounds(z_lo, z_hi, z_ymax),
        x_bounds=_bounds(x_lo, x_hi, x_ymax), n_samples=n_samples)


def _check_resolved(x_lo: float, x_hi: float) -> None:
    """Refuse an x-view [x_lo, x_hi] narrower than MIN_RELATIVE_WIDTH * max(|x_lo|, |x_hi|): float32 arrays cannot
    draw it (x = 2z + 1e15: every x is the same float32) and numpy cannot cut it into histogram bins."""
    size = max(abs(x_lo), abs(x_hi))
    if x_hi - x_lo >= MIN_RELATIVE_WIDTH * size:
        return
    raise UnresolvedImageError(
        f"the image of the base, x in [{x_lo:.7g}, {x_lo:.7g} + {x_hi - x_lo:.3g}], is {x_hi - x_lo:.3g} wide at "
        f"|x| = {size:.3g}: "
        f"narrower than {MIN_RELATIVE_WIDTH:g} |x|, too narrow for its position to be drawn from float32 arrays "
        "(about 7 digits)")


def _ymax(curve_max: float, hist: np.ndarray, curve: np.ndarray) -> float:
    """A y-limit that shows the curve and histogram; spikes (sigmoid/logit edges) are cut at 3x the 95th
    percentile so that the body of the density stays readable."""
    body = float(np.percentile(curve, 95)) if curve.size else 1.0
    top = min(curve_max, 3.0 * body) if body > 0 else curve_max
    top = max(top, float(hist.max()) if hist.size else 0.0)
    return float(1.15 * top) if top > 0 and math.isfinite(top) else 1.0


#: 10-point Gauss-Legendre nodes and weights on [-1, 1] (exact for polynomials of degree <= 19)
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(10)


def _gauss_legendre(lo: float, hi: float, max_panel: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Nodes t and weights w (float64) of composite 10-point Gauss-Legendre on [lo, hi], panels at most
    ``max_panel`` wide: int_lo^hi f(t) dt ~ sum_i w_i f(t_i), to float64 rounding for the smooth integrands here."""
    n = max(1, math.ceil((hi - lo) / max_panel)) if hi > lo else 1
    edges = np.linspace(lo, hi, n + 1)
    mid, half = (edges[:-1] + edges[1:]) / 2, (edges[1:] - edges[:-1]) / 2
    t = (mid[:, None] + half[:, None] * _GL_NODES[None, :]).ravel()
    w = (half[:, None] * _GL_WEIGHTS[None, :]).ravel()
    return torch.from_numpy(t), torch.from_numpy(w)


#: closest a sigmoid map's x may come to 1 for p(x) to be evaluated there to ~1e-8 (1 - x errs by 1.1e-16)
_SIGMOID_EDGE = 1e-8


def _support(base: str) -> tuple[float, float]:
    """Where pi > 0: [0, 1] for U[0, 1], the whole line for N(0, 1)."""
    return (0.0, 1.0) if base == "uniform" else (-math.inf, math.inf)


@torch.no_grad()
def strip_readout(scene: Cov1DScene, z: float, dz: float, max_panel: float = 0.125) -> StripReadout:
    """The exact readout of the strip [z, z + dz] (float64, from the flow, not from the float32 arrays).

    x' = G(z'), dx = |G(z' + dz) - G(z')|, dx/dz = G'(z'), |dz/dx| = 1 / |G'(z')|, p(x') = pi(z') |dz/dx|.
    Areas by composite 10-point Gauss-Legendre (panels <= ``max_panel``, accurate to float64 rounding) over the
    strip clipped to the base's support:

        area_z = int_{z'}^{z'+dz} pi(z) dz,
        area_x = int_{x'}^{x'+dx} p(x) dx = int_{z'}^{z'+dz} p(G(t)) |G'(t)| dt     (substitution x = G(t)),

    with p(x) = exp(flow.log_prob(x)) evaluated at x = G(t) through the inverse map, log p(x) = log pi(G^{-1}(x))
    + log|dG^{-1}/dx| (not pi(t) / |G'(t)|): the two areas agree because the change of variables holds, not by
    construction. area_x is NaN where p cannot be evaluated, or not accurately (the map is not invertible, x is not
    finite, or a sigmoid map's x lies within 1e-8 of 1, where float64 no longer resolves 1 - x): never a wrong
    number. The browser computes the same (js/src/views/cov1d/exact.js).
    """
    flow = scene.flow
    t = torch.tensor([z, z + dz], dtype=torch.float64)
    x, d = _forward(flow, t)
    pi = torch.exp(_log_pi(flow, t))
    ok = bool(torch.isfinite(d[0]) and d[0] != 0)
    dxdz = float(d[0])
    dzdx = 1.0 / abs(dxdz) if ok else math.inf
    px = float(pi[0]) * dzdx if ok else math.inf
    lo_s, hi_s = _support(scene.base)
    lo, hi = max(z, lo_s), min(z + dz, hi_s)
    area_z, area_x = 0.0, 0.0
    if hi > lo:
        ts, ws = _gauss_legendre(lo, hi, max_panel)
        area_z = float((ws * torch.exp(_log_pi(flow, ts))).sum())
        area_x = math.nan
        if ok:
            xt, dt = _forward(flow, ts)
            try:
                pxt = torch.exp(flow.log_prob(xt[:, None]))
            except (ValueError, RuntimeError):  # x not finite, or the map not invertible
                pxt = None
            resolved = not (scene.map == "sigmoid" and bool((1 - xt < _SIGMOID_EDGE).any()))
            if pxt is not None and resolved:
                area_x = float((ws * pxt * dt.abs()).sum())
    return StripReadout(z=float(z), dz=float(dz), x=float(x[0]), x_end=float(x[1]), dx=abs(float(x[1] - x[0])),
                        pi=float(pi[0]), dxdz=dxdz, dzdx=dzdx, px=px, area_z=area_z, area_x=area_x, ok=ok)
