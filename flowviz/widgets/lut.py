"""Colour maps as lookup tables, taken from matplotlib so live and static pictures agree."""

from __future__ import annotations

import numpy as np

__all__ = ["colormap_lut"]


def colormap_lut(name: str = "viridis", n: int = 256) -> np.ndarray:
    """(n, 3) float32 RGB in 0..1 of matplotlib's colour map ``name``."""
    from matplotlib import colormaps

    cmap = colormaps[name].resampled(n)
    return np.asarray(cmap(np.linspace(0.0, 1.0, n))[:, :3], dtype=np.float32)
