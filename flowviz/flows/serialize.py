"""Save and load a flow: its configuration (the constructor calls) plus its parameters and buffers.

The round trip is exact: ``load(path)`` rebuilds the same classes with the same arguments and
loads the state dict bit for bit.
"""

from __future__ import annotations

import os
from typing import Any

import torch

from .base import Configurable, from_config

__all__ = ["save", "load"]

FORMAT = "flowviz-flow/1"


def save(module: Configurable, path: str | os.PathLike[str], **metadata: Any) -> None:
    """Write ``module`` (a Flow, layer or distribution) to ``path``; extra metadata is stored too."""
    if not isinstance(module, Configurable):
        raise TypeError(f"can only save flowviz layers/flows, got {type(module).__name__}")
    torch.save({"format": FORMAT, "config": module.config(),
                "state_dict": {k: v.detach().cpu() for k, v in module.state_dict().items()},
                "metadata": metadata}, os.fspath(path))


def load(path: str | os.PathLike[str], map_location: str | torch.device | None = None) -> Configurable:
    """Rebuild the object saved by :func:`save` (on ``map_location``, default cpu)."""
    payload = torch.load(os.fspath(path), map_location="cpu", weights_only=True)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path} is not a flowviz flow file (format {FORMAT})")
    module = from_config(payload["config"])
    state = payload["state_dict"]
    # match dtypes of the saved tensors (a float64 flow stays float64)
    floats = {v.dtype for v in state.values() if v.is_floating_point()}
    if len(floats) == 1:
        module.to(floats.pop())
    module.load_state_dict(state)
    if map_location is not None:
        module.to(map_location)
    return module
