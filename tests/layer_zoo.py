"""Every layer of flowviz.flows, built at random (perturbed, not identity) parameters, in float64.

Shared by the layer tests and the density tests. Each entry: name -> (factory(dim, gen), min_dim,
domain) where domain is "real" or "unit" (inputs in (0, 1)).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from flowviz import flows as F

Factory = Callable[[int, torch.Generator], F.Bijection]


def perturb(layer: F.Bijection, gen: torch.Generator, std: float = 0.3) -> F.Bijection:
    """Add N(0, std^2) noise to every parameter (in place) and return the layer in float64."""
    layer = layer.double()
    with torch.no_grad():
        for p in layer.parameters():
            p.add_(torch.randn(p.shape, generator=gen, dtype=p.dtype) * std)
    return layer


def _affine(dim: int, g: torch.Generator) -> F.Bijection:
    sign = torch.where(torch.rand(dim, generator=g) < 0.5, -1.0, 1.0)
    return F.Affine(dim, scale=sign * (0.5 + torch.rand(dim, generator=g)), shift=torch.randn(dim, generator=g))


def _linear(dim: int, g: torch.Generator) -> F.Bijection:
    return F.Linear(dim, matrix=torch.eye(dim) + 0.5 * torch.randn(dim, dim, generator=g))


def _actnorm(dim: int, g: torch.Generator) -> F.Bijection:
    layer = perturb(F.ActNorm(dim), g)
    layer.initialized.fill_(True)
    layer._is_initialized = True
    return layer


def _radial(dim: int, g: torch.Generator) -> F.Bijection:
    return F.Radial(dim, centre=0.3 * torch.randn(dim, generator=g), alpha=0.5 + float(torch.rand(1, generator=g)),
                    beta=-0.3 + float(torch.rand(1, generator=g)))


LAYERS: dict[str, tuple[Factory, int, str]] = {
    "Affine": (_affine, 1, "real"),
    "Linear": (_linear, 1, "real"),
    "LinearLU": (lambda d, g: perturb(F.Linear(d, seed=int(torch.randint(1000, (1,), generator=g))), g), 1, "real"),
    "Permute": (lambda d, g: F.Permute(d, seed=int(torch.randint(1000, (1,), generator=g))), 1, "real"),
    "Reverse": (lambda d, g: F.Reverse(d), 1, "real"),
    "Planar": (lambda d, g: perturb(F.Planar(d, seed=int(torch.randint(1000, (1,), generator=g))), g), 1, "real"),
    "Radial": (_radial, 1, "real"),
    "AdditiveCoupling": (lambda d, g: perturb(F.AdditiveCoupling(d, hidden=16), g, 0.2), 2, "real"),
    "AffineCoupling": (lambda d, g: perturb(F.AffineCoupling(d, parity=1, hidden=16), g, 0.2), 2, "real"),
    "SplineCoupling": (lambda d, g: perturb(F.SplineCoupling(d, hidden=16, bins=5, bound=3.0), g, 0.2), 2, "real"),
    "MAF": (lambda d, g: perturb(F.MaskedAutoregressive(d, hidden=16), g, 0.2), 1, "real"),
    "MAFSpline": (lambda d, g: perturb(F.MaskedAutoregressive(d, hidden=16, transform="spline", bins=5, bound=3.0),
                                       g, 0.2), 1, "real"),
    "MAFSplineDensity": (lambda d, g: perturb(F.MaskedAutoregressive(d, hidden=16, transform="spline", bins=5,
                                                                     bound=3.0, direction="density"),
                                              g, 0.2), 1, "real"),
    "MAFDensity": (lambda d, g: perturb(F.MaskedAutoregressive(d, hidden=16, direction="density", scale_limit=6.9),
                                        g, 0.2), 1, "real"),
    "IAF": (lambda d, g: F.Inverse(perturb(F.MaskedAutoregressive(d, hidden=16), g, 0.2)), 1, "real"),
    "ActNorm": (_actnorm, 1, "real"),
    "Sigmoid": (lambda d, g: F.Sigmoid(d), 1, "real"),
    "Logit": (lambda d, g: F.Logit(d), 1, "unit"),
    "SinhArcsinh": (lambda d, g: perturb(F.SinhArcsinh(d), g), 1, "real"),
}


def make(name: str, dim: int, seed: int) -> F.Bijection:
    factory = LAYERS[name][0]
    g = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        prev = torch.get_default_dtype()
        torch.set_default_dtype(torch.float64)
        try:
            layer = factory(dim, g).double()
        finally:
            torch.set_default_dtype(prev)
    return layer


def inputs(name: str, n: int, dim: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed + 1)
    if LAYERS[name][2] == "unit":
        return 0.05 + 0.9 * torch.rand(n, dim, generator=g, dtype=torch.float64)
    return torch.randn(n, dim, generator=g, dtype=torch.float64) * 1.5
