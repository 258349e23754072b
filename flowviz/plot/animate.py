"""The continuous layer animation (base -> data) written to a GIF or MP4 file.

Frame i shows layer position t_i, running evenly from 0 (the base z ~ pi) to K (the model's x):
between integers the picture is the linear interpolation of states floor(t) and ceil(t), exactly as
the live FlowPlayer plays it (layer k maps state k-1 to state k).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.animation import FFMpegWriter, PillowWriter, writers
from matplotlib.colors import Colormap

from ..scene import PlayerScene
from ._figure import new_figure
from ._view import N_POINTS, SEED, as_scene, camera
from .layers import StateArtists, Topology, add_banner, add_colorbar, plot_state

__all__ = ["animate", "frame_positions"]

GIF = {".gif"}
VIDEO = {".mp4", ".m4v", ".mov", ".mkv", ".webm"}


def frame_positions(K: int, fps: float = 20, seconds_per_layer: float = 1.0) -> np.ndarray:
    """Layer positions of the frames: round(K * seconds_per_layer * fps) + 1 of them, evenly from 0 to K
    (both ends included; a single frame at 0 for K = 0)."""
    if fps <= 0 or seconds_per_layer <= 0:
        raise ValueError(f"fps and seconds_per_layer must be positive, got {fps} and {seconds_per_layer}")
    n = max(1, round(K * seconds_per_layer * fps)) + 1 if K > 0 else 1
    return np.linspace(0.0, float(K), n)


def animate(scene_or_flow: PlayerScene | Any, path: str | os.PathLike[str], *, fps: float = 20,
            seconds_per_layer: float = 1.0, dpi: int = 100, figsize: tuple[float, float] = (4.6, 4.0),
            show_points: bool = True, show_grid: bool = True, show_density: bool = True,
            cmap: str | Colormap = "viridis", n_points: int = N_POINTS, grid: int | str = "auto", seed: int = SEED,
            follow: bool = False) -> Path:
    """Write the animation of a flow, base -> data, through all its layers to ``path`` and return it.

    ``.gif``: Pillow (always available). ``.mp4`` (and .m4v/.mov/.mkv/.webm): ffmpeg, which must be on
    the PATH. One camera (the union of all states' bounds; ``follow=True``: the bounds of the state shown,
    mixed between layers, as the browser's "zoom to layer") and one colour scale for every frame.
    ``scene_or_flow`` as in :func:`plot_layers`.
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext in GIF:
        writer: Any = PillowWriter(fps=fps)  # type: ignore[arg-type]  # a float rate works; the stub says int
    elif ext in VIDEO:
        if not writers.is_available("ffmpeg"):
            raise RuntimeError(f"cannot write {path.name}: ffmpeg is missing (install it and put it on the "
                               "PATH); writing a .gif works without it")
        writer = FFMpegWriter(fps=fps)  # type: ignore[arg-type]
    else:
        raise ValueError(f"unknown animation format {ext!r}: use .gif, or .mp4 with ffmpeg installed")
    scene = as_scene(scene_or_flow, n_points=n_points, grid=grid, seed=seed)
    positions = frame_positions(scene.K, fps, seconds_per_layer)
    view, topo = camera(scene), Topology.of(scene)

    fig = new_figure(figsize=figsize, dpi=dpi, layout="constrained")
    ax = fig.add_subplot()
    if show_density:
        add_colorbar(fig, ax, scene, cmap, shrink=0.9, pad=0.02)
    add_banner(fig, scene, width_chars=int(figsize[0] * 11))
    kw: dict[str, Any] = dict(show_points=show_points, show_grid=show_grid, show_density=show_density, cmap=cmap,
              view=view, topology=topo)
    # lay the figure out once with the widest title, then freeze it so frames do not jitter
    drawn: StateArtists = plot_state(ax, scene, scene.K, **kw)
    fig.draw_without_rendering()
    fig.set_layout_engine("none")
    with writer.saving(fig, str(path), dpi):
        for t in positions:
            drawn.remove()
            if follow:
                kw["view"] = camera(scene, float(t))
            drawn = plot_state(ax, scene, float(t), **kw)
            writer.grab_frame()
    return path
