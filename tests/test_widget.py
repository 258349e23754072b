"""FlowPlayer's Python side: the wire format, parameter controls, the not-invertible state,
reset, and static export. (The browser side is tested in tests/browser/.)"""

from __future__ import annotations

import base64
import json
import math
import re

import numpy as np
import pytest
import torch
from ipywidgets.widgets.widget import _remove_buffers

from flowviz import flows
from flowviz.widgets import FlowPlayer
from flowviz.widgets.wire import decode_array, encode_array


def lecture_flow() -> flows.Flow:
    return flows.Flow([flows.Affine(2, scale=[1.5, 0.6], shift=[0.5, 0.0]),
                       flows.Linear(2, matrix=[[1.0, 1.0], [2.0, 0.0]]),
                       flows.Planar(2, u=[1.0, 0.5], w=[1.2, 0.3], b=0.0),
                       flows.Radial(2, centre=[0.5, -0.5], alpha=0.5, beta=1.0),
                       flows.AffineCoupling(2, hidden=8)])


@pytest.fixture
def player() -> FlowPlayer:
    return FlowPlayer(lecture_flow(), n_points=500, grid=17)


def test_arrays_decode_to_exactly_what_scene_computed(player: FlowPlayer) -> None:
    arrays = player.scene.arrays()
    assert set(arrays) <= set(player.arrays)
    for name, expected in arrays.items():
        got = decode_array(player.arrays[name])
        assert got.dtype == np.float32 and got.shape == expected.shape, name
        np.testing.assert_array_equal(got, expected)
    lut = decode_array(player.arrays["lut"])
    assert lut.shape == (256, 3) and 0 <= lut.min() and lut.max() <= 1


def test_every_array_crosses_as_a_binary_buffer_not_json(player: FlowPlayer) -> None:
    state = player.get_state()
    _, paths, buffers = _remove_buffers(state)
    buffer_paths = {tuple(p) for p in paths}
    for name in player.arrays:
        assert ("arrays", name, "data") in buffer_paths, name
    total = sum(len(b) for b in buffers)
    scene = player.scene
    assert total >= scene.points.nbytes + scene.mesh.nbytes + scene.jac.nbytes
    # what stays JSON is small: metadata and controls, no arrays of numbers
    stripped, _, _ = _remove_buffers(state)
    text = json.dumps(stripped["meta"]) + json.dumps(stripped["controls"])
    assert len(text) < 20_000
    assert not re.search(r"\[(\s*-?\d+\.\d+\s*,){50,}", json.dumps(stripped))


def test_encode_is_little_endian_float32_c_order() -> None:
    a = np.arange(6, dtype=np.float64).reshape(2, 3).T  # not C-contiguous, float64
    enc = encode_array(a)
    assert enc["dtype"] == "float32" and enc["shape"] == [3, 2]
    assert bytes(enc["data"]) == np.ascontiguousarray(a, dtype="<f4").tobytes()
    np.testing.assert_array_equal(decode_array(enc), a.astype(np.float32))


def test_controls_cover_hand_built_layers_and_toggles(player: FlowPlayer) -> None:
    ids = {c["id"] for c in player.controls}
    assert {"L1.scale.0", "L1.shift.1", "L2.W.0.1", "L3.u.0", "L3.w.1", "L3.b", "L3.constrained",
            "L4.centre.0", "L4.alpha", "L4.beta", "L4.constrained", "n_points", "grid"} <= ids
    assert {f"L{k}.enabled" for k in range(1, 6)} <= ids
    assert not any(i.startswith("L5.") and i != "L5.enabled" for i in ids)  # no network weights as sliders
    values = {c["id"]: c["value"] for c in player.controls}
    assert values["L2.W.1.0"] == 2.0 and values["L4.alpha"] == pytest.approx(0.5)


def test_a_parameter_change_recomputes_and_sends_new_state(player: FlowPlayer) -> None:
    version = player.meta["version"]
    before = decode_array(player.arrays["points"]).copy()
    player.params = {**player.params, "L1.shift.0": 2.0}
    assert player.meta["version"] == version + 1
    assert float(player.flow.layers[0].shift[0].detach()) == 2.0
    after = decode_array(player.arrays["points"])
    np.testing.assert_allclose(after[1, :, 0], before[1, :, 0] + 1.5, rtol=1e-5, atol=1e-5)  # shift 0.5 -> 2.0
    # the controls now report the new value
    assert {c["id"]: c["value"] for c in player.controls}["L1.shift.0"] == 2.0


def test_matrix_entries_change_the_jacobian_readout(player: FlowPlayer) -> None:
    player.params = {**player.params, "L2.W.1.1": 0.5}
    jac = decode_array(player.arrays["jac"])  # (K, V, 4)
    np.testing.assert_allclose(jac[1], np.broadcast_to([1.0, 1.0, 2.0, 0.5], jac[1].shape))


def test_singular_matrix_and_crossed_planar_constraint_show_not_invertible(player: FlowPlayer) -> None:
    player.params = {**player.params, "L2.W.1.0": 1.0, "L2.W.1.1": 1.0}  # W = [[1, 1], [1, 1]]
    assert player.status == "not invertible" and "det W = 0" in player.meta["message"]
    assert [layer["invertible"] for layer in player.meta["layers"]] == [True, False, True, True, True]
    assert all(np.isfinite(decode_array(a)).all() for a in player.arrays.values())
    player.params = {**player.params, "L2.W.1.0": 2.0, "L2.W.1.1": 0.0}
    assert player.status == "ok"
    player.params = {**player.params, "L3.constrained": False, "L3.u.0": -3.0, "L3.w.0": 1.0, "L3.w.1": 0.0}
    assert player.status == "not invertible" and "planar map folds" in player.meta["message"]
    player.params = {**player.params, "L3.constrained": True}
    assert player.status == "ok"


def test_constrained_radial_holds_beta_and_says_so(player: FlowPlayer) -> None:
    player.params = {**player.params, "L4.beta": -4.0}
    assert player.status == "ok" and "beta held" in player.meta["message"]
    assert float(player.flow.layers[3].beta.detach()) > -float(player.flow.layers[3].alpha.detach())
    player.params = {**player.params, "L4.constrained": False, "L4.beta": -4.0}
    assert player.status == "not invertible"


def test_layer_toggle_sample_count_and_grid(player: FlowPlayer) -> None:
    player.params = {**player.params, "L1.enabled": False}
    pts = decode_array(player.arrays["points"])
    np.testing.assert_array_equal(pts[1], pts[0])
    assert player.meta["layers"][0]["enabled"] is False
    player.params = {**player.params, "n_points": 800, "grid": 9}
    assert decode_array(player.arrays["points"]).shape == (6, 800, 2)
    assert decode_array(player.arrays["mesh"]).shape == (6, 81, 2)


def test_bad_control_values_are_reported_not_raised(player: FlowPlayer) -> None:
    version = player.meta["version"]
    player.params = {**player.params, "L1.scale.0": "__import__('os')", "L9.bogus": 1.0, "L3.b": None}
    assert player.meta["version"] == version + 1
    msg = player.meta["message"]
    assert "L1.scale.0" in msg and "finite number" in msg and "unknown control" in msg
    assert float(player.flow.layers[0].scale[0].detach()) == 1.5  # untouched


def test_reset_restores_the_users_model(player: FlowPlayer) -> None:
    original = {k: v.clone() for k, v in player.flow.state_dict().items()}
    player.params = {**player.params, "L1.scale.0": -2.0, "L3.constrained": False, "L2.enabled": False}
    player.reset()
    for k, v in player.flow.state_dict().items():
        assert torch.equal(v, original[k]), k
    assert player.flow.layers[2].constrained is True and player.status == "ok"
    assert all(layer["enabled"] for layer in player.meta["layers"])


def test_scale_zero_is_a_visible_state_not_nan(player: FlowPlayer) -> None:
    player.params = {**player.params, "L1.scale.1": 0.0}
    assert player.status == "not invertible" and "det J = 0" in player.meta["message"]
    json.dumps(player.meta, allow_nan=False)
    for a in player.arrays.values():
        assert np.isfinite(decode_array(a)).all()
    # x = (1.5 z1 + 0.5, 0): the points and the grid lie on the line x2 = 0, drawn (positions finite) though
    # the density there is +inf; the mesh's cells carry no density (finite 0) but its vertices are placed
    a = {name: decode_array(v) for name, v in player.arrays.items()}
    z = a["points"][0]
    np.testing.assert_allclose(a["points"][1], np.stack([1.5 * z[:, 0] + 0.5, 0 * z[:, 1]], 1), atol=1e-6)
    assert "points_finite" not in a or a["points_finite"].all()  # every point is drawn
    assert a["finite"][0].all() and not a["finite"][1:].any()
    assert a["placed"].all()
    np.testing.assert_array_equal(a["jac"][0], np.broadcast_to([1.5, 0.0, 0.0, 0.0], a["jac"][0].shape))  # J, not zeros
    x0, x1, y0, y1 = player.meta["bounds"][1]
    assert x1 - x0 > 3 and y0 < 0 < y1  # the camera frames the line


def test_constructor_errors() -> None:
    with pytest.raises(ValueError, match="2D flows; this flow has dim 3"):
        FlowPlayer(flows.realnvp(3, layers=1))
    with pytest.raises(TypeError, match="needs a flowviz.flows.Flow"):
        FlowPlayer(flows.Affine(2))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n_points"):
        FlowPlayer(flows.realnvp(2, layers=1), n_points=0)
    with pytest.raises(ValueError, match="preset"):
        FlowPlayer(flows.realnvp(2, layers=1), preset="huge")
    with pytest.raises(TypeError, match="FlowPlayer: seed must be an integer >= 0, got 'a'"):
        FlowPlayer(flows.realnvp(2, layers=1), seed="a")  # type: ignore[arg-type]
    # a mistyped keyword is an error naming it (traitlets would only warn and drop it), with a suggestion
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) 'npoints' \(did you mean 'n_points'"):
        FlowPlayer(flows.realnvp(2, layers=1), npoints=100)  # type: ignore[call-arg]
    # ipywidgets' own traits still pass through
    import ipywidgets

    p = FlowPlayer(flows.realnvp(2, layers=1), n_points=200, layout=ipywidgets.Layout(width="500px"))
    assert p.layout.width == "500px"


def test_save_html_is_self_contained(player: FlowPlayer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = player.save_html(tmp_path / "p.html")
    text = path.read_text()
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", text)
    assert not re.search(r"(import\s*\(|fetch\(|url\()\s*[\"']?https?:", text)
    state = json.loads(re.search(r'<script id="flowviz-state" type="application/json">(.*?)</script>', text,
                                 re.S).group(1).replace("<\\/", "</"))
    for name, expected in player.scene.arrays().items():
        np.testing.assert_array_equal(decode_array(state["arrays"][name]), expected)
    assert state["meta"]["status"] == "ok"


def test_standard_ipywidgets_embedding_keeps_working(player: FlowPlayer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from ipywidgets.embed import embed_minimal_html

    embed_minimal_html(tmp_path / "embed.html", views=[player], title="flowviz")
    text = (tmp_path / "embed.html").read_text()
    assert "application/vnd.jupyter.widget-state+json" in text and player.model_id in text
    state = json.loads(re.search(r'<script type="application/vnd.jupyter.widget-state\+json">(.*?)</script>', text,
                                 re.S).group(1))["state"][player.model_id]
    # what the page's anywidget needs, though equal to the trait defaults the embedding leaves out: the front
    # end itself and the view's class (without them: "Class null not found", anywidget issue #339)
    s = state["state"]
    assert s["_esm"] == player._esm and s["_view_name"] == "AnyView" and s["_view_module"] == "anywidget"
    assert s["preset"] == "notebook" and s["theme"] == "auto"  # settings at their defaults are kept too
    assert s["static"] is True  # the page has no kernel: its controls are greyed out (browser test)
    assert "static" not in player.get_state()  # the live widget's are not
    # the arrays travel as the embedding's base64 buffers, and decode to the scene's
    buffers = {tuple(b["path"]): base64.b64decode(b["data"]) for b in state["buffers"]}
    for name, expected in player.scene.arrays().items():
        meta = s["arrays"][name]
        got = np.frombuffer(buffers[("arrays", name, "data")], dtype=meta["dtype"]).reshape(meta["shape"])
        np.testing.assert_array_equal(got, expected)


def test_kernel_does_not_echo_float32_rounding_of_browser_values(player: FlowPlayer) -> None:
    """A value the browser sent comes back unchanged (an echo of -1.5499999523 for -1.55 would be a
    change, synced to the browser, and could move a slider the user has already moved on)."""
    sent: list[dict] = []
    player.observe(lambda change: sent.append(dict(change["new"])), names="params")
    player.params = {**player.params, "L1.shift.0": -1.55}
    assert float(player.flow.layers[0].shift[0].detach()) != -1.55  # float32 storage really rounds it
    assert player.params["L1.shift.0"] == -1.55
    assert sent == [player.params]  # only the browser's own change: no second, rounded echo
    # a real change made in the kernel (a clamp) is still sent back
    player.params = {**player.params, "L4.beta": -4.0}
    assert player.params["L4.beta"] > -float(player.flow.layers[3].alpha.detach())


def test_radial_centre_is_a_handle_in_its_input_coordinates(player: FlowPlayer) -> None:
    """meta.handles names the radial layer's two centre sliders; the browser draws z0 where it lies among
    the layer's inputs (state k-1) and keeps it there while the layer is applied, since z0 is a fixed point
    of the radial map. Dragging sets both sliders' ids in params in one update, like the sliders."""
    handles = player.meta["handles"]
    assert handles == [{"layer": 4, "ids": ["L4.centre.0", "L4.centre.1"], "label": "z\u2080"}]
    controls = {c["id"]: c for c in player.controls}
    assert all(controls[i].get("kind") != "toggle" for i in handles[0]["ids"])
    radial = player.flow.layers[3]
    z0 = radial.centre.detach().clone()
    assert [controls[i]["value"] for i in handles[0]["ids"]] == pytest.approx(z0.tolist())
    # z0 is a fixed point (x = z + beta (z - z0) / (alpha + r) at z = z0), and nearby inputs move away from or
    # towards it radially: the handle marks the same place before and after the layer
    with torch.no_grad():
        assert torch.equal(radial(z0[None])[0][0], z0)
        near = z0 + torch.tensor([[0.3, 0.1]])
        out = radial(near)[0][0]
    d_in, d_out = near[0] - z0, out - z0
    assert abs(float(d_in[0] * d_out[1] - d_in[1] * d_out[0])) < 1e-6 and float(d_in @ d_out) > 0
    # a drag: both coordinates in one params update, one recompute, the layer's centre and picture follow
    version = player.meta["version"]
    before = decode_array(player.arrays["mesh"]).copy()
    player.params = {**player.params, "L4.centre.0": -1.234, "L4.centre.1": 0.875}
    assert player.meta["version"] == version + 1
    assert radial.centre.tolist() == pytest.approx([-1.234, 0.875])
    after = decode_array(player.arrays["mesh"])
    np.testing.assert_array_equal(after[:4], before[:4])  # states before the radial layer are unchanged
    assert np.abs(after[4] - before[4]).max() > 0.05
    assert {c["id"]: c["value"] for c in player.controls}["L4.centre.1"] == 0.875  # the sliders follow


def test_only_radial_layers_offer_a_handle() -> None:
    flow = flows.Flow([flows.Radial(2, centre=[1.0, 0.0]), flows.Planar(2), flows.Radial(2, centre=[0.0, -1.0])])
    player = FlowPlayer(flow, n_points=100, grid=9)
    assert [h["layer"] for h in player.meta["handles"]] == [1, 3]
    assert player.meta["handles"][1]["ids"] == ["L3.centre.0", "L3.centre.1"]
    assert FlowPlayer(flows.Flow([flows.Planar(2)]), n_points=100, grid=9).meta["handles"] == []


@pytest.mark.parametrize("make", [
    lambda **kw: __import__("flowviz.widgets.lens", fromlist=["x"]).JacobianLens(**kw),
    lambda **kw: __import__("flowviz.widgets.cov1d", fromlist=["x"]).ChangeOfVariables1D(**kw),
    lambda **kw: __import__("flowviz.widgets.triangular", fromlist=["x"]).TriangularJacobian(**kw),
    lambda **kw: __import__("flowviz.widgets.likelihood", fromlist=["x"]).LikelihoodSplit(
        flows.realnvp(2, layers=1), np.zeros((10, 2)), **kw),
], ids=["JacobianLens", "ChangeOfVariables1D", "TriangularJacobian", "LikelihoodSplit"])
def test_every_view_refuses_unknown_keywords(make) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TypeError, match=r"got unexpected keyword argument\(s\) 'colour_map'"):
        make(colour_map="magma")


def test_sinh_arcsinh_sliders_move_the_points_by_the_closed_form() -> None:
    """Skew and tail-weight sliders: state 1 is x = sinh((asinh z + skew) / tail) with the new values, and
    the Jacobian readout is diag(cosh(u) / (tail sqrt(1 + z^2))), both written out here in numpy."""
    flow = flows.Flow([flows.SinhArcsinh(2, skew=[0.3, -0.2], tailweight=[0.8, 1.3]), flows.Affine(2)])
    p = FlowPlayer(flow, n_points=400, grid=9)
    spec = {c["id"]: c for c in p.controls}
    assert {k: round(spec[k]["value"], 6) for k in ("L1.skew.0", "L1.skew.1", "L1.tail.0", "L1.tail.1")} == {
        "L1.skew.0": 0.3, "L1.skew.1": -0.2, "L1.tail.0": 0.8, "L1.tail.1": 1.3}
    assert spec["L1.tail.0"]["min"] > 0  # the slider cannot reach a zero tail weight

    p.params = {**p.params, "L1.tail.0": 2.0, "L1.skew.1": -1.0}
    assert p.status == "ok", p.meta["message"]
    skew, tail = np.array([0.3, -1.0]), np.array([2.0, 1.3])
    z = decode_array(p.arrays["points"])[0].astype(np.float64)
    np.testing.assert_allclose(decode_array(p.arrays["points"])[1], np.sinh((np.arcsinh(z) + skew) / tail),
                               rtol=1e-5, atol=1e-5)
    zm = decode_array(p.arrays["mesh"])[0].astype(np.float64)
    u = (np.arcsinh(zm) + skew) / tail
    dx = np.cosh(u) / (tail * np.sqrt(1 + zm**2))
    jac = decode_array(p.arrays["jac"])[0]  # (V, 4): J11, J12, J21, J22
    np.testing.assert_allclose(jac, np.stack([dx[:, 0], 0 * dx[:, 0], 0 * dx[:, 0], dx[:, 1]], 1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(decode_array(p.arrays["logdet"])[0], np.log(dx).sum(1), rtol=1e-5, atol=1e-5)
    assert {c["id"]: c["value"] for c in p.controls}["L1.tail.0"] == pytest.approx(2.0)

    # a tail weight <= 0 from Python is refused by name and leaves the layer as it was
    version = p.meta["version"]
    p.params = {**p.params, "L1.tail.0": 0.0}
    assert p.meta["version"] == version + 1 and "tail weight must be > 0" in p.meta["message"]
    assert float(flow.layers[0].log_tailweight[0].detach().exp()) == pytest.approx(2.0)


def test_a_control_recomputes_from_its_layer_and_recompute_from_python_is_full(player: FlowPlayer) -> None:
    """A slider of layer 4 (Radial) reuses layers 1-3 and sends what a fresh player would; the public
    recompute() (after the user changed the flow, even through tensor.data, which torch's version counters
    do not see) recomputes every layer."""
    player.params = {**player.params, "L4.alpha": 0.9}
    assert player._cache.reused == 3
    fresh = FlowPlayer(player.flow, n_points=500, grid=17)
    for name, value in fresh.scene.arrays().items():
        np.testing.assert_array_equal(player.scene.arrays()[name], value, err_msg=name)
    player.flow.layers[0].shift.data[0] = 2.0  # bypasses the version counter
    player.recompute()
    assert player._cache.reused == 0
    z = decode_array(player.arrays["points"])[0]
    np.testing.assert_allclose(decode_array(player.arrays["points"])[1][:, 0], 1.5 * z[:, 0] + 2.0, atol=1e-5)


def _view(name: str, **kw):  # noqa: ANN003, ANN202
    import flowviz as widgets

    if name == "LikelihoodSplit":
        data = kw.pop("data", np.random.default_rng(0).normal(size=(50, 2)))
        return widgets.LikelihoodSplit(flows.realnvp(2, layers=1), data, **kw)
    if name == "FlowPlayer":
        return FlowPlayer(flows.realnvp(2, layers=1), **kw)
    return getattr(widgets, name)(**kw)


@pytest.mark.parametrize(("name", "kwargs", "error", "match"), [
    ("FlowPlayer", {"n_points": 1.5}, ValueError, r"n_points must be a whole number between 1 and 2,000,000, got 1.5"),
    ("FlowPlayer", {"n_points": "100"}, TypeError, r"n_points must be a whole number .* got '100' \(str\)"),
    ("FlowPlayer", {"grid": 2}, ValueError, r"grid \(vertices per side\) must be a whole number between 3 and 401"),
    ("FlowPlayer", {"grid": "fine"}, ValueError, r"grid must be a whole number of vertices per side or 'auto'"),
    ("JacobianLens", {"extent": -1.0}, ValueError, r"extent must be a finite number > 0, got -1.0"),
    ("JacobianLens", {"extent": float("nan")}, ValueError, r"extent must be a finite number > 0, got nan"),
    ("JacobianLens", {"grid": 2.5}, ValueError, r"grid \(vertices per side\) must be a whole number between 3 and 201"),
    ("JacobianLens", {"bins": True}, TypeError, r"bins must be a whole number between 4 and 256, got True \(bool\)"),
    ("TriangularJacobian", {"n": 2.5}, ValueError, r"n must be a whole number between 2 and 512, got 2.5"),
    ("ChangeOfVariables1D", {"n_samples": 0}, ValueError, r"ChangeOfVariables1D: n_samples must be a whole number"),
    ("LikelihoodSplit", {"max_points": 0}, ValueError, r"LikelihoodSplit: max_points must be a whole number"),
    ("LikelihoodSplit", {"n_c": 1}, ValueError, r"n_c \(values of c computed\) must be a whole number between 2"),
    ("LikelihoodSplit", {"data": np.zeros((0, 2))}, ValueError,
     r"data must have shape \(N, 2\) with N >= 1, got \(0, 2\)"),
])
def test_views_refuse_bad_sizes_by_name(name: str, kwargs: dict, error: type, match: str) -> None:  # type: ignore[type-arg]
    """Sizes were int()-converted (n_points=1.5 drew 1 point, "100" was accepted), a negative or NaN lens
    extent drew a mirrored or empty picture, max_points=0 or no data said 'no data point has a finite inverse'."""
    with pytest.raises(error, match=match):
        _view(name, **kwargs)


def test_a_front_end_sending_a_bad_size_gets_a_message_not_an_exception() -> None:
    from flowviz.widgets import TriangularJacobian

    p = FlowPlayer(flows.realnvp(2, layers=1), n_points=200, grid=9)
    p.params = {**p.params, "n_points": "many"}
    assert "n_points must be a whole number" in p.meta["message"] and p.scene.N == 200
    p.params = {**p.params, "n_points": 300.0}  # a slider's number
    assert p.scene.N == 300
    t = TriangularJacobian(n=8)
    t.params = {"n": 2.5}
    assert t.meta["status"] == "error" and "n must be a whole number" in t.meta["message"]
    t.params = {"n": 12.0}
    assert t.meta["status"] == "ok" and t.scene.n == 12


def test_auto_grid_takes_a_finer_mesh_only_where_the_default_leaves_triangles_unresolved() -> None:
    """grid="auto" (the default): the lecture's maps keep the 65 mesh (nothing unresolved); the shipped moons
    RealNVP, whose 65 mesh leaves ~5% of the last state's triangles unfilled, gets the 129 mesh, the same arrays
    as asking for it, with a smaller unresolved share. A chosen grid, or a move of the grid slider, is kept."""
    from flowviz import pretrained
    from flowviz.scene.player import AUTO_GRID, AUTO_UNRESOLVED, unresolved_share

    lecture = FlowPlayer(flows.Flow([flows.Affine(2, scale=[1.5, 0.6], shift=[0.5, 0.0]),
                                     flows.Planar(2, u=[1.0, 0.5], w=[1.2, 0.3], b=0.0)]), n_points=500)
    assert lecture.grid == lecture.scene.gx == AUTO_GRID[0] and unresolved_share(lecture.scene) == 0.0
    assert lecture.params["grid"] == AUTO_GRID[0]

    moons = pretrained.load("moons-realnvp")
    coarse = FlowPlayer(moons, n_points=500, grid=65)  # asked for: kept
    assert coarse.grid == 65 and unresolved_share(coarse.scene) > 5 * AUTO_UNRESOLVED
    auto = FlowPlayer(moons, n_points=500)
    assert auto.grid == auto.scene.gx == auto.scene.gy == AUTO_GRID[1] and auto.params["grid"] == AUTO_GRID[1]
    assert unresolved_share(auto.scene) < 0.8 * unresolved_share(coarse.scene)
    fine = FlowPlayer(moons, n_points=500, grid=129)
    for name, expected in fine.scene.arrays().items():
        np.testing.assert_array_equal(auto.scene.arrays()[name], expected)

    # a control's change keeps the mesh; a full recompute chooses again (training can make a flow need it)
    auto.params = {**auto.params, "L1.enabled": False}
    assert auto.grid == AUTO_GRID[1]
    auto.recompute()
    assert auto.grid == AUTO_GRID[1]
    # the user's grid is theirs from then on
    auto.params = {**auto.params, "grid": 33}
    assert auto.grid == auto.scene.gx == 33
    auto.recompute()
    assert auto.grid == 33


def test_control_values_beyond_float32_are_reported_not_raised(player: FlowPlayer) -> None:
    """A finite number a float32 parameter cannot hold (1e39, -1e300) and an integer no float holds (10**400, which a
    browser's JSON can carry) are refused by name, like any bad value: no RuntimeError/OverflowError out of the
    observer, the model untouched, the traits back to the model's values (strict JSON)."""
    before = {k: v.clone() for k, v in player.flow.state_dict().items()}
    for control_id, value in [("L1.scale.0", 1e39), ("L2.W.0.1", -1e300), ("L4.alpha", 1e39), ("L4.beta", 1e39),
                              ("L1.shift.0", 10**400), ("L3.u.1", -(10**400)), ("n_points", 10**400)]:
        version = player.meta["version"]
        player.params = {**player.params, control_id: value}
        assert player.meta["version"] == version + 1, control_id
        message = player.meta["message"]
        assert message.startswith(f"{control_id}: ") or f" {control_id}: " in message, message
        assert ("range of its float32 parameter" in message or "whole number" in message), message
        for k, v in player.flow.state_dict().items():
            assert torch.equal(v, before[k]), (control_id, k)
        assert player.params[control_id] != value
        json.dumps(player.params, allow_nan=False)
    assert player.scene.N == 500
    # the largest float32 is still a value (its write does not overflow)
    player.params = {**player.params, "L1.shift.1": float(torch.finfo(torch.float32).max)}
    assert float(player.flow.layers[0].shift[1].detach()) == float(torch.finfo(torch.float32).max)


def test_a_model_with_nan_parameters_says_which_layer_and_sends_null(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A diverged training leaves NaN in the model: the controls and params carry null (JSON has no NaN, and the
    static page must parse), and the banner names the layer instead of a NaN comparison ("w . u = nan < -1")."""
    flow = flows.Flow([flows.Affine(2, scale=[1.5, 0.6]), flows.Planar(2, u=[1.0, 0.5], w=[1.2, 0.3])])
    p = FlowPlayer(flow, n_points=200, grid=9)
    with torch.no_grad():
        flow.layers[1].u.fill_(float("nan"))
    p.recompute()
    assert p.status == "non-finite"
    assert "layer 2 (Planar) has non-finite parameters" in p.meta["message"], p.meta["message"]
    # no NaN comparison from the layer's own invertibility test, no "nan" in the captions either
    assert not re.search(r"\b(nan|inf)\b", json.dumps(p.meta) + json.dumps(p.controls), re.I)
    assert p.params["L2.u.0"] is None and p.params["L2.u.1"] is None and p.params["L2.w.0"] == pytest.approx(1.2)
    assert [c["value"] for c in p.controls if c["id"].startswith("L2.u.")] == [None, None]
    for name in ("meta", "controls", "params"):
        json.dumps(getattr(p, name), allow_nan=False)
    state = _exported_state(p.save_html(tmp_path / "nan.html").read_text(encoding="utf-8"))
    assert state["params"]["L2.u.0"] is None
    # moving a slider of the broken layer writes a number again (the way out without Python)
    p.params = {**p.params, "L2.u.0": 0.5}
    assert p.params["L2.u.0"] == 0.5 and p.params["L2.u.1"] is None and p.status == "non-finite"
    p.params = {**p.params, "L2.u.1": 0.25}
    assert p.status == "ok" and p.params["L2.u.1"] == 0.25


def _exported_state(page: str) -> dict:  # type: ignore[type-arg]
    """The state of a save_html page, parsed as strict JSON (JSON.parse refuses NaN and Infinity too)."""
    def refuse(name: str) -> None:
        raise ValueError(f"{name} is not JSON")

    text = re.search(r'<script id="flowviz-state" type="application/json">(.*?)</script>', page, re.S).group(1)
    return json.loads(text, parse_constant=refuse)  # type: ignore[no-any-return]


def _script_elements(page: str) -> list[tuple[dict[str, str | None], str]]:
    """(attributes, text) of every <script> element as html.parser reads the page."""
    from html.parser import HTMLParser

    found: list[tuple[dict[str, str | None], str]] = []

    class Scripts(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "script":
                found.append((dict(attrs), ""))

        def handle_data(self, data: str) -> None:
            if found and self.lasttag == "script":
                found[-1] = (found[-1][0], found[-1][1] + data)

    Scripts(convert_charrefs=False).feed(page)
    return found


def _html5lib():  # type: ignore[no-untyped-def]
    """html5lib (a spec-conformant tokenizer, with the escaped-script states html.parser lacks), or None: the package
    or bleach's vendored copy (bleach comes with nbconvert, which voila and jupyterlab install)."""
    try:
        import html5lib  # type: ignore[import-untyped]
    except ImportError:
        try:
            from bleach._vendor import html5lib  # type: ignore[import-untyped, no-redef]
        except ImportError:
            return None
    return html5lib


def test_save_html_keeps_script_hazards_in_the_state_inert(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Text a user typed ends up in the state (the lens keeps a refused expression as typed): "<!--<script>" there
    must not end the state's <script> early or make the HTML tokenizer swallow the rest of the page (its
    double-escaped script state). Every "<" in the state is written \\u003c (the same string to JSON.parse)."""
    from flowviz.widgets import JacobianLens

    w = JacobianLens(grid=9, n_samples=500, bins=8)
    typed = "<!--<script></script><SCRIPT>-->"
    w.text = typed
    assert w.error and w.text == typed
    page = w.save_html(tmp_path / "lens.html").read_text(encoding="utf-8")
    scripts = _script_elements(page)
    assert [(a.get("id"), a.get("type")) for a, _ in scripts] == [
        ("flowviz-state", "application/json"), ("flowviz-esm", "text/plain"), (None, "module")]
    state_text = scripts[0][1]
    assert "<" not in state_text  # so neither "</script" nor "<!--" can occur
    assert json.loads(state_text)["text"] == typed
    assert "<!--" not in scripts[1][1]
    html5lib = _html5lib()
    if html5lib is not None:  # the browser's reading of the page
        doc = html5lib.parse(page, namespaceHTMLElements=False)
        seen = [(s.get("id"), s.get("type"), s.text or "") for s in doc.iter("script")]
        assert [(i, t) for i, t, _ in seen] == [("flowviz-state", "application/json"), ("flowviz-esm", "text/plain"),
                                                (None, "module")]
        assert json.loads(seen[0][2])["text"] == typed


def test_the_bundle_is_embedded_with_its_script_hazards_escaped() -> None:
    """The bundle sits in a text/plain <script>: "<!--", "<script" and "</script" (any case, as the HTML tokenizer
    reads a tag name) are written with \\x3C, which a JS string, template or regular expression reads as "<". The
    bundles as built have none of them and are embedded unchanged."""
    import ast

    from flowviz.widgets.base import STATIC
    from flowviz.widgets.export import esm_script_text

    source = 'const a = "<!--<script>x</script >", b = "</SCRIPT/>", c = i<scripts, d = "<scripted";'
    out = esm_script_text(source)
    assert "<!--" not in out and not re.search(r"</?script[\s/>]", out, re.I)
    assert out == ('const a = "\\x3C!--\\x3Cscript>x\\x3C/script >", b = "\\x3C/SCRIPT/>", c = i<scripts, '
                   'd = "<scripted";')
    # the escapes read back as the original text (a Python string literal has the same \x3C escape as JS)
    assert ast.literal_eval(out[10:out.index(",")]) == "<!--<script>x</script >"
    for bundle in sorted(STATIC.glob("*.js")):
        text = bundle.read_text(encoding="utf-8")
        assert esm_script_text(text) == text, bundle.name


def test_save_html_refuses_a_state_that_is_not_json(player: FlowPlayer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """NaN or inf in a JSON trait would be written as NaN/Infinity, which JSON.parse refuses (a blank page): the
    export says which entry instead of writing it."""
    player.meta = {**player.meta, "logp_range": [float("nan"), 0.0]}
    with pytest.raises(ValueError, match="FlowPlayer: the state to export holds NaN or inf .* in meta"):
        player.save_html(tmp_path / "p.html")
    assert not (tmp_path / "p.html").exists()


def test_a_timing_slope_that_could_not_be_fitted_is_null(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """One size measured: no log-log slope (NaN in Python), null in the ``timing`` trait, so the page exports."""
    from flowviz.widgets import TriangularJacobian

    t = TriangularJacobian(n=8)
    result = t.measure(sizes=[8], repeats=1)
    assert math.isnan(result["lu_slope"])
    assert t.timing["lu_slope"] is None and t.timing["n"] == [8]
    json.dumps(t.timing, allow_nan=False)
    assert _exported_state(t.save_html(tmp_path / "t.html").read_text(encoding="utf-8"))["timing"]["n"] == [8]


# ---- FlowPlayer over time: one recompute at a time, whoever asks

def _slow_on_thread(monkeypatch: pytest.MonkeyPatch, name: str, seconds: float) -> None:
    """player_scene takes ``seconds`` longer on the thread called ``name`` (a big flow's full recompute, started by
    a training loop's callback, finishing after a slider's change handled on the kernel's thread)."""
    import threading
    import time

    import flowviz.widgets.player as P

    real = P.player_scene

    def slow(*a, **k):
        out = real(*a, **k)
        if threading.current_thread().name == name:
            time.sleep(seconds)
        return out

    monkeypatch.setattr(P, "player_scene", slow)


def test_a_recompute_from_another_thread_cannot_publish_over_a_newer_slider_change(monkeypatch):
    import threading
    import time

    p = FlowPlayer(lecture_flow(), n_points=300, grid=9)
    seen: list[int] = []
    p.observe(lambda ch: seen.append(ch["new"].get("version")), "meta")
    _slow_on_thread(monkeypatch, "trainer", 0.3)
    worker = threading.Thread(target=p.recompute, name="trainer")
    worker.start()
    time.sleep(0.05)
    p.params = {**p.params, "L1.shift.0": 2.5}  # the browser's newest value, while the worker computes
    worker.join()
    assert float(p.flow.layers[0].shift[0].detach()) == 2.5 and p.params["L1.shift.0"] == 2.5
    # the picture is the flow with shift 2.5: what the last published arrays show, against a fresh computation
    fresh = FlowPlayer(p.flow, n_points=300, grid=9).scene
    np.testing.assert_allclose(decode_array(p.arrays["points"]), fresh.points, rtol=1e-6, atol=1e-6)
    assert seen == sorted(seen) and len(seen) == 2


def test_a_slider_change_during_another_threads_recompute_waits_and_is_applied(monkeypatch):
    import threading
    import time

    p = FlowPlayer(lecture_flow(), n_points=300, grid=9)
    import flowviz.widgets.player as P

    real_sync = P.FlowPlayer._sync_controls

    def slow_sync(self):  # the worker inside _sync_controls (the widget's own echo held off) for a while
        if threading.current_thread().name == "trainer":
            time.sleep(0.3)
        return real_sync(self)

    monkeypatch.setattr(P.FlowPlayer, "_sync_controls", slow_sync)
    worker = threading.Thread(target=p.recompute, name="trainer")
    worker.start()
    time.sleep(0.1)
    p.params = {**p.params, "L1.shift.0": 2.5}
    worker.join()
    assert float(p.flow.layers[0].shift[0].detach()) == 2.5
    assert p.params["L1.shift.0"] == 2.5 and {c["id"]: c["value"] for c in p.controls}["L1.shift.0"] == 2.5


def test_a_failed_recompute_keeps_the_notes_and_the_sliders_show_the_flow(monkeypatch):
    import flowviz.widgets.player as P

    p = FlowPlayer(lecture_flow(), n_points=300, grid=9)

    def failing(*a, **k):
        raise RuntimeError("CUDA out of memory (simulated)")

    monkeypatch.setattr(P, "player_scene", failing)
    p.params = {**p.params, "L4.constrained": True, "L4.beta": -4.0, "L1.scale.0": "abc"}
    assert p.status == "error"
    message = p.meta["message"]
    assert "out of memory" in message and "beta held" in message and "L1.scale.0" in message, message
    controls = {c["id"]: c["value"] for c in p.controls}
    beta = float(p.flow.layers[3].beta.detach())
    assert beta == pytest.approx(-0.499, abs=1e-3)  # held above -alpha: keep invertible is on
    assert controls["L4.beta"] == pytest.approx(beta) and p.params["L4.beta"] == pytest.approx(beta)
    assert p.params["L1.scale.0"] == 1.5  # the refused text is not left in the trait
    monkeypatch.undo()
    p.recompute()
    assert p.status == "ok"


def test_speed_flow_and_selection_refuse_or_follow_what_they_cannot_hold():
    import traitlets

    p = FlowPlayer(lecture_flow(), n_points=300, grid=9)
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(traitlets.TraitError, match="speed must be a positive number"):
            p.speed = bad
    assert p.speed == 1.0
    p.speed = 2.0
    with pytest.raises(AttributeError, match="new FlowPlayer"):
        p.flow = lecture_flow()
    p.selection = [10, 20, 250, 299]
    p.params = {**p.params, "n_points": 200}
    assert p.scene.N == 200 and p.selection == [10, 20]  # indices beyond the points are dropped
