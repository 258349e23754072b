"""flowviz.widgets: anywidget classes. Thin: they ask flowviz.scene for arrays and send them as binary."""

from .cov1d import ChangeOfVariables1D
from .lens import JacobianLens
from .likelihood import LikelihoodSplit
from .player import FlowPlayer
from .triangular import TriangularJacobian

__all__ = ["ChangeOfVariables1D", "FlowPlayer", "JacobianLens", "LikelihoodSplit", "TriangularJacobian"]
