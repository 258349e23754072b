"""TriangularJacobian in a real browser (Voila + headless Chromium): the heatmap renders lower triangular,
the n slider recomputes, and the measure button brings back timing medians."""

from __future__ import annotations

from typing import Any

import pytest
from browser_support import THREADS_CELL, VOILA_BENIGN, Voila, settle, wait_until, write_notebook

pytestmark = pytest.mark.browser

NOTEBOOK = "triangular.ipynb"


@pytest.fixture(scope="module")
def server(voila: Voila) -> Voila:
    write_notebook(voila.dir / NOTEBOOK, [
        THREADS_CELL,
        "from flowviz.widgets.triangular import TriangularJacobian\n"
        "tri = TriangularJacobian(kind='maf', n=16, sizes=(16, 32, 64), repeats=3, diag_sizes=(4096, 16384))\ntri",
    ])
    return voila


def test_triangular_renders_and_measures(page: Any, server: Voila) -> None:
    page.goto(server.url(NOTEBOOK), wait_until="domcontentloaded")
    page.wait_for_function("() => { const el = document.querySelector('.flowviz-triangular');"
                           " return el && el.dataset.version && +el.dataset.frame > 0; }", timeout=60_000)
    settle(page)
    tri = page.locator(".flowviz-triangular").first
    assert tri.get_attribute("data-pattern") == "lower"
    info = tri.locator(".fv-tri-info").inner_text()
    assert "n = 16" in info and "slogdet" in info
    # the heatmap is drawn: distinct colours exist in the canvas
    colours = tri.locator("canvas.fv-tri-canvas").evaluate(
        "(c) => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; const s = new Set();"
        " for (let i = 0; i < d.length; i += 4 * 7) s.add(d[i] + ',' + d[i + 1] + ',' + d[i + 2]); return s.size; }")
    assert colours > 5
    v0 = int(tri.get_attribute("data-version"))
    slider = tri.locator('.fv-params input[type=range][data-id="n"]')
    slider.evaluate("(s) => { s.value = '40'; s.dispatchEvent(new Event('input', {bubbles: true})); }")
    wait_until(lambda: int(tri.get_attribute("data-version")) > v0, 30, what="recompute at n = 40")
    settle(page)
    assert "n = 40" in tri.locator(".fv-tri-info").inner_text()
    assert tri.get_attribute("data-pattern") == "lower"
    tri.locator(".fv-tri-measure").click()
    timing = tri.locator(".fv-tri-timing")
    wait_until(lambda: "fitted slopes" in timing.inner_text(), 30, what="timing results")
    text = timing.inner_text()
    assert "n=  64" in text and "LU" in text
    assert page.console.errors(VOILA_BENIGN) == []
