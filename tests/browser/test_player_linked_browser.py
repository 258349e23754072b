"""FlowPlayer's linked panels (``linked=True``, the "z | x linked" checkbox) in a real browser: headless
Chromium (Playwright) against a real Voila server.

The z panel (base space, state 0) sits beside the x panel (the state shown). Dragging a rectangle in either
panel (shift-drag: a lasso) selects the sample points inside it; the selection is highlighted in both panels
and reaches Python as ``player.selection``. One page (one kernel) serves the whole module; the tests run in
file order on it, each one clearing or replacing the selection it starts from.

The kernel writes the point positions it sent to the browser (``player.scene.points``, float32, every state)
and its base sample (``player._z``) to ``points-<pid>.npy`` / ``z-<pid>.npy``; a probe Label reports
``player.selection``, ``linked`` and ``position`` as the kernel holds them. Which points a brush must
select is computed here, in numpy, from those positions: data units -> CSS pixels with the view box and plot
rectangle each panel reports (``data-view``, ``data-plot``), then inside / outside the rectangle or polygon
the mouse drew. Points within ``EDGE_PX`` of the brush's border may go either way (float32, sub-pixel
pointer positions); every other point must be on its side. The same pixel positions are used to find the
highlight in screenshots of the panels' plot canvases, so a panel that draws at other places than it
reports fails there.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from browser_support import (
    LECTURE_FLOW,
    SERVERS,
    VOILA_BENIGN,
    Voila,
    assert_not_blank,
    failed,
    lecture_flow,
    new_page,
    pixel_difference,
    plot_png,
    read_probe,
    save_artefacts,
    settle,
    view_notebook,
    wait_until,
)

pytestmark = pytest.mark.browser

NOTEBOOK = "linked.ipynb"
N_POINTS = 2000
LAYER = 3  # the state the x panel shows while brushing (after the Planar layer: not an affine image of z)
EDGE_PX = 2.0  # points this close to a brush's border (CSS px) may be selected or not

CELLS = [
    f"""\
import os
import numpy as np
from flowviz import flows
from flowviz.widgets import FlowPlayer

flow = {LECTURE_FLOW}
player = FlowPlayer(flow, n_points={N_POINTS}, grid=33, linked=True)
RUN = os.getpid()
# what the browser was sent (float32 positions of every state) and the base sample it came from
np.save(f"points-{{RUN}}.npy", player.scene.points)
np.save(f"z-{{RUN}}.npy", player._z.detach().cpu().numpy())""",
    """\
probe = make_probe(player, lambda p: {"selection": list(p.selection), "linked": p.linked,
                                      "position": p.position, "version": p.meta.get("version")},
                   names=("selection", "linked", "position", "meta"))
display(player, probe)
print(f"FLOWVIZ_RUN {RUN}")""",
]


# -- reading the panels -----------------------------------------------------------------------------
@dataclass
class PanelMap:
    """Data units <-> CSS pixels of one panel, from the view box and plot rectangle it reports
    (``data-view``: x0, x1, y0, y1; ``data-plot``: left, top, width, height, CSS px in the panel's canvases;
    y points up, equal scales). ``left``/``top`` of the canvas on the page (viewport coordinates)."""

    x0: float
    x1: float
    y0: float
    y1: float
    plot: tuple[float, float, float, float]
    left: float
    top: float

    @classmethod
    def read(cls, panel: Any) -> PanelMap:
        x0, x1, y0, y1 = (float(v) for v in panel.get_attribute("data-view").split(","))
        plot = tuple(float(v) for v in panel.get_attribute("data-plot").split(","))
        box = panel.locator("canvas.fv-overlay").bounding_box()
        m = cls(x0, x1, y0, y1, plot, box["x"], box["y"])  # type: ignore[arg-type]
        assert abs(m.sx - m.sy) < 1e-6 * m.sx, f"unequal axis scales {m.sx} {m.sy}"
        return m

    @property
    def sx(self) -> float:
        return self.plot[2] / (self.x1 - self.x0)

    @property
    def sy(self) -> float:
        return self.plot[3] / (self.y1 - self.y0)

    def canvas_px(self, pos: np.ndarray) -> np.ndarray:
        """(n, 2) data positions -> (n, 2) CSS px in the panel's canvases."""
        pos = np.asarray(pos, dtype=np.float64)
        return np.stack([self.plot[0] + (pos[:, 0] - self.x0) * self.sx,
                         self.plot[1] + (self.y1 - pos[:, 1]) * self.sy], axis=1)

    def inside_plot(self, c: np.ndarray, margin: float = 0.0) -> np.ndarray:
        left, top, w, h = self.plot
        return ((c[:, 0] >= left + margin) & (c[:, 0] <= left + w - margin)
                & (c[:, 1] >= top + margin) & (c[:, 1] <= top + h - margin))


@dataclass
class Linked:
    """The module's page: the player (its panels: z first, then x) and what the kernel wrote."""

    page: Any
    player: Any
    pid: int
    points: np.ndarray = field(repr=False)  # (K+1, N, 2) float32, as sent to the browser
    z: np.ndarray = field(repr=False)  # (N, 2) the kernel's base sample
    clean: dict[str, bytes] = field(default_factory=dict, repr=False)  # both panels at LAYER with nothing selected

    def panel(self, which: str) -> Any:
        return self.player.locator(".fv-panel").nth(0 if which == "z" else 1)

    def map(self, which: str) -> PanelMap:
        self.panel(which).scroll_into_view_if_needed()
        return PanelMap.read(self.panel(which))

    def probe(self) -> dict[str, Any]:
        return read_probe(self.page)

    def selection(self) -> list[int]:
        return self.probe()["selection"]

    def base_png(self, which: str) -> bytes:
        """A screenshot of a panel's plot canvas (mesh, density, points), the overlay (axes, hover shapes,
        brush) hidden for the shot."""
        return plot_png(self.player, self.panel(which))

    def show_layer(self, k: int) -> None:
        p = self.player
        p.focus()
        self.page.keyboard.press("Home")
        for _ in range(k):
            self.page.keyboard.press("ArrowRight")
        wait_until(lambda: p.get_attribute("data-k") == str(k) and float(p.get_attribute("data-position")) == k,
                   10, what=f"layer {k} shown")
        wait_until(lambda: self.probe()["position"] == k, 30, what=f"the kernel to hold position {k}")
        settle(self.page)


def rgb(png: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(np.int16)


def orange(img: np.ndarray) -> np.ndarray:
    """Pixels in the selection's colour (theme ``selected``: rgb 255, 120, 20 at 95 % opacity, over anything).
    Nothing else the player draws is orange: viridis, white points, grey grid lines."""
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    return (r >= 190) & (g >= 60) & (g <= 175) & (b <= 110) & (r - g >= 70)


# -- fixtures ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def linked(request: pytest.FixtureRequest, voila: Voila, browser: Any) -> Iterator[Linked]:
    """One page for the module: the notebook rendered in Voila, the player drawn with both panels."""
    url = view_notebook(voila, NOTEBOOK, *CELLS)
    context, page, console = new_page(browser)
    try:
        t0 = time.monotonic()
        page.goto(url, wait_until="domcontentloaded", timeout=120_000)
        page.wait_for_function("() => /FLOWVIZ_RUN \\d+/.test(document.body.innerText)", timeout=120_000)
        pid = int(re.search(r"FLOWVIZ_RUN (\d+)", page.locator("body").inner_text()).group(1))
        page.wait_for_function("() => { const p = document.querySelector('.flowviz-player');"
                               " return p && p.dataset.version && p.dataset.frame"
                               " && p.querySelectorAll('.fv-panel').length === 2; }", timeout=60_000)
        player = page.locator(".flowviz-player").first
        settle(page)
        print(f"page to rendered linked player: {time.monotonic() - t0:.1f} s (kernel {pid})")
        points = np.load(voila.dir / f"points-{pid}.npy")
        z = np.load(voila.dir / f"z-{pid}.npy")
    except Exception:
        save_artefacts(request.node, [page], console, [s for s in SERVERS if s.alive()])
        context.close()
        raise
    try:
        yield Linked(page, player, pid, points, z)
    finally:
        context.close()


@pytest.fixture(autouse=True)
def _artefacts(request: pytest.FixtureRequest) -> Iterator[None]:
    """A failing test leaves a screenshot, the console and the server log under test-artifacts/."""
    yield
    run = request.node.funcargs.get("linked")
    if failed(request.node) and run is not None:
        save_artefacts(request.node, [run.page], run.page.console, [s for s in SERVERS if s.alive()])


# -- brushing -----------------------------------------------------------------------------------------
def drag(page: Any, m: PanelMap, path: list[tuple[float, float]], *, shift: bool = False, steps: int = 5
         ) -> list[tuple[float, float]]:
    """Press the mouse at ``path[0]`` (canvas CSS px), move through the other points in ``steps`` straight
    moves each, release at the last; with Shift held for a lasso. Positions are rounded to whole viewport
    pixels. Returns every position the pointer went through, in canvas px (what the player reads:
    clientX - the overlay's left), start first."""
    seen: list[tuple[float, float]] = []

    def to(cx: float, cy: float) -> None:
        px, py = round(m.left + cx), round(m.top + cy)
        page.mouse.move(px, py)
        seen.append((px - m.left, py - m.top))

    to(*path[0])
    if shift:
        page.keyboard.down("Shift")
    try:
        page.mouse.down()
        for (ax, ay), (bx, by) in zip(path[:-1], path[1:], strict=True):
            for i in range(1, steps + 1):
                to(ax + (bx - ax) * i / steps, ay + (by - ay) * i / steps)
            settle(page, 1)  # pointermove events are coalesced per frame: deliver each corner before the next
        page.mouse.up()
    finally:
        if shift:
            page.keyboard.up("Shift")
    return seen


def rect_distance(c: np.ndarray, a: tuple[float, float], b: tuple[float, float]) -> np.ndarray:
    """Signed distance (px) of points c to the border of the axis-aligned rectangle with corners a and b:
    positive inside, negative outside (the Chebyshev-style distance to the nearest edge line)."""
    x0, x1 = sorted((a[0], b[0]))
    y0, y1 = sorted((a[1], b[1]))
    return np.minimum.reduce([c[:, 0] - x0, x1 - c[:, 0], c[:, 1] - y0, y1 - c[:, 1]])


def check_selection(got: list[int], inside: np.ndarray, edge: np.ndarray, what: str) -> None:
    """``got`` (indices the kernel holds) against ``inside`` (boolean per point, computed here), ignoring the
    points flagged in ``edge`` (too close to the brush's border to call)."""
    n = len(inside)
    assert len(got) == len(set(got)), f"{what}: duplicate indices in the selection"
    assert all(0 <= i < n for i in got), f"{what}: indices out of range"
    sel = np.zeros(n, bool)
    sel[got] = True
    missing = np.flatnonzero(inside & ~edge & ~sel)
    extra = np.flatnonzero(~inside & ~edge & sel)
    print(f"{what}: {sel.sum()} selected, {int((inside & ~edge).sum())} clearly inside, {int(edge.sum())} at the edge")
    exact = missing.size == 0 and extra.size == 0
    assert exact, (
        f"{what}: {len(missing)} points clearly inside not selected (e.g. {missing[:10].tolist()}), "
        f"{len(extra)} points clearly outside selected (e.g. {extra[:10].tolist()})")


def assert_highlight(before: bytes, after: bytes, m: PanelMap, pos: np.ndarray, sel: np.ndarray, what: str) -> None:
    """The selection is drawn in ``after`` (a panel's plot canvas) where the selected points are: every
    selected point shown has selection-coloured pixels at its position, there are none away from the selected
    points, and away from every point the picture (density map, grid) is what it was in ``before``."""
    from scipy.spatial import cKDTree

    a, b = rgb(before), rgb(after)
    assert a.shape == b.shape, f"{what}: the canvas changed size"
    h, w = a.shape[:2]
    c = m.canvas_px(pos)
    shown = m.inside_plot(c, margin=3.0) & np.isfinite(c).all(1)
    assert int(orange(a).sum()) == 0, f"{what}: {int(orange(a).sum())} selection-coloured pixels before selecting"
    hot = orange(b)
    ys, xs = np.nonzero(hot)
    centres = np.stack([xs + 0.5, ys + 0.5], 1)  # pixel (i, j) covers CSS px [i, i + 1)
    chosen = c[sel & shown]
    assert len(chosen) > 20, f"{what}: only {len(chosen)} selected points in view"
    # 1. at every selected point: selection colour within 2 px of its centre (rims of neighbours may cover some)
    if len(centres):
        d_hit, _ = cKDTree(centres).query(chosen, distance_upper_bound=2.5)
    else:
        d_hit = np.full(len(chosen), np.inf)
    lit = float(np.isfinite(d_hit).mean())
    # 2. no selection colour away from the selected points (the highlighted disc is ~2.7-5.4 px wide)
    d_sel, _ = cKDTree(chosen).query(centres) if len(centres) else (np.zeros(0), None)
    stray = int((d_sel > 6.0).sum())
    # 3. away from every point (selected or not) nothing changed: the density map and grid are not redrawn
    #    differently (the unselected points themselves are dimmed, by design)
    gy, gx = np.mgrid[0:h, 0:w]
    grid = np.stack([gx.ravel() + 0.5, gy.ravel() + 0.5], 1)
    d_any, _ = cKDTree(c[np.isfinite(c).all(1)]).query(grid, distance_upper_bound=8.0)
    far = ~np.isfinite(d_any).reshape(h, w)
    changed = (np.abs(a - b).max(-1) > 8) & far
    print(f"{what}: {hot.sum()} selection-coloured px, {lit:.1%} of {len(chosen)} selected points lit, "
          f"{stray} stray px, {int(changed.sum())} of {int(far.sum())} px away from the points changed")
    assert lit >= 0.9, f"{what}: only {lit:.1%} of the selected points are drawn in the selection colour"
    assert stray == 0, f"{what}: {stray} selection-coloured pixels more than 6 px from every selected point"
    n_changed, n_far = int(changed.sum()), int(far.sum())
    assert n_changed <= 0.001 * n_far, f"{what}: {n_changed} of {n_far} pixels away from the points changed"


def new_selection(linked: Linked, before: list[int]) -> list[int]:
    """Wait for the kernel to hold a selection other than ``before``, the one the browser holds (its count,
    ``data-selected``, agrees); return it."""
    p = linked.player
    seen: dict[str, Any] = {}

    def got() -> list[int] | None:
        s = linked.selection()
        seen.update(kernel=len(s), browser=p.get_attribute("data-selected"))
        return s if s != before and len(s) == int(p.get_attribute("data-selected") or -1) else None

    try:
        return wait_until(got, 30, what="a new selection in the kernel")
    except AssertionError as err:
        raise AssertionError(f"{err}; last seen: {seen.get('kernel')} indices in the kernel, data-selected "
                             f"{seen.get('browser')!r}, {len(before)} before the brush") from None


def pixel_box(c: np.ndarray, m: PanelMap, qx: tuple[float, float], qy: tuple[float, float]
              ) -> tuple[tuple[float, float], tuple[float, float]]:
    """A rectangle (two corners, canvas px) between quantiles of the shown points' pixel positions."""
    c = c[m.inside_plot(c, 3.0)]
    return ((float(np.quantile(c[:, 0], qx[0])), float(np.quantile(c[:, 1], qy[0]))),
            (float(np.quantile(c[:, 0], qx[1])), float(np.quantile(c[:, 1], qy[1]))))


@dataclass
class RectBrush:
    """A rectangle dragged in a panel: its corners as the player read them (canvas px) and the selection
    the kernel held afterwards."""

    m: PanelMap
    a: tuple[float, float]
    b: tuple[float, float]
    got: list[int]

    def split(self, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Which of the points at ``pos`` (data units of this panel) lie inside, and which at the edge."""
        d = rect_distance(self.m.canvas_px(pos), self.a, self.b)
        return d > 0, np.abs(d) <= EDGE_PX

    @property
    def mask(self) -> np.ndarray:
        sel = np.zeros(N_POINTS, bool)
        sel[self.got] = True
        return sel


def brush_rect(linked: Linked, which: str, qx: tuple[float, float], qy: tuple[float, float], state: int
               ) -> RectBrush:
    """Drag a rectangle in panel ``which`` over the points of ``state`` (a box between quantiles of their
    pixel positions) and wait for the kernel to hold the new selection."""
    m = linked.map(which)
    a, b = pixel_box(m.canvas_px(linked.points[state]), m, qx, qy)
    prev = linked.selection()
    seen = drag(linked.page, m, [a, b])
    return RectBrush(m, seen[0], seen[-1], new_selection(linked, prev))


def assert_no_console_errors(linked: Linked) -> None:
    errors = linked.page.console.errors(VOILA_BENIGN)
    assert not errors, "console errors:\n" + "\n".join(errors)


def click_clear(linked: Linked, which: str) -> None:
    """Click (press and release without moving) inside a panel's plot, away from the points' middle; wait
    until the kernel and the browser hold no selection."""
    m = linked.map(which)
    left, top, w, h = m.plot
    x, y = round(m.left + left + 0.1 * w), round(m.top + top + 0.1 * h)
    linked.page.mouse.move(x, y)
    linked.page.mouse.down()
    linked.page.mouse.up()
    settle(linked.page)
    wait_until(lambda: linked.selection() == [] and linked.player.get_attribute("data-selected") == "0", 30,
               what="the selection to be cleared in the kernel and the browser")


def clean_shots(linked: Linked) -> dict[str, bytes]:
    """Both panels' plot canvases at LAYER with nothing selected (taken once)."""
    if not linked.clean:
        linked.show_layer(LAYER)
        if linked.selection():
            click_clear(linked, "z")
        linked.clean.update({w: linked.base_png(w) for w in ("z", "x")})
    return linked.clean


def polygon_distance(c: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """Distance (px) of points c to the nearest edge of the closed polygon ``poly``."""
    a, b = poly, np.roll(poly, -1, axis=0)
    ab = b - a
    L2 = np.maximum((ab ** 2).sum(1), 1e-12)
    t = np.clip(((c[:, None, :] - a[None]) * ab[None]).sum(-1) / L2[None], 0.0, 1.0)
    nearest = a[None] + t[..., None] * ab[None]
    return np.sqrt(((c[:, None, :] - nearest) ** 2).sum(-1)).min(1)


# -- tests ----------------------------------------------------------------------------------------------
def test_linked_panels_render(linked: Linked) -> None:
    """Both panels drawn side by side, the checkbox on, the kernel's linked trait on, no console errors; the
    positions the kernel sent are the lecture flow's (base sample, then each layer applied here)."""
    import torch

    p = linked.player
    assert p.get_attribute("data-status") == "ok"
    assert "fv-linked" in (p.get_attribute("class") or "")
    assert linked.probe()["linked"] is True
    assert p.locator(".fv-toolbar label", has_text="z | x linked").locator("input").is_checked()
    zb, xb = linked.panel("z").bounding_box(), linked.panel("x").bounding_box()
    assert zb["width"] > 250 and xb["width"] > 250, (zb, xb)
    assert zb["x"] + zb["width"] <= xb["x"] + 1 and abs(zb["y"] - xb["y"]) < 2, f"not side by side: {zb} {xb}"
    assert p.get_attribute("data-selected") == "0" and linked.selection() == []
    # the positions the test computes selections from
    pts = linked.points
    assert pts.shape == (5, N_POINTS, 2) and np.isfinite(pts).all()
    np.testing.assert_array_equal(pts[0], linked.z.astype(np.float32))
    x = torch.as_tensor(linked.z, dtype=torch.float64)
    with torch.no_grad():
        for k, layer in enumerate(lecture_flow().layers, 1):
            x = layer.double()(x)[0]
            np.testing.assert_allclose(pts[k], x.numpy(), rtol=1e-4, atol=1e-4, err_msg=f"state {k}")
    for which, png in clean_shots(linked).items():
        print(f"{which} panel: {assert_not_blank(png, f'{which} panel')}")
    assert_no_console_errors(linked)


def test_rectangle_in_z_panel_selects_base_points_and_highlights_both(linked: Linked) -> None:
    """A rectangle dragged in the z panel selects the base points z inside it, whatever layer the x panel
    shows; they are highlighted in the z panel and, at their layer-3 positions, in the x panel."""
    before = clean_shots(linked)
    linked.show_layer(LAYER)
    brush = brush_rect(linked, "z", (0.3, 0.75), (0.25, 0.7), 0)
    inside, edge = brush.split(linked.points[0])
    assert int((inside & ~edge).sum()) > 150, "the brush holds too few points to test anything"
    # a panel reading the shown state (x at layer 3) instead of z would select other points
    assert (brush.split(linked.points[LAYER])[0] ^ inside).sum() > 50
    check_selection(brush.got, inside, edge, "rectangle in the z panel")
    assert_highlight(before["z"], linked.base_png("z"), brush.m, linked.points[0], brush.mask, "z panel")
    assert_highlight(before["x"], linked.base_png("x"), linked.map("x"), linked.points[LAYER], brush.mask,
                     "x panel")
    assert_no_console_errors(linked)


def test_rectangle_in_x_panel_selects_by_the_state_shown(linked: Linked) -> None:
    """A rectangle dragged in the x panel selects by the positions at the layer shown (state 3), not the base
    sample, nor a neighbouring state; the selection is highlighted in both panels."""
    before = clean_shots(linked)
    linked.show_layer(LAYER)
    brush = brush_rect(linked, "x", (0.35, 0.7), (0.3, 0.65), LAYER)
    inside, edge = brush.split(linked.points[LAYER])
    assert int((inside & ~edge).sum()) > 100, "the brush holds too few points to test anything"
    for k in (0, LAYER - 1, LAYER + 1):  # the same rectangle over other states selects other points
        assert (brush.split(linked.points[k])[0] ^ inside).sum() > 50, k
    check_selection(brush.got, inside, edge, "rectangle in the x panel at layer 3")
    assert_highlight(before["x"], linked.base_png("x"), brush.m, linked.points[LAYER], brush.mask, "x panel")
    assert_highlight(before["z"], linked.base_png("z"), linked.map("z"), linked.points[0], brush.mask, "z panel")
    assert_no_console_errors(linked)


def test_shift_drag_lasso_selects_inside_the_polygon(linked: Linked) -> None:
    """Shift-drag draws a lasso: the points inside the (concave, star-shaped) polygon are selected, by the
    even-odd rule, checked with matplotlib's Path.contains_points; not its bounding box."""
    from matplotlib.path import Path as MplPath

    linked.show_layer(LAYER)
    m = linked.map("z")
    c = m.canvas_px(linked.points[0])
    shown = c[m.inside_plot(c, 3.0)]
    centre = np.median(shown, axis=0)
    r_out = 1.2 * float(np.std(shown[:, 0]))
    angles = np.pi / 2 + np.arange(10) * np.pi / 5
    radii = np.where(np.arange(10) % 2 == 0, r_out, 0.4 * r_out)
    star = [(float(centre[0] + r * np.cos(a)), float(centre[1] - r * np.sin(a))) for r, a in zip(radii, angles,
                                                                                                  strict=True)]
    prev = linked.selection()
    seen = np.array(drag(linked.page, m, [*star, star[0]], shift=True))
    got = new_selection(linked, prev)
    inside = MplPath(np.vstack([seen, seen[:1]])).contains_points(c)
    edge = polygon_distance(c, seen) <= EDGE_PX
    assert int((inside & ~edge).sum()) > 100, "the lasso holds too few points to test anything"
    x0, y0 = seen.min(0)
    x1, y1 = seen.max(0)
    in_box = (c[:, 0] > x0) & (c[:, 0] < x1) & (c[:, 1] > y0) & (c[:, 1] < y1)
    assert (in_box & ~inside).sum() > 100, "the star's bounding box holds as many points: not a polygon test"
    check_selection(got, inside, edge, "lasso in the z panel")
    assert_no_console_errors(linked)


def test_click_without_drag_clears_the_selection(linked: Linked) -> None:
    """A click (no movement) in a panel clears the selection, in the kernel and in both pictures."""
    clean = clean_shots(linked)
    linked.show_layer(LAYER)
    if not linked.selection():
        brush_rect(linked, "x", (0.35, 0.7), (0.3, 0.65), LAYER)
    assert linked.selection() and int(linked.player.get_attribute("data-selected")) > 0
    click_clear(linked, "x")
    for which in ("z", "x"):
        png = linked.base_png(which)
        assert int(orange(rgb(png)).sum()) == 0, f"{which} panel: the highlight stayed after the selection was cleared"
        changed = pixel_difference(clean[which], png)
        assert changed < 0.001, f"{which} panel: {changed:.2%} of the pixels differ from the unselected picture"
    # a click with nothing selected leaves it empty
    click_clear(linked, "z")
    assert_no_console_errors(linked)


def test_checkbox_turns_the_z_panel_off_and_on(linked: Linked) -> None:
    """The "z | x linked" checkbox removes the z panel and brings it back, drawn (the kernel's trait follows)."""
    p = linked.player
    box = p.locator(".fv-toolbar label", has_text="z | x linked").locator("input")
    box.click()
    wait_until(lambda: p.locator(".fv-panel").count() == 1 and linked.probe()["linked"] is False, 30,
               what="one panel and linked=False in the kernel")
    assert "fv-linked" not in (p.get_attribute("class") or "")
    box.click()
    wait_until(lambda: p.locator(".fv-panel").count() == 2 and linked.probe()["linked"] is True, 30,
               what="two panels and linked=True in the kernel")
    settle(linked.page)
    for which in ("z", "x"):
        assert_not_blank(linked.base_png(which), f"{which} panel after switching back on")
    assert_no_console_errors(linked)
