"""The same three architectures in flowviz, zuko, normflows, nflows and a bare-torch reference.

Shared by bench_speed.py and bench_quality.py. Every builder returns a :class:`Model`: a module to
train (``.module``) and a ``log_prob(x)`` callable (data -> density), the library's own plain call.

Architectures (2D by default), with matching conditioners of ``depth`` hidden layers x ``hidden``:

* ``realnvp``: 8 affine couplings, alternating which coordinate is kept; conditioner MLP 2x64.
* ``maf``: 5 affine MADE layers (MADE 2x64), order reversed between layers.
* ``nsf``: 5 autoregressive rational-quadratic spline layers, 8 bins on [-5, 5], linear tails
  (MADE 2x64), order reversed between layers (flowviz's ``nsf`` builder is autoregressive too).

Matching choices for the peers:
* nflows / normflows MADE: ``num_blocks=1, use_residual_blocks=False`` is input -> 64 -> 64 -> out,
  the same as flowviz's MADE(depth=2) and zuko's MaskedMLP((64, 64)). normflows'
  ``AutoregressiveRationalQuadraticSpline`` hard-codes residual blocks, so its inner transform is
  replaced by normflows' own ``MaskedPiecewiseRationalQuadraticAutoregressive`` with
  ``use_residual_blocks=False``.
* normflows RealNVP: ``AffineCouplingBlock(MLP([1, 64, 64, 2]))`` (scale_map "exp") + ``Permute(swap)``.
* nflows RealNVP: ``AffineCouplingTransform`` (its scale is sigmoid(u + 2) + 1e-3: contracts only).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:  # run from a checkout without installing flowviz
    sys.path.insert(0, _ROOT)

ARCHS = ("realnvp", "maf", "nsf")
LIBS = ("flowviz", "bare", "zuko", "normflows", "nflows")
LAYERS = {"realnvp": 8, "maf": 5, "nsf": 5}
BINS, BOUND = 8, 5.0
LOG_2PI = math.log(2 * math.pi)


@dataclass
class Model:
    lib: str
    arch: str
    module: nn.Module
    log_prob: Callable[[Tensor], Tensor]

    @property
    def n_params(self) -> int:
        return sum(p.numel() for p in self.module.parameters())


def _normal_log_prob(z: Tensor) -> Tensor:
    return -0.5 * (z * z).sum(-1) - 0.5 * z.shape[-1] * LOG_2PI


# ---------------------------------------------------------------------------------------------
# flowviz
def build_flowviz(arch: str, dim: int = 2, hidden: int = 64) -> Model:
    from flowviz.flows import maf, nsf, realnvp

    flow = {"realnvp": lambda: realnvp(dim, LAYERS["realnvp"], hidden, depth=2),
            "maf": lambda: maf(dim, LAYERS["maf"], hidden, depth=2),
            "nsf": lambda: nsf(dim, LAYERS["nsf"], hidden, bins=BINS, bound=BOUND, depth=2)}[arch]()
    return Model("flowviz", arch, flow, flow.log_prob)


# ---------------------------------------------------------------------------------------------
# bare torch: a straightforward whole-batch implementation (no chunking, no input checks).
# Same parametrisation as flowviz (soft-clamped log-scales 3 tanh(s/3), spline constants), so
# ``bare_from_flowviz`` can copy a flowviz flow's weights and the two log_probs must agree.
def _mlp(n_in: int, n_out: int, hidden: int, depth: int = 2) -> nn.Sequential:
    layers: list[nn.Module] = []
    w = n_in
    for _ in range(depth):
        layers += [nn.Linear(w, hidden), nn.ReLU()]
        w = hidden
    last = nn.Linear(w, n_out)
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)
    layers.append(last)
    return nn.Sequential(*layers)


class _MaskedLinear(nn.Linear):
    def __init__(self, n_in: int, n_out: int, mask: Tensor) -> None:
        super().__init__(n_in, n_out)
        self.register_buffer("mask", mask.float())

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight * self.mask, self.bias)


def _made(dim: int, params: int, hidden: int, depth: int = 2) -> nn.Sequential:
    """Germain et al. 2015; output block i (params for coordinate i) sees x_<i only."""
    deg_in = torch.arange(1, dim + 1)
    layers: list[nn.Module] = []
    prev = deg_in
    for _ in range(depth):
        deg = torch.arange(hidden) % max(dim - 1, 1) + 1
        layers += [_MaskedLinear(len(prev), hidden, deg[:, None] >= prev[None, :]), nn.ReLU()]
        prev = deg
    out = deg_in.repeat_interleave(params)
    last = _MaskedLinear(len(prev), dim * params, out[:, None] > prev[None, :])
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)
    layers.append(last)
    return nn.Sequential(*layers)


def _rqs_knots(p: Tensor, bound: float, min_bin: float, min_deriv: float) -> tuple[Tensor, ...]:
    k = (p.shape[-1] + 1) // 3
    w = min_bin + (1 - min_bin * k) * torch.softmax(p[..., :k], -1)
    h = min_bin + (1 - min_bin * k) * torch.softmax(p[..., k:2 * k], -1)
    cw = F.pad(torch.cumsum(w, -1), (1, 0)) * 2 * bound - bound
    ch = F.pad(torch.cumsum(h, -1), (1, 0)) * 2 * bound - bound
    cw[..., 0], cw[..., -1], ch[..., 0], ch[..., -1] = -bound, bound, -bound, bound
    w, h = cw[..., 1:] - cw[..., :-1], ch[..., 1:] - ch[..., :-1]
    shift = math.log(math.expm1(1 - min_deriv))
    d = F.pad(min_deriv + F.softplus(p[..., 2 * k:] + shift), (1, 1), value=1.0)
    return cw, ch, w, h, d


def _rqs_forward(x: Tensor, p: Tensor, bound: float = BOUND, min_bin: float = 1e-3,
                 min_deriv: float = 1e-3) -> tuple[Tensor, Tensor]:
    """RQ spline y = S(x), elementwise (x: (...,), p: (..., 3K - 1)); identity outside [-B, B]."""
    cw, ch, w, h, d = _rqs_knots(p, bound, min_bin, min_deriv)
    inside = (x > -bound) & (x < bound)
    xc = x.clamp(-bound, bound)
    idx = torch.searchsorted(cw[..., 1:-1].contiguous(), xc[..., None].contiguous(), right=True)

    def g(t: Tensor) -> Tensor:
        return t.gather(-1, idx)[..., 0]

    xk, wk, yk, hk, dk, dk1 = g(cw), g(w), g(ch), g(h), g(d), g(d[..., 1:])
    s = hk / wk
    theta = (xc - xk) / wk
    t1 = theta * (1 - theta)
    den = s + (dk1 + dk - 2 * s) * t1
    y = yk + hk * (s * theta * theta + dk * t1) / den
    logd = torch.log(s * s * (dk1 * theta * theta + 2 * s * t1 + dk * (1 - theta) ** 2)) - 2 * torch.log(den)
    return torch.where(inside, y, x), torch.where(inside, logd, torch.zeros_like(logd))


def _rqs_inverse(y: Tensor, p: Tensor, bound: float = BOUND, min_bin: float = 1e-3,
                 min_deriv: float = 1e-3) -> tuple[Tensor, Tensor]:
    """Inverse RQ spline, elementwise (y: (...,), p: (..., 3K - 1)); identity outside [-B, B]."""
    cw, ch, w, h, d = _rqs_knots(p, bound, min_bin, min_deriv)
    inside = (y > -bound) & (y < bound)
    yc = y.clamp(-bound, bound)
    idx = torch.searchsorted(ch[..., 1:-1].contiguous(), yc[..., None].contiguous(), right=True)

    def g(t: Tensor) -> Tensor:
        return t.gather(-1, idx)[..., 0]

    xk, wk, yk, hk, dk, dk1 = g(cw), g(w), g(ch), g(h), g(d), g(d[..., 1:])
    s = hk / wk
    dy = yc - yk
    c2 = dk1 + dk - 2 * s
    a = hk * (s - dk) + dy * c2
    b = hk * dk - dy * c2
    c = -s * dy
    theta = 2 * c / (-b - torch.sqrt((b * b - 4 * a * c).clamp_min(0)))
    x = theta * wk + xk
    t1 = theta * (1 - theta)
    num = s * s * (dk1 * theta * theta + 2 * s * t1 + dk * (1 - theta) ** 2)
    logd = 2 * torch.log(s + c2 * t1) - torch.log(num)
    return torch.where(inside, x, y), torch.where(inside, logd, torch.zeros_like(logd))


class BareRealNVP(nn.Module):
    def __init__(self, dim: int = 2, layers: int = 8, hidden: int = 64, limit: float = 3.0) -> None:
        super().__init__()
        self.dim, self.limit = dim, limit
        self.kept = [[i for i in range(dim) if i % 2 == k % 2] for k in range(layers)]
        self.moved = [[i for i in range(dim) if i % 2 != k % 2] for k in range(layers)]
        self.nets = nn.ModuleList(_mlp(len(self.kept[k]), 2 * len(self.moved[k]), hidden) for k in range(layers))

    def log_prob(self, x: Tensor) -> Tensor:
        ld = x.new_zeros(x.shape[0])
        for net, a, b in reversed(list(zip(self.nets, self.kept, self.moved, strict=True))):
            theta = net(x[:, a]).view(x.shape[0], len(b), 2)
            s = self.limit * torch.tanh(theta[..., 1] / self.limit)
            zb = (x[:, b] - theta[..., 0]) * torch.exp(-s)
            ld = ld - s.sum(-1)
            x = x.clone()
            x[:, b] = zb
        return _normal_log_prob(x) + ld


class BareMAF(nn.Module):
    """Affine (``spline=False``) or RQ-spline MADE layers with a flip between layers. The elementwise map
    tau is applied as written in the density direction (z = tau(x), ``direction="density"``, the default of
    flowviz's ``maf`` and ``nsf``) or inverted there (``"sampling"``: x = tau(z)). Log-scales are
    soft-clamped to +-limit (6.9 as flowviz's ``maf``)."""

    def __init__(self, dim: int = 2, layers: int = 5, hidden: int = 64, spline: bool = False,
                 limit: float = 6.9, direction: str = "density") -> None:
        super().__init__()
        self.dim, self.spline, self.limit, self.density = dim, spline, limit, direction == "density"
        self.rqs = _rqs_forward if self.density else _rqs_inverse
        self.params = 3 * BINS - 1 if spline else 2
        self.mades = nn.ModuleList(_made(dim, self.params, hidden) for _ in range(layers))

    def log_prob(self, x: Tensor) -> Tensor:
        ld = x.new_zeros(x.shape[0])
        for k in reversed(range(len(self.mades))):
            theta = self.mades[k](x).view(x.shape[0], self.dim, self.params)
            if self.spline:
                x, l = self.rqs(x, theta)
                ld = ld + l.sum(-1)
            else:
                s = self.limit * torch.tanh(theta[..., 1] / self.limit)
                if self.density:
                    x = x * torch.exp(s) + theta[..., 0]
                    ld = ld + s.sum(-1)
                else:
                    x = (x - theta[..., 0]) * torch.exp(-s)
                    ld = ld - s.sum(-1)
            if k:
                x = x.flip(-1)
        return _normal_log_prob(x) + ld


def build_bare(arch: str, dim: int = 2, hidden: int = 64) -> Model:
    m = BareRealNVP(dim, LAYERS[arch], hidden) if arch == "realnvp" else \
        BareMAF(dim, LAYERS[arch], hidden, spline=arch == "nsf")
    return Model("bare", arch, m, m.log_prob)


def bare_from_flowviz(fv: Model) -> Model:
    """A bare model holding copies of a flowviz model's weights (to check the two agree)."""
    b = build_bare(fv.arch, fv.module.dim)
    if fv.arch == "realnvp":
        nets = [layer.conditioner for layer in fv.module.layers]
        for dst, src in zip(b.module.nets, nets, strict=True):
            dst.load_state_dict(src.state_dict())
    else:
        mades = [layer.made.net for layer in fv.module.layers if hasattr(layer, "made")]
        for dst, src in zip(b.module.mades, mades, strict=True):
            dst.load_state_dict(src.state_dict())
    return b


# ---------------------------------------------------------------------------------------------
# peers
def build_zuko(arch: str, dim: int = 2, hidden: int = 64) -> Model:
    import zuko

    cls = {"realnvp": zuko.flows.RealNVP, "maf": zuko.flows.MAF, "nsf": zuko.flows.NSF}[arch]
    kw = {"bins": BINS} if arch == "nsf" else {}
    flow = cls(dim, transforms=LAYERS[arch], hidden_features=(hidden, hidden), **kw)
    return Model("zuko", arch, flow, lambda x: flow().log_prob(x))


def build_normflows(arch: str, dim: int = 2, hidden: int = 64) -> Model:
    import normflows as nf
    from normflows.flows.neural_spline.autoregressive import MaskedPiecewiseRationalQuadraticAutoregressive

    flows: list[nn.Module] = []
    for k in range(LAYERS[arch]):
        if arch == "realnvp":
            flows.append(nf.flows.AffineCouplingBlock(nf.nets.MLP([dim // 2, hidden, hidden, 2 * (dim - dim // 2)],
                                                                  init_zeros=True)))
        elif arch == "maf":
            flows.append(nf.flows.MaskedAffineAutoregressive(dim, hidden, num_blocks=1, use_residual_blocks=False))
        else:
            layer = nf.flows.AutoregressiveRationalQuadraticSpline(dim, 1, hidden, num_bins=BINS, tail_bound=BOUND)
            layer.mprqat = MaskedPiecewiseRationalQuadraticAutoregressive(
                features=dim, hidden_features=hidden, num_bins=BINS, tails="linear", tail_bound=BOUND,
                num_blocks=1, use_residual_blocks=False, activation=nn.ReLU(), init_identity=True)
            flows.append(layer)
        if k < LAYERS[arch] - 1 or arch == "realnvp":
            flows.append(nf.flows.Permute(dim, mode="swap"))
    model = nf.NormalizingFlow(q0=nf.distributions.DiagGaussian(dim, trainable=False), flows=flows)
    return Model("normflows", arch, model, model.log_prob)


class _NoContext(nn.Module):
    """nflows' coupling calls ``net(x, context)``; its plain MLP takes ``x`` only."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: Tensor, context: Tensor | None = None) -> Tensor:
        return self.net(x)


def build_nflows(arch: str, dim: int = 2, hidden: int = 64) -> Model:
    from nflows.distributions import StandardNormal
    from nflows.flows import Flow
    from nflows.nn.nets import MLP
    from nflows.transforms import (
        AffineCouplingTransform,
        CompositeTransform,
        MaskedAffineAutoregressiveTransform,
        MaskedPiecewiseRationalQuadraticAutoregressiveTransform,
        ReversePermutation,
    )

    ts: list[nn.Module] = []
    for k in range(LAYERS[arch]):
        if arch == "realnvp":
            mask = torch.tensor([(i + k + 1) % 2 for i in range(dim)])  # > 0: transformed
            ts.append(AffineCouplingTransform(mask, lambda i, o: _NoContext(MLP([i], [o], hidden_sizes=[hidden, hidden]))))
        elif arch == "maf":
            if k:
                ts.append(ReversePermutation(dim))
            ts.append(MaskedAffineAutoregressiveTransform(dim, hidden, num_blocks=1, use_residual_blocks=False))
        else:
            if k:
                ts.append(ReversePermutation(dim))
            ts.append(MaskedPiecewiseRationalQuadraticAutoregressiveTransform(
                dim, hidden, num_bins=BINS, tails="linear", tail_bound=BOUND, num_blocks=1,
                use_residual_blocks=False))
    flow = Flow(CompositeTransform(ts), StandardNormal([dim]))
    return Model("nflows", arch, flow, flow.log_prob)


BUILDERS: dict[str, Callable[..., Model]] = {
    "flowviz": build_flowviz, "bare": build_bare, "zuko": build_zuko, "normflows": build_normflows,
    "nflows": build_nflows,
}


def build(lib: str, arch: str, dim: int = 2, hidden: int = 64) -> Model:
    return BUILDERS[lib](arch, dim, hidden)


@torch.no_grad()
def perturb(module: nn.Module, generator: torch.Generator, std: float = 0.02) -> None:
    """Move every parameter off its (often identity) initialisation, so timed maps are not trivial."""
    for p in module.parameters():
        p.add_(std * torch.randn(p.shape, generator=generator).to(p))
