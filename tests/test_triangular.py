"""TriangularJacobian: exact zero pattern, log|det| three ways, timing results (no timed asserts)."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest
import torch

from flowviz import flows
from flowviz.flows import jacobian
from flowviz.scene.triangular import fit_loglog, make_layer, time_logdet, triangular_scene
from flowviz.widgets.triangular import TriangularJacobian
from flowviz.widgets.wire import decode_array


@pytest.mark.parametrize("kind,n", [("maf", 12), ("maf", 48), ("coupling", 12), ("coupling", 33)])
def test_zero_pattern_and_logdet_three_ways(kind, n):
    layer = make_layer(kind, n, seed=1)
    s = triangular_scene(layer, seed=1)
    # independent reference: torch.func Jacobian of the forward pass (float64)
    z = torch.randn(1, n, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
    s = triangular_scene(layer, z=z)
    J = jacobian(layer, z)[0].detach()
    o = torch.as_tensor(s.order)
    np.testing.assert_allclose(s.jac, J[o][:, o].numpy(), rtol=1e-5, atol=1e-6)
    assert np.all(np.triu(s.jac, 1) == 0), "strictly upper part must be exactly zero in the layer's order"
    assert np.count_nonzero(np.tril(s.jac, -1)) > 0, "the test needs a non-diagonal (non-identity) layer"
    if kind == "maf":
        assert list(s.order) == list(range(n))
    ref = float(torch.linalg.slogdet(J)[1])
    assert abs(ref) > 1e-3, "log-det 0 would hide sign bugs"
    for v in (s.logdet_slogdet, s.logdet_diag, s.logdet_layer):
        assert v == pytest.approx(ref, abs=1e-5)


def test_maf_inverse_route_matches_forward_route():
    layer = make_layer("maf", 20, seed=2)
    a = triangular_scene(layer, seed=3, method="forward")
    b = triangular_scene(layer, seed=3, method="inverse")
    np.testing.assert_allclose(a.jac, b.jac, atol=1e-6)
    assert np.all(np.triu(b.jac, 1) == 0)


def test_coupling_natural_order_is_not_triangular_but_layer_order_is():
    s = triangular_scene(make_layer("coupling", 10, seed=0), seed=0)
    assert np.count_nonzero(np.triu(s.jac_natural, 1)) > 0
    assert np.all(np.triu(s.jac, 1) == 0)


def test_timing_keys_and_positive_medians():
    r = time_logdet((16, 32, 64), repeats=3, budget_s=2.0, diag_sizes=(1000, 10000, 100000))
    for key in ("n", "lu_median_s", "diag_median_s", "lu_slope", "diag_slope", "device", "note"):
        assert key in r
    assert r["n"] == [16, 32, 64]
    assert all(t > 0 for t in r["lu_median_s"] + r["diag_median_s"] + r["diag_only"]["median_s"])
    assert r["diag_only"]["n"] == [1000, 10000, 100000]
    assert fit_loglog([10, 100, 1000], [1e-6, 1e-3, 1.0]) == pytest.approx(3.0)
    with pytest.raises(ValueError, match=r"^sizes must lie in 2\.\.4096, got \[8192\]$"):
        time_logdet((8192,))


def test_widget_state_and_controls():
    w = TriangularJacobian(kind="maf", n=8)
    jac = decode_array(w.arrays["jac"])
    assert jac.shape == (8, 8) and np.all(np.triu(jac, 1) == 0)
    assert w.meta["pattern"] == "lower"
    assert w.meta["logdet_diag"] == pytest.approx(w.meta["logdet_slogdet"], abs=1e-5)
    v = w.meta["version"]
    w.params = {"n": 24}
    assert decode_array(w.arrays["jac"]).shape == (24, 24) and w.meta["version"] > v
    w.params = {"n": 100000}
    assert w.meta["status"] == "error" and w.n == 24
    assert w.params == {"n": 24}  # the slider goes back to the n shown
    w.params = {"n": 2.5}
    assert w.meta["status"] == "error" and w.params == {"n": 24}
    w.params = {"n": 30}  # the next valid n: the error goes
    assert w.meta["status"] == "ok" and decode_array(w.arrays["jac"]).shape == (30, 30)
    w.kind = "coupling"
    assert w.meta["kind"] == "coupling" and w.meta["pattern"] == "lower"
    w._timing_opts.update(sizes=(8, 16), repeats=2, diag_sizes=(1000, 10000))
    w.measure_request += 1
    assert w.timing["n"] == [8, 16] and all(t > 0 for t in w.timing["lu_median_s"])
    assert w.measuring is False


def test_plot_twin():
    import matplotlib
    matplotlib.use("Agg")
    from flowviz.plot.triangular import plot_triangular
    w = TriangularJacobian(kind="coupling", n=10)
    (ax,) = plot_triangular(w)
    # the colour bar spans -max|J| .. +max|J|, the heatmap's own norm
    (image,) = ax.get_images()
    m = float(np.abs(w.scene.jac).max())
    assert image.colorbar is not None
    assert image.colorbar.norm.vmin == pytest.approx(-m) and image.colorbar.norm.vmax == pytest.approx(m)
    axes = plot_triangular(w.scene, timing=time_logdet((8, 16, 32), repeats=2))
    assert len(axes) == 2


def test_a_single_diagonal_size_says_so_instead_of_a_nan_slope():
    t = time_logdet((8, 16), repeats=2, diag_sizes=(1000,))
    assert "nan" not in t["note"].lower() and "too few sizes" in t["note"], t["note"]


# ---- log|J_ii| in the hover: computed in float64 by Python, not from the float32 J_ii the browser holds

TRI_FIXTURE = pathlib.Path(__file__).resolve().parents[1] / "js" / "test" / "fixtures" / "triangular_hover.json"


def _jacrev_logdiag(layer: flows.Bijection, z: torch.Tensor, order: list[int]) -> np.ndarray:
    """log|J_ii| of the forward pass at z (1, n), by torch.func.jacrev in float64, rows and columns in ``order``."""
    from torch.func import jacrev

    J = jacrev(lambda v: layer(v[None])[0][0])(z[0].to(torch.float64))
    o = torch.as_tensor(order)
    return torch.diagonal(J[o][:, o]).detach().abs().log().numpy()


def _widget_reference(w: TriangularJacobian, seed: int = 0) -> np.ndarray:
    """The reference log|J_ii| at the widget's point: a fresh layer of the same kind, n and seed, at
    z ~ N(0, I) drawn with seed + 7 (triangular_scene's default point; the test checks it is the same point)."""
    layer = make_layer(w.kind, w.n, seed)
    z = torch.randn(1, w.n, generator=torch.Generator().manual_seed(seed + 7), dtype=torch.float64)
    o = torch.as_tensor(w.meta["order"])
    J = jacobian(layer, z)[0].detach()[o][:, o]
    np.testing.assert_allclose(decode_array(w.arrays["jac"]), J.numpy(), rtol=1e-6, atol=1e-7)  # the same point
    return _jacrev_logdiag(layer, z, w.meta["order"])


def _within_float32_rounding(sent: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Where ``sent`` is ``ref`` (float64) rounded once to float32: within half a float32 spacing of it."""
    half = np.spacing(np.abs(ref).astype(np.float32)).astype(np.float64) / 2
    return np.abs(sent.astype(np.float64) - ref) <= half * (1 + 1e-6)


@pytest.mark.parametrize("kind,n", [("maf", 16), ("maf", 64), ("coupling", 33)])
def test_sent_logdiag_is_the_float64_log_of_the_diagonal_rounded_once(kind, n):
    """The hover's log|J_ii| (arrays.logdiag) is log|diag(jacrev)| in float64 rounded once to float32, not the
    log of the float32 J_ii: near |J_ii| = 1 that log loses digits (TriangularJacobian(kind="maf", n=64),
    cell 30: 0.00012159 shown, 0.00012153 true)."""
    w = TriangularJacobian(kind=kind, n=n)
    ref = _widget_reference(w)
    sent = decode_array(w.arrays["logdiag"])
    assert sent.shape == (n,) and sent.dtype == np.float32
    ok = _within_float32_rounding(sent, ref)
    assert ok.all(), [(i + 1, float(sent[i]), float(ref[i])) for i in np.flatnonzero(~ok)][:5]
    assert np.all(decode_array(w.arrays["logdiag_finite"]) == 1)
    # the log of the float32 J_ii would not pass (what the browser used to show)
    from_f32 = np.log(np.abs(np.diagonal(decode_array(w.arrays["jac"])).astype(np.float64)))
    assert not _within_float32_rounding(from_f32.astype(np.float32), ref).all()
    assert w.meta["logdet_diag"] == pytest.approx(float(ref.sum()), rel=1e-12, abs=1e-12)


def _edge_layer() -> flows.Bijection:
    """x = s z with s = (1 + 1e-6, 0, 1e-50, -1e50): J_ii = 1 + 1e-6 (float32 holds 1.00000095, whose log is
    off by 5%), 0 (log = -inf), below and beyond float32's range (logs -115.13 and +115.13, finite)."""
    layer = flows.Affine(4).double()
    with torch.no_grad():
        layer.scale.copy_(torch.tensor([1 + 1e-6, 0.0, 1e-50, -1e50], dtype=torch.float64))
    return layer


def test_logdiag_beyond_float32_and_not_finite_is_flagged_not_zeroed_into_a_value():
    layer = _edge_layer()
    s = triangular_scene(layer)
    a = s.arrays()
    ref = layer.scale.detach().abs().log().numpy()  # the layer's own log|s_i|, float64
    assert np.array_equal(a["logdiag_finite"], np.array([1, 0, 1, 1], dtype=np.float32))
    np.testing.assert_array_equal(a["logdiag"], np.array([ref[0], 0.0, ref[2], ref[3]], dtype=np.float32))
    assert a["logdiag"][0] == np.float32(9.999995e-7)
    assert list(a["diag"][1:]) == [0, 0, -np.inf]  # what float32 J_ii alone would say
    m = s.meta()  # the log-determinants are -inf: null in JSON, as every view sends a non-finite number
    assert m["logdet_slogdet"] is None and m["logdet_diag"] is None and m["logdet_layer"] is None
    json.dumps(m, allow_nan=False)


def tri_fixture() -> dict:
    """What the node test mounts (js/test/triangular.test.js): the default widget's state (kind="maf", n=16,
    whose cell 14 shows log|J_ii| = -0.0082137 when taken from the float32 J_ii, -0.0082136 true) and the
    edge layer's, each with the float64 log|J_ii| from jacrev ("truth", null where not finite)."""
    from flowviz.scene.finite import json_safe
    from flowviz.widgets.wire import encode_arrays, to_base64

    w = TriangularJacobian()
    out = {"maf16": {"arrays": to_base64(dict(w.arrays)), "meta": w.meta, "controls": w.controls,
                     "params": w.params, "kind": w.kind, "truth": _widget_reference(w).tolist()}}
    layer = _edge_layer()
    s = triangular_scene(layer)
    z = torch.randn(1, 4, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    truth = _jacrev_logdiag(layer, z, s.order.tolist())
    out["edge"] = {"arrays": to_base64(encode_arrays(s.arrays())), "meta": s.meta(version=1), "controls": [],
                   "params": {}, "kind": "maf", "truth": json_safe(truth.tolist())}
    return out


def test_js_triangular_fixture_is_current():
    """js/test/fixtures/triangular_hover.json is what Python sends now (regenerate: python tests/test_triangular.py)."""
    saved = json.loads(TRI_FIXTURE.read_text())
    fresh = json.loads(json.dumps(tri_fixture(), allow_nan=False))
    assert saved.keys() == fresh.keys()
    for name in fresh:
        old, new = saved[name], fresh[name]
        assert {k: v for k, v in old["meta"].items() if k != "version"} == pytest.approx(
            {k: v for k, v in new["meta"].items() if k != "version"}, rel=1e-12), name
        assert (old["controls"], old["params"], old["kind"]) == (new["controls"], new["params"], new["kind"]), name
        assert old["truth"] == pytest.approx(new["truth"], rel=1e-12, abs=1e-300), name
        assert old["arrays"].keys() == new["arrays"].keys(), name
        for key in new["arrays"]:
            np.testing.assert_allclose(decode_array(old["arrays"][key]), decode_array(new["arrays"][key]),
                                       rtol=1e-6, atol=1e-12, err_msg=f"{name}.{key}")
    # the fixture still holds the case the node test is about: a cell whose float32 log shows other digits
    maf = saved["maf16"]
    from_f32 = np.log(np.abs(np.diagonal(decode_array(maf["arrays"]["jac"])).astype(np.float64)))
    assert format(from_f32[13], ".4e") != format(maf["truth"][13], ".4e")


if __name__ == "__main__":
    TRI_FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    TRI_FIXTURE.write_text(json.dumps(tri_fixture(), separators=(",", ":"), allow_nan=False) + "\n")
    print(f"wrote {TRI_FIXTURE}")
