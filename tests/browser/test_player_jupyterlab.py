"""FlowPlayer in JupyterLab: headless Chromium against a real JupyterLab server (isolated config, no token).

The notebook is written into the server's temporary root (JupyterLab autosaves into it), opened, and run
with ``notebook:run-all-cells`` through ``window.jupyterapp`` (``--LabApp.expose_app_in_browser``).
"""

from __future__ import annotations

import math
import re
import time
from typing import Any

import pytest
from browser_support import (
    LECTURE_FLOW,
    THREADS_CELL,
    Server,
    assert_not_blank,
    coloured_spots,
    hover_reads_vertex_under_pointer,
    lecture_flow,
    plot_png,
    run_all_and_show_player,
    settle,
    wait_until,
    write_notebook,
)

pytestmark = pytest.mark.browser

# Console errors accepted in JupyterLab, each (text pattern, URL pattern) with the reason. None so far:
# with the announcements extension disabled (no news fetch) JupyterLab 4.6 logs no errors offline.
LAB_BENIGN: list[tuple[re.Pattern, re.Pattern]] = []

CELLS = [
    THREADS_CELL,
    f"from flowviz import flows\nfrom flowviz.widgets import FlowPlayer\n\nFlowPlayer({LECTURE_FLOW})",
]


def test_player_renders_in_jupyterlab(page: Any, jupyterlab: Server) -> None:
    write_notebook(jupyterlab.dir / "lab.ipynb", CELLS)
    t0 = time.monotonic()
    page.goto(f"{jupyterlab.base}/lab/tree/lab.ipynb", wait_until="domcontentloaded", timeout=120_000)
    page.wait_for_function(
        "() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel?.status === 'idle'",
        timeout=120_000)
    player = run_all_and_show_player(page, "JupyterLab")
    print(f"JupyterLab: page to rendered player {time.monotonic() - t0:.1f} s")
    # scrub to the last state, and hover: the readout works inside JupyterLab's layout too
    player.focus()
    page.keyboard.press("End")
    wait_until(lambda: player.get_attribute("data-k") == "4", 5, what="the last layer")
    settle(page)
    png = plot_png(player)
    stats = assert_not_blank(png, "JupyterLab player")
    print(stats)
    overlay = player.locator(".fv-panel").last.locator("canvas.fv-overlay")
    box = overlay.bounding_box()
    fx, fy = coloured_spots(png, 1)[0]
    page.mouse.move(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
    readout = player.locator(".fv-readout")
    wait_until(lambda: readout.get_attribute("data-det") is not None, 5, what="a hover readout")
    assert readout.get_attribute("data-k") == "4"
    # layer 4 is the radial map around z0 = (0.5, -0.5), alpha 0.5, beta 1: det J = (1 + b h)(1 + b h - b h^2 r),
    # h = 1 / (alpha + r), at the vertex's input position (state 3 of the same mesh, computed in this process)
    from flowviz.widgets import FlowPlayer

    v = int(readout.get_attribute("data-vertex"))
    mesh = FlowPlayer(lecture_flow()).scene.mesh
    q = mesh[3][v].astype(float)
    r = math.hypot(q[0] - 0.5, q[1] + 0.5)
    h = 1.0 / (0.5 + r)
    det = (1.0 + h) * (1.0 + h - h * h * r)
    shown = float(readout.get_attribute("data-det"))
    assert abs(shown - det) <= 1e-4 * max(1.0, abs(det)), f"vertex {v}: det J {shown} in the page, {det} by hand"
    # ... and the vertex read is the one under the pointer inside JupyterLab's layout (scrolled, windowed)
    hover_reads_vertex_under_pointer(page, player, mesh, n=2)
    errors = page.console.errors(LAB_BENIGN)
    assert not errors, "console errors:\n" + "\n".join(errors)
