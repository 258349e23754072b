"""scene.player_scene against independent computations: flow.trace, the inverse-based log_prob,
torch.func Jacobians; plus toggles, folds and non-finite handling."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch

from flowviz import flows
from flowviz.scene import mesh_grid, player_scene


def perturbed(flow: flows.Flow, std: float = 0.1, seed: int = 0) -> flows.Flow:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in flow.parameters():
            p.add_(std * torch.randn(p.shape, generator=g))
    return flow


def lecture_flow() -> flows.Flow:
    return flows.Flow([flows.Affine(2, scale=[1.5, -0.6], shift=[0.5, 0.0]),
                       flows.Linear(2, matrix=[[1.0, 1.0], [2.0, 0.0]]),
                       flows.Planar(2, u=[1.0, 0.5], w=[1.2, 0.3], b=0.2),
                       flows.Radial(2, centre=[0.5, -0.5], alpha=0.5, beta=1.0),
                       perturbed(flows.AffineCoupling(2, hidden=16), 0.2),
                       perturbed(flows.MaskedAutoregressive(2, hidden=16, transform="spline"), 0.2)])


def test_points_are_the_flow_trace() -> None:
    flow = lecture_flow()
    z = torch.randn(300, 2)
    scene = player_scene(flow, z, gx=9)
    np.testing.assert_allclose(scene.points, flow.trace(z).states.numpy(), rtol=1e-6, atol=1e-6)
    assert scene.K == 6 and scene.N == 300 and scene.mesh.shape == (7, 81, 2)


def test_points_go_through_each_layer_in_the_flows_row_chunks() -> None:
    """Sample points pass each layer in Flow._chunks pieces (a whole 10k x hidden temporary per layer costs
    page faults on a CPU); the result equals one-piece evaluation, non-finite counts included."""
    flow = lecture_flow()
    z = torch.randn(300, 2)
    z[::17] *= 40.0  # far out: some points overflow the spline tails' neighbourhood, none are lost
    whole = player_scene(flow, z, gx=9)
    flow.chunk_size = 64
    sizes: list[int] = []
    handle = flow.layers[0].register_forward_hook(lambda m, args, out: sizes.append(args[0].shape[0]))
    try:
        chunked = player_scene(flow, z, gx=9)
    finally:
        handle.remove()
    assert sorted(sizes) == [60] * 5 + [81], sizes  # 300 points in 5 chunks of 60, then the 9 x 9 mesh
    for name, arr in whole.arrays().items():
        np.testing.assert_allclose(chunked.arrays()[name], arr, rtol=1e-6, atol=1e-6, err_msg=name)
    assert [li.nonfinite for li in chunked.layers] == [li.nonfinite for li in whole.layers]


def test_mesh_log_density_equals_the_inverse_based_log_prob_after_every_layer() -> None:
    """The forward-only density (log pi(z) - cumulative log-dets) against Flow.log_prob of each prefix flow."""
    flow = lecture_flow().double()
    scene = player_scene(flow, torch.randn(10, 2, dtype=torch.float64), gx=21)
    for k in range(1, len(flow.layers) + 1):
        prefix = flows.Flow(list(flow.layers[:k]))
        x = torch.as_tensor(scene.mesh[k], dtype=torch.float64)
        ok = scene.finite[k] > 0
        expected = prefix.log_prob(x[torch.as_tensor(ok)]).detach().numpy()
        np.testing.assert_allclose(scene.logp[k][ok], expected, rtol=1e-4, atol=1e-4)
    # state 0 is the base density on the base mesh
    base = flow.base.log_prob(torch.as_tensor(scene.mesh[0]).double()).detach().numpy()
    np.testing.assert_allclose(scene.logp[0], base, rtol=1e-6)


def test_jacobians_and_log_dets_match_torch_func() -> None:
    flow = lecture_flow().double()
    scene = player_scene(flow, torch.randn(5, 2, dtype=torch.float64), gx=11)
    for k, layer in enumerate(flow.layers):
        x = torch.as_tensor(scene.mesh[k], dtype=torch.float64)
        J = flows.jacobian(layer, x).detach().numpy()
        np.testing.assert_allclose(scene.jac[k], J, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(scene.logdet[k], np.log(np.abs(np.linalg.det(J))), rtol=1e-4, atol=1e-4)


def test_disabled_layer_is_the_identity() -> None:
    flow = lecture_flow()
    z = torch.randn(50, 2)
    scene = player_scene(flow, z, gx=5, enabled=[True, False, True, True, True, True])
    np.testing.assert_array_equal(scene.points[2], scene.points[1])
    np.testing.assert_array_equal(scene.logdet[1], 0.0)
    np.testing.assert_array_equal(scene.jac[1], np.broadcast_to(np.eye(2, dtype=np.float32), scene.jac[1].shape))
    assert scene.layers[1].caption.startswith("(off)") and not scene.meta()["layers"][1]["enabled"]
    with pytest.raises(ValueError, match="enabled has 2 entries"):
        player_scene(flow, z, enabled=[True, False])


def test_planar_past_its_constraint_is_not_invertible_and_shows_a_fold() -> None:
    flow = flows.Flow([flows.Planar(2, u=[-3.0, 0.0], w=[1.0, 0.0], constrained=False)])
    scene = player_scene(flow, torch.randn(100, 2), gx=33)
    assert scene.status == "not invertible" and "w . u = -3" in scene.message
    assert scene.meta()["layers"][0]["invertible"] is False
    dets = np.linalg.det(scene.jac[0])
    assert (dets < 0).any() and (dets > 0).any()  # the fold is in the arrays
    # folded vertices: exactly where det J < 0 (the border keeps det > 0), i.e. the band |z1| < acosh(sqrt(3))
    np.testing.assert_array_equal(scene.folded[1] > 0, dets < 0)
    z1 = scene.mesh[0][:, 0]
    band = np.abs(z1) < np.arccosh(np.sqrt(3.0))
    assert (scene.folded[1][~band] == 0).all() and scene.folded[1][band].mean() > 0.9
    assert np.isfinite(scene.mesh).all() and np.isfinite(scene.logp).all()


def test_orientation_reversing_invertible_layers_fold_nothing() -> None:
    flow = flows.Flow([flows.Reverse(2), flows.Affine(2, scale=[-1.0, 2.0]),
                       flows.Linear(2, matrix=[[1.0, 1.0], [2.0, 0.0]]), flows.maf(2, layers=2).layers[0]])
    scene = player_scene(flow, torch.randn(100, 2), gx=17)
    assert scene.status == "ok" and scene.folded.sum() == 0


class UndeclaredFoldRadial(flows.Radial):
    """A radial map that claims to be invertible whatever its parameters (as a user-written layer without an
    invertibility check would): only the det-sign test over the mesh can find its fold."""

    def is_invertible(self) -> bool:
        return True

    def invertibility_message(self) -> str:
        return ""


def test_a_fold_without_a_declared_constraint_is_detected_from_det_sign() -> None:
    # beta < -alpha, built unconstrained: det J changes sign near the centre, yet the layer reports itself invertible
    layer = UndeclaredFoldRadial(2, alpha=0.2, beta=-1.5, constrained=False)
    assert layer.is_invertible() and layer.invertibility_message() == ""
    flow = flows.Flow([flows.Affine(2), layer])
    scene = player_scene(flow, torch.randn(100, 2), gx=41)
    assert scene.status == "not invertible"
    assert scene.message == "det J changes sign or vanishes: the map folds the plane over itself"
    info = scene.meta()["layers"]
    assert info[0]["invertible"] is True and info[1]["invertible"] is False
    dets = np.linalg.det(scene.jac[1])
    assert (dets < 0).any() and (dets > 0).any() and scene.folded[2].any()


def test_a_declared_fold_reports_the_layers_own_message() -> None:
    # the same parameters on the library's Radial: its own invertibility check names beta and alpha
    flow = flows.Flow([flows.Radial(2, alpha=0.2, beta=-1.5, constrained=False)])
    scene = player_scene(flow, torch.randn(100, 2), gx=41)
    assert scene.status == "not invertible"
    assert scene.message == "beta = -1.5 < -alpha = -0.2: the radial map folds"
    assert scene.meta()["layers"][0]["invertible"] is False


def test_non_finite_values_are_counted_per_layer_and_never_sent() -> None:
    flow = flows.Flow([flows.Affine(2, scale=0.3, shift=0.5), flows.Logit(2), flows.Affine(2)])
    z = torch.randn(400, 2)
    scene = player_scene(flow, z, gx=9)
    expected = int((~((0.3 * z + 0.5 > 0) & (0.3 * z + 0.5 < 1)).all(-1)).sum())
    assert expected > 0
    assert scene.status == "non-finite" and scene.layers[1].nonfinite == expected
    assert f"{expected} of 400 points" in scene.message
    for name, arr in scene.arrays().items():
        assert np.isfinite(arr).all(), name
    assert (scene.points_finite[2] == 0).sum() == expected
    json.dumps(scene.meta(), allow_nan=False)


def test_huge_but_finite_values_are_finite_and_a_real_overflow_is_not() -> None:
    """The scene tells "every entry finite" from one sum per tensor; a sum of finite values that overflows
    float32 must fall back to the entry-wise test (all finite, status ok), and a real overflow must not pass."""
    z = torch.rand(500, 2) + 1.0  # same sign: the sum of the scaled points overflows
    huge = player_scene(flows.Flow([flows.Affine(2, scale=2e36), flows.Affine(2, scale=1.0)]), z, gx=9)
    with np.errstate(over="ignore"):
        assert float(huge.points[1].sum(dtype=np.float32)) == float("inf")  # the sum does overflow
    assert huge.status == "ok" and huge.points_finite.all() and huge.finite.all()
    np.testing.assert_allclose(huge.points[2], 2e36 * z.numpy(), rtol=1e-6)
    over = player_scene(flows.Flow([flows.Affine(2, scale=2e36), flows.Affine(2, scale=1e3)]), z, gx=9)
    assert over.status == "non-finite" and over.layers[1].nonfinite == 500
    assert not over.points_finite[2].any() and over.points_finite[1].all()


def test_the_wire_leaves_out_all_finite_flags_and_the_undrawn_point_densities() -> None:
    z = torch.randn(200, 2)
    ok = player_scene(lecture_flow(), z, gx=9)
    assert ok.finite.all() and ok.points_finite.all()
    assert set(ok.arrays()) == {"points", "mesh", "logp", "jac", "logdet", "folded"}
    np.testing.assert_array_equal(ok.arrays()["jac"], ok.jac.reshape(ok.K, -1, 4))
    bad = player_scene(flows.Flow([flows.Affine(2, scale=0.3, shift=0.5), flows.Logit(2)]), z, gx=9)
    assert not bad.points_finite.all() and not bad.finite.all()
    sent = bad.arrays()
    assert {"points_finite", "finite"} <= set(sent) and "points_logp" not in sent
    np.testing.assert_array_equal(sent["points_finite"], bad.points_finite)
    np.testing.assert_array_equal(sent["finite"], bad.finite)


def test_meta_is_strict_json_and_bounds_contain_the_points() -> None:
    flow = perturbed(flows.realnvp(2, layers=3, hidden=16))
    scene = player_scene(flow, torch.randn(2000, 2), gx=17)
    meta = json.loads(json.dumps(scene.meta(3), allow_nan=False))
    assert meta["version"] == 3 and meta["K"] == 3 and meta["gx"] == meta["gy"] == 17
    lo, hi = meta["logp_range"]
    assert lo < hi
    for k, (x0, x1, y0, y1) in enumerate(meta["bounds"]):
        pts = scene.points[k]
        inside = (pts[:, 0] > x0) & (pts[:, 0] < x1) & (pts[:, 1] > y0) & (pts[:, 1] < y1)
        assert inside.mean() > 0.99


def test_uniform_base_mesh_covers_the_box() -> None:
    flow = flows.Flow([flows.Affine(2, scale=2.0, shift=1.0)], base=flows.Uniform(2))
    scene = player_scene(flow, flow.sample_base(100), gx=5)
    assert scene.mesh[0].min() == 0.0 and scene.mesh[0].max() == 1.0
    np.testing.assert_allclose(np.exp(scene.logp[1]), 0.25, rtol=1e-6)  # p_X = 1/4 on [1, 3]^2


def test_mesh_grid_layout_is_row_major() -> None:
    m = mesh_grid((0.0, 1.0, 10.0, 12.0), 3, 2)
    assert m.tolist() == [[0.0, 10.0], [0.5, 10.0], [1.0, 10.0], [0.0, 12.0], [0.5, 12.0], [1.0, 12.0]]
    with pytest.raises(ValueError, match="2 x 2"):
        mesh_grid((0, 1, 0, 1), 1, 5)


def test_wrong_inputs_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="2D flows; this flow has dim 3"):
        player_scene(flows.realnvp(3, layers=1), torch.randn(4, 3))
    with pytest.raises(TypeError, match="Flow"):
        player_scene(flows.Affine(2), torch.randn(4, 2))  # type: ignore[arg-type]
    z = torch.randn(4, 2)
    z[1, 0] = float("nan")
    with pytest.raises(ValueError, match="non-finite"):
        player_scene(flows.realnvp(2, layers=1), z)


@pytest.mark.parametrize("make", [
    lambda: flows.AffineCoupling(2, hidden=16), lambda: flows.AdditiveCoupling(3, hidden=16),
    lambda: flows.SplineCoupling(3, hidden=16, bins=5), lambda: flows.Inverse(flows.AffineCoupling(3, hidden=16)),
])
def test_coupling_jacobians_skip_the_kept_half_and_still_equal_torch_func(make) -> None:  # noqa: ANN001
    """Readout Jacobians take the kept coordinates' rows as unit rows (no derivative pass): they must be
    exactly those coordinates copied, in both directions, and the whole matrix must equal torch.func's."""
    from flowviz.scene.player import forward_with_jacobian

    layer = perturbed(make().double(), 0.3, seed=2)
    kept = layer.passthrough()
    assert kept and len(kept) < layer.dim
    x = 1.5 * torch.randn(64, layer.dim, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    for fn in (layer.forward, layer.inverse):
        torch.testing.assert_close(fn(x)[0][:, kept], x[:, kept], rtol=0, atol=0)
    out, log_det, J = forward_with_jacobian(layer, x)
    torch.testing.assert_close(J, flows.jacobian(layer, x), rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(log_det, torch.linalg.slogdet(J)[1], rtol=1e-9, atol=1e-10)
    assert out.shape == x.shape and not J.requires_grad


def test_passthrough_follows_a_loaded_state_dict() -> None:
    """2D RealNVP layers alternate the kept coordinate; loading one layer's state into the other must move
    the kept row too (the list is cached at construction for speed)."""
    flow = flows.realnvp(2, layers=2, hidden=8)
    first, second = flow.layers[0], flow.layers[1]
    assert first.passthrough() != second.passthrough()
    first.load_state_dict(second.state_dict())
    assert first.passthrough() == second.passthrough() == second.idx_a.tolist()


# -- SceneCache: recompute only from the first layer that changed --------------------------------------------

def assert_same_scene(a, b) -> None:  # noqa: ANN001
    """Every array sent and the metadata equal, bit for bit."""
    assert a.arrays().keys() == b.arrays().keys()
    for name, value in a.arrays().items():
        np.testing.assert_array_equal(value, b.arrays()[name], err_msg=name)
    assert a.meta() == b.meta()


def test_scene_cache_reuses_the_unchanged_layers_and_gives_the_full_result() -> None:
    """A random walk of changes (a slider's in-place write, a toggle, a constraint crossed, a replaced
    parameter, an optimizer step): after each, the cached scene equals a fresh full one exactly, and the cache
    reused exactly the layers before the first one that changed."""
    from flowviz.scene import SceneCache
    from flowviz.widgets.controls import apply_control

    flow = lecture_flow()
    flow.layers.append(flows.SinhArcsinh(2, skew=[0.2, -0.1], tailweight=[0.9, 1.2]))
    K = len(flow.layers)
    z = torch.randn(500, 2, generator=torch.Generator().manual_seed(3))
    cache, enabled = SceneCache(), [True] * K
    assert_same_scene(player_scene(flow, z, gx=13, enabled=enabled, cache=cache), player_scene(flow, z, gx=13))
    assert cache.reused == 0

    def check(first_changed: int) -> None:
        got = player_scene(flow, z, gx=13, enabled=enabled, cache=cache)
        assert cache.reused == first_changed
        assert_same_scene(got, player_scene(flow, z, gx=13, enabled=enabled))

    check(K)  # nothing changed: every layer reused
    steps = [(3, "alpha", (), 0.8), (0, "shift", (1,), -0.4), (6, "skew", (0,), 0.7), (2, "b", (), -0.3),
             (3, "centre", (0,), 1.1), (1, "W", (1, 1), 0.5), (6, "tail", (1,), 0.6)]
    for k, name, index, value in steps:
        apply_control(flow.layers[k], name, index, value)
        check(k)
    enabled[4] = False
    check(4)
    enabled[4] = True
    check(4)
    flow.layers[2].constrained = False  # a plain attribute
    apply_control(flow.layers[2], "u", (0,), -3.0)  # folds: not invertible from layer 3 on
    check(2)
    with torch.no_grad():
        flow.layers[5].made.net[0].bias.add_(0.01)  # a submodule's parameter
    check(5)
    flow.layers[1].weight = torch.nn.Parameter(flow.layers[1].weight.detach().clone() * 1.0)  # same values
    check(1)  # another object: not trusted
    flow.layers[2].constrained = True  # invertible again, so that log_prob can be trained
    opt = torch.optim.SGD(flow.parameters(), lr=1e-3)
    flow.log_prob(torch.randn(64, 2)).mean().neg().backward()
    opt.step()  # training changes every layer with parameters
    check(0)


def test_scene_cache_is_not_used_across_inputs_sizes_or_foreign_layers() -> None:
    from flowviz.scene import SceneCache

    class Shift(flows.Bijection):  # a user's own layer: its output may depend on anything
        def __init__(self) -> None:
            super().__init__()
            self.dim, self.t = 2, 0.5

        def forward(self, z: torch.Tensor):  # noqa: ANN201
            return z + self.t, z.new_zeros(z.shape[0])

        def inverse(self, x: torch.Tensor):  # noqa: ANN201
            return x - self.t, x.new_zeros(x.shape[0])

    shift = Shift()
    flow = flows.Flow([flows.Affine(2, scale=[1.5, 0.5]), shift, flows.Radial(2)])
    z = torch.randn(200, 2)
    cache = SceneCache()
    player_scene(flow, z, gx=9, cache=cache)
    player_scene(flow, z, gx=9, cache=cache)
    assert cache.reused == 1  # the Affine only: never past a foreign layer
    shift.t = 2.0
    assert_same_scene(player_scene(flow, z, gx=9, cache=cache), player_scene(flow, z, gx=9))
    for kwargs in ({"z": torch.randn(200, 2)}, {"z": z, "gx": 11}, {"z": z, "extent": (-2.0, 2.0, -2.0, 2.0)}):
        kw = {"gx": 9, **kwargs}
        assert_same_scene(player_scene(flow, cache=cache, **kw), player_scene(flow, **kw))
        assert cache.reused == 0, kwargs
    with torch.no_grad():
        z.mul_(2.0)  # the base points changed in place
    assert_same_scene(player_scene(flow, z, gx=9, cache=cache), player_scene(flow, z, gx=9))
    assert cache.reused == 0
    small = SceneCache(max_rows=100)  # too many rows to keep: nothing kept, nothing reused
    player_scene(flow, z, gx=9, cache=small)
    player_scene(flow, z, gx=9, cache=small)
    assert small.reused == 0 and small.states is None


def test_auto_grid_is_the_finer_mesh_only_where_the_default_leaves_triangles_unresolved() -> None:
    """player_scene(gx="auto") (FlowPlayer's and flowviz.plot's default): the 65 mesh where it resolves the map,
    else 129; the share of unresolved triangles is stretch_flags' count, checked here by hand for one state."""
    from flowviz import pretrained
    from flowviz.plot._view import as_scene
    from flowviz.scene.mesh import STRETCH, signed_areas, triangles
    from flowviz.scene.player import AUTO_UNRESOLVED, unresolved_share

    z = torch.randn(300, 2, generator=torch.Generator().manual_seed(0))
    lecture = flows.Flow([flows.Affine(2, scale=[1.5, 0.6], shift=[0.5, 0.0]), flows.Radial(2, centre=[0.5, -0.5])])
    assert player_scene(lecture, z, gx="auto").gx == 65
    moons = pretrained.load("moons-realnvp")
    s65 = player_scene(moons, z, gx=65)
    share = unresolved_share(s65)
    # by hand, from the definition: a triangle whose image is > STRETCH x its base area x mean |det J_cum|
    tris = triangles(65, 65)
    base = np.abs(signed_areas(s65.mesh[0], tris))
    by_hand = max(float(np.mean(np.abs(signed_areas(s65.mesh[k], tris))
                                > STRETCH * base * np.exp(s65.logp[0] - s65.logp[k].astype(np.float64))[tris].mean(-1)))
                  for k in range(1, s65.K + 1))
    assert share == pytest.approx(by_hand) and share > AUTO_UNRESOLVED
    auto = player_scene(moons, z, gx="auto")
    assert (auto.gx, auto.gy) == (129, 129)
    np.testing.assert_array_equal(auto.logp, player_scene(moons, z, gx=129).logp)
    assert as_scene(moons, n_points=300).gx == 129 and as_scene(moons, n_points=300, grid=33).gx == 33
    with pytest.raises(ValueError, match="'auto'"):
        player_scene(moons, z, gx="fine")


def test_a_float64_flow_beyond_float32_range_is_zeroed_and_flagged_on_the_wire() -> None:
    """x1 = 1e40 z1 is finite in a float64 flow and inf as float32, the wire's type: such positions are zeroed and
    flagged not finite (as NaN would be), so the browser never reads an inf flagged finite."""
    flow = flows.Flow([flows.Affine(2, scale=[1e20, 1.0]), flows.Affine(2, scale=[1e20, 1.0])]).double()
    z = torch.rand(200, 2, dtype=torch.float64) + 0.5  # |z1| >= 0.5: every point's 1e40 z1 is beyond float32
    scene = player_scene(flow, z, gx=9)
    sent = scene.arrays()
    for name, arr in sent.items():
        assert arr.dtype == np.float32 and np.isfinite(arr).all(), name
    assert scene.points_finite[1].all() and not scene.points_finite[2].any()
    np.testing.assert_allclose(scene.points[1][:, 0], 1e20 * z[:, 0].numpy(), rtol=1e-6)
    assert not scene.points[2].any()
    off = scene.mesh[0][:, 0] != 0  # the z1 = 0 column stays at x1 = 0: representable
    np.testing.assert_array_equal(sent["finite"][2], (~off).astype(np.float32))
    assert not sent["mesh"][2][off].any()
    assert scene.status == "non-finite" and "at layer 2" in scene.message
    json.dumps(scene.meta(), allow_nan=False)


def test_non_finite_parameters_name_their_layer_before_any_invertibility_message() -> None:
    """A NaN parameter (a diverged training) makes the layer's own invertibility test compare NaN
    ("w . u = nan < -1"): the scene says which layer has non-finite parameters first; a layer switched off
    does not count; a NaN in the base's parameters is named too."""
    flow = flows.Flow([flows.Affine(2), flows.Radial(2), flows.Planar(2, u=[1.0, 0.5], w=[1.2, 0.3])])
    with torch.no_grad():
        flow.layers[2].u.fill_(float("nan"))
        flow.layers[0].shift[1] = float("inf")
    z = torch.randn(100, 2)
    scene = player_scene(flow, z, gx=9)
    assert scene.status == "non-finite"
    assert scene.message == "layer 1 (Affine) has non-finite parameters"
    scene = player_scene(flow, z, gx=9, enabled=[False, True, True])
    assert scene.message == "layer 3 (Planar) has non-finite parameters"
    # the captions print the parameters: no "nan"/"inf" text there either
    assert "u = (non-finite, non-finite)" in scene.layers[2].caption and "non-finite" in scene.layers[0].caption
    assert not re.search(r"\b(nan|inf)\b", json.dumps(scene.meta()), re.I)
    assert player_scene(flow, z, gx=9, enabled=[False, True, False]).status == "ok"
    base = flows.Uniform(2, 0.0, 1.0)
    assert player_scene(flows.Flow([flows.Affine(2)], base=base), torch.rand(50, 2), gx=5).status == "ok"
    with torch.no_grad():
        base.high[1] = float("nan")
    broken = player_scene(flows.Flow([flows.Affine(2)], base=base), torch.rand(50, 2), gx=5, extent=(0, 1, 0, 1))
    assert broken.status == "non-finite" and "the base distribution" in broken.message
    assert broken.message.endswith("has non-finite parameters")


def test_scene_cache_sees_a_parameter_data_assignment() -> None:
    """``param.data = t`` keeps the parameter object and its version counter: the fingerprint also holds the storage
    address, so the layers from there on are recomputed (a slider moved later does not show stale earlier layers)."""
    from flowviz.scene import SceneCache

    flow = lecture_flow()
    z = torch.randn(200, 2, generator=torch.Generator().manual_seed(1))
    cache = SceneCache()
    player_scene(flow, z, gx=9, cache=cache)
    flow.layers[0].shift.data = torch.tensor([3.0, 0.0])
    got = player_scene(flow, z, gx=9, cache=cache)
    assert cache.reused == 0
    assert_same_scene(got, player_scene(flow, z, gx=9))


def test_scene_cache_sees_a_write_through_parameter_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """``param.data[i] = v`` bumps neither the parameter's version nor its storage address: the fingerprint's copy
    of the values sees it, so a slider moved afterwards on a later layer does not show the earlier layer stale.
    Above SNAPSHOT_MAX entries no copy is kept (then only recompute() sees such a write)."""
    from flowviz.scene import SceneCache
    from flowviz.scene import player as scene_player
    from flowviz.widgets.controls import apply_control

    flow = lecture_flow()
    z = torch.randn(200, 2, generator=torch.Generator().manual_seed(4))
    cache = SceneCache()
    player_scene(flow, z, gx=9, cache=cache)
    flow.layers[1].weight.data[0, 1] = 0.25  # the Linear's matrix, written around autograd's counter
    apply_control(flow.layers[3], "alpha", (), 0.7)  # then a control on a later layer
    got = player_scene(flow, z, gx=9, cache=cache)
    assert cache.reused == 1
    assert_same_scene(got, player_scene(flow, z, gx=9))
    monkeypatch.setattr(scene_player, "SNAPSHOT_MAX", 0)  # no copies kept: identity, version and address only
    player_scene(flow, z, gx=9, cache=cache)
    kept = [entry[4] for _, fp in cache.prints for entry in fp if isinstance(entry, tuple) and len(entry) == 5]
    assert kept and all(copy is None for copy in kept)


def test_scene_arrays_are_copies_not_views_of_the_cache() -> None:
    """Changing a scene's arrays in place (a user's post-processing) must not change what the cache reuses."""
    from flowviz.scene import SceneCache

    flow = lecture_flow()
    z = torch.randn(200, 2, generator=torch.Generator().manual_seed(2))
    cache = SceneCache()
    scene = player_scene(flow, z, gx=9, cache=cache)
    kept = [t.numpy() for t in (cache.states, cache.log_dets, cache.jac) if t is not None]
    for name, arr in {**scene.arrays(), "jac4": scene.jac}.items():
        assert not any(np.shares_memory(arr, k) for k in kept), name
        arr[...] = 0
    enabled = [True] * (len(flow.layers) - 1) + [False]
    got = player_scene(flow, z, gx=9, enabled=enabled, cache=cache)
    assert cache.reused == len(flow.layers) - 1
    assert_same_scene(got, player_scene(flow, z, gx=9, enabled=enabled))
