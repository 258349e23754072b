"""Parameter controls for hand-built layers: which sliders a layer offers and how a value is applied.

Control ids are fixed strings like "L3.scale.0" (layer 3, parameter scale, entry 0); they are parsed
against a fixed table, never evaluated. Coupling/autoregressive layers offer only their on/off
toggle: their parameters are high-dimensional network weights, not sliders (and buffers such as
permutations are never offered).
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from ..flows import Affine, Bijection, Linear, Planar, Radial, SinhArcsinh

__all__ = ["Control", "Option", "layer_controls", "apply_control", "control_value", "number_value", "describe_value",
           "shorten", "join_notes", "whole_value"]

KINDS = ("slider", "toggle", "choice")


@dataclass(frozen=True)
class Option:
    """One entry of a "choice" control: the value sent back, the text shown, and whether it can be picked
    now (a disabled option is shown greyed out; ``title`` says why, as a tooltip)."""

    value: str
    label: str
    disabled: bool = False
    title: str = ""

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": self.value, "label": self.label}
        if self.disabled:
            out["disabled"] = True
        if self.title:
            out["title"] = self.title
        return out


@dataclass(frozen=True)
class Control:
    """A slider (kind "slider") or a toggle (kind "toggle") for one number of one layer (1-based), or a
    drop-down (kind "choice", a <select>) of ``options`` for one named setting.

    ``as_json(value)`` is the object of the ``controls`` trait (js/WIRE.md); sliders and toggles are
    written exactly as before choices existed. ``local=True`` marks a browser-only control (it changes the
    view, not the model: e.g. the strip width), which keeps working in a static export where the others
    are shown disabled."""

    id: str
    layer: int
    label: str
    min: float = -3.0
    max: float = 3.0
    step: float = 0.01
    kind: str = "slider"
    options: tuple[Option, ...] = ()
    local: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"control kind must be one of {KINDS}, got {self.kind!r}")
        if self.kind == "choice":
            if not self.options:
                raise ValueError(f"choice control {self.id!r} needs at least one option")
            values = [o.value for o in self.options]
            if len(set(values)) != len(values):
                raise ValueError(f"choice control {self.id!r} has repeated option values: {values}")
        elif self.options:
            raise ValueError(f"only a choice control has options ({self.id!r} is a {self.kind})")

    def as_json(self, value: float | bool | str | None) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "layer": self.layer, "label": self.label, "value": value}
        if self.kind == "toggle":
            out["kind"] = "toggle"
        elif self.kind == "choice":
            if value not in {o.value for o in self.options}:
                raise ValueError(f"{value!r} is not an option of {self.id!r}: {[o.value for o in self.options]}")
            out["kind"] = "choice"
            out["options"] = [o.as_json() for o in self.options]
        else:
            out.update(min=self.min, max=self.max, step=self.step)
        if self.local:
            out["local"] = True
        return out


#: how a message shows a value from a front end: a few entries of a list or dict, the start of a long text
_REPR = reprlib.Repr()
_REPR.maxstring, _REPR.maxother, _REPR.maxlong = 60, 60, 60
_REPR.maxlist = _REPR.maxtuple = _REPR.maxset = _REPR.maxdict = 4
_REPR.maxlevel = 3


def describe_value(value: Any) -> str:
    """A control value as a message shows it: its repr, cut short (a long text, list or dict is not written out
    first); an integer too large for a float by its size."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 1024:
        return f"an integer of {value.bit_length()} bits"
    text = _REPR.repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def shorten(text: str, limit: int = 40) -> str:
    """``text`` as a message echoes it: the first ``limit`` characters, then "..." when it is longer (an id or
    name a front end sent can be a megabyte)."""
    return text if len(text) <= limit else text[:limit] + "..."


def join_notes(notes: Sequence[str], limit: int = 10, sep: str = "; ") -> str:
    """The first ``limit`` notes joined, then "and 99,990 more" for the rest (a message listing every refused
    entry of a 100,000-key message would be megabytes)."""
    shown = sep.join(notes[:limit])
    rest = len(notes) - limit
    return shown + (f"{sep}and {rest:,} more" if rest > 0 else "")


def whole_value(value: Any, name: str, lo: int, hi: int, why: str = "") -> int:
    """``value`` from a front end as an int in [lo, hi] (an integer, or a float without a fractional part: a slider
    sends 16.0), else a ValueError naming ``name``, the range (and ``why``) and the value, cut short. Unlike
    :func:`flowviz.flows.base.check_whole`, an integer of any size is compared exactly (10**400 has no float)."""
    span = f"a whole number between {lo:,} and {hi:,}{why}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be {span}, got {describe_value(value)}")
    if isinstance(value, float):
        ok = math.isfinite(value) and value.is_integer() and lo <= value <= hi
    else:
        ok = lo <= value <= hi
    if not ok:
        raise ValueError(f"{name} must be {span}, got {describe_value(value)}")
    return int(value)


def number_value(value: Any, name: str, dtype: torch.dtype = torch.float64) -> float:
    """``value`` as a float that a tensor of ``dtype`` holds, else a ValueError naming ``name``: for a bool, text,
    None, NaN or inf ("needs a finite number"), and for a number beyond +-``torch.finfo(dtype).max`` (1e39 for a
    float32 parameter, whose write would raise; an integer such as 10**400 that no float holds)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} needs a finite number, got {describe_value(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{name} needs a finite number, got {value!r}")
    limit = torch.finfo(dtype).max
    if abs(value) > limit:  # exact for an int of any size: no conversion to float first
        kind = str(dtype).removeprefix("torch.")
        raise ValueError(f"{name} needs a number within +-{limit:.4g} (the range of its {kind} parameter), "
                         f"got {describe_value(value)}")
    return float(value)


def _vector_controls(k: int, name: str, label: str, dim: int, lo: float, hi: float) -> list[Control]:
    return [Control(f"L{k}.{name}.{i}", k, f"{label}{i + 1}" if dim > 1 else label, lo, hi) for i in range(dim)]


def layer_controls(layer: Bijection, k: int) -> list[Control]:
    """The controls of layer number k (1-based): its on/off toggle, then its low-dimensional parameters."""
    out = [Control(f"L{k}.enabled", k, "on", kind="toggle")]
    d = layer.dim
    if d > 3:
        return out
    if isinstance(layer, Affine):
        out += _vector_controls(k, "scale", "s", d, -3, 3) + _vector_controls(k, "shift", "t", d, -3, 3)
    elif isinstance(layer, Linear) and layer.parametrization == "matrix":
        out += [Control(f"L{k}.W.{i}.{j}", k, f"W{i + 1}{j + 1}") for i in range(d) for j in range(d)]
    elif isinstance(layer, Planar):
        out += _vector_controls(k, "u", "u", d, -3, 3) + _vector_controls(k, "w", "w", d, -3, 3)
        out += [Control(f"L{k}.b", k, "b"), Control(f"L{k}.constrained", k, "keep invertible", kind="toggle")]
    elif isinstance(layer, Radial):
        out += _vector_controls(k, "centre", "z0_", d, -3, 3)
        out += [Control(f"L{k}.alpha", k, "alpha", 0.01, 5), Control(f"L{k}.beta", k, "beta", -5, 5),
                Control(f"L{k}.constrained", k, "keep invertible", kind="toggle")]
    elif isinstance(layer, SinhArcsinh):
        out += _vector_controls(k, "skew", "skew", d, -3, 3) + _vector_controls(k, "tail", "tail", d, 0.1, 3)
    return out


@torch.no_grad()
def control_value(layer: Bijection, name: str, index: tuple[int, ...], enabled: bool) -> float | bool:
    """The current value of a control, read from the layer."""
    if name == "enabled":
        return enabled
    if name == "constrained" and isinstance(layer, (Planar, Radial)):
        return bool(layer.constrained)
    if name == "alpha" and isinstance(layer, Radial):
        return float(layer.alpha)
    if name == "beta" and isinstance(layer, Radial):
        return float(layer.beta)
    if name == "tail" and isinstance(layer, SinhArcsinh):
        return float(layer.log_tailweight[index[0]].exp())
    param = getattr(layer, {"W": "weight"}.get(name, name))
    if not isinstance(param, torch.Tensor):
        raise ValueError(f"{type(layer).__name__} has no parameter {name!r}")
    return float(param.detach()[index])


def parse_id(control_id: str) -> tuple[int, str, tuple[int, ...]]:
    """"L3.W.0.1" -> (3, "W", (0, 1)); ValueError for anything else."""
    parts = control_id.split(".")
    if len(parts) < 2 or not parts[0].startswith("L") or not parts[0][1:].isdigit():
        raise ValueError(f"not a control id: {control_id!r}")
    if not all(p.isdigit() for p in parts[2:]):
        raise ValueError(f"not a control id: {control_id!r}")
    return int(parts[0][1:]), parts[1], tuple(int(p) for p in parts[2:])


@torch.no_grad()
def apply_control(layer: Bijection, name: str, index: tuple[int, ...], value: Any) -> str:
    """Set one parameter of ``layer`` from a control value. Returns a note ("" normally), e.g. when a
    value had to be clamped to keep a constrained layer invertible. Raises ValueError for bad input."""
    if name == "constrained":
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false, got {value!r}")
        if isinstance(layer, Radial):
            alpha, beta = float(layer.alpha), float(layer.beta)
            layer.constrained = value
            note = ""
            if value and not beta > -alpha:
                beta, note = -alpha + 1e-3, f"beta raised to {-alpha + 1e-3:.3g} to keep the map invertible"
            layer.set_parameters(alpha=alpha, beta=beta)
            return note
        if isinstance(layer, Planar):
            layer.constrained = value
            return ""
        raise ValueError(f"{type(layer).__name__} has no constraint to toggle")
    if isinstance(layer, Radial) and name in ("alpha", "beta"):
        dtype = layer.alpha_raw.dtype
        value = number_value(value, name, dtype)
        alpha = value if name == "alpha" else float(layer.alpha)
        beta = value if name == "beta" else float(layer.beta)
        alpha = max(alpha, 1e-3)
        note = ""
        if layer.constrained and not beta > -alpha:
            beta, note = -alpha + 1e-3, f"beta held at {-alpha + 1e-3:.3g}: keep invertible is on"
        if layer.constrained:  # beta is stored through softplus^-1(alpha + beta): that sum must fit too
            number_value(alpha + beta, "alpha + beta", dtype)
        layer.set_parameters(alpha=alpha, beta=beta)
        return note
    if isinstance(layer, SinhArcsinh) and name == "tail":
        value = number_value(value, name, layer.log_tailweight.dtype)  # read back as exp(log tail): it must fit
        if not value > 0:
            raise ValueError(f"the tail weight must be > 0, got {value}")
        layer.log_tailweight[index[0]] = math.log(value)
        return ""
    tensor = {"W": "weight"}.get(name, name)
    if name not in {"scale", "shift", "W", "u", "w", "b", "centre", "skew"} or not hasattr(layer, tensor):
        number_value(value, name)  # a bad value first, as before: "needs a finite number"
        raise ValueError(f"{type(layer).__name__} has no parameter {name!r}")
    param = getattr(layer, tensor)
    param[index] = number_value(value, name, param.dtype)
    return ""
