"""Flows fitted ahead of time and shipped with flowviz, so that a lecture page shows a trained model at once
instead of training while the page loads (Voila runs the whole notebook before it shows anything).

    from flowviz import pretrained
    flow = pretrained.load("moons-realnvp")       # realnvp(2), 3000 steps on moons: KL gap about 0.05 nats
    pretrained.info("moons-realnvp")["made_by"]   # the command that made it

Each file is a :func:`flowviz.flows.save` file (configuration, parameters, and how it was made), written by
``python -m flowviz.demo ... --save flowviz/weights/<name>.pt``; ``info(name)["made_by"]`` is that command
without its ``--save`` (the training it ran).
"""

from __future__ import annotations

from importlib.resources import as_file, files
from typing import Any

import torch

from .flows import Flow
from .flows.serialize import load as load_file

__all__ = ["available", "info", "load"]


def available() -> list[str]:
    """Names of the shipped flows, e.g. ``["moons-realnvp"]``."""
    return sorted(p.name.removesuffix(".pt") for p in files("flowviz").joinpath("weights").iterdir()
                  if p.name.endswith(".pt"))


def _resource(name: str) -> Any:
    names = available()
    if name not in names:
        raise ValueError(f"no pretrained flow {name!r}; available: {', '.join(names)}")
    return files("flowviz").joinpath("weights").joinpath(f"{name}.pt")


def load(name: str = "moons-realnvp", device: str | torch.device | None = None) -> Flow:
    """A fresh copy of the shipped flow ``name`` (on ``device``, default cpu): yours to change or train."""
    with as_file(_resource(name)) as path:
        flow = load_file(path, map_location=device)
    assert isinstance(flow, Flow)
    return flow


def info(name: str = "moons-realnvp") -> dict[str, Any]:
    """How the shipped flow ``name`` was made: ``made_by`` (the command), ``steps``, ``seed``, ``test_nll``
    and the dataset's ``entropy`` in nats (their difference is the KL gap), ``torch`` (its version)."""
    with as_file(_resource(name)) as path:
        return dict(torch.load(path, map_location="cpu", weights_only=True)["metadata"])
