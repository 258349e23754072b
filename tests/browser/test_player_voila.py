"""FlowPlayer in a real browser: headless Chromium (Playwright) against a real Voila server.

One Voila server for the module serves a notebook written here; every test opens its own page (and so
its own kernel: tests do not share state). The notebook prints ``FLOWVIZ_RUN <kernel pid>`` and writes,
from that kernel, an independent reference (``ref-<pid>.json``: the lecture flow's four maps written out in numpy,
float64: every state of the base mesh, every layer's Jacobian determinant at every vertex in closed form, and
log p_k) and the static export ``player-<pid>.html``.
A Label widget (class ``fv-probe``) reports what the kernel holds: meta.version, status, position, the
value of every control and the radial layer's centre, so the tests can compare what the browser shows with
what Python computed.
"""

from __future__ import annotations

import io
import json
import math
import re
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from browser_support import (
    LECTURE_FLOW,
    THREADS_CELL,
    VOILA_BENIGN,
    Voila,
    assert_not_blank,
    assert_redrawn,
    assert_vertex_under_pointer,
    block_network,
    coloured_spots,
    is_descendant,
    lecture_flow,
    pixel_difference,
    plot_png,
    rss_bytes,
    set_range,
    settle,
    wait_until,
    write_notebook,
)

pytestmark = pytest.mark.browser

NOTEBOOK = "player.ipynb"

CELLS = [
    THREADS_CELL,
    f"""\
import copy, json, os
import ipywidgets as widgets
from flowviz import flows
from flowviz.widgets import FlowPlayer

flow = {LECTURE_FLOW}
player = FlowPlayer(flow)
RUN = os.getpid()""",
    """\
# Independent reference from this kernel, in closed form (numpy, float64; no flowviz maths): the player's base
# mesh pushed through the four lecture maps, every layer's det J at every vertex, and log p_k.
import numpy as np
z = player.scene.mesh[0].astype(np.float64)
s, t = np.array([1.5, 0.6]), np.array([0.5, 0.0])
W = np.array([[1.0, 1.0], [2.0, 0.0]])
u, w, b = np.array([1.0, 0.5]), np.array([1.2, 0.3]), 0.0
wu = w @ u
u_hat = u + (-1.0 + np.log1p(np.exp(wu)) - wu) * w / (w @ w)  # Rezende & Mohamed's constraint w.u_hat >= -1
z0, alpha, beta = np.array([0.5, -0.5]), 0.5, 1.0
def affine(x): return s * x + t, np.full(len(x), s.prod())
def linear(x): return x @ W.T, np.full(len(x), np.linalg.det(W))
def planar(x):
    a = np.tanh(x @ w + b)
    return x + a[:, None] * u_hat, 1.0 + (1.0 - a ** 2) * (w @ u_hat)  # matrix determinant lemma
def radial(x):
    d = x - z0
    r = np.linalg.norm(d, axis=1)
    h = 1.0 / (alpha + r)
    return x + (beta * h)[:, None] * d, (1.0 + beta * h) * (1.0 + beta * h - beta * h * h * r)
log_pi = -0.5 * (z ** 2).sum(1) - np.log(2 * np.pi)
state, cum = z, np.zeros(len(z))
dets, logps, mesh = [], [log_pi.tolist()], [z.tolist()]
for f in (affine, linear, planar, radial):
    state, det = f(state)
    cum = cum + np.log(np.abs(det))
    dets.append(det.tolist())
    logps.append((log_pi - cum).tolist())
    mesh.append(state.tolist())
with open(f"ref-{RUN}.json", "w") as fh:
    json.dump({"K": len(flow.layers), "V": len(z), "det": dets, "logp": logps, "mesh": mesh}, fh)
_ = player.save_html(f"player-{RUN}.html")""",
    """\
probe = widgets.Label()
probe.add_class("fv-probe")
def report(_=None):
    probe.value = json.dumps({"version": player.meta.get("version"), "status": player.status,
                              "position": player.position, "values": {c["id"]: c["value"] for c in player.controls},
                              "centre": flow.layers[3].centre.tolist()})  # the radial layer's z0, as the model holds it
player.observe(report, names=["meta", "controls", "position"])
report()
display(player, probe)""",
    # a second player drawn with the Canvas2D fallback renderer
    "display(FlowPlayer(flows.Flow([flows.Planar(2, u=[1.0, 0.5], w=[1.2, 0.3], b=0.0)]), renderer='canvas2d'))",
    'print(f"FLOWVIZ_RUN {RUN}")',
]


@pytest.fixture(scope="module")
def server(voila: Voila) -> Voila:
    write_notebook(voila.dir / NOTEBOOK, CELLS)
    return voila


@dataclass
class Run:
    """One rendered notebook: the page, its first player's root locator and its kernel."""

    page: Any
    player: Any
    pid: int
    ref: dict[str, Any]
    dir: Path

    def attr(self, name: str, sel: str | None = None) -> str | None:
        loc = self.player if sel is None else self.player.locator(sel)
        return loc.get_attribute(f"data-{name}")

    def probe(self) -> dict[str, Any]:
        return json.loads(self.page.locator(".fv-probe").first.text_content())

    def version(self) -> int:
        return int(self.attr("version") or -1)

    def png(self) -> bytes:
        return plot_png(self.player)


def _kernel_pid(page: Any, timeout_ms: int = 90_000) -> int:
    page.wait_for_function("() => /FLOWVIZ_RUN \\d+/.test(document.body.innerText)", timeout=timeout_ms)
    return int(re.search(r"FLOWVIZ_RUN (\d+)", page.locator("body").inner_text()).group(1))


def open_player(page: Any, server: Voila) -> Run:
    """Load the notebook in Voila and wait until the first player has drawn the kernel's data."""
    t0 = time.monotonic()
    page.goto(server.url(NOTEBOOK), wait_until="domcontentloaded", timeout=120_000)  # Voila runs the notebook first
    pid = _kernel_pid(page)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.flowviz-player')].length >= 2 && "
        "[...document.querySelectorAll('.flowviz-player')].every((el) => el.dataset.version && el.dataset.frame)",
        timeout=60_000)
    player = page.locator(".flowviz-player").first
    settle(page)
    ref = json.loads((server.dir / f"ref-{pid}.json").read_text())
    print(f"page to rendered player: {time.monotonic() - t0:.1f} s (kernel {pid})")
    return Run(page, player, pid, ref, server.dir)


def drag_slider(page: Any, slider: Any, fraction: float) -> None:
    """Drag a range input's thumb with the mouse from its left end to ``fraction`` of its width."""
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 4, y)
    page.mouse.down()
    for i in range(1, 11):
        page.mouse.move(box["x"] + 4 + (box["width"] * fraction - 4) * i / 10, y)
    page.mouse.up()


def hover_readouts(run: Run, n: int) -> list[dict[str, float]]:
    """Hover ``n`` places on the drawn mesh of the x panel (found in a screenshot of the plot canvas);
    the readout's numbers for each."""
    page, readout = run.page, run.player.locator(".fv-readout")
    overlay = run.player.locator(".fv-panel").last.locator("canvas.fv-overlay")
    box = overlay.bounding_box()
    avoid = []
    banner = run.player.locator(".fv-status")
    if banner.is_visible():  # it lies over the plot and takes the pointer
        b = banner.bounding_box()
        x0, y0 = b["x"] - box["x"], b["y"] - box["y"]
        avoid.append((x0, y0, x0 + b["width"], y0 + b["height"]))
    points = coloured_spots(run.png(), n, avoid=avoid)
    panel = run.player.locator(".fv-panel").last
    out = []
    for fx, fy in points:
        before = (readout.get_attribute("data-vertex"), readout.get_attribute("data-k"))
        px, py = fx * box["width"], fy * box["height"]  # CSS px in the overlay canvas
        page.mouse.move(box["x"] + px, box["y"] + py)
        wait_until(lambda before=before: (readout.get_attribute("data-vertex"), readout.get_attribute("data-k"))
                   != before and readout.get_attribute("data-vertex") is not None, 5, what=f"a readout at {fx, fy}")
        d = readout.evaluate("(el) => ({...el.dataset})")
        r: dict[str, Any] = {k: float(v) for k, v in d.items()}
        # what the user reads: the readout's table rows, label -> text
        r["rows"] = readout.evaluate(
            "(el) => Object.fromEntries([...el.querySelectorAll('tr')].map((tr) => [tr.cells[0].textContent.trim(),"
            " tr.cells[1].textContent]))")
        # the pointer in data units, from the view and plot rectangle the panel drew with (equal scales)
        x0, x1, y0, y1 = (float(v) for v in panel.get_attribute("data-view").split(","))
        left, top, width, height = (float(v) for v in panel.get_attribute("data-plot").split(","))
        r["pointer"] = (x0 + (px - left) / width * (x1 - x0), y1 - (py - top) / height * (y1 - y0))
        r["px_per_unit"] = width / (x1 - x0)
        out.append(r)
    return out


def shown_number(text: str) -> float:
    """A number as the readout prints it (at most 5 significant digits, e.g. "-1.2346" or "2.5e-7")."""
    m = re.match(r"\s*(-?[0-9.]+(?:e-?\d+)?)", text)
    assert m, f"no number in {text!r}"
    return float(m.group(1))


def assert_shown(text: str, truth: float, what: object = "") -> None:
    """The readout shows a number only to the digits it carries (readout.js formatWithin): each digit right to one
    unit of the last one shown ("≈0" where nothing is left; trailing zeros are not printed, so "1" may stand for
    1.0000). The lecture flow is well conditioned: its numbers keep 5 significant digits (within 6e-5)."""
    if text == "\u22480":
        assert abs(truth) < 1e-5, (what, text, truth)
        return
    m = re.fullmatch(r"(-?)(\d+)(?:\.(\d+))?(?:e(-?\d+))?", text.strip())
    assert m, f"{what}: no number in {text!r}"
    place = 10.0 ** ((int(m.group(4)) if m.group(4) else 0) - (len(m.group(3)) if m.group(3) else 0))
    assert abs(float(text) - truth) <= 1.0001 * place, (what, text, truth)
    assert abs(float(text) - truth) <= 6e-5 * max(1.0, abs(truth)), (what, "too few digits", text, truth)


def close(a: float, b: float, tol: float = 1e-4) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(b))


# -- tests ---------------------------------------------------------------------------------------------
def test_player_renders_in_voila(page: Any, server: Voila) -> None:
    run = open_player(page, server)
    p = run.player
    assert p.get_attribute("data-status") == "ok"
    assert p.locator(".fv-status").is_hidden()
    assert p.get_attribute("data-renderer") in ("webgl2", "canvas2d")
    if p.get_attribute("data-renderer") == "webgl2":
        # multisampling follows the rasteriser: off for a software one (SwiftShader in these tests), on for a GPU
        name = page.evaluate("""() => { const g = document.createElement('canvas').getContext('webgl2');
            const e = g.getExtension('WEBGL_debug_renderer_info');
            return String(e ? g.getParameter(e.UNMASKED_RENDERER_WEBGL) : g.getParameter(g.RENDERER)); }""")
        software = any(w in name.lower() for w in ("swiftshader", "llvmpipe", "software"))
        assert p.get_attribute("data-antialias") == ("false" if software else "true"), name
    assert p.locator(".fv-slider").get_attribute("max") == str(run.ref["K"])
    stats = assert_not_blank(run.png(), "x panel")
    print(f"renderer {p.get_attribute('data-renderer')}, {stats}")
    # the Canvas2D fallback draws too
    second = page.locator(".flowviz-player").nth(1)
    assert second.get_attribute("data-renderer") == "canvas2d"
    assert second.get_attribute("data-status") == "ok"
    assert_not_blank(plot_png(second), "Canvas2D player")
    # the kernel's view matches what the browser shows
    probe = run.probe()
    assert probe["status"] == "ok" and probe["version"] == run.version()
    assert is_descendant(run.pid, server.server.pid), "the kernel that ran the notebook is not Voila's child"
    # the lecture flow's 25 controls fold behind one click (a slide can show the plot alone), and come back
    summary = p.locator(".fv-params-box > summary")
    slider = p.locator('.fv-params input[type=range][data-id="L1.shift.0"]')
    assert slider.is_visible()
    def plot_offset() -> float:  # the plot's top within the player (the page may scroll)
        return p.locator(".fv-panel").last.bounding_box()["y"] - p.bounding_box()["y"]

    before = plot_offset()
    summary.click()
    wait_until(lambda: slider.is_hidden(), 5, what="the sliders to fold away")
    assert plot_offset() < before - 100, f"the plot did not move up: {before} -> {plot_offset()}"
    summary.click()
    wait_until(lambda: slider.is_visible(), 5, what="the sliders to come back")
    errors = page.console.errors(VOILA_BENIGN)
    assert not errors, "console errors:\n" + "\n".join(errors)


def test_dragging_the_layer_slider_changes_the_picture(page: Any, server: Voila) -> None:
    run = open_player(page, server)
    p = run.player
    assert float(p.get_attribute("data-position")) == 0 and p.get_attribute("data-k") == "0"
    before = run.png()
    drag_slider(page, p.locator(".fv-slider"), 0.75)
    K = run.ref["K"]
    wait_until(lambda: float(p.get_attribute("data-position")) > 0, 5, what="data-position to move")
    settle(page)
    pos = float(p.get_attribute("data-position"))
    assert abs(pos - 0.75 * K) < 0.35, pos
    assert p.get_attribute("data-k") == str(round(pos)) != "0"
    assert_redrawn(before, run.png(), 0.05, "after scrubbing")
    # the position reached the kernel (written when the drag ended)
    wait_until(lambda: abs(run.probe()["position"] - pos) < 1e-6, 10, what="the kernel to receive the position")
    assert not page.console.errors(VOILA_BENIGN)


def test_hover_readout_equals_closed_form_determinant(page: Any, server: Voila) -> None:
    run = open_player(page, server)
    p, ref = run.player, run.ref
    n = 6
    checked = 0
    for k in (4, 3, 1):  # Radial, Planar (dets vary by vertex), Affine (constant det 0.9)
        p.focus()
        page.keyboard.press("End")
        for _ in range(ref["K"] - k):
            page.keyboard.press("ArrowLeft")
        wait_until(lambda k=k: p.get_attribute("data-k") == str(k), 5, what=f"layer {k}")
        settle(page)
        readouts = hover_readouts(run, n)
        dets = set()
        for r in readouts:
            assert int(r["k"]) == k
            v = int(r["vertex"])
            assert_vertex_under_pointer(r, ref["mesh"][k])
            det_py, logp_py = ref["det"][k - 1][v], ref["logp"][k][v]
            assert close(r["det"], det_py), f"layer {k} vertex {v}: browser det {r['det']} != closed form {det_py}"
            assert_shown(r["rows"]["det J"], det_py, ("det J", k, v))  # the text the user reads
            assert close(r["logdet"], math.log(abs(det_py))), (k, v, r["logdet"], det_py)
            assert close(r["logp"], logp_py), f"layer {k} vertex {v}: log p {r['logp']} != {logp_py}"
            # the split in the lecture's form: log p = log pi(z) + sum_j log|det J_{G_j^-1}|, each term shown
            for j in range(1, k + 1):
                term = -math.log(abs(ref["det"][j - 1][v]))
                label = f"+ log|det J{chr(0x2080 + j)}\u207b\u00b9|"
                assert_shown(r["rows"][label], term, (k, v, label))
            dets.add(round(r["det"], 6))
            checked += 1
        if k in (3, 4):
            assert len(dets) >= 4, f"layer {k}: hovering six places gave only dets {dets}: not a nonlinear check"
        else:
            assert dets == {0.9}, dets
    assert checked == 3 * n
    assert not page.console.errors(VOILA_BENIGN)


def _watch_computing(page: Any, player: Any) -> None:
    player.locator(".fv-computing").evaluate(
        "(el) => { window.__fvComputingShown = !el.hidden; new MutationObserver(() => {"
        " if (!el.hidden) window.__fvComputingShown = true; }).observe(el, {attributes: true}); }")


def test_parameter_slider_recomputes_and_redraws(page: Any, server: Voila) -> None:
    run = open_player(page, server)
    p = run.player
    p.focus()
    page.keyboard.press("End")  # show the last state, where every layer has acted
    wait_until(lambda: p.get_attribute("data-k") == str(run.ref["K"]), 5, what="the last layer")
    settle(page)
    before, v0 = run.png(), run.version()
    slider = p.locator('.fv-params input[type=range][data-id="L3.u.1"]')
    assert float(slider.input_value()) == pytest.approx(0.5)
    _watch_computing(page, p)
    t0 = time.monotonic()
    slider.focus()
    page.keyboard.press("Home")  # u2 of the planar layer: 0.5 -> -3 (its minimum)
    assert slider.input_value() == "-3"
    wait_until(lambda: run.version() > v0, 15, what="data-version to increase")
    latency = time.monotonic() - t0
    wait_until(lambda: p.locator(".fv-computing").is_hidden(), 5, what=".fv-computing to clear")
    assert page.evaluate("window.__fvComputingShown"), ".fv-computing never showed"
    probe = run.probe()
    assert probe["values"]["L3.u.1"] == pytest.approx(-3.0, abs=1e-6)
    assert probe["version"] == run.version(), "the browser shows a different version than the kernel holds"
    settle(page)
    print(f"slider -> new picture in {latency:.2f} s")
    assert_redrawn(before, run.png(), 0.05, "after the parameter change")
    assert p.get_attribute("data-status") == "ok"
    assert not page.console.errors(VOILA_BENIGN)


@dataclass
class PanelMap:
    """Data units <-> page pixels of the x panel, from the view box and plot rectangle the panel reports
    (``data-view``: x0, x1, y0, y1; ``data-plot``: left, top, width, height in CSS pixels of the overlay)."""

    x0: float
    y1: float
    scale: float  # CSS pixels per data unit (equal on both axes)
    left: float
    top: float

    @classmethod
    def read(cls, player: Any) -> PanelMap:
        panel = player.locator(".fv-panel").last
        x0, x1, y0, y1 = (float(v) for v in panel.get_attribute("data-view").split(","))
        left, top, width, height = (float(v) for v in panel.get_attribute("data-plot").split(","))
        box = panel.locator("canvas.fv-overlay").bounding_box()
        sx, sy = width / (x1 - x0), height / (y1 - y0)
        assert abs(sx - sy) < 1e-6 * sx, f"unequal axis scales {sx} {sy}"
        return cls(x0, y1, sx, box["x"] + left, box["y"] + top)

    def page(self, x: float, y: float) -> tuple[float, float]:
        return self.left + (x - self.x0) * self.scale, self.top + (self.y1 - y) * self.scale

    def data(self, px: float, py: float) -> tuple[float, float]:
        return self.x0 + (px - self.left) / self.scale, self.y1 - (py - self.top) / self.scale


def test_dragging_the_radial_centre_moves_the_layer(page: Any, server: Voila) -> None:
    """Layer 4 of the lecture flow is Radial: at layer position t in (3, 4] its centre z0 is a handle on the
    x panel, in the coordinates of the layer's input. Drag it with the mouse: the kernel's layer centre is the
    dropped data point (to a pixel), the sliders follow, the handle stays under the pointer, the picture changes."""
    run = open_player(page, server)
    p = run.player
    panel = p.locator(".fv-panel").last
    overlay = panel.locator("canvas.fv-overlay")
    assert panel.get_attribute("data-handle") is None, "no handle at state 0: layer 4 is not being shown"
    p.focus()
    page.keyboard.press("End")
    wait_until(lambda: p.get_attribute("data-k") == "4", 5, what="the last layer")
    wait_until(lambda: panel.get_attribute("data-handle") is not None, 5, what="the radial centre's handle")
    settle(page)
    m = PanelMap.read(p)
    c0 = run.probe()["centre"]
    layer, hx_data, hy_data = (float(v) for v in panel.get_attribute("data-handle").split(","))
    assert layer == 4 and abs(hx_data - c0[0]) < 1e-6 and abs(hy_data - c0[1]) < 1e-6, (layer, hx_data, hy_data, c0)
    hx, hy = m.page(*c0)
    # the handle is drawn there: the overlay has paint at z0's pixel now, and none at state 2 (no handle)
    def painted(x: float, y: float) -> int:
        return overlay.evaluate("""(c, [x, y]) => {
            const r = c.getBoundingClientRect(), d = c.width / r.width;
            const at = [Math.round((x - r.left) * d), Math.round((y - r.top) * d)];
            return c.getContext("2d").getImageData(at[0], at[1], 1, 1).data[3];
        }""", [x, y])
    assert painted(hx, hy) > 0, "nothing drawn at the centre's pixel"
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    wait_until(lambda: p.get_attribute("data-k") == "2" and panel.get_attribute("data-handle") is None, 5,
               what="state 2 without the handle")
    settle(page)
    assert painted(hx, hy) == 0, "something drawn at the centre's pixel without the handle"
    page.keyboard.press("End")
    wait_until(lambda: panel.get_attribute("data-handle") is not None, 5, what="the handle again")
    settle(page)

    # hover: a grab cursor over the handle, the crosshair beside it
    cursor = lambda: overlay.evaluate("(c) => getComputedStyle(c).cursor")  # noqa: E731
    page.mouse.move(hx + 40, hy + 40)
    settle(page)
    assert cursor() == "crosshair"
    page.mouse.move(hx, hy)
    wait_until(lambda: cursor() == "grab", 5, what="a grab cursor over the handle")
    before, v0 = run.png(), run.version()
    # drag with the mouse to a point one and a bit data units away (inside the sliders' range [-3, 3])
    target = (c0[0] - 1.2, c0[1] + 0.9)
    tx, ty = m.page(*target)
    page.mouse.down()
    page.mouse.move((hx + tx) / 2, (hy + ty) / 2, steps=8)
    assert cursor() == "grabbing" and panel.get_attribute("data-handle-state") == "drag"
    page.mouse.move(tx, ty, steps=8)
    page.mouse.up()
    dropped = m.data(tx, ty)
    pixel = 1 / m.scale  # one CSS pixel in data units

    def settled() -> bool:
        probe = run.probe()
        return (max(abs(probe["centre"][i] - dropped[i]) for i in (0, 1)) <= pixel
                and probe["version"] == run.version() > v0 and p.locator(".fv-computing").is_hidden())

    wait_until(settled, 30, what="the kernel's centre to reach the dropped point")
    probe = run.probe()
    print(f"dropped at {dropped}, kernel centre {probe['centre']}, a pixel is {pixel:.4f}; "
          f"{run.version() - v0} recomputes")
    # the sliders follow (to their step), and the handle stays where it was dropped, under the pointer
    for i in (0, 1):
        slider = p.locator(f'.fv-params input[type=range][data-id="L4.centre.{i}"]')
        assert abs(float(slider.input_value()) - probe["centre"][i]) <= 0.005 + 1e-9, (i, slider.input_value())
        assert abs(probe["values"][f"L4.centre.{i}"] - probe["centre"][i]) < 1e-6
    settle(page)
    # the camera was held from the grab (each recompute brings new bounds): the map read before the drag holds
    assert panel.get_attribute("data-view-held") == "1"
    assert PanelMap.read(p) == m
    _, x_now, y_now = (float(v) for v in panel.get_attribute("data-handle").split(","))
    px_now, py_now = m.page(x_now, y_now)
    assert math.hypot(px_now - tx, py_now - ty) <= 1.0, f"handle at {px_now, py_now}, pointer at {tx, ty}"
    assert cursor() == "grab"
    assert_redrawn(before, run.png(), 0.02, "after moving the centre")
    assert p.get_attribute("data-status") == "ok"
    # the pointer leaves the panel: the camera follows the new state again
    box = overlay.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] + 40)
    wait_until(lambda: panel.get_attribute("data-view-held") is None, 5, what="the camera to be released")

    # a finger works too (pointer events, not mouse events: a touch drag sends no mouse moves): a touch drag
    # through Chromium's input pipeline (CDP Input.dispatchTouchEvent), back towards where the centre started
    settle(page)
    overlay.evaluate("(c) => { window.__fvPointerTypes = []; c.addEventListener('pointermove',"
                     " (e) => window.__fvPointerTypes.push(e.pointerType)); }")
    m2 = PanelMap.read(p)
    c1 = run.probe()["centre"]
    sx, sy = m2.page(*c1)
    tx2, ty2 = m2.page(c1[0] + 0.8, c1[1] - 0.6)
    v1 = run.version()
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": sx, "y": sy}]})
    for i in range(1, 11):
        x, y = sx + (tx2 - sx) * i / 10, sy + (ty2 - sy) * i / 10
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    touched = m2.data(tx2, ty2)
    pixel2 = 1 / m2.scale

    def touch_settled() -> bool:
        probe = run.probe()
        return (max(abs(probe["centre"][i] - touched[i]) for i in (0, 1)) <= pixel2
                and probe["version"] == run.version() > v1 and p.locator(".fv-computing").is_hidden())

    wait_until(touch_settled, 30, what="the kernel's centre to reach the point dropped by touch")
    kinds = set(page.evaluate("window.__fvPointerTypes"))
    assert kinds == {"touch"}, f"pointer types seen during the touch drag: {kinds}"
    assert not page.console.errors(VOILA_BENIGN)


def expected_planar_folds(u: tuple[float, float], gx: int) -> tuple[int, int]:
    """For the lecture flow with layer 3 (planar) unconstrained at ``u``: how many mesh triangles have
    det J_3 < 0 at all three vertices (surely folded), and at one or more (possibly folded)."""
    import torch

    from flowviz.scene import player_scene

    flow = lecture_flow()
    planar = flow.layers[2]
    planar.constrained = False
    with torch.no_grad():
        planar.u.copy_(torch.tensor(u))
    scene = player_scene(flow, torch.zeros(1, 2), gx=gx)
    neg = np.linalg.det(scene.jac[2].astype(np.float64)) < 0
    g = neg.reshape(gx, gx)
    a, b, d, e = g[:-1, :-1], g[:-1, 1:], g[1:, :-1], g[1:, 1:]  # cell corners (row, col)
    tri1, tri2 = np.stack([a, b, e]), np.stack([a, e, d])
    return int(tri1.all(0).sum() + tri2.all(0).sum()), int(tri1.any(0).sum() + tri2.any(0).sum())


def test_not_invertible_state_is_shown_without_nan(page: Any, server: Voila) -> None:
    run = open_player(page, server)
    p = run.player
    p.focus()
    page.keyboard.press("End")
    v0 = run.version()
    toggle = p.locator('.fv-params input[type=checkbox][data-id="L3.constrained"]')
    assert toggle.is_checked()
    toggle.uncheck()  # "keep invertible" off: u is used as given
    wait_until(lambda: run.version() > v0 and run.probe()["values"]["L3.constrained"] is False, 15,
               what="the kernel to drop the constraint")
    v1 = run.version()
    slider = p.locator('.fv-params input[type=range][data-id="L3.u.0"]')
    slider.focus()
    page.keyboard.press("Home")  # u = (-3, 0.5): w.u = 1.2 * -3 + 0.3 * 0.5 = -3.45 < -1
    wait_until(lambda: run.version() > v1, 15, what="the recompute")
    wait_until(lambda: p.get_attribute("data-status") == "not invertible", 5, what='data-status "not invertible"')
    assert run.probe()["status"] == "not invertible"
    banner = p.locator(".fv-status")
    assert banner.is_visible()
    assert "not invertible" in banner.inner_text()
    assert "layer 3" in banner.inner_text()
    settle(page)
    assert_not_blank(run.png(), "not-invertible state")
    # the hatched cells at state 3 are where the planar map folds the plane: between the triangles whose
    # three vertices all have det J_3 < 0 and those with at least one such vertex (computed here)
    p.focus()
    page.keyboard.press("ArrowLeft")
    wait_until(lambda: p.get_attribute("data-k") == "3", 5, what="state 3")
    settle(page)
    lo, hi = expected_planar_folds(u=(-3.0, 0.5), gx=65)
    n = fold_count(p)
    assert lo <= n <= hi, f"{n} folded cells shown; the planar map folds between {lo} and {hi} of 8192 triangles"
    # hover where the plane folds over; the readouts must not show NaN either
    hover_readouts(run, 4)
    text = p.inner_text()
    assert "NaN" not in text and "nan" not in text.split(), text
    assert "Infinity" not in text
    assert not page.console.errors(VOILA_BENIGN)


STORM_SCRIPT = """async (input, values) => {
  // paced by the clock: event i is due at i * 10 ms, whatever else the page is doing
  const t0 = performance.now();
  let i = 0;
  while (i < values.length) {
    const due = Math.min(values.length, Math.floor((performance.now() - t0) / 10) + 1);
    for (; i < due; i++) {
      input.value = String(values[i]);
      input.dispatchEvent(new Event("input", {bubbles: true}));
    }
    await new Promise((r) => setTimeout(r, 4));
  }
  input.dispatchEvent(new Event("change", {bubbles: true}));
  return input.value;
}"""


def js_heap_bytes(cdp: Any) -> int:
    """The page's JavaScript heap in use after a full garbage collection (Chrome DevTools Protocol)."""
    cdp.send("HeapProfiler.collectGarbage")
    metrics = cdp.send("Performance.getMetrics")["metrics"]
    return int(next(m["value"] for m in metrics if m["name"] == "JSHeapUsedSize"))


def test_parameter_storm_keeps_kernel_responsive_and_memory_flat(page: Any, server: Voila) -> None:
    """200 changes of one slider in 2 s, twice: the kernel coalesces them (far fewer recomputes than
    changes), the picture then is the one the last value gives when set calmly (not a stale one), one more
    change is reflected within seconds, and neither the kernel's memory nor the page's JS heap grows with
    the second storm (the first one warms the allocators)."""
    run = open_player(page, server)
    p = run.player
    sid = "L1.shift.0"
    slider = p.locator(f'.fv-params input[type=range][data-id="{sid}"]')
    K = run.ref["K"]
    p.focus()
    page.keyboard.press("End")  # show the model (state K): the affine shift of layer 1 moves everything after it
    wait_until(lambda: p.get_attribute("data-k") == str(K), 5, what=f"state {K}")
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    # values sweeping back and forth, ending on a distinctive one (the one before it is far from it)
    values = [round(-2.5 + 5.0 * abs(((i * 0.07) % 2) - 1), 2) for i in range(199)] + [1.37]
    stale = values[-2]
    assert abs(stale - 1.37) > 0.3

    def settled_at(value: float) -> Any:
        def check() -> bool:
            probe = run.probe()
            return (abs(probe["values"][sid] - value) < 1e-6 and probe["version"] == run.version()
                    and p.locator(".fv-computing").is_hidden())
        return check

    rss, heap, stats = [], [], []
    for storm in range(2):
        v0 = run.version()
        t0 = time.monotonic()
        final = slider.evaluate(STORM_SCRIPT, values)
        storm_s = time.monotonic() - t0
        assert final == "1.37"
        assert storm_s < 3, f"the storm itself took {storm_s:.1f} s"
        wait_until(settled_at(1.37), 30, what="the kernel to hold the last value and the page its arrays")
        settle(page)
        settle_s = time.monotonic() - t0 - storm_s
        recomputes = run.version() - v0
        assert slider.input_value() == "1.37", "a stale kernel echo moved the slider"
        # ipywidgets sends one update at a time and merges those that arrive meanwhile: with an event every
        # 10 ms and a recompute of tens of ms, most of the 200 must have been merged (no backlog)
        assert 1 <= recomputes < 150, f"{recomputes} recomputes for 200 changes: the changes were not coalesced"
        time.sleep(0.5)
        rss.append(rss_bytes(run.pid))
        heap.append(js_heap_bytes(cdp))
        stats.append(f"storm {storm + 1}: 200 events in {storm_s:.2f} s, {recomputes} recomputes, settled "
                     f"{settle_s:.2f} s later; kernel RSS {rss[-1] / 2**20:.0f} MB, JS heap {heap[-1] / 2**20:.1f} MB")
    after_storm = run.png()
    assert_not_blank(after_storm, "after the storm")

    # the picture shows the last value: the same as setting 1.37 calmly, and unlike the value before it
    set_range(slider, stale)
    wait_until(settled_at(stale), 10, what=f"the value {stale}")
    settle(page)
    at_stale = run.png()
    t1 = time.monotonic()
    set_range(slider, 1.37)  # responsive: one more change is reflected within a few seconds
    wait_until(settled_at(1.37), 5, what="a change after the storms to be reflected")
    latency = time.monotonic() - t1
    settle(page)
    calm = run.png()
    same, other = pixel_difference(after_storm, calm), pixel_difference(after_storm, at_stale)
    grown_rss, grown_heap = (rss[1] - rss[0]) / 2**20, (heap[1] - heap[0]) / 2**20
    print("; ".join(stats) + f"; next change {latency:.2f} s; picture after the storm vs 1.37 set calmly: "
          f"{same:.4f} of pixels differ, vs {stale}: {other:.4f}")
    assert same < 0.002, f"{same:.4f} of pixels differ from the picture of the last value set calmly"
    assert other > 0.02, f"only {other:.4f} of pixels differ between the values 1.37 and {stale}"
    assert grown_rss < 20, f"the kernel's RSS grew by {grown_rss:.0f} MB over the second storm"
    assert grown_heap < 5, f"the page's JS heap grew by {grown_heap:.1f} MB over the second storm"
    assert not page.console.errors(VOILA_BENIGN)


@dataclass
class Export:
    path: Path
    pid: int
    ref: dict[str, Any]


@pytest.fixture(scope="module")
def exported(server: Voila) -> Export:
    """Run the notebook once with a plain GET (Voila executes it while rendering the page): it writes the
    static export ``player-<pid>.html`` of the first player and the reference ``ref-<pid>.json``."""
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(server.url(NOTEBOOK), timeout=120) as r:
        html = r.read().decode()
    pid = int(re.search(r"FLOWVIZ_RUN (\d+)", html).group(1))
    return Export(server.dir / f"player-{pid}.html", pid, json.loads((server.dir / f"ref-{pid}.json").read_text()))


def open_offline(page: Any, export: Export) -> tuple[Run, list[str]]:
    """Open the exported page from file:// with every other request aborted and recorded (block_network)."""
    left = block_network(page, export.path.as_uri())
    page.goto(export.path.as_uri())
    page.wait_for_function("() => document.querySelector('.flowviz-player')?.dataset.frame", timeout=30_000)
    settle(page)
    return Run(page, page.locator(".flowviz-player"), export.pid, export.ref, export.path.parent), left


def test_static_export_works_offline(page: Any, exported: Export) -> None:
    assert exported.path.stat().st_size > 50_000
    run, left = open_offline(page, exported)
    p, ref = run.player, run.ref
    assert p.get_attribute("data-status") == "ok"
    png0 = run.png()
    stats = assert_not_blank(png0, "exported page")
    print(f"static export {exported.path.stat().st_size / 1e6:.1f} MB; {stats}")

    # scrubbing changes the picture
    drag_slider(page, p.locator(".fv-slider"), 0.5)
    wait_until(lambda: float(p.get_attribute("data-position")) > 0.5, 5, what="scrubbing")
    settle(page)
    assert pixel_difference(png0, run.png()) > 0.05

    # play animates: from state 0 the position runs up to K while frames are drawn
    p.focus()
    page.keyboard.press("Home")
    wait_until(lambda: float(p.get_attribute("data-position")) == 0, 5, what="Home")
    frame0 = int(p.get_attribute("data-frame"))
    draws0 = int(p.get_attribute("data-canvas-draws"))
    # half a layer per second: the samples and shots below take a few seconds on a loaded machine (at 1x the
    # playback once ended before the second shot)
    p.locator(".fv-speed").select_option("0.5")
    p.locator(".fv-play").click()
    seen = []
    for _ in range(4):
        time.sleep(0.25)
        seen.append(float(p.get_attribute("data-position")))
    # the picture itself moves while playing (not only the counters): two shots a moment apart differ
    shot_a = run.png()
    time.sleep(0.3)
    shot_b = run.png()
    seen.append(float(p.get_attribute("data-position")))
    assert int(p.get_attribute("data-frame")) > frame0 + 5, "no frames drawn while playing"
    assert int(p.get_attribute("data-canvas-draws")) > draws0 + 5, "the plot canvas was not redrawn while playing"
    assert seen == sorted(seen) and seen[-1] > seen[0] >= 0, f"position while playing: {seen}"
    assert seen[-1] < ref["K"], f"playback ended before the shots were taken: {seen}"
    moved = pixel_difference(shot_a, shot_b)
    print(f"two shots 0.3 s apart while playing: {moved:.3f} of the pixels differ")
    assert moved > 0.005, "two shots taken while playing show the same picture"
    K = ref["K"]
    p.locator(".fv-speed").select_option("4")
    wait_until(lambda: float(p.get_attribute("data-position")) == K, 10, what="playback to reach the last layer")
    # no draggable radial centre without a kernel to recompute (the kernel page shows one at this position)
    assert p.locator(".fv-panel").last.get_attribute("data-handle") is None
    # nor parameter controls that could only move without effect: disabled, with the reason shown
    controls = p.locator(".fv-params input, .fv-params select")
    assert controls.count() > 0
    states = controls.evaluate_all("els => els.map(e => [e.dataset.id, e.disabled, e.title])")
    assert all(disabled and "running kernel" in title for _, disabled, title in states), states
    assert "need a running kernel" in p.locator(".fv-params-note").inner_text()

    # hover gives a readout, equal to the kernel's autograd determinant
    settle(page)
    for r in hover_readouts(run, 3):
        assert int(r["k"]) == K
        det_py = ref["det"][K - 1][int(r["vertex"])]
        assert close(r["det"], det_py), (r, det_py)

    assert not left, f"requests left the page: {left}"
    errors = page.console.errors()  # nothing is benign offline
    assert not errors, "console errors:\n" + "\n".join(errors)


def test_hover_redraws_the_overlay_only(page: Any, exported: Export) -> None:
    """The plot canvas (WebGL: the GPU's work) is drawn again only when its picture changes: a hover
    redraws the overlay (readout glyphs) and keeps the plot on screen; a step to another layer draws it."""
    run, _ = open_offline(page, exported)
    p = run.player
    draws = lambda: int(p.get_attribute("data-canvas-draws"))  # noqa: E731
    frames = lambda: int(p.get_attribute("data-frame"))  # noqa: E731
    settle(page)
    d0, f0 = draws(), frames()
    assert d0 >= 1
    readouts = hover_readouts(run, 3)
    assert len(readouts) == 3
    settle(page)
    assert frames() > f0, "hovering drew no frames"
    assert draws() == d0, f"hovering drew the plot canvas {draws() - d0} times"
    assert_not_blank(run.png(), "the plot after hovering")
    p.focus()
    k = p.get_attribute("data-k")
    page.keyboard.press("ArrowLeft" if k != "0" else "ArrowRight")
    wait_until(lambda: p.get_attribute("data-k") != k, 5, what="a step to another layer")
    settle(page)
    assert draws() == d0 + 1, f"a step drew the plot canvas {draws() - d0} times, not once"
    assert not page.console.errors()


def test_webgl_mixes_states_like_the_canvas2d_fallback(page: Any, exported: Export) -> None:
    """WebGL interpolates between layers on the GPU (attributes at states k0 and k1, mixed in the vertex
    shader); Canvas2D interpolates the same arrays in JavaScript (interp.js). Halfway through the Affine
    layer (scale 1.5 / -0.6: the mesh flattens, then flips), the WebGL picture must match the fallback's
    picture at that position, not either neighbouring state."""
    fallback = exported.path.with_name("fallback-" + exported.path.name)
    text = exported.path.read_text()
    assert text.count('"renderer":"auto"}</script>') == 1  # the exported state's renderer trait
    fallback.write_text(text.replace('"renderer":"auto"}</script>', '"renderer":"canvas2d"}</script>'))

    def shots(path: Path, positions: list[float], renderer: str) -> list[bytes]:
        page.goto(path.as_uri())
        page.wait_for_function("() => document.querySelector('.flowviz-player')?.dataset.frame", timeout=30_000)
        p = page.locator(".flowviz-player")
        assert p.get_attribute("data-renderer") == renderer
        out = []
        for t in positions:
            p.locator(".fv-slider").evaluate("(s, t) => { s.value = String(t);"
                                             " s.dispatchEvent(new Event('input', {bubbles: true})); }", t)
            wait_until(lambda t=t: float(p.get_attribute("data-position")) == t, 5, what=f"position {t}")
            settle(page)
            out.append(plot_png(p))
        return out

    gl_mid, gl_0 = shots(exported.path, [0.5, 0.0], "webgl2")
    c2_mid, c2_0, c2_1 = shots(fallback, [0.5, 0.0, 1.0], "canvas2d")
    same_state = pixel_difference(gl_0, c2_0)  # the renderers' own difference (points, edges)
    mid = pixel_difference(gl_mid, c2_mid)
    print(f"WebGL vs Canvas2D: state 0 {same_state:.3f}, t = 0.5 {mid:.3f}, "
          f"WebGL 0.5 vs Canvas2D 0 {pixel_difference(gl_mid, c2_0):.3f} / 1 {pixel_difference(gl_mid, c2_1):.3f}")
    # as close as the two renderers are at a state; the neighbouring states are much further away
    assert mid < 1.25 * same_state + 0.005
    assert min(pixel_difference(gl_mid, c2_0), pixel_difference(gl_mid, c2_1)) > 1.4 * mid
    assert not page.console.errors()


@pytest.mark.parametrize("renderer", ["auto", "canvas2d"])
def test_non_finite_values_show_a_state_not_nan(page: Any, tmp_path: Path, renderer: str) -> None:
    """A Logit layer sends points outside (0, 1)^2 to +-inf: the page says "non-finite" with the layer and the
    count Python computed, still draws the finite part (WebGL moves the hidden points off screen as 1e30;
    Canvas2D skips them), scrubs through every layer without errors, and no readout shows NaN."""
    from flowviz import flows
    from flowviz.widgets import FlowPlayer

    flow = flows.Flow([flows.Affine(2, scale=0.3, shift=0.5), flows.Logit(2), flows.Affine(2, scale=0.5)])
    player = FlowPlayer(flow, n_points=2000, grid=33, renderer=renderer)
    bad = player.scene.layers[1].nonfinite
    assert player.status == "non-finite" and bad > 0
    path = player.save_html(tmp_path / "nonfinite.html")
    page.goto(path.as_uri())
    page.wait_for_function("() => document.querySelector('.flowviz-player')?.dataset.frame", timeout=30_000)
    p = page.locator(".flowviz-player")
    assert p.get_attribute("data-renderer") == ("canvas2d" if renderer == "canvas2d" else "webgl2")
    assert p.get_attribute("data-status") == "non-finite"
    banner = p.locator(".fv-status").inner_text()
    assert f"layer 2, {bad} points" in banner, banner
    run = Run(page, p, 0, {}, tmp_path)
    scene = player.scene
    for t in (0.0, 1.5, 2.0, 3.0):  # before, while and after the layer that overflows
        p.locator(".fv-slider").evaluate("(s, t) => { s.value = String(t);"
                                         " s.dispatchEvent(new Event('input', {bubbles: true})); }", t)
        wait_until(lambda t=t: float(p.get_attribute("data-position")) == t, 5, what=f"position {t}")
        settle(page)
        assert_not_blank(run.png(), f"the plot at layer position {t}")
        if t != int(t):
            continue
        # hover anywhere on the drawn mesh: after the logit its outer cells are far wider than the 12 px a
        # vertex is found within, and the readout is the nearest corner of the triangle under the pointer
        k = int(t)
        for r in hover_readouts(run, 3):
            numbers = [v for v in r.values() if isinstance(v, float)]
            assert int(r["k"]) == k and all(math.isfinite(v) for v in numbers), r
            assert_vertex_under_pointer(r, scene.mesh[k], scene.finite[k])
            assert "NaN" not in " ".join(r["rows"].values()), r["rows"]
            assert r["logp"] == pytest.approx(float(scene.logp[k][int(r["vertex"])]), abs=1e-4)
        text = p.locator(".fv-readout").inner_text()
        assert "NaN" not in text and "undefined" not in text, text
    assert not page.console.errors()


def test_exported_page_follows_a_vscode_host_theme(page: Any, exported: Export) -> None:
    """VS Code's notebook webviews mark the theme with a body class (vscode-dark, vscode-light, ...) and put its
    colours on <html> as --vscode-* variables. Not VS Code itself (not installed here): the exported page in
    Chromium given that markup, checking that the real bundle resolves those CSS variables and follows a switch."""
    run, _ = open_offline(page, exported)
    p = run.player
    assert p.get_attribute("data-theme") == "light"  # headless Chromium prefers light; no host variables

    def host(cls: str, bg: str, fg: str) -> None:
        page.evaluate("""([cls, bg, fg]) => {
            document.documentElement.style.setProperty('--vscode-editor-background', bg);
            document.documentElement.style.setProperty('--vscode-editor-foreground', fg);
            document.body.className = cls;
        }""", [cls, bg, fg])

    def fv(name: str) -> str:
        return p.evaluate("(el, name) => el.style.getPropertyValue(name)", name).replace(" ", "")

    host("vscode-dark", "#1e1e1e", "#cccccc")
    wait_until(lambda: p.get_attribute("data-theme") == "dark", 10, what="the player to follow vscode-dark")
    wait_until(lambda: fv("--fv-bg") == "rgba(30,30,30,1)", 10, what="the editor background as --fv-bg")
    assert fv("--fv-fg") == "rgba(204,204,204,1)"
    settle(page)
    dark_png = run.png()
    host("vscode-light", "#ffffff", "#3b3b3b")
    wait_until(lambda: p.get_attribute("data-theme") == "light", 10, what="the player to follow vscode-light")
    wait_until(lambda: fv("--fv-bg") == "rgba(255,255,255,1)", 10, what="the light editor background")
    settle(page)
    assert pixel_difference(dark_png, run.png()) > 0.05, "the canvas was not redrawn in the new theme"
    # a dark-to-dark switch changes only the colour variables on <html>
    host("vscode-dark", "#1e1e1e", "#cccccc")
    wait_until(lambda: fv("--fv-bg") == "rgba(30,30,30,1)", 10, what="dark again")
    host("vscode-dark", "#002b36", "#93a1a1")
    wait_until(lambda: fv("--fv-bg") == "rgba(0,43,54,1)", 10, what="a second dark theme's background")
    errors = page.console.errors()
    assert not errors, "console errors:\n" + "\n".join(errors)


def fold_count(player: Any) -> int:
    """The number of folded (hatched) mesh triangles drawn for the state shown (``data-folds``), checked
    against the legend: it names that number when there are any and says nothing of folds otherwise."""
    folds = player.get_attribute("data-folds")
    assert folds not in (None, ""), "the player reports no fold count (data-folds)"
    n = int(folds)
    legend = player.locator(".fv-legend").inner_text()
    m = re.search(r"(\d+) folded mesh cells", legend)
    assert (int(m.group(1)) if m else 0) == n, f"data-folds {n}, legend: {legend!r}"
    return n


def test_invertible_flow_shows_no_folded_cells(page: Any, exported: Export) -> None:
    """Every layer of the lecture flow is invertible (Python: status "ok"), but the Linear layer reverses
    orientation (det W = -2). No state may be hatched as folded."""
    run, _ = open_offline(page, exported)
    p, K = run.player, run.ref["K"]
    assert p.get_attribute("data-status") == "ok"
    p.focus()
    page.keyboard.press("Home")
    folds = {}
    for k in range(K + 1):
        if k:
            page.keyboard.press("ArrowRight")
        wait_until(lambda k=k: p.get_attribute("data-k") == str(k), 5, what=f"state {k}")
        settle(page)
        folds[k] = fold_count(p)
    assert all(n == 0 for n in folds.values()), f"folded cells reported per state of an invertible flow: {folds}"


def test_det_zero_squashes_the_plane_onto_a_line_that_is_drawn_and_read(page: Any, tmp_path: Path) -> None:
    """Affine s2 = 0 (det J = 0): "not invertible" in a banner over the plot (not over its colour bar), the
    points and the grid drawn on the line x2 = t2 (they vanished before: their density is +inf), and a hover on
    the line reads det J = 0 and log p = +inf, not NaN or a blank."""
    from PIL import Image

    from flowviz import flows
    from flowviz.widgets import FlowPlayer

    flow = flows.Flow([flows.Affine(2, scale=[1.5, 1.0], shift=[0.5, 0.7]),
                       flows.Radial(2, centre=[0.5, -0.5], alpha=0.5, beta=1.0)])
    player = FlowPlayer(flow, n_points=2000, grid=33, position=1.0)
    player.params = {**player.params, "L1.scale.1": 0.0}
    assert player.status == "not invertible"
    path = player.save_html(tmp_path / "squashed.html")
    page.goto(path.as_uri())
    page.wait_for_function("() => document.querySelector('.flowviz-player')?.dataset.frame", timeout=30_000)
    settle(page)
    p = page.locator(".flowviz-player")
    assert p.get_attribute("data-status") == "not invertible" and p.get_attribute("data-position") == "1"
    banner = p.locator(".fv-status")
    assert "not invertible" in banner.inner_text()
    m = PanelMap.read(p)
    left, top, width, _ = (float(v) for v in p.locator(".fv-panel").last.get_attribute("data-plot").split(","))
    b = banner.bounding_box()
    assert m.left - 1 <= b["x"] and b["x"] + b["width"] <= m.left + width + 1, (b, m.left, width)  # not on the bar

    # the line: dark pixels (points, grid) in the plot, all within a few pixels of the row of x2 = 0.7
    img = np.asarray(Image.open(io.BytesIO(Run(page, p, 0, {}, tmp_path).png())).convert("RGB")).astype(int)
    shot = p.locator(".fv-panel").last.locator("canvas.fv-overlay").bounding_box()
    bg = np.median(img[int(top) + 2:int(top) + 40, int(left) + 2:int(left) + 40].reshape(-1, 3), 0)
    drawn = np.abs(img - bg).max(-1) > 40  # anything but the plot's background
    rows, cols = np.nonzero(drawn)
    x_lo, x_hi = left + 4, left + width - 4  # inside the plot, off the axes' ticks and labels
    inside = (cols > x_lo) & (cols < x_hi) & (rows > top + 4) & (rows < top + m.scale * 100)
    line_row = m.page(0.0, 0.7)[1] - shot["y"]
    assert inside.sum() > 300, f"only {inside.sum()} drawn pixels: the squashed state is not drawn"
    assert np.abs(rows[inside] - line_row).max() <= 4, np.abs(rows[inside] - line_row).max()

    # hover the line at the image of z1 = 1: x = (2.0, 0.7); the readout is of layer 1 at a vertex on it
    page.mouse.move(*m.page(2.0, 0.7))
    wait_until(lambda: p.locator(".fv-readout").get_attribute("data-det") is not None, 10, what="a readout")
    text = p.locator(".fv-readout").inner_text()
    assert float(p.locator(".fv-readout").get_attribute("data-det")) == 0.0
    assert "det J\t0 (not invertible)" in text and "log p\u2081(x)\t+inf (non-finite)" in text, text
    assert "NaN" not in text and "undefined" not in text
    assert not page.console.errors()


def test_trained_flow_zooms_to_the_layer_and_leaves_over_drawn_cells_unfilled(page: Any, tmp_path: Path) -> None:
    """The shipped moons RealNVP with follow=True ("zoom to layer"): at the last layer the x camera holds that
    state's bounds (Python's meta.bounds[K], fitted to the plot's aspect), not the union of every state; off,
    it holds the union. The browser leaves unfilled exactly the cells the matplotlib twin does
    (data-stretched = flowviz.plot's count at that state)."""
    from flowviz import pretrained
    from flowviz.plot.layers import Topology
    from flowviz.widgets import FlowPlayer

    player = FlowPlayer(pretrained.load("moons-realnvp"), n_points=2000, grid=33, follow=True)
    scene = player.scene
    topo = Topology.of(scene)
    K = scene.K
    path = player.save_html(tmp_path / "trained.html")
    page.goto(path.as_uri())
    page.wait_for_function("() => document.querySelector('.flowviz-player')?.dataset.frame", timeout=30_000)
    p = page.locator(".flowviz-player")
    p.focus()
    page.keyboard.press("End")
    wait_until(lambda: p.get_attribute("data-k") == str(K), 10, what="the last layer")
    settle(page)

    def view() -> list[float]:
        return [float(v) for v in p.locator(".fv-panel").last.get_attribute("data-view").split(",")]

    def holds(v: list[float], b: list[float]) -> bool:  # b inside v, and v tight on one axis (fitted aspect)
        inside = v[0] <= b[0] + 1e-6 and v[1] >= b[1] - 1e-6 and v[2] <= b[2] + 1e-6 and v[3] >= b[3] - 1e-6
        tight = abs((v[1] - v[0]) - (b[1] - b[0])) < 1e-4 or abs((v[3] - v[2]) - (b[3] - b[2])) < 1e-4
        return inside and tight

    last = scene.bounds[K]
    union = [min(b[0] for b in scene.bounds), max(b[1] for b in scene.bounds),
             min(b[2] for b in scene.bounds), max(b[3] for b in scene.bounds)]
    assert holds(view(), last), (view(), last)
    area = lambda b: (b[1] - b[0]) * (b[3] - b[2])  # noqa: E731
    assert area(union) > 3 * area(last), (union, last)  # the middle layers spread far wider: worth a zoom
    assert int(p.get_attribute("data-stretched")) == int((topo.stretched[K] & ~topo.folds[K]).sum()) > 0
    assert_not_blank(Run(page, p, 0, {}, tmp_path).png(), "the trained flow at its last layer")
    p.locator("label", has_text="zoom to layer").locator("input").uncheck()
    wait_until(lambda: holds(view(), union), 5, what="the camera to hold every state")
    assert not page.console.errors()
