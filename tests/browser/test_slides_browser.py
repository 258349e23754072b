"""FlowPlayer and the lecture views on lecture slides: Voila's reveal template (``voila --template=reveal``),
real Voila on 127.0.0.1, real headless Chromium.

The template loads reveal.js 4.0.2 from unpkg; the test serves that release from its npm package (fetched once
with ``npm pack``) and aborts every other outside request (the template's jQuery and icon CSS, which the
slides do without). A Reveal slide has a fixed logical size (960 x 700), scaled to the window with a CSS
transform, and does not scroll.

Checked: the arrow keys move the deck while the player does not have focus and step the player while it
does, and not both; on its slide the whole player fits (sliders folded at first; unfolded, the plot shrinks so
that everything still fits), in both presets; the hover reads the vertex under the pointer through the
slide's scaling. Each lecture view, one per slide, draws and fits its slide.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import (
    LECTURE_FLOW,
    THREADS_CELL,
    VOILA_BENIGN,
    Voila,
    assert_drawn,
    assert_not_blank,
    hover_reads_vertex_under_pointer,
    lecture_flow,
    npm_package,
    plot_png,
    settle,
    start_voila,
    steady_box,
    wait_until,
)

pytestmark = pytest.mark.browser

REVEAL = "4.0.2"  # what Voila's (nbconvert's) reveal template asks unpkg for
REVEAL_URL = f"https://unpkg.com/reveal.js@{REVEAL}/"
#: the template's other outside requests, aborted here (reveal.js itself does not need them)
TEMPLATE_EXTRAS = re.compile(r"^https://(cdnjs\.cloudflare\.com/ajax/libs/jquery/|cdn\.jsdelivr\.net/npm/@fortawesome/)")
ABORTED = (re.compile(r"^Failed to load resource: net::ERR_FAILED$"), TEMPLATE_EXTRAS)
#: the template's slide-change handler calls MathJax.Hub, which it loads from a CDN: offline, every slide change
#: throws in Voila's own reveal.js (not flowviz's code; the deck works on)
MATHJAX = re.compile(r"^pageerror: TypeError: Cannot read properties of undefined \(reading 'Hub'\)\n"
                     r".*\n\s+at \S+ \(http://127\.0\.0\.1:\d+/voila/static/reveal\.js:")


def _errors(page: Any) -> list[str]:
    """Console errors and page errors, less the template's own offline failures."""
    return [e for e in page.console.errors(benign=[*VOILA_BENIGN, ABORTED]) if not MATHJAX.match(e)]


def _deck(path: Path, *slides: str) -> Path:
    """A notebook of slides: a title, then one code cell per slide."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cells = [nbformat.v4.new_markdown_cell("# Flows, layer by layer")]
    cells += [nbformat.v4.new_code_cell(src) for src in slides]
    for cell in cells:
        cell.metadata["slideshow"] = {"slide_type": "slide"}
    nb.cells = cells
    nbformat.write(nb, str(path))
    return path


def _slides(path: Path, preset: str) -> Path:
    return _deck(path, f"{THREADS_CELL}\nfrom flowviz import flows\nfrom flowviz.widgets import FlowPlayer\n"
                       f"FlowPlayer({LECTURE_FLOW}, n_points=2000, grid=33, position=4.0, preset={preset!r})")


#: one lecture view per slide, and the class its root carries
LECTURE_VIEWS = [
    ("fv-cov1d", f"{THREADS_CELL}\nfrom flowviz.widgets.cov1d import ChangeOfVariables1D\nChangeOfVariables1D()"),
    ("flowviz-lens", "from flowviz.widgets.lens import JacobianLens\nJacobianLens(n_samples=3000)"),
    ("fv-lik", "import torch\nfrom flowviz import flows\nfrom flowviz.data import Crescent\n"
               "from flowviz.widgets.likelihood import LikelihoodSplit\n"
               "flow = flows.Flow([flows.Affine(2, scale=[1.5, -0.6], shift=[0.5, 0.2]),"
               " flows.SinhArcsinh(2, skew=[0.3, -0.2], tailweight=[0.8, 1.3])])\n"
               "LikelihoodSplit(flow, Crescent().sample(800, torch.Generator().manual_seed(1)))"),
    ("flowviz-triangular", "from flowviz.widgets.triangular import TriangularJacobian\n"
                           "TriangularJacobian(kind='maf', n=16, sizes=(16, 32, 64), repeats=3, diag_sizes=(4096,))"),
]


@pytest.fixture(scope="module")
def deck(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[tuple[Voila, Path]]:
    """Voila with the reveal template serving a two-slide deck per preset, and reveal.js's package."""
    reveal = npm_package(f"reveal.js@{REVEAL}", Path(request.config.cache.mkdir("npm-packages")))
    root = tmp_path_factory.mktemp("slides")
    nb_dir = root / "notebooks"
    nb_dir.mkdir()
    for preset in ("notebook", "presentation"):
        _slides(nb_dir / f"{preset}.ipynb", preset)
    for preset in ("notebook", "presentation"):  # the view is the cell's last line; its preset set after it
        _deck(nb_dir / f"lecture-{preset}.ipynb",
              *(f"{src[:src.rindex(chr(10)) + 1]}view = {src[src.rindex(chr(10)) + 1:]}\nview.preset = {preset!r}\nview"
                for _, src in LECTURE_VIEWS))
    server = start_voila(nb_dir, root, ["--template=reveal"])
    try:
        yield server, reveal
    finally:
        server.server.stop()


def _open(page: Any, voila: Voila, reveal: Path, name: str) -> tuple[Any, list[str]]:
    left: list[str] = []

    def handle(route: Any) -> None:
        url = route.request.url
        if url.startswith(voila.server.base):
            route.continue_()
        elif url.startswith(REVEAL_URL) and (reveal / url[len(REVEAL_URL):]).is_file():
            file = reveal / url[len(REVEAL_URL):]
            route.fulfill(body=file.read_bytes(), status=200,
                          content_type="text/css" if file.suffix == ".css" else "text/javascript")
        else:
            left.append(url)
            route.abort()

    page.context.route("**/*", handle)
    page.goto(voila.url(name))
    wait_until(lambda: page.evaluate("() => !!document.querySelector('.reveal.ready .slides > section.present')"),
               120, what="reveal.js to start the deck")
    return page.locator(".flowviz-player"), left


def _inside(page: Any, player: Any) -> dict[str, float]:
    """The player's and the slide's rectangles on screen (the slide: ``.reveal .slides``, 960 x 700 scaled)."""
    return page.evaluate("(el) => { const a = el.getBoundingClientRect(),"
                         " b = document.querySelector('.reveal .slides').getBoundingClientRect();"
                         " return {top: a.top, bottom: a.bottom, left: a.left, right: a.right,"
                         " slide_top: b.top, slide_bottom: b.bottom, slide_left: b.left, slide_right: b.right}; }",
                         player.element_handle())


def _assert_fits(page: Any, player: Any, what: str) -> dict[str, float]:
    steady_box(player)
    r = _inside(page, player)
    assert r["slide_top"] - 1 <= r["top"] and r["bottom"] <= r["slide_bottom"] + 1, f"{what}: off the slide {r}"
    assert r["slide_left"] - 1 <= r["left"] and r["right"] <= r["slide_right"] + 1, f"{what}: off the slide {r}"
    return r


def _slide_index(page: Any) -> int:
    """The deck's current slide (Reveal marks it ``present``)."""
    return int(page.evaluate("() => [...document.querySelectorAll('.reveal .slides > section')]"
                             ".findIndex((s) => s.classList.contains('present'))"))


def test_player_on_a_slide_fits_it_and_shares_the_keys(page: Any, deck: tuple[Voila, Path]) -> None:
    voila, reveal = deck
    p, left = _open(page, voila, reveal, "notebook.ipynb")
    assert _slide_index(page) == 0
    page.keyboard.press("ArrowRight")  # the deck's key: the player does not have focus
    wait_until(lambda: _slide_index(page) == 1, 10, what="the deck to move to the player's slide")
    wait_until(lambda: p.count() == 1 and int(p.get_attribute("data-frame") or 0) > 0, 120,
               what="the player to draw on its slide")
    settle(page)
    assert p.get_attribute("data-position") == "4"
    assert page.evaluate("() => document.querySelector('.reveal .slides').style.transform").find("scale(") >= 0

    # on its slide: sliders folded at first, and the whole player on the slide
    wait_until(lambda: p.get_attribute("data-slide") == "1", 10, what="the player to see its slide")
    box = p.locator("details.fv-params-box")
    assert box.count() == 1 and box.evaluate("(d) => d.open") is False, "the sliders did not start folded"
    _assert_fits(page, p, "sliders folded")
    assert_not_blank(plot_png(p), "the plot on the slide")
    hover_reads_vertex_under_pointer(page, p, lecture_flow_mesh(), 3)

    # unfolded: the plot shrinks so that the player still fits
    plot_h = p.locator(".fv-panel").last.bounding_box()["height"]
    box.locator("summary").click()
    wait_until(lambda: box.evaluate("(d) => d.open"), 5, what="the sliders to unfold")
    wait_until(lambda: p.locator(".fv-panel").last.bounding_box()["height"] < plot_h - 50, 10,
               what="the plot to shrink to make room for the sliders")
    settle(page)
    _assert_fits(page, p, "sliders unfolded")
    assert_not_blank(plot_png(p), "the smaller plot")
    hover_reads_vertex_under_pointer(page, p, lecture_flow_mesh(), 2)

    # focused (Tab, or the click on its summary), the player takes the arrows and the deck stays
    p.focus()
    page.keyboard.press("ArrowLeft")
    wait_until(lambda: p.get_attribute("data-position") == "3", 5, what="ArrowLeft to step the player")
    settle(page, 5)
    assert _slide_index(page) == 1, "the deck moved too"
    # focus elsewhere: the arrows are the deck's again
    page.evaluate("() => document.activeElement.blur()")
    page.keyboard.press("ArrowLeft")
    wait_until(lambda: _slide_index(page) == 0, 10, what="the deck to go back a slide")
    assert p.get_attribute("data-position") == "3"

    assert all(TEMPLATE_EXTRAS.match(u) for u in left), f"unexpected outside requests: {left}"
    errors = _errors(page)
    assert not errors, "console errors:\n" + "\n".join(errors)


def test_presentation_preset_fits_the_slide(page: Any, deck: tuple[Voila, Path]) -> None:
    """Type 1.6 times larger leaves less room on a 700 px slide: the plot gives way, the player still fits."""
    voila, reveal = deck
    p, _ = _open(page, voila, reveal, "presentation.ipynb")
    page.keyboard.press("ArrowRight")
    wait_until(lambda: p.count() == 1 and int(p.get_attribute("data-frame") or 0) > 0, 120,
               what="the player to draw on its slide")
    wait_until(lambda: p.get_attribute("data-slide") == "1", 10, what="the player to see its slide")
    settle(page)
    assert p.get_attribute("data-preset") == "presentation"
    _assert_fits(page, p, "presentation preset")
    assert_not_blank(plot_png(p), "the plot on the slide")
    hover_reads_vertex_under_pointer(page, p, lecture_flow_mesh(), 2)
    errors = _errors(page)
    assert not errors, "console errors:\n" + "\n".join(errors)


@pytest.mark.parametrize("preset", ["notebook", "presentation"])
def test_lecture_views_fit_their_slides(page: Any, deck: tuple[Voila, Path], preset: str) -> None:
    """ChangeOfVariables1D, JacobianLens, LikelihoodSplit and TriangularJacobian, one per slide: each draws and
    lies within its slide, at both presets (the change-of-variables, likelihood and triangular views shrink
    their plots to fit; before that, at the presentation preset, the likelihood view's three panels overflowed
    a 700 px slide by 946 px and the change-of-variables view by 119, measured ad hoc)."""
    voila, reveal = deck
    _, left = _open(page, voila, reveal, f"lecture-{preset}.ipynb")
    views = page.locator(".flowviz-player")
    wait_until(lambda: views.count() == len(LECTURE_VIEWS)
               and all(int(views.nth(i).get_attribute("data-frame") or 0) > 0 for i in range(len(LECTURE_VIEWS))),
               120, what="every lecture view to draw")
    for i, (cls, _) in enumerate(LECTURE_VIEWS, 1):
        page.keyboard.press("ArrowRight")
        wait_until(lambda i=i: _slide_index(page) == i, 10, what=f"slide {i}")
        view = page.locator(f".reveal .slides > section.present .flowviz-player.{cls}")
        assert view.count() == 1, cls
        assert view.get_attribute("data-preset") == preset
        if cls != "flowviz-lens":  # the views that fit themselves to the slide (the lens fits as it is)
            wait_until(lambda view=view: view.get_attribute("data-slide") == "1", 10, what=f"{cls} to see its slide")
        _assert_fits(page, view, cls)
        assert_drawn(view.locator(".fv-panel, canvas.fv-tri-canvas").first.screenshot(), f"{cls}'s plot on its slide")
    assert all(TEMPLATE_EXTRAS.match(u) for u in left), f"unexpected outside requests: {left}"
    errors = _errors(page)
    assert not errors, "console errors:\n" + "\n".join(errors)


@functools.cache
def lecture_flow_mesh() -> Any:
    """The mesh (K+1, V, 2) the slides' player shows, computed here (same flow, points and grid)."""
    from flowviz.widgets import FlowPlayer

    return FlowPlayer(lecture_flow(), n_points=2000, grid=33).scene.mesh
