"""JacobianLens: the lecture's numbers, expression maps vs autograd, safety, singular maps, the density."""

from __future__ import annotations

import math
import pathlib
from collections.abc import Callable

import numpy as np
import pytest
import torch

from flowviz.expr import parse_map
from flowviz.scene.lens import lens_scene, oblique_projection, parallelepiped, six_terms
from flowviz.widgets.lens import JacobianLens
from flowviz.widgets.wire import decode_array


def arrays(w):
    return {k: decode_array(v) for k, v in w.arrays.items()}


def test_lecture_numbers_from_widget_state():
    w = JacobianLens()
    m = w.meta
    assert m["matrix"] == [[1, 1], [2, 0]]
    assert m["det"] == pytest.approx(-2)
    np.testing.assert_allclose(m["jinv"], [[0, 0.5], [1, -0.5]], atol=1e-12)
    assert m["det_inv"] == pytest.approx(-0.5)
    np.testing.assert_allclose(m["product"], np.eye(2), atol=1e-12)
    assert 1 / m["det_inv"] == pytest.approx(m["det"])
    assert m["orientation"] == "reversed" and m["status"] == "ok"
    assert w.text == "z1 + z2, 2 * z1"
    a = arrays(w)
    np.testing.assert_allclose(a["jac"][0], np.tile([1, 1, 2, 0], (a["jac"].shape[1], 1)))
    # the image of the unit square is the parallelogram spanned by the columns (1, 2) and (1, 0)
    np.testing.assert_allclose(a["square_image"][:4], [[0, 0], [1, 2], [2, 2], [1, 0]], atol=1e-6)


# the test maps with their values and Jacobians written out by hand (numpy), independent of the parser
HAND_MAPS: dict[str, tuple[Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
                           Callable[[np.ndarray, np.ndarray], np.ndarray]]] = {
    # f = (z1, z2 + sin z1), J = [[1, 0], [cos z1, 1]]
    "z1, z2 + sin(z1)": (lambda z1, z2: (z1, z2 + np.sin(z1)),
                         lambda z1, z2: np.stack([np.ones_like(z1), 0 * z1, np.cos(z1), np.ones_like(z1)], -1)),
    # f = (z1 + 0.3 z2^3, tanh z2 + 0.5 z1), J = [[1, 0.9 z2^2], [0.5, 1 - tanh^2 z2]]
    "z1 + 0.3*z2**3, tanh(z2) + 0.5*z1": (
        lambda z1, z2: (z1 + 0.3 * z2**3, np.tanh(z2) + 0.5 * z1),
        lambda z1, z2: np.stack([np.ones_like(z1), 0.9 * z2**2, 0.5 + 0 * z1, 1 - np.tanh(z2) ** 2], -1)),
    # f = (e^{0.3 z1} z2, z1), J = [[0.3 e^{0.3 z1} z2, e^{0.3 z1}], [1, 0]]
    "exp(0.3*z1)*z2, z1": (lambda z1, z2: (np.exp(0.3 * z1) * z2, z1),
                           lambda z1, z2: np.stack([0.3 * np.exp(0.3 * z1) * z2, np.exp(0.3 * z1),
                                                    np.ones_like(z1), 0 * z1], -1)),
}


@pytest.mark.parametrize("text", list(HAND_MAPS))
def test_expression_jacobians_match_hand_written_derivatives(text: str) -> None:
    """The mesh, its image, J_f at every vertex and log|det J_f| against the formulas written out by hand."""
    s = lens_scene(text, grid=9, n_samples=1000)
    # the base mesh, independently: row-major, z1 fastest, 9 x 9 vertices over [-3, 3]^2
    g1, g2 = np.meshgrid(np.linspace(-3, 3, 9), np.linspace(-3, 3, 9))
    z1, z2 = g1.ravel(), g2.ravel()
    np.testing.assert_allclose(s.mesh[0], np.stack([z1, z2], -1), atol=1e-6)
    f, jac = HAND_MAPS[text]
    np.testing.assert_allclose(s.mesh[1], np.stack(f(z1, z2), -1), rtol=1e-5, atol=1e-5)
    J = jac(z1, z2)
    np.testing.assert_allclose(s.jac[0], J, rtol=1e-5, atol=1e-5)
    ld = np.log(np.abs(J[:, 0] * J[:, 3] - J[:, 1] * J[:, 2]))
    np.testing.assert_allclose(s.logdet[0], ld, rtol=1e-5, atol=1e-5)


def test_typed_linear_expression_is_exact():
    w = JacobianLens(text="2*z1, z1 + 3*z2")
    assert w.meta["linear"] and w.meta["det"] == pytest.approx(6)
    np.testing.assert_allclose(w.meta["jinv"], np.linalg.inv([[2, 0], [1, 3]]), atol=1e-12)


@pytest.mark.parametrize("bad", ["__import__('os')", "z1.__class__, z2", "open('x'), z2", "z1 +", "z1"])
def test_hostile_or_broken_text_keeps_map_and_shows_message(bad):
    w = JacobianLens()
    before_meta, before_version = dict(w.meta), w.meta["version"]
    w.text = bad
    assert w.error, "the parser's message must be shown"
    assert w.meta["version"] == before_version and w.meta["matrix"] == before_meta["matrix"]
    w.text = "z1, z2 + sin(z1)"
    assert w.error == "" and w.meta["linear"] is False


def test_hostile_message_is_the_parsers():
    from flowviz.expr import ExpressionError
    with pytest.raises(ExpressionError) as info:
        parse_map("__import__('os')")
    w = JacobianLens()
    w.text = "__import__('os')"
    assert w.error == str(info.value)


@pytest.mark.parametrize("m", [[[1, 2], [2, 4]], [[0, 0], [0, 0]]])
def test_singular_not_invertible_and_finite(m):
    w = JacobianLens(matrix=m)
    assert w.status == "not invertible" and "det" in w.meta["message"]
    assert w.meta["jinv"] is None and w.meta["det"] == 0
    for name, a in arrays(w).items():
        assert np.isfinite(a).all(), name


def test_the_singularity_test_is_scale_free_and_overflow_safe() -> None:
    """A 2x2 J is singular when its rows are parallel to within SINGULAR_TOL radians (|det J| <= tol |J_1.| |J_2.|),
    not when |det J| is small against max|J|^2: diag(1e6, 1e-6) (det 1, area kept) was called "det J_f = 0:
    squashes the plane onto a line". det J_f of diag(e^400, e^400) overflows float64: the map is invertible, its det
    is shown as non-finite with the reason, not as 0. Checked against the angle between the rows (numpy, float64)."""
    from flowviz.scene.lens import SINGULAR_TOL, singular

    cases = {"1e6*z1, 1e-6*z2": "ok", "exp(z1)*1e6, z2*1e-6": "ok", "1e-7*z1, 1e-7*z2": "ok",
             "1e6*z1 + 1e6*z2, 1e-6*z1 - 1e-6*z2": "ok",
             "0.1*z1 + 0.3*z2, 0.13*z1 + 0.39*z2": "not invertible",
             "z1 + 1e-11*z2, z1": "ok", "z1 + 1e-13*z2, z1": "not invertible",
             "z1 + z2, z1 + (1 + 1e-14)*z2": "not invertible"}
    for text, status in cases.items():
        s = lens_scene(text, grid=9, n_samples=200)
        assert s.status == status, (text, s.status, s.message)
        m = np.asarray(s.matrix, dtype=np.float64)
        r1, r2 = m / np.linalg.norm(m, axis=1, keepdims=True)
        angle = abs(math.asin(np.clip(r1[0] * r2[1] - r1[1] * r2[0], -1, 1)))  # between the rows, independently
        assert (angle <= SINGULAR_TOL) == (status != "ok"), text
        if status == "ok":
            assert s.det_inv == pytest.approx(1 / s.det, rel=1e-12)
    J = torch.tensor([[[math.exp(400), 0.0], [0.0, math.exp(400)]], [[1e300, 1e300], [1e-300, -1e-300]],
                      [[1.0, 2.0], [2.0, 4.0]], [[float("nan"), 0.0], [0.0, 1.0]]], dtype=torch.float64)
    assert singular(J).tolist() == [False, False, True, True]
    s = lens_scene("exp(400)*z1, -exp(400)*z2", grid=9, n_samples=200)
    assert s.status == "non-finite" and s.orientation == "reversed"
    assert s.message == "det J_f = -exp(800) is beyond float64's range"
    assert s.meta()["det"] is None and s.meta()["det_inv"] is None and s.jinv is not None
    s = lens_scene("1e-170*z1, 1e-170*z2", grid=9, n_samples=200)  # det 1e-340 underflows: not "det J_f = 0"
    assert s.status == "non-finite" and s.orientation == "preserved" and s.meta()["det"] is None
    assert s.message == f"det J_f = exp({math.log(1e-170) * 2:.6g}) is beyond float64's range"
    tiny = lens_scene("1e-30*z1, 1e-30*z2", grid=9, n_samples=200)  # det 1e-60: fine in float64
    assert tiny.status == "ok" and tiny.meta()["det"] == pytest.approx(1e-60, rel=1e-12)


def test_a_matrix_given_in_python_is_shown_with_its_exact_text_whatever_its_size() -> None:
    """set_matrix turns A into the text box's expression and parses it back: the typed-text limit on literals (1e6)
    refused A = diag(2e6, 1), and 6 significant digits showed 1.0000001 as 1 (editing that text changed the map).
    The text now reads back as exactly A (the parsed map's Jacobian, float64); typed text keeps its limit."""
    from flowviz.expr import Limits

    for m in ([[2e6, 0.0], [0.0, 1.0]], [[1.0000001, 0.5], [0.0, 1.0]], [[1e300, -0.1], [1e-300, 3.0]],
              [[-1.0, 1 / 3], [2.0, 0.0]]):
        w = JacobianLens(matrix=m, grid=9, n_samples=200, bins=8)
        assert w.error == "" and w.meta["matrix"] == m
        back = parse_map(w.text, limits=Limits(max_constant=math.inf)).jacobian(torch.zeros(1, 2, dtype=torch.float64))
        assert back[0].tolist() == m, (w.text, m)
    w.text = "2000000*z1, z2"  # typed: refused by name, the shown map kept
    assert "too large" in w.error and w.meta["matrix"] == [[-1.0, 1 / 3], [2.0, 0.0]]


def test_singular_map_places_its_grid_on_the_line_without_density():
    # f(z) = [[1, 2], [2, 4]] z sends the plane onto the line x2 = 2 x1: every image vertex is finite
    # (``placed``), none carries a density (log p = +inf: ``finite`` 0), and the vertices lie on that line
    s = lens_scene([[1, 2], [2, 4]], grid=9, n_samples=1000)
    assert (s.placed == 1).all()
    assert (s.finite[0] == 1).all() and (s.finite[1] == 0).all()
    np.testing.assert_allclose(s.mesh[1][:, 1], 2 * s.mesh[1][:, 0], rtol=1e-6, atol=1e-6)
    assert "placed" in s.arrays()
    # an invertible map: placed and finite agree
    r = lens_scene([[1, 1], [2, 0]], grid=9, n_samples=1000)
    np.testing.assert_array_equal(r.placed, r.finite)


def test_folding_expression_is_flagged():
    s = lens_scene("z1**2, z2", grid=9, n_samples=1000)
    assert s.status == "not invertible" and s.orientation == "mixed"
    for a in s.arrays().values():
        assert np.isfinite(a).all()


def _chi2(counts, expected):
    keep = expected > 20
    return float((((counts - expected) ** 2) / expected)[keep].sum()), int(keep.sum())


def test_density_formula_vs_histogram_linear():
    n = 200_000
    s = lens_scene([[1, 1], [2, 0]], n_samples=n, bins=40)
    b = s.hist_extent
    area = (b[1] - b[0]) * (b[3] - b[2]) / 40**2
    counts, expected = s.hist * n * area, s.formula * n * area
    chi2, dof = _chi2(counts, expected)
    assert dof > 100 and chi2 / dof < 1.5, (chi2, dof)
    # and the formula is not trivially close to anything: a wrong det (factor 2) fails
    assert _chi2(counts, 2 * expected)[0] / dof > 10


@pytest.mark.parametrize("text", ["z1 + z2 + 2, 2*z1 + 1", "z1 + z2, 2*z1"])
def test_affine_maps_density_and_square_include_the_offset(text: str) -> None:
    """x = A z + b (constant Jacobian, b = f(0)) counts as linear: the formula is the density of N(b, A A^T)
    (scipy, independently) at the bin centres, and the unit square's image is A [0,1]^2 + b. The offset was
    dropped (formula centred at A^-1 x, square drawn at A [0,1]^2), while the mesh and histogram moved by b."""
    from scipy.stats import multivariate_normal

    s = lens_scene(text, n_samples=20_000, bins=24)
    A, b = np.array([[1.0, 1.0], [2.0, 0.0]]), np.array([2.0, 1.0]) if "+ 2" in text else np.zeros(2)
    assert s.linear and s.status == "ok"
    box = s.hist_extent
    cx = box[0] + (np.arange(24) + 0.5) * (box[1] - box[0]) / 24
    cy = box[2] + (np.arange(24) + 0.5) * (box[3] - box[2]) / 24
    yy, xx = np.meshgrid(cy, cx, indexing="ij")
    want = multivariate_normal(mean=b, cov=A @ A.T).pdf(np.stack([xx, yy], -1))
    np.testing.assert_allclose(s.formula, want, rtol=1e-5, atol=1e-7 * want.max())
    sq = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]], dtype=np.float64)
    np.testing.assert_allclose(s.square_image, sq @ A.T + b, rtol=1e-6, atol=1e-6)
    counts = s.hist * 20_000 * (box[1] - box[0]) * (box[3] - box[2]) / 24**2
    expected = s.formula * 20_000 * (box[1] - box[0]) * (box[3] - box[2]) / 24**2
    chi2, dof = _chi2(counts, expected)
    assert dof > 50 and chi2 / dof < 1.6, (chi2, dof)


def _log_normal2(z1: np.ndarray, z2: np.ndarray) -> np.ndarray:
    return -(z1**2 + z2**2) / 2 - math.log(2 * math.pi)


# invertible nonlinear maps with the inverse and log|det J_f(z)| written out by hand:
# x = (z1, z2 + sin z1): z = (x1, x2 - sin x1), det J_f = 1;
# x = (e^{0.3 z1} z2, z1): z = (x2, x1 e^{-0.3 x2}), det J_f = -e^{0.3 z1} (varies over the plane)
INVERTIBLE_MAPS: dict[str, tuple[Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
                                 Callable[[np.ndarray, np.ndarray], np.ndarray]]] = {
    "z1, z2 + sin(z1)": (lambda x1, x2: (x1, x2 - np.sin(x1)), lambda z1, z2: 0 * z1),
    "exp(0.3*z1)*z2, z1": (lambda x1, x2: (x2, x1 * np.exp(-0.3 * x2)), lambda z1, z2: 0.3 * z1),
}


@pytest.mark.parametrize("text", list(INVERTIBLE_MAPS))
def test_density_mesh_colouring_vs_histogram_nonlinear(text: str) -> None:
    """p(x) = pi(f^{-1}(x)) / |det J_f(f^{-1}(x))| from the hand-written inverse, against the histogram of pushed
    samples and against the mesh colouring log p(f(z)) = log pi(z) - log|det J_f(z)| at the mapped vertices."""
    inv, logdet = INVERTIBLE_MAPS[text]
    n = 200_000
    s = lens_scene(text, n_samples=n, bins=40)
    assert s.status == "ok" and not s.linear
    b = s.hist_extent
    cx = b[0] + (np.arange(40) + 0.5) * (b[1] - b[0]) / 40
    cy = b[2] + (np.arange(40) + 0.5) * (b[3] - b[2]) / 40
    yy, xx = np.meshgrid(cy, cx, indexing="ij")
    z1, z2 = inv(xx, yy)
    p = np.exp(_log_normal2(z1, z2) - logdet(z1, z2))
    area = (b[1] - b[0]) * (b[3] - b[2]) / 1600
    chi2, dof = _chi2(s.hist * n * area, p * n * area)
    assert dof > 100 and chi2 / dof < 1.5, (chi2, dof)
    # the mesh colouring at each mapped vertex x = f(z), from the inverse of x (not from z or the scene's log-det)
    x = s.mesh[1].astype(np.float64)
    z1, z2 = inv(x[:, 0], x[:, 1])
    np.testing.assert_allclose(np.stack([z1, z2], -1), s.mesh[0], atol=1e-4)
    np.testing.assert_allclose(s.logp[1], _log_normal2(z1, z2) - logdet(z1, z2), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(s.logp[0], _log_normal2(z1, z2), rtol=1e-5, atol=1e-4)


def test_density_mesh_colouring_linear_is_the_analytic_density() -> None:
    """x = A z, A = [[1, 1], [2, 0]]: z = A^{-1} x = (x2 / 2, x1 - x2 / 2), so log p(x) = log N(A^{-1} x) - log 2."""
    s = lens_scene([[1, 1], [2, 0]], grid=11, n_samples=1000)
    x = s.mesh[1].astype(np.float64)
    expected = _log_normal2(x[:, 1] / 2, x[:, 0] - x[:, 1] / 2) - math.log(2)
    np.testing.assert_allclose(s.logp[1], expected, rtol=1e-5, atol=1e-5)


def test_three_by_three_six_terms():
    g = torch.Generator().manual_seed(3)
    for _ in range(5):
        m = torch.randn(3, 3, generator=g, dtype=torch.float64)
        terms = six_terms(m)
        assert len(terms) == 6
        assert sum(t["value"] for t in terms) == pytest.approx(float(torch.linalg.det(m)), abs=1e-12)
    w = JacobianLens(mode="3d", matrix3=[[2, 0, 0], [0, 3, 0], [0, 0, 0.5]])
    assert w.three["sum"] == pytest.approx(3.0) and w.three["det"] == pytest.approx(3.0)
    w.matrix3 = [1, 2, 3, 4, 5, 6, 7, 8, 10]
    assert w.three["sum"] == pytest.approx(-3.0)
    v = np.array(w.three["vertices"])
    assert v.shape == (8, 3) and np.allclose(v[7], [6, 15, 25])
    vol = abs(np.linalg.det(v[[1, 2, 4]] - v[0]))
    assert vol == pytest.approx(3.0)
    assert oblique_projection(parallelepiped(np.eye(3))).shape == (8, 2)


def test_plot_twin_draws():
    import matplotlib
    matplotlib.use("Agg")
    from flowviz.plot.lens import plot_jacobian_lens
    w = JacobianLens(text="z1, z2 + sin(z1)")
    axes = plot_jacobian_lens(w)
    assert len(axes) == 2
    axes = plot_jacobian_lens(lens_scene([[1, 2], [2, 4]], n_samples=1000))
    assert "not invertible" in axes[0].get_title()
    # the squashed grid is drawn, dark (no density under it), along the line x2 = 2 x1
    from matplotlib.collections import LineCollection

    dark = [c for c in axes[0].collections if isinstance(c, LineCollection) and c.get_colors()[0][0] < 0.5]
    assert len(dark) == 1
    pts = np.concatenate(dark[0].get_segments())
    assert len(pts) > 100
    np.testing.assert_allclose(pts[:, 1], 2 * pts[:, 0], rtol=1e-5, atol=1e-5)


def test_fold_flags_only_for_folding_maps():
    """A reflection (det < 0 everywhere) is invertible: no fold hatching. z1**2 folds along z1 = 0."""
    assert lens_scene([[1, 1], [2, 0]], n_samples=1000).folded.sum() == 0
    s = lens_scene("z1**2 + z1 + 0.5*z2, z2", grid=9, n_samples=1000)  # det J = 2 z1 + 1
    z1 = s.mesh[0][:, 0]
    assert s.folded[0].sum() == 0
    # the minority sign: det < 0 where z1 < -1/2 (4 of 9 columns)
    np.testing.assert_array_equal(s.folded[1] > 0, z1 < -0.5)


def test_static_export_carries_the_view_state(tmp_path):
    import json
    import re

    w = JacobianLens(mode="3d", text="z1, z2 + sin(z1)")
    html = w.save_html(tmp_path / "lens.html").read_text()
    state = json.loads(re.search(r'<script id="flowviz-state" type="application/json">(.*?)</script>', html, re.S)
                       .group(1).replace("<\\/", "</"))
    assert state["mode"] == "3d" and state["text"] == "z1, z2 + sin(z1)" and len(state["three"]["terms"]) == 6
    assert "folded" in state["arrays"] and "hist" in state["arrays"]


def test_a_map_whose_numbers_overflow_is_a_visible_state_not_an_exception() -> None:
    """J_f of exp(exp(2 z1)) reaches 1e178: its square (the singularity tolerance's scale) overflows a Python float,
    which raises instead of giving inf. Typed into the box, such a map is shown (or refused under the box), never an
    OverflowError out of the ``text`` observer; the error trait is set and the previous map kept when the computation
    fails in a way no check foresaw (ArithmeticError, RuntimeError)."""
    import json
    from unittest import mock

    w = JacobianLens(grid=9, n_samples=500, bins=8)
    for text in ["exp(exp(2*z1)), z2", "1e6**16*1e6**16*z1, z2"]:  # both invertible: increasing in z1
        w.text = text
        assert w.meta["text"] == parse_map(text).text and w.error == "" and w.status == "ok"
        assert w.meta["orientation"] == "preserved"
        json.dumps(w.meta, allow_nan=False)
    w.text = "exp(exp(2*z1)), z2"  # x1 = exp(e^6) ~ 1e175 at the mesh's edge: beyond the wire's float32, said so
    beyond = int((arrays(w)["placed"][1] == 0).sum())
    assert beyond > 0 and w.meta["message"] == f"{beyond} mesh vertices beyond float32's range (not drawn)"
    shown = w.meta
    for text, err in [("z1, 2*z2", OverflowError("(34, 'Numerical result out of range')")),
                      ("z1, 3*z2", RuntimeError("value cannot be converted"))]:
        with mock.patch("flowviz.widgets.lens.lens_scene", side_effect=err):
            w.text = text
        assert w.error == f"{type(err).__name__}: {err}"
        assert w.meta == shown and w.text == text  # the previous map stays, the text as typed


def test_a_jacobian_that_does_not_exist_at_zero_is_sent_as_null(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """J_f(0) of log(z1) has inf and NaN entries, a 3x3 entry of 1e200 overflows det and the six terms: JSON has
    neither (the static page's JSON.parse would fail); they cross as null, which the browser shows as "non-finite"."""
    import json
    import re

    for text, matrix in [("log(z1), z2", [[None, 0.0], [None, 1.0]]), ("1/z1, z2", [[None, 0.0], [None, 1.0]]),
                         ("sqrt(abs(z1)), z2", [[None, 0.0], [None, 1.0]])]:
        w = JacobianLens(text=text, grid=9, n_samples=500, bins=8)
        assert w.meta["matrix"] == matrix and w.meta["det"] is None, text
        json.dumps(w.meta, allow_nan=False)
    page = w.save_html(tmp_path / "lens.html").read_text(encoding="utf-8")
    state = re.search(r'<script id="flowviz-state" type="application/json">(.*?)</script>', page, re.S).group(1)
    assert json.loads(state, parse_constant=lambda c: pytest.fail(f"{c} in the exported state"))["meta"]["det"] is None
    w = JacobianLens(grid=9, n_samples=500, bins=8)
    assert w.meta["matrix"] == [[1, 1], [2, 0]] and w.meta["det"] == pytest.approx(-2)  # finite: unchanged
    w.matrix3 = [1e200, 0, 0, 0, 1e200, 0, 0, 0, 1e200]
    json.dumps(w.three, allow_nan=False)
    assert w.three["det"] is None and w.three["sum"] is None and w.three["terms"][0]["value"] is None
    assert w.three["terms"][1]["value"] == 0.0 and w.three["matrix"][0][0] == 1e200
    w.matrix3 = [1.7e308, 1.7e308, 0, 0, 1, 0, 0, 0, 1]  # a vertex (a sum of entries) overflows
    json.dumps(w.three, allow_nan=False)
    assert w.three["vertices"][3][0] is None and w.three["det"] == pytest.approx(1.7e308)


def test_positions_beyond_float32_are_zeroed_and_flagged_not_sent_as_inf() -> None:
    """The lens computes in float64: x1 = 1e96 z1 is finite there and inf as float32. On the wire such a vertex is
    zeroed and flagged (placed 0, finite 0), as a NaN would be; the view box and histogram frame what can be drawn."""
    import json

    w = JacobianLens(text="z1*1e6**16, z2", grid=9, n_samples=500, bins=8)
    a = arrays(w)
    for name, arr in a.items():
        assert np.isfinite(arr).all(), name
    s = w.scene
    off = s.mesh[0][:, 0] != 0  # the z1 = 0 column maps to 0: representable
    assert off.sum() == 72
    np.testing.assert_array_equal(a["placed"][1], (~off).astype(np.float32))
    np.testing.assert_array_equal(a["finite"][1], np.zeros(81, np.float32))  # J = 1e96 is not float32 either
    assert not a["mesh"][1][off].any()
    np.testing.assert_array_equal(a["jac"][0], np.broadcast_to([0.0, 0.0, 0.0, 1.0], (81, 4)))  # 1e96 zeroed
    assert not a["points"][1][:, 0].any()  # every sample's x1 is beyond float32 (none has z1 exactly 0)
    json.dumps(w.meta, allow_nan=False)
    assert all(abs(v) < 1e39 for v in w.meta["bounds"][1] + w.meta["hist_extent"])


def test_a_vertex_with_a_finite_image_and_no_jacobian_is_placed_where_it_maps() -> None:
    """sqrt(|z1|) has no derivative at z1 = 0, but the image (0, z2) exists: the vertex is placed (its grid lines are
    drawn) at that image, not at the origin, and carries no density (finite 0)."""
    s = lens_scene("sqrt(abs(z1)), z2", grid=9, n_samples=500, bins=8)
    on_axis = s.mesh[0][:, 0] == 0
    assert on_axis.sum() == 9
    assert s.placed[1][on_axis].all() and not s.finite[1][on_axis].any()
    np.testing.assert_array_equal(s.mesh[1][on_axis], np.stack([0 * s.mesh[0][on_axis, 1], s.mesh[0][on_axis, 1]], 1))


# ---- per-vertex det and jac_finite: what the browser's hover readout uses (js/test/lens.test.js reads the fixture)

LENS_FIXTURE = pathlib.Path(__file__).resolve().parents[1] / "js" / "test" / "fixtures" / "lens_readout.json"
FIXTURE_MAPS = {"singular": "0.1*z1 + 0.3*z2, 0.13*z1 + 0.39*z2", "cuberoot": "z1**(1/3), z2",
                "beyond": "exp(exp(2*z1)), z2", "overflow": "exp(400)*z1, -exp(400)*z2",
                "tiny": "1e-30*z1, -1e-30*z2"}


def lens_fixture() -> dict:
    from flowviz.widgets.wire import encode_arrays, to_base64

    out = {}
    for name, text in FIXTURE_MAPS.items():  # every array the view gets, so that node tests can mount it
        s = lens_scene(text, grid=9, n_samples=200, bins=8)
        out[name] = {"arrays": to_base64(encode_arrays(s.arrays())), "meta": s.meta(version=1)}
    return out


def test_vertex_det_is_the_float64_det_and_jac_finite_flags_where_j_is_not():
    # a singular matrix written with decimals: det J_f = 0.1*0.39 - 0.3*0.13 = 0 (float64 rounding only), while
    # det2 of the float32 entries the browser holds is ~1e-9, which would give a made-up inverse
    s = lens_scene(FIXTURE_MAPS["singular"], grid=9)
    a = s.arrays()
    assert a["det"].shape == (1, 81) and a["det"].dtype == np.float32
    exact = np.linalg.det(np.array([[0.1, 0.3], [0.13, 0.39]]))
    assert abs(exact) < 1e-15 and np.all(np.abs(a["det"]) < 1e-15)
    j32 = a["jac"][0].astype(np.float64)
    assert np.abs(j32[:, 0] * j32[:, 3] - j32[:, 1] * j32[:, 2]).max() > 1e-10  # what det2 in the browser would say
    assert s.meta()["orientation"] == "collapsed" and s.meta()["jinv"] is None
    # the cube root: J_f = diag(z1^(-2/3) / 3, 1) is infinite at z1 = 0 and f is undefined (NaN) for z1 < 0
    c = lens_scene(FIXTURE_MAPS["cuberoot"], grid=9)
    ca = c.arrays()
    z1 = ca["mesh"][0][:, 0].astype(np.float64)
    flags = ca["jac_finite"][0]
    np.testing.assert_array_equal(flags, (z1 > 0).astype(np.float32))
    pos = z1 > 0
    np.testing.assert_allclose(ca["det"][0][pos], z1[pos] ** (-2 / 3) / 3, rtol=1e-5)
    assert np.all(ca["det"][0][~pos] == 0) and np.all(ca["jac"][0][~pos][:, 0] == 0)  # zeroed on the wire


def test_js_lens_fixture_is_current():
    """js/test/fixtures/lens_readout.json is what lens_scene sends now (regenerate: python tests/test_lens.py)."""
    import json

    saved = json.loads(LENS_FIXTURE.read_text())
    fresh = json.loads(json.dumps(lens_fixture()))
    assert saved.keys() == fresh.keys()
    for name in fresh:
        assert saved[name]["meta"]["orientation"] == fresh[name]["meta"]["orientation"]
        for key in ("status", "message", "det", "det_inv"):
            assert saved[name]["meta"][key] == fresh[name]["meta"][key], (name, key)
        assert saved[name]["arrays"].keys() == fresh[name]["arrays"].keys()
        for key in fresh[name]["arrays"]:
            old, new = decode_array(saved[name]["arrays"][key]), decode_array(fresh[name]["arrays"][key])
            np.testing.assert_allclose(old, new, rtol=1e-6, atol=1e-12, err_msg=f"{name}.{key}")


if __name__ == "__main__":
    import json

    LENS_FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    LENS_FIXTURE.write_text(json.dumps(lens_fixture(), separators=(",", ":")) + "\n")
    print(f"wrote {LENS_FIXTURE}")


def test_a_map_with_det_positive_everywhere_is_invertible_however_large_j_is_elsewhere():
    # det J_f = 3 exp(3 z2) > 0 on the whole plane; on the mesh it spans exp(-10) .. exp(10) times 3, so a
    # tolerance scaled by the largest |J| on the mesh would call the small ones zero
    s = lens_scene("z1, exp(3*z2)")
    assert (s.status, s.orientation) == ("ok", "preserved")
    a = s.arrays()
    z2 = a["mesh"][0][:, 1].astype(np.float64)
    np.testing.assert_allclose(a["det"][0], 3 * np.exp(3 * z2), rtol=1e-5)


def test_plot_twin_hatches_folded_cells_as_the_browser_does():
    """The figure of a folding map: the triangles the lens flags as folded (minority sign of det J_f) are hatched
    red and carry no density colour, the rest carry it, as in the browser's mesh (js/src/mesh.js)."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.collections import PolyCollection

    from flowviz.plot.lens import plot_jacobian_lens
    from flowviz.scene.mesh import triangles

    s = lens_scene("z1**2 + z1 + 0.5*z2, z2", grid=9, n_samples=1000)  # det J = 2 z1 + 1: folds where z1 < -1/2
    tris = triangles(s.gx, s.gy)
    folded = (s.folded[1] > 0)[tris].any(1)
    assert 0 < folded.sum() < len(tris)
    (a0, _) = plot_jacobian_lens(s)
    hatched = [c for c in a0.collections if isinstance(c, PolyCollection) and c.get_hatch() == "///"]
    assert len(hatched) == 1 and len(hatched[0].get_paths()) == int(folded.sum())
    (dens,) = a0.images  # the density, rasterised per pixel as the browser does (flowviz/plot/_raster.py)
    filled = dens.triangles  # the triangles given density colour
    assert len(filled) == int((~folded).sum())
    assert not (set(map(tuple, np.sort(filled, 1))) & set(map(tuple, np.sort(tris[folded], 1))))


def test_the_product_shown_is_the_identity_up_to_its_rounding_and_only_that() -> None:
    """J_f J_{f^-1} as the info panel shows it: the float64 product left -1.1e-16 off the diagonal for
    [[2, 1], [1, 3]] (rounding, shown as a digit); entries within 8 eps cond(m) (|m| |jinv|) of I are I exactly.
    An inverse that is wrong beyond rounding (perturbed by 1e-9) is shown as computed, not snapped."""
    from flowviz.scene.lens import product_shown

    g = torch.Generator().manual_seed(0)
    for _ in range(200):
        m = torch.randn(2, 2, generator=g, dtype=torch.float64) * 10.0 ** float(torch.randint(-3, 4, (1,), generator=g))
        if torch.linalg.cond(m) > 1e8:
            continue
        assert product_shown(m, torch.linalg.inv(m)).tolist() == [[1.0, 0.0], [0.0, 1.0]], m.tolist()
    m = torch.tensor([[2.0, 1.0], [1.0, 3.0]], dtype=torch.float64)
    assert (m @ torch.linalg.inv(m) != torch.eye(2, dtype=torch.float64)).any()  # the residue this is about
    assert lens_scene("2*z1 + z2, z1 + 3*z2", grid=9, n_samples=200).meta()["product"] == [[1.0, 0.0], [0.0, 1.0]]
    wrong = torch.linalg.inv(m) * (1 + 1e-9)
    shown = product_shown(m, wrong)
    assert shown[0, 0] != 1.0 and shown[0, 0] == (m @ wrong)[0, 0]
