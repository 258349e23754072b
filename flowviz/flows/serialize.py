"""Save and load a flow: its configuration (the constructor calls) plus its parameters and buffers.

The round trip is exact: ``load(path)`` rebuilds the same classes with the same arguments, sets again the
plain attributes changed since construction (a ``constrained`` switched off), and loads the state dict bit
for bit. The file is read with ``torch.load(weights_only=True)``, which never unpickles Python objects (that
can run arbitrary code): so :func:`save` writes plain data only, checked before anything is written, and
:func:`load` answers any other file with a ValueError ``"not a flowviz flow file: ..."`` that says why.
"""

from __future__ import annotations

import io
import numbers
import os
import pickle
import warnings
import zipfile
from typing import Any

import torch

from .base import Configurable, from_config

__all__ = ["save", "load"]

FORMAT = "flowviz-flow/1"
#: The format of a file whose record restores plain attributes changed after construction (``"attributes"``): a
#: reader of /1 would ignore them and build another flow, so such a file says /2 and such a reader refuses it.
FORMAT_ATTRIBUTES = "flowviz-flow/2"
READABLE = (FORMAT, FORMAT_ATTRIBUTES)


def _has_attributes(config: Any) -> bool:
    """Whether a layer record, or any record nested in it, restores attributes (see FORMAT_ATTRIBUTES)."""
    if isinstance(config, dict):
        return "attributes" in config or any(_has_attributes(v) for v in config.values())
    if isinstance(config, (list, tuple)):
        return any(_has_attributes(v) for v in config)
    return False

#: What metadata may hold, said in the error for anything else.
_METADATA_TYPES = "numbers, strings, booleans, None, lists, tuples and dicts of those (numpy values and tensors " \
                  "are converted)"


def _plain_metadata(value: Any, where: str) -> Any:
    """``value`` as plain Python data that ``torch.load(weights_only=True)`` reads back: numpy scalars become
    Python numbers, numpy arrays and tensors become (nested) lists or a number, dict subclasses dicts. Anything
    else is a TypeError naming where it is (``metadata['history']['loss']``)."""
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        return _plain_metadata(value.item() if value.dim() == 0 else value.tolist(), where)
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):  # an ndarray or a numpy scalar
        return _plain_metadata(value.tolist(), where)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (list, tuple)):
        items = [_plain_metadata(v, f"{where}[{i}]") for i, v in enumerate(value)]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, dict):
        plain: dict[Any, Any] = {}
        for k, v in value.items():
            key = _plain_metadata(k, f"{where} key {k!r}")
            if isinstance(key, (list, tuple)):
                raise TypeError(f"cannot save metadata: {where} key {k!r} is not a number or a string")
            plain[key] = _plain_metadata(v, f"{where}[{k!r}]")
        return plain
    raise TypeError(f"cannot save metadata: {where} is a {type(value).__module__}.{type(value).__qualname__}, which "
                    f"a flowviz file cannot hold (it holds {_METADATA_TYPES}); convert it, e.g. with str() or float()")


def save(module: Configurable, path: str | os.PathLike[str], **metadata: Any) -> None:
    """Write ``module`` (a Flow, layer or distribution) to ``path``; extra keyword arguments are stored as metadata.

    Metadata is converted to plain Python data first (numpy numbers and arrays, tensors -> numbers and lists);
    a value that cannot be (an arbitrary object) is a TypeError naming it, and so is a constructor argument
    that cannot be recorded (naming the layer and the argument). Both are raised before ``path`` is written,
    so :func:`load` reads every file that ``save`` writes."""
    if not isinstance(module, Configurable):
        raise TypeError(f"can only save flowviz layers/flows, got {type(module).__name__}")
    try:
        config = module.config()
    except TypeError as error:
        raise TypeError(f"cannot save {type(module).__name__} to {os.fspath(path)}: {error}") from None
    header = {"format": FORMAT_ATTRIBUTES if _has_attributes(config) else FORMAT, "config": config,
              "metadata": {str(k): _plain_metadata(v, f"metadata[{k!r}]") for k, v in metadata.items()}}
    buffer = io.BytesIO()  # the header (no tensors) must come back through weights_only, before anything is written
    torch.save(header, buffer)
    buffer.seek(0)
    try:
        torch.load(buffer, weights_only=True)
    except Exception as error:  # pragma: no cover - the conversions above leave nothing it refuses
        raise TypeError(f"cannot save {type(module).__name__}: its configuration or metadata would not load "
                        f"({type(error).__name__})") from None
    state_dict = {k: v.detach().cpu() for k, v in module.state_dict().items()}
    torch.save({**header, "state_dict": state_dict}, os.fspath(path))


def _not_flowviz(path: str | os.PathLike[str], reason: str) -> ValueError:
    """The error for a file that :func:`load` cannot read, with the reason."""
    return ValueError(f"not a flowviz flow file: {os.fspath(path)}: {reason}")


def _first_line(error: BaseException) -> str:
    """The error's type and the first line of its message, for a reason."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0][:200]}" if text else type(error).__name__


def _read(path: str | os.PathLike[str]) -> Any:
    """The object stored in ``path`` by ``torch.save``, read with ``weights_only=True``; a file that is not one
    is a ValueError (a missing or unreadable file stays an OSError)."""
    name = os.fspath(path)
    try:
        with warnings.catch_warnings():  # a plain pickle file makes torch warn about its protocol first
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            return torch.load(name, map_location="cpu", weights_only=True)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except pickle.UnpicklingError:
        # never pass on torch's advice to retry with weights_only=False: unpickling an unknown file can run code
        if zipfile.is_zipfile(name):
            reason = ("it is a torch file holding pickled Python objects (such as torch.save(flow, path) of a whole "
                      "module), which flowviz does not load, since unpickling can run arbitrary code")
        else:
            reason = "it is not a file written by torch.save (a pickle or another format), which flowviz does not load"
        raise _not_flowviz(path, f"{reason}; write a flow with flowviz.flows.save(flow, path)") from None
    except Exception as error:
        raise _not_flowviz(path, f"it is not a file written by torch.save, or it is damaged ({_first_line(error)}); "
                                 "write a flow with flowviz.flows.save(flow, path)") from None


def load(path: str | os.PathLike[str], map_location: str | torch.device | None = None) -> Configurable:
    """Rebuild the object saved by :func:`save` (on ``map_location``, default cpu).

    Any file that is not one (another format, a pickled module, a damaged or hand-made record) is a ValueError
    ``"not a flowviz flow file: <path>: <reason>"``; a missing file is FileNotFoundError."""
    payload = _read(path)
    if not isinstance(payload, dict):
        raise _not_flowviz(path, f"it holds a {type(payload).__name__}, not the record flowviz.flows.save writes")
    if payload.get("format") not in READABLE:
        found = f"its format is {payload['format']!r}" if "format" in payload else "it has no 'format' entry"
        raise _not_flowviz(path, f"{found}, expected {' or '.join(map(repr, READABLE))} (a file written by "
                                 "flowviz.flows.save)")
    if payload["format"] == FORMAT and _has_attributes(payload.get("config")):
        raise _not_flowviz(path, f"its record restores attributes, which format {FORMAT!r} does not have")
    for key in ("config", "state_dict"):
        if not isinstance(payload.get(key), dict):
            raise _not_flowviz(path, f"its {key!r} entry is missing or not a dict")
    state = payload["state_dict"]
    bad = [k for k, v in state.items() if not (isinstance(k, str) and isinstance(v, torch.Tensor))]
    if bad:
        raise _not_flowviz(path, f"its state_dict holds entries that are not named tensors: {bad[:5]}")
    try:
        module = from_config(payload["config"])
    except Exception as error:
        reason = f"its configuration does not rebuild a flowviz object ({_first_line(error)})"
        raise _not_flowviz(path, reason) from None
    # match dtypes of the saved tensors (a float64 flow stays float64)
    floats = {v.dtype for v in state.values() if v.is_floating_point()}
    if len(floats) == 1:
        module.to(floats.pop())
    try:
        module.load_state_dict(state)
    except Exception as error:
        raise _not_flowviz(path, f"its parameters do not fit its configuration ({_first_line(error)})") from None
    if map_location is not None:
        module.to(map_location)
    return module
