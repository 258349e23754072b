"""Helpers for flowviz's browser tests (fixtures live in conftest.py): servers in their own process
groups, notebooks written by the tests, console collection, failure artefacts, reading the picture.

Servers and kernels get ``PYTHONPATH`` pointing at this checkout, so flowviz need not be installed.
Test notebooks should start with :data:`THREADS_CELL` (two cores are shared by kernel, server and browser);
:func:`view_notebook` writes that and :data:`PROBE_CELL` (a Label reporting what the kernel holds) first.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import io
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = os.environ.get("FLOWVIZ_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-proxy-server",
]
# The lecture flow of the demo notebook: affine, linear, planar (folds when w.u < -1), radial.
LECTURE_FLOW = ("flows.Flow([flows.Affine(2, scale=[1.5, 0.6], shift=[0.5, 0.0]), "
                "flows.Linear(2, matrix=[[1, 1], [2, 0]]), flows.Planar(2, u=[1.0, 0.5], w=[1.2, 0.3], b=0.0), "
                "flows.Radial(2, centre=[0.5, -0.5], alpha=0.5, beta=1.0)])")


def lecture_flow():  # the same flow as LECTURE_FLOW, in this process
    from flowviz import flows

    return flows.Flow([flows.Affine(2, scale=[1.5, 0.6], shift=[0.5, 0.0]),
                       flows.Linear(2, matrix=[[1, 1], [2, 0]]), flows.Planar(2, u=[1.0, 0.5], w=[1.2, 0.3], b=0.0),
                       flows.Radial(2, centre=[0.5, -0.5], alpha=0.5, beta=1.0)])


THREADS_CELL = "import torch\ntorch.set_num_threads(1)  # browser tests: 2 cores shared by kernel, server and browser"

#: lab extensions Voila must not load (see start_voila)
VOILA_DENYLIST = ["@jupyter-notebook/lab-extension"]

# Console errors we accept, each with the reason. Matched on (message text, resource URL).
VOILA_BENIGN = [
    # Voila's lab template links Font Awesome icon CSS from a CDN; there is no network here.
    (re.compile(r"ERR_NAME_NOT_RESOLVED"),
     re.compile(r"^https://cdn\.jsdelivr\.net/npm/@fortawesome/fontawesome-free@[^/]*/css/[\w.-]+\.css$")),
]


# -- notebooks ---------------------------------------------------------------------------------------
def write_notebook(path: Path, cells: list[str | tuple[str, str]]) -> Path:
    """Write an nbformat-4 notebook; a cell is code text, or ("markdown", text)."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for cell in cells:
        if isinstance(cell, tuple):
            kind, src = cell
            new = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
            nb.cells.append(new(src))
        else:
            nb.cells.append(nbformat.v4.new_code_cell(cell))
    nbformat.write(nb, str(path))
    return path


# The kernel side of a view test: ``make_probe(view, report, names)`` displays a Label (class ``fv-probe``)
# holding ``report(view)`` as JSON, refreshed whenever one of the traits ``names`` changes, so a test can
# read what the kernel holds (status, parameters, Python's exact numbers) beside what the browser shows.
# Non-finite floats become null (JSON has no NaN/inf), at any depth.
PROBE_CELL = """\
import json
import ipywidgets as widgets
from flowviz.scene.finite import json_safe

def make_probe(view, report, names=("meta",)):
    label = widgets.Label()
    label.add_class("fv-probe")
    def update(_=None):
        label.value = json.dumps(json_safe(report(view)), allow_nan=False)
    view.observe(update, names=list(names))
    update()
    return label"""


def view_notebook(voila: Any, name: str, *cells: str | tuple[str, str]) -> str:
    """Write ``name`` into the Voila server's directory as THREADS_CELL, PROBE_CELL, then ``cells``, and
    return its URL (every page load runs it in a fresh kernel)."""
    write_notebook(voila.dir / name, [THREADS_CELL, PROBE_CELL, *cells])
    return str(voila.url(name))


def read_probe(page: Any, i: int = 0) -> Any:
    """The JSON of the i-th probe Label on the page (see :data:`PROBE_CELL`)."""
    return json.loads(page.locator(".fv-probe").nth(i).inner_text())


def set_range(locator: Any, value: float) -> None:
    """Set an <input type=range> the way a drag does: value, then an ``input`` event (the browser snaps the
    value to the input's step)."""
    locator.evaluate("(el, v) => { el.value = String(v); el.dispatchEvent(new Event('input', {bubbles: true})); }",
                     value)


def panel_png(view: Any, which: int = 0) -> bytes:
    """A screenshot of the view's which-th ``.fv-panel`` (every canvas of it, overlay included)."""
    return view.locator(".fv-panel").nth(which).screenshot(animations="disabled")


def assert_drawn(png: bytes, what: str = "panel", distinct: int = 30, chromatic: float = 0.01) -> ImageStats:
    """A drawn line/scatter panel: several colours, no single colour covering it, some coloured pixels
    (looser than :func:`assert_not_blank`, which expects a density map over much of the canvas)."""
    s = image_stats(png)
    assert s.distinct >= distinct and s.top_fraction < 0.97 and s.chromatic > chromatic, f"{what}: {s}"
    return s


# -- servers ------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def kernel_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for servers and their kernels: this checkout importable, no GUI backends."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env["MPLBACKEND"] = "Agg"
    env["PYTHONUNBUFFERED"] = "1"
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        env.pop(var, None)
    env.update(extra or {})
    return env


@dataclass
class Server:
    """A server process in its own session (process group); ``stop()`` ends it and its kernels."""

    name: str
    port: int
    proc: subprocess.Popen
    log_path: Path
    dir: Path
    started: float = field(default_factory=time.monotonic)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_tail(self, chars: int = 6000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        # kernels are in the same process group; make sure none outlived the server
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)


SERVERS: list[Server] = []  # every server started this session (conftest stops them all)


@atexit.register
def _stop_servers_at_exit() -> None:  # a last resort if the session ends without fixture teardown
    for s in SERVERS:
        with contextlib.suppress(Exception):
            s.stop()


def start_server(name: str, cmd: list[str], *, cwd: Path, ready_path: str, port: int, env: dict[str, str],
                 log_dir: Path, timeout: float = 90.0) -> Server:
    """Start ``cmd`` in a new session and wait until ``GET ready_path`` (a static URL) answers 200."""
    log_path = log_dir / f"{name}-{port}.log"
    log = open(log_path, "wb")  # noqa: SIM115 (closed with the process)
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    log.close()
    server = Server(name, port, proc, log_path, cwd)
    SERVERS.append(server)
    deadline = time.monotonic() + timeout
    url = server.base + ready_path
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode} before it was ready:\n{server.log_tail()}")
        try:
            with _NO_PROXY.open(url, timeout=2) as r:
                if r.status == 200:
                    return server
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"{name} not ready at {url} after {timeout:.0f} s:\n{server.log_tail()}")
        time.sleep(0.2)


@dataclass
class Voila:
    server: Server

    @property
    def dir(self) -> Path:
        return self.server.dir

    def url(self, notebook: str) -> str:
        return f"{self.server.base}/voila/render/{notebook}"


def start_voila(directory: Path, log_dir: Path, extra_args: list[str] | None = None) -> Voila:
    """Voila serving every notebook in ``directory`` (open ``/voila/render/<name>.ipynb``)."""
    port = free_port()
    # Notebook 7 (in the test extra) ships a lab extension that Voila also loads and that fails there
    # ("The getter for the shared module is not a function", voila-dashboards/voila#1514): keep it out.
    cmd = [sys.executable, "-m", "voila", str(directory), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
           f"--VoilaConfiguration.extension_denylist={VOILA_DENYLIST[0]}", *(extra_args or [])]
    env = kernel_env({"JUPYTER_RUNTIME_DIR": str(log_dir / "runtime")})
    return Voila(start_server("voila", cmd, cwd=directory, ready_path="/voila/static/voila.js", port=port, env=env,
                              log_dir=log_dir))


def _lab_home(root: Path) -> tuple[Path, dict[str, str]]:
    """``root/work`` to serve and an environment with isolated Jupyter config/settings/workspaces/runtime
    under ``root``, the announcements extension off (no news fetch offline)."""
    work = root / "work"
    work.mkdir(exist_ok=True)
    config = root / "config"
    (config / "labconfig").mkdir(parents=True, exist_ok=True)
    (config / "labconfig" / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
    return work, kernel_env({
        "JUPYTER_CONFIG_DIR": str(config),
        "JUPYTERLAB_SETTINGS_DIR": str(root / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(root / "workspaces"),
        "JUPYTER_RUNTIME_DIR": str(root / "runtime"),
    })


def start_jupyterlab(root: Path) -> Server:
    """JupyterLab on a free port serving ``root/work``, with isolated config/settings/workspaces, no token,
    the announcements extension off and ``window.jupyterapp`` exposed."""
    work, env = _lab_home(root)
    port = free_port()
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
           "--ServerApp.allow_root=True", "--IdentityProvider.token=", "--ServerApp.password=",
           "--ServerApp.open_browser=False", "--LabApp.expose_app_in_browser=True",
           f"--ServerApp.root_dir={work}", "--ServerApp.disable_check_xsrf=False"]
    return start_server("jupyterlab", cmd, cwd=work, ready_path="/static/favicons/favicon.ico", port=port,
                        env=env, log_dir=root, timeout=120)


# -- /proc ------------------------------------------------------------------------------------------
def proc_ppid(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2:].split()[1])


def is_descendant(pid: int, ancestor: int) -> bool:
    with contextlib.suppress(OSError, ValueError):
        for _ in range(64):
            if pid == ancestor:
                return True
            if pid <= 1:
                return False
            pid = proc_ppid(pid)
    return False


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


# -- browser ------------------------------------------------------------------------------------------
@dataclass
class Console:
    """Console messages, uncaught page errors and failed requests of one page (or context)."""

    lines: list[str] = field(default_factory=list)
    errors_raw: list[tuple[str, str]] = field(default_factory=list)  # (text, url)
    page_errors: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", self._on_page_error)
        page.on("requestfailed", lambda r: self.lines.append(f"[requestfailed] {r.url} {r.failure}"))

    def _on_console(self, msg: Any) -> None:
        try:
            url = (msg.location or {}).get("url", "")
        except Exception:  # the page may be gone
            url = ""
        self.lines.append(f"[{msg.type}] {msg.text}  ({url})")
        if msg.type == "error":
            self.errors_raw.append((msg.text, url))

    def _on_page_error(self, err: Any) -> None:
        text = f"{getattr(err, 'name', '')}: {getattr(err, 'message', err)}\n{getattr(err, 'stack', '')}"
        self.lines.append(f"[pageerror] {text}")
        self.page_errors.append(text)

    def errors(self, benign: list[tuple[re.Pattern, re.Pattern]] = ()) -> list[str]:
        """Console errors not matched by one of ``benign`` (text pattern, URL pattern), plus page errors."""
        out = [f"{t} ({u})" for t, u in self.errors_raw
               if not any(tp.search(t) and up.search(u) for tp, up in benign)]
        return out + [f"pageerror: {e}" for e in self.page_errors]

    def text(self) -> str:
        return "\n".join(self.lines)


def new_page(browser: Any, device_scale_factor: float = 1) -> tuple[Any, Any, Console]:
    """A fresh context (1280 x 1000, device scale 1 unless given) and page whose console is collected
    (``page.console``); 30 s for actions, 120 s for navigation (Voila runs the whole notebook before the page
    loads)."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, device_scale_factor=device_scale_factor)
    page = context.new_page()
    console = Console()
    console.attach(page)
    page.console = console
    page.set_default_timeout(30_000)
    page.set_default_navigation_timeout(120_000)
    return context, page, console


def failed(node: pytest.Item) -> bool:
    return any(getattr(getattr(node, f"rep_{w}", None), "failed", False) for w in ("setup", "call"))


def artefact_stem(node: pytest.Item) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / re.sub(r"[^\w.-]+", "_", node.nodeid.replace("tests/browser/", ""))[:150]


def save_artefacts(node: pytest.Item, pages: list[Any], console: Console, servers: list[Server]) -> None:
    """Screenshot(s), console log and server log tails for a failing test, under test-artifacts/."""
    stem = artefact_stem(node)
    for i, pg in enumerate(pages):
        with contextlib.suppress(Exception):
            pg.screenshot(path=f"{stem}{'' if i == 0 else f'-{i}'}.png", full_page=True, timeout=10_000)
    parts = [f"# console of {node.nodeid}", console.text()]
    for s in servers:
        parts += [f"\n# {s.name} log tail ({s.log_path})", s.log_tail()]
    Path(f"{stem}.console.log").write_text("\n".join(parts))


# -- reading the widget ------------------------------------------------------------------------------
def settle(page: Any, frames: int = 2) -> None:
    """Wait for a couple of animation frames (the player draws in requestAnimationFrame)."""
    page.evaluate("(n) => new Promise((res) => {"
                  " const f = (i) => i ? requestAnimationFrame(() => f(i - 1)) : res(); f(n); })", frames)


def run_all_and_show_player(page: Any, app: str) -> Any:
    """In a JupyterLab-based page (JupyterLab 4, Notebook 7; ``window.jupyterapp`` exposed): run every cell,
    wait for the first FlowPlayer to receive its arrays, scroll it into view and check it rendered (status ok,
    a renderer, no banner). Returns its locator."""
    t0 = time.monotonic()
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    player = page.locator(".flowviz-player").first
    page.wait_for_function("() => document.querySelector('.flowviz-player')?.dataset.version", timeout=120_000)
    player.scroll_into_view_if_needed()
    settle(page)
    print(f"{app}: cells run to rendered player {time.monotonic() - t0:.1f} s")
    assert player.get_attribute("data-status") == "ok"
    assert player.get_attribute("data-renderer") in ("webgl2", "canvas2d")
    assert player.locator(".fv-status").is_hidden()
    return player


def plot_png(player: Any, panel: Any = None) -> bytes:
    """A screenshot of a panel's plot canvas (default: the x panel; the WebGL/Canvas2D drawing: mesh,
    density, points), with what lies over it hidden for the shot: the overlay canvas (axes, text, hover
    shapes) and the status banner."""
    panel = player.locator(".fv-panel").last if panel is None else panel
    hide = ("(els) => els.forEach((e) => {"
            " e.dataset.fvTestVis = e.style.visibility; e.style.visibility = 'hidden'; })")
    show = ("(els) => els.forEach((e) => {"
            " e.style.visibility = e.dataset.fvTestVis || ''; delete e.dataset.fvTestVis; })")
    covers = player.locator(".fv-overlay, .fv-status")
    covers.evaluate_all(hide)
    try:
        player.page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
        return panel.locator("canvas.fv-base").screenshot(animations="disabled")
    finally:
        covers.evaluate_all(show)


@dataclass
class ImageStats:
    width: int
    height: int
    distinct: int          # distinct RGB colours
    top_fraction: float    # share of the most common colour (the background, for a blank canvas)
    chromatic: float       # share of clearly coloured pixels (max - min channel > 40): density, points
    colormap: float        # share of pixels within 10 RGB units of a viridis colour: the density map itself


@functools.lru_cache(maxsize=1)
def _viridis_tree() -> Any:
    import numpy as np
    from matplotlib import colormaps
    from scipy.spatial import cKDTree

    return cKDTree(colormaps["viridis"](np.linspace(0.0, 1.0, 256))[:, :3] * 255.0)


def image_stats(png: bytes) -> ImageStats:
    import numpy as np
    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB")
    w, h = img.size
    colors = img.getcolors(maxcolors=w * h + 1) or []
    top = max(c for c, _ in colors) if colors else w * h
    chroma = sum(c for c, (r, g, b) in colors if max(r, g, b) - min(r, g, b) > 40)
    on_map = 0
    if colors:
        counts = np.array([c for c, _ in colors])
        dist, _ = _viridis_tree().query(np.array([rgb for _, rgb in colors], dtype=float), distance_upper_bound=10.0)
        on_map = int(counts[np.isfinite(dist)].sum())
    return ImageStats(w, h, len(colors), top / (w * h), chroma / (w * h), on_map / (w * h))


def assert_not_blank(png: bytes, what: str = "plot", min_colormap: float = 0.01) -> ImageStats:
    """A drawn plot with its density map: many colours, no single colour covering it, and a real share of
    pixels in the colour map's own colours (viridis, drawn opaque under the points and grid lines; points
    alone, or a map drawn in wrong colours, do not count). At state 0 the base density covers only a few per
    cent of the x panel: the camera is fixed on the union of all states' bounds."""
    s = image_stats(png)
    assert s.width > 100 and s.height > 100, f"{what}: canvas is only {s.width}x{s.height}"
    assert s.distinct >= 100, f"{what}: only {s.distinct} distinct colours: {s}"
    assert s.top_fraction < 0.98, f"{what}: {s.top_fraction:.1%} of the canvas is one colour: {s}"
    assert s.colormap > min_colormap, (f"{what}: only {s.colormap:.2%} of the pixels in viridis colours "
                                       f"(no density map?): {s}")
    return s


def pixel_difference(a: bytes, b: bytes) -> float:
    """Share of pixels that differ between two PNGs of the same size (1.0 if the sizes differ)."""
    from PIL import Image, ImageChops

    ia, ib = Image.open(io.BytesIO(a)).convert("RGB"), Image.open(io.BytesIO(b)).convert("RGB")
    if ia.size != ib.size:
        return 1.0
    diff = ImageChops.difference(ia, ib).convert("L").point(lambda v: 255 if v > 8 else 0)
    return diff.histogram()[255] / (ia.size[0] * ia.size[1])


def assert_redrawn(before: bytes, after: bytes, minimum: float, what: str) -> float:
    """``after`` is a drawn plot and at least ``minimum`` of its pixels differ from ``before``; returns that share."""
    changed = pixel_difference(before, after)
    print(f"{what}: {changed:.1%} of the plot changed")
    assert changed > minimum, f"{what}: only {changed:.1%} of the plot changed"
    assert_not_blank(after, what)
    return changed


def coloured_spots(png: bytes, n: int, margin: int = 6,
                   avoid: list[tuple[float, float, float, float]] = ()) -> list[tuple[float, float]]:
    """``n`` places on the drawn mesh, as fractions of the image size: pixels that are clearly coloured
    (density map), spread along the picture (quantiles in row-major order), away from the image border
    and outside the ``avoid`` rectangles (x0, y0, x1, y1 in pixels of the image)."""
    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB")
    w, h = img.size
    px = img.load()
    spots = [(x, y) for y in range(margin, h - margin, 2) for x in range(margin, w - margin, 2)
             if max(px[x, y]) - min(px[x, y]) > 40
             and not any(x0 - margin <= x <= x1 + margin and y0 - margin <= y <= y1 + margin
                         for x0, y0, x1, y1 in avoid)]
    if len(spots) < n:
        raise AssertionError(f"only {len(spots)} coloured pixels to hover")
    picks = [spots[int((i + 0.5) / n * len(spots))] for i in range(n)]
    return [(x / w, y / h) for x, y in picks]


def assert_vertex_under_pointer(r: dict[str, Any], mesh_k: Any, valid: Any = None, radius_px: float = 12.0) -> None:
    """The readout's vertex is the one under the pointer, by the front end's rule (js/src/scene.js
    vertexNear), checked with positions computed here: the nearest vertex when one lies within the search
    radius (``radius_px``: 12 px in the player, 14 in the lens; 1 px of slack for float32 on screen), else a
    corner of a mesh triangle that contains the pointer (cells wider than 24 px: after a logit, say)."""
    import numpy as np

    pos = np.asarray(mesh_k, dtype=np.float64)
    ok = np.ones(len(pos), bool) if valid is None else np.asarray(valid, bool)
    pointer = np.asarray(r["pointer"])
    dist = np.where(ok, np.hypot(*(pos - pointer).T) * r["px_per_unit"], np.inf)  # in CSS pixels
    v = int(r["vertex"])
    if dist.min() < radius_px - 1.0:
        assert dist[v] <= dist.min() + 1.0, (f"readout vertex {v} lies {dist[v]:.1f} px from the pointer; the nearest "
                                             f"vertex {int(dist.argmin())} lies {dist.min():.1f} px away")
        return
    g = int(round(math.sqrt(len(pos))))
    assert g * g == len(pos)
    corners: set[int] = set()
    for j in range(g - 1):  # cell (i, j): triangles (a, b, d) and (a, d, c), as js/src/mesh.js builds them
        for i in range(g - 1):
            a, b, c, d = j * g + i, j * g + i + 1, (j + 1) * g + i, (j + 1) * g + i + 1
            for tri in ((a, b, d), (a, d, c)):
                if not ok[list(tri)].all():
                    continue
                p0, p1, p2 = pos[list(tri)]
                s1, s2, s3 = (float((q - p)[0] * (pointer - p)[1] - (q - p)[1] * (pointer - p)[0])
                              for p, q in ((p0, p1), (p1, p2), (p2, p0)))
                if (s1 >= 0 and s2 >= 0 and s3 >= 0) or (s1 <= 0 and s2 <= 0 and s3 <= 0):
                    corners.update(tri)
    assert v in corners, f"readout vertex {v} is no corner of a mesh triangle under the pointer ({sorted(corners)})"


def npm_package(spec: str, dest: Path) -> Path:
    """The unpacked ``package/`` directory of the npm package ``spec`` (name@version), fetched once into ``dest``
    with ``npm pack`` (npm checks its integrity against the registry); serves CDN files to offline pages."""
    name = spec.rsplit("@", 1)[0].lstrip("@").replace("/", "-")
    version = spec.rsplit("@", 1)[1]
    out = dest / f"{name}-{version}"
    if not (out / "package" / "package.json").exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is needed to fetch the embedding's front-end packages (it also builds js/)")
        proc = subprocess.run([npm, "pack", spec, "--pack-destination", str(dest), "--silent"],
                              capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            pytest.fail(f"npm pack {spec} failed (the npm registry must be reachable, as for js/):\n{proc.stderr}")
        tgz = dest / f"{name}-{version}.tgz"
        out.mkdir(exist_ok=True)
        with tarfile.open(tgz) as tar:
            tar.extractall(out, filter="data")
    return out / "package"


def steady_box(locator: Any, timeout: float = 10) -> dict[str, float]:
    """The locator's bounding box once it stays put for 300 ms (a page still laying itself out: Reveal
    re-centres a slide after a widget on it has drawn)."""
    last: list[Any] = [None]

    def same() -> Any:
        box = locator.bounding_box()
        ok = last[0] is not None and all(abs(box[k] - last[0][k]) < 0.5 for k in box)
        last[0] = box
        return box if ok else None

    return wait_until(same, timeout, interval=0.3, what="the layout to settle")


def hover_reads_vertex_under_pointer(page: Any, player: Any, mesh: Any, n: int = 3) -> list[tuple[int, int]]:
    """Hover ``n`` coloured places of a FlowPlayer's x panel; each time the readout's vertex must be the one
    under the pointer (:func:`assert_vertex_under_pointer`, positions ``mesh`` (K+1, V, 2) computed by the
    test) and the panel's scales equal. Pointer offsets are in screen pixels, the units of ``data-plot``
    (a transformed ancestor, like a scaled slide, included). Returns the (k, vertex) read."""
    readout = player.locator(".fv-readout")
    panel = player.locator(".fv-panel").last
    box = steady_box(panel.locator("canvas.fv-overlay"))
    out = []
    for fx, fy in coloured_spots(plot_png(player), n):
        before = readout.get_attribute("data-vertex")
        px, py = fx * box["width"], fy * box["height"]
        page.mouse.move(box["x"] + px, box["y"] + py)
        wait_until(lambda before=before: readout.get_attribute("data-vertex") not in (None, before), 5,
                   what=f"a readout at {fx:.2f}, {fy:.2f}")
        k, v = int(readout.get_attribute("data-k")), int(readout.get_attribute("data-vertex"))
        x0, x1, y0, y1 = (float(t) for t in panel.get_attribute("data-view").split(","))
        left, top, width, height = (float(t) for t in panel.get_attribute("data-plot").split(","))
        sx, sy = width / (x1 - x0), height / (y1 - y0)
        assert abs(sx - sy) <= 0.01 * sx, f"unequal scales: {sx:.3f} vs {sy:.3f} px per unit"
        r = {"vertex": v, "pointer": (x0 + (px - left) / sx, y1 - (py - top) / sy), "px_per_unit": sx}
        assert_vertex_under_pointer(r, mesh[k])
        out.append((k, v))
    page.mouse.move(0, 0)
    return out


def block_network(page: Any, own: str) -> list[str]:
    """For an exported page opened from ``own`` (a file:// URL): abort every request that is not the file
    itself or a blob: URL (the page imports its own bundle from one) and record it, together with requests
    the route does not see (data: URLs) and websockets. Returns the (live) list of what left; check it at
    the end (a page that asked for something it lacks may still render)."""
    left: list[str] = []

    def ours(url: str) -> bool:
        return url == own or url.startswith("blob:")

    def handle(route: Any) -> None:
        url = route.request.url
        if ours(url):
            route.continue_()
        else:
            if url not in left:
                left.append(url)
            route.abort()

    def seen(request: Any) -> None:
        if not ours(request.url) and request.url not in left:
            left.append(request.url)

    page.context.route("**/*", handle)
    page.on("request", seen)
    page.on("websocket", lambda ws: left.append(f"websocket {ws.url}"))  # not routed: recorded as a failure
    return left


#: the title of a control that a kernel-free (exported) page greys out (js/src/controls.js)
NEEDS_KERNEL = "needs a running kernel"


def open_export(page: Any, path: Path, selector: str) -> tuple[Any, list[str]]:
    """Open an exported page from file:// with the network blocked (:func:`block_network`) and wait until
    the view ``selector`` has drawn once. Returns the view and the (live) list of requests that left."""
    own = path.as_uri()
    left = block_network(page, own)
    page.goto(own)
    view = page.locator(selector)
    wait_until(lambda: view.count() == 1 and int(view.get_attribute("data-frame") or 0) > 0, 30,
               what=f"the exported page to draw {selector} (console: {page.console.text()!r})")
    settle(page)
    return view, left


def wait_until(fn: Callable[[], Any], timeout: float, interval: float = 0.05, what: str = "condition") -> Any:
    """Poll ``fn`` (in the test process) until it returns something truthy; AssertionError on timeout."""
    deadline = time.monotonic() + timeout
    last_err: Exception | None = None
    while time.monotonic() < deadline:
        try:
            v = fn()
            if v:
                return v
        except Exception as err:  # noqa: BLE001 (reported on timeout)
            last_err = err
        time.sleep(interval)
    detail = f" (last error: {last_err})" if last_err else ""
    raise AssertionError(f"timed out after {timeout} s waiting for {what}{detail}")


def copy_notebook(src: Path, dst_dir: Path) -> Path:
    dst = dst_dir / src.name
    shutil.copyfile(src, dst)
    return dst


@dataclass
class Notebook7:
    """A Jupyter Notebook 7 server with a token; open ``url("name.ipynb")`` (the token logs the page in)."""

    server: Server
    token: str

    @property
    def dir(self) -> Path:
        return self.server.dir

    def url(self, notebook: str) -> str:
        return f"{self.server.base}/notebooks/{notebook}?token={self.token}"


def start_notebook7(root: Path) -> Notebook7:
    """``jupyter notebook`` (Notebook 7) on a free 127.0.0.1 port serving ``root/work``: a random token, no
    browser, isolated config/settings/workspaces, the announcements extension off (no news fetch offline)
    and ``window.jupyterapp`` exposed (``--JupyterNotebookApp.expose_app_in_browser``)."""
    import secrets

    work, env = _lab_home(root)
    token = secrets.token_hex(16)
    port = free_port()
    cmd = [sys.executable, "-m", "notebook", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
           "--ServerApp.allow_root=True", f"--IdentityProvider.token={token}", "--ServerApp.password=",
           "--ServerApp.open_browser=False", "--JupyterNotebookApp.expose_app_in_browser=True",
           f"--ServerApp.root_dir={work}"]
    server = start_server("notebook7", cmd, cwd=work, ready_path="/static/favicons/favicon.ico", port=port,
                          env=env, log_dir=root, timeout=120)
    return Notebook7(server, token)
