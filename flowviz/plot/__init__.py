"""flowviz.plot: matplotlib renderers of the scenes the live widgets draw, and GIF/MP4 export.

The figures use the same arrays as the browser (flowviz.scene.PlayerScene) and the same rules
(js/WIRE.md): two triangles per mesh cell, log p interpolated per pixel inside each and looked up in the
colour table over ``logp_range``, grid lines every m-th row and column, folded cells hatched red, one camera
for all states. A flow's scene is built with FlowPlayer's defaults (``N_POINTS``, ``SEED``, grid "auto").
Figures are not registered with pyplot; a notebook shows them. Direction: base -> data;
state 0 is the base z ~ pi, state k the distribution after layer k (layer k maps state k-1 to state k).
"""

from ._figure import PlotFigure
from ._mesh import (
    fold_flags,
    grid_segments,
    grid_step,
    signed_areas,
    triangles,
    valid_triangles,
    valid_vertices,
)
from ._view import N_POINTS, SEED, camera, check_position, layer_span, lerp, state_title, status_text
from .animate import animate, frame_positions
from .layers import StateArtists, Topology, plot_layers, plot_state

__all__ = [
    "N_POINTS", "SEED", "PlotFigure", "StateArtists", "Topology", "animate", "camera", "check_position",
    "fold_flags", "frame_positions", "grid_segments", "grid_step", "layer_span", "lerp", "plot_layers",
    "plot_state", "signed_areas", "state_title", "status_text", "triangles", "valid_triangles", "valid_vertices",
]
