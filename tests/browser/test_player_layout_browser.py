"""FlowPlayer's layout in real headless Chromium: it resizes with its cell (a narrower or wider output area
redraws the plot at the new size, with equal scales on both axes and the hover still reading the vertex under
the pointer), on a high-density screen the canvases have device pixels behind every CSS pixel, the
presentation preset enlarges type and the plot for a projector, and the keyboard drives it only while it has
focus (a slide deck keeps its arrow keys).

Exported pages (``save_html``) are enough here: the layout is the browser's alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_support import (
    assert_not_blank,
    hover_reads_vertex_under_pointer,
    lecture_flow,
    new_page,
    open_export,
    plot_png,
    settle,
    wait_until,
)

pytestmark = pytest.mark.browser


def _layout(player: Any) -> dict[str, Any]:
    """The x panel as drawn: its canvas's CSS box and backing store, data-view (x0, x1, y0, y1) and data-plot
    (left, top, width, height of the plot rectangle in CSS pixels of the canvas)."""
    panel = player.locator(".fv-panel").last
    canvas = panel.locator("canvas.fv-base")
    box = canvas.bounding_box()
    backing = canvas.evaluate("(c) => [c.width, c.height]")
    view = [float(v) for v in panel.get_attribute("data-view").split(",")]
    plot = [float(v) for v in panel.get_attribute("data-plot").split(",")]
    return {"box": box, "backing": backing, "view": view, "plot": plot}


def _check_layout(lay: dict[str, Any], dpr: int) -> None:
    box, (bw, bh), (x0, x1, y0, y1), (left, top, width, height) = lay["box"], lay["backing"], lay["view"], lay["plot"]
    # device pixels behind every CSS pixel (a blurry, up-scaled canvas otherwise)
    assert abs(bw - round(box["width"] * dpr)) <= 1 and abs(bh - round(box["height"] * dpr)) <= 1, (lay, dpr)
    # the plot rectangle inside the canvas, and equal scales on both axes (a circle stays a circle)
    assert 0 <= left and left + width <= box["width"] + 1 and 0 <= top and top + height <= box["height"] + 1, lay
    sx, sy = width / (x1 - x0), height / (y1 - y0)
    assert abs(sx - sy) <= 0.01 * sx, f"unequal scales: {sx:.3f} vs {sy:.3f} px per unit ({lay})"


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Any]:
    """The lecture flow's player at its last layer, exported with each preset; and its scene."""
    from flowviz.widgets import FlowPlayer

    d = tmp_path_factory.mktemp("layout")
    player = FlowPlayer(lecture_flow(), n_points=3000, grid=33, position=4.0)
    notebook = player.save_html(d / "notebook.html")
    player.preset = "presentation"
    presentation = player.save_html(d / "presentation.html")
    return notebook, presentation, player.scene


@pytest.mark.parametrize("dpr", [1, 2])
def test_player_resizes_with_its_cell(browser: Any, exported: tuple[Path, Path, Any], dpr: int) -> None:
    """The output area narrows to 420 px and widens again (a notebook's cell, a resized window, a side-by-side
    layout): the plot is redrawn at each size, never stretched, and the hover still reads the vertex under
    the pointer. At a device pixel ratio of 2 (a high-density screen or projector) the canvases have two
    device pixels per CSS pixel each way."""
    path, _, scene = exported
    context, page, _ = new_page(browser, device_scale_factor=dpr)
    try:
        p, left = open_export(page, path, ".flowviz-player")
        assert p.get_attribute("data-position") == "4"
        wide = _layout(p)
        _check_layout(wide, dpr)
        assert_not_blank(plot_png(p), "the plot at full width")
        hover_reads_vertex_under_pointer(page, p, scene.mesh)

        root = page.locator("#flowviz-root")
        draws = int(p.get_attribute("data-canvas-draws"))
        root.evaluate("(el) => { el.style.width = '420px'; }")
        wait_until(lambda: _layout(p)["box"]["width"] < wide["box"]["width"] - 50, 10, what="the plot to narrow")
        wait_until(lambda: int(p.get_attribute("data-canvas-draws")) > draws, 10, what="a redraw at the new size")
        settle(page)
        narrow = _layout(p)
        _check_layout(narrow, dpr)
        assert narrow["box"]["x"] + narrow["box"]["width"] <= root.bounding_box()["x"] + 420 + 1, "wider than its cell"
        assert_not_blank(plot_png(p), "the plot at 420 px")
        hover_reads_vertex_under_pointer(page, p, scene.mesh)

        root.evaluate("(el) => { el.style.width = ''; }")
        wait_until(lambda: abs(_layout(p)["box"]["width"] - wide["box"]["width"]) <= 1, 10, what="the plot to widen")
        settle(page)
        _check_layout(_layout(p), dpr)
        hover_reads_vertex_under_pointer(page, p, scene.mesh, n=2)
        assert not left, f"requests left the page: {left}"
        assert not page.console.errors()
    finally:
        context.close()


def test_player_follows_a_change_of_pixel_density(browser: Any, exported: tuple[Path, Path, Any]) -> None:
    """The window moves to a screen of another pixel density (a laptop's at 1 to a projector's at 2, and back):
    no element changes size, yet the canvases get the new backing store and are redrawn, with nothing else
    happening on the page (the player is idle).

    Chromium's device emulation changes devicePixelRatio and what resolution media queries match, but (measured
    here, headless) fires neither their "change" event nor "resize", which a real move between screens fires.
    So the page records the resolution queries it creates, and the test fires "change" on them after the
    emulated change, as the browser would; everything else is the browser's own."""
    path, _, scene = exported
    context, page, _ = new_page(browser, device_scale_factor=1)
    page.add_init_script("""(() => { const mm = window.matchMedia.bind(window); window.__fvResolutionQueries = [];
        window.matchMedia = (q) => { const m = mm(q); if (/resolution/.test(q)) window.__fvResolutionQueries.push(m);
                                     return m; }; })();""")
    try:
        p, left = open_export(page, path, ".flowviz-player")
        assert page.evaluate("window.__fvResolutionQueries.length") >= 1, "the player watches no resolution query"
        _check_layout(_layout(p), 1)
        cdp = context.new_cdp_session(page)
        vp = page.viewport_size
        for dpr in (2, 1):
            draws = int(p.get_attribute("data-canvas-draws"))
            cdp.send("Emulation.setDeviceMetricsOverride",
                     {"width": vp["width"], "height": vp["height"], "deviceScaleFactor": dpr, "mobile": False})
            assert page.evaluate("devicePixelRatio") == dpr
            page.evaluate("window.__fvResolutionQueries.filter((m) => !m.matches)"
                          ".forEach((m) => m.dispatchEvent(new Event('change')))")
            wait_until(lambda dpr=dpr: _layout(p)["backing"][0] == round(_layout(p)["box"]["width"] * dpr), 10,
                       what=f"the backing store at device pixel ratio {dpr}")
            wait_until(lambda draws=draws: int(p.get_attribute("data-canvas-draws")) > draws, 10,
                       what=f"a redraw at device pixel ratio {dpr}")
            settle(page)
            _check_layout(_layout(p), dpr)
        # (screenshots and the hover last: Playwright's screenshot re-applies its own device metrics)
        assert_not_blank(plot_png(p), "the plot back at device pixel ratio 1")
        hover_reads_vertex_under_pointer(page, p, scene.mesh, n=2)
        assert not left, f"requests left the page: {left}"
        assert not page.console.errors()
    finally:
        context.close()


def test_presentation_preset_enlarges_type_plot_and_marks(browser: Any, exported: tuple[Path, Path, Any]) -> None:
    """``preset="presentation"``: type 1.6 times larger and a larger plot (on a wide screen), with equal scales
    and the hover reading the vertex under the pointer."""
    notebook, presentation, scene = exported
    got = {}
    for name, path in (("notebook", notebook), ("presentation", presentation)):
        context, page, console = new_page(browser)
        try:
            page.set_viewport_size({"width": 1800, "height": 1300})
            p, left = open_export(page, path, ".flowviz-player")
            assert p.get_attribute("data-preset") == name
            lay = _layout(p)
            _check_layout(lay, 1)
            assert_not_blank(plot_png(p), f"the {name} plot")
            hover_reads_vertex_under_pointer(page, p, scene.mesh, n=1)
            got[name] = {
                "font": float(p.evaluate("(el) => parseFloat(getComputedStyle(el).fontSize)")),
                "label": float(p.locator(".fv-layer-label").first.evaluate(
                    "(el) => parseFloat(getComputedStyle(el).fontSize)")),
                "width": lay["box"]["width"],
            }
            assert not left and not console.errors(), (left, console.errors())
        finally:
            context.close()
    nb, pr = got["notebook"], got["presentation"]
    assert abs(pr["font"] / nb["font"] - 1.6) < 0.02, got
    assert abs(pr["label"] / nb["label"] - 1.6) < 0.05, got
    assert pr["width"] > 1.4 * nb["width"], got


def test_keys_drive_the_player_only_while_it_has_focus(page: Any, exported: tuple[Path, Path, Any]) -> None:
    """A slide deck (Reveal.js in Voila's slides) listens for arrow keys on the document. Without focus the
    player leaves every key to the page; focused (Tab, or a click on it), Space plays and pauses, the arrows
    step whole layers and Home / End jump, and those keys do not also reach the deck."""
    path, _, _ = exported
    p, left = open_export(page, path, ".flowviz-player")
    page.evaluate("() => { window.deckKeys = [];"
                  " document.addEventListener('keydown', (e) => window.deckKeys.push(e.key)); }")
    deck = lambda: page.evaluate("() => window.deckKeys.slice()")  # noqa: E731
    position = lambda: float(p.get_attribute("data-position"))  # noqa: E731
    assert position() == 4

    page.locator("body").evaluate("(b) => { document.activeElement?.blur(); b.focus(); }")
    for key in ("ArrowLeft", "Home", "Space", "ArrowRight"):
        page.keyboard.press(key)
    settle(page)
    assert deck() == ["ArrowLeft", "Home", " ", "ArrowRight"]
    playing = lambda: page.evaluate("() => window.flowvizModel.get('playing')")  # noqa: E731
    assert position() == 4 and playing() is False, "the player took keys it had no focus for"

    page.keyboard.press("Tab")  # the player is the page's first stop
    assert p.evaluate("(el) => document.activeElement === el")
    seen = deck()
    page.keyboard.press("ArrowLeft")
    wait_until(lambda: position() == 3, 5, what="ArrowLeft to step back one layer")
    page.keyboard.press("Home")
    wait_until(lambda: position() == 0, 5, what="Home")
    page.keyboard.press("End")
    wait_until(lambda: position() == 4, 5, what="End")
    page.keyboard.press("Home")
    page.keyboard.press("Space")
    wait_until(lambda: 0 < position() < 4 and playing() is True, 5, what="Space to play")
    page.keyboard.press("Space")
    wait_until(lambda: playing() is False, 5, what="Space to pause")
    paused = position()
    settle(page, 10)
    assert position() == paused and paused < 4, "the position moved after the pause"
    assert deck() == seen, f"keys the player handled reached the deck too: {deck()[len(seen):]}"

    page.keyboard.press("Shift+Tab")  # focus leaves: the keys are the page's again
    page.keyboard.press("ArrowRight")
    settle(page)
    assert position() == paused and deck()[-1] == "ArrowRight"
    assert not left and not page.console.errors()
