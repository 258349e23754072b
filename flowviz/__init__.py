"""flowviz: Jupyter widgets that make normalising flows visible.

``flowviz.flows`` holds the mathematics (torch only); ``flowviz.data`` the toy densities;
``flowviz.train`` maximum-likelihood fitting. Direction convention everywhere: ``forward`` is
generative (base -> data, z -> x); ``inverse`` is normalising (data -> base, x -> z).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "FlowPlayer": "flowviz.widgets.player",
    "ChangeOfVariables1D": "flowviz.widgets.cov1d",
    "LikelihoodSplit": "flowviz.widgets.likelihood",
    "JacobianLens": "flowviz.widgets.lens",
    "TriangularJacobian": "flowviz.widgets.triangular",
}


__all__ = ["FlowPlayer", "ChangeOfVariables1D", "LikelihoodSplit", "JacobianLens", "TriangularJacobian",
           "__version__"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    if name in ("flows", "data", "train", "scene", "widgets", "plot", "expr", "pretrained"):
        return import_module(f"flowviz.{name}")
    raise AttributeError(f"module 'flowviz' has no attribute {name!r}")
