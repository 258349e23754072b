"""ChangeOfVariables1D: the lecture's 1D change of variables, p(x) = pi(z) |dz/dx|, live.

Direction: forward is generative, base -> data, x = G(z). Python computes the dense curves pi(z), x = G(z),
G'(z), p(G(z)) and histograms of pushed samples (flowviz.scene.cov1d) and sends them as binary float32;
the browser draws them, lets the user drag the strip [z', z' + dz] and computes the strip readouts
(|dz/dx|, p(x') = pi(z') |dz/dx|, the two equal areas) locally, exactly in float64 from the base, map and
parameters in ``meta`` (js/src/views/cov1d/exact.js). Only a parameter slider goes back to Python.

Parameters that cannot be shown (b = 1e15 on x = 2z + b: the image is too narrow for its position to be drawn
from float32 arrays) are refused by name with the reason, and the last valid parameters stay (``values``, the
``params`` trait and the sliders), so the next slider move works from them.
"""

from __future__ import annotations

import math
import pathlib
from typing import Any, ClassVar

import torch
import traitlets

from ..flows.base import check_whole
from ..scene.cov1d import BASES, MAPS, Cov1DScene, StripReadout, cov1d_scene, default_params, strip_readout
from .base import ArrayWidget, Float
from .controls import Control, Option, describe_value, join_notes, number_value, shorten

__all__ = ["ChangeOfVariables1D"]

_LOGIT_NEEDS = "the logit map needs z in (0, 1)"
_BASE_LABELS = {"uniform": "U[0, 1]", "normal": "N(0, 1)"}
_MAP_LABELS = {"affine": "affine: a z + b", "sigmoid": "sigmoid(a z + b)",
               "sinh_arcsinh": "sinh-arcsinh: a sinh((asinh z + skew)/tail) + b", "logit": "logit: a logit(z) + b"}

_CONTROLS = {
    "a": Control("a", 0, "a", -3.0, 3.0, 0.05),
    "b": Control("b", 0, "b", -3.0, 3.0, 0.05),
    "skew": Control("skew", 0, "skew", -2.0, 2.0, 0.05),
    "tail": Control("tail", 0, "tail", 0.2, 3.0, 0.05),
}
_DZ = Control("dz", 0, "dz", 0.01, 0.5, 0.01, local=True)  # the strip is the browser's


def _reason(err: BaseException) -> str:
    """What went wrong, in words: a ValueError's own message, else the error's type and message."""
    return str(err) if isinstance(err, ValueError) else f"{type(err).__name__}: {err}"


def _refusal(names: list[str], values: dict[str, float], err: BaseException,
             kept: dict[str, float] | None = None) -> str:
    """"b = 1e+15 refused: <reason>; kept b = 1": the parameters that were refused, why, and what stays."""
    text = f"{', '.join(f'{k} = {values[k]:g}' for k in names)} refused: {_reason(err)}"
    if kept is not None:
        text += f"; kept {', '.join(f'{k} = {kept[k]:g}' for k in names)}"
    return text


def allowed(base: str, map: str) -> bool:
    """Whether the map can be applied to the base (the logit map needs z in (0, 1): the uniform base)."""
    return not (map == "logit" and base != "uniform")


def kind_controls(base: str, map: str) -> list[dict[str, Any]]:
    """The two drop-downs (js/WIRE.md, kind "choice"): the base and the map. A combination that is not
    allowed is shown as a disabled option saying why, so the browser cannot reach it."""
    def option(value: str, label: str, ok: bool, why: str, hint: str) -> Option:
        return Option(value, label if ok else f"{label} ({why})", disabled=not ok,
                      title="" if ok else f"{_LOGIT_NEEDS}: {hint}")

    bases = Control("base", 0, "base \u03c0", kind="choice", options=tuple(
        option(b, _BASE_LABELS[b], allowed(b, map), "not with logit", "pick another map first")
        for b in BASES))
    maps = Control("map", 0, "map x = G(z)", kind="choice", options=tuple(
        option(m, _MAP_LABELS[m], allowed(base, m), "needs U[0, 1]", "pick the uniform base first")
        for m in MAPS))
    return [bases.as_json(base), maps.as_json(map)]


class ChangeOfVariables1D(ArrayWidget):
    """``ChangeOfVariables1D(base="uniform", map="affine", a=2.0, b=1.0)``: pi(z), p(x) and the strip.

    Parameters
    ----------
    base: "uniform" (pi = U[0, 1]) or "normal" (pi = N(0, 1)).
    map: "affine" (x = a z + b), "sigmoid" (x = sigmoid(a z + b)), "sinh_arcsinh"
        (x = a sinh((asinh z + skew) / tail) + b) or "logit" (x = a logit(z) + b, uniform base only).
    a, b, skew, tail: the map's parameters (None: the map's default; a < 0 is legal, a = 0 is shown as
        "not invertible").
    strip_z, strip_dz: the strip [z', z' + dz] (None: z' = 1/2 for the uniform base, 0.3 for the normal,
        dz = 0.1).
    n_samples, bins: the histogram of pushed samples x_i = G(z_i), z_i ~ pi.

    The default is the lecture's example: Z ~ U[0, 1], X = 2Z + 1, so pi_Z(1/2) = 1 and p_X(2) = 1/2.
    """

    _bundle_name: ClassVar[str] = "cov1d"

    base = traitlets.Unicode("uniform").tag(sync=True)
    map = traitlets.Unicode("affine").tag(sync=True)
    strip_z = Float(0.5).tag(sync=True)
    strip_dz = Float(0.1).tag(sync=True)

    def __init__(self, base: str = "uniform", map: str = "affine", a: float | None = None, b: float | None = None,
                 skew: float | None = None, tail: float | None = None, *, strip_z: float | None = None,
                 strip_dz: float = 0.1, n_samples: int = 20000, bins: int = 40, seed: int = 0,
                 preset: str = "notebook", **kwargs: Any) -> None:
        if base not in BASES:
            raise ValueError(f"base must be one of {BASES}, got {base!r}")
        if map not in MAPS:
            raise ValueError(f"map must be one of {MAPS}, got {map!r}")
        if not allowed(base, map):
            raise ValueError(f"{_LOGIT_NEEDS}: use base='uniform'")
        if preset not in ("notebook", "presentation"):
            raise ValueError(f"preset must be 'notebook' or 'presentation', got {preset!r}")
        n_samples = check_whole(n_samples, "n_samples", 1, 2_000_000, "ChangeOfVariables1D")
        given = {"a": a, "b": b, "skew": skew, "tail": tail}
        values = default_params(map)
        for k, v in given.items():
            if v is None:
                continue
            if k not in values:
                raise ValueError(f"the {map} map has no parameter {k!r} (it has {sorted(values)})")
            values[k] = self._check_value(k, v)
        if strip_z is None:
            strip_z = 0.5 if base == "uniform" else 0.3
        if not (math.isfinite(strip_dz) and strip_dz > 0):
            raise ValueError(f"strip_dz must be a positive number, got {strip_dz}")
        super().__init__(base=base, map=map, strip_z=float(strip_z), strip_dz=float(strip_dz), preset=preset,
                         **kwargs)
        self._values = values
        self._n_samples, self._bins, self._seed = int(n_samples), int(bins), seed
        self._scene: Cov1DScene | None = None
        self._applying = False
        self._switching = False
        try:
            scene = self._compute(values)
        except Exception as err:  # no earlier picture to keep: refused here, by name, like any bad argument
            named = [k for k, v in given.items() if v is not None] or sorted(values)
            raise ValueError(_refusal(named, values, err)) from err
        self._show(scene)

    @staticmethod
    def _check_value(name: str, value: Any) -> float:
        """``value`` as a parameter, else a ValueError naming it: not a number, NaN/inf, or beyond float32's range
        (:func:`~flowviz.scene.cov1d.build_map` makes float32 layers first: a = 1e300 or an integer such as 10**400
        from a front end would fail there)."""
        number = number_value(value, name, torch.float32)
        if name == "tail" and not number > 0:
            raise ValueError(f"tail must be > 0, got {number}")
        return number

    # -- controls and params -------------------------------------------------------------------
    def _sync_controls(self) -> None:
        controls = kind_controls(self.base, self.map)
        controls += [_CONTROLS[k].as_json(v) for k, v in self._values.items()]
        controls.append(_DZ.as_json(self.strip_dz))
        self._applying = True
        try:
            self.controls = controls
            self.params = dict(self._values)
        finally:
            self._applying = False

    @traitlets.observe("params")
    def _on_params(self, change: dict[str, Any]) -> None:
        """New parameters (a slider, ``set_params``): each is checked by name, then the scene is computed for the
        new set. A set the scene refuses (:class:`~flowviz.scene.cov1d.UnresolvedImageError`, or any error) is not
        kept: the message names the parameters and the reason, and ``values``, the ``params`` trait and the
        sliders go back to the last valid set, which stays on show. Keys that are not the map's parameters are
        dropped (named in the message, cut short): ``params`` always holds exactly the map's parameters."""
        if self._applying:
            return
        new = change["new"] if isinstance(change["new"], dict) else {}
        notes = []
        candidate = dict(self._values)
        moved: list[str] = []
        unknown = [k for k in new if k not in self._values]
        for k, v in new.items():
            if k not in self._values:
                continue
            try:
                v = self._check_value(k, v)
            except ValueError as err:
                notes.append(f"{k}: {err}")
                continue
            if v != candidate[k]:
                candidate[k] = v
                moved.append(k)
        if unknown:
            shown = join_notes([repr(shorten(str(k))) for k in unknown], limit=5, sep=", ")
            notes.append(f"the {self.map} map has no parameter {shown} (ignored)")
        if not moved:
            if notes:
                self._refuse("; ".join(notes))  # nothing to compute: the message, and the sliders go back
            if notes or new != self._values:
                self._sync_controls()
            return
        scene = self._scene
        if moved:
            try:
                scene = self._compute(candidate)
            except Exception as err:
                notes.append(_refusal(moved, candidate, err, kept=self._values))
            else:
                self._values = candidate
        if scene is None:  # (only before the first picture)
            self.recompute(note="; ".join(notes))
        else:
            self._show(scene, note="; ".join(notes))

    @traitlets.observe("base", "map")
    def _on_kind(self, change: dict[str, Any]) -> None:
        """A new base or map (from Python or from the browser's drop-downs): recompute. A new map starts
        from its default parameters (the sliders follow). A combination that is not allowed (logit on the
        normal base; the browser disables it) is never shown blank: the other setting is switched and the
        banner says so."""
        if not hasattr(self, "_values") or self._switching:
            return
        name, new = change["name"], change["new"]
        if (name == "map" and new not in MAPS) or (name == "base" and new not in BASES):
            options = MAPS if name == "map" else BASES
            self.publish_error(ValueError(f"{name} must be one of {options}, got {describe_value(new)}"))
            self._switching = True  # the trait goes back to the setting shown (a later change builds on it)
            try:
                setattr(self, name, change["old"])
            finally:
                self._switching = False
            return
        note = ""
        if not allowed(self.base, self.map):
            self._switching = True
            try:
                if name == "map":
                    self.base = "uniform"
                    note = f"{_LOGIT_NEEDS}: the base was switched to U[0, 1]"
                else:
                    self.map = "affine"
                    note = f"{_LOGIT_NEEDS}: the map was switched to affine (x = a z + b)"
            finally:
                self._switching = False
        values = default_params(self.map) if self._scene is None or self.map != self._scene.map else self._values
        try:
            scene = self._compute(values)
        except Exception as err:  # the last valid base, map and parameters stay (traits included)
            shown = self._scene
            if shown is None:
                self.publish_error(err)
                return
            self._switching = True
            try:
                self.base, self.map = shown.base, shown.map
            finally:
                self._switching = False
            note = f"{name} = {describe_value(new)} refused: {_reason(err)}; kept {name} = {getattr(shown, name)!r}"
            self._show(shown, note=note)
            return
        self._values = dict(values)
        self._show(scene, note=note)

    def _clamped_strip(self, z: float) -> float:
        """z' moved so that [z', z' + dz] lies on the base's grid (the browser's clampStrip, same numbers)."""
        if self._scene is None:
            return z
        lo, hi = float(self._scene.z[0]), float(self._scene.z[-1]) - self.strip_dz
        return min(max(z, lo), hi) if hi > lo else lo

    @traitlets.validate("strip_z")
    def _valid_strip_z(self, proposal: dict[str, Any]) -> float:
        """z': a finite number (TraitError otherwise), moved onto the base's grid."""
        z = proposal["value"]
        if not math.isfinite(z):
            raise traitlets.TraitError(f"strip_z must be a finite number, got {z}")
        return self._clamped_strip(float(z)) if hasattr(self, "_scene") else float(z)

    @traitlets.validate("strip_dz")
    def _valid_strip_dz(self, proposal: dict[str, Any]) -> float:
        """dz: a finite number > 0 (TraitError otherwise)."""
        dz = proposal["value"]
        if not (math.isfinite(dz) and dz > 0):
            raise traitlets.TraitError(f"strip_dz must be a positive number, got {dz}")
        return float(dz)

    @traitlets.observe("strip_dz")
    def _on_strip_dz(self, change: dict[str, Any]) -> None:
        """A wider strip may no longer fit where it starts: moved back onto the grid, as the browser does."""
        z = self._clamped_strip(self.strip_z) if hasattr(self, "_scene") else self.strip_z
        if z != self.strip_z:
            self.strip_z = z

    def set_params(self, **values: float) -> None:
        """Set map parameters from Python (the same path as the sliders), e.g. ``view.set_params(a=-2)``."""
        self.params = {**self._values, **values}

    # -- computation ----------------------------------------------------------------------------
    def _compute(self, values: dict[str, float]) -> Cov1DScene:
        """The scene for the current base and map with parameters ``values`` (raises what cov1d_scene raises)."""
        return cov1d_scene(self.base, self.map, values, n_samples=self._n_samples, bins=self._bins,
                           seed=self._seed)

    def recompute(self, note: str = "") -> bool:
        """Recompute the arrays for the current base, map and parameters and send them (one message); False (the
        last picture kept, the error shown) when that fails."""
        try:
            scene = self._compute(self._values)
        except Exception as err:  # keep the last picture; say what went wrong instead of a blank widget
            self.publish_error(err)
            return False
        self._show(scene, note=note)
        return True

    def _show(self, scene: Cov1DScene, note: str = "") -> None:
        """Send ``scene`` (arrays and meta, with ``note`` added to its message), the controls and ``params``."""
        self._scene = scene
        meta = scene.meta()
        if note:
            meta["message"] = (meta["message"] + " — " if meta["message"] else "") + note
        with self.hold_sync():
            self.publish(scene.arrays(), meta)
            self._sync_controls()
            self.strip_z = self._clamped_strip(self.strip_z)  # a new base may have another support

    # -- reading the state ------------------------------------------------------------------------
    @property
    def scene(self) -> Cov1DScene:
        """The arrays currently shown (see :class:`flowviz.scene.cov1d.Cov1DScene`)."""
        assert self._scene is not None
        return self._scene

    @property
    def values(self) -> dict[str, float]:
        """The map's current parameters."""
        return dict(self._values)

    @property
    def readout(self) -> StripReadout:
        """The exact strip readout at (strip_z, strip_dz): |dz/dx|, p(x') = pi(z') |dz/dx|, both areas."""
        return strip_readout(self.scene, self.strip_z, self.strip_dz)

    def save_html(self, path: str | pathlib.Path, title: str = "flowviz") -> pathlib.Path:
        """Write one self-contained HTML file (no CDN, no kernel); the strip stays draggable there."""
        from .export import page_html

        out = pathlib.Path(path)
        out.write_text(page_html(self, title, traits=("strip_z", "strip_dz")), encoding="utf-8")
        return out
