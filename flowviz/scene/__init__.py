"""flowviz.scene: what each view shows, as arrays (pure computation shared by widgets and plots)."""

from .mesh import base_extent, mesh_grid
from .player import LayerInfo, PlayerScene, SceneCache, layer_jacobians, player_scene

__all__ = ["LayerInfo", "PlayerScene", "SceneCache", "base_extent", "layer_jacobians", "mesh_grid", "player_scene"]
