"""Activation normalisation (Kingma & Dhariwal, "Glow", 2018).

Forward (base -> data): x = z * exp(log_scale) + shift, log|det J| = sum(log_scale).
Data-dependent initialisation: on the first ``inverse`` call in training mode (the data side,
as in maximum-likelihood fitting), shift and log_scale are set so that the layer's output z
has zero mean and unit variance per coordinate on that batch. An empty batch (N = 0) initialises
nothing and gives an empty result; a batch of one sample is refused (no spread to measure).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from .base import Bijection, check_input

__all__ = ["ActNorm"]


class ActNorm(Bijection):
    """x = z * exp(log_scale) + shift with data-dependent initialisation (see module doc)."""

    initialized: Tensor

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim
        self.log_scale = nn.Parameter(torch.zeros(dim))
        self.shift = nn.Parameter(torch.zeros(dim))
        self.register_buffer("initialized", torch.tensor(False))
        self._is_initialized = False

    def _load_from_state_dict(self, state_dict: dict[str, Any], prefix: str, *args: Any) -> None:
        super()._load_from_state_dict(state_dict, prefix, *args)
        self._is_initialized = bool(self.initialized)

    @torch.no_grad()
    def initialize(self, x: Tensor) -> None:
        """Set shift = mean(x), log_scale = log std(x), so that inverse(x) is standardised."""
        check_input(x, self.dim, "x")
        if x.shape[0] < 2:
            raise ValueError("ActNorm initialisation needs at least 2 samples")
        self.shift.copy_(x.mean(0))
        self.log_scale.copy_(torch.log(x.std(0).clamp_min(1e-6)))
        self.initialized.fill_(True)
        self._is_initialized = True

    def needs_whole_batch(self) -> bool:
        """Until initialised, the next ``inverse`` in training mode sets the parameters from its input: a
        :class:`~flowviz.flows.Flow` must hand it the whole batch, not its first row chunk."""
        return self.training and not self._is_initialized

    def forward(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """x = z * exp(log_scale) + shift; log_det = sum(log_scale)."""
        check_input(z, self.dim, "z")
        return z * self.log_scale.exp() + self.shift, self.log_scale.sum().expand(z.shape[0])

    def inverse(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """z = (x - shift) * exp(-log_scale); log_det = -sum(log_scale). Initialises on first use (in
        training mode, from the first non-empty batch)."""
        check_input(x, self.dim, "x")
        if self.training and not self._is_initialized and x.shape[0] > 0:
            self.initialize(x.detach())
        return (x - self.shift) * torch.exp(-self.log_scale), (-self.log_scale.sum()).expand(x.shape[0])

    def describe(self) -> str:
        s = ", ".join(f"{v:.3g}" for v in self.log_scale.exp().tolist())
        return f"ActNorm: x = s*z + t, s = ({s})"
