"""flowviz.widgets: anywidget classes. Thin: they ask flowviz.scene for arrays and send them as binary."""

from .player import FlowPlayer

__all__ = ["FlowPlayer"]
