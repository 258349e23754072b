"""Small multiples of a flow, state by state, drawn with matplotlib from the same scene arrays the
live FlowPlayer draws (flowviz.scene.PlayerScene), so a static figure shows what the widget shows.

Direction: base -> data. Panel k shows state k, the points and base mesh after layers 1..k (layer k
maps state k-1 to state k; state 0 is the base z ~ pi), coloured by the exact log-density

    log p_k(x_k) = log pi(z) - sum_{j <= k} log|det J_{G_j}|

of the distribution after layer k at each mesh vertex.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection, PathCollection, PolyCollection
from matplotlib.colors import Colormap, Normalize
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine

from ..scene import PlayerScene
from ._figure import PlotFigure, new_figure
from ._mesh import (
    fold_flags,
    grid_segments,
    placed_vertices,
    polylines,
    segments_only_in,
    stretch_flags,
    triangles,
    valid_vertices,
)
from ._raster import DensityImage
from ._view import (
    N_POINTS,
    SEED,
    as_scene,
    camera,
    check_position,
    layer_span,
    lerp,
    logp_range,
    round_half_up,
    state_title,
    status_text,
)

__all__ = ["StateArtists", "Topology", "plot_layers", "plot_state"]

# colours of the browser's light theme (js/src/theme.js), RGBA in 0..1
PLOT_BG = (246 / 255, 247 / 255, 249 / 255, 1.0)
GRID_ON_DENSITY = (1.0, 1.0, 1.0, 0.28)
GRID = (40 / 255, 50 / 255, 70 / 255, 0.3)
POINT_ON_DENSITY = (1.0, 1.0, 1.0, 0.6)
POINT = (25 / 255, 60 / 255, 120 / 255, 0.55)
RIM = (0.0, 0.0, 0.0, 0.3)
FOLD = (230 / 255, 30 / 255, 40 / 255)
COLORBAR_LABEL = "log p_k(x)"


@dataclass
class Topology:
    """What does not change with the layer position: triangles (T, 3), grid segments (S, 2) and the
    fold flags (K+1, T) of every state. Compute once per scene (``Topology.of``) and reuse per frame."""

    triangles: np.ndarray
    segments: np.ndarray
    folds: np.ndarray
    stretched: np.ndarray  # (K+1, T): over-drawn triangles (stretch_flags), not filled
    lost: np.ndarray  # (K+1, S): grid segments every one of whose triangles is over-drawn, not drawn

    @classmethod
    def of(cls, scene: PlayerScene) -> Topology:
        tris, segs = triangles(scene.gx, scene.gy), grid_segments(scene.gx, scene.gy)
        stretched = stretch_flags(scene, tris)
        lost = np.stack([segments_only_in(segs, tris, s) if s.any() else np.zeros(len(segs), dtype=bool)
                         for s in stretched])
        return cls(tris, segs, fold_flags(scene, tris), stretched, lost)


@dataclass
class StateArtists:
    """What plot_state drew at layer position ``t`` (between states k0 and k1, folds of state kf).

    ``mesh`` (V, 2) and ``logp`` (V,) are the interpolated vertex positions and log-densities;
    ``triangles`` / ``folded`` the vertex-index triples drawn as density / as folds (together: every
    triangle whose vertices are valid in both states).
    """

    t: float
    k0: int
    k1: int
    kf: int
    mesh: np.ndarray
    logp: np.ndarray
    triangles: np.ndarray
    folded: np.ndarray
    density: DensityImage | None = None
    folds: PolyCollection | None = None
    grid: LineCollection | None = None
    points: PathCollection | None = None
    bare: LineCollection | None = None  # grid lines over vertices with no finite density (det J = 0)

    def remove(self) -> None:
        """Remove the drawn artists from their axes (used between animation frames)."""
        for a in (self.density, self.folds, self.grid, self.points, self.bare):
            if a is not None:
                a.remove()


def plot_state(ax: Axes, scene: PlayerScene, position: float, *, show_points: bool = True,
               show_grid: bool = True, show_density: bool = True, cmap: str | Colormap = "viridis",
               view: tuple[float, float, float, float] | None = None, title: bool = True,
               point_size: float = 2.0, topology: Topology | None = None) -> StateArtists:
    """Draw the flow at layer ``position`` t in [0, K] into ``ax`` (base -> data; t = k is the state
    after layer k, a fractional t the linear interpolation of states floor(t) and ceil(t), as the browser).
    A position outside [0, K] (or not finite) is a ValueError.

    Density: the deformed mesh, two triangles per grid cell, as the browser draws it: log p interpolated
    linearly inside each triangle per pixel, then looked up in the colour table over ``scene.logp_range``
    (clamped); a raster image (:class:`~flowviz.plot._raster.DensityImage`) at the output's resolution,
    so PDF/SVG files stay small. Only triangles whose vertices are valid (finite) in both neighbouring
    states. Folded triangles (``scene.folded`` of state round(t): some layer's det J has the opposite sign
    to that layer's own orientation there, so a reflection folds nothing) are hatched in red instead. Grid
    lines (vector) run along every m-th mesh row and column; the points and fold hatching are rasterised in
    vector output. The camera is
    ``view`` (default: the union of all states' bounds) with equal scales on both axes.
    """
    check_position(position, scene.K)
    topo = Topology.of(scene) if topology is None else topology
    t, k0, k1, f = layer_span(position, scene.K)
    kf = min(max(round_half_up(t), 0), scene.K)
    if f == 0.0:
        k1 = k0  # an integer position is state k0 exactly, whatever the next state holds
    mesh, logp = lerp(scene.mesh, t), lerp(scene.logp, t)
    ok_v = valid_vertices(scene, k0) & valid_vertices(scene, k1)
    pl_v = ok_v | (placed_vertices(scene, k0) & placed_vertices(scene, k1))  # grid only (no density there)
    mesh = np.where(pl_v[:, None], mesh, 0.0).astype(np.float32)  # unused vertices stay finite
    ok_t = ok_v[topo.triangles].all(-1)
    folded_t = ok_t & topo.folds[kf]
    fill_t = ok_t & ~folded_t & ~topo.stretched[k0] & ~topo.stretched[k1]  # over-drawn cells stay unfilled
    tris, folded = topo.triangles[fill_t], topo.triangles[folded_t]
    out = StateArtists(t, k0, k1, kf, mesh, logp, tris, folded)
    lo, hi = logp_range(scene)

    ax.set_facecolor(PLOT_BG)
    if show_density and len(tris):
        out.density = DensityImage(ax, mesh, np.where(ok_v, logp, lo), tris, cmap=cmap, lo=lo, hi=hi, zorder=1)
        ax.add_image(out.density)
    if len(folded):
        out.folds = PolyCollection(mesh[folded], facecolors=(*FOLD, 0.35 if show_density else 0.18),
                                   edgecolors=(*FOLD, 0.85), hatch="///", linewidths=0.0, zorder=2)
        out.folds.set_rasterized(True)  # a dense mesh: one image in a PDF/SVG, not thousands of hatched paths
        ax.add_collection(out.folds, autolim=False)
    if show_grid:
        ok_s = ok_v[topo.segments].all(-1) & ~topo.lost[k0] & ~topo.lost[k1]
        seg = topo.segments[ok_s]
        out.grid = LineCollection([mesh[line] for line in polylines(seg)],
                                  colors=[GRID_ON_DENSITY if show_density else GRID], linewidths=0.4, zorder=3)
        ax.add_collection(out.grid, autolim=False)
        bare = topo.segments[pl_v[topo.segments].all(-1) & ~ok_v[topo.segments].all(-1)
                             & ~topo.lost[k0] & ~topo.lost[k1]]  # as the browser: lost lines of either kind
        if len(bare):  # placed vertices with no density under them (det J = 0): plain grid colour
            out.bare = LineCollection([mesh[line] for line in polylines(bare)], colors=[GRID], linewidths=0.5,
                                      zorder=3)
            ax.add_collection(out.bare, autolim=False)
    if show_points and scene.N:
        pts = lerp(scene.points, t)
        ok = np.isfinite(pts).all(-1)
        if scene.points_finite is not None:
            ok &= (scene.points_finite[k0] != 0) & (scene.points_finite[k1] != 0)
        out.points = ax.scatter(pts[ok, 0], pts[ok, 1], s=point_size, c=[POINT_ON_DENSITY if show_density else POINT],
                                edgecolors=[RIM] if show_density else "none", linewidths=0.1, zorder=4,
                                rasterized=True)
    x0, x1, y0, y1 = camera(scene) if view is None else view
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="box")
    ax.tick_params(labelsize=7, length=2, pad=1.5)
    if title:
        ax.set_title(state_title(scene, t), fontsize=9, pad=4)
    return out


def _grid_shape(n: int, ncols: int | None) -> tuple[int, int]:
    if ncols is None:
        nrows = -(-n // 4)
        ncols = -(-n // nrows)
    ncols = max(1, min(int(ncols), n))
    return -(-n // ncols), ncols


def add_banner(fig: Figure, scene: PlayerScene, width_chars: int = 90) -> Any:
    """The status banner ("not invertible: ...", "non-finite: ...") as the figure's suptitle, or None."""
    text = status_text(scene)
    if not text:
        return None
    return fig.suptitle(textwrap.fill(text, width_chars), fontsize=9, color=(0.55, 0.05, 0.08),
                        bbox={"boxstyle": "round,pad=0.35", "facecolor": (1.0, 0.9, 0.9), "edgecolor": FOLD})


def add_colorbar(fig: Figure, axes: Sequence[Axes] | Axes, scene: PlayerScene, cmap: str | Colormap, **kw: Any
                 ) -> Any:
    """A colourbar of log p_k(x) over the scene's logp_range, shared by ``axes``."""
    lo, hi = logp_range(scene)
    cb = fig.colorbar(ScalarMappable(norm=Normalize(lo, hi), cmap=cmap), ax=axes, **kw)
    cb.set_label(COLORBAR_LABEL, fontsize=8)
    cb.ax.tick_params(labelsize=7)
    return cb


def plot_layers(scene_or_flow: PlayerScene | Any, *, layers: Sequence[float] | None = None,
                ncols: int | None = None, show_points: bool = True, show_grid: bool = True,
                show_density: bool = True, cmap: str | Colormap = "viridis",
                figsize: tuple[float, float] | None = None, n_points: int = N_POINTS, grid: int | str = "auto",
                seed: int = SEED, follow: bool = False) -> PlotFigure:
    """Small multiples of a flow, base -> data: one panel per state k in ``layers`` (default 0..K;
    fractional positions in between allowed; anything outside 0..K is a ValueError), panel 0 the base
    pi(z), panel k the distribution after layer k.

    ``scene_or_flow``: a :class:`~flowviz.scene.PlayerScene`, or a 2D :class:`~flowviz.flows.Flow`,
    for which the scene is built from ``n_points`` seeded base samples and a ``grid`` x ``grid`` mesh
    (the defaults are FlowPlayer's: the same points, camera and colour scale as ``FlowPlayer(flow)``).
    All panels share one camera (the union of all states' bounds, equal aspect; ``follow=True``: each panel
    its own state's bounds, as the browser's "zoom to layer") and one colourbar "log p_k(x)" over the
    scene's logp_range. A scene whose status is not "ok" gets a red banner.
    Returns a matplotlib Figure (not registered with pyplot; a notebook shows it as a PNG, ``fig.savefig``
    writes it: in PDF/SVG the density, points and folds are images, the rest vector).
    """
    if layers is not None and not isinstance(layers, Iterable):
        raise TypeError(f"layers must be a sequence of layer positions (e.g. [0, 2]), got {layers!r}")
    scene = as_scene(scene_or_flow, n_points=n_points, grid=grid, seed=seed)
    positions = list(range(scene.K + 1)) if layers is None else [check_position(p, scene.K) for p in layers]
    if not positions:
        raise ValueError(f"layers is empty: give at least one state index in 0..{scene.K}")
    nrows, ncols = _grid_shape(len(positions), ncols)
    view = camera(scene)
    if figsize is None:
        w = 2.5
        h = w * min(max((view[3] - view[2]) / (view[1] - view[0]), 0.5), 2.0)
        banner = 0.45 if status_text(scene) else 0.0
        figsize = (ncols * w + (0.9 if show_density else 0.2), nrows * (h + 0.5) + banner + 0.1)
    fig = new_figure(figsize=figsize, layout="constrained")
    engine = fig.get_layout_engine()
    assert isinstance(engine, ConstrainedLayoutEngine)
    engine.set(w_pad=0.04, h_pad=0.04, wspace=0.03, hspace=0.04)
    axs = fig.subplots(nrows, ncols, squeeze=False).ravel()
    topo = Topology.of(scene)
    for i, ax in enumerate(axs):
        if i >= len(positions):
            ax.remove()
            continue
        plot_state(ax, scene, positions[i], show_points=show_points, show_grid=show_grid,
                   show_density=show_density, cmap=cmap, view=camera(scene, positions[i]) if follow else view,
                   topology=topo)
        ax.set_label(f"state {positions[i]:g}")
        if i % ncols and not follow:  # shared axes: the left column and bottom row carry the tick labels
            ax.tick_params(labelleft=False)
        if i + ncols < len(positions) and not follow:
            ax.tick_params(labelbottom=False)
    used = list(axs[: len(positions)])
    if show_density:
        add_colorbar(fig, used, scene, cmap, shrink=0.9 if nrows == 1 else 0.7, aspect=20 * nrows, pad=0.02)
    add_banner(fig, scene, width_chars=max(40, int(figsize[0] * 13)))
    return fig
