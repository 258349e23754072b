"""Shared test configuration: a fixed seed for every test, small thread count."""

from __future__ import annotations

import numpy as np
import pytest
import torch

torch.set_num_threads(1)  # small batches; avoids oversubscription on shared 2-core machines


@pytest.fixture(autouse=True)
def _fixed_seed() -> None:
    """Every test starts from the same global random state (torch and numpy's legacy generator), so a
    test that draws unseeded numbers (torch.randn) sees the same numbers in every run and in any order."""
    torch.manual_seed(0)
    np.random.seed(0)  # noqa: NPY002 - legacy global generator, for code that uses it
