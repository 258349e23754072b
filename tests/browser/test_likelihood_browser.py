"""LikelihoodSplit in a real browser: headless Chromium against Voila (shared fixtures in conftest.py).

A Label (class ``fv-probe``) reports what the kernel holds: status, c, and Python's exact averages
(float64, from the flow) at the c the browser last wrote, to compare with the browser's readout.
"""

from __future__ import annotations

import json
import math

import pytest
from browser_support import (
    THREADS_CELL,
    VOILA_BENIGN,
    image_stats,
    pixel_difference,
    settle,
    wait_until,
    write_notebook,
)

pytestmark = pytest.mark.browser

NOTEBOOK = "likelihood.ipynb"
CELLS = [
    THREADS_CELL,
    """\
import json
import ipywidgets as widgets
from flowviz import flows
from flowviz.data import Crescent
from flowviz.widgets.likelihood import LikelihoodSplit

flow = flows.Flow([flows.Affine(2, scale=[1.5, -0.6], shift=[0.5, 0.2]),
                   flows.SinhArcsinh(2, skew=[0.3, -0.2], tailweight=[0.8, 1.3]),
                   flows.Linear(2, matrix=[[1.0, 0.4], [-0.3, 1.2]])])
view = LikelihoodSplit(flow, Crescent().sample(800, torch.Generator().manual_seed(1)))
probe = widgets.Label()
probe.add_class("fv-probe")
def report(_=None):
    probe.value = json.dumps({"status": view.status, "c": view.c, "avg": view.averages()})
view.observe(report, names=["c", "meta"])
report()
display(view, probe)""",
]


@pytest.fixture(scope="module")
def notebook(voila):
    write_notebook(voila.dir / NOTEBOOK, CELLS)
    return voila.url(NOTEBOOK)


def test_likelihood_in_voila(page, notebook):
    page.goto(notebook)
    view = page.locator(".fv-lik")
    view.wait_for(state="visible", timeout=60_000)
    wait_until(lambda: view.get_attribute("data-readout") and page.locator(".fv-probe").count(), 20, what="drawn")
    settle(page)
    probe = lambda: json.loads(page.locator(".fv-probe").inner_text())  # noqa: E731
    readout = lambda: json.loads(view.get_attribute("data-readout"))  # noqa: E731

    assert view.get_attribute("data-status") == "ok"
    shots = [view.locator(".fv-panel").nth(k).screenshot() for k in range(3)]
    for s in map(image_stats, shots):
        assert s.distinct >= 30 and s.top_fraction < 0.97 and s.chromatic > 0.01, s

    # c = 1: the browser's averages equal Python's (term1 + term2 = mean log p of the flow)
    r, p = readout(), probe()
    assert r["c"] == 1.0
    for kb, kp in (("mean1", "term1"), ("mean2", "term2"), ("total", "total")):
        assert abs(r[kb] - p["avg"][kp]) < 1e-4, (kb, r[kb], p["avg"][kp])

    # the shrink slider to its minimum: recoloured, term 1 -> log pi(0), term 2 heading to -inf, finite
    def slide(v):
        view.locator('input[data-id="log10_c"]').evaluate(
            "(el, v) => { el.value = String(v); el.dispatchEvent(new Event('input', {bubbles: true})); }", v)

    slide(-3)
    wait_until(lambda: abs(probe()["c"] - 1e-3) < 1e-9, 15, what="c written back to Python")
    settle(page)
    r, p = readout(), probe()
    assert abs(r["c"] - 1e-3) < 1e-9
    for kb, kp in (("mean1", "term1"), ("mean2", "term2"), ("total", "total")):
        assert abs(r[kb] - p["avg"][kp]) < 1e-4, (kb, r[kb], p["avg"][kp])
    assert abs(r["mean1"] + math.log(2 * math.pi)) < 1e-4 and r["mean2"] < -13
    assert abs(r["dlogc"] - 2 * math.log(1e-3)) < 1e-6
    text = view.locator(".fv-readout").inner_text()
    assert "\u2192 \u2212\u221e" in text and "NaN" not in view.inner_text()
    assert pixel_difference(shots[2], view.locator(".fv-panel").nth(2).screenshot()) > 0.002
    assert pixel_difference(shots[1], view.locator(".fv-panel").nth(1).screenshot()) > 0.002

    assert page.console.errors(VOILA_BENIGN) == []
