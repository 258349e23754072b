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


def _checked(obj: Any, name: str = "array") -> tuple[np.dtype, list[int], bytes | memoryview | bytearray | str]:
    """(dtype, shape, data) of an encoded array after checking it is one: a known dtype, a shape of whole numbers
    >= 0, and data that is bytes (or base64 text) of exactly that many elements. ``bytes(200_000_000)`` would
    allocate 200 MB for an integer in ``data``: a ValueError here instead."""
    if not isinstance(obj, dict) or not {"dtype", "shape", "data"} <= obj.keys():
        raise ValueError(f"{name}: not an encoded array (needs dtype, shape and data)")
    dtype_name, shape, data = obj["dtype"], obj["shape"], obj["data"]
    if not isinstance(dtype_name, str) or dtype_name not in _DTYPES:
        raise ValueError(f"{name}: dtype must be one of {sorted(_DTYPES)}")
    if (not isinstance(shape, (list, tuple)) or len(shape) > 8
            or not all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n < 2**40 for n in shape)):
        raise ValueError(f"{name}: shape must be a list of at most 8 whole numbers >= 0")
    dtype = np.dtype(_DTYPES[dtype_name]).newbyteorder("<")
    size = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if isinstance(data, str):
        if len(data) != 4 * ((size + 2) // 3):
            raise ValueError(f"{name}: base64 data of {len(data)} characters for {size} bytes")
    elif isinstance(data, (bytes, bytearray, memoryview)):
        if memoryview(data).nbytes != size:
            raise ValueError(f"{name}: {memoryview(data).nbytes} bytes of data for shape {list(shape)} {dtype_name}")
    else:
        raise ValueError(f"{name}: data must be bytes or base64 text, got {type(data).__name__}")
    return dtype, list(shape), data


def decode_array(obj: dict[str, Any]) -> np.ndarray:
    """The inverse of :func:`encode_array` (also accepts base64 text in ``data``); ValueError for anything that is
    not an encoded array."""
    dtype, shape, data = _checked(obj)
    raw = base64.b64decode(data, validate=True) if isinstance(data, str) else bytes(data)
    return np.frombuffer(raw, dtype=dtype).reshape(shape)


def encode_arrays(arrays: dict[str, np.ndarray]) -> dict[str, dict[str, Any]]:
    """:func:`encode_array` of each array."""
    return {name: encode_array(a) for name, a in arrays.items()}


def to_base64(encoded: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The same arrays with base64 text instead of binary (for a self-contained static page); ValueError naming
    an entry that is not an encoded array (:func:`decode_array`'s checks)."""
    out = {}
    for name, obj in encoded.items():
        _, shape, data = _checked(obj, str(name)[:40])
        text = data if isinstance(data, str) else base64.b64encode(bytes(data)).decode("ascii")
        out[name] = {**obj, "shape": shape, "data": text}
    return out
