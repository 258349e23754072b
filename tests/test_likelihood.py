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
    assert "term1" not in a  # a standard normal base: the browser computes term 1 from z
    np.testing.assert_allclose(-0.5 * (a["z"] ** 2).sum(1) - LOG_2PI + a["logdet"], ref, rtol=1e-4, atol=1e-4)
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
        np.testing.assert_allclose(w.scene.terms_at(float(c))[0], -0.5 * c * c * (z ** 2).sum(1) - LOG_2PI, rtol=1e-5,
                                   atol=1e-5)
        np.testing.assert_allclose(a["mean1"][j], (-0.5 * c * c * (z ** 2).sum(1) - LOG_2PI).mean(), rtol=1e-6)
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
    # and at a grid value it agrees with the grid's mean (no term 1 grid: the browser does not need it)
    j = 37
    assert s.term1.shape == (0, len(s.x)) and "term1" not in s.arrays()
    np.testing.assert_allclose(s.terms_at(float(s.cs[j]))[0].mean(), s.mean1[j], rtol=1e-6)


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


def nulls(v: np.ndarray) -> list:
    """A float array as a JSON list with None for -inf (JSON has no inf; the node test reads null as -Infinity)."""
    out = []
    for x in np.asarray(v, dtype=np.float64).ravel().tolist():
        if x == -math.inf:
            out.append(None)
        else:
            assert math.isfinite(x), x
            out.append(x)
    return out


def bounded_fixture() -> dict:
    """The uniform box of box_flow seen by the browser in two ways: exactly ("uniform": z and the box) and, for a
    subclass the browser does not know ("other"), by interpolating the term 1 grid, which holds -inf where c z
    is outside the box. Expected values: independent float64 (box_term1_f64) and Python's own mirror."""
    x = box_data(60, seed=2)
    out: dict = {"c": [0.9, 0.5123, 0.41, 0.3]}
    for name, base in (("uniform", flows.Uniform), ("other", Box)):
        s = likelihood_scene(box_flow(base=base), x, n_c=41)
        case: dict = {"meta": {k: s.meta()[k] for k in ("dim", "base_family", "c_min", "log_pi_0", "support")},
                      "z": s.z.ravel().tolist(), "logdet": s.logdet.tolist(), "cs": s.cs.tolist(),
                      "term1": nulls(s.term1) if name == "other" else [], "expected": []}
        for c in out["c"]:
            ref = box_term1_f64(s.x, c)
            row = {"c": c, "term1_f64": nulls(ref), "mirror_term1": nulls(s.terms_at(c)[0]),
                   "term2": split_terms(box_flow(base=base), torch.as_tensor(s.x), c)[1].tolist()}
            case["expected"].append(row)
        out[name] = case
    return out


def js_fixture() -> dict:
    """Numbers produced by Python for js/test/likelihood.test.js: the arrays the browser receives (float32
    values, as float64 JSON) and Python's split_terms at off-grid c, for a standard-normal base (exact in
    the browser) and for a Laplace base (term 1 interpolated in log c on a 31-point grid); under "bounded",
    a uniform base's box (see bounded_fixture)."""
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
    out["bounded"] = bounded_fixture()
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
            assert [v is None for v in a] == [v is None for v in b], path
            np.testing.assert_allclose(np.asarray([v for v in a if v is not None], dtype=float),
                                       np.asarray([v for v in b if v is not None], dtype=float), rtol=1e-6, atol=1e-6,
                                       err_msg=path)
        elif isinstance(a, str) or a is None:
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
    np.testing.assert_allclose(-0.5 * (a["z"] ** 2).sum(1) - LOG_2PI + a["logdet"], ref, rtol=1e-4, atol=1e-4)
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


class Box(flows.Uniform):
    """A uniform box the browser does not know (a subclass: base_family "other"): term 1 from the grid."""


def box_flow(low: float = 0.25, high: float = 0.75, base: type = flows.Uniform) -> flows.Flow:
    return flows.Flow([flows.Affine(2, scale=[0.5, 0.25], shift=[0.1, -0.2])], base=base(2, low, high))


def box_data(n: int = 300, seed: int = 0) -> np.ndarray:
    """Data whose inverse z = (x - shift) / scale lies in the box [0.25, 0.75]^2 of box_flow."""
    z = np.random.default_rng(seed).uniform(0.25, 0.75, size=(n, 2))
    return (z * np.array([0.5, 0.25]) + np.array([0.1, -0.2])).astype(np.float32)


def box_term1_f64(x: np.ndarray, c: float, low: float = 0.25, high: float = 0.75) -> np.ndarray:
    """Independent float64: log pi(c z) of U[low, high]^2 at z = (x - shift) / scale, -inf outside the box."""
    z = (x.astype(np.float64) - np.array([0.1, -0.2])) / np.array([0.5, 0.25])
    inside = ((c * z >= low) & (c * z <= high)).all(1)
    return np.where(inside, -2 * math.log(high - low), -math.inf)


def test_uniform_base_outside_its_support_is_minus_inf_not_zero():
    """pi(c z) = 0 outside a uniform base's box: term 1 = -inf there, and every mean over such a point is -inf
    (it counted as 0: U[.25,.75]^2's mean term 1 fell from 1.386 to 0 as c shrank, the truth being -inf)."""
    x = box_data()
    w = LikelihoodSplit(box_flow(), x, n_c=41)
    s = w.scene
    assert s.base_family == "uniform" and w.meta["support"] == {"low": [0.25, 0.25], "high": [0.75, 0.75],
                                                                "log_pi": pytest.approx(2 * math.log(2))}
    for j, c in enumerate(s.cs.astype(np.float64)):
        ref = box_term1_f64(s.x, float(c))
        assert s.mean1[j] == np.float32(ref.mean()) or s.mean1[j] == pytest.approx(ref.mean(), rel=1e-6), (j, c)
        assert s.mean_total[j] == pytest.approx(ref.mean() + s.mean2[j], rel=1e-6) or ref.mean() == -math.inf
    assert s.mean1[-1] == pytest.approx(2 * math.log(2)) and s.mean1[0] == -math.inf == s.mean_total[0]
    assert w.status == "non-finite" and "\u2212inf where c z leaves the support of U[0.25, 0.75]^2" in w.meta["message"]
    # the per-point terms the browser shows (exact: a closed form), the widget's and the flow's, at c off the grid
    for c in (0.9, 0.5123, 0.3):
        t1, t2, exact = s.terms_at(c)
        ref = box_term1_f64(s.x, c)
        assert exact and 0 < np.isinf(ref).sum() < len(ref) or c == 0.3
        np.testing.assert_array_equal(t1, ref)
        np.testing.assert_array_equal(w.terms(c)[0] == -math.inf, np.isinf(ref))
        av = w.averages(c)
        assert av["term1"] == ref.mean() or av["term1"] == pytest.approx(ref.mean())
        assert av["total"] == (-math.inf if np.isinf(ref).any() else pytest.approx(ref.mean() + av["term2"]))
    # a box that never holds 0: U[1, 2]^2 at c = 0.1, every point outside
    g = LikelihoodSplit(flows.Flow([flows.Affine(2)], base=flows.Uniform(2, 1.0, 2.0)),
                        np.random.default_rng(0).uniform(1, 2, size=(50, 2)), n_c=5)
    t1, _, _ = g.scene.terms_at(0.1)
    assert (t1 == -math.inf).all() and g.averages(0.1)["total"] == -math.inf
    assert g.scene.mean1[0] == -math.inf and g.scene.mean_total[0] == -math.inf


def test_other_base_with_a_bounded_support_interpolates_minus_inf():
    """A base the browser does not know (term 1 from the grid): -inf grid values travel as -inf, an interpolation
    with a -inf neighbour of nonzero weight is -inf, and the means are -inf where a point is outside."""
    x = box_data()
    s = likelihood_scene(box_flow(base=Box), x, n_c=41)
    assert s.base_family == "other" and "term1" in s.arrays()
    cs = s.cs.astype(np.float64)
    for j in (0, 10, 25, 40):
        ref = box_term1_f64(s.x, float(np.float32(cs[j])))  # the flow shrinks by the float32 grid value
        np.testing.assert_array_equal(s.term1[j], ref.astype(np.float32))
        assert s.mean1[j] == np.float32(ref.mean()) or s.mean1[j] == pytest.approx(ref.mean(), rel=1e-6)
    lc = np.log(cs)
    for c in (0.5123, 0.9):
        t1, _, exact = s.terms_at(c)
        j = int(np.searchsorted(lc, math.log(c)) - 1)
        wgt = (math.log(c) - lc[j]) / (lc[j + 1] - lc[j])
        r0, r1 = s.term1[j].astype(np.float64), s.term1[j + 1].astype(np.float64)
        ref = np.where(np.isinf(r0) | np.isinf(r1), -math.inf, (1 - wgt) * r0 + wgt * r1)
        assert not exact and np.isinf(ref).any()
        np.testing.assert_allclose(t1, ref, rtol=1e-12)
    np.testing.assert_array_equal(s.terms_at(float(cs[0]) / 2)[0], s.term1[0])  # clamped: weight 0, no NaN
    assert not np.isnan(s.terms_at(1.0)[0]).any()


def test_the_twin_shows_minus_inf_and_rings():
    import matplotlib

    matplotlib.use("Agg")
    from flowviz.plot.likelihood import plot_likelihood_split

    w = LikelihoodSplit(box_flow(), box_data(), n_c=41)
    c = 0.5123
    ref = box_term1_f64(w.scene.x, c)
    axes = plot_likelihood_split(w, c=c)
    assert "mean = \u2212inf (non-finite)" in axes[0].get_title()
    assert f"{int(np.isinf(ref).sum())} of {len(ref)} non-finite (rings)" in axes[0].get_title()
    colored, rings = axes[0].collections[:2]
    assert len(colored.get_offsets()) == int(np.isfinite(ref).sum())
    assert len(rings.get_offsets()) == int(np.isinf(ref).sum())
    np.testing.assert_array_equal(np.asarray(rings.get_offsets()), w.scene.x[np.isinf(ref)])
    assert "non-finite" in axes[2].texts[-1].get_text()


def test_terms_and_averages_are_over_the_points_shown():
    """terms() and averages() use the points the view shows (they ran over the dropped ones: a NaN row raised,
    a sigmoid flow's data outside (0, 1) gave nan), and say how many were dropped."""
    flow = flows.Flow([flows.Affine(2, scale=[1.5, -0.6], shift=[0.5, 0.2])])
    data = Crescent().sample(200, torch.Generator().manual_seed(0))
    data[5] = float("nan")
    v = LikelihoodSplit(flow, data)
    assert v.meta["N"] == 199 and v.scene.dropped == 1
    x = np.delete(data.numpy().astype(np.float64), 5, axis=0)
    z = (x - [0.5, 0.2]) / [1.5, -0.6]
    t1_ref, t2_ref = -0.5 * (z ** 2).sum(1) - LOG_2PI, np.full(len(x), -math.log(1.5 * 0.6))
    t1, t2 = v.terms(1.0)
    np.testing.assert_allclose(t1, t1_ref, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(t2, t2_ref, rtol=1e-6)
    av = v.averages(1.0)
    assert av["points"] == 199 and av["dropped"] == 1
    assert av["total"] == pytest.approx((t1_ref + t2_ref).mean(), rel=1e-6)
    assert av["total"] == pytest.approx(float(v.scene.mean_total[-1]), rel=1e-6)

    sig = flows.Flow([flows.Sigmoid(2)])  # forward: sigmoid; inverse: logit, defined on (0, 1)
    xs = np.random.default_rng(0).uniform(-0.2, 1.0, size=(300, 2))
    u = LikelihoodSplit(sig, xs)
    keep = (xs.astype(np.float32) > 0).all(1) & (xs.astype(np.float32) < 1).all(1)
    x32 = xs.astype(np.float32).astype(np.float64)[keep]
    z = np.log(x32 / (1 - x32))
    ref = (-0.5 * (z ** 2).sum(1) - LOG_2PI - np.log(x32 * (1 - x32)).sum(1)).mean()
    av = u.averages(1.0)
    assert av["points"] == int(keep.sum()) == u.meta["N"] and av["dropped"] == 300 - int(keep.sum()) == 79
    assert av["total"] == pytest.approx(ref, rel=1e-5)
    assert av["total"] == pytest.approx(float(u.scene.mean_total[-1]), rel=1e-5)
    np.testing.assert_array_equal(u.shown_data().float().numpy(), u.scene.x)


def test_the_twin_shows_the_views_status_after_a_failed_recompute():
    """After a recompute that finds the flow not invertible the browser keeps the last picture under a "not
    invertible" banner; the twin draws the same picture with the same words (it drew it with no note)."""
    import matplotlib

    matplotlib.use("Agg")
    from flowviz.plot.likelihood import plot_likelihood_split

    flow = flows.Flow([flows.Affine(2, scale=[1.5, -0.6], shift=[0.5, 0.2]),
                       flows.Linear(2, matrix=[[1.0, 0.4], [-0.3, 1.2]])])
    w = LikelihoodSplit(flow, Crescent().sample(300, torch.Generator().manual_seed(1)))
    assert len(plot_likelihood_split(w)[2].texts) == 0  # ok: no note
    with torch.no_grad():
        flow.layers[1].weight.copy_(torch.tensor([[1.0, 1.0], [1.0, 1.0]]))
    w.recompute()
    assert w.status == "not invertible"
    axes = plot_likelihood_split(w)
    (note,) = [t for t in axes[2].texts if "not invertible" in t.get_text()]
    banner = f"not invertible \u2014 {w.meta['message']}"  # what the browser's banner says
    assert " ".join(note.get_text().split()) == " ".join(banner.split())


def test_no_term1_grid_where_the_browser_computes_term1():
    """term1 (C x N float32) is sent only for a base without a closed form: it was 96% of the payload of a
    standard normal base, which the browser never read."""
    data = torch.randn(20_000, 2, generator=torch.Generator().manual_seed(0))
    flow = flows.Flow([flows.Affine(2, scale=[1.5, -0.6], shift=[0.5, 0.2])])
    for f, family in ((flow, "standard_normal"),
                      (flows.Flow([flows.Affine(2)], base=flows.Uniform(2, -5.0, 5.0)), "uniform")):
        w = LikelihoodSplit(f, data, max_points=20_000)
        arrays = {k: decode_array(v) for k, v in w.get_state()["arrays"].items()}
        assert w.scene.base_family == family and "term1" not in arrays
        assert sum(a.nbytes for k, a in arrays.items() if k != "lut") == 4 * (5 * 20_000 + 4 * 121)
    other = LikelihoodSplit(flows.Flow([flows.Affine(2)], base=Laplace(2)), data[:100], n_c=31)
    assert decode_array(other.get_state()["arrays"]["term1"]).shape == (31, 100)


def test_one_point_or_duplicates_get_a_window_a_unit_wide():
    """bounds (the browser's fitView and the twin's limits): one point or duplicates gave axes 1.6e-7 wide."""
    import matplotlib

    matplotlib.use("Agg")
    from flowviz.plot.likelihood import plot_likelihood_split

    flow = flows.Flow([flows.Affine(2, scale=[1.5, -0.6], shift=[0.5, 0.2])])
    for pts, width in (([[0.3, -0.7]], 1.0), ([[1.0, 2.0]] * 50, 1.0), ([[3e4, -1e4]] * 3, 3e3), ([[0.0, 0.0]], 1.0)):
        w = LikelihoodSplit(flow, np.array(pts))
        x0, x1, y0, y1 = w.meta["bounds"]
        p = np.asarray(pts[0], dtype=np.float64)
        assert x1 - x0 >= width and y1 - y0 >= width, (pts[0], w.meta["bounds"])
        assert x1 - x0 <= 2 * width and y1 - y0 <= 2 * width
        assert abs((x0 + x1) / 2 - p[0]) < 1e-3 * width and abs((y0 + y1) / 2 - p[1]) < 1e-3 * width
        ax = plot_likelihood_split(w)
        assert np.diff(ax[0].get_xlim())[0] >= width and np.diff(ax[0].get_ylim())[0] >= width
    # points on a line: the flat axis spans 1/20 of the other (padded); a cloud keeps its percentile window
    line = np.c_[np.linspace(-2, 2, 101), np.full(101, 0.5)]
    x0, x1, y0, y1 = LikelihoodSplit(flow, line).meta["bounds"]
    assert y1 - y0 == pytest.approx((x1 - x0) / 20, rel=1e-2)
    cloud = Crescent().sample(500, torch.Generator().manual_seed(0)).numpy().astype(np.float32).astype(np.float64)
    lo, hi = np.percentile(cloud, 0.5, axis=0), np.percentile(cloud, 99.5, axis=0)
    pad = 0.08 * (hi - lo)
    ref = [lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1]]
    np.testing.assert_allclose(LikelihoodSplit(flow, cloud).meta["bounds"], ref, rtol=1e-9)


STATE_FIXTURE = JS_FIXTURE.with_name("likelihood_state.json")


def state_fixture() -> dict:
    """A LikelihoodSplit's synced state as the browser receives it (arrays in base64), for the node test that
    renders the view (js/test/likelihood-view.test.js)."""
    return synced_state(LikelihoodSplit(make_flow(), Crescent().sample(60, torch.Generator().manual_seed(5)), n_c=31))


def synced_state(v: LikelihoodSplit) -> dict:
    """v's synced state as the browser receives it (arrays in base64)."""
    from flowviz.widgets.wire import to_base64

    state = v.get_state()
    return {"arrays": to_base64(state["arrays"]), "meta": state["meta"], "controls": state["controls"],
            "c": state["c"]}


UNIFORM_STATE = JS_FIXTURE.with_name("likelihood_uniform_state.json")
CANCEL_STATE = JS_FIXTURE.with_name("likelihood_cancel_state.json")


def uniform_state_fixture() -> dict:
    """box_flow's view at c = 0.6, where some points' c z have left the box [0.25, 0.75]^2 (term 1 = -inf), with
    the independent float64 count and means (js/test/likelihood-view.test.js)."""
    c = 0.6
    v = LikelihoodSplit(box_flow(), box_data(200, seed=3), c=c, n_c=41)
    ref = box_term1_f64(v.scene.x, c)
    assert 0 < np.isinf(ref).sum() < len(ref)
    return {"state": synced_state(v), "expected": {"c": c, "outside": int(np.isinf(ref).sum()), "N": len(ref),
                                                   "term2": float(v.averages(c)["term2"])}}


def cancel_flow() -> flows.Flow:
    return flows.Flow([flows.Affine(2, scale=[0.05, 0.07], shift=[0.3, -0.1]),
                       flows.SinhArcsinh(2, skew=[0.1, -0.1], tailweight=[1.0, 1.1])])


def cancel_state_fixture() -> dict:
    """A view at the c where the float64 mean log p of the shrunk model is 0 (the terms cancel): the readout must
    not show float32 noise digits there. A float32 flow (the reviewer's case) and a float64 one (whose terms the
    wire rounds to float32: the readout's error bound must cover the difference to the float64 values). The
    reference: z from the float64 flow, log|det J_{G^-1}| from autograd's slogdet (independent of the flow's own
    log-det), per point, so the node test can average them at any c."""
    from torch.func import jacrev, vmap

    data = cancel_flow().sample(400, torch.Generator().manual_seed(0)).detach()
    out: dict = {}
    for name, dtype in (("float32", torch.float32), ("float64", torch.float64)):
        v = LikelihoodSplit(cancel_flow().to(dtype), data.to(dtype))
        x = torch.as_tensor(v.scene.x, dtype=torch.float64) if dtype == torch.float32 else v.shown_data().double()
        f64 = cancel_flow().double()
        z = f64.inverse(x)[0].detach().numpy()
        jac = vmap(jacrev(lambda u: f64.inverse(u[None])[0][0]))(x).detach()  # noqa: B023
        ld = torch.linalg.slogdet(jac)[1].numpy()
        r2 = (z * z).sum(1)

        def total(c: float, r2: np.ndarray = r2, ld: np.ndarray = ld) -> float:
            return float((-0.5 * c * c * r2 - LOG_2PI + ld + 2 * math.log(c)).mean())

        lo, hi = 1e-3, 1.0  # total(lo) < 0 < total(hi): bisect in log c
        assert total(lo) < 0 < total(hi)
        for _ in range(200):
            mid = math.sqrt(lo * hi)
            lo, hi = (mid, hi) if total(mid) < 0 else (lo, mid)
        v.c = hi
        out[name] = {"state": synced_state(v), "c": hi, "r2": r2.tolist(), "ld": ld.tolist(), "total": total(hi)}
    return out


def test_js_likelihood_state_fixture_is_current():
    """js/test/fixtures/likelihood_*state.json are what LikelihoodSplit sends now (regenerate: python
    tests/test_likelihood.py)."""
    def same(saved: dict, fresh: dict) -> None:
        assert saved.keys() == fresh.keys() and saved["arrays"].keys() == fresh["arrays"].keys()
        for k in fresh["arrays"]:
            np.testing.assert_allclose(decode_array(saved["arrays"][k]), decode_array(fresh["arrays"][k]),
                                       rtol=1e-5, atol=1e-6, err_msg=k)
        assert saved["meta"]["status"] == fresh["meta"]["status"] and saved["c"] == pytest.approx(fresh["c"])
        assert saved["meta"].get("support") == fresh["meta"].get("support")

    same(json.loads(STATE_FIXTURE.read_text()), json.loads(json.dumps(state_fixture())))
    saved, fresh = json.loads(UNIFORM_STATE.read_text()), json.loads(json.dumps(uniform_state_fixture()))
    same(saved["state"], fresh["state"])
    assert saved["expected"] == pytest.approx(fresh["expected"])
    saved, fresh = json.loads(CANCEL_STATE.read_text()), json.loads(json.dumps(cancel_state_fixture()))
    for k in ("float32", "float64"):
        same(saved[k]["state"], fresh[k]["state"])
        np.testing.assert_allclose(saved[k]["ld"], fresh[k]["ld"], rtol=1e-12)
        assert saved[k]["c"] == pytest.approx(fresh[k]["c"], rel=1e-12)


if __name__ == "__main__":
    JS_FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    JS_FIXTURE.write_text(json.dumps(js_fixture(), separators=(",", ":"), allow_nan=False) + "\n")
    print(f"wrote {JS_FIXTURE}")
    for path, make in ((STATE_FIXTURE, state_fixture), (UNIFORM_STATE, uniform_state_fixture),
                       (CANCEL_STATE, cancel_state_fixture)):
        path.write_text(json.dumps(make(), separators=(",", ":"), allow_nan=False) + "\n")
        print(f"wrote {path}")


def test_c_beyond_any_float_is_a_trait_error_not_an_overflow() -> None:
    """10**400 (what a browser's JSON can carry) set as c from Python: a TraitError naming c, the value kept."""
    import traitlets

    data = np.random.default_rng(0).normal(size=(50, 2))
    view = LikelihoodSplit(flows.Flow([flows.Affine(2, scale=[1.5, 0.5])]), data)
    with pytest.raises(traitlets.TraitError, match="c needs a number a float holds"):
        view.c = 10**400
    assert view.c == 1.0
