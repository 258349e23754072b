"""FlowPlayer in Jupyter Notebook 7: headless Chromium against a real ``jupyter notebook`` server on 127.0.0.1
(started and stopped here, with a token, no browser, isolated config).

The notebook is written into the server's temporary root, opened at ``/notebooks/<name>?token=...`` and run
with ``notebook:run-all-cells`` through ``window.jupyterapp`` (``--JupyterNotebookApp.expose_app_in_browser``).
The same page then switches Notebook 7's theme (``apputils:change-theme``) and the player must follow it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from browser_support import (
    LECTURE_FLOW,
    THREADS_CELL,
    Notebook7,
    assert_not_blank,
    image_stats,
    pixel_difference,
    plot_png,
    run_all_and_show_player,
    settle,
    start_notebook7,
    wait_until,
    write_notebook,
)

pytestmark = pytest.mark.browser

# The one error accepted, and only while the page loads, before any cell runs (so before flowviz is loaded):
# Notebook 7.6.5's keyboard-shortcut settings plugin (@jupyterlab/shortcuts-extension, bundled in notebook_core.js)
# handles another plugin's settings arriving before its own are in the registry and reads
# plugins["@jupyterlab/shortcuts-extension:shortcuts"].schema of undefined. It happens on every load, also for a
# notebook holding only `1+1` with a default configuration (no flowviz, no test settings). From running the
# notebook on, no console error and no page error at all is accepted.
HOST_LOAD_ERROR = re.compile(
    r"Cannot read properties of undefined \(reading 'schema'\)[\s\S]*/static/notebook/notebook_core\.\w+\.js")

CELLS = [
    THREADS_CELL,
    f"from flowviz import flows\nfrom flowviz.widgets import FlowPlayer\n\nFlowPlayer({LECTURE_FLOW})",
]


@pytest.fixture(scope="module")
def notebook7(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Notebook7]:
    """One Notebook 7 server for this module; notebooks go in ``notebook7.dir``."""
    nb = start_notebook7(tmp_path_factory.mktemp("nb7"))
    try:
        yield nb
    finally:
        nb.server.stop()


def _luminance(rgb: tuple[int, int, int]) -> float:
    def f(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = rgb
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b)


def _page_background(page: Any) -> tuple[int, int, int]:
    """The page's --jp-layout-color0, resolved by the browser (read from the page, not from the widget)."""
    text = page.evaluate("""() => {
        const s = document.createElement("span");
        s.style.color = "var(--jp-layout-color0)";
        document.body.append(s);
        const c = getComputedStyle(s).color;
        s.remove();
        return c; }""")
    r, g, b = (int(float(v)) for v in re.findall(r"[\d.]+", text)[:3])
    return r, g, b


def _widget_background(player: Any) -> tuple[int, int, int]:
    text = player.evaluate("(el) => getComputedStyle(el).getPropertyValue('--fv-bg')")
    r, g, b = (int(float(v)) for v in re.findall(r"[\d.]+", text)[:3])
    return r, g, b


def _plot_background(png: bytes) -> tuple[int, int, int]:
    """The most common colour of the plot canvas (the plot's background around the mesh)."""
    import io

    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB")
    colors = img.getcolors(maxcolors=img.size[0] * img.size[1] + 1) or []
    return max(colors)[1]


def test_player_in_notebook7(page: Any, notebook7: Notebook7) -> None:
    write_notebook(notebook7.dir / "nb7.ipynb", CELLS)
    t0 = time.monotonic()
    page.goto(notebook7.url("nb7.ipynb"), wait_until="domcontentloaded", timeout=120_000)
    page.wait_for_function(
        "() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel?.status === 'idle'",
        timeout=120_000)
    assert page.evaluate("() => window.jupyterapp.name") == "Jupyter Notebook", "not the Notebook 7 front end"
    console = page.console
    loading = [*(text for text, _ in console.errors_raw), *console.page_errors]
    unexpected = [e for e in loading if not HOST_LOAD_ERROR.search(e)]
    assert not unexpected, "errors while Notebook 7 loaded:\n" + "\n".join(unexpected)
    seen_errors, seen_page_errors = len(console.errors_raw), len(console.page_errors)
    # renders: status ok, no banner, a drawn plot (not blank)
    player = run_all_and_show_player(page, "Notebook 7")
    print(f"Notebook 7: page to rendered player {time.monotonic() - t0:.1f} s")
    wait_until(lambda: player.get_attribute("data-frame") and int(player.get_attribute("data-frame")) > 0, 10,
               what="a drawn frame")
    png0 = plot_png(player)
    print(assert_not_blank(png0, "Notebook 7 player"))

    # scrubbing changes the picture: drag the layer slider's thumb to three quarters, then keys to the end
    slider = player.locator(".fv-slider")
    K = int(slider.get_attribute("max"))
    assert K == 4
    # centre it in the notebook's scroll area: Notebook 7's sticky toolbar would cover it at the top edge
    slider.evaluate("(e) => e.scrollIntoView({block: 'center'})")
    settle(page)
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 4, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.75, y, steps=10)
    page.mouse.up()
    wait_until(lambda: float(player.get_attribute("data-position")) > 0, 5, what="data-position to move")
    settle(page)
    pos = float(player.get_attribute("data-position"))
    assert abs(pos - 0.75 * K) < 0.35, pos
    png1 = plot_png(player)
    changed = pixel_difference(png0, png1)
    assert changed > 0.05, f"only {changed:.1%} of the plot changed when scrubbing"
    player.focus()
    page.keyboard.press("End")
    wait_until(lambda: player.get_attribute("data-k") == str(K), 5, what="the last layer")
    settle(page)
    png2 = plot_png(player)
    assert pixel_difference(png1, png2) > 0.05
    assert_not_blank(png2, "Notebook 7 player at the last layer")

    # the theme follows the page: Notebook 7's own theme switch, to dark and back to light
    def theme_is(dark: bool) -> bool:
        return page.evaluate("() => document.body.dataset.jpThemeLight") == ("false" if dark else "true")

    seen = {}
    for name, dark in (("JupyterLab Dark", True), ("JupyterLab Light", False)):
        page.evaluate("(theme) => window.jupyterapp.commands.execute('apputils:change-theme', {theme})", name)
        wait_until(lambda dark=dark: theme_is(dark), 20, what=f"the page theme {name}")
        wait_until(lambda dark=dark: player.get_attribute("data-theme") == ("dark" if dark else "light"), 10,
                   what=f"the player to follow {name}")
        # the page's own background colour has settled once the widget reports the same one
        wait_until(lambda: _widget_background(player) == _page_background(page), 10,
                   what=f"the player's background to be the page's --jp-layout-color0 under {name}")
        settle(page)
        bg = _page_background(page)
        assert (_luminance(bg) < 0.35) == dark, (name, bg)
        png = plot_png(player)
        assert_not_blank(png, f"the player under {name}")
        seen[dark] = (bg, _plot_background(png), png)
    (bg_dark, plot_dark, png_dark), (bg_light, plot_light, png_light) = seen[True], seen[False]
    print(f"page background dark {bg_dark} light {bg_light}; plot background dark {plot_dark} light {plot_light}")
    assert _luminance(plot_dark) < 0.2 < 0.6 < _luminance(plot_light), (plot_dark, plot_light)
    assert pixel_difference(png_dark, png_light) > 0.3
    assert image_stats(png_light).distinct >= 100

    errors = [f"{t} ({u})" for t, u in console.errors_raw[seen_errors:]] + console.page_errors[seen_page_errors:]
    assert not errors, "console errors after the notebook ran:\n" + "\n".join(errors)
