"""JacobianLens in a real browser (Voila + headless Chromium): renders, typing a map redraws, a hostile
expression shows the parser's message and keeps the map, the hover readout's det J equals an
independent autograd determinant (computed here, in the test process, with torch.func in float64), and
the 3x3 mode draws the parallelepiped with det M and the six terms equal to numpy's, also after an entry
of M is edited in the browser. A probe Label (browser_support.PROBE_CELL) reports the kernel's mode and
matrix3."""

from __future__ import annotations

import io
import itertools
import json
import math
import re
import time
from typing import Any

import numpy as np
import pytest
from browser_support import (
    NEEDS_KERNEL,
    VOILA_BENIGN,
    Console,
    Voila,
    assert_drawn,
    assert_not_blank,
    assert_vertex_under_pointer,
    coloured_spots,
    open_export,
    panel_png,
    pixel_difference,
    read_probe,
    settle,
    view_notebook,
    wait_until,
)

pytestmark = pytest.mark.browser

NOTEBOOK = "lens.ipynb"
NONLINEAR = "z1 + 0.3*z2**3, tanh(z2) + 0.5*z1"


@pytest.fixture(scope="module")
def server(voila: Voila) -> Voila:
    view_notebook(voila, NOTEBOOK,
                  "from flowviz.widgets.lens import JacobianLens\nlens = JacobianLens(n_samples=5000)\n"
                  "report = lambda v: {'mode': v.mode, 'matrix3': v.matrix3, 'det3': v.three.get('det')}\n"
                  "display(lens, make_probe(lens, report, ['mode', 'matrix3', 'three']))")
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
    set_mode(page, lens, "2d")
    if f"({parse_map(text).text})" not in lens.locator(".fv-lens-info").inner_text():
        v0 = version(lens)
        type_map(page, lens, text)
        wait_until(lambda: version(lens) > v0, 20, what=f"the map {text!r}")
        settle(page)
    return lens


def set_mode(page: Any, lens: Any, mode: str) -> None:
    """Choose "2d" or "3d" in the lens's mode drop-down (as a user does) and wait until Python has it."""
    select = lens.locator("select.fv-lens-mode")
    if select.input_value() != mode:
        select.select_option(mode)
    wait_until(lambda: read_probe(page)["mode"] == mode, 20, what=f"mode {mode} in the kernel")
    lens.locator(".fv-lens-m3").wait_for(state="visible" if mode == "3d" else "hidden", timeout=10_000)
    settle(page)


def main_png(lens: Any) -> bytes:
    """The map's canvas as drawn, with what lies over it hidden for the shot: the overlay canvas (axes, hover
    marks) and the status banner (which sits over the plot; its pointer events pass through to the map)."""
    panel = lens.locator(".fv-panel").first
    covers = panel.locator("canvas.fv-overlay").or_(lens.locator(".fv-status"))
    covers.evaluate_all("(els) => els.forEach((e) => { e.dataset.fvTestVis = e.style.visibility;"
                        " e.style.visibility = 'hidden'; })")
    try:
        lens.page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
        return panel.locator("canvas.fv-base").screenshot(animations="disabled")
    finally:
        covers.evaluate_all("(els) => els.forEach((e) => { e.style.visibility = e.dataset.fvTestVis || '';"
                            " delete e.dataset.fvTestVis; })")


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
    # this map folds (det J_f = sech^2 z2 - 0.45 z2^2 changes sign): a thin sheet, its middle hatched red,
    # dense grid lines over the rest; its viridis pixels are about 0.5% of the panel (3 x the bound)
    assert_not_blank(after, "lens main panel after typing", min_colormap=0.0015)
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
    """det J_f at base vertex v of the lens's grid x grid mesh (row-major, z1 fastest), by hand for NONLINEAR:
    J_f = [[1, 0.9 z2^2], [0.5, sech^2 z2]], det J_f = sech^2 z2 - 0.45 z2^2."""
    z2 = -extent + 2 * extent * (v // grid) / (grid - 1)
    return 1.0 / math.cosh(z2) ** 2 - 0.45 * z2 ** 2


def test_hover_readout_det_equals_hand_written_determinant(shared: Any) -> None:
    page = shared
    lens = open_lens(page, NONLINEAR)
    overlay = lens.locator(".fv-panel").first.locator("canvas.fv-overlay")
    box = overlay.bounding_box()
    seen = set()
    frames, draws = int(lens.get_attribute("data-frame")), lens.get_attribute("data-canvas-draws")
    assert draws is not None and int(draws) >= 1
    for fx, fy in coloured_spots(main_png(lens), 5):  # places on the drawn (thin, folded) sheet
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
    assert len(seen) >= 3, f"hovering five places on the sheet read only the vertices {seen}"
    assert seen, "no mesh vertex was hovered"
    # hovering redraws the overlay only: the map's canvas keeps its picture without a renderer frame
    assert int(lens.get_attribute("data-frame")) > frames
    assert lens.get_attribute("data-canvas-draws") == draws, "hovering redrew the map's canvas"
    assert page.console.errors(VOILA_BENIGN) == []
    assert_not_blank(lens.locator(".fv-panel").first.screenshot(), "the lens map after hovering")


def _sarrus(m: np.ndarray) -> dict[tuple[int, int, int], tuple[int, float]]:
    """The six terms of det M as (sign, signed value), keyed by the columns taken in rows 1, 2, 3 (the sign
    is the permutation's parity, by counting inversions): independent of the front end's table."""
    out = {}
    for p in itertools.permutations(range(3)):
        sign = (-1) ** sum(p[i] > p[j] for i in range(3) for j in range(i + 1, 3))
        out[p] = (sign, sign * m[0, p[0]] * m[1, p[1]] * m[2, p[2]])
    return out


def check_three(page: Any, lens: Any) -> float:
    """The browser's det M (full precision and as shown) and its six terms equal numpy's for the kernel's
    matrix3 (1e-4); returns that determinant."""
    m = np.asarray(read_probe(page)["matrix3"], dtype=np.float64).reshape(3, 3)
    ref = float(np.linalg.det(m))
    wait_until(lambda: abs(float(lens.get_attribute("data-det3")) - ref) < 1e-4, 15, what=f"det M = {ref} shown")
    assert abs(float(lens.get_attribute("data-det3-python")) - ref) < 1e-4
    expected = _sarrus(m)
    seen = {}
    for t in json.loads(lens.get_attribute("data-terms3")):
        sign, *idx = re.fullmatch(r"([+\u2212]) a1(\d) a2(\d) a3(\d)", t["label"]).groups()
        key = tuple(int(i) - 1 for i in idx)
        assert (sign == "+") == (expected[key][0] > 0), (t, expected[key])
        assert abs(t["value"] - expected[key][1]) < 1e-4, (t, expected[key])
        seen[key] = t["value"]
    assert set(seen) == set(expected)
    # what the reader sees: each term and the sum as printed (5 significant digits)
    info = lens.locator(".fv-lens-info").inner_text()
    shown = dict(re.findall(r"(a1\d a2\d a3\d)\s*= (\S+)", info))
    assert len(shown) == 6, info
    for key, (_, v) in expected.items():
        label = f"a1{key[0] + 1} a2{key[1] + 1} a3{key[2] + 1}"
        assert abs(float(shown[label]) - v) <= 1e-4 * max(1.0, abs(v)), (label, shown[label], v)
    total = float(re.search(r"sum \(six terms\) = (\S+)", info).group(1))
    assert abs(total - ref) <= 1e-4 * max(1.0, abs(ref)), (total, ref)
    return ref


def test_singular_map_shows_its_grid_squashed_onto_a_line(shared: Any) -> None:
    """det J_f = 0: "not invertible", no density cells, and the grid drawn where the plane goes, the line
    x2 = 2 x1 (grey pixels of the plot along a line of slope -2 in screen pixels: equal scales, y down)."""
    from PIL import Image

    page = shared
    lens = open_lens(page, "z1 + 2*z2, 2*z1 + 4*z2")
    assert lens.get_attribute("data-status") == "not invertible"
    img = np.asarray(Image.open(io.BytesIO(main_png(lens))).convert("RGB")).astype(int)
    grey = (img.max(-1) < 170) & (img.max(-1) - img.min(-1) < 40)  # the grid's plain colour, not orange
    ys, xs = np.nonzero(grey)
    assert len(xs) > 150, f"only {len(xs)} grey pixels: the squashed grid is not drawn"
    slope, _ = np.polyfit(xs, ys, 1)
    r = np.corrcoef(xs, ys)[0, 1]
    assert abs(slope + 2) < 0.1 and r < -0.99, (slope, r)
    assert page.console.errors(VOILA_BENIGN) == []


def test_three_by_three_mode(shared: Any) -> None:
    page = shared
    lens = open_lens(page)
    before = panel_png(lens, 0)
    try:
        set_mode(page, lens, "3d")
        cube = panel_png(lens, 0)
        assert_drawn(cube, "3x3 panel", distinct=20, chromatic=0.002)
        assert pixel_difference(before, cube) > 0.05
        det0 = check_three(page, lens)
        assert "volume" in lens.locator(".fv-lens-info").inner_text()

        # edit M[2][2] in the browser: Python gets the new matrix, the picture and det M follow
        m = read_probe(page)["matrix3"]
        new = m[4] + 1.5
        entry = lens.locator('.fv-lens-m3 input[data-index="4"]')
        entry.fill(str(new))
        entry.press("Tab")  # commits the number (a change event), as leaving the field does
        wait_until(lambda: read_probe(page)["matrix3"][4] == new, 15, what="matrix3 edited in the kernel")
        settle(page)
        det1 = check_three(page, lens)
        assert abs(det1 - det0) > 0.1
        # the parallelepiped itself moved: compared inside the plot rectangle, away from the title and caption
        # whose printed det M changed too
        assert pixel_difference(_plot_area(lens, cube), _plot_area(lens, panel_png(lens, 0))) > 0.01
        assert "NaN" not in lens.inner_text()
    finally:
        set_mode(page, lens, "2d")
    assert page.console.errors(VOILA_BENIGN) == []


def _plot_area(lens: Any, png: bytes) -> bytes:
    """``png`` (a screenshot of the lens's main panel) cropped to its plot rectangle (the panel's data-plot)."""
    from PIL import Image

    left, top, width, height = (float(t) for t in lens.locator(".fv-panel").first.get_attribute("data-plot").split(","))
    im = Image.open(io.BytesIO(png))
    out = io.BytesIO()
    im.crop((int(left) + 2, int(top) + 2, int(left + width) - 2, int(top + height) - 2)).save(out, format="PNG")
    return out.getvalue()


# -- the exported page (lens.save_html), opened from file:// with no network and no kernel --------------------------
LECTURE_MAP = "z1 + z2, 2*z1"  # x = A z with the lecture's A = [[1, 1], [2, 0]]: det J_f = -2 everywhere


def open_export_offline(page: Any, path: Any) -> tuple[Any, list[str]]:
    """Open an exported page from file:// with every request that is not the file itself aborted and recorded
    (the page's own bundle, imported from a blob: URL the page makes, is the one exception: no network); a
    websocket counts as a request that left. Returns the lens (drawn at least once) and the list of requests
    that left, to check at the end (a page that asked for something it lacks may still render)."""
    lens, left = open_export(page, path, ".flowviz-lens")
    if lens.locator("select.fv-lens-mode").input_value() == "2d":  # (the 3x3 view sets no status)
        status = lens.get_attribute("data-status")
        assert status in ("ok", "not invertible"), (
            f"status {status!r}, banner {lens.locator('.fv-status').inner_text()!r}")
    assert lens.get_attribute("data-version"), "the exported lens has no arrays (no version)"
    return lens, left


def parse_hover(text: str) -> dict[str, Any]:
    """The numbers of the hover readout as the reader sees them: z, x = f(z), J_f(z) and det J_f(z)."""
    num = r"(-?[\d.]+(?:e-?\d+)?)"
    z = re.search(rf"at z = \({num}, {num}\)", text)
    x = re.search(rf"x = f\(z\) = \({num}, {num}\)", text)
    det = re.search(rf"det J_f\(z\) = {num}", text)
    lines = text.splitlines()
    i = lines.index("J_f(z)")
    J = [[float(v) for v in lines[i + k].strip("[] ").split()] for k in (1, 2)]
    assert z and x and det, text
    return {"z": [float(z[1]), float(z[2])], "x": [float(x[1]), float(x[2])], "J": J, "det": float(det[1])}


def hover_export(page: Any, lens: Any, n: int, scene: Any = None) -> list[dict[str, Any]]:
    """Hover ``n`` places on the drawn map (coloured pixels of the plot); for each distinct vertex read, the
    vertex, the page's det J (full precision) and the readout text's numbers. With ``scene`` (the exported
    view's LensScene), each vertex read must be the one under the pointer (:func:`assert_vertex_under_pointer`,
    the lens's 14 px search radius, positions x = f(z) from Python)."""
    panel = lens.locator(".fv-panel").first
    box = panel.locator("canvas.fv-overlay").bounding_box()
    base = panel.locator("canvas.fv-base").bounding_box()  # main_png's frame (1 image pixel = 1 CSS pixel)
    avoid = []  # the status banner ("not invertible" for a folding map) lies over the plot: not the map
    for b in lens.locator(".fv-status").all():
        if b.is_visible() and (r := b.bounding_box()):
            avoid.append((r["x"] - base["x"], r["y"] - base["y"], r["x"] + r["width"] - base["x"],
                          r["y"] + r["height"] - base["y"]))
    out: dict[int, dict[str, Any]] = {}
    for fx, fy in coloured_spots(main_png(lens), n, avoid=avoid):
        page.mouse.move(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
        settle(page, 3)
        v = lens.get_attribute("data-hover-vertex")
        if not v or int(v) in out:
            continue
        if scene is not None:
            x0, x1, y0, y1 = (float(t) for t in panel.get_attribute("data-view").split(","))
            left, top, width, height = (float(t) for t in panel.get_attribute("data-plot").split(","))
            sx = width / (x1 - x0)
            px, py = fx * box["width"], fy * box["height"]
            r = {"vertex": int(v), "pointer": (x0 + (px - left) / sx, y1 - (py - top) / sx), "px_per_unit": sx}
            assert_vertex_under_pointer(r, scene.mesh[1], scene.placed[1] > 0, radius_px=14.0)
        out[int(v)] = {"vertex": int(v), "det": float(lens.get_attribute("data-hover-det")),
                       **parse_hover(lens.locator(".fv-lens-hover").inner_text())}
    return list(out.values())


def grid_z(v: int, grid: int = 33, extent: float = 3.0) -> tuple[float, float]:
    """z of base vertex v of the lens's grid x grid mesh (row-major, z1 fastest)."""
    return (-extent + 2 * extent * (v % grid) / (grid - 1), -extent + 2 * extent * (v // grid) / (grid - 1))


def close5(shown: float, exact: float) -> bool:
    """``shown`` is ``exact`` as printed with 5 significant digits."""
    return abs(shown - exact) <= 1e-4 * max(1.0, abs(exact))


def test_exported_lens_hover_readout_offline(page: Any, tmp_path: Any) -> None:
    """JacobianLens.save_html for the lecture's f(z) = (z1 + z2, 2 z1), opened from file:// with no network and
    no kernel: the map and the histogram render; hovering gives a readout (computed in the page) at the hovered
    vertex whose J_f and det J_f equal the hand-written Jacobian [[1, 1], [2, 0]], det -2, and whose x = f(z)
    is the map at that z; the text box (Python parses it) is disabled with the reason; nothing leaves the page
    and the console has no error."""
    from flowviz.widgets.lens import JacobianLens

    lens_py = JacobianLens(text=LECTURE_MAP, n_samples=5000)
    assert lens_py.meta["det"] == -2.0 and lens_py.meta["linear"]
    path = lens_py.save_html(tmp_path / "lens.html")
    lens, left = open_export_offline(page, path)
    assert lens.get_attribute("data-status") == "ok"
    assert lens.get_attribute("data-renderer") in ("webgl2", "canvas2d")
    assert_not_blank(main_png(lens), "exported lens map")
    assert_drawn(panel_png(lens, 1), "exported histogram", distinct=20, chromatic=0.01)
    info = lens.locator(".fv-lens-info").inner_text()
    assert "(z1 + z2, 2 * z1)" in info and "det J_f      = -2" in info, info
    for ctl in (lens.locator(".fv-lens-text"), lens.locator(".fv-lens-apply")):
        assert ctl.is_disabled() and NEEDS_KERNEL in (ctl.get_attribute("title") or ""), ctl

    before = panel_png(lens, 0)
    hint = lens.locator(".fv-lens-hover").inner_text()
    readouts = hover_export(page, lens, 5, scene=lens_py.scene)
    assert len(readouts) >= 3, f"hovering five places on the map read only {len(readouts)} vertices: {readouts}"
    J_hand = [[1.0, 1.0], [2.0, 0.0]]  # d(z1 + z2, 2 z1)/d(z1, z2)
    det_hand = J_hand[0][0] * J_hand[1][1] - J_hand[0][1] * J_hand[1][0]  # -2
    for r in readouts:
        z1, z2 = grid_z(r["vertex"])
        assert abs(r["det"] - det_hand) < 1e-5, (r, det_hand)
        assert close5(r["det"], det_hand) and r["J"] == J_hand, (r, J_hand)
        assert close5(r["z"][0], z1) and close5(r["z"][1], z2), (r, (z1, z2))
        assert close5(r["x"][0], z1 + z2) and close5(r["x"][1], 2 * z1), (r, (z1 + z2, 2 * z1))
    assert "orientation: reversed" in lens.locator(".fv-lens-hover").inner_text()
    assert lens.locator(".fv-lens-hover").inner_text() != hint
    shown = pixel_difference(before, panel_png(lens, 0))
    print(f"hovered vertices {[r['vertex'] for r in readouts]}; the hover marks changed {shown:.2%} of the panel")
    assert shown > 0.002, f"hovering changed only {shown:.2%} of the panel (no local square drawn?)"

    assert not left, f"requests left the exported page: {left}"
    errors = page.console.errors()  # nothing is benign offline
    assert not errors, "console errors:\n" + "\n".join(errors)


def test_exported_nonlinear_lens_hover_and_3x3_offline(page: Any, tmp_path: Any) -> None:
    """A nonlinear map's export (det J_f = sech^2 z2 - 0.45 z2^2 changes from vertex to vertex): offline, the
    hover readout's det J_f and J_f at each hovered vertex equal the hand-written ones at that vertex's z; the
    3x3 view (the mode drop-down, kept in the page) draws the parallelepiped with det M and its six terms
    equal to numpy's for the exported matrix3."""
    from flowviz.widgets.lens import JacobianLens

    lens_py = JacobianLens(text=NONLINEAR, n_samples=5000)
    path = lens_py.save_html(tmp_path / "lens-nonlinear.html")
    lens, left = open_export_offline(page, path)
    assert_not_blank(main_png(lens), "exported nonlinear lens map", min_colormap=0.0015)
    readouts = hover_export(page, lens, 6, scene=lens_py.scene)
    assert len(readouts) >= 3, f"hovering six places on the sheet read only {len(readouts)} vertices: {readouts}"
    for r in readouts:
        z1, z2 = grid_z(r["vertex"])
        sech2 = 1.0 / math.cosh(z2) ** 2
        J_hand = [[1.0, 0.9 * z2 ** 2], [0.5, sech2]]  # d(z1 + 0.3 z2^3, tanh z2 + 0.5 z1)/d(z1, z2)
        det_hand = J_hand[0][0] * J_hand[1][1] - J_hand[0][1] * J_hand[1][0]
        assert abs(r["det"] - det_hand) <= 1e-4 * max(1.0, abs(det_hand)), (r, det_hand)
        assert abs(r["det"] - _reference_det(r["vertex"])) <= 1e-4 * max(1.0, abs(det_hand))
        assert close5(r["det"], det_hand) and close5(r["z"][0], z1) and close5(r["z"][1], z2), (r, det_hand)
        for a, b in zip(sum(r["J"], []), sum(J_hand, []), strict=True):
            assert close5(a, b), (r["J"], J_hand)
    dets = sorted(r["det"] for r in readouts)
    assert dets[-1] - dets[0] > 0.05, f"the hovered vertices all read about the same det: {dets}"

    # the 3x3 view, in the page alone
    before = panel_png(lens, 0)
    lens.locator("select.fv-lens-mode").select_option("3d")
    lens.locator(".fv-lens-m3").wait_for(state="visible", timeout=10_000)
    settle(page)
    cube = panel_png(lens, 0)
    assert_drawn(cube, "exported 3x3 panel", distinct=20, chromatic=0.002)
    assert pixel_difference(before, cube) > 0.05
    m = np.asarray(lens_py.matrix3, dtype=np.float64).reshape(3, 3)
    ref = float(np.linalg.det(m))
    assert abs(float(lens.get_attribute("data-det3")) - ref) < 1e-9, (lens.get_attribute("data-det3"), ref)
    expected = _sarrus(m)
    for t in json.loads(lens.get_attribute("data-terms3")):
        sign, *idx = re.fullmatch(r"([+\u2212]) a1(\d) a2(\d) a3(\d)", t["label"]).groups()
        key = tuple(int(i) - 1 for i in idx)
        assert (sign == "+") == (expected[key][0] > 0) and abs(t["value"] - expected[key][1]) < 1e-9, (t, key)
    shown = [float(q.input_value()) for q in lens.locator(".fv-lens-m3 input").all()]
    assert shown == list(m.ravel()), (shown, m)
    assert "volume" in lens.locator(".fv-lens-info").inner_text()

    assert not left, f"requests left the exported page: {left}"
    errors = page.console.errors()
    assert not errors, "console errors:\n" + "\n".join(errors)


def test_exported_lens_3x3_entries_recompute_det_in_the_page(page: Any, tmp_path: Any) -> None:
    """In the exported page the entries of M stay editable and det M, its six terms and the picture follow the
    entries shown (computed in the page); Python's det is marked as needing a kernel, not shown stale. (Before,
    the page kept drawing Python's matrix: M shown [[1, .5, 0], [0, 2.5, .5], [.5, 0, 2]] with det M 2.125.)"""
    from flowviz.widgets.lens import JacobianLens

    lens_py = JacobianLens(mode="3d", n_samples=2000)
    lens, left = open_export_offline(page, lens_py.save_html(tmp_path / "lens-3d.html"))
    lens.locator(".fv-lens-m3").wait_for(state="visible", timeout=10_000)
    assert float(lens.get_attribute("data-det3")) == pytest.approx(lens_py.three["det"], abs=1e-9)
    before = panel_png(lens, 0)
    entry = lens.locator('.fv-lens-m3 input[data-index="4"]')
    assert not entry.is_disabled()
    entry.fill(str(float(entry.input_value()) + 1.5))
    entry.press("Tab")  # commits the number, as leaving the field does
    settle(page, 3)
    m = np.asarray([float(q.input_value()) for q in lens.locator(".fv-lens-m3 input").all()]).reshape(3, 3)
    det_page = float(lens.get_attribute("data-det3"))
    assert abs(det_page - np.linalg.det(m)) < 1e-6, (
        f"the page shows M = {m.tolist()} but det M = {det_page} (numpy: {np.linalg.det(m)})")
    assert abs(det_page - lens_py.three["det"]) > 1  # it moved
    info = lens.locator(".fv-lens-info").inner_text()
    assert "det (Python)    = \u2014 (needs a running kernel)" in info, info
    assert lens.get_attribute("data-det3-python") == ""
    assert pixel_difference(before, panel_png(lens, 0)) > 0.01  # the parallelepiped was redrawn
    assert not left and not page.console.errors()
