"""FlowPlayer: watch a base Gaussian deform layer by layer, with live Jacobian readouts.

The widget holds a 2D :class:`~flowviz.flows.Flow` (on any device). On every model change it asks
:mod:`flowviz.scene` for the arrays of all layers at once and sends them as binary float32; playing,
scrubbing between layers and hovering then happen in the browser without a kernel round trip.
Direction: layer k maps state k-1 to state k in the generative direction (base z -> data x).
"""

from __future__ import annotations

import copy
import math
import threading
import traceback
from typing import Any, ClassVar

import torch
import traitlets

from ..flows import Flow, Planar, Radial
from ..flows.base import check_count, check_whole
from ..scene import PlayerScene, SceneCache, player_scene
from ..scene.finite import finite_or_none
from ..scene.player import AUTO_GRID, N_POINTS, SEED
from .base import ArrayWidget, Float
from .controls import (
    Control,
    apply_control,
    control_value,
    describe_value,
    join_notes,
    layer_controls,
    parse_id,
    shorten,
    whole_value,
)
from .lut import colormap_lut
from .wire import encode_array, encode_arrays

__all__ = ["FlowPlayer"]

GLOBAL_CONTROLS = [
    Control("n_points", 0, "points", 100, 100_000, 100),
    Control("grid", 0, "grid", 9, 161, 4),
]


class FlowPlayer(ArrayWidget):
    """``FlowPlayer(flow)``: the point cloud, deformed grid and exact density after each layer of a 2D flow.

    Parameters
    ----------
    flow: a :class:`flowviz.flows.Flow` with dim 2, on any device.
    n_points: number of base samples z ~ pi pushed through the layers (1 .. 2,000,000 here; the points slider,
        and so the ``params`` trait a browser writes, takes 100 .. 100,000).
    grid: vertices per side of the base-space mesh (the density map, hover readouts and grid lines; about 16
        grid lines are drawn each way whatever the mesh), or "auto" (the default): 65, or 129 where the 65 mesh
        leaves more than 0.5% of some layer's triangles unresolved (a trained flow: there the map bends faster
        than a 65 mesh follows, and such triangles are left unfilled). Chosen again by every full
        :meth:`recompute`; moving the grid slider fixes it. ``player.grid`` is the number in use. 3 .. 401 here;
        the grid slider, and so ``params``, takes 9 .. 161.
    seed: seed of the base samples (the same points move when a parameter changes).
    linked: show z-space and x-space side by side, with brushing.
    follow: the x camera follows the layer shown (its points' robust bounds, mixed between layers) instead
        of one view of every state; off by default, so that areas compare across layers (det J as area
        change); on for a trained flow whose middle layers spread far wider than its data ("zoom to layer").
    preset: "notebook" or "presentation" (larger type and lines for projectors).

    The sliders change the flow in place (it is your model); :meth:`reset` restores the parameters
    it had when the player was made.

    What a browser sends is checked (a Voila page serves the player to whoever reaches it): ``position`` is a
    finite layer, clamped to [0, K]; ``speed`` a positive number; ``selection`` indices of the points;
    ``renderer`` one of "auto", "webgl", "canvas2d"; a refused value is named in ``meta["message"]`` and the
    browser's copy goes back to the kernel's (see :class:`~flowviz.widgets.base.ArrayWidget`).
    """

    _bundle_name = "widget"
    _CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {**ArrayWidget._CHOICES, "renderer": ("auto", "webgl", "canvas2d")}

    position = Float(0.0).tag(sync=True)
    playing = traitlets.Bool(False).tag(sync=True)
    speed = Float(1.0).tag(sync=True)
    loop = traitlets.Bool(False).tag(sync=True)
    show_points = traitlets.Bool(True).tag(sync=True)
    show_grid = traitlets.Bool(True).tag(sync=True)
    show_density = traitlets.Bool(True).tag(sync=True)
    linked = traitlets.Bool(False).tag(sync=True)
    follow = traitlets.Bool(False).tag(sync=True)
    selection = traitlets.List(traitlets.Int(), maxlen=2_000_000).tag(sync=True)  # (at most n_points: below)
    renderer = traitlets.Unicode("auto").tag(sync=True)

    def __init__(self, flow: Flow, *, n_points: int = N_POINTS, grid: int | str = "auto", seed: int = SEED,
                 linked: bool = False, preset: str = "notebook", **kwargs: Any) -> None:
        if not isinstance(flow, Flow):
            raise TypeError(f"FlowPlayer needs a flowviz.flows.Flow, got {type(flow).__name__}")
        if flow.dim != 2:
            raise ValueError(f"FlowPlayer shows 2D flows; this flow has dim {flow.dim}")
        if preset not in ("notebook", "presentation"):
            raise ValueError(f"preset must be 'notebook' or 'presentation', got {preset!r}")
        seed = check_count(seed, "seed", 0, "FlowPlayer")
        # one recompute at a time, whoever asks (the browser's controls, or recompute() from a training thread): an
        # older computation cannot publish over a newer one, and a control's change waits instead of being dropped
        self._lock = threading.RLock()
        self._flow = flow  # (before the traits: position is clamped to its layers)
        super().__init__(linked=linked, preset=preset, **kwargs)
        self._initial_state = copy.deepcopy(flow.state_dict())
        self._initial_constraints = {k: getattr(layer, "constrained", None) for k, layer in enumerate(flow.layers)}
        self._seed = seed
        self._enabled = [True] * len(flow.layers)
        self._version = 0
        self._scene: PlayerScene | None = None
        self._cache = SceneCache()  # layers before the one a control changed are not recomputed
        self._auto_grid = isinstance(grid, str) and grid == "auto"
        if isinstance(grid, str) and not self._auto_grid:
            raise ValueError(f"grid must be a whole number of vertices per side or 'auto', got {grid!r}")
        self._n_points, self._grid = self._check_sizes(n_points, AUTO_GRID[0] if isinstance(grid, str) else grid)
        self._z = self._draw_base(self._n_points)
        self._controls = [c for k, layer in enumerate(flow.bijections, 1) for c in layer_controls(layer, k)]
        self._controls += GLOBAL_CONTROLS
        self._by_id = {c.id: c for c in self._controls}
        self._lut = encode_array(colormap_lut("viridis"))
        self.recompute()  # also syncs the controls (with the params observer held off)

    @property
    def flow(self) -> Flow:
        """The flow shown (your model: the sliders change it in place)."""
        return self._flow

    @flow.setter
    def flow(self, value: Any) -> None:
        raise AttributeError("a FlowPlayer shows the flow it was made with: make a new FlowPlayer(flow) for another "
                             "(after changing this flow's parameters yourself, call player.recompute())")

    @traitlets.validate("speed")
    def _valid_speed(self, proposal: dict[str, Any]) -> float:
        """Layers per second: a finite number > 0 (TraitError otherwise)."""
        value = proposal["value"]
        if not (math.isfinite(value) and value > 0):
            raise traitlets.TraitError(f"speed must be a positive number (layers per second), got {value!r}")
        return float(value)

    @traitlets.validate("position")
    def _valid_position(self, proposal: dict[str, Any]) -> float:
        """The layer shown: a finite number (TraitError for NaN or inf), clamped to [0, K]."""
        value = proposal["value"]
        if not math.isfinite(value):
            raise traitlets.TraitError(f"position must be a finite number (the layer shown), got {value!r}")
        flow = getattr(self, "_flow", None)
        return min(max(float(value), 0.0), float(len(flow.layers))) if flow is not None else float(value)

    @traitlets.validate("params")
    def _valid_params(self, proposal: dict[str, Any]) -> Any:
        """A toggle's 1 or 0 equal to its current true/false is that true/false: to ``==`` the dicts are the same,
        so traitlets would keep the number without telling the observer (and the export would write it)."""
        value, current = proposal["value"], self.params or {}
        if not isinstance(value, dict):
            return value
        fixed = {k: current[k] for k, v in value.items()
                 if isinstance(current.get(k), bool) and not isinstance(v, bool) and v == current[k]}
        return {**value, **fixed} if fixed else value

    @traitlets.validate("selection")
    def _valid_selection(self, proposal: dict[str, Any]) -> list[int]:
        """Indices of points (the brushed ones): each in [0, n_points), at most n_points of them."""
        value = list(proposal["value"])
        n = getattr(self, "_n_points", None)
        if n is not None and (len(value) > n or not all(0 <= i < n and not isinstance(i, bool) for i in value)):
            raise traitlets.TraitError(f"selection must hold indices of the {n:,} points (0 .. {n - 1:,}), "
                                       f"got {describe_value(value)}")
        return value

    def set_state(self, sync_data: dict[str, Any]) -> None:
        """A browser's message, applied under the player's lock (one change at a time, whoever asks)."""
        with self._lock:
            super().set_state(sync_data)

    def _check_trait_value(self, name: str, json_value: Any) -> Any:
        """The base class's check, and a selection longer than the points refused by its length first."""
        if name == "selection" and isinstance(json_value, list) and len(json_value) > self._n_points:
            raise traitlets.TraitError(f"selection has {len(json_value):,} entries, more than the "
                                       f"{self._n_points:,} points")
        return super()._check_trait_value(name, json_value)

    # -- helpers -----------------------------------------------------------------------------
    @staticmethod
    def _check_sizes(n_points: int, grid: int) -> tuple[int, int]:
        return (check_whole(n_points, "n_points", 1, 2_000_000),
                check_whole(grid, "grid (vertices per side)", 3, 401))

    def _draw_base(self, n: int) -> torch.Tensor:
        g = torch.Generator(device=self.flow.device).manual_seed(self._seed)
        with torch.no_grad():
            return self.flow.base.sample(n, g)

    def _value(self, c: Control) -> float | bool | None:
        """The control's value as the ``controls`` and ``params`` traits carry it: None for a parameter that is
        NaN or inf (a diverged training; JSON has neither; the browser shows "non-finite")."""
        if c.id == "n_points":
            return self._n_points
        if c.id == "grid":
            return self._grid
        k, name, index = parse_id(c.id)
        value = control_value(self.flow.bijections[k - 1], name, index, self._enabled[k - 1])
        return value if isinstance(value, bool) else finite_or_none(value)

    def _sync_controls(self) -> None:
        values = {c.id: self._value(c) for c in self._controls}
        # Keep the browser's own number where the model holds it up to float32 rounding: echoing
        # -1.5499999523 for -1.55 would count as a change and move a slider the user has already
        # moved on (a stale value arriving after the newest one). Only real changes (a clamp, reset) go back.
        sent = self.params or {}
        for key, value in values.items():
            old = sent.get(key)
            if (isinstance(value, float) and isinstance(old, (int, float)) and not isinstance(old, bool)
                    and abs(old) <= 1e300 and abs(old - value) <= 1e-6 * max(1.0, abs(value))):  # (10**400: no float)
                values[key] = old
        self.controls = [c.as_json(values[c.id]) for c in self._controls]
        self.params = values

    # -- model changes -------------------------------------------------------------------------
    @traitlets.observe("params")
    def _on_params(self, change: dict[str, Any]) -> None:
        with self._lock:  # (re-entrant: the widget's own echo from _sync_controls returns at _applying)
            self._apply_params(change)

    def _apply_params(self, change: dict[str, Any]) -> None:
        """Apply the controls whose values changed; recompute only if one was applied. A message whose every
        value is refused recomputes nothing: the refusals are shown (ids and values cut short, at most 10 listed)
        and ``params`` goes back to the model's values, as it does when ids are missing or unknown."""
        if getattr(self, "_applying", False):
            return
        new, old = change["new"] or {}, change["old"] or {}
        # (True == 1 in Python: a toggle's 1 from a front end is a change, refused below, not the same value)
        changed = {k: v for k, v in new.items()
                   if old.get(k) != v or isinstance(old.get(k), bool) != isinstance(v, bool)}
        if not changed:
            if new.keys() != self._by_id.keys():
                self._sync_controls_quietly()  # ids left out: params holds every control's value again
            return
        notes: list[str] = []
        applied = False
        # toggles first, so that "keep invertible: off" and a new value arriving together both take effect
        for control_id, value in sorted(changed.items(), key=lambda kv: not isinstance(kv[1], bool)):
            try:
                notes.append(self._apply(control_id, value))
            except (TypeError, ValueError, IndexError, KeyError, ArithmeticError, RuntimeError) as err:
                # (ArithmeticError, RuntimeError: a value no check foresaw, e.g. a tensor write that overflows)
                notes.append(f"{shorten(str(control_id))}: {shorten(str(err), 200)}")
            else:
                applied = True
        note = join_notes([n for n in notes if n])
        if applied:
            self.recompute(note=note, reuse=True)
        else:  # nothing changed: the picture stays, the sliders go back, the message says why
            with self.hold_sync():
                self._sync_controls_quietly()
                self._refuse(note)

    def _apply(self, control_id: str, value: Any) -> str:
        """Apply one control's value to the model (or the sizes); a note, or ValueError/TypeError/... refusing it.
        The sizes take the sliders' ranges here (a browser's 2,000,000 points would cost gigabytes a message)."""
        if control_id not in self._by_id:
            raise ValueError("unknown control")
        if control_id in ("n_points", "grid"):
            c = self._by_id[control_id]
            label = "n_points" if control_id == "n_points" else "grid (vertices per side)"
            value = whole_value(value, label, int(c.min), int(c.max), " (the slider's range)")
            n = value if control_id == "n_points" else self._n_points
            g = value if control_id == "grid" else self._grid
            if n != self._n_points:
                self._n_points, self._z = n, self._draw_base(n)
                if any(i >= n for i in self.selection):  # (the first n points stay the same samples)
                    self.selection = [i for i in self.selection if i < n]
            if control_id == "grid":
                self._auto_grid = False  # the user's choice from now on
            self._grid = g
            return ""
        k, name, index = parse_id(control_id)
        if name == "enabled":
            if not isinstance(value, bool):
                raise ValueError("the on/off toggle needs true or false")
            self._enabled[k - 1] = value
            return ""
        return apply_control(self.flow.bijections[k - 1], name, index, value)

    def recompute(self, note: str = "", *, reuse: bool = False) -> None:
        """Recompute every layer's arrays on the flow's device and send them (one message).

        Call it after changing the flow yourself (training, assigning parameters): everything is recomputed.
        The player's own controls pass ``reuse=True``: the layers before the first one whose parameters,
        buffers or on/off state changed are taken from the previous computation (a change is seen through
        torch's in-place version counters, which ``tensor.data`` writes bypass: hence no reuse here).
        """
        with self._lock:
            self._recompute(note, reuse)

    def _recompute(self, note: str, reuse: bool) -> None:
        if not reuse:
            self._cache.clear()
        auto = self._auto_grid and not reuse  # a control's change keeps the mesh chosen
        try:
            scene = player_scene(self.flow, self._z, gx="auto" if auto else self._grid, enabled=self._enabled,
                                 cache=self._cache)
        except Exception as err:  # keep the last picture; say what went wrong instead of a blank widget
            self._version += 1
            meta = dict(self.meta) if self.meta else {"K": len(self.flow.layers), "layers": []}
            message = f"{type(err).__name__}: {err}"
            meta.update(status="error", message=message + (f" — {note}" if note else ""), version=self._version)
            self._last_error = traceback.format_exc()
            with self.hold_sync():
                self.meta = meta
                self._sync_controls_quietly()  # the sliders show what the flow now holds (the picture is the last)
            return
        self._scene, self._grid = scene, scene.gx
        self._version += 1
        meta = scene.meta(self._version)
        meta["handles"] = self._handles()
        message = str(meta["message"])
        if note:
            meta["message"] = (message + " — " if message else "") + note
        with self.hold_sync():
            self.arrays = {**encode_arrays(scene.arrays()), "lut": self._lut}
            self.meta = meta
            self._base_message = message  # (a later refusal's note follows the scene's own message)
            self._sync_controls_quietly()

    def _sync_controls_quietly(self) -> None:
        """_sync_controls with the params observer held off (the widget's own echo is not a change)."""
        self._applying = True
        try:
            self._sync_controls()
        finally:
            self._applying = False

    def _handles(self) -> list[dict[str, Any]]:
        """Points the browser lets the user drag (js/WIRE.md, ``meta.handles``): each Radial layer's centre z0,
        a point in the coordinates of that layer's input (state k-1), set through its two centre sliders."""
        out: list[dict[str, Any]] = []
        for k, layer in enumerate(self.flow.bijections, 1):
            ids = [f"L{k}.centre.0", f"L{k}.centre.1"]
            if isinstance(layer, Radial) and all(i in self._by_id for i in ids):
                out.append({"layer": k, "ids": ids, "label": "z\u2080"})
        return out

    def reset(self) -> None:
        """Restore the flow's parameters (and the layers' on/off state) as they were when the player was made."""
        with self._lock:
            with torch.no_grad():
                self.flow.load_state_dict(self._initial_state)
            for k, layer in enumerate(self.flow.bijections):
                constrained = self._initial_constraints[k]
                if constrained is not None and isinstance(layer, (Planar, Radial)):
                    layer.constrained = constrained
            self._enabled = [True] * len(self.flow.layers)
            self.recompute()

    # -- reading the state -----------------------------------------------------------------------
    @property
    def grid(self) -> int:
        """Vertices per side of the base mesh in use (``grid="auto"`` picks it: see the class docstring)."""
        return self._grid

    @property
    def scene(self) -> PlayerScene:
        """The arrays currently shown (see :class:`flowviz.scene.PlayerScene`)."""
        assert self._scene is not None
        return self._scene
