"""ChangeOfVariables1D in a real browser: headless Chromium against Voila (shared fixtures in conftest.py).

The notebook shows the lecture's default view (U[0, 1], x = 2z + 1) and a nonlinear one (N(0, 1) through
sinh-arcsinh). A Label (class ``fv-probe``) per view reports what the kernel holds: status, strip_z and
Python's exact strip readout (flowviz.scene.cov1d.strip_readout, float64 from the flow) at the strip the
browser last wrote, so the browser's readout (computed in JS from the float32 arrays) can be compared.
"""

from __future__ import annotations

import json

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

NOTEBOOK = "cov1d.ipynb"
CELLS = [
    THREADS_CELL,
    """\
import json, math, dataclasses
import ipywidgets as widgets
from flowviz.widgets.cov1d import ChangeOfVariables1D

def probe_for(view):
    probe = widgets.Label()
    probe.add_class("fv-probe")
    def report(_=None):
        r = dataclasses.asdict(view.readout)
        r = {k: (v if not isinstance(v, float) or math.isfinite(v) else None) for k, v in r.items()}
        probe.value = json.dumps({"status": view.status, "version": view.meta.get("version"),
                                  "strip_z": view.strip_z, "readout": r})
    view.observe(report, names=["meta", "strip_z", "strip_dz"])
    report()
    return probe

lecture = ChangeOfVariables1D()
curved = ChangeOfVariables1D("normal", "sinh_arcsinh", strip_z=-0.7, strip_dz=0.3)
display(lecture, probe_for(lecture), curved, probe_for(curved))""",
]


@pytest.fixture(scope="module")
def notebook(voila):
    write_notebook(voila.dir / NOTEBOOK, CELLS)
    return voila.url(NOTEBOOK)


def probe(page, i):
    return json.loads(page.locator(".fv-probe").nth(i).inner_text())


def browser_readout(view):
    return json.loads(view.get_attribute("data-readout"))


def panel_png(view, which=0):
    return view.locator(".fv-panel").nth(which).screenshot(animations="disabled")


def test_cov1d_in_voila(page, notebook):
    page.goto(notebook)
    views = page.locator(".fv-cov1d")
    views.nth(1).wait_for(state="visible", timeout=60_000)
    wait_until(lambda: page.locator(".fv-probe").count() == 2 and views.nth(1).get_attribute("data-readout"),
               20, what="both views drawn")
    lecture, curved = views.nth(0), views.nth(1)
    settle(page)

    # renders: curves, histogram and shading on both panels; no console errors
    for v in (lecture, curved):
        assert v.get_attribute("data-status") == "ok"
        for k in (0, 1):
            s = image_stats(panel_png(v, k))
            assert s.distinct >= 30 and s.top_fraction < 0.97 and s.chromatic > 0.01, s

    # the lecture's numbers, read from the browser: pi(1/2) = 1, |dz/dx| = 1/2, p(2) = 1/2
    r = browser_readout(lecture)
    assert r["ok"] and abs(r["z"] - 0.5) < 1e-6 and abs(r["x"] - 2) < 1e-5
    assert abs(r["pi"] - 1) < 1e-6 and abs(r["dzdx"] - 0.5) < 1e-6 and abs(r["px"] - 0.5) < 1e-6
    assert abs(r["areaZ"] - r["areaX"]) < 1e-5
    assert "p(x\u2032) = \u03c0(z\u2032)|dz/dx|" in lecture.locator(".fv-readout").inner_text()

    # browser readout of the nonlinear view equals Python's exact value to 1e-4
    def agree(view, i):
        b, p = browser_readout(view), probe(page, i)
        if abs(p["strip_z"] - b["z"]) > 1e-9:
            return False
        py = p["readout"]
        for key_b, key_p in (("dzdx", "dzdx"), ("px", "px"), ("pi", "pi"), ("x", "x"), ("areaZ", "area_z")):
            assert abs(b[key_b] - py[key_p]) < 1e-4, (key_b, b[key_b], py[key_p])
        return True

    wait_until(lambda: agree(curved, 1), 10, what="initial readout")

    # dragging the strip moves it, changes the picture, and the readout still equals Python's
    before = panel_png(curved, 1)
    z0 = browser_readout(curved)["z"]
    box = curved.locator(".fv-panel").nth(0).bounding_box()
    cx, cy = box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.5
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx + 40, cy, steps=4)
    page.mouse.move(cx + 90, cy, steps=4)
    page.mouse.up()
    settle(page)
    z1 = browser_readout(curved)["z"]
    assert abs(z1 - z0) > 0.1, (z0, z1)
    wait_until(lambda: agree(curved, 1), 10, what="Python's readout at the dragged strip")
    assert pixel_difference(before, panel_png(curved, 1)) > 0.002

    # a slider goes to Python and back: a = -1 gives a new picture and the same p(x') (decreasing map)
    px_before = browser_readout(lecture)["px"]
    before = panel_png(lecture, 1)
    version = probe(page, 0)["version"]

    def set_slider(view, cid, value):
        view.locator(f'input[data-id="{cid}"]').evaluate(
            "(el, v) => { el.value = String(v); el.dispatchEvent(new Event('input', {bubbles: true})); }", value)

    set_slider(lecture, "a", -1.0)
    wait_until(lambda: probe(page, 0)["version"] > version, 15, what="recompute after a = -1")
    wait_until(lambda: lecture.get_attribute("data-version") == str(probe(page, 0)["version"]), 10, what="redraw")
    settle(page)
    r = browser_readout(lecture)
    assert abs(r["dzdx"] - 1.0) < 1e-6 and abs(r["px"] - 1.0) < 1e-6 and r["px"] != px_before
    assert pixel_difference(before, panel_png(lecture, 1)) > 0.002

    # a = 0: a visible "not invertible" banner, never NaN text
    set_slider(lecture, "a", 0.0)
    wait_until(lambda: probe(page, 0)["status"] == "not invertible", 15, what="status not invertible")
    banner = lecture.locator(".fv-status")
    banner.wait_for(state="visible", timeout=10_000)
    assert "not invertible" in banner.inner_text()
    assert lecture.get_attribute("data-status") == "not invertible"
    text = lecture.inner_text()
    assert "NaN" not in text and "not invertible" in lecture.locator(".fv-readout").inner_text()

    assert page.console.errors(VOILA_BENIGN) == []
