"""TriangularJacobian in a real browser (Voila + headless Chromium): the heatmap renders lower triangular,
the n slider recomputes, and the measure button brings back timing medians."""

from __future__ import annotations

import io
import re
from typing import Any

import numpy as np
import pytest
from browser_support import (
    NEEDS_KERNEL,
    THREADS_CELL,
    VOILA_BENIGN,
    Voila,
    open_export,
    settle,
    wait_until,
    write_notebook,
)
from PIL import Image

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


def assert_heatmap_lower_triangular(tri: Any, n: int) -> None:
    """The heatmap as drawn (pixels at the centre of every cell of the n x n picture, not the page's own pattern
    flag): every cell above the diagonal has one colour, the colour of an exact zero, while most cells below it
    do not."""
    cells = tri.locator("canvas.fv-tri-canvas").evaluate(
        """(c, n) => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, out = [];
             for (let i = 0; i < n; i++) { const row = [];
               for (let j = 0; j < n; j++) {
                 const x = Math.floor((j + 0.5) * c.width / n), y = Math.floor((i + 0.5) * c.height / n);
                 const o = 4 * (y * c.width + x);
                 row.push([d[o], d[o + 1], d[o + 2]].join(',')); }
               out.push(row); }
             return out; }""", n)
    upper = {cells[i][j] for i in range(n) for j in range(i + 1, n)}
    lower = [cells[i][j] for i in range(n) for j in range(i)]
    assert len(upper) == 1, f"cells above the diagonal drawn in {len(upper)} colours: {sorted(upper)[:5]}"
    (zero,) = upper
    assert sum(c != zero for c in lower) > 0.5 * len(lower), f"most cells below the diagonal look like zeros ({zero})"
    assert len(set(lower)) > 5


def assert_colour_key(tri: Any, jac: np.ndarray, n: int) -> None:
    """The key under the heatmap: its end labels are -max|J| and +max|J|, and the end of the ramp on the side
    of the largest entry has that entry's colour in the heatmap (screenshot pixels against canvas pixels)."""
    labels = [float(t) for t in tri.locator(".fv-tri-tick").all_inner_texts()]
    m = float(np.abs(jac).max())
    assert labels[0] == pytest.approx(-m, rel=0.05) and labels[-1] == pytest.approx(m, rel=0.05), labels
    i, j = np.unravel_index(int(np.abs(jac).argmax()), jac.shape)
    cell = tri.locator("canvas.fv-tri-canvas").evaluate(
        """(c, [i, j, n]) => { const x = Math.floor((j + 0.5) * c.width / n), y = Math.floor((i + 0.5) * c.height / n);
             return Array.from(c.getContext('2d').getImageData(x, y, 1, 1).data.slice(0, 3)); }""", [int(i), int(j), n])
    ramp = Image.open(io.BytesIO(tri.locator(".fv-tri-ramp").screenshot())).convert("RGB")
    end = ramp.getpixel((ramp.width - 3 if jac[i, j] > 0 else 2, ramp.height // 2))
    assert max(abs(a - b) for a, b in zip(end, cell, strict=True)) <= 8, (end, cell)
    zero = tri.locator(".fv-tri-zero i").evaluate("(e) => getComputedStyle(e).backgroundColor")
    upper = tri.locator("canvas.fv-tri-canvas").evaluate(
        "(c) => Array.from(c.getContext('2d').getImageData(c.width - 2, 1, 1, 1).data.slice(0, 3))")  # (0, n-1)
    assert zero == "rgb({}, {}, {})".format(*upper), (zero, upper)


def test_triangular_renders_and_measures(page: Any, server: Voila) -> None:
    page.goto(server.url(NOTEBOOK), wait_until="domcontentloaded")
    page.wait_for_function("() => { const el = document.querySelector('.flowviz-triangular');"
                           " return el && el.dataset.version && +el.dataset.frame > 0; }", timeout=60_000)
    settle(page)
    tri = page.locator(".flowviz-triangular").first
    assert tri.get_attribute("data-pattern") == "lower"
    info = tri.locator(".fv-tri-info").inner_text()
    assert "n = 16" in info and "slogdet" in info
    assert_heatmap_lower_triangular(tri, 16)
    v0 = int(tri.get_attribute("data-version"))
    slider = tri.locator('.fv-params input[type=range][data-id="n"]')
    slider.evaluate("(s) => { s.value = '40'; s.dispatchEvent(new Event('input', {bubbles: true})); }")
    wait_until(lambda: int(tri.get_attribute("data-version")) > v0, 30, what="recompute at n = 40")
    settle(page)
    assert "n = 40" in tri.locator(".fv-tri-info").inner_text()
    assert tri.get_attribute("data-pattern") == "lower"
    assert_heatmap_lower_triangular(tri, 40)  # redrawn at the new size, as pixels
    tri.locator(".fv-tri-measure").click()
    timing = tri.locator(".fv-tri-timing")
    wait_until(lambda: "fitted slopes" in timing.inner_text(), 30, what="timing results")
    text = timing.inner_text()
    assert "n=  64" in text and "LU" in text
    rows = re.findall(r"n=\s*(\d+)\s+LU (\S+) s\s+diag (\S+) s", text)
    assert [int(n) for n, _, _ in rows] == [16, 32, 64], text
    assert all(float(lu) > 0 and float(dg) > 0 for _, lu, dg in rows), rows  # medians measured, in seconds
    assert page.console.errors(VOILA_BENIGN) == []


def test_exported_page_keeps_the_heatmap_and_the_timing_offline(page: Any, tmp_path: Any) -> None:
    """save_html after a measurement, opened from file:// with the network blocked: the lower-triangular heatmap
    and the measured timing table are there, the controls that need Python (n, kind, measure) are greyed out
    with the reason, nothing leaves the page and the console is clean."""
    from flowviz.widgets.triangular import TriangularJacobian

    view = TriangularJacobian(kind="coupling", n=12, sizes=(16, 32, 64), repeats=3, diag_sizes=(4096, 16384))
    view.measure()
    tri, left = open_export(page, view.save_html(tmp_path / "triangular.html"), ".flowviz-triangular")
    assert tri.get_attribute("data-pattern") == "lower"
    assert "n = 12" in tri.locator(".fv-tri-info").inner_text()
    assert_heatmap_lower_triangular(tri, 12)
    text = tri.locator(".fv-tri-timing").inner_text()
    assert "fitted slopes" in text and "n=  64" in text, text
    for ctl in (tri.locator(".fv-tri-measure"), tri.locator(".fv-tri-kind"),
                tri.locator('.fv-params input[type=range][data-id="n"]')):
        assert ctl.is_disabled() and NEEDS_KERNEL in (ctl.get_attribute("title") or ""), ctl
    # hovering a cell reads that entry of the J Python computed (rows and columns in the triangular order)
    box = tri.locator("canvas.fv-tri-canvas").bounding_box()
    for i, j in ((7, 3), (10, 10), (2, 9)):
        page.mouse.move(box["x"] + (j + 0.5) * box["width"] / 12, box["y"] + (i + 0.5) * box["height"] / 12)
        wait_until(lambda i=i, j=j: f"row {i + 1}, column {j + 1}" in tri.locator(".fv-tri-hover").inner_text(),
                   5, what=f"the readout of cell ({i}, {j})")
        assert float(tri.get_attribute("data-hover-value")) == pytest.approx(float(view.scene.jac[i, j]), abs=1e-6)
    assert "0 (exact zero)" in tri.locator(".fv-tri-hover").inner_text()  # (2, 9): above the diagonal
    page.mouse.move(box["x"] + box["width"] + 40, box["y"] - 20)  # off the matrix: the reading goes with the pointer
    wait_until(lambda: tri.locator(".fv-tri-hover").inner_text().startswith("Hover the matrix"), 5,
               what="the hover readout to clear")
    assert tri.get_attribute("data-hover-value") is None
    assert_colour_key(tri, view.scene.jac, 12)
    assert not left, f"requests left the page: {left}"
    assert not page.console.errors()
