"""JacobianLens in a real browser (Voila + headless Chromium): renders, typing a map redraws, a hostile
expression shows the parser's message and keeps the map, and the hover readout's det J equals an
independent autograd determinant (computed here, in the test process, with torch.func in float64)."""

from __future__ import annotations

import time
from typing import Any

import pytest
import torch
from browser_support import (
    THREADS_CELL,
    VOILA_BENIGN,
    Console,
    Voila,
    assert_not_blank,
    pixel_difference,
    settle,
    wait_until,
    write_notebook,
)

pytestmark = pytest.mark.browser

NOTEBOOK = "lens.ipynb"
NONLINEAR = "z1 + 0.3*z2**3, tanh(z2) + 0.5*z1"


@pytest.fixture(scope="module")
def server(voila: Voila) -> Voila:
    write_notebook(voila.dir / NOTEBOOK, [
        THREADS_CELL,
        "from flowviz.widgets.lens import JacobianLens\nlens = JacobianLens(n_samples=5000)\nlens",
    ])
    return voila


@pytest.fixture(scope="module")
def shared(browser: Any, server: Voila) -> Any:
    """One page (one kernel) for the module: a Voila page load costs 5-25 s on a busy 2-core machine.
    Every test sets the map it needs first, so the tests do not depend on their order."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, device_scale_factor=1)
    pg = context.new_page()
    pg.console = Console()  # type: ignore[attr-defined]
    pg.console.attach(pg)
    pg.set_default_timeout(30_000)
    t0 = time.monotonic()
    pg.goto(server.url(NOTEBOOK), wait_until="domcontentloaded")
    pg.wait_for_function("() => { const el = document.querySelector('.flowviz-lens');"
                         " return el && el.dataset.version && +el.dataset.frame > 0; }", timeout=60_000)
    settle(pg)
    print(f"page to rendered lens: {time.monotonic() - t0:.1f} s")
    try:
        yield pg
    finally:
        if pg.console.errors(VOILA_BENIGN):
            print(pg.console.text())
        context.close()


def open_lens(page: Any, text: str = "z1 + z2, 2*z1") -> Any:
    """The lens on the shared page, showing ``text`` (typed into the box if it is not shown yet)."""
    from flowviz.expr import parse_map

    lens = page.locator(".flowviz-lens").first
    if f"({parse_map(text).text})" not in lens.locator(".fv-lens-info").inner_text():
        v0 = version(lens)
        type_map(page, lens, text)
        wait_until(lambda: version(lens) > v0, 20, what=f"the map {text!r}")
        settle(page)
    return lens


def main_png(lens: Any) -> bytes:
    panel = lens.locator(".fv-panel").first
    overlay = panel.locator("canvas.fv-overlay")
    overlay.evaluate("(c) => { c.style.visibility = 'hidden'; }")
    try:
        lens.page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
        return panel.locator("canvas.fv-base").screenshot(animations="disabled")
    finally:
        overlay.evaluate("(c) => { c.style.visibility = ''; }")


def type_map(page: Any, lens: Any, text: str) -> None:
    box = lens.locator(".fv-lens-text")
    box.fill(text)
    box.press("Enter")


def version(lens: Any) -> int:
    return int(lens.get_attribute("data-version") or -1)


def test_lens_renders_and_typing_changes_picture(shared: Any) -> None:
    page = shared
    lens = open_lens(page)
    assert lens.get_attribute("data-status") == "ok"
    info = lens.locator(".fv-lens-info").inner_text()
    assert "det J_f      = -2" in info and "(z1 + z2, 2 * z1)" in info
    before = main_png(lens)
    assert_not_blank(before, "lens main panel")
    v0 = version(lens)
    type_map(page, lens, NONLINEAR)
    wait_until(lambda: version(lens) > v0, 20, what="a new version after typing a map")
    settle(page)
    after = main_png(lens)
    assert_not_blank(after, "lens main panel after typing")
    assert pixel_difference(before, after) > 0.05
    assert "hover" in lens.locator(".fv-lens-info").inner_text()
    assert page.console.errors(VOILA_BENIGN) == []


def test_hostile_expression_shows_message_and_keeps_map(shared: Any) -> None:
    from flowviz.expr import ExpressionError, parse_map

    hostile = "__import__('os').system('echo pwned')"
    with pytest.raises(ExpressionError) as info:
        parse_map(hostile)
    page = shared
    lens = open_lens(page)
    v0 = version(lens)
    before = main_png(lens)
    type_map(page, lens, hostile)
    err = lens.locator(".fv-lens-error")
    wait_until(lambda: err.inner_text().strip(), 20, what="the parse error under the text box")
    assert str(info.value) in err.inner_text()
    settle(page)
    assert version(lens) == v0
    assert pixel_difference(before, main_png(lens)) < 0.01
    assert "(z1 + z2, 2 * z1)" in lens.locator(".fv-lens-info").inner_text()
    assert page.console.errors(VOILA_BENIGN) == []


def _reference_det(v: int, grid: int = 33, extent: float = 3.0) -> float:
    from flowviz.expr import parse_map
    from flowviz.scene import mesh_grid

    z = mesh_grid((-extent, extent, -extent, extent), grid, grid, dtype=torch.float64)[v]
    pm = parse_map(NONLINEAR)
    J = torch.func.jacrev(lambda q: pm(q[None])[0])(z)
    return float(torch.linalg.det(J))


def test_hover_readout_det_equals_autograd(shared: Any) -> None:
    page = shared
    lens = open_lens(page, NONLINEAR)
    overlay = lens.locator(".fv-panel").first.locator("canvas.fv-overlay")
    box = overlay.bounding_box()
    seen = set()
    for fx, fy in [(0.45, 0.45), (0.55, 0.35), (0.4, 0.6)]:
        page.mouse.move(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
        settle(page, 3)
        v = lens.get_attribute("data-hover-vertex")
        if v is None or v == "" or v in seen:
            continue
        seen.add(v)
        det = float(lens.get_attribute("data-hover-det"))
        ref = _reference_det(int(v))
        assert abs(det - ref) <= 1e-4 * max(1.0, abs(ref)), (v, det, ref)
        assert "det J_f(z) =" in lens.locator(".fv-lens-hover").inner_text()
    assert seen, "no mesh vertex was hovered"
