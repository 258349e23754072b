"""TriangularJacobian: the Jacobian of an autoregressive or coupling layer in n dimensions, its zero pattern,
log|det J| three ways, and a live measurement of dense LU (O(n^3)) against the diagonal (O(n)).

Arrays come from :mod:`flowviz.scene.triangular` (binary float32). The browser draws the heatmap, its hover
readout (log|J_ii| from the scene's ``logdiag``, computed in float64) and the log-log timing plot. The n slider
and the kind select set ``params`` / ``kind``; the "measure" button increments ``measure_request`` and Python
runs :func:`~flowviz.scene.triangular.time_logdet` (on the layer's device) and writes the medians into ``timing``.
"""

from __future__ import annotations

import pathlib
import threading
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
from .controls import Control, describe_value, whole_value

__all__ = ["TriangularJacobian"]

N_CONTROL = Control("n", 0, "n", 2, MAX_N, 1)
KINDS = ("maf", "coupling")
#: the largest measure_request taken (the browser's counter is a JavaScript number: exact up to 2**53)
MAX_REQUEST = 2**53


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

    The button increments ``measure_request``. An increase from the browser starts a measurement on a worker
    thread (the kernel keeps answering), at most one at a time: requests arriving while one runs are merged into
    one more run after it; :meth:`join_measurement` waits for them. A decrease measures nothing; a value that is
    not a whole number in 0 .. 2**53 is refused. An increase from Python measures at once, as :meth:`measure`.
    A kind other than "maf"/"coupling" goes back to the kind shown; refusals are shown as an error in ``meta``.
    """

    _bundle_name: ClassVar[str] = "triangular"
    _KERNEL_TRAITS: ClassVar[frozenset[str]] = ArrayWidget._KERNEL_TRAITS | {"timing", "measuring"}

    kind = traitlets.Unicode("maf").tag(sync=True)
    timing = traitlets.Dict().tag(sync=True)
    measure_request = traitlets.Int(0).tag(sync=True)
    measuring = traitlets.Bool(False).tag(sync=True)

    def __init__(self, kind: str = "maf", n: int = 16, *, seed: int = 0, sizes: Sequence[int] = DEFAULT_SIZES,
                 repeats: int = 5, budget_s: float = 5.0, device: str | torch.device | None = None,
                 diag_sizes: Sequence[int] = DIAG_SIZES, **kwargs: Any) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be 'maf' or 'coupling', got {describe_value(kind)}")
        self._measure_lock = threading.Lock()  # one measurement at a time, whoever asks
        self._worker_lock = threading.Lock()  # guards _worker and _pending
        self._worker: threading.Thread | None = None
        self._pending = False
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
        """The constructor's n: a whole number in 2 .. MAX_N (TypeError/ValueError otherwise)."""
        if isinstance(n, int) and not isinstance(n, bool) and n.bit_length() > 64:
            return whole_value(n, "n", 2, MAX_N)  # (a ValueError: float() of 10**400 overflows in check_whole)
        return check_whole(n, "n", 2, MAX_N)

    @property
    def n(self) -> int:
        return self._n

    def recompute(self) -> None:
        """Build the layer for (kind, n, seed) and send its Jacobian (one message); params goes back to the n."""
        try:
            self.layer = make_layer(self.kind, self._n, self._seed)
            scene = triangular_scene(self.layer, seed=self._seed)
        except Exception as err:  # keep the last picture
            self._last_error = traceback.format_exc()
            self.publish_error(err)
            return
        self._scene = scene
        self.publish(scene.arrays(), scene.meta())
        self.controls = [N_CONTROL.as_json(self._n)]
        self._put_params_back()

    def _put_params_back(self) -> None:
        """``params`` holds the n shown, and nothing else (the widget's own write: not a change to act on)."""
        self._applying = True
        try:
            self.params = {"n": self._n}
        finally:
            self._applying = False

    def _refuse(self, note: str) -> None:
        """A refused value is shown as an error (this view's front end shows only an error's message); the last
        picture stays, and the next valid n or kind clears it."""
        self.publish_error(ValueError(note))

    @traitlets.observe("params")
    def _on_params(self, change: dict[str, Any]) -> None:
        """A new n from the slider: recompute; a refused n (not a whole number in 2 .. MAX_N) is named in the
        banner. Either way ``params`` goes back to {"n": the n shown} (other keys are dropped)."""
        if getattr(self, "_applying", False):
            return
        new = change["new"]
        value = new.get("n", self._n) if isinstance(new, dict) else self._n
        try:
            n = whole_value(value, "n", 2, MAX_N)
        except ValueError as err:  # e.g. "abc", 2.5 or 10**400 from a front end
            self.publish_error(err)
            self._put_params_back()  # the slider goes back to the n shown; the banner says why
            return
        if n != self._n or (self.meta or {}).get("status") == "error":  # (the same n again clears an error)
            self._n = n
            self.recompute()  # (which puts params back)
        else:
            self._put_params_back()

    @traitlets.observe("kind")
    def _on_kind(self, change: dict[str, Any]) -> None:
        """A new kind: recompute; one that is not "maf" or "coupling" goes back to the kind shown, with a message
        (so that a later n is shown with the kind the trait holds)."""
        if not self._check_choice(change, KINDS):
            return
        if getattr(self, "_scene", None) is not None:
            self.recompute()

    @traitlets.validate("measure_request")
    def _valid_request(self, proposal: dict[str, Any]) -> int:
        """A counter: a whole number in 0 .. 2**53 (TraitError otherwise)."""
        value = proposal["value"]
        if not 0 <= value <= MAX_REQUEST:
            raise traitlets.TraitError(f"measure_request must be a whole number between 0 and 2**53, "
                                       f"got {describe_value(value)}")
        return int(value)

    @traitlets.observe("measure_request")
    def _on_measure(self, change: dict[str, Any]) -> None:
        """Only an increase requests a measurement: from the browser (its message is being applied: the trait is
        in ipywidgets' property lock) on the worker thread, from Python at once."""
        if not change["new"] > change["old"]:
            return
        if "measure_request" in getattr(self, "_property_lock", {}):
            self._request_measurement()
        else:
            self.measure()

    def _request_measurement(self) -> None:
        """Start the worker, or, while it runs, ask it for one more run (any number of requests meanwhile: one)."""
        with self._worker_lock:
            if self._worker is not None:
                self._pending = True
                return
            self._worker = threading.Thread(target=self._measure_worker, name="flowviz-measure")
            self._worker.start()

    def _measure_worker(self) -> None:
        """Measure until no request is pending (the worker thread's body)."""
        try:
            while True:
                self.measure()
                with self._worker_lock:
                    if not self._pending:
                        self._worker = None
                        return
                    self._pending = False
        except BaseException:
            with self._worker_lock:
                self._worker, self._pending = None, False
            raise

    def join_measurement(self, timeout: float | None = None) -> bool:
        """Wait for the browser's requested measurements (and the one merged request) to finish; whether they
        did within ``timeout`` seconds."""
        while True:
            with self._worker_lock:
                worker = self._worker
            if worker is None:
                return True
            worker.join(timeout)
            if worker.is_alive():
                return False

    def measure(self, sizes: Sequence[int] | None = None, repeats: int | None = None) -> dict[str, Any]:
        """Time log|det| by dense LU and by the diagonal (medians); the result is also put in ``timing``. One
        measurement at a time: a call while another runs (the browser's, on the worker thread) waits for it."""
        opts: dict[str, Any] = dict(self._timing_opts)
        if sizes is not None:
            opts["sizes"] = tuple(sizes)
        if repeats is not None:
            opts["repeats"] = repeats
        with self._measure_lock:
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
