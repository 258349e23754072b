"""flowviz.plot: the matplotlib renderer draws the same scene arrays, by the same rules, as the browser
(js/WIRE.md): mesh topology, colours from the LUT, fractional positions, folds, titles, banner, GIF."""

from __future__ import annotations

import dataclasses

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from flowviz import flows  # noqa: E402
from flowviz.plot import (  # noqa: E402
    animate,
    fold_flags,
    frame_positions,
    grid_segments,
    plot_layers,
    plot_state,
    status_text,
    triangles,
)
from flowviz.plot.layers import COLORBAR_LABEL  # noqa: E402
from flowviz.scene import PlayerScene, player_scene  # noqa: E402
from flowviz.widgets.lut import colormap_lut  # noqa: E402


def scene_of(flow: flows.Flow, grid: int = 17, n: int = 200) -> PlayerScene:
    g = torch.Generator().manual_seed(0)
    return player_scene(flow, flow.base.sample(n, g), gx=grid)


def folding_planar() -> flows.Flow:
    return flows.Flow([flows.Planar(2, u=[-3.0, 0.0], w=[1.0, 0.0], constrained=False)])


@pytest.fixture(scope="module")
def planar3() -> PlayerScene:
    return scene_of(flows.planar_flow(2, layers=3, seed=1))


def one_axes(figsize: tuple[float, float] = (3.0, 3.0), dpi: int = 60) -> tuple[Figure, matplotlib.axes.Axes]:
    fig = Figure(figsize=figsize, dpi=dpi)
    return fig, fig.add_subplot()


# -- topology ---------------------------------------------------------------------------------------

def test_triangles_are_two_per_grid_cell():
    gx, gy = 5, 4
    tris = triangles(gx, gy)
    assert tris.shape == ((gx - 1) * (gy - 1) * 2, 3)
    rows, cols = tris // gx, tris % gx
    # every triangle lies in one cell, and each cell (its lower-left vertex) holds exactly two
    assert (np.ptp(rows, 1) == 1).all() and (np.ptp(cols, 1) == 1).all()
    cells = rows.min(1) * gx + cols.min(1)
    assert np.bincount(cells, minlength=gx * gy)[[r * gx + c for r in range(gy - 1) for c in range(gx - 1)]].tolist() \
        == [2] * ((gx - 1) * (gy - 1))
    # the browser's order: (v00, v10, v11), (v00, v11, v01), counter-clockwise on a regular grid
    assert tris[:2].tolist() == [[0, 1, gx + 1], [0, gx + 1, gx]]
    # grid lines every m-th row/column, borders included
    seg = grid_segments(9, 9, 4)
    assert len(seg) == 3 * 8 * 2


def segments_of(lines) -> np.ndarray:  # noqa: ANN001
    """(S, 2, 2): the two-point segments of a LineCollection of polylines (one path per grid line)."""
    return np.concatenate([np.stack([p[:-1], p[1:]], 1) for p in lines.get_segments() if len(p) > 1])


def test_drawn_triangles_are_the_valid_ones(planar3):
    sc = planar3
    T = (sc.gx - 1) * (sc.gy - 1) * 2
    fig, ax = one_axes()
    art = plot_state(ax, sc, 1)
    assert len(art.triangles) + len(art.folded) == T
    assert art.density is not None and len(art.density.triangles) == len(art.triangles)
    # an interior vertex invalid in state 2 removes its six triangles between states 1 and 2 and at 2
    finite = sc.finite.copy()
    v = 3 * sc.gx + 4
    finite[2, v] = 0
    bad = dataclasses.replace(sc, finite=finite)
    for t in (1.5, 2.0):
        art = plot_state(one_axes()[1], bad, t)
        drawn = np.concatenate([art.triangles, art.folded])
        assert len(drawn) == T - 6 and not (drawn == v).any()
    assert len(plot_state(one_axes()[1], bad, 1.0).triangles) == T  # state 1 itself is untouched


# -- colours ----------------------------------------------------------------------------------------

def test_density_uses_scene_logp_and_logp_range(planar3):
    sc = planar3
    art = plot_state(one_axes()[1], sc, 2)
    np.testing.assert_array_equal(art.density.get_array(), sc.logp[2])
    assert (art.density.norm.vmin, art.density.norm.vmax) == pytest.approx(sc.logp_range)
    assert art.density.norm.clip


def centre_colour(fig: Figure, ax) -> np.ndarray:
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    img = np.asarray(canvas.buffer_rgba())[..., :3].astype(int)
    x0, y0, x1, y1 = ax.get_window_extent().extents
    cx, cy = int((x0 + x1) / 2), img.shape[0] - int((y0 + y1) / 2)
    patch = img[cy - 3:cy + 4, cx - 3:cx + 4].reshape(-1, 3)
    assert np.ptp(patch, 0).max() <= 1, "a constant log p must give one colour (Agg rounds by 1 at edges)"
    return np.median(patch, 0)


@pytest.mark.parametrize("cmap", ["viridis", "magma"])
@pytest.mark.parametrize("s, index", [(0.5, 128), (0.0, 0), (1.7, 255), (-3.0, 0)])
def test_rendered_colour_is_the_lut_colour(planar3, cmap, s, index):
    lo, hi = planar3.logp_range
    flat = dataclasses.replace(planar3, logp=np.full_like(planar3.logp, lo + s * (hi - lo)))
    fig, ax = one_axes()
    plot_state(ax, flat, 0, show_points=False, show_grid=False, cmap=cmap)
    want = np.round(colormap_lut(cmap)[index] * 255).astype(int)  # the browser's table, clamped ends
    np.testing.assert_allclose(centre_colour(fig, ax), want, atol=1)


# -- fractional positions ---------------------------------------------------------------------------

@pytest.mark.parametrize("t", [0.25, 1.5, 2.9])
def test_fractional_position_draws_the_lerp(planar3, t):
    sc = planar3
    k0, f = int(np.floor(t)), t - np.floor(t)
    want = (1 - f) * sc.mesh[k0].astype(np.float64) + f * sc.mesh[k0 + 1]
    art = plot_state(one_axes()[1], sc, t)
    np.testing.assert_allclose(art.mesh, want, rtol=0, atol=1e-5)
    np.testing.assert_allclose(art.logp, (1 - f) * sc.logp[k0] + f * sc.logp[k0 + 1], atol=1e-5)
    # the drawn artists sit at the interpolated vertices, not at either state
    tri_xy = art.density.mesh[art.density.triangles]
    np.testing.assert_allclose(tri_xy, want[art.triangles], atol=1e-5)
    assert not np.allclose(tri_xy, sc.mesh[k0][art.triangles], atol=1e-3)
    seg = segments_of(art.grid)
    np.testing.assert_allclose(seg, want[grid_segments(sc.gx, sc.gy)], atol=1e-5)
    assert len(art.grid.get_segments()) < len(seg) / 4  # one path per grid line, not per segment
    pts = (1 - f) * sc.points[k0].astype(np.float64) + f * sc.points[k0 + 1]
    np.testing.assert_allclose(art.points.get_offsets(), pts, atol=1e-5)


def test_integer_position_is_the_state_exactly(planar3):
    art = plot_state(one_axes()[1], planar3, 3)
    np.testing.assert_array_equal(art.mesh, planar3.mesh[3])
    np.testing.assert_array_equal(art.points.get_offsets(), planar3.points[3])


# -- folds and the banner ---------------------------------------------------------------------------

def test_folds_of_a_non_invertible_planar_map():
    sc = scene_of(folding_planar())
    assert sc.status == "not invertible"
    flags = fold_flags(sc)
    assert not flags[0].any() and flags[1].any()
    # x1 = z1 - 3 tanh(z1) reverses orientation where 1 - 3 sech^2(z1) < 0, i.e. |z1| < acosh(sqrt 3)
    band = np.arccosh(np.sqrt(3.0))
    z1 = np.abs(sc.mesh[0][triangles(sc.gx, sc.gy), 0])
    assert (z1[flags[1]].min(1) < band).all()  # every folded cell touches the band
    inside = z1.max(1) < band
    assert inside.any() and flags[1][inside].all()  # every cell inside the band is folded
    np.testing.assert_array_equal(flags[1], (sc.folded[1] > 0)[triangles(sc.gx, sc.gy)].any(-1))  # as the browser
    art = plot_state(one_axes()[1], sc, 1)
    assert len(art.folded) == flags[1].sum() and art.folds is not None
    assert art.folds.get_hatch() and art.folds.get_facecolor()[0][0] > 0.8  # red hatching
    assert len(plot_state(one_axes()[1], sc, 0.4).folded) == 0  # folds of state round(t) = 0
    assert len(plot_state(one_axes()[1], sc, 0.5).folded) == flags[1].sum()


def test_no_folds_for_invertible_maps():
    for flow in (flows.Flow([flows.Planar(2, u=[-3.0, 0.0], w=[1.0, 0.0])]),  # constrained: invertible
                 flows.planar_flow(2, layers=3, seed=2)):
        sc = scene_of(flow)
        assert sc.status == "ok" and not fold_flags(sc).any()
        assert len(plot_state(one_axes()[1], sc, sc.K).folded) == 0


def test_orientation_reversing_layers_are_not_folds():
    """Reverse (det -1 everywhere) is invertible: a signed-area rule would hatch every cell; ours none."""
    sc = scene_of(flows.Flow([flows.Reverse(2), folding_planar().layers[0]]))
    flags = fold_flags(sc)
    assert not flags[1].any()
    # the fold of the planar layer after the reversal is the same band of the base mesh as without it
    np.testing.assert_array_equal(flags[2], fold_flags(scene_of(folding_planar()))[1][_swap(sc.gx)])


def _swap(g: int) -> np.ndarray:
    """Triangle index map between a g x g mesh and its transpose (Reverse swaps z1 and z2)."""
    tris = triangles(g, g)
    t_of = {frozenset(t): i for i, t in enumerate(tris.tolist())}
    swapped = (tris % g) * g + tris // g
    out = np.full(len(tris), -1)
    for i, t in enumerate(swapped.tolist()):
        out[i] = t_of.get(frozenset(t), -1)
    if (out < 0).any():  # the diagonal of each cell flips under the transpose: compare cells instead
        cell = lambda t: (int(t.min() // g), int(t.min() % g))  # noqa: E731
        by_cell = {}
        for i, t in enumerate(tris):
            by_cell.setdefault(cell(t), []).append(i)
        for i, t in enumerate(swapped):
            out[i] = by_cell[cell(t)][0]
    return out


def texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text) if t.get_visible()]


def test_a_squashed_plane_is_drawn_as_its_line():
    """Affine with s2 = 0 (det J = 0): no density cells, but the points and the grid on the line x2 = t2, as
    the browser draws them (the scene's ``placed`` flags); before, the state was drawn empty."""
    flow = flows.Flow([flows.Affine(2, scale=[1.5, 1.0], shift=[0.5, 0.7])])
    with torch.no_grad():
        flow.layers[0].scale[1] = 0.0
    sc = scene_of(flow)
    assert sc.status == "not invertible"
    fig, ax = one_axes()
    out = plot_state(ax, sc, 1.0)
    assert len(out.triangles) == 0 and out.density is None  # nothing to colour
    segs = np.concatenate(out.bare.get_segments())
    assert len(segments_of(out.bare)) == len(grid_segments(sc.gx, sc.gy))  # the whole grid, squashed
    np.testing.assert_allclose(segs[:, 1], 0.7, atol=1e-6)
    assert segs[:, 0].min() < -3 and segs[:, 0].max() > 4  # 1.5 z1 + 0.5 over the base extent
    pts = out.points.get_offsets()
    assert len(pts) == sc.N and np.allclose(pts[:, 1], 0.7)
    # the state before is drawn as usual, with no bare lines
    assert plot_state(one_axes()[1], sc, 0.0).bare is None


def test_banner_for_a_not_invertible_scene():
    fig = plot_layers(scene_of(folding_planar()))
    banner = [t for t in texts(fig) if t.startswith("not invertible: layer 1 (Planar)")]
    assert banner and "folds the plane" in banner[0].replace("\n", " ")
    assert not [t for t in texts(plot_layers(scene_of(flows.planar_flow(2, 1, seed=0))))
                if t.startswith(("not invertible", "non-finite"))]


def test_status_text_words_non_finite_like_the_browser(planar3):
    layers = [dataclasses.replace(li) for li in planar3.layers]
    layers[1].nonfinite = 3
    sc = dataclasses.replace(planar3, layers=layers, status="non-finite", message="m")
    assert status_text(sc) == "non-finite: layer 2, 3 points \u2014 m"
    assert status_text(planar3) == ""


# -- the figure -------------------------------------------------------------------------------------

def test_plot_layers_panels_titles_camera_colourbar():
    flow = flows.planar_flow(2, layers=3, seed=4)
    fig = plot_layers(flow, n_points=300, grid=17)
    panels = [ax for ax in fig.axes if ax.get_label().startswith("state")]
    assert [ax.get_title() for ax in panels] == ["base  pi(z)", "after layer 1: Planar", "after layer 2: Planar",
                                                 "after layer 3: Planar"]
    assert len({ax.get_xlim() for ax in panels}) == 1 and len({ax.get_ylim() for ax in panels}) == 1
    assert all(ax.get_aspect() == 1.0 for ax in panels)
    sc = scene_of(flow, 17, 300)
    b = np.asarray(sc.bounds)
    assert panels[0].get_xlim() == pytest.approx((b[:, 0].min(), b[:, 1].max()))
    assert panels[0].get_ylim() == pytest.approx((b[:, 2].min(), b[:, 3].max()))
    cbars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert len(cbars) == 1 and cbars[0].get_ylabel() == COLORBAR_LABEL == "log p_k(x)"
    # built from the flow with the same seed: the same points as the scene
    np.testing.assert_allclose(panels[3].collections[-1].get_offsets(), sc.points[3], atol=1e-6)

    fig = plot_layers(sc, layers=[0, 1.5], show_density=False)
    titles = [ax.get_title() for ax in fig.axes if ax.get_label().startswith("state")]
    assert titles == ["base  pi(z)", "applying layer 2: Planar  (t = 1.50)"]
    assert not [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]

    # follow=True: each panel its own state's bounds (state 1.5: the mix of states 1 and 2), as the browser
    fig = plot_layers(sc, layers=[0, 1.5, 3], follow=True)
    panels = [ax for ax in fig.axes if ax.get_label().startswith("state")]
    for ax, box in zip(panels, [b[0], 0.5 * (b[1] + b[2]), b[3]], strict=True):
        x0, x1 = ax.get_xlim()
        y0, y1 = ax.get_ylim()
        assert (x0, x1, y0, y1) == pytest.approx(tuple(box), rel=1e-9, abs=1e-9)


# -- animation --------------------------------------------------------------------------------------

def test_animate_writes_a_gif_with_one_frame_per_position(tmp_path):
    from PIL import Image

    sc = scene_of(flows.planar_flow(2, layers=2, seed=5), grid=9, n=100)
    positions = frame_positions(sc.K, fps=2, seconds_per_layer=1.0)
    assert positions.tolist() == [0.0, 0.5, 1.0, 1.5, 2.0]
    out = animate(sc, tmp_path / "flow.gif", fps=2, seconds_per_layer=1.0, dpi=30, figsize=(3, 2.5))
    assert out == tmp_path / "flow.gif"
    with Image.open(out) as im:
        assert im.n_frames == len(positions)
        assert im.size == (90, 75)


def test_animate_follow_moves_the_camera_with_the_layer(tmp_path, monkeypatch):
    import sys

    anim = sys.modules["flowviz.plot.animate"]  # (flowviz.plot.animate, the attribute, is the function)
    sc = scene_of(flows.planar_flow(2, layers=2, seed=5), grid=9, n=100)
    seen = []
    real = anim.plot_state

    def spy(ax, scene, position, **kw):  # noqa: ANN001, ANN003, ANN202
        seen.append((position, kw["view"]))
        return real(ax, scene, position, **kw)

    monkeypatch.setattr(anim, "plot_state", spy)
    animate(sc, tmp_path / "f.gif", fps=2, seconds_per_layer=1.0, dpi=30, figsize=(3, 2.5), follow=True)
    frames = seen[1:]  # the first call lays the figure out
    assert [t for t, _ in frames] == [0.0, 0.5, 1.0, 1.5, 2.0]
    b = np.asarray(sc.bounds)
    for t, view in frames:
        k0, f = int(min(t, 1.0)), t - int(min(t, 1.0))
        np.testing.assert_allclose(view, (1 - f) * b[k0] + f * b[min(k0 + 1, 2)], rtol=1e-9, atol=1e-12)
    seen.clear()
    animate(sc, tmp_path / "g.gif", fps=2, seconds_per_layer=1.0, dpi=30, figsize=(3, 2.5))
    assert len({v for _, v in seen}) == 1  # without follow: one camera


def test_animate_mp4_without_ffmpeg_says_so(tmp_path, monkeypatch):
    from matplotlib import animation

    monkeypatch.setattr(animation.writers, "is_available", lambda name: False)
    with pytest.raises(RuntimeError, match="ffmpeg is missing.*gif"):
        animate(flows.planar_flow(2, 1, seed=0), tmp_path / "a.mp4")
    with pytest.raises(ValueError, match="unknown animation format"):
        animate(flows.planar_flow(2, 1, seed=0), tmp_path / "a.txt")


def _image_area(flow: flows.Flow, corners: np.ndarray, n: int = 24) -> float:
    """Area of the image of a base triangle under ``flow``, from an n x n subdivision pushed through it
    (the sum of the small image triangles' areas: independent of the scene's densities)."""
    a, b, c = (torch.as_tensor(p, dtype=torch.float64) for p in corners)
    pts, idx = [], {}
    for i in range(n + 1):
        for j in range(n + 1 - i):
            idx[i, j] = len(pts)
            pts.append(a + (b - a) * i / n + (c - a) * j / n)
    with torch.no_grad():
        x = flow.double()(torch.stack(pts))[0].numpy()
    area = 0.0
    for (i, j), p in idx.items():
        for q, r in (((i + 1, j), (i, j + 1)), ((i + 1, j), (i + 1, j - 1))):
            if q in idx and r in idx:
                (x0, y0), (x1, y1), (x2, y2) = x[p], x[idx[q]], x[idx[r]]
                area += abs((x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)) / 2
    return area


def test_over_drawn_cells_are_left_unfilled_and_really_over_draw():
    """The trained moons RealNVP bends its mesh faster than 33 x 33 vertices resolve. Against the area each base
    cell really maps to (a fine subdivision of it pushed through the flow, independent of the scene's
    densities), the triangles flagged as over-drawn (straight triangle > 4 x the area the corner densities
    predict) mostly paint more than twice that area, while the unflagged ones mostly paint within a factor of
    2 of it; plot_state leaves the flagged ones (and grid lines only they carry) undrawn; a linear lecture map
    flags none. (The rule sees only the corners: a cell whose inside stretches more than its corners can be
    flagged while its straight triangle is too small, which is unresolved too.)"""
    from flowviz import pretrained
    from flowviz.plot._mesh import signed_areas, stretch_flags
    from flowviz.plot.layers import Topology

    flow = pretrained.load("moons-realnvp")
    sc = player_scene(flow, torch.randn(500, 2, generator=torch.Generator().manual_seed(0)), gx=33)
    topo = Topology.of(sc)
    K = sc.K
    flagged = np.nonzero(topo.stretched[K] & ~topo.folds[K])[0]
    kept = np.nonzero(~topo.stretched[K] & ~topo.folds[K])[0]
    assert 0 < len(flagged) < 0.2 * len(topo.triangles)

    def painted_over_true(t: int) -> float:
        corners = sc.mesh[0][topo.triangles[t]].astype(np.float64)
        straight = abs(float(signed_areas(sc.mesh[K], topo.triangles[t : t + 1])[0])) / 2
        return straight / _image_area(flow, corners, n=12)

    # every flagged cell and 150 unflagged ones (measured: 74% of the flagged paint > 2x, 88% of the unflagged
    # within 2x; 30 samples each put the second at 0.867 against a bound of 0.85, too close to call)
    over = np.array([painted_over_true(t) for t in flagged])
    fine = np.array([painted_over_true(t) for t in np.random.default_rng(0).choice(kept, 150, replace=False)])
    assert (over > 2).mean() >= 0.6, np.sort(over).round(2)
    assert ((fine > 0.5) & (fine < 2)).mean() >= 0.8, np.sort(fine).round(2)
    out = plot_state(one_axes()[1], sc, float(K), topology=topo)
    drawn = {tuple(tri) for tri in out.triangles.tolist()}
    assert not drawn & {tuple(topo.triangles[t]) for t in flagged}
    assert len(drawn) + len(flagged) + int(topo.folds[K].sum()) >= len(topo.triangles) - 5
    # the lost grid lines are not drawn: segments compared exactly, in the mesh's float32 (LineCollection keeps
    # float64 copies of the same values), and there are lost ones to check
    lost = topo.segments[topo.lost[K]]
    assert len(lost) > 0
    shown = {tuple(map(tuple, np.asarray(seg, dtype=np.float32))) for seg in segments_of(out.grid)}
    mesh = np.asarray(sc.mesh[K], dtype=np.float32)
    kept = [(tuple(mesh[a]), tuple(mesh[b])) for a, b in topo.segments[~topo.lost[K]]]
    assert sum(seg in shown or seg[::-1] in shown for seg in kept) > 0.5 * len(kept)  # the lookup does match
    for a, b in lost:
        seg = (tuple(mesh[a]), tuple(mesh[b]))
        assert seg not in shown and seg[::-1] not in shown
    lecture = scene_of(flows.Flow([flows.Affine(2, scale=[1.5, 0.6], shift=[0.5, 0.0]),
                                   flows.Linear(2, matrix=[[1.0, 1.0], [2.0, 0.0]])]))
    assert not stretch_flags(lecture).any()


# -- review fixes: vector export, the browser's colour laws, defaults, twins ---------------------------

def test_vector_exports_are_small_with_dense_parts_as_images():
    """The density, points and fold hatching are images in a PDF/SVG (at a sensible dpi), axes, text and grid
    lines vector: a default plot_layers figure was 70 MB of SVG (one Gouraud path per triangle)."""
    import io
    import re

    fig = plot_layers(flows.planar_flow(2, layers=2, seed=1))
    panels = [ax for ax in fig.axes if ax.get_label().startswith("state")]
    svg, pdf = io.BytesIO(), io.BytesIO()
    fig.savefig(svg, format="svg")
    fig.savefig(pdf, format="pdf")
    text = svg.getvalue().decode()
    assert len(svg.getvalue()) < 1.5e6, f"{len(svg.getvalue()) / 1e6:.1f} MB of SVG"
    assert len(pdf.getvalue()) < 1.0e6, f"{len(pdf.getvalue()) / 1e6:.1f} MB of PDF"
    assert len(re.findall(r"<image ", text)) >= len(panels)  # the density (and the points) as images
    assert len(re.findall(r"<path ", text)) < 3000  # ticks, spines, grid lines: vector, one path per line
    assert "log p_k(x)" in text or "glyph" in text  # text stays text/glyph paths, not pixels
    for ax in panels:
        assert ax.images and all(c.get_rasterized() for c in ax.collections if len(c.get_offsets()) > 100)


def _ramp_scene() -> PlayerScene:
    """A 2 x 2-vertex mesh (two triangles) whose left vertices have log p = 0 and right ones log p = 1."""
    flow = flows.Flow([flows.Affine(2, scale=[1.0, 1.0], shift=[0.0, 0.0])])
    sc = player_scene(flow, torch.zeros(0, 2), gx=2)
    logp = np.zeros_like(sc.logp)
    logp[:, [1, 3]] = 1.0  # vertex row * 2 + col: the right column
    return dataclasses.replace(sc, logp=logp, logp_range=(0.0, 1.0))


@pytest.mark.parametrize("dpi", [60, 100])
def test_density_interpolates_log_p_per_pixel_then_looks_up_the_table(dpi):
    """As the browser: each pixel's colour is the table's entry round(255 s) of the log p interpolated at the pixel
    centre, not a blend of the vertices' RGB colours (Gouraud: up to 24/255 off at a quarter of this ramp)."""
    sc = _ramp_scene()
    fig, ax = one_axes(dpi=dpi)
    plot_state(ax, sc, 0, show_points=False, show_grid=False)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    img = np.asarray(canvas.buffer_rgba())[..., :3].astype(int)
    lut = np.floor(colormap_lut("viridis").astype(np.float64) * 255 + 0.5).astype(int)
    (x0, y0), (x1, y1) = sc.mesh[0].min(0), sc.mesh[0].max(0)
    checked = 0
    for frac in (0.1, 0.25, 0.4, 0.6, 0.75, 0.9):
        for fy in (0.3, 0.7):
            px, py = (int(v) for v in ax.transData.transform((x0 + frac * (x1 - x0), y0 + fy * (y1 - y0))))
            xc = ax.transData.inverted().transform((px + 0.5, py + 0.5))[0]
            s = (xc - x0) / (x1 - x0)  # log p at the pixel centre (0 left, 1 right)
            want = lut[int(np.floor(s * 255 + 0.5))]
            np.testing.assert_array_equal(img[img.shape[0] - 1 - py, px], want, err_msg=f"at {frac}, {fy}")
            checked += 1
    assert checked == 12


def test_layer_positions_outside_0_to_k_are_refused():
    sc = scene_of(flows.Flow([flows.Affine(2, scale=[1.5, 0.5], shift=[0.0, 0.0])]), grid=9, n=50)
    assert sc.K == 1
    for bad in ([5], [-1], [float("nan")], [0, 1.5]):
        with pytest.raises(ValueError, match=r"0\.\.1"):
            plot_layers(sc, layers=bad)
    with pytest.raises(ValueError, match=r"0\.\.1"):
        plot_state(one_axes()[1], sc, 1.5)
    fig = plot_layers(sc, layers=[0, 0.5, 1])  # fractional positions in between are allowed
    assert [ax.get_title() for ax in fig.axes if ax.get_label().startswith("state")][1].startswith("applying layer 1")


def test_plot_layers_of_a_flow_is_the_scene_flowplayer_shows():
    """Same defaults as FlowPlayer (n_points, seed, grid): the same points, bounds (the camera) and logp_range."""
    import inspect

    from flowviz.plot._view import as_scene
    from flowviz.widgets import FlowPlayer

    flow = flows.planar_flow(2, layers=2, seed=3)
    ours, theirs = as_scene(flow), FlowPlayer(flow).scene
    assert (ours.N, ours.gx, ours.gy) == (theirs.N, theirs.gx, theirs.gy)
    assert ours.bounds == theirs.bounds and ours.logp_range == theirs.logp_range
    np.testing.assert_array_equal(ours.points, theirs.points)
    fig = plot_layers(flow)
    panel = next(ax for ax in fig.axes if ax.get_label().startswith("state"))
    b = np.asarray(theirs.bounds)
    assert panel.get_xlim() == pytest.approx((b[:, 0].min(), b[:, 1].max()))
    assert panel.get_ylim() == pytest.approx((b[:, 2].min(), b[:, 3].max()))
    (cbar,) = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert cbar.get_ylim() == pytest.approx(tuple(theirs.logp_range))
    from flowviz.plot._view import N_POINTS, SEED  # the shared defaults: FlowPlayer should import these

    defaults = inspect.signature(FlowPlayer.__init__).parameters
    assert (N_POINTS, SEED) == (defaults["n_points"].default, defaults["seed"].default)


# -- the twins ------------------------------------------------------------------------------------------

def _twin_calls() -> list:
    from flowviz.plot.cov1d import plot_change_of_variables
    from flowviz.plot.lens import plot_jacobian_lens, plot_parallelepiped
    from flowviz.plot.likelihood import plot_likelihood_split
    from flowviz.plot.triangular import plot_triangular
    from flowviz.scene.cov1d import cov1d_scene
    from flowviz.scene.lens import lens_scene
    from flowviz.scene.likelihood import likelihood_scene
    from flowviz.scene.triangular import make_layer, triangular_scene

    lik = likelihood_scene(flows.Flow([flows.Affine(2, scale=[1.5, -0.6], shift=[0.5, 0.2])]),
                           torch.randn(200, 2, generator=torch.Generator().manual_seed(0)))
    return [lambda: plot_jacobian_lens(lens_scene([[1.0, 1.0], [2.0, 0.0]], grid=9, n_samples=500)),
            lambda: plot_parallelepiped([[1, 2, 0], [0, 1, 3], [2, 0, 1]]),
            lambda: plot_change_of_variables(cov1d_scene()),
            lambda: plot_likelihood_split(lik, c=0.5),
            lambda: plot_triangular(triangular_scene(make_layer("maf", 6, seed=1)))]


def test_twins_leave_no_pyplot_figure_open_and_show_in_a_notebook():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    figures = []
    for call in _twin_calls():
        out = call()
        figures.append((out if hasattr(out, "figure") else out[0]).figure)
        assert plt.get_fignums() == before, call
    from flowviz.plot._figure import PlotFigure

    for fig in figures:
        assert isinstance(fig, PlotFigure)
        assert fig._repr_png_().startswith(b"\x89PNG")  # what Jupyter shows for it
    assert plot_layers(scene_of(flows.planar_flow(2, 1, seed=0)))._repr_png_().startswith(b"\x89PNG")


def test_a_twin_figure_is_displayed_when_the_notebook_cell_ends(monkeypatch):
    """In a kernel the figure of a twin (which returns its axes) is displayed once, after the cell, as pyplot's
    inline backend did; outside a kernel nothing is displayed."""
    import IPython
    import IPython.display

    from flowviz.plot._figure import show_after_cell

    class Events:
        def __init__(self) -> None:
            self.callbacks: list = []

        def register(self, name: str, fn) -> None:  # noqa: ANN001
            assert name == "post_execute"
            self.callbacks.append(fn)

        def unregister(self, name: str, fn) -> None:  # noqa: ANN001
            self.callbacks.remove(fn)

    class Kernel:
        kernel = object()
        events = Events()

    shown: list = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    monkeypatch.setattr(IPython, "get_ipython", lambda: None)
    assert not show_after_cell(Figure())
    monkeypatch.setattr(IPython, "get_ipython", lambda: Kernel)
    from flowviz.plot.lens import plot_parallelepiped

    ax = plot_parallelepiped(np.eye(3))
    assert shown == [] and len(Kernel.events.callbacks) == 1
    for fn in list(Kernel.events.callbacks):  # the cell ends
        fn()
    assert shown == [ax.figure] and Kernel.events.callbacks == []


def test_parallelepiped_of_a_flat_matrix_reads_zero_and_not_invertible():
    """The browser's rule (linalg.js flat3): |sum of the six terms| <= 16 eps sum |term| is 0 up to rounding."""
    from flowviz.plot.lens import plot_parallelepiped

    def shown(m) -> tuple[str, list[str]]:  # noqa: ANN001
        ax = plot_parallelepiped(m)
        return ax.get_title().splitlines()[-1], [t.get_text() for t in ax.texts]

    line, notes = shown([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9]])  # the terms add to -1.39e-17
    assert line.startswith("det = 0 (up to rounding") and "e-17" in line
    assert any(n.startswith("not invertible") for n in notes)
    line, notes = shown([[1, 2, 0], [0, 1, 3], [2, 0, 1]])
    assert line == "det = 13" and not notes
    line, notes = shown(np.diag([1e-10, 1.0, 1.0]))  # small but exact: not flat
    assert line == "det = 1e-10" and not notes
    line, notes = shown([[0, 1, 0], [1, 0, 0], [0, 0, 1]])
    assert line == "det = -1 < 0: orientation reversed" and not notes


def test_jacobian_lens_has_a_colour_bar_of_log_p():
    from flowviz.plot.lens import plot_jacobian_lens
    from flowviz.scene.lens import lens_scene

    s = lens_scene("z1 + 0.3*z2**3, tanh(z2) + 0.5*z1", grid=17, n_samples=500)
    a0, _ = plot_jacobian_lens(s)
    cbars = [ax for ax in [*a0.figure.axes, *a0.child_axes] if ax.get_ylabel() == "log p(x)"]  # (an inset key)
    assert len(cbars) == 1
    assert cbars[0].get_ylim() == pytest.approx(tuple(s.logp_range))
    assert len(a0.images) == 1  # the density: a raster of log p per pixel, as in plot_state


def test_likelihood_panels_use_the_browsers_robust_range():
    """robustRange (js/src/views/likelihood/math.js): sorted finite values at round(q (n-1)) and round((1-q)(n-1));
    a flat term is widened on both sides by max(|v| 1e-3, 1e-6), so it is drawn mid-scale (was: at the bottom)."""
    from flowviz.plot.likelihood import plot_likelihood_split
    from flowviz.scene.likelihood import likelihood_scene

    def js_robust_range(values, q=0.02):  # noqa: ANN001, ANN202
        v = sorted(float(x) for x in values if np.isfinite(x))
        at = lambda p: v[min(len(v) - 1, max(0, int(np.floor(p * (len(v) - 1) + 0.5))))]  # noqa: E731
        lo, hi = at(q), at(1 - q)
        if not hi > lo:
            m = max(abs(lo) * 1e-3, 1e-6)
            lo, hi = lo - m, hi + m
        return lo, hi

    flow = flows.Flow([flows.Affine(2, scale=[1.5, -0.6], shift=[0.5, 0.2])])  # constant log|det|: term 2 flat
    sc = likelihood_scene(flow, torch.randn(10, 2, generator=torch.Generator().manual_seed(0)))
    axes = plot_likelihood_split(sc, c=0.5)
    t1, t2, _ = sc.terms_at(0.5)
    for ax, vals in ((axes[0], t1), (axes[1], t2)):
        norm = ax.collections[0].norm
        assert (norm.vmin, norm.vmax) == pytest.approx(js_robust_range(vals), rel=0, abs=1e-12)
    assert np.ptp(t2) == 0 and axes[1].collections[0].norm(t2[0]) == pytest.approx(0.5)
    # 10 points: the 2% and 98% quantiles are the min and max (np.percentile would interpolate inside)
    assert (axes[0].collections[0].norm.vmin, axes[0].collections[0].norm.vmax) == (t1.min(), t1.max())


# -- TriangularJacobian's heatmap: the browser's heatColor ------------------------------------------------

def js_heat_color(v: float, max_abs: float) -> tuple[int, int, int]:
    """js/src/views/triangular/heat.js heatColor, transcribed (Math.round: halves up)."""
    if v == 0:
        return (236, 238, 242)
    if not np.isfinite(v):
        return (0, 0, 0)
    m = max_abs if max_abs > 0 else 1
    s = m / 100
    t = np.sign(v) * min(1.0, np.log1p(abs(v) / s) / np.log1p(m / s))
    lo = 0.25 + 0.75 * abs(t)
    c = (178, 24, 43) if t > 0 else (33, 102, 172)
    return tuple(int(np.floor(247 + (c[i] - 247) * lo + 0.5)) for i in range(3))


def _tri_scene(jac: np.ndarray):  # noqa: ANN202
    from flowviz.scene.triangular import make_layer, triangular_scene

    base = triangular_scene(make_layer("maf", jac.shape[0], seed=1))
    return dataclasses.replace(base, jac=np.asarray(jac, dtype=np.float32))


def _cell_colours(axes) -> np.ndarray:  # noqa: ANN001
    """The drawn RGB at every cell centre of the heatmap (Agg)."""
    ax = axes[0]
    canvas = FigureCanvasAgg(ax.figure)
    canvas.draw()
    img = np.asarray(canvas.buffer_rgba())[..., :3].astype(int)
    n = ax.images[0].get_array().shape[0]
    out = np.zeros((n, n, 3), dtype=int)
    for i in range(n):
        for j in range(n):
            x, y = ax.transData.transform((j, i))
            out[i, j] = img[img.shape[0] - 1 - int(y), int(x)]
    return out


def test_triangular_heatmap_is_the_browsers_heat_color_law():
    """Every non-zero entry is tinted at least 25% (the zero pattern stays visible), on the browser's log1p scale;
    before, RdBu_r on a SymLogNorm drew entries below max/100 near-white and its colours differed everywhere."""
    from flowviz.plot.triangular import plot_triangular

    vals = np.array([[4.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                     [1e-6, -2.0, 0.0, 0.0, 0.0, 0.0],
                     [-3e-5, 0.04, 0.5, 0.0, 0.0, 0.0],
                     [0.0, -0.01, 7e-3, -4.0, 0.0, 0.0],
                     [2.5, 1e-30, -1e-3, 0.3, 1.0, 0.0],
                     [-0.2, 3.9, 0.0, -0.7, 2e-4, 0.09]], dtype=np.float32)
    m = float(np.abs(vals).max())
    want = np.array([[js_heat_color(float(v), m) for v in row] for row in vals])
    nonzero = want[vals != 0]
    assert (np.abs(nonzero - 247).max(1) >= 0.25 * 140).all()  # every non-zero clearly tinted (not white)
    drawn = _cell_colours(plot_triangular(_tri_scene(vals)))
    np.testing.assert_array_equal(drawn, want)
    from flowviz.plot.triangular import heat_colors

    np.testing.assert_array_equal(heat_colors(vals), want)


def test_triangular_non_finite_entries_are_black_and_a_non_finite_j_still_draws():
    from flowviz.plot.triangular import plot_triangular

    vals = np.array([[1.0, 0.0, 0.0], [np.nan, 2.0, 0.0], [np.inf, -np.inf, 0.5]], dtype=np.float32)
    axes = plot_triangular(_tri_scene(vals))
    drawn = _cell_colours(axes)
    bad = ~np.isfinite(vals)
    assert (drawn[bad] == 0).all()  # black, as the browser (inf was the exact-zero grey)
    assert (drawn[vals == 0] == [236, 238, 242]).all()
    # the browser's scale: max_abs is null in the JSON meta (not finite), so 1
    want = np.array([[js_heat_color(float(v), 1.0) for v in row] for row in vals])
    np.testing.assert_array_equal(drawn, want)
    assert "3 non-finite entries" in axes[0].get_title()
    axes = plot_triangular(_tri_scene(np.full((4, 4), np.nan)))  # was: ValueError: Invalid vmin or vmax
    assert (_cell_colours(axes) == 0).all() and "no entry of J is finite" in axes[0].get_title()


def test_triangular_key_spans_minus_to_plus_max():
    from flowviz.plot.triangular import plot_triangular

    vals = np.array([[2.0, 0.0], [-0.5, 1.0]], dtype=np.float32)
    (ax,) = plot_triangular(_tri_scene(vals))
    (image,) = ax.get_images()
    assert image.colorbar is not None
    assert (image.colorbar.norm.vmin, image.colorbar.norm.vmax) == (-2.0, 2.0)
    assert [t.get_text() for t in image.colorbar.ax.get_yticklabels()] == ["-2", "-0.2", "0.2", "2"]


def test_triangular_timing_draws_the_diagonal_alone_series_dashed():
    from flowviz.plot.triangular import plot_triangular

    timing = {"n": [32, 64, 128], "lu_median_s": [1e-5, 4e-5, 2e-4], "diag_median_s": [2e-6, 2.1e-6, 2.3e-6],
              "slope_from_n": 32, "note": "note: diagonal alone slope 0.98",
              "diag_only": {"n": [4096, 65536, 262144], "median_s": [1e-5, 1.5e-4, 6e-4], "slope": 0.98,
                            "slope_from_n": 65536}}
    axes = plot_triangular(_tri_scene(np.eye(3, dtype=np.float32)), timing=timing)
    lines = axes[1].get_lines()
    assert len(lines) == 3
    dashed = lines[2]
    np.testing.assert_array_equal(dashed.get_xdata(), [4096, 65536, 262144])
    np.testing.assert_array_equal(dashed.get_ydata(), [1e-5, 1.5e-4, 6e-4])
    assert dashed.get_linestyle() == "--" and lines[0].get_linestyle() == "-"
    labels = [t.get_text() for t in axes[1].get_legend().get_texts()]
    assert labels[2].startswith("diagonal alone") and "slope 0.98" in labels[2]
    assert axes[1].get_xlim()[1] >= 262144
