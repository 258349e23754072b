"""ipywidgets' standard embedding (``ipywidgets.embed.embed_minimal_html``) in real headless Chromium.

The page it writes loads require.js, the html-manager and anywidget's front end from CDNs. These tests
serve those files from the npm packages of the exact versions the page names (fetched once with
``npm pack``, into pytest's cache; npm checks their integrity against the registry) and abort and
record every other request, so the page runs as it would online and nothing else is reached.

Found with these tests: a plain embed of any flowviz view drew nothing ("Class null not found in module
@jupyter-widgets/base", anywidget issue #339): the embed leaves out every trait equal to its default,
and for an anywidget that includes the front end itself (``_esm``) and the view's class name.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from browser_support import (
    NEEDS_KERNEL,
    assert_drawn,
    assert_not_blank,
    coloured_spots,
    hover_reads_vertex_under_pointer,
    lecture_flow,
    npm_package,
    pixel_difference,
    plot_png,
    set_range,
    settle,
    wait_until,
)

pytestmark = pytest.mark.browser

HTML_MANAGER = "1.0.15"  # the newest 1.0.x: the page asks for @jupyter-widgets/html-manager@^1.0.1
REQUIREJS = "2.3.4"  # the page's require.js (cdnjs serves it minified; npm has the same release unminified)

#: the page's own first try at a module, relative to the page (html-manager looks there before the CDN)
LOCAL_TRY = (re.compile(r"^Failed to load resource: net::ERR_FILE_NOT_FOUND$"), re.compile(r"/anywidget\.js$"))


@pytest.fixture(scope="module")
def cdn(request: pytest.FixtureRequest) -> dict[str, Path]:
    """URL pattern -> local file or directory serving it."""
    import anywidget

    dest = Path(request.config.cache.mkdir("npm-packages"))
    manager = npm_package(f"@jupyter-widgets/html-manager@{HTML_MANAGER}", dest)
    # the anywidget release of the Python package, whose front end the page asks for (~0.11.*)
    front = npm_package(f"anywidget@{anywidget.__version__}", dest)
    requirejs = npm_package(f"requirejs@{REQUIREJS}", dest)
    return {
        rf"^https://cdnjs\.cloudflare\.com/ajax/libs/require\.js/{re.escape(REQUIREJS)}/require\.min\.js$":
            requirejs / "require.js",
        r"^https://cdn\.jsdelivr\.net/npm/@jupyter-widgets/html-manager@[^/]+/dist/": manager / "dist",
        r"^https://cdn\.jsdelivr\.net/npm/anywidget@[^/]+/dist/": front / "dist",
    }


def embed_page(view: Any, path: Path) -> Path:
    """``embed_minimal_html`` of ``view`` at ``path``, checked for what it asks of the network. The file
    served for require.js is not cdnjs's minified build, so its subresource-integrity hash is taken off
    (the only change to the page)."""
    from ipywidgets.embed import embed_minimal_html

    embed_minimal_html(path, views=[view], title="flowviz embed")
    text = path.read_text()
    scripts = re.findall(r'<script src="([^"]+)"', text)
    assert scripts == [f"https://cdnjs.cloudflare.com/ajax/libs/require.js/{REQUIREJS}/require.min.js",
                       "https://cdn.jsdelivr.net/npm/@jupyter-widgets/html-manager@^1.0.1/dist/embed-amd.js"], scripts
    text, n = re.subn(r'(<script src="[^"]*require\.min\.js") integrity="[^"]+"', r"\1", text)
    assert n == 1
    path.write_text(text)
    return path


def open_embed(page: Any, path: Path, cdn: dict[str, Path], selector: str) -> tuple[Any, list[str], list[str]]:
    """Open an embedded page from file://; the CDN files are served from ``cdn``, the page's own directory
    is readable (html-manager tries a local copy of a module first), everything else is aborted and
    recorded. Waits until the view ``selector`` has drawn. Returns (view, served URLs, aborted URLs)."""
    served: list[str] = []
    left: list[str] = []
    here = path.parent.as_uri() + "/"

    def handle(route: Any) -> None:
        url = route.request.url
        if url.startswith(here) or url.startswith("blob:"):
            route.continue_()
            return
        for pattern, where in cdn.items():
            m = re.match(pattern, url)
            if m:
                file = where / url[m.end():] if where.is_dir() else where
                if file.is_file():
                    served.append(url)
                    route.fulfill(body=file.read_bytes(), status=200,
                                  content_type="text/javascript" if file.suffix == ".js" else None,
                                  headers={"Access-Control-Allow-Origin": "*"})
                    return
        left.append(url)
        route.abort()

    page.context.route("**/*", handle)
    page.on("websocket", lambda ws: left.append(f"websocket {ws.url}"))
    page.goto(path.as_uri())
    view = page.locator(selector)
    # a page error (e.g. "[anywidget] Failed to initialize model") ends the wait at once, with the reason
    drawn = lambda: view.count() == 1 and int(view.get_attribute("data-frame") or 0) > 0  # noqa: E731
    wait_until(lambda: page.console.page_errors or drawn(), 60,
               what=f"the embedded page to draw {selector} (its console: test-artifacts/)")
    assert not page.console.page_errors, "the embedded page failed:\n" + page.console.text()
    settle(page)
    return view, served, left


def test_flow_player_in_the_standard_embedding(page: Any, tmp_path: Path, cdn: dict[str, Path]) -> None:
    """FlowPlayer through ``embed_minimal_html``: it renders, scrubs, reads the Jacobian Python computed at the
    hovered vertex, and greys out what needs the kernel (as ``save_html``'s page does); only the page's
    three CDN files are asked for."""
    from flowviz.widgets import FlowPlayer

    player = FlowPlayer(lecture_flow(), n_points=2000, grid=33)
    assert "static" not in player.get_state()  # the live widget keeps its controls
    path = embed_page(player, tmp_path / "player.html")
    p, served, left = open_embed(page, path, cdn, ".flowviz-player")
    assert p.get_attribute("data-status") == "ok"
    K = player.scene.K
    assert K == 4
    png0 = plot_png(p)
    assert_not_blank(png0, "the embedded player")

    # the layer slider scrubs in the page
    set_range(p.locator(".fv-slider"), float(K))
    wait_until(lambda: float(p.get_attribute("data-position")) == K, 10, what="the slider at the last layer")
    settle(page)
    assert pixel_difference(png0, plot_png(p)) > 0.05, "scrubbing to the last layer did not change the picture"

    # hover: the readout is the Jacobian of layer K that Python computed at that vertex
    readout = p.locator(".fv-readout")
    overlay = p.locator(".fv-panel").last.locator("canvas.fv-overlay")
    box = overlay.bounding_box()
    jac = player.scene.jac
    for fx, fy in coloured_spots(plot_png(p), 3):
        before = readout.get_attribute("data-vertex")
        page.mouse.move(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
        wait_until(lambda before=before: readout.get_attribute("data-vertex") not in (None, before), 5,
                   what=f"a readout at {fx:.2f}, {fy:.2f}")
        k, vertex = int(readout.get_attribute("data-k")), int(readout.get_attribute("data-vertex"))
        assert k == K
        expected = float(np.linalg.det(jac[k - 1, vertex].astype(np.float64)))
        got = float(readout.get_attribute("data-det"))
        assert abs(got - expected) <= 1e-4 * max(1.0, abs(expected)), (vertex, got, expected)
    hover_reads_vertex_under_pointer(page, p, player.scene.mesh, n=2)  # the vertex read is the one under the pointer

    # no kernel behind the page: the controls that need one are greyed out with the reason
    controls = p.locator(".fv-params input, .fv-params select")
    assert controls.count() > 0
    states = controls.evaluate_all("els => els.map(e => [e.dataset.id, e.disabled, e.title])")
    assert all(disabled and NEEDS_KERNEL in title for _, disabled, title in states), states

    assert any("embed-amd.js" in u for u in served) and any("/npm/anywidget@" in u for u in served), served
    assert not left, f"requests left the page: {left}"
    errors = page.console.errors(benign=[LOCAL_TRY])
    assert not errors, "console errors:\n" + "\n".join(errors)


def _lecture_views() -> dict[str, tuple[str, Any]]:
    import torch

    from flowviz import flows
    from flowviz.data import Crescent
    from flowviz.widgets.cov1d import ChangeOfVariables1D
    from flowviz.widgets.lens import JacobianLens
    from flowviz.widgets.likelihood import LikelihoodSplit
    from flowviz.widgets.triangular import TriangularJacobian

    flow = flows.Flow([flows.Affine(2, scale=[1.5, -0.6], shift=[0.5, 0.2]),
                       flows.SinhArcsinh(2, skew=[0.3, -0.2], tailweight=[0.8, 1.3])])
    data = Crescent().sample(400, torch.Generator().manual_seed(1))
    return {
        "cov1d": (".fv-cov1d", ChangeOfVariables1D),
        "lens": (".flowviz-lens", lambda: JacobianLens(n_samples=2000)),
        "likelihood": (".fv-lik", lambda: LikelihoodSplit(flow, data)),
        "triangular": (".flowviz-triangular",
                       lambda: TriangularJacobian(kind="maf", n=12, sizes=(16, 32), repeats=3, diag_sizes=(4096,))),
    }


@pytest.mark.parametrize("name", ["cov1d", "lens", "likelihood", "triangular"])
def test_lecture_view_in_the_standard_embedding(page: Any, tmp_path: Path, cdn: dict[str, Path], name: str) -> None:
    """Every lecture view renders through ``embed_minimal_html``, with the controls that need the kernel greyed
    out (those the page computes itself, like LikelihoodSplit's c, stay live)."""
    selector, make = _lecture_views()[name]
    view = make()
    path = embed_page(view, tmp_path / f"{name}.html")
    el, _, left = open_embed(page, path, cdn, selector)
    assert el.get_attribute("data-status") in (None, "ok"), el.get_attribute("data-status")
    # the plot itself (a panel, or the triangular heatmap), not the whole view: its sliders and text alone would
    # pass for drawn
    assert_drawn(el.locator(".fv-panel, canvas.fv-tri-canvas").first.screenshot(), f"the embedded {name} view's plot")
    greyed = el.locator("input:disabled, select:disabled, button:disabled")
    if name == "likelihood":  # its one control, the shrink factor c, is computed in the page
        assert greyed.count() == 0 and el.locator('input[data-id="log10_c"]').is_enabled()
    else:
        assert greyed.count() > 0, "no control is greyed out in a page without a kernel"
        titles = greyed.evaluate_all("els => els.map(e => e.title)")
        assert all(NEEDS_KERNEL in t for t in titles), titles
    assert not left, f"requests left the page: {left}"
    errors = page.console.errors(benign=[LOCAL_TRY])
    assert not errors, "console errors:\n" + "\n".join(errors)
