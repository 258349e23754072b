"""The base class of every invertible layer, and the configuration that rebuilds it.

Direction convention (the same in every module of flowviz):

* ``forward`` is the generative direction, base to data, ``z -> x`` (the lecture's G).
* ``inverse`` is the normalising direction, data to base, ``x -> z`` (G^{-1}).

Both return ``(output, log_det)`` where ``log_det`` has shape ``(N,)`` and is
``log|det J|`` of the map just applied, per sample. So at matching points
``inverse``'s log_det is minus ``forward``'s: ``log|det J_{f^-1}(x)| = -log|det J_f(z)|``.
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
from collections.abc import Iterator
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

__all__ = ["Bijection", "Configurable", "Inverse", "NotInvertibleError", "REGISTRY", "as_input", "check_count",
           "check_input", "check_positive"]


class NotInvertibleError(ValueError):
    """A map was asked to invert where it is not invertible (det J = 0 or a fold)."""


#: Every configurable class by name, so that a saved configuration can be rebuilt.
REGISTRY: dict[str, type[Configurable]] = {}


#: What a configuration can hold, said in the error for anything else.
_RECORDABLE = ("numbers, strings, booleans, None, lists, tuples, dicts, torch tensors, numpy arrays and scalars, "
               "torch.nn module classes and flowviz layers")
#: The exact Python types of a plain attribute (see :meth:`Configurable.config`).
_PLAIN = (bool, int, float, str)


def _encode(value: Any, owner: str = "", argument: str = "") -> Any:
    """Turn a constructor argument into plain data (lists, numbers, strings, dicts) that
    ``torch.load(weights_only=True)`` reads back.

    ``owner`` names the layer the argument belongs to (``"Flow.layers[1] (Linear)"``) and ``argument`` the
    argument (``"matrix"``, ``"layers[1]"``), for the TypeError raised for a value that cannot be recorded."""
    if isinstance(value, Configurable):
        where = f"{owner}.{argument}" if owner and argument else owner or type(value).__name__
        return value._config_at(f"{where} ({type(value).__name__})" if argument else where)
    if isinstance(value, Tensor):
        return {"__tensor__": value.detach().cpu().tolist(), "dtype": str(value.dtype).removeprefix("torch.")}
    if isinstance(value, (list, tuple, range)):
        return [_encode(v, owner, f"{argument}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {str(k): _encode(v, owner, f"{argument}[{k!r}]") for k, v in value.items()}
    if value is None or isinstance(value, bool):
        return value
    # exact Python types: numpy scalars (np.int64, np.float64, a float subclass; np.str_) are not plain data
    # for torch.load(weights_only=True)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, type) and issubclass(value, nn.Module):
        return {"__module_class__": value.__name__}
    if type(value).__module__.split(".")[0] == "numpy":  # flows/ imports no numpy: told apart by their module
        if getattr(value, "ndim", None) == 0 and not hasattr(value, "__len__"):  # a scalar not caught above: np.bool_
            item = value.item()
            if type(item) in _PLAIN:
                return item
        else:  # an array (or np.matrix): a tensor of the same dtype and shape
            try:
                return _encode(torch.as_tensor(value), owner, argument)
            except (TypeError, RuntimeError, ValueError):  # an object or string array
                pass
    where = f"the constructor argument {argument!r} of {owner}" if owner else f"constructor argument {argument!r}"
    raise TypeError(f"cannot record {where}: a {type(value).__module__}.{type(value).__qualname__} is not "
                    f"something a flowviz configuration can hold ({_RECORDABLE}); pass plain numbers, a list or a "
                    "tensor instead")


def _decode(value: Any) -> Any:
    """The inverse of :func:`_encode`: plain data back to tensors, module classes and flowviz objects."""
    if isinstance(value, dict):
        if "__tensor__" in value:
            dtype = getattr(torch, str(value.get("dtype")), None)
            if not isinstance(dtype, torch.dtype):
                raise ValueError(f"a recorded tensor has an unknown dtype {value.get('dtype')!r}")
            return torch.tensor(value["__tensor__"], dtype=dtype)
        if "__module_class__" in value:
            module_class = getattr(nn, str(value["__module_class__"]), None)
            if not (isinstance(module_class, type) and issubclass(module_class, nn.Module)):
                raise ValueError(f"a recorded argument names {value['__module_class__']!r}, not a torch.nn module "
                                 "class")
            return module_class
        if "type" in value and "kwargs" in value:
            return from_config(value)
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def from_config(config: dict[str, Any]) -> Configurable:
    """Rebuild a layer, distribution or flow from ``obj.config()`` (parameters are not included).

    The constructor is called with the recorded ``kwargs``; then the recorded ``attributes`` (plain values
    changed after construction, such as a Planar or Radial layer's ``constrained`` switched off by a widget)
    are set again, so the rebuilt object is in the state the configuration was taken in. A configuration
    that is not such a record is a ValueError that says what is wrong."""
    if not isinstance(config, dict):
        raise ValueError(f"a flowviz configuration is a dict with 'type' and 'kwargs', got a {type(config).__name__}")
    name = config.get("type")
    if not isinstance(name, str) or name not in REGISTRY:
        raise ValueError(f"unknown flowviz class {name!r} in configuration; known: {sorted(REGISTRY)}")
    recorded, attributes = config.get("kwargs"), config.get("attributes", {})
    if not isinstance(recorded, dict):
        raise ValueError(f"the configuration of {name} has no 'kwargs' dict (the constructor arguments)")
    if not isinstance(attributes, dict):
        raise ValueError(f"the configuration of {name} has 'attributes' that are not a dict")
    cls = REGISTRY[name]
    parameters = inspect.signature(cls).parameters
    for attribute, value in attributes.items():
        if attribute not in parameters or type(value) not in _PLAIN:
            raise ValueError(f"the configuration of {name} sets {attribute!r} to {value!r}: only a constructor "
                             "argument's name with a plain value (bool, int, float, str) can be set")
    kwargs = {k: _decode(v) for k, v in recorded.items()}
    module = cls(**kwargs)
    for attribute, value in attributes.items():
        setattr(module, attribute, value)
    return module


def check_count(value: Any, name: str, minimum: int = 1, owner: str = "") -> int:
    """``value`` as an int >= minimum (Python or numpy integers; not bool, not float), else a clear error."""
    where = f"{owner}: " if owner else ""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        hint = f" (use int({value!r}))" if isinstance(value, float) and value.is_integer() else ""
        raise TypeError(f"{where}{name} must be an integer >= {minimum}, got {value!r} ({type(value).__name__}){hint}")
    if value < minimum:
        raise ValueError(f"{where}{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def check_whole(value: Any, name: str, lo: int, hi: int, owner: str = "") -> int:
    """``value`` as an int in [lo, hi]: an integer or a float without a fractional part (a browser slider
    sends 16.0), not bool or text; else a clear error (TypeError for the kind, ValueError for the value)."""
    where = f"{owner}: " if owner else ""
    span = f"a whole number between {lo:,} and {hi:,}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where}{name} must be {span}, got {value!r} ({type(value).__name__})")
    number = float(value)
    if not (math.isfinite(number) and number.is_integer() and lo <= number <= hi):
        raise ValueError(f"{where}{name} must be {span}, got {value!r}")
    return int(number)


def check_positive(value: Any, name: str, owner: str = "") -> float:
    """``value`` as a finite float > 0, else a clear error."""
    where = f"{owner}: " if owner else ""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where}{name} must be a positive number, got {value!r} ({type(value).__name__})")
    number = float(value)
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"{where}{name} must be a finite number > 0, got {value}")
    return number


#: Constructor arguments with the same meaning in every layer, checked before any layer is built:
#: name -> smallest allowed integer (``dim``: the dimension; ``hidden``: units per hidden layer of a
#: conditioner; ``depth``: its hidden layers, 0 = an affine conditioner; ``bins``: spline bins).
_COUNT_ARGUMENTS = {"dim": 1, "hidden": 1, "depth": 0, "bins": 1}
#: Constructor arguments that must be finite and > 0 (``bound``: a spline's half-width; ``scale_limit``: the
#: bound on an affine coupling's or autoregressive layer's log-scales).
_POSITIVE_ARGUMENTS = ("bound", "scale_limit")


def _check_arguments(owner: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """The common arguments present in ``arguments``, checked and normalised: a Python int for a count, a
    Python float for a positive number (``np.int64(8)`` -> 8, ``np.float32(4)`` -> 4.0), else a clear error."""
    normal: dict[str, Any] = {}
    for name, minimum in _COUNT_ARGUMENTS.items():
        if name in arguments:
            normal[name] = check_count(arguments[name], name, minimum, owner)
    for name in _POSITIVE_ARGUMENTS:
        if name in arguments:
            normal[name] = check_positive(arguments[name], name, owner)
    return normal


class Configurable(nn.Module):
    """An ``nn.Module`` that records its constructor arguments, so it can be saved and rebuilt.

    The common arguments (``dim``, ``hidden``, ``depth``, ``bins``, ``bound``, ``scale_limit``) are checked on the
    way in, so a layer is never built with a shape or range that would fail later with an obscure message, and
    normalised to Python numbers (a numpy integer or float is accepted; the layer and its configuration get int/float).
    """

    _config: dict[str, Any]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        REGISTRY[cls.__name__] = cls
        init = cls.__dict__.get("__init__")
        if init is None:
            return
        signature = inspect.signature(init)

        @functools.wraps(init)
        def wrapped(self: Configurable, *args: Any, **kw: Any) -> None:
            outermost = "_config" not in self.__dict__
            if outermost:
                bound = signature.bind(self, *args, **kw)
                bound.apply_defaults()
                arguments = dict(bound.arguments)
                arguments.pop("self")
                extra = arguments.pop("kwargs", None) if "kwargs" in signature.parameters else None
                if extra:
                    arguments.update(extra)
                changed = {k: v for k, v in _check_arguments(type(self).__name__, arguments).items()
                           if v is not arguments[k]}
                # an iterator (``Flow(layer for ...)``) can be read once: the constructor and the record get its
                # items as a list
                changed.update({k: list(v) for k, v in arguments.items() if isinstance(v, Iterator)})
                if changed:  # e.g. np.int64(8) -> 8: the constructor and the configuration see the Python number
                    arguments.update(changed)
                    for name, value in changed.items():
                        if name in bound.arguments:
                            bound.arguments[name] = value
                        else:
                            bound.arguments["kwargs"][name] = value
                    args, kw = bound.args[1:], bound.kwargs
                object.__setattr__(self, "_config", {"type": type(self).__name__, "kwargs": arguments})
            init(self, *args, **kw)

        cls.__init__ = wrapped  # type: ignore[method-assign, assignment]

    def config(self) -> dict[str, Any]:
        """The constructor call that rebuilds this object in its current state, as plain data (no parameters).

        ``{"type": class name, "kwargs": the constructor arguments}``, and ``"attributes"`` when a plain attribute
        named like a constructor argument (bool, int, float or str: ``constrained``, ``chunk_size``) was changed
        after construction: :func:`from_config` calls the constructor with the recorded arguments (which it
        accepted) and then sets those attributes again. Numpy arrays are recorded as tensors, numpy scalars as
        Python numbers. A value that cannot be recorded is a TypeError naming the layer and the argument."""
        return self._config_at(type(self).__name__)

    def _config_at(self, where: str) -> dict[str, Any]:
        """:meth:`config`, with ``where`` naming this object in error messages (``"Flow.layers[1] (Linear)"``)."""
        recorded = self._config["kwargs"]
        config: dict[str, Any] = {"type": self._config["type"],
                                  "kwargs": {k: _encode(v, where, k) for k, v in recorded.items()}}
        attributes = self._changed_attributes()
        if attributes:
            config["attributes"] = attributes
        return config

    def _changed_attributes(self) -> dict[str, Any]:
        """The plain attributes (bool, int, float, str; an instance attribute or a property) named like a
        constructor argument whose value now differs from the recorded argument, e.g. ``constrained`` of a
        Planar layer after the widget's switch turned it off."""
        changed: dict[str, Any] = {}
        for name, value in self._config["kwargs"].items():
            if name in self.__dict__:
                current = self.__dict__[name]
            elif isinstance(inspect.getattr_static(type(self), name, None), property):
                try:
                    current = getattr(self, name)
                except Exception:  # a property that cannot be read now holds no plain state to record
                    continue
            else:
                continue
            if type(current) not in _PLAIN:
                continue
            try:
                recorded = _encode(value)
            except TypeError:
                recorded = value
            if not (type(recorded) is type(current) and recorded == current):
                changed[name] = current
        return changed


def check_input(x: Tensor, dim: int, what: str = "input") -> None:
    """Raise a clear ValueError unless ``x`` is a floating tensor of shape (N, dim)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{what} must be a torch.Tensor of shape (N, {dim}), got {type(x).__name__}")
    if x.dim() != 2 or x.shape[-1] != dim:
        raise ValueError(f"{what} must have shape (N, {dim}), got {tuple(x.shape)}")
    if not x.is_floating_point():
        raise ValueError(f"{what} must be a floating-point tensor, got dtype {x.dtype}")


def as_input(x: Any, dim: int, dtype: torch.dtype, device: torch.device, what: str = "input") -> Tensor:
    """``x`` as an (N, dim) tensor of ``dtype`` on ``device`` (a flow's own): a tensor of another real dtype
    (float64 data, integer coordinates) or on another device is converted, since the computation follows
    the flow; a tensor already right is returned as is (autograd still sees it). flows/ speaks torch only:
    anything else (a numpy array, a list) is a TypeError that says how to make a tensor of it."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{what} must be a torch.Tensor of shape (N, {dim}), got {type(x).__name__}"
                        + (" (torch.as_tensor(...) makes one of it)" if isinstance(x, (list, tuple))
                           or type(x).__module__ == "numpy" else ""))
    if x.dim() != 2 or x.shape[-1] != dim:
        hint = f" (one point: pass {what}.reshape(1, {dim}))" if tuple(x.shape) == (dim,) else ""
        raise ValueError(f"{what} must have shape (N, {dim}), got {tuple(x.shape)}{hint}")
    if x.dtype == torch.bool or x.is_complex():
        raise ValueError(f"{what} must hold real numbers, got dtype {x.dtype}")
    return x.to(device=device, dtype=dtype)


class Bijection(Configurable):
    """An invertible map of R^dim with a tractable log|det J|.

    Subclasses implement ``forward(z) -> (x, log|det J_f(z)|)`` (base -> data, generative) and
    ``inverse(x) -> (z, log|det J_{f^-1}(x)|)`` (data -> base, normalising). Inputs have shape
    ``(N, dim)``; log_det has shape ``(N,)``.
    """

    dim: int
    #: Whether the Jacobian is triangular (in the layer's variable order); tests check the zero pattern.
    triangular: ClassVar[bool] = False

    def forward(self, z: Tensor) -> tuple[Tensor, Tensor]:  # pragma: no cover - abstract
        """Generative direction z -> x. Returns (x, log|det J_f(z)|)."""
        raise NotImplementedError

    def inverse(self, x: Tensor) -> tuple[Tensor, Tensor]:  # pragma: no cover - abstract
        """Normalising direction x -> z. Returns (z, log|det J_{f^-1}(x)|)."""
        raise NotImplementedError

    def is_invertible(self) -> bool:
        """False when the current parameters make the map non-invertible (det J = 0 somewhere)."""
        return True

    def invertibility_message(self) -> str:
        """Why the map is not invertible ("" when it is)."""
        return "" if self.is_invertible() else f"{type(self).__name__} is not invertible with these parameters"

    def describe(self) -> str:
        """A one-line caption for readouts: the formula with the current parameter values."""
        return type(self).__name__

    def passthrough(self) -> list[int]:
        """Coordinates i copied unchanged in both directions (x_i = z_i, so row i of J is e_i), e.g. the
        kept half of a coupling layer. Jacobian readouts skip the derivative pass of those rows."""
        return []

    def needs_whole_batch(self) -> bool:
        """True while the layer's next call would fit its parameters to its input (ActNorm's data-dependent
        initialisation in training mode): a :class:`~flowviz.flows.Flow` then evaluates that pass on the
        whole batch in one piece instead of in row chunks, so that chunking stays invisible."""
        return False


class Inverse(Bijection):
    """The inverse of a bijection, as a layer: ``forward`` is ``bijection.inverse`` and vice versa.

    ``Inverse(MaskedAutoregressive(d))`` is an inverse autoregressive flow (IAF): sampling is one
    pass, density evaluation is sequential.
    """

    def __init__(self, bijection: Bijection) -> None:
        super().__init__()
        self.bijection = bijection
        self.dim = bijection.dim

    def forward(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """x = f^{-1}(z) of the wrapped f; log_det = log|det J_{f^-1}(z)|."""
        return self.bijection.inverse(z)

    def inverse(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """z = f(x) of the wrapped f; log_det = log|det J_f(x)|."""
        return self.bijection.forward(x)

    def is_invertible(self) -> bool:
        return self.bijection.is_invertible()

    def invertibility_message(self) -> str:
        return self.bijection.invertibility_message()

    def describe(self) -> str:
        return f"Inverse({self.bijection.describe()})"

    def passthrough(self) -> list[int]:
        return self.bijection.passthrough()

    def needs_whole_batch(self) -> bool:
        return self.bijection.needs_whole_batch()
