"""TriangularJacobian: exact zero pattern, log|det| three ways, timing results (no timed asserts)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

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
