"""The binary wire format (js/WIRE.md): every array crosses as float32 bytes with dtype and shape.

ipywidgets lifts the ``memoryview`` out of the JSON state into a binary buffer; the browser gets a
DataView. No JSON lists of numbers.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

__all__ = ["encode_array", "decode_array", "encode_arrays", "to_base64"]

_DTYPES = {"float32": np.float32, "uint8": np.uint8, "int32": np.int32}


def encode_array(a: np.ndarray, dtype: str = "float32") -> dict[str, Any]:
    """{"dtype", "shape", "data": memoryview} of a C-contiguous little-endian copy of ``a``."""
    if dtype not in _DTYPES:
        raise ValueError(f"dtype must be one of {sorted(_DTYPES)}, got {dtype!r}")
    arr = np.ascontiguousarray(np.asarray(a), dtype=np.dtype(_DTYPES[dtype]).newbyteorder("<"))
    return {"dtype": dtype, "shape": list(arr.shape), "data": memoryview(arr.tobytes())}


def decode_array(obj: dict[str, Any]) -> np.ndarray:
    """The inverse of :func:`encode_array` (also accepts base64 text in ``data``)."""
    data = obj["data"]
    raw = base64.b64decode(data) if isinstance(data, str) else bytes(data)
    arr = np.frombuffer(raw, dtype=np.dtype(_DTYPES[obj["dtype"]]).newbyteorder("<"))
    return arr.reshape(obj["shape"])


def encode_arrays(arrays: dict[str, np.ndarray]) -> dict[str, dict[str, Any]]:
    return {name: encode_array(a) for name, a in arrays.items()}


def to_base64(encoded: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The same arrays with base64 text instead of binary (for a self-contained static page)."""
    return {name: {**obj, "data": base64.b64encode(bytes(obj["data"])).decode("ascii")}
            for name, obj in encoded.items()}
