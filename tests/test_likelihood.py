"""LikelihoodSplit and flowviz.scene.likelihood: the two terms of log p(x) against independent computation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from flowviz import flows
from flowviz.data import Crescent
from flowviz.scene.likelihood import c_grid, likelihood_scene, split_terms
from flowviz.widgets.likelihood import LikelihoodSplit
from flowviz.widgets.wire import decode_array

LOG_2PI = math.log(2 * math.pi)


def make_flow() -> flows.Flow:
    return flows.Flow([flows.Affine(2, scale=[1.5, -0.6], shift=[0.5, 0.2]),
                       flows.SinhArcsinh(2, skew=[0.3, -0.2], tailweight=[0.8, 1.3]),
                       flows.Linear(2, matrix=[[1.0, 0.4], [-0.3, 1.2]])])


@pytest.fixture
def setup():
    data = Crescent().sample(500, torch.Generator().manual_seed(1))
    return make_flow(), data


def arrays(w):
    return {k: decode_array(v).astype(np.float64) for k, v in w.get_state()["arrays"].items()}


def test_terms_sum_to_log_prob_at_c_one(setup):
    flow, data = setup
    w = LikelihoodSplit(flow, data)
    t1, t2 = w.terms(1.0)
    ref = flow.log_prob(data).detach().double().numpy()
    np.testing.assert_allclose(t1 + t2, ref, rtol=1e-5, atol=1e-5)
    # independent: term 1 by hand from the inverse, term 2 by autograd slogdet of the inverse map
    z = flow.inverse(data)[0].detach()
    np.testing.assert_allclose(t1, (-0.5 * (z ** 2).sum(1) - LOG_2PI).numpy(), rtol=1e-5, atol=1e-5)
    ref2 = flows.log_abs_det_jacobian(flow, data, "inverse").detach().numpy()
    np.testing.assert_allclose(t2, ref2, rtol=1e-4, atol=1e-4)
    a = arrays(w)
    assert a["cs"][-1] == 1.0
    np.testing.assert_allclose(a["mean_total"][-1], ref.mean(), rtol=1e-5)
    np.testing.assert_allclose(a["term1"][-1] + a["logdet"], ref, rtol=1e-4, atol=1e-4)
    assert w.status == "ok"


def test_terms_vs_c_follow_the_formulas(setup):
    flow, data = setup
    w = LikelihoodSplit(flow, data)
    a = arrays(w)
    z = flow.inverse(data)[0].detach().double().numpy()
    base_t2 = a["logdet"]
    for j in (0, 30, 60, 119):
        c = a["cs"][j]
        np.testing.assert_allclose(a["mean2"][j], base_t2.mean() + 2 * math.log(c), rtol=1e-5, atol=1e-4)
        np.testing.assert_allclose(a["term1"][j], -0.5 * c * c * (z ** 2).sum(1) - LOG_2PI, rtol=1e-5, atol=1e-5)
        t1, t2 = w.terms(float(c))
        np.testing.assert_array_equal(t2, w.terms(1.0)[1] + 2 * math.log(float(c)))  # exactly d log c
    np.testing.assert_allclose(a["cs"], c_grid(), rtol=1e-6)


def test_collapse_small_c_is_finite_and_punished(setup):
    flow, data = setup
    w = LikelihoodSplit(flow, data, c=1e-3)
    a = arrays(w)
    for k, v in a.items():
        assert np.isfinite(v).all(), k
    av = w.averages(1e-3)
    assert av["term1"] == pytest.approx(-LOG_2PI, abs=1e-4)      # term 1 -> log pi(0)
    assert w.meta["log_pi_0"] == pytest.approx(-LOG_2PI)
    assert av["term1"] <= w.meta["log_pi_0"]
    assert av["term2"] < w.averages(1.0)["term2"] - 13.0           # 2 log 1e-3 = -13.8
    assert av["total"] < w.averages(1.0)["total"]
    assert a["mean1"][0] == pytest.approx(-LOG_2PI, abs=1e-4) and a["mean2"][0] < -10
    # monotone: term 1 rises and term 2 falls as c shrinks
    assert (np.diff(a["mean1"]) <= 1e-6).all() and (np.diff(a["mean2"]) > 0).all()


def test_split_terms_refuses_bad_c_and_scene_checks(setup):
    flow, data = setup
    with pytest.raises(ValueError):
        split_terms(flow, data, 0.0)
    with pytest.raises(ValueError):
        likelihood_scene(flow, data[:, :1])
    with pytest.raises(ValueError):
        LikelihoodSplit(flow, data, c=2.0)
    bad = data.clone()
    bad[3] = float("nan")
    s = likelihood_scene(flow, bad)
    assert s.dropped == 1 and s.status == "non-finite" and len(s.x) == len(data) - 1


def test_not_invertible_flow_is_reported():
    flow = flows.Flow([flows.Planar(2, u=[1.0, 0.0], w=[-3.0, 0.0], b=0.0, constrained=False)])
    w = LikelihoodSplit(flow, torch.randn(50, 2))
    assert w.status == "not invertible" and "folds" in w.meta["message"]


def test_subset_controls_and_export(setup, tmp_path):
    flow, data = setup
    w = LikelihoodSplit(flow, data, max_points=100)
    assert w.scene.x.shape == (100, 2)
    (ctrl,) = w.controls
    assert ctrl["id"] == "log10_c" and ctrl["min"] == pytest.approx(-3) and ctrl["max"] == 0
    text = w.save_html(tmp_path / "lik.html").read_text()
    assert '"c":1.0' in text


def test_matplotlib_twin(setup):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from flowviz.plot.likelihood import plot_likelihood_split

    flow, data = setup
    w = LikelihoodSplit(flow, data, c=0.1)
    axes = plot_likelihood_split(w)
    assert len(axes) == 3
    j = w.scene.index(0.1)
    np.testing.assert_allclose(axes[0].collections[0].get_array(), w.scene.term1[j])
    np.testing.assert_allclose(axes[2].lines[0].get_ydata(), w.scene.mean1)
    plt.close("all")
