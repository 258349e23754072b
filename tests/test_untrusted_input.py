"""What a browser sends is untrusted: Voila serves the widgets to whoever reaches the page, and every trait value
comes back through ``widget.set_state`` (what ipywidgets calls for a comm ``update`` message). These tests drive the
views that way, with hostile values, and check that the kernel refuses them visibly, stays cheap, keeps a valid
state, sends the browser the value it kept, and exports only what it computed itself."""

from __future__ import annotations

import json
import math
import re
import threading
import time
from typing import Any

import numpy as np
import pytest
import traitlets

from flowviz import flows
from flowviz.widgets import ChangeOfVariables1D, FlowPlayer, JacobianLens, TriangularJacobian
from flowviz.widgets.base import ArrayWidget, bundle_path
from flowviz.widgets.wire import decode_array, encode_array, to_base64


def lecture_flow() -> flows.Flow:
    return flows.Flow([flows.Affine(2, scale=[1.5, 0.6], shift=[0.5, 0.0]),
                       flows.Linear(2, matrix=[[1.0, 1.0], [2.0, 0.0]]),
                       flows.Planar(2, u=[1.0, 0.5], w=[1.2, 0.3], b=0.0),
                       flows.Radial(2, centre=[0.5, -0.5], alpha=0.5, beta=1.0),
                       flows.AffineCoupling(2, hidden=8),
                       flows.SinhArcsinh(2)])


@pytest.fixture
def player() -> FlowPlayer:
    return FlowPlayer(lecture_flow(), n_points=300, grid=9)


class FakeComm:
    """A comm to a front end that records what the kernel sends it."""

    comm_id = "test"
    kernel = object()  # (ipywidgets sends nothing through a comm without a kernel)

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send(self, data: Any = None, metadata: Any = None, buffers: Any = None) -> None:
        self.sent.append(data)

    def on_msg(self, callback: Any) -> None:
        pass

    def close(self, *args: Any, **kwargs: Any) -> None:
        pass


def connect(widget: ArrayWidget) -> FakeComm:
    comm = FakeComm()
    widget.comm = comm
    return comm


def updates(comm: FakeComm, name: str) -> list[Any]:
    """The values of trait ``name`` in the kernel's ``update`` messages (not the echo of the browser's own)."""
    return [m["state"][name] for m in comm.sent if m.get("method") == "update" and name in m["state"]]


def exported_state(page: str) -> dict[str, Any]:
    found = re.search(r'<script id="flowviz-state" type="application/json">(.*?)</script>', page, re.S)
    assert found is not None
    return json.loads(found.group(1))  # type: ignore[no-any-return]


# ---- 1. TriangularJacobian's measure button

@pytest.fixture
def timed(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """time_logdet replaced by a 0.2 s stand-in that records when each measurement started."""
    import flowviz.widgets.triangular as T

    starts: list[float] = []
    real = T.time_logdet

    def slow(**opts: Any) -> dict[str, Any]:
        starts.append(time.perf_counter())
        time.sleep(0.2)
        return real(sizes=(8, 16), repeats=1, diag_sizes=(1000,))

    monkeypatch.setattr(T, "time_logdet", slow)
    return starts


def joined(w: TriangularJacobian) -> bool:
    """The browser's measurements finished (at once where a version measured on the kernel's thread)."""
    join = getattr(w, "join_measurement", None)
    return join is None or bool(join(10))


def test_only_an_increase_from_the_browser_measures_and_a_burst_is_merged(timed: list[float]) -> None:
    """Every change measured (2 s each, on the kernel's thread): a decrease, a repeat, 1000 clicks (20 minutes)."""
    w = TriangularJacobian(n=8)
    w.set_state({"measure_request": 1})
    assert joined(w) and len(timed) == 1 and w.timing["n"] == [8, 16] and w.measuring is False
    w.set_state({"measure_request": 0})  # a decrease measures nothing
    assert joined(w) and len(timed) == 1
    start = time.perf_counter()
    for i in range(1, 51):  # a burst of clicks: the kernel answers at once, one run and one merged run follow
        w.set_state({"measure_request": i})
    assert time.perf_counter() - start < 1.0
    assert joined(w) and len(timed) == 3
    assert w.measure_request == 50 and w.measuring is False and w.status == "ok"


def test_a_measurement_request_that_is_not_a_counter_is_refused(timed: list[float]) -> None:
    w = TriangularJacobian(n=8)
    comm = connect(w)
    for bad in (10**400, 2**60, -1, 2.5, "1", None):
        w.set_state({"measure_request": bad})  # no exception out of the comm handler
        assert w.measure_request == 0 and w.status == "error" and "measure_request" in w.meta["message"], bad
        assert len(w.meta["message"]) < 300
    assert updates(comm, "measure_request")[-1] == 0  # the browser's counter is set back
    assert joined(w) and timed == []
    with pytest.raises(traitlets.TraitError, match="measure_request"):
        w.measure_request = 10**400  # from Python: a clear TraitError
    w.measure_request += 1  # from Python: measured at once, as before
    assert len(timed) == 1 and w.timing["n"] == [8, 16]


# ---- 2. FlowPlayer's sizes: the sliders' ranges, and a refused message recomputes nothing

def test_browser_sizes_are_limited_to_the_sliders_ranges(player: FlowPlayer) -> None:
    ranges = {c["id"]: (c["min"], c["max"]) for c in player.controls if c["id"] in ("n_points", "grid")}
    assert ranges == {"n_points": (100, 100_000), "grid": (9, 161)}
    for key, value in (("n_points", 2_000_000), ("n_points", 100_001), ("n_points", 99), ("grid", 401),
                       ("grid", 163), ("grid", 7), ("n_points", 10**400), ("grid", float("nan"))):
        player.set_state({"params": {**player.params, key: value}})
        assert (player.scene.N, player.grid) == (300, 9), (key, value)
        assert f"{key}: " in player.meta["message"] and "slider's range" in player.meta["message"]
        assert player.params["n_points"] == 300 and player.params["grid"] == 9
    player.set_state({"params": {**player.params, "n_points": 100_000, "grid": 161}})  # the sliders' ends
    assert (player.scene.N, player.grid) == (100_000, 161)
    # the Python API takes more, as documented
    assert FlowPlayer(flows.Flow([flows.Affine(2)]), n_points=200_000, grid=9).scene.N == 200_000


def test_a_message_whose_every_value_is_refused_recomputes_nothing(player: FlowPlayer,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import flowviz.widgets.player as P

    calls: list[int] = []
    real = P.player_scene

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(P, "player_scene", counted)
    arrays, version = player.arrays, player.meta["version"]
    player.set_state({"params": {**player.params, "L1.scale.0": "refused", "n_points": 2_000_000, "L9.x": 1}})
    assert calls == [] and player.arrays is arrays  # no recompute, no arrays sent again
    assert player.meta["version"] == version + 1 and "L1.scale.0: " in player.meta["message"]
    assert player.params["L1.scale.0"] == 1.5 and "L9.x" not in player.params
    player.set_state({"params": {**player.params, "L1.scale.0": 1.25}})  # a real change still recomputes
    assert calls == [1]


# ---- 3. save_html exports what the kernel computed, with the bundle from disk

def test_kernel_traits_written_by_the_browser_are_refused_and_sent_back(player: FlowPlayer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    comm = connect(player)
    arrays, meta, esm = player.arrays, player.meta, player._esm
    player.set_state({"arrays": {"x": {"dtype": "float32", "shape": [1], "data": 200_000_000}},
                      "controls": [{"id": "</script>"}], "_esm": "document.body.innerHTML = 'pwned'"})
    assert player.arrays is arrays and player._esm == esm and player.controls[0]["id"] == "L1.enabled"
    assert "arrays: set by the kernel only" in player.meta["message"] and player.meta["version"] == meta["version"] + 1
    assert updates(comm, "_esm") == [esm] and "points" in updates(comm, "arrays")[-1]  # the browser's copies reset
    page = player.save_html(tmp_path / "p.html").read_text(encoding="utf-8")
    assert len(page) < 2_000_000 and "pwned" not in page
    state = exported_state(page)
    for name, expected in player.scene.arrays().items():
        np.testing.assert_array_equal(decode_array(state["arrays"][name]), expected)


def test_the_export_uses_the_bundle_on_disk_and_the_kernels_own_values(player: FlowPlayer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import ipywidgets

    player._esm = "alert('not the bundle')"  # however the trait came to hold it
    # belt and braces: even a write that got past set_state's refusal is not what the export writes
    ipywidgets.Widget.set_state(player, {"arrays": {"x": {"dtype": "float32", "shape": [1], "data": 3_000_000_000}},
                                         "meta": {"status": "ok", "message": "</script>"}})
    page = player.save_html(tmp_path / "p.html").read_text(encoding="utf-8")
    assert "not the bundle" not in page
    assert bundle_path("widget").read_text(encoding="utf-8")[:2000] in page
    state = exported_state(page)
    assert "x" not in state["arrays"] and state["meta"] == player.published("meta") and state["meta"]["K"] == 6


def test_to_base64_refuses_what_is_not_an_encoded_array() -> None:
    good = encode_array(np.arange(6, dtype=np.float32).reshape(2, 3))
    assert decode_array(to_base64({"a": good})["a"]).tolist() == [[0, 1, 2], [3, 4, 5]]
    for bad in ({**good, "data": 200_000_000}, {**good, "data": "abc"}, {**good, "data": [1, 2]},
                {**good, "shape": [10**6, 10**6]}, {**good, "dtype": "object"}, {**good, "shape": [-1]}, 5):
        with pytest.raises(ValueError, match="a: "):
            to_base64({"a": bad})  # type: ignore[dict-item]


# ---- 4. and 5. TriangularJacobian's kind and n

def test_an_invalid_kind_goes_back_to_the_kind_shown(tmp_path) -> None:  # type: ignore[no-untyped-def]
    w = TriangularJacobian(n=8)
    comm = connect(w)
    w.set_state({"kind": "evil"})
    assert w.kind == "maf" and w.status == "error" and "kind must be one of 'maf', 'coupling'" in w.meta["message"]
    assert updates(comm, "kind") == ["maf"]
    w.set_state({"params": {"n": 10}})
    assert w.n == 10 and w.scene.n == 10 and w.meta["kind"] == "maf" and w.status == "ok"
    assert exported_state(w.save_html(tmp_path / "t.html").read_text(encoding="utf-8"))["kind"] == "maf"
    w.set_state({"kind": "x" * 1_000_000})
    assert w.kind == "maf" and len(w.meta["message"]) < 300
    w.kind = "nonsense"  # from Python: the same
    assert w.kind == "maf" and "nonsense" in w.meta["message"]
    w.set_state({"kind": "coupling"})
    assert w.meta["kind"] == "coupling" and w.status == "ok"


def test_an_n_no_float_holds_is_refused_not_raised() -> None:
    w = TriangularJacobian(n=8)
    for bad in (10**400, -(10**400), 1e308, "x" * 1_000_000, [8]):
        w.set_state({"params": {"n": bad}})  # OverflowError escaped the observer
        assert w.status == "error" and re.search(r"n must be a whole number between 2 and 512|holds a list",
                                                 w.meta["message"]), bad
        assert w.params == {"n": 8} and w.n == 8 and len(w.meta["message"]) < 300
    w.set_state({"params": {"n": 8, **{f"k{i}": i for i in range(50)}}})  # other keys are dropped
    assert w.params == {"n": 8} and w.status == "ok"


# ---- 6. FlowPlayer's position

def test_position_is_a_finite_layer(player: FlowPlayer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    comm = connect(player)
    player.set_state({"position": 2.5})
    assert player.position == 2.5
    for bad in (float("nan"), float("inf"), -float("inf"), 10**400, True, "1"):
        player.set_state({"position": bad})
        assert player.position == 2.5 and "position" in player.meta["message"], bad
    assert updates(comm, "position")[-1] == 2.5
    player.set_state({"position": 1e6})
    assert player.position == 6.0 and updates(comm, "position")[-1] == 6.0  # clamped to K
    player.set_state({"position": 1e6})  # (clamped to the value it has: no change, still sent back)
    assert updates(comm, "position")[-1] == 6.0 and len(updates(comm, "position")) >= 3
    player.set_state({"position": -3.0})
    assert player.position == 0.0
    assert exported_state(player.save_html(tmp_path / "p.html").read_text(encoding="utf-8"))["position"] == 0.0
    with pytest.raises(traitlets.TraitError, match="position must be a finite number"):
        player.position = float("nan")


# ---- 7. ChangeOfVariables1D's params

def test_cov1d_params_hold_exactly_the_maps_parameters(tmp_path) -> None:  # type: ignore[no-untyped-def]
    w = ChangeOfVariables1D()
    comm = connect(w)
    w.set_state({"params": {"__class__": 1, "a": 2.0, "b": 1.0}})
    assert w.params == {"a": 2.0, "b": 1.0} and "'__class__'" in w.meta["message"]
    assert updates(comm, "params")[-1] == {"a": 2.0, "b": 1.0}
    w.set_state({"params": {f"k{i}": i for i in range(60)}})
    assert w.params == {"a": 2.0, "b": 1.0} and "and 55 more" in w.meta["message"]
    w.set_state({"params": {}})
    assert w.params == {"a": 2.0, "b": 1.0}
    w.set_state({"params": {f"k{i}": i for i in range(100_000)}})  # refused at the door, by its size
    assert w.params == {"a": 2.0, "b": 1.0} and "100,000 entries" in w.meta["message"]
    page = w.save_html(tmp_path / "c.html").read_text(encoding="utf-8")
    assert exported_state(page)["params"] == {"a": 2.0, "b": 1.0}
    w.set_state({"params": {"a": 1.5, "b": 1.0, "zzz": 3}})  # a valid value beside a junk key: applied
    assert w.values == {"a": 1.5, "b": 1.0} and w.params == {"a": 1.5, "b": 1.0}


# ---- 8. what the banner echoes

def test_refused_ids_and_strings_are_cut_short_in_the_message(player: FlowPlayer) -> None:
    player.set_state({"params": {**player.params, **{f"junk{i}": i for i in range(90)}}})
    message = player.meta["message"]
    assert "junk0: unknown control" in message and "and 80 more" in message and len(message) < 600
    player.set_state({"params": {**player.params, "L1.scale.0" + "x" * 1_000_000: 1}})
    assert "unknown control" in player.meta["message"] and len(player.meta["message"]) < 300
    player.set_state({"params": {**player.params, "L1.scale.0": "y" * 1_000_000}})
    assert "finite number" in player.meta["message"] and len(player.meta["message"]) < 300
    player.set_state({"params": {**player.params, **{f"junk{i}": i for i in range(100_000)}}})
    assert "100,031 entries" in player.meta["message"] and len(player.meta["message"]) < 600
    w = ChangeOfVariables1D()
    w.set_state({"base": "x" * 1_000_000})
    assert w.base == "uniform" and "base must be one of" in w.meta["message"] and len(w.meta["message"]) < 300
    # repeated refusals replace each other's note: the message does not grow
    for i in range(50):
        player.set_state({"speed": -1.0 - i})
    assert player.meta["message"].count("speed") <= 2 and len(player.meta["message"]) < 400


# ---- 9. choices checked on every set; computed traits not writable

@pytest.mark.parametrize(("name", "good"), [("preset", "presentation"), ("theme", "dark"), ("renderer", "canvas2d")])
def test_player_choices_are_checked_on_every_set(player: FlowPlayer, name: str, good: str) -> None:
    comm = connect(player)
    old = getattr(player, name)
    player.set_state({name: "evil"})
    assert getattr(player, name) == old and f"{name} must be one of" in player.meta["message"]
    assert updates(comm, name) == [old]
    setattr(player, name, "</script>")  # from Python too
    assert getattr(player, name) == old
    player.set_state({name: good})
    assert getattr(player, name) == good
    with pytest.raises(ValueError, match=f"{name} must be "):
        FlowPlayer(lecture_flow(), n_points=200, **{name: "evil"})  # type: ignore[arg-type]


def test_lens_mode_is_checked_and_its_computed_traits_are_the_kernels(tmp_path) -> None:  # type: ignore[no-untyped-def]
    w = JacobianLens(grid=9, n_samples=500, bins=8)
    comm = connect(w)
    three = w.three
    w.set_state({"mode": "evil"})
    assert w.mode == "2d" and "mode must be one of '2d', '3d'" in w.error and updates(comm, "mode") == ["2d"]
    w.set_state({"three": {"det": 12345}, "error": "<!--<script>"})
    assert w.three == three and "three: set by the kernel only" in w.error and "error: set by" in w.error
    assert updates(comm, "three")[-1] == three
    w.set_state({"renderer": "evil"})
    assert w.renderer == "auto"
    w.set_state({"mode": "3d"})
    state = exported_state(w.save_html(tmp_path / "l.html").read_text(encoding="utf-8"))
    assert state["mode"] == "3d" and state["three"] == json.loads(json.dumps(three))


# ---- 10. a value a trait's validation refuses: visible, the browser's copy reset, Python still raises

@pytest.mark.parametrize(("make", "name", "bad", "kept"), [
    (lambda: FlowPlayer(lecture_flow(), n_points=300, grid=9), "speed", -1.0, 1.0),
    (lambda: FlowPlayer(lecture_flow(), n_points=300, grid=9), "speed", 10**400, 1.0),
    (lambda: FlowPlayer(lecture_flow(), n_points=300, grid=9), "selection", [10**400], []),
    (lambda: ChangeOfVariables1D(), "strip_z", float("nan"), 0.5),
    (lambda: ChangeOfVariables1D(), "strip_z", 10**400, 0.5),
    (lambda: ChangeOfVariables1D(), "strip_dz", 0.0, 0.1),
    (lambda: JacobianLens(grid=9, n_samples=500, bins=8), "matrix3", [1.0] * 8, None),
    (lambda: JacobianLens(grid=9, n_samples=500, bins=8), "matrix3", [10**400] * 9, None),
    (lambda: JacobianLens(grid=9, n_samples=500, bins=8), "matrix3", [1.0] * 1_000_000, None),
])
def test_a_value_the_trait_refuses_is_shown_and_the_browser_gets_the_kept_one(make, name, bad, kept) -> None:  # type: ignore[no-untyped-def]
    w = make()
    kept = getattr(w, name) if kept is None else kept
    comm = connect(w)
    version, error = w.meta["version"], getattr(w, "error", "")
    w.set_state({name: bad})  # raised a TraitError or OverflowError into ipywidgets' log, the banner unchanged
    assert getattr(w, name) == kept
    shown = w.error if isinstance(w, JacobianLens) else w.meta["message"]
    assert name in shown and "refused" in shown and shown != error and len(shown) < 400
    if not isinstance(w, JacobianLens):
        assert w.meta["version"] == version + 1
    assert updates(comm, name) == [kept]  # the browser's copy goes back to the kernel's value
    with pytest.raises(traitlets.TraitError):
        setattr(w, name, bad)  # from Python: a clear TraitError, as before


def test_valid_values_in_the_same_message_still_apply(player: FlowPlayer) -> None:
    player.set_state({"position": 1.5, "speed": 0.0, "loop": True})
    assert (player.position, player.speed, player.loop) == (1.5, 1.0, True)
    assert "speed = 0.0 refused" in player.meta["message"]


def test_a_toggle_sent_as_a_number_is_not_kept_as_one(player: FlowPlayer) -> None:
    player.set_state({"params": {**player.params, "L4.constrained": 1}})  # 1 == True to Python: no change seen
    assert player.params["L4.constrained"] is True
    player.set_state({"params": {**player.params, "L4.constrained": 0}})
    assert player.params["L4.constrained"] is True and "true or false" in player.meta["message"]


def test_a_nested_params_value_is_refused_before_ipywidgets_walks_it(player: FlowPlayer) -> None:
    start = time.perf_counter()
    player.set_state({"params": {**player.params, "L1.scale.0": [[[]]] * 300_000}})
    assert time.perf_counter() - start < 0.5  # (seconds in ipywidgets' comparison of the property lock)
    assert player.params["L1.scale.0"] == 1.5 and "holds a list" in player.meta["message"]


def test_measurements_on_the_worker_thread_do_not_overlap_a_python_call(timed: list[float]) -> None:
    w = TriangularJacobian(n=8)
    w.set_state({"measure_request": 1})
    caller = threading.Thread(target=w.measure)
    caller.start()
    caller.join(10)
    assert not caller.is_alive() and joined(w)
    assert len(timed) == 2 and timed[1] - timed[0] >= 0.2  # one after the other
    assert not math.isnan(w.timing["n"][0])


def test_a_position_the_browser_sends_as_an_integer_is_not_sent_back(player: FlowPlayer) -> None:
    """JavaScript has one number type: the browser's position 3 is the kernel's 3.0. Sending it back (as "adjusted")
    arrived late, after the browser had stepped on, and put the player back a layer (the linked-panel browser
    tests' keyboard steps timed out); a real clamp (7 -> K) and a float are still handled as before."""
    p = player
    comm = connect(p)
    K = len(p.flow.layers)
    for step in (1, 2, 3):
        p.set_state({"position": step})
    assert p.position == 3.0 and updates(comm, "position") == []
    p.set_state({"position": 2.5})
    assert updates(comm, "position") == []
    p.set_state({"position": K + 3})
    assert p.position == float(K) and updates(comm, "position") == [float(K)]
