"""Shared test configuration: float64 maths tests, fixed seeds, small thread count."""

from __future__ import annotations

import pytest
import torch

torch.set_num_threads(1)  # small batches; avoids oversubscription on shared 2-core machines


@pytest.fixture
def float64():
    """Run a test with float64 as the default dtype."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(old)
