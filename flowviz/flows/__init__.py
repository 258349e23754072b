"""flowviz.flows: the mathematics of normalising flows, in torch only.

Direction convention: ``forward`` is generative, base to data (z -> x, the lecture's G);
``inverse`` is normalising, data to base (x -> z, G^{-1}). Both return ``(output, log_det)`` with
``log_det`` of shape (N,): log|det J| of the map just applied, per sample.
"""

from .actnorm import ActNorm
from .autoregressive import MaskedAutoregressive
from .base import REGISTRY, Bijection, Inverse, NotInvertibleError, from_config
from .builders import maf, nsf, planar_flow, realnvp
from .coupling import AdditiveCoupling, AffineCoupling, Coupling, SplineCoupling
from .device import default_device
from .distributions import Distribution, StandardNormal, Uniform
from .elementwise import Affine, Logit, Sigmoid, SinhArcsinh
from .flow import Flow, Trace
from .jacobian import jacobian, log_abs_det_jacobian
from .linear import Linear, Permute, Reverse
from .residual import Planar, Radial
from .serialize import load, save
from .splines import rational_quadratic_spline

__all__ = [
    "ActNorm", "AdditiveCoupling", "Affine", "AffineCoupling", "Bijection", "Coupling", "Distribution",
    "Flow", "Inverse", "Linear", "Logit", "MaskedAutoregressive", "NotInvertibleError", "Permute", "Planar",
    "REGISTRY", "Radial", "Reverse", "Sigmoid", "SinhArcsinh", "SplineCoupling", "StandardNormal", "Trace",
    "Uniform", "default_device", "from_config", "jacobian", "load", "log_abs_det_jacobian", "maf", "nsf",
    "planar_flow", "rational_quadratic_spline", "realnvp", "save",
]
