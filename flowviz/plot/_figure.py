"""Figures of flowviz.plot: not registered with pyplot (no figure is left open behind a call), shown in a
notebook all the same, and with their dense parts rasterised at a sensible dpi in PDF/SVG/EPS files."""

from __future__ import annotations

import io
import os
from typing import Any

import matplotlib as mpl
from matplotlib.figure import Figure

__all__ = ["RASTER_DPI", "PlotFigure", "new_figure", "show_after_cell"]

RASTER_DPI = 200  # the rasterised parts (density, points, folds) of a PDF/SVG/EPS saved without a dpi
VECTOR_FORMATS = {"pdf", "svg", "svgz", "eps", "ps"}


def _format(fname: Any, kwargs: dict[str, Any]) -> str:
    fmt = kwargs.get("format")
    if fmt is None and isinstance(fname, (str, os.PathLike)):
        fmt = os.path.splitext(os.fspath(fname))[1][1:]
    return str(fmt or mpl.rcParams["savefig.format"]).lower()


class PlotFigure(Figure):
    """A matplotlib Figure that pyplot does not know: nothing to close, however many are made. In Jupyter it
    shows itself as a PNG (``_repr_png_``, whichever backend is active). Saved as PDF, SVG or (E)PS without a
    ``dpi`` (and with ``savefig.dpi`` left at "figure"), its rasterised parts (density map, points, fold
    hatching) are drawn at :data:`RASTER_DPI`; axes, text and lines stay vector."""

    def savefig(self, fname: Any, *, transparent: bool | None = None, **kwargs: Any) -> None:
        """:meth:`matplotlib.figure.Figure.savefig`, with ``dpi`` defaulting to RASTER_DPI for vector formats."""
        if (kwargs.get("dpi") is None and mpl.rcParams["savefig.dpi"] == "figure"
                and _format(fname, kwargs) in VECTOR_FORMATS):
            kwargs["dpi"] = max(float(self.dpi), RASTER_DPI)
        super().savefig(fname, transparent=transparent, **kwargs)

    def _repr_png_(self) -> bytes:
        buf = io.BytesIO()
        super().savefig(buf, format="png", bbox_inches="tight")
        return buf.getvalue()


def new_figure(**kwargs: Any) -> PlotFigure:
    """A :class:`PlotFigure` (``kwargs`` as matplotlib.figure.Figure's)."""
    return PlotFigure(**kwargs)


def show_after_cell(fig: Figure) -> bool:
    """In a Jupyter kernel, display ``fig`` once the running cell has finished (as pyplot's inline backend
    shows the figures a cell made, after any change the cell makes to them), for functions that return
    their axes rather than the figure. Elsewhere (a script, a terminal) nothing happens. True if scheduled."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency of the widgets
        return False
    ip = get_ipython()
    if ip is None or getattr(ip, "kernel", None) is None:
        return False

    def show() -> None:
        ip.events.unregister("post_execute", show)
        from IPython.display import display

        display(fig)

    ip.events.register("post_execute", show)
    return True
