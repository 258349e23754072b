"""TriangularJacobian: the Jacobian of an autoregressive or coupling layer in n dimensions, its zero pattern,
log|det J| three ways, and a live measurement of dense LU (O(n^3)) against the diagonal (O(n)).

Arrays come from :mod:`flowviz.scene.triangular` (binary float32). The browser draws the heatmap, its hover
readout (log|J_ii| from the scene's ``logdiag``, computed in float64) and the log-log timing plot. The n slider
and the kind select set ``params`` / ``kind``; the "measure" button increments ``measure_request`` and Python
runs :func:`~flowviz.scene.triangular.time_logdet` (on the layer's device) and writes the medians into ``timing``.
"""

from __future__ import annotations

import pathlib
import traceback
from collections.abc import Sequence
from typing import Any, ClassVar

import torch
import traitlets

from ..flows.base import check_whole
from ..scene.finite import json_safe
from ..scene.triangular import (
    DEFAULT_SIZES,
    DIAG_SIZES,
    MAX_N,
    TriangularScene,
    make_layer,
    time_logdet,
    triangular_scene,
)
from .base import ArrayWidget
from .controls import Control

__all__ = ["TriangularJacobian"]

N_CONTROL = Control("n", 0, "n", 2, MAX_N, 1)


class TriangularJacobian(ArrayWidget):
    """``TriangularJacobian(kind="maf"|"coupling", n=16)``: J = dx/dz of one layer at a point z ~ N(0, I).

    Parameters
    ----------
    kind: "maf" (MaskedAutoregressive, lower triangular in the natural order) or "coupling" (AffineCoupling,
        lower triangular with the kept coordinates first).
    n: dimension (2 .. 512).
    seed: seed of the layer's random parameters and of the point z.
    sizes, repeats, budget_s, diag_sizes: what the "measure" button times (dense sizes up to 4096, diagonal-only
        sizes up to 50M; the default takes about 5 s on two CPU cores).
    """

    _bundle_name: ClassVar[str] = "triangular"

    kind = traitlets.Unicode("maf").tag(sync=True)
    timing = traitlets.Dict().tag(sync=True)
    measure_request = traitlets.Int(0).tag(sync=True)
    measuring = traitlets.Bool(False).tag(sync=True)

    def __init__(self, kind: str = "maf", n: int = 16, *, seed: int = 0, sizes: Sequence[int] = DEFAULT_SIZES,
                 repeats: int = 5, budget_s: float = 5.0, device: str | torch.device | None = None,
                 diag_sizes: Sequence[int] = DIAG_SIZES, **kwargs: Any) -> None:
        if kind not in ("maf", "coupling"):
            raise ValueError(f"kind must be 'maf' or 'coupling', got {kind!r}")
        super().__init__(kind=kind, **kwargs)
        self._n, self._seed = self._check_n(n), int(seed)
        self._timing_opts = {"sizes": tuple(sizes), "repeats": repeats, "budget_s": budget_s, "device": device,
                             "diag_sizes": tuple(diag_sizes)}
        self._scene: TriangularScene | None = None
        self.controls = [N_CONTROL.as_json(self._n)]
        self._applying = True
        try:
            self.params = {"n": self._n}
        finally:
            self._applying = False
        self.recompute()

    @staticmethod
    def _check_n(n: Any) -> int:
        return check_whole(n, "n", 2, MAX_N)

    @property
    def n(self) -> int:
        return self._n

    def recompute(self) -> None:
        """Build the layer for (kind, n, seed) and send its Jacobian (one message)."""
        try:
            self.layer = make_layer(self.kind, self._n, self._seed)
            scene = triangular_scene(self.layer, seed=self._seed)
        except Exception as err:  # keep the last picture
            self._last_error = traceback.format_exc()
            self.publish_error(err)
            return
        self._scene = scene
        self.publish(scene.arrays(), scene.meta())
        self._applying = True
        try:
            self.controls = [N_CONTROL.as_json(self._n)]
            self.params = {"n": self._n}
        finally:
            self._applying = False

    @traitlets.observe("params")
    def _on_params(self, change: dict[str, Any]) -> None:
        if getattr(self, "_applying", False):
            return
        value = (change["new"] or {}).get("n", self._n)
        try:
            n = self._check_n(value)
        except (TypeError, ValueError) as err:  # e.g. "abc" or 2.5 from a front end
            self.publish_error(err)
            self._applying = True  # the slider goes back to the n shown; the banner says why
            try:
                self.params = {"n": self._n}
            finally:
                self._applying = False
            return
        if n != self._n or (self.meta or {}).get("status") == "error":  # (the same n again clears an error)
            self._n = n
            self.recompute()

    @traitlets.observe("kind")
    def _on_kind(self, change: dict[str, Any]) -> None:
        if change["new"] not in ("maf", "coupling"):
            self.publish_error(ValueError(f"kind must be 'maf' or 'coupling', got {change['new']!r}"))
            return
        if getattr(self, "_scene", None) is not None:
            self.recompute()

    @traitlets.observe("measure_request")
    def _on_measure(self, change: dict[str, Any]) -> None:
        self.measure()

    def measure(self, sizes: Sequence[int] | None = None, repeats: int | None = None) -> dict[str, Any]:
        """Time log|det| by dense LU and by the diagonal (medians); the result is also put in ``timing``."""
        opts: dict[str, Any] = dict(self._timing_opts)
        if sizes is not None:
            opts["sizes"] = tuple(sizes)
        if repeats is not None:
            opts["repeats"] = repeats
        self.measuring = True
        try:
            result = time_logdet(**opts)
        except Exception as err:
            result = {"error": f"{type(err).__name__}: {err}"}
        finally:
            self.measuring = False
        self.timing = json_safe(result)  # a slope fitted to fewer than two sizes is NaN: None on the wire
        return result

    def save_html(self, path: str | pathlib.Path, title: str = "flowviz") -> pathlib.Path:
        """One self-contained HTML file (no CDN, no kernel) with the heatmap, its hover and the last timing."""
        from .export import page_html

        out = pathlib.Path(path)
        out.write_text(page_html(self, title, traits=("kind", "timing")), encoding="utf-8")
        return out

    @property
    def scene(self) -> TriangularScene:
        assert self._scene is not None
        return self._scene
