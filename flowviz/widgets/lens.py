"""JacobianLens: a 2D map z -> x = f(z), its Jacobian, its determinant and the change of variables.

The map is a 2x2 matrix (x = A z; default the lecture's [[1, 1], [2, 0]]) or an expression in z1, z2
typed into the widget's text box (``text`` trait). Python parses it with :func:`flowviz.expr.parse_map`
(a safe parser: the text is never executed); a parse error is shown under the box (``error`` trait)
and the last good map stays. Arrays come from :func:`flowviz.scene.lens.lens_scene` and cross as
binary float32; hovering, the local-Jacobian square and its image, and the readouts run in the browser.

The 3x3 mode (``mode="3d"``) shows det M as the signed volume of the image of the unit cube and the
six-term rule, for the matrix in ``matrix3`` (9 numbers, row-major; the browser edits them).
"""

from __future__ import annotations

import math
import pathlib
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch
import traitlets

from ..expr import ExpressionError, parse_map
from ..scene.finite import json_safe
from ..scene.lens import (
    LECTURE_MATRIX,
    LECTURE_MATRIX3,
    LensScene,
    cube_edges,
    lens_scene,
    matrix_text,
    parallelepiped,
    six_terms,
)
from .base import ArrayWidget, Float
from .controls import describe_value
from .lut import colormap_lut

__all__ = ["JacobianLens"]

MAX_TEXT = 400


class JacobianLens(ArrayWidget):
    """``JacobianLens(matrix=None, text=None)``: the unit square, its image, the deformed grid, J_f, J_{f^-1},
    their product, det J_f beside 1/det J_{f^-1}, and the density of x = f(z) for z ~ N(0, I).

    Parameters
    ----------
    matrix: 2x2 matrix A of the linear map x = A z (default [[1, 1], [2, 0]]); ignored if ``text`` is given.
    text: the map as an expression in z1, z2, e.g. ``"z1, z2 + sin(z1)"``.
    matrix3: 3x3 matrix of the parallelepiped view.
    mode: "2d" or "3d".
    grid, n_samples, bins, extent, seed: mesh vertices per side, pushed samples, histogram bins per side,
        half-width of the base mesh, seed of the samples.

    The browser writes ``text``, ``mode``, ``matrix3`` and ``renderer``; ``three`` (computed from matrix3) and
    ``error`` are the kernel's. A refused value (a mode other than "2d"/"3d", a matrix3 that is not 9 finite
    numbers, a write to a kernel trait) is named in ``error``, shown in both modes, and the browser's copy goes
    back to the kernel's value.
    """

    _bundle_name: ClassVar[str] = "lens"
    _KERNEL_TRAITS: ClassVar[frozenset[str]] = ArrayWidget._KERNEL_TRAITS | {"three", "error"}
    _CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {**ArrayWidget._CHOICES, "mode": ("2d", "3d"),
                                                      "renderer": ("auto", "webgl", "canvas2d")}

    text = traitlets.Unicode("").tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    mode = traitlets.Unicode("2d").tag(sync=True)
    matrix3 = traitlets.List(Float(), maxlen=9).tag(sync=True)
    three = traitlets.Dict().tag(sync=True)
    renderer = traitlets.Unicode("auto").tag(sync=True)

    def __init__(self, matrix: Sequence[Sequence[float]] | None = None, text: str | None = None, *,
                 matrix3: Sequence[Sequence[float]] | None = None, mode: str = "2d", grid: int = 33,
                 n_samples: int = 20_000, bins: int = 48, extent: float = 3.0, seed: int = 0,
                 preset: str = "notebook", **kwargs: Any) -> None:
        if mode not in ("2d", "3d"):
            raise ValueError(f"mode must be '2d' or '3d', got {describe_value(mode)}")
        super().__init__(preset=preset, mode=mode, **kwargs)
        self._opts: dict[str, Any] = {"grid": grid, "n_samples": n_samples, "bins": bins, "extent": extent,
                                      "seed": seed}
        self._scene: LensScene | None = None
        self._lut = colormap_lut("viridis")
        m3 = np.asarray(LECTURE_MATRIX3 if matrix3 is None else matrix3, dtype=np.float64)
        if m3.shape != (3, 3) or not np.isfinite(m3).all():
            raise ValueError(f"matrix3 must be 3x3 with finite entries, got {m3.tolist()}")
        if text is not None:
            self.set_text(text, strict=True)
        else:
            self.set_matrix(LECTURE_MATRIX if matrix is None else matrix)
        self.matrix3 = [float(v) for v in m3.ravel()]

    # -- the 2D map ------------------------------------------------------------------------------
    def set_matrix(self, matrix: Sequence[Sequence[float]]) -> None:
        """Show the linear map x = A z (ValueError for anything but a finite 2x2 matrix)."""
        scene = lens_scene(matrix, **self._opts)
        self._show(scene)
        self._applying = True
        try:
            self.text = scene.text
        finally:
            self._applying = False

    def set_text(self, text: str, strict: bool = False) -> bool:
        """Parse ``text`` and show it; on a parse error keep the current map, put the message in ``error``
        and return False (``strict``: raise the ExpressionError instead)."""
        self._applying = True
        try:
            self.text = text
        finally:
            self._applying = False
        return self._apply_text(text, strict)

    def _apply_text(self, text: str, strict: bool = False) -> bool:
        try:
            if len(text) > MAX_TEXT:
                raise ExpressionError(f"the expression is longer than {MAX_TEXT} characters")
            parsed = parse_map(text, ("z1", "z2"))
            if parsed.n_outputs != 2:
                raise ExpressionError(f"give two comma-separated outputs (x1, x2), got {parsed.n_outputs}")
            scene = lens_scene(parsed, **self._opts)
        except (ExpressionError, ValueError, ArithmeticError, RuntimeError) as err:
            # ArithmeticError/RuntimeError: a map whose numbers overflow somewhere torch or Python does not
            # return inf (shown under the text box like a parse error, never raised into the kernel's log)
            if strict:
                raise
            self.error = str(err) if isinstance(err, (ExpressionError, ValueError)) else f"{type(err).__name__}: {err}"
            return False
        self._show(scene)
        return True

    @traitlets.observe("text")
    def _on_text(self, change: dict[str, Any]) -> None:
        if getattr(self, "_applying", False):
            return
        self._apply_text(str(change["new"]))

    def _show(self, scene: LensScene) -> None:
        self._scene = scene
        self.error = ""
        self.publish({**scene.arrays(), "lut": self._lut}, scene.meta())

    # -- the 3x3 view ----------------------------------------------------------------------------
    def _refuse(self, note: str) -> None:
        """A refused value is named in ``error`` (the line under the text box, shown in the 2D and the 3D mode)."""
        self.error = note

    @traitlets.validate("matrix3")
    def _valid3(self, proposal: dict[str, Any]) -> list[float]:
        """9 finite numbers (TraitError otherwise)."""
        v = [float(x) for x in proposal["value"]]
        if len(v) != 9 or not all(math.isfinite(x) for x in v):
            raise traitlets.TraitError("matrix3 needs 9 finite numbers (row-major 3x3)")
        return v

    @traitlets.observe("matrix3")
    def _on_matrix3(self, change: dict[str, Any]) -> None:
        m = np.asarray(change["new"], dtype=np.float64).reshape(3, 3)
        terms = six_terms(m)
        # entries up to 1.8e308 are finite but their products need not be: a term, the sum, det or a vertex that
        # overflowed is sent as None ("non-finite" in the browser; JSON has no inf)
        self.three = json_safe({
            "matrix": m.tolist(), "terms": terms, "sum": float(sum(t["value"] for t in terms)),
            "det": float(torch.linalg.det(torch.as_tensor(m))), "vertices": parallelepiped(m).tolist(),
            "edges": cube_edges(),
        })

    # -- reading the state -------------------------------------------------------------------------
    @property
    def scene(self) -> LensScene:
        """The arrays currently shown (see :class:`flowviz.scene.lens.LensScene`)."""
        assert self._scene is not None
        return self._scene

    def save_html(self, path: str | pathlib.Path, title: str = "flowviz") -> pathlib.Path:
        """One self-contained HTML file (no CDN, no kernel): hover readouts and the 3x3 view keep working."""
        from .export import page_html

        out = pathlib.Path(path)
        out.write_text(page_html(self, title, traits=("text", "mode", "three", "matrix3", "error")), encoding="utf-8")
        return out

    @staticmethod
    def matrix_text(matrix: Sequence[Sequence[float]]) -> str:
        """The expression text of x = A z (what the text box shows for a matrix)."""
        return matrix_text(matrix)
