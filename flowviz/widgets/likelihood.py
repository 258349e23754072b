"""LikelihoodSplit: log p(x) = log pi(G^{-1}(x)) + log|det J_{G^{-1}}(x)|, term by term, and why
collapsing every z to 0 does not pay.

Direction: the flow's forward is base -> data (x = G(z)); the split uses its inverse, data -> base.
A shrink slider c in (0, 1] composes the inverse with z -> c z (G_c^{-1}(x) = c G^{-1}(x)): term 1 =
log pi(c z) rises towards log pi(0), term 2 = log|det J_{G^{-1}}(x)| + d log c falls to -inf. Python
evaluates every c of a log-spaced grid once (flowviz.scene.likelihood) and sends z and log|det J|; the
browser moves the (continuous) slider, recolours the points and marks the averages locally: exactly
for any c when the base is the standard normal or a uniform box, by interpolation in log c on the grid
otherwise (the grid of term 1 is sent only then). A term 1 of -inf (c z outside the base's support) is
shown as -inf, never as 0.
"""

from __future__ import annotations

import math
import pathlib
from typing import Any, ClassVar

import numpy as np
import torch
import traitlets
from torch import Tensor

from ..data import Dataset, DatasetLike, as_dataset
from ..flows import Flow, NotInvertibleError
from ..flows.base import check_whole
from ..scene.likelihood import LikelihoodScene, likelihood_scene, split_terms
from .base import ArrayWidget, Float
from .controls import Control
from .lut import colormap_lut

__all__ = ["LikelihoodSplit"]

SLIDER_STEP = 0.001  # of log10 c


class LikelihoodSplit(ArrayWidget):
    """``LikelihoodSplit(flow, data, c=1.0)``: the two terms of log p(x) per point and on average.

    Parameters
    ----------
    flow: a 2D :class:`flowviz.flows.Flow` (any device); its inverse must exist.
    data: (N, 2) tensor or array of data points x, or a dataset (a name such as "moons", a
        :class:`flowviz.data.Dataset`), of which ``max_points`` samples are drawn with ``seed``.
    c: the shrink factor in [c_min, 1] (1: the flow itself).
    c_min, n_c: the slider's range and the log-spaced grid of c computed in Python (default 1e-3 .. 1,
        121 values: the curves of the averages; term 1 between grid values for a base other than the
        standard normal and the uniform box, whose term 1 the browser computes exactly at any c).
    max_points: at most this many points are shown (a seeded random subset).
    """

    _bundle_name: ClassVar[str] = "likelihood"

    c = Float(1.0).tag(sync=True)

    def __init__(self, flow: Flow, data: Tensor | np.ndarray | DatasetLike, *, c: float = 1.0, c_min: float = 1e-3,
                 n_c: int = 121, max_points: int = 5000, seed: int = 0, preset: str = "notebook",
                 **kwargs: Any) -> None:
        if not isinstance(flow, Flow):
            raise TypeError(f"LikelihoodSplit needs a flowviz.flows.Flow, got {type(flow).__name__}")
        if flow.dim != 2:
            raise ValueError(f"LikelihoodSplit shows 2D flows; this flow has dim {flow.dim}")
        if not 0 < c_min < 1:
            raise ValueError(f"c_min must be in (0, 1), got {c_min}")
        if not (math.isfinite(c) and c_min <= c <= 1):
            raise ValueError(f"c must be in [{c_min}, 1], got {c}")
        if preset not in ("notebook", "presentation"):
            raise ValueError(f"preset must be 'notebook' or 'presentation', got {preset!r}")
        max_points = check_whole(max_points, "max_points", 1, 2_000_000, "LikelihoodSplit")
        n_c = check_whole(n_c, "n_c (values of c computed)", 2, 10_000, "LikelihoodSplit")
        if isinstance(data, (str, Dataset)) or (isinstance(data, type) and issubclass(data, Dataset)):
            # a dataset by name, instance or class (as fit takes it): max_points samples drawn with the seed
            x = as_dataset(data).sample(max_points, torch.Generator().manual_seed(seed)).detach().cpu()
        else:
            x = torch.as_tensor(data.detach().cpu().numpy() if isinstance(data, Tensor) else np.asarray(data))
        if x.dim() != 2 or x.shape[1] != 2 or x.shape[0] == 0:
            raise ValueError(f"data must have shape (N, 2) with N >= 1, got {tuple(x.shape)}")
        if x.shape[0] > max_points:
            g = torch.Generator().manual_seed(seed)
            x = x[torch.randperm(x.shape[0], generator=g)[:max_points]]
        super().__init__(c=float(c), preset=preset, **kwargs)
        self.flow = flow
        self.data = x
        self._c_min, self._n_c = float(c_min), int(n_c)
        self._scene: LikelihoodScene | None = None
        self._lut = colormap_lut("viridis")
        self.recompute()

    def recompute(self) -> None:
        """Re-evaluate the split (e.g. after the flow was trained or changed) and send it."""
        try:
            scene = likelihood_scene(self.flow, self.data, c_min=self._c_min, n_c=self._n_c)
        except Exception as err:  # keep the last picture; say what went wrong (e.g. not invertible)
            self.publish_error(err)
            if isinstance(err, NotInvertibleError):
                self.meta = {**self.meta, "status": "not invertible", "message": str(err)}
            return
        self._scene = scene
        with self.hold_sync():
            self.publish({**scene.arrays(), "lut": self._lut}, scene.meta())
            self.controls = [self._slider().as_json(math.log10(self.c))]

    def _slider(self) -> Control:
        """The shrink slider over log10 c: steps of 0.001 (continuous for the eye), aligned so that c = 1 is
        reachable; the browser clamps c to [c_min, 1]."""
        lo = math.floor(math.log10(self._c_min) / SLIDER_STEP + 1e-9) * SLIDER_STEP
        return Control("log10_c", 0, "shrink: log\u2081\u2080 c", round(lo, 6), 0.0, SLIDER_STEP, local=True)

    @traitlets.validate("c")
    def _valid_c(self, proposal: dict[str, Any]) -> float:
        c = float(proposal["value"])
        lo = getattr(self, "_c_min", 0.0)
        if not (math.isfinite(c) and c > 0 and lo <= c <= 1):
            raise traitlets.TraitError(f"c must be in [{lo or 'c_min'}, 1], got {c}")
        return c

    @property
    def scene(self) -> LikelihoodScene:
        """The arrays currently shown (see :class:`flowviz.scene.likelihood.LikelihoodScene`)."""
        assert self._scene is not None
        return self._scene

    def shown_data(self) -> Tensor:
        """The data points the view shows (``scene.rows`` of ``data``): those whose data and inverse were finite
        at the last recompute; ``scene.dropped`` counts the others."""
        rows = torch.as_tensor(self.scene.rows, dtype=torch.long)
        return self.data[rows]

    def terms(self, c: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Per-point (term1, term2) at c (default: the current c) for the points shown (:meth:`shown_data`; the
        ``scene.dropped`` points left out of the view are left out here too), evaluated by the flow itself in
        its dtype (term 2 accumulated in float64) and returned as float64. term1 is -inf where c z lies outside
        the base's support."""
        x = self.shown_data().to(device=self.flow.device, dtype=self.flow.dtype)
        t1, t2 = split_terms(self.flow, x, self.c if c is None else c)
        return t1.double().cpu().numpy(), t2.double().cpu().numpy()

    def averages(self, c: float | None = None) -> dict[str, float]:
        """Mean term1, term2 and their sum (the average log-likelihood of the shrunk model) at c over the points
        shown, as the view shows them (-inf where some point's c z leaves the base's support; NaN without points),
        with ``points`` (how many were averaged) and ``dropped`` (how many of ``data`` the view leaves out)."""
        t1, t2 = self.terms(c)
        n = len(t1)

        def mean(v: np.ndarray) -> float:
            return float(v.mean()) if n else math.nan

        return {"term1": mean(t1), "term2": mean(t2), "total": mean(t1 + t2), "points": n,
                "dropped": int(self.scene.dropped)}

    def save_html(self, path: str | pathlib.Path, title: str = "flowviz") -> pathlib.Path:
        """Write one self-contained HTML file (no CDN, no kernel); the c slider keeps working there."""
        from .export import page_html

        out = pathlib.Path(path)
        out.write_text(page_html(self, title, traits=("c",)), encoding="utf-8")
        return out
