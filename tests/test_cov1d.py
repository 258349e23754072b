"""ChangeOfVariables1D and flowviz.scene.cov1d: numbers against independent computation."""

from __future__ import annotations

import json
import math
import pathlib

import numpy as np
import pytest
import traitlets
from scipy import integrate, stats

from flowviz.scene.cov1d import cov1d_scene, strip_readout
from flowviz.widgets.cov1d import ChangeOfVariables1D
from flowviz.widgets.wire import decode_array


def state_arrays(w: ChangeOfVariables1D) -> dict[str, np.ndarray]:
    """Decode the widget's synced binary state (what the browser receives)."""
    return {k: decode_array(v).astype(np.float64) for k, v in w.get_state()["arrays"].items()}


def state_arrays_from_buffers(w: ChangeOfVariables1D) -> dict[str, np.ndarray]:
    """The arrays as they cross the wire: state JSON with buffers lifted out, then put back."""
    from ipywidgets.widgets.widget import _remove_buffers

    state, paths, buffers = _remove_buffers(w.get_state())
    out = {}
    for path, buf in zip(paths, buffers, strict=True):
        if path[0] == "arrays":
            obj = dict(state["arrays"][path[1]])
            obj["data"] = bytes(buf)
            out[path[1]] = decode_array(obj).astype(np.float64)
    return out


def test_lecture_example_pi_half_and_p_two():
    w = ChangeOfVariables1D()
    a = state_arrays_from_buffers(w)
    assert w.status == "ok" and w.meta["base"] == "uniform" and w.meta["map"] == "affine"
    assert np.interp(0.5, a["z"], a["pi"]) == pytest.approx(1.0, abs=1e-6)   # pi_Z(1/2) = 1
    assert np.interp(2.0, a["x"], a["px"]) == pytest.approx(0.5, abs=1e-6)  # p_X(2) = 1/2
    r = w.readout
    assert (r.z, r.x, r.pi, r.dzdx, r.px) == pytest.approx((0.5, 2.0, 1.0, 0.5, 0.5), abs=1e-12)


@pytest.mark.parametrize("base", ["uniform", "normal"])
@pytest.mark.parametrize("a_", [2.0, 0.5, -1.5])
def test_affine_density_is_analytic(base, a_):
    b = 0.7
    s = cov1d_scene(base, "affine", {"a": a_, "b": b})
    x = s.x.astype(np.float64)
    ref = stats.uniform(loc=min(b, a_ + b), scale=abs(a_)) if base == "uniform" else stats.norm(loc=b, scale=abs(a_))
    inner = (x > x.min() + 1e-3) & (x < x.max() - 1e-3)
    np.testing.assert_allclose(s.px[inner], ref.pdf(x[inner]), rtol=1e-5, atol=1e-7)


def test_negative_a_gives_the_same_density():
    up = cov1d_scene("normal", "affine", {"a": 2.0, "b": 1.0})
    down = cov1d_scene("normal", "affine", {"a": -2.0, "b": 1.0})
    grid = np.linspace(-5, 7, 301)
    p_up = np.interp(grid, up.x, up.px)
    p_down = np.interp(grid, down.x[::-1], down.px[::-1])
    np.testing.assert_allclose(p_up, p_down, atol=1e-6)
    assert down.status == "ok" and (down.dxdz < 0).all()
    r = strip_readout(down, 0.3, 0.1)
    assert r.px == pytest.approx(stats.norm.pdf(0.3) / 2) and r.dzdx == pytest.approx(0.5)


@pytest.mark.parametrize("base,map_", [("uniform", "affine"), ("normal", "affine"), ("normal", "sigmoid"),
                                       ("normal", "sinh_arcsinh"), ("uniform", "sigmoid"), ("uniform", "logit")])
def test_histogram_of_pushed_samples_agrees_with_formula(base, map_):
    s = cov1d_scene(base, map_, n_samples=40000, bins=30)
    edges = s.hx_edges.astype(np.float64)
    # expected mass per bin from the formula: integrate p over each bin along the dense curve
    order = np.argsort(s.x)
    xs, ps = s.x[order].astype(np.float64), s.px[order].astype(np.float64)
    fine = np.linspace(edges[0], edges[-1], 30 * 200 + 1)
    cdf = integrate.cumulative_trapezoid(np.interp(fine, xs, ps), fine, initial=0)
    expected = np.diff(np.interp(edges, fine, cdf)) * s.n_samples
    observed = s.hx.astype(np.float64) * np.diff(edges) * s.n_samples
    keep = expected > 20
    chi2 = float(((observed[keep] - expected[keep]) ** 2 / expected[keep]).sum())
    dof = int(keep.sum())
    assert dof >= 10
    assert chi2 < dof + 5 * math.sqrt(2 * dof), (chi2, dof)


def test_histogram_test_can_fail():
    """The chi-square check above rejects a wrong density (p off by a factor on half the range)."""
    s = cov1d_scene("normal", "affine", {"a": 1.0, "b": 0.0}, n_samples=40000, bins=30)
    edges = s.hx_edges.astype(np.float64)
    expected = np.diff(stats.norm(scale=1.3).cdf(edges)) * s.n_samples  # wrong scale
    observed = s.hx * np.diff(edges) * s.n_samples
    keep = expected > 20
    chi2 = float(((observed[keep] - expected[keep]) ** 2 / expected[keep]).sum())
    assert chi2 > keep.sum() + 5 * math.sqrt(2 * keep.sum())


@pytest.mark.parametrize("base,map_,params", [("normal", "sigmoid", {"a": 1.5, "b": -0.3}),
                                              ("normal", "sinh_arcsinh", {}), ("uniform", "logit", {})])
def test_nonlinear_density_matches_autograd_derivative(base, map_, params):
    import torch

    s = cov1d_scene(base, map_, params, grid=401)
    z = torch.tensor(s.z, dtype=torch.float64, requires_grad=True)
    x = s.flow(z[:, None])[0][:, 0]
    (dx,) = torch.autograd.grad(x.sum(), z)
    pi = stats.norm.pdf(s.z.astype(np.float64)) if base == "normal" else np.ones(len(s.z))
    inner = slice(1, -1)  # the uniform grid's ends sit 1e-6 inside (0, 1): float32 z rounds there
    np.testing.assert_allclose(s.dxdz[inner], dx.numpy()[inner], rtol=1e-5)
    np.testing.assert_allclose(s.px[inner], (pi / np.abs(dx.numpy()))[inner], rtol=1e-5)


@pytest.mark.parametrize("base,map_,params", [("normal", "sigmoid", {"a": 1.5, "b": -0.3}),
                                              ("uniform", "sigmoid", {"a": -2.0, "b": 0.7}),
                                              ("uniform", "logit", {"a": 1.7, "b": -0.4}),
                                              ("uniform", "logit", {"a": -0.6, "b": 0.2})])
def test_sigmoid_and_logit_maps_are_the_documented_formulas(base, map_, params):
    """x = sigmoid(a z + b) and x = a logit(z) + b written out here (scipy's expit / logit), not read off the
    scene's own flow: a map built in the wrong order (a sigmoid(z) + b) must fail. dx/dz and p(x) = pi(z) / |dx/dz|
    from the same hand formulas."""
    from scipy.special import expit, logit

    s = cov1d_scene(base, map_, params, grid=401)
    z = s.z.astype(np.float64)
    a, b = params["a"], params["b"]
    if map_ == "sigmoid":
        x, dx = expit(a * z + b), a * expit(a * z + b) * (1 - expit(a * z + b))
    else:
        x, dx = a * logit(z) + b, a / (z * (1 - z))
    pi = stats.norm.pdf(z) if base == "normal" else np.ones_like(z)
    inner = slice(1, -1)  # the uniform grid's ends sit 1e-6 inside (0, 1)
    np.testing.assert_allclose(s.x[inner], x[inner], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(s.dxdz[inner], dx[inner], rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(s.px[inner], (pi / np.abs(dx))[inner], rtol=1e-5)


def test_a_zero_is_not_invertible_and_finite():
    w = ChangeOfVariables1D(a=0.0)
    assert w.status == "not invertible" and "a = 0" in w.meta["message"]
    for name, arr in state_arrays(w).items():
        assert np.isfinite(arr).all(), name
    assert (state_arrays(w)["valid"] == 0).all()
    r = w.readout
    assert not r.ok and r.dzdx == math.inf
    w.set_params(a=1.0)
    assert w.status == "ok"


@pytest.mark.parametrize("base,map_,z0,dz", [("uniform", "affine", 0.2, 0.3), ("normal", "sigmoid", -0.4, 0.5),
                                             ("normal", "sinh_arcsinh", 0.8, 0.3), ("uniform", "logit", 0.1, 0.2)])
def test_strip_areas_are_equal(base, map_, z0, dz):
    s = cov1d_scene(base, map_)
    pi = (lambda z: 1.0) if base == "uniform" else stats.norm.pdf
    area_z = integrate.quad(pi, z0, z0 + dz)[0]
    # integral of the scene's p(x) over the image, in x, from its own float32 curve
    x_lo, x_hi = sorted(_image(s, z0, dz))
    order = np.argsort(s.x)
    xs, ps = s.x[order].astype(np.float64), s.px[order].astype(np.float64)
    fine = np.linspace(x_lo, x_hi, 20001)
    area_x = float(np.trapezoid(np.interp(fine, xs, ps), fine))
    assert area_x == pytest.approx(area_z, rel=2e-3)
    r = strip_readout(s, z0, dz)
    assert r.area_z == pytest.approx(area_z, rel=1e-6) and r.area_x == pytest.approx(area_z, rel=1e-5)


def _image(s, z0, dz):
    import torch

    with torch.no_grad():
        return s.flow(torch.tensor([[z0], [z0 + dz]], dtype=torch.float64))[0][:, 0].tolist()


def test_sliders_recompute_and_bad_values_are_reported():
    w = ChangeOfVariables1D("normal", "sinh_arcsinh")
    v0 = w.meta["version"]
    assert {c["id"] for c in w.controls} == {"base", "map", "skew", "tail", "a", "b", "dz"}
    w.params = {**w.params, "skew": -1.0}
    assert w.meta["version"] == v0 + 1 and w.values["skew"] == -1.0
    w.params = {**w.params, "tail": -1.0}
    assert "tail" in w.meta["message"] and w.values["tail"] > 0
    with pytest.raises(ValueError):
        ChangeOfVariables1D("normal", "logit")
    with pytest.raises(ValueError):
        ChangeOfVariables1D(map="affine", skew=1.0)


def test_static_export(tmp_path):
    path = ChangeOfVariables1D(strip_z=0.25, strip_dz=0.2).save_html(tmp_path / "cov.html")
    text = path.read_text()
    assert "flowviz-esm" in text and len(text) > 10_000
    assert '"strip_z":0.25' in text and '"strip_dz":0.2' in text


def test_matplotlib_twin_draws_the_same_arrays():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from flowviz.plot.cov1d import plot_change_of_variables

    w = ChangeOfVariables1D()
    az, axx = plot_change_of_variables(w)
    line = az.lines[0]
    np.testing.assert_array_equal(line.get_ydata()[1:-1], w.scene.pi)
    assert "p(x′ = 2) = 0.5" in axx.get_title() and "|dz/dx| = 0.5" in axx.get_title()
    assert "π(z′ = 0.5) = 1" in az.get_title()
    plt.close("all")
    w.set_params(a=0.0)
    az, axx = plot_change_of_variables(w)
    assert any("not invertible" in t.get_text() for t in axx.texts)
    assert "not invertible" in axx.get_title()
    plt.close("all")


# -- the base and map drop-downs (kind "choice" controls) ------------------------------------------------
def _choices(w: ChangeOfVariables1D) -> dict[str, dict]:
    return {c["id"]: c for c in w.controls if c.get("kind") == "choice"}


def _sinh_arcsinh(z, skew, tail, a, b):
    """x = a sinh((asinh z + skew)/tail) + b and dx/dz, by hand (independent of flowviz.flows)."""
    u = (np.arcsinh(z) + skew) / tail
    return a * np.sinh(u) + b, a * np.cosh(u) / (tail * np.sqrt(1 + z * z))


def test_base_and_map_controls_json():
    from flowviz.scene.cov1d import BASES, MAPS

    w = ChangeOfVariables1D("normal", "sinh_arcsinh")
    ch = _choices(w)
    assert [c["id"] for c in w.controls[:2]] == ["base", "map"]
    assert ch["base"]["value"] == "normal" and ch["map"]["value"] == "sinh_arcsinh"
    assert [o["value"] for o in ch["base"]["options"]] == list(BASES)
    assert [o["value"] for o in ch["map"]["options"]] == list(MAPS)
    assert all(o["label"] for c in ch.values() for o in c["options"])
    disabled = {(c["id"], o["value"]) for c in ch.values() for o in c["options"] if o.get("disabled")}
    assert disabled == {("map", "logit")}  # logit needs the uniform base: shown, not pickable
    logit = next(o for o in ch["map"]["options"] if o["value"] == "logit")
    assert "uniform" in logit["title"] or "U[0, 1]" in logit["label"]
    assert {c["id"] for c in w.controls if "kind" not in c} == {"skew", "tail", "a", "b", "dz"}  # sliders
    w.base = "uniform"
    assert not any(o.get("disabled") for c in _choices(w).values() for o in c["options"])
    w.map = "logit"
    ch = _choices(w)
    disabled = {(c["id"], o["value"]) for c in ch.values() for o in c["options"] if o.get("disabled")}
    assert disabled == {("base", "normal")}
    json.dumps(w.controls)  # plain JSON for the wire


def test_choice_control_checks_its_input():
    from flowviz.widgets.controls import Control, Option

    with pytest.raises(ValueError, match="at least one option"):
        Control("k", 0, "k", kind="choice")
    with pytest.raises(ValueError, match="kind"):
        Control("k", 0, "k", kind="dial")
    with pytest.raises(ValueError, match="only a choice"):
        Control("k", 0, "k", options=(Option("a", "A"),))
    with pytest.raises(ValueError, match="repeated"):
        Control("k", 0, "k", kind="choice", options=(Option("a", "A"), Option("a", "B")))
    c = Control("k", 0, "k", kind="choice", options=(Option("a", "A"), Option("b", "B", disabled=True, title="why")))
    with pytest.raises(ValueError, match="not an option"):
        c.as_json("z")
    assert c.as_json("a")["options"] == [{"value": "a", "label": "A"},
                                         {"value": "b", "label": "B", "disabled": True, "title": "why"}]
    # sliders and toggles: the keys FlowPlayer's front end has always read, nothing more
    assert set(Control("s", 1, "s").as_json(0.5)) == {"id", "layer", "label", "value", "min", "max", "step"}
    assert Control("t", 1, "on", kind="toggle").as_json(True) == {"id": "t", "layer": 1, "label": "on",
                                                                  "value": True, "kind": "toggle"}


def test_changing_map_and_base_through_the_traits_recomputes():
    from scipy import stats

    w = ChangeOfVariables1D()
    v0 = w.meta["version"]
    w.set_state({"map": "sinh_arcsinh"})  # what a message from the browser's drop-down does
    assert w.meta["version"] > v0 and w.meta["map"] == "sinh_arcsinh" and w.status == "ok"
    assert w.values == {"skew": 0.5, "tail": 0.8, "a": 1.0, "b": 0.0}  # the new map's defaults ...
    sliders = {c["id"]: c["value"] for c in w.controls if "kind" not in c}
    assert sliders == {**w.values, "dz": w.strip_dz}  # ... and the sliders follow
    assert _choices(w)["map"]["value"] == "sinh_arcsinh"
    r = w.readout
    x, dxdz = _sinh_arcsinh(0.5, 0.5, 0.8, 1.0, 0.0)
    assert (r.x, r.dxdz, r.pi, r.px) == pytest.approx((x, dxdz, 1.0, 1.0 / dxdz), rel=1e-6)  # float32 params
    a = state_arrays(w)
    xs, _ = _sinh_arcsinh(a["z"], 0.5, 0.8, 1.0, 0.0)
    np.testing.assert_allclose(a["x"], xs, rtol=1e-5, atol=1e-6)

    w.set_state({"base": "normal"})
    assert w.meta["base"] == "normal" and w.values["skew"] == 0.5 and w.status == "ok"
    r = w.readout
    assert r.pi == pytest.approx(stats.norm.pdf(0.5)) and r.px == pytest.approx(stats.norm.pdf(0.5) / dxdz)
    assert _choices(w)["base"]["value"] == "normal"


def test_logit_on_the_normal_base_is_never_shown_blank():
    w = ChangeOfVariables1D("normal", "sigmoid")
    w.map = "logit"  # not offered by the browser (disabled option); from Python: the base is switched
    assert (w.base, w.map, w.status) == ("uniform", "logit", "ok")
    assert "logit" in w.meta["message"] and "base was switched" in w.meta["message"]
    r = w.readout
    z = w.strip_z
    assert r.ok and r.x == pytest.approx(math.log(z / (1 - z))) and r.dzdx == pytest.approx(z * (1 - z))
    w.base = "normal"  # now the map is switched
    assert (w.base, w.map, w.status) == ("normal", "affine", "ok") and "map was switched" in w.meta["message"]
    assert w.values == {"a": 2.0, "b": 1.0}
    for arr in state_arrays(w).values():
        assert np.isfinite(arr).all()
    w.map = "nonsense"
    assert w.status == "error" and "map must be one of" in w.meta["message"]
    assert state_arrays(w)["x"].any()  # the last picture stays
    assert w.map == "affine"  # the trait holds the setting shown, so the next change builds on it
    w.base = "uniform"  # (raised a ValueError out of the observer while map held "nonsense")
    assert (w.base, w.map, w.status) == ("uniform", "affine", "ok")
    w.base = "nowhere"
    assert w.status == "error" and "base must be one of" in w.meta["message"] and w.base == "uniform"


def test_strip_follows_a_new_base():
    w = ChangeOfVariables1D("normal", "sinh_arcsinh", strip_z=-0.7, strip_dz=0.3)
    assert w.strip_z == -0.7
    w.base = "uniform"  # [-0.7, -0.4] is outside U[0, 1]: moved onto the grid as the browser does
    z = state_arrays(w)["z"]
    assert w.strip_z == float(z[0]) and w.readout.ok and w.readout.pi == 1.0
    w.strip_z = 5.0
    assert w.strip_z == float(z[-1]) - w.strip_dz
    with pytest.raises(traitlets.TraitError):
        w.strip_dz = 0.0


def test_only_the_strip_width_is_browser_local():
    """A static export disables every control without "local" (js/src/controls.js); the strip width is the
    browser's own and must keep working there, the map's parameters and the drop-downs need the kernel."""
    from flowviz.widgets.controls import Control

    view = ChangeOfVariables1D()
    local = {c["id"] for c in view.controls if c.get("local")}
    assert local == {"dz"}
    assert {c["id"] for c in view.controls} >= {"base", "map", "a", "b", "dz"}
    assert Control("x", 0, "x", local=True).as_json(1.0)["local"] is True
    assert "local" not in Control("x", 0, "x").as_json(1.0)  # sliders are written as before


def test_values_beyond_float32_are_reported_by_name_not_raised():
    """The map's layers are float32 before they are cast to float64: a = 1e39 or an integer no float holds (10**400,
    which a front end's JSON can carry) is refused by name, like any bad value, instead of an OverflowError out of
    the params observer or an error banner from the layer's construction."""
    w = ChangeOfVariables1D(n_samples=1000)
    for value in (10**400, 1e39, -1e300):
        w.params = {**w.params, "a": value}
        assert w.status == "ok" and w.values["a"] == 2.0
        assert "a: a needs a number within +-3.403e+38" in w.meta["message"], w.meta["message"]
        assert w.params["a"] == 2.0
    with pytest.raises(ValueError, match="b needs a number within"):
        ChangeOfVariables1D(b=1e300)


def test_values_beyond_float32_on_the_wire_are_zeroed_and_flagged():
    """x = sinh((asinh z + skew) / 0.01) reaches 1e59: finite in float64, inf as float32. Such grid points are
    zeroed and flagged valid = 0 (counted in the message), never sent as inf flagged valid."""
    s = cov1d_scene("uniform", "sinh_arcsinh", {"tail": 0.01}, n_samples=1000)
    for name, arr in s.arrays().items():
        assert np.isfinite(arr).all(), name
    big = np.abs(np.sinh((np.arcsinh(s.z.astype(np.float64)) + 0.5) / 0.01)) > np.finfo(np.float32).max
    assert 0 < big.sum() < len(s.z)
    assert not s.valid[big].any() and not s.x[big].any()
    assert s.status == "non-finite" and f"{int((s.valid == 0).sum())} of 4001" in s.message
    json.dumps(s.meta(), allow_nan=False)


def test_a_wider_strip_is_moved_back_onto_the_grid_as_the_browser_moves_it():
    """strip_dz set from Python: a strip that no longer fits where it starts moves back (js clampStrip), so that
    both sides hold the same strip (Python kept 0.85 with dz 0.3 past the grid's end at 1)."""
    w = ChangeOfVariables1D(strip_z=0.85, strip_dz=0.1)
    assert w.strip_z == pytest.approx(0.85)
    w.strip_dz = 0.3
    z = state_arrays(w)["z"].astype(np.float64)
    assert w.strip_z == pytest.approx(z[-1] - 0.3) and w.strip_z + w.strip_dz <= z[-1] + 1e-12
    assert w.readout.ok and w.readout.area_z == pytest.approx(0.3, rel=1e-6)


# ---- independent references: the maps, their inverses and the pushed densities written out by hand (numpy /
# scipy, not flowviz.flows), integrals by scipy's quad in float64

def _pi(base: str, z):
    """pi(z): 1 on [0, 1] for U[0, 1]; the standard normal density."""
    z = np.asarray(z, dtype=np.float64)
    return ((z >= 0) & (z <= 1)).astype(np.float64) if base == "uniform" else stats.norm.pdf(z)


def _hand_map(map_: str, p: dict):
    """(G, G', p_X given pi) for ``map_`` with parameters ``p``, by hand. p_X(x) = pi(G^-1(x)) |dG^-1/dx| is
    written through the inverse map (evaluated at x), not as pi(z) / |G'(z)|."""
    from scipy.special import expit, logit

    a, b = p["a"], p["b"]
    if map_ == "affine":
        return (lambda z: a * z + b, lambda z: a + 0 * z,
                lambda pi: (lambda x: pi((x - b) / a) / abs(a)))
    if map_ == "sigmoid":
        return (lambda z: expit(a * z + b), lambda z: a * expit(a * z + b) * expit(-(a * z + b)),
                lambda pi: (lambda x: pi((logit(x) - b) / a) / abs(a * x * (1 - x))))
    if map_ == "logit":
        return (lambda z: a * logit(z) + b, lambda z: a / (z * (1 - z)),
                lambda pi: (lambda x: pi(expit((x - b) / a)) * expit((x - b) / a) * expit(-(x - b) / a) / abs(a)))
    skew, tail = p["skew"], p["tail"]

    def p_x(pi):
        def f(x):
            y = (x - b) / a
            v = tail * np.arcsinh(y) - skew
            return pi(np.sinh(v)) * tail * np.cosh(v) / (abs(a) * np.sqrt(1 + y * y))
        return f
    return (lambda z: _sinh_arcsinh(z, skew, tail, a, b)[0], lambda z: _sinh_arcsinh(z, skew, tail, a, b)[1], p_x)


def hand_readout(base: str, map_: str, params: dict, z0: float, dz: float) -> dict[str, float]:
    """The strip readout from the hand formulas: x' = G(z'), dx, pi(z'), G'(z'), |dz/dx|, p(x'), and the two
    areas by quad: blue = int pi over [z', z' + dz] (clipped to the support), green = int p_X over the image
    [x', x' + dx] in x."""
    G, dG, px_of = _hand_map(map_, params)
    pi = lambda z: float(_pi(base, z))  # noqa: E731
    z1 = z0 + dz
    x0, x1 = float(G(z0)), float(G(z1))
    d = float(dG(z0))
    lo, hi = (max(z0, 0.0), min(z1, 1.0)) if base == "uniform" else (z0, z1)
    quad = dict(epsabs=0.0, epsrel=1e-13, limit=200)
    area_z = integrate.quad(pi, lo, hi, **quad)[0]
    area_x = integrate.quad(px_of(pi), min(x0, x1), max(x0, x1), **quad)[0]
    return {"z": z0, "dz": dz, "x": x0, "xEnd": x1, "dx": abs(x1 - x0), "pi": pi(z0), "dxdz": d,
            "dzdx": 1 / abs(d), "px": pi(z0) / abs(d), "areaZ": area_z, "areaX": area_x}


#: states and strips whose readouts the browser must show to the last digit (the reviewer's: the lecture's
#: dz = 0.01 at z' = 0.61875, the logit map's last strips, the normal base at z' = -3.5111, sigmoid tails)
READOUT_CASES = {
    "lecture": ("uniform", "affine", {"a": 2.0, "b": 1.0}, [(0.61875, 0.01), (0.5, 0.1), (0.013, 0.3)]),
    "normal_affine": ("normal", "affine", {"a": 2.0, "b": 1.0}, [(-3.5111, 0.1), (-4.2528, 0.1), (3.7483, 0.01),
                                                                (-4.5 + 4 * 8.9 / 36, 0.1), (-4.5 + 8.9 / 36, 0.1)]),
    "decreasing": ("normal", "affine", {"a": -1.5, "b": 0.7}, [(0.3, 0.2), (-2.1, 0.05)]),
    "normal_sigmoid": ("normal", "sigmoid", {"a": 2.0, "b": 0.0}, [(4.4675, 0.01), (4.3778, 0.1), (4.0, 0.5),
                                                                  (-4.0056, 0.1), (0.44444, 0.1)]),
    "uniform_sigmoid": ("uniform", "sigmoid", {"a": -2.0, "b": 0.7}, [(0.2, 0.3), (0.97, 0.03)]),
    "normal_sas": ("normal", "sinh_arcsinh", {"skew": 0.5, "tail": 0.8, "a": 1.0, "b": 0.0},
                   [(-4.2752, 0.01), (2.4912, 0.5), (1.6806, 0.1), (4.1108, 0.1)]),
    "uniform_logit": ("uniform", "logit", {"a": 1.0, "b": 0.0}, [(0.99, 0.01), (0.9, 0.1), (0.0, 0.5), (0.5, 0.1)]),
    "logit_skewed": ("uniform", "logit", {"a": -0.6, "b": 0.2}, [(0.3, 0.25), (0.9, 0.1)]),
}


def _clamped(s, z0: float, dz: float) -> float:
    """The strip start the browser shows (js clampStrip): [z', z' + dz] kept on the sent grid."""
    lo, hi = float(s.z[0]), float(s.z[-1]) - dz
    return min(max(z0, lo), hi)


def test_strip_readout_areas_match_quad_of_p_in_x():
    """Both areas of Python's exact readout against scipy's quad: the green one integrates the hand-written p_X
    over [x', x' + dx] in x. (Trapezoids in x missed by 6e-4 on the logit map's last strip: 0.10006 for 0.1.)"""
    for name, (base, map_, params, strips) in READOUT_CASES.items():
        s = cov1d_scene(base, map_, params, n_samples=500)
        for z0, dz in strips:
            z0 = _clamped(s, z0, dz)
            ref, r = hand_readout(base, map_, params, z0, dz), strip_readout(s, z0, dz)
            assert r.ok, (name, z0)
            assert r.area_z == pytest.approx(ref["areaZ"], rel=1e-10), (name, z0, "blue")
            assert r.area_x == pytest.approx(ref["areaX"], rel=1e-10), (name, z0, "green")
            assert ref["areaX"] == pytest.approx(ref["areaZ"], rel=1e-10)  # the theorem, by quad alone


def test_strip_readout_green_area_is_nan_where_float64_does_not_resolve_the_image():
    """x = sigmoid(100 z) on N(0, 1): for z' = 0.3, 1 - x ~ 1e-13 and some nodes' x round to 1: p cannot be evaluated
    there to any accuracy, and the green area is NaN (not 0.0263 for 0.0375); near x = 0 it is resolved."""
    s = cov1d_scene("normal", "sigmoid", {"a": 100.0, "b": 0.0}, n_samples=500)
    r = strip_readout(s, 0.3, 0.1)
    assert r.ok and math.isnan(r.area_x) and r.area_z == pytest.approx(stats.norm.cdf(0.4) - stats.norm.cdf(0.3))
    r = strip_readout(s, -0.4, 0.1)
    ref = hand_readout("normal", "sigmoid", {"a": 100.0, "b": 0.0}, -0.4, 0.1)
    assert r.area_x == pytest.approx(ref["areaX"], rel=1e-9) and r.area_x == pytest.approx(r.area_z, rel=1e-12)


def test_strip_readout_uses_the_parameters_as_given():
    """The flow holds the parameters in float64 as given (b = 0.7, not float32's 0.699999988): Python's readout is
    the hand formula to float64 rounding, as the browser's exact one is."""
    for name, (base, map_, params, strips) in READOUT_CASES.items():
        s = cov1d_scene(base, map_, params, n_samples=500)
        for z0, dz in strips:
            z0 = _clamped(s, z0, dz)
            ref, r = hand_readout(base, map_, params, z0, dz), strip_readout(s, z0, dz)
            for k_py, k_ref in (("x", "x"), ("x_end", "xEnd"), ("pi", "pi"), ("dxdz", "dxdz"), ("px", "px")):
                assert getattr(r, k_py) == pytest.approx(ref[k_ref], rel=1e-12, abs=1e-15), (name, z0, k_py)


@pytest.mark.parametrize("name", list(READOUT_CASES))
def test_sent_rows_belong_together(name):
    """Each sent row (z, x, G'(z), p) is computed at the float32 z that is sent: x is G(z_sent) rounded to float32
    (the logit map's last z is sent as 0.99999899: x there is 13.8053, not logit(1 - 1e-6) = 13.8155)."""
    base, map_, params, _ = READOUT_CASES[name]
    s = cov1d_scene(base, map_, params, n_samples=500)
    z = s.z.astype(np.float64)  # exactly the values the browser decodes
    G, dG, _ = _hand_map(map_, params)
    ok = s.valid > 0
    f32 = np.finfo(np.float32).eps  # 2^-23: float32 rounding is at most half of it, relative
    np.testing.assert_allclose(s.x[ok], G(z)[ok], rtol=f32, atol=1e-30)
    np.testing.assert_allclose(s.dxdz[ok], dG(z)[ok], rtol=f32, atol=1e-30)
    np.testing.assert_allclose(s.px[ok], (_pi(base, z) / np.abs(dG(z)))[ok], rtol=f32, atol=1e-30)
    np.testing.assert_allclose(s.pi, _pi(base, z), rtol=f32, atol=1e-30)


@pytest.mark.parametrize("change", [{"b": 1e15}, {"b": 1e17}, {"a": 1e-15}])
@pytest.mark.parametrize("how", ["set_params", "page"])
def test_an_image_too_narrow_to_draw_is_refused_and_the_last_values_stay(change, how):
    """b = 1e15 on x = 2z + b: every x is the same float32 and numpy cannot bin the range ("Too many bins"). The
    value is refused by name with the reason; values, the params trait and the sliders keep the last valid set,
    and the next slider move works (the refused b used to stay in the values and fail every later move)."""
    w = ChangeOfVariables1D(n_samples=2000)
    v0, x0 = w.meta["version"], state_arrays(w)["x"]
    if how == "set_params":
        w.set_params(**change)
    else:
        w.set_state({"params": {**w.params, **change}})  # what the browser's slider message does
    (k, v), = change.items()
    msg = w.meta["message"]
    assert w.status == "ok" and f"{k} = {v:g} refused" in msg and "too narrow" in msg, msg
    assert f"kept {k} = {2.0 if k == 'a' else 1.0:g}" in msg and "Too many bins" not in msg
    assert w.values == {"a": 2.0, "b": 1.0} and w.params == {"a": 2.0, "b": 1.0}
    assert w.meta["params"] == {"a": 2.0, "b": 1.0} and w.meta["version"] > v0
    assert {c["id"]: c["value"] for c in w.controls if c["id"] in ("a", "b")} == {"a": 2.0, "b": 1.0}
    np.testing.assert_array_equal(state_arrays(w)["x"], x0)
    w.set_params(a=1.5)
    assert w.status == "ok" and w.values == {"a": 1.5, "b": 1.0} and "refused" not in w.meta["message"]
    assert w.readout.px == pytest.approx(1 / 1.5)


def test_an_image_too_narrow_to_draw_is_refused_by_the_scene_and_the_constructor():
    from flowviz.scene.cov1d import UnresolvedImageError

    with pytest.raises(UnresolvedImageError, match=r"x in \[1e\+15, 1e\+15 \+ 2\]"):
        cov1d_scene("uniform", "affine", {"a": 2.0, "b": 1e15})
    with pytest.raises(ValueError, match=r"b = 1e\+15 refused: the image of the base"):
        ChangeOfVariables1D(b=1e15)
    cov1d_scene("uniform", "affine", {"a": 2.0, "b": 1e3})  # 2 wide at 1e3: shown
    cov1d_scene("normal", "sigmoid", {"a": 100.0, "b": 0.0})  # saturates, but spans (0, 1): shown


def test_a_base_whose_image_is_too_narrow_is_refused_and_the_base_stays():
    """x = 5e-5 z + 1 spans 3.3e-4 on N(0, 1) (shown) but 5e-5 on U[0, 1] (too narrow): the base drop-down's change
    is refused, the base trait goes back, and the picture and values stay."""
    w = ChangeOfVariables1D("normal", "affine", a=5e-5, b=1.0, n_samples=2000)
    assert w.status == "ok"
    w.base = "uniform"
    assert w.base == "normal" and w.meta["base"] == "normal" and w.status == "ok"
    assert "base = 'uniform' refused" in w.meta["message"] and w.values == {"a": 5e-5, "b": 1.0}
    w.set_params(a=1.0)
    w.base = "uniform"
    assert (w.base, w.status) == ("uniform", "ok") and "refused" not in w.meta["message"]


# ---- a state fixture for js/test/cov1d-view.test.js (the view mounted in node): two bases, a small grid

COV_FIXTURE = pathlib.Path(__file__).resolve().parents[1] / "js" / "test" / "fixtures" / "cov1d_states.json"


def cov_fixture() -> dict:
    """Two states for the view tests (uniform, normal: x = 2z + 1), and under "readouts" the states of
    READOUT_CASES (small arrays: the browser reads its readouts from meta) with the hand references of each strip
    (js/test/cov1d.test.js: the browser's readouts must show the same digits)."""
    from flowviz.widgets.wire import encode_arrays, to_base64

    out: dict = {}
    for base in ("uniform", "normal"):
        s = cov1d_scene(base, "affine", {"a": 2.0, "b": 1.0}, grid=201, n_samples=2000, bins=20)
        out[base] = {"arrays": to_base64(encode_arrays(s.arrays())), "meta": s.meta(), "base": base, "map": "affine"}
    readouts = {}
    for name, (base, map_, params, strips) in READOUT_CASES.items():
        s = cov1d_scene(base, map_, params, grid=41, n_samples=200, bins=5)
        refs = [hand_readout(base, map_, params, _clamped(s, z0, dz), dz) for z0, dz in strips]
        readouts[name] = {"arrays": to_base64(encode_arrays(s.arrays())), "meta": s.meta(), "strips": refs}
    out["readouts"] = readouts
    return out


def test_js_cov1d_fixture_is_current():
    """js/test/fixtures/cov1d_states.json is what cov1d_scene sends now (regenerate: python tests/test_cov1d.py)."""
    from flowviz.widgets.wire import decode_array

    saved, fresh = json.loads(COV_FIXTURE.read_text()), json.loads(json.dumps(cov_fixture()))
    assert saved.keys() == fresh.keys()
    states = {k: v for k, v in fresh.items() if k != "readouts"} | {f"readouts.{k}": v for k, v in
                                                                    fresh["readouts"].items()}
    for key, state in states.items():
        old = saved["readouts"][key.split(".", 1)[1]] if key.startswith("readouts.") else saved[key]
        assert old["arrays"].keys() == state["arrays"].keys()
        assert old["meta"]["params"] == state["meta"]["params"]
        for k in state["arrays"]:
            np.testing.assert_allclose(decode_array(old["arrays"][k]), decode_array(state["arrays"][k]),
                                       rtol=1e-5, atol=1e-6, err_msg=f"{key}.{k}")
        for a, b in zip(old.get("strips", []), state.get("strips", []), strict=True):
            assert a == pytest.approx(b, rel=1e-12, abs=1e-300), key


if __name__ == "__main__":
    COV_FIXTURE.write_text(json.dumps(cov_fixture(), separators=(",", ":")) + "\n")
    print(f"wrote {COV_FIXTURE}")
