"""LikelihoodSplit and flowviz.scene.likelihood: the two terms of log p(x) against independent computation."""

from __future__ import annotations

import json
import math
import pathlib

import numpy as np
import pytest
import torch
import traitlets

from flowviz import flows
from flowviz.data import Crescent
from flowviz.scene.likelihood import c_grid, likelihood_scene, split_terms
from flowviz.widgets.likelihood import LikelihoodSplit
from flowviz.widgets.wire import decode_array

LOG_2PI = math.log(2 * math.pi)
JS_FIXTURE = pathlib.Path(__file__).resolve().parents[1] / "js" / "test" / "fixtures" / "likelihood_split.json"
OFF_GRID_C = (10 ** -2.3456, 0.0123, 0.0456, 0.2, 0.5, 0.777)  # none on the default 121-point grid


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
    with pytest.raises(ValueError, match=r"^c must be > 0, got 0\.0$"):
        split_terms(flow, data, 0.0)
    # the scene's own message (the flow's inverse would say "x must have shape ..."), with the shape it got
    with pytest.raises(ValueError, match=r"^data must have shape \(N, 2\), got \(500, 1\)$"):
        likelihood_scene(flow, data[:, :1])
    with pytest.raises(ValueError, match=r"^c must be in \[0\.001, 1\], got 2\.0$"):
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
    assert ctrl["local"] is True  # the browser computes the terms at any c: it works in a static export too
    text = w.save_html(tmp_path / "lik.html").read_text()
    assert '"c":1.0' in text


def test_matplotlib_twin(setup):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from flowviz.plot.likelihood import plot_likelihood_split

    flow, data = setup
    c = 0.1234  # off the grid: the twin shows the terms at c itself, as the browser does
    w = LikelihoodSplit(flow, data, c=0.1)
    axes = plot_likelihood_split(w, c=c)
    assert len(axes) == 3
    x = torch.as_tensor(w.scene.x, dtype=torch.float64)
    t1, t2 = split_terms(flow.double(), x, c)  # independent: the flow itself at c, not the arrays
    flow.float()
    np.testing.assert_allclose(axes[0].collections[0].get_array(), t1.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(axes[1].collections[0].get_array(), t2.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(axes[2].lines[0].get_ydata(), w.scene.mean1)
    assert axes[2].lines[-1].get_xdata()[0] == pytest.approx(math.log10(c))
    plt.close("all")


class Laplace(flows.StandardNormal):
    """A base that is not the standard normal: log pi(z) = -sum_i |z_i| - d log 2 (the browser must fall
    back to the grid for term 1)."""

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        return -z.abs().sum(-1) - self.dim * math.log(2.0)

    def describe(self) -> str:
        return "Laplace(0, 1)"


def test_standard_normal_base_is_exact_at_any_c(setup):
    flow, data = setup
    s = likelihood_scene(flow, data)
    assert s.base_family == "standard_normal" and s.meta()["base_family"] == "standard_normal"
    assert s.meta()["c_min"] == 1e-3
    log_grid = np.log10(s.cs.astype(np.float64))
    for c in OFF_GRID_C:
        assert np.abs(log_grid - math.log10(c)).min() > 1e-3, c  # really between grid values
        t1, t2, exact = s.terms_at(c)
        r1, r2 = split_terms(flow, data, c)
        assert exact
        np.testing.assert_allclose(t1, r1.double().numpy(), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(t2, r2.numpy(), rtol=1e-6, atol=1e-5)
    # and at a grid value it agrees with the grid itself
    j = 37
    np.testing.assert_allclose(s.terms_at(float(s.cs[j]))[0], s.term1[j], rtol=1e-5, atol=1e-5)


def test_other_base_interpolates_term1_in_log_c(setup):
    _, data = setup
    flow = flows.Flow([flows.Affine(2, scale=[1.5, -0.6], shift=[0.5, 0.2])], base=Laplace(2))
    s = likelihood_scene(flow, data, n_c=31)
    assert s.base_family == "other"
    lc = np.log(s.cs.astype(np.float64))
    for c in OFF_GRID_C:
        t1, t2, exact = s.terms_at(c)
        assert not exact
        # independent: numpy's interpolation of every point's grid values in log c
        ref = np.array([np.interp(math.log(c), lc, s.term1[:, i].astype(np.float64)) for i in range(len(s.x))])
        np.testing.assert_allclose(t1, ref, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(t2, split_terms(flow, data, c)[1].numpy(), rtol=1e-6, atol=1e-5)
        # close to the exact value: term1(u) = -e^u S - 2 log 2 is convex... in u; the error of linear
        # interpolation is at most h^2/8 max|f''| = h^2/8 * c_hi * S on the interval
        exact1 = split_terms(flow, data, c)[0].double().numpy()
        h = float(lc[1] - lc[0])
        bound = h * h / 8 * math.exp(min(math.log(c) + h, 0.0)) * np.abs(s.z.astype(np.float64)).sum(1)
        assert (np.abs(t1 - exact1) <= bound + 1e-5).all()
    c_lo = float(s.cs[0])
    np.testing.assert_allclose(s.terms_at(c_lo / 10)[0], s.term1[0])  # clamped to the grid's end
    with pytest.raises(ValueError, match=r"^c must be a positive number, got 0\.0$"):
        s.terms_at(0.0)


def test_widget_c_is_validated_and_slider_is_fine(setup):
    flow, data = setup
    w = LikelihoodSplit(flow, data)
    (ctrl,) = w.controls
    assert ctrl["step"] == 0.001 and ctrl["min"] == -3.0 and ctrl["max"] == 0.0
    w.c = 0.0456
    assert w.averages()["term1"] == pytest.approx(w.averages(0.0456)["term1"])
    for bad in (0.0, 2.0, 1e-4, float("nan")):
        with pytest.raises(traitlets.TraitError):
            w.c = bad
    odd = LikelihoodSplit(flow, data, c_min=1.5e-3)
    lo = odd.controls[0]["min"]
    assert lo <= math.log10(1.5e-3) < lo + 0.001
    assert round(-lo / 0.001) == pytest.approx(-lo / 0.001, abs=1e-6)  # c = 1 is a step of the slider


def js_fixture() -> dict:
    """Numbers produced by Python for js/test/likelihood.test.js: the arrays the browser receives (float32
    values, as float64 JSON) and Python's split_terms at off-grid c, for a standard-normal base (exact in
    the browser) and for a Laplace base (term 1 interpolated in log c on a 31-point grid)."""
    data = Crescent().sample(40, torch.Generator().manual_seed(3))
    out: dict = {"c": list(OFF_GRID_C)}
    for name, flow, n_c in (("standard_normal", make_flow(), 121),
                            ("other", flows.Flow([flows.Affine(2, scale=[1.5, -0.6], shift=[0.5, 0.2])],
                                                 base=Laplace(2)), 31)):
        s = likelihood_scene(flow, data, n_c=n_c)
        x = torch.as_tensor(s.x)
        grid = name == "other"  # the exact case needs no term 1 grid (the browser does not read it)
        case: dict = {"meta": {k: s.meta()[k] for k in ("dim", "base_family", "c_min", "log_pi_0")},
                      "z": s.z.ravel().tolist(), "logdet": s.logdet.tolist(), "cs": s.cs.tolist(),
                      "term1": s.term1.ravel().tolist() if grid else [], "expected": []}
        for c in OFF_GRID_C:
            t1, t2 = split_terms(flow, x, c)
            row = {"c": c, "term1": t1.double().tolist(), "term2": t2.tolist(), "mean1": float(t1.double().mean()),
                   "mean2": float(t2.mean())}
            if grid:  # Python's own interpolation (LikelihoodScene.terms_at), which the browser must match
                row["mirror_term1"] = s.terms_at(c)[0].tolist()
            case["expected"].append(row)
        out[name] = case
    return out


def test_js_fixture_is_current():
    """js/test/likelihood.test.js checks the browser's maths against numbers Python produced; they must be
    what Python produces now. Regenerate with `python tests/test_likelihood.py`."""
    stored = json.loads(JS_FIXTURE.read_text())
    fresh = json.loads(json.dumps(js_fixture()))

    def close(a, b, path="fixture"):
        if isinstance(a, dict):
            assert a.keys() == b.keys(), path
            for k in a:
                close(a[k], b[k], f"{path}.{k}")
        elif isinstance(a, list) and a and isinstance(a[0], dict):
            assert len(a) == len(b), path
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                close(x, y, f"{path}[{i}]")
        elif isinstance(a, list):
            np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=1e-6, atol=1e-6,
                                       err_msg=path)
        elif isinstance(a, str):
            assert a == b, path
        else:
            assert a == pytest.approx(b, rel=1e-6, abs=1e-6), path

    close(stored, fresh)


def test_data_may_be_a_dataset_by_name_or_instance():
    flow = make_flow()
    v = LikelihoodSplit(flow, "crescent", max_points=300, seed=4)
    expected = Crescent().sample(300, torch.Generator().manual_seed(4)).float()
    torch.testing.assert_close(v.data.float(), expected, rtol=0, atol=0)
    assert v.status == "ok"
    w = LikelihoodSplit(flow, Crescent(), max_points=300, seed=4)
    torch.testing.assert_close(w.data, v.data, rtol=0, atol=0)
    # the terms shown are those of these points: term 1 + term 2 = log p(x) at c = 1
    t1, t2 = split_terms(flow, v.data.to(torch.float32), 1.0)
    torch.testing.assert_close(t1 + t2.float(), flow.log_prob(v.data.to(torch.float32)), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match=r"unknown dataset 'cresent'; valid names: .*crescent"):
        LikelihoodSplit(flow, "cresent")


def test_recompute_after_the_flow_changed(setup):
    """view.recompute() after training shows the trained flow's terms; a flow made singular afterwards shows
    "not invertible" and keeps the last picture; mending it and recomputing shows the flow again."""
    from flowviz import train

    flow, data = setup
    w = LikelihoodSplit(flow, data)
    before = arrays(w)
    train.fit(flow, data, steps=30, batch_size=128, lr=1e-2, progress=False)
    np.testing.assert_array_equal(arrays(w)["logdet"], before["logdet"])  # nothing moves until asked
    w.recompute()
    a = arrays(w)
    ref = flow.log_prob(data).detach().double().numpy()
    assert np.abs(a["logdet"] - before["logdet"]).max() > 1e-2  # training changed the flow
    np.testing.assert_allclose(a["term1"][-1] + a["logdet"], ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(a["mean_total"][-1], ref.mean(), rtol=1e-5)
    assert w.status == "ok"

    linear = flow.layers[2]
    kept = linear.weight.detach().clone()
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([[1.0, 1.0], [1.0, 1.0]]))
    w.recompute()
    assert w.status == "not invertible" and "det" in w.meta["message"], w.meta
    for name, value in arrays(w).items():  # the last picture stays
        np.testing.assert_array_equal(value, a[name], err_msg=name)
    with torch.no_grad():
        linear.weight.copy_(kept)
    w.recompute()
    assert w.status == "ok"
    np.testing.assert_allclose(arrays(w)["logdet"], a["logdet"], rtol=1e-6)


def test_log_pi_0_outside_the_base_support_is_null():
    """A uniform base on [1, 2]^2 has log pi(0) = -inf: JSON has no inf (the page's JSON.parse would fail), so it
    crosses as null (the browser skips the dashed bound and reads "non-finite")."""
    f = flows.Flow([flows.Affine(2)], base=flows.Uniform(2, 1.0, 2.0))
    w = LikelihoodSplit(f, np.random.default_rng(0).uniform(1, 2, size=(50, 2)), n_c=5)
    assert w.scene.log_pi_0 == -math.inf and w.meta["log_pi_0"] is None
    json.dumps(w.meta, allow_nan=False)
    assert LikelihoodSplit(flows.Flow([flows.Affine(2)]), torch.randn(20, 2), n_c=5).meta["log_pi_0"] == pytest.approx(
        -math.log(2 * math.pi))


STATE_FIXTURE = JS_FIXTURE.with_name("likelihood_state.json")


def state_fixture() -> dict:
    """A LikelihoodSplit's synced state as the browser receives it (arrays in base64), for the node test that
    renders the view (js/test/likelihood-view.test.js)."""
    from flowviz.widgets.wire import to_base64

    v = LikelihoodSplit(make_flow(), Crescent().sample(60, torch.Generator().manual_seed(5)), n_c=31)
    state = v.get_state()
    arrays = to_base64(state["arrays"])
    return {"arrays": arrays, "meta": state["meta"], "controls": state["controls"], "c": state["c"]}


def test_js_likelihood_state_fixture_is_current():
    """js/test/fixtures/likelihood_state.json is what LikelihoodSplit sends now (regenerate: python
    tests/test_likelihood.py)."""
    saved, fresh = json.loads(STATE_FIXTURE.read_text()), json.loads(json.dumps(state_fixture()))
    assert saved.keys() == fresh.keys() and saved["arrays"].keys() == fresh["arrays"].keys()
    for k in fresh["arrays"]:
        np.testing.assert_allclose(decode_array(saved["arrays"][k]), decode_array(fresh["arrays"][k]),
                                   rtol=1e-5, atol=1e-6, err_msg=k)
    assert saved["meta"]["status"] == fresh["meta"]["status"] and saved["c"] == fresh["c"]


if __name__ == "__main__":
    JS_FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    JS_FIXTURE.write_text(json.dumps(js_fixture(), separators=(",", ":")) + "\n")
    print(f"wrote {JS_FIXTURE}")
    STATE_FIXTURE.write_text(json.dumps(state_fixture(), separators=(",", ":")) + "\n")
    print(f"wrote {STATE_FIXTURE}")
