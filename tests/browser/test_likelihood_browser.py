"""LikelihoodSplit in a real browser: headless Chromium against Voila (shared fixtures in conftest.py).

A probe Label (browser_support.PROBE_CELL) reports what the kernel holds: status, c, and Python's exact
averages (float64, from the flow: flowviz.scene.likelihood.split_terms) at the c the browser last wrote,
to compare with the browser's readout, at c = 1, at the slider's minimum and at c between the values of
Python's grid (the browser computes both terms there itself: the base is the standard normal).
"""

from __future__ import annotations

import json
import math

import pytest
from browser_support import (
    VOILA_BENIGN,
    assert_drawn,
    block_network,
    pixel_difference,
    read_probe,
    set_range,
    settle,
    view_notebook,
    wait_until,
)

pytestmark = pytest.mark.browser

NOTEBOOK = "likelihood.ipynb"
VIEW = """\
from flowviz import flows
from flowviz.data import Crescent
from flowviz.widgets.likelihood import LikelihoodSplit

flow = flows.Flow([flows.Affine(2, scale=[1.5, -0.6], shift=[0.5, 0.2]),
                   flows.SinhArcsinh(2, skew=[0.3, -0.2], tailweight=[0.8, 1.3]),
                   flows.Linear(2, matrix=[[1.0, 0.4], [-0.3, 1.2]])])
view = LikelihoodSplit(flow, Crescent().sample(800, torch.Generator().manual_seed(1)))
from flowviz.scene.likelihood import split_terms
def report(v):
    t1, t2 = split_terms(flow, v.data, v.c)  # every point's two terms at the view's c, computed here
    return {"status": v.status, "c": v.c, "avg": v.averages(), "grid": v.scene.cs.tolist(),
            "t1": [float(t1.min()), float(t1.max())], "t2": [float(t2.min()), float(t2.max())]}
display(view, make_probe(view, report, ["c", "meta"]))"""


@pytest.fixture(scope="module")
def notebook(voila):
    return view_notebook(voila, NOTEBOOK, VIEW)


def test_likelihood_in_voila(page, notebook):
    page.goto(notebook)
    view = page.locator(".fv-lik")
    view.wait_for(state="visible", timeout=60_000)
    wait_until(lambda: view.get_attribute("data-readout") and page.locator(".fv-probe").count(), 20, what="drawn")
    settle(page)
    probe = lambda: read_probe(page)  # noqa: E731
    readout = lambda: json.loads(view.get_attribute("data-readout"))  # noqa: E731
    panel = lambda k: view.locator(".fv-panel").nth(k).screenshot()  # noqa: E731

    assert view.get_attribute("data-status") == "ok"
    shots = [panel(k) for k in range(3)]

    def scale(k):  # the colour scale's ends of scatter panel k (0: term 1, 1: term 2)
        return tuple(float(v) for v in view.locator(".fv-panel").nth(k).get_attribute("data-range").split(","))

    def scales_within_python_terms(p):
        for k, key in ((0, "t1"), (1, "t2")):
            (lo, hi), (tmin, tmax) = scale(k), p[key]
            tol = 1e-4 * max(1.0, abs(tmin), abs(tmax))
            assert tmin - tol <= lo < hi <= tmax + tol, (key, (lo, hi), (tmin, tmax))

    scales_within_python_terms(read_probe(page))
    scales0 = [scale(0), scale(1)]
    for k, s in enumerate(shots):
        assert_drawn(s, f"panel {k}")

    def agree(r, p):
        for kb, kp in (("mean1", "term1"), ("mean2", "term2"), ("total", "total")):
            assert abs(r[kb] - p["avg"][kp]) < 1e-4, (kb, r[kb], p["avg"][kp], r["c"])

    # c = 1: the browser's averages equal Python's (term1 + term2 = mean log p of the flow)
    r, p = readout(), probe()
    assert r["c"] == 1.0 and r["exact"] is True
    agree(r, p)

    def slide(v):
        set_range(view.locator('input[data-id="log10_c"]'), v)

    # a c between two grid values: the slider does not snap to Python's grid, the browser computes both
    # terms at that c, writes it back, and its averages equal Python's split_terms there
    slide(-1.2345)  # the input's step (0.001) makes it -1.234 or -1.235: both off the 0.025 grid
    wait_until(lambda: abs(probe()["c"] - readout()["c"]) < 1e-15 and probe()["c"] != 1.0, 15,
               what="an off-grid c written back to Python")
    settle(page)
    r, p = readout(), probe()
    log_c = math.log10(r["c"])
    assert abs(log_c + 1.2345) < 0.0011, log_c
    assert min(abs(math.log10(g) - log_c) for g in p["grid"]) > 5e-4, "c should lie between grid values"
    agree(r, p)
    assert r["exact"] is True and "exact" in view.locator(".fv-readout").inner_text()
    assert abs(r["dlogc"] - 2 * math.log(r["c"])) < 1e-9
    assert float(view.get_attribute("data-c")) == r["c"]
    # the colour scales follow the terms (each point keeps its colour: term 1 = log pi(c z) keeps the points'
    # order, term 2 shifts by d log c; the colour bars are relabelled): term 1's scale shrinks towards
    # log pi(0), term 2's moves by exactly 2 log c; and the marker on the averages moved
    scales_within_python_terms(p)
    (lo1, hi1), (lo2, hi2) = scale(0), scale(1)
    assert hi1 - lo1 < 0.1 * (scales0[0][1] - scales0[0][0]), (scale(0), scales0[0])
    assert hi1 <= r["logPi0"] + 1e-4
    shift = 2 * math.log(r["c"])
    assert abs(lo2 - (scales0[1][0] + shift)) < 1e-3 and abs(hi2 - (scales0[1][1] + shift)) < 1e-3, (scale(1), scales0)
    assert pixel_difference(shots[2], panel(2)) > 0.002

    # the shrink slider to its minimum: term 1 -> log pi(0), term 2 heading to -inf, finite
    slide(-3)
    wait_until(lambda: abs(probe()["c"] - 1e-3) < 1e-9, 15, what="c written back to Python")
    settle(page)
    r, p = readout(), probe()
    assert abs(r["c"] - 1e-3) < 1e-9
    agree(r, p)
    assert abs(r["mean1"] + math.log(2 * math.pi)) < 1e-4 and r["mean2"] < -13
    assert abs(r["dlogc"] - 2 * math.log(1e-3)) < 1e-6
    text = view.locator(".fv-readout").inner_text()
    assert "\u2192 \u2212\u221e" in text and "NaN" not in view.inner_text()
    assert pixel_difference(shots[2], panel(2)) > 0.002
    scales_within_python_terms(p)
    assert abs(scale(1)[0] - (scales0[1][0] + 2 * math.log(1e-3))) < 1e-3, (scale(1), scales0[1])

    assert page.console.errors(VOILA_BENIGN) == []


def test_exported_page_keeps_its_slider_offline(page, tmp_path):
    """view.save_html: opened from file:// with every other request aborted, the shrink slider still
    recomputes both averages in the page, equal to Python's at that c."""
    import torch

    from flowviz import flows
    from flowviz.data import Crescent
    from flowviz.widgets.likelihood import LikelihoodSplit

    flow = flows.Flow([flows.Affine(2, scale=[1.5, -0.6], shift=[0.5, 0.2]),
                       flows.SinhArcsinh(2, skew=[0.3, -0.2], tailweight=[0.8, 1.3])])
    view = LikelihoodSplit(flow, Crescent().sample(800, torch.Generator().manual_seed(1)))
    path = view.save_html(tmp_path / "likelihood.html")
    left = block_network(page, path.as_uri())
    page.goto(path.as_uri())
    page.wait_for_function("() => document.querySelector('.fv-lik')?.dataset.readout", timeout=30_000)
    el = page.locator(".fv-lik")
    readout = lambda: json.loads(el.get_attribute("data-readout"))  # noqa: E731
    assert readout()["c"] == 1.0
    set_range(el.locator('input[data-id="log10_c"]'), -2)
    wait_until(lambda: abs(readout()["c"] - 0.01) < 1e-9, 10, what="c = 0.01 in the exported page")
    r, expected = readout(), view.averages(0.01)
    assert abs(r["mean1"] - expected["term1"]) < 1e-4 and abs(r["mean2"] - expected["term2"]) < 1e-4, (r, expected)
    assert not left, f"requests left the page: {left}"
    assert not page.console.errors()
