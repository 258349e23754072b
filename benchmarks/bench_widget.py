"""FlowPlayer (anywidget, arrays in the browser) against the usual matplotlib route
(ipywidgets.interactive_output + plt.show into an Output widget), in one Voila page and one browser.

Routes (same view: points, deformed grid and density-coloured mesh after layer k, same size):
  FlowPlayer webgl    FlowPlayer(flow, n_points=10_000), renderer "auto" (WebGL2; SwiftShader here)
  FlowPlayer canvas2d the same with renderer="canvas2d"
  matplotlib          IntSlider / FloatSlider -> interactive_output -> flowviz.plot.plot_state + colorbar
                      -> plt.show() (inline PNG) in the Output; the scene is cached for scrubbing and
                      recomputed (player_scene) for a parameter change, as a user would.

Measured in the page with performance.now() (medians; the routes are interleaved, order rotating):
  scrub   FlowPlayer: set .fv-slider, dispatch "input" -> data-frame increments -> one more rAF.
          matplotlib: ArrowRight/Left on the IntSlider handle (keydown time) -> new <img> src ->
          img.decode() -> one more rAF.
  param   FlowPlayer: set the "L1.shift.0" range input, dispatch "input" -> data-version increments
          (kernel recomputed and the browser drew it) -> one more rAF.
          matplotlib: the FloatSlider for the same parameter (keyboard) -> new image, decoded, + rAF.
          Both at the final state (position K), flow = Affine(2) + the 8 RealNVP layers.
  fps     n_points set to 100_000 through the "n_points" control, then play; data-frame increments
          over a window, for webgl and canvas2d, default panel size and a smaller one (300 px).
  kernel  in this process (no browser): flow.trace(z), player_scene (the flow's compute: trace +
          Jacobians + density), wire.encode_arrays, ipywidgets state serialisation (get_state of the
          changed keys + _remove_buffers + json.dumps), and FlowPlayer.recompute() as a whole.

    python benchmarks/bench_widget.py            # full run, ~4 min on 2 shared cores
    python benchmarks/bench_widget.py --quick    # ~2 min smoke run
    python benchmarks/bench_widget.py --keep     # keep the temp dir (notebook, voila log)
    python benchmarks/bench_widget.py --quick --profile   # + where the browser's time goes (CDP profiler)
    python benchmarks/bench_widget.py --quick --trace     # + Chromium timeline trace (all threads, by event)
    python benchmarks/bench_widget.py --quick --antialias on   # A/B: WebGL multisampling forced on
    python benchmarks/bench_widget.py --no-browser --device cuda --kernel-points 100000   # kernel side on a GPU

Writes benchmarks/results/widget.json (``--out``), the voila log to benchmarks/results/widget-voila.log.
Needs Voila, Playwright (Python) and /usr/bin/chromium; never runs `playwright install`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
if str(ROOT) not in sys.path:  # run from a checkout without installing flowviz
    sys.path.insert(0, str(ROOT))
CHROMIUM = "/usr/bin/chromium"
CHROME_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
N_POINTS = 10_000
GRID = 65
FIGSIZE = (5.5, 5.6)  # inches at dpi 100 = 550 x 560 px: the FlowPlayer panel's default CSS size (measured)
DPI = 100

# shared by the notebook and the in-process kernel measurement
SETUP = r'''
import copy
import torch
from flowviz.flows import Affine, Flow, realnvp

def make_flows(seed=0, noise=0.1):
    """flow8: realnvp(2, layers=8, hidden=64), parameters perturbed (a non-identity, invertible map);
    flowP: Affine(2) then copies of the same 8 layers (the Affine shift is the tested parameter)."""
    torch.manual_seed(seed)
    flow8 = realnvp(2, layers=8, hidden=64)
    with torch.no_grad():
        for p in flow8.parameters():
            p.add_(noise * torch.randn_like(p))
    flowP = Flow([Affine(2)] + [copy.deepcopy(layer) for layer in flow8.layers])
    return flow8, flowP
'''

NB_SETUP = SETUP + r'''
torch.set_num_threads(1)
import matplotlib
import matplotlib.pyplot as plt
import ipywidgets as W
from IPython.display import display
from flowviz.widgets.player import FlowPlayer
from flowviz.scene import player_scene
from flowviz.plot.layers import Topology, add_colorbar, plot_state

N, GRID, FIGSIZE, DPI = {N}, {GRID}, {FIGSIZE}, {DPI}
flow8, flowP = make_flows()
flowM = copy.deepcopy(flowP)  # the matplotlib route's own copy (FlowPlayer changes its flow in place)
K8, KP = len(flow8.layers), len(flowP.layers)

# the inline backend crops figures to their tight bounding box by default (470 x 451 px here): keep the whole
# 550 x 560 figure, the size of FlowPlayer's panel, so both routes draw and send the same pixels
get_ipython().run_line_magic("config", "InlineBackend.print_figure_kwargs = {'bbox_inches': None}")

def figure(scene, k, topo):
    fig, ax = plt.subplots(figsize=FIGSIZE, dpi=DPI)
    plot_state(ax, scene, k, topology=topo)
    add_colorbar(fig, ax, scene, "viridis")
    plt.show()

import json as _json, time as _time
def timed(fn, tag):
    """Wrap a callback: append its kernel-side duration to kernel_times.jsonl (read by the benchmark)."""
    def run(*a, **kw):
        t0, w0 = _time.perf_counter(), _time.time()
        try:
            return fn(*a, **kw)
        finally:
            with open("kernel_times.jsonl", "a") as fh:
                fh.write(_json.dumps({"tag": tag, "ms": (_time.perf_counter() - t0) * 1e3,
                                      "start": w0 * 1e3, "end": _time.time() * 1e3}) + "\n")
    return run

def boxed(w, cls):
    box = W.VBox([w])
    box.add_class(cls)
    return box
'''

NB_CELLS = [
    NB_SETUP,
    # FlowPlayer, webgl (auto)
    'pa = FlowPlayer(flow8, n_points=N, grid=GRID)\npa.recompute = timed(pa.recompute, "fp_webgl.recompute")\n'
    'display(boxed(pa, "bench-A"))',
    # matplotlib scrubbing route: scene computed once (as a user would), redrawn per layer
    r'''
scene8 = player_scene(flow8, pa._z, gx=GRID)
topo8 = Topology.of(scene8)
ks = W.IntSlider(value=0, min=0, max=K8, description="layer k")
ks.add_class("mpl-k")
def show_layer(k):
    figure(scene8, k, topo8)
outk = W.interactive_output(timed(show_layer, "mpl.scrub"), {"k": ks})
outk.add_class("mpl-k-out")
display(boxed(W.VBox([ks, outk]), "bench-M"))
''',
    # FlowPlayer with a parameter slider (Affine shift "L1.shift.0"), shown at the final state
    'pb = FlowPlayer(flowP, n_points=N, grid=GRID, position=float(KP))\npb.recompute = timed(pb.recompute, "fp.param")\n'
    'display(boxed(pb, "bench-B"))',
    # matplotlib parameter route: set the same parameter on its own copy, recompute, redraw at layer K
    r'''
zP = pb._z.clone()
ps = W.FloatSlider(value=0.0, min=-3.0, max=3.0, step=0.05, description="L1 shift 1")
ps.add_class("mpl-p")
def show_shift(shift):
    with torch.no_grad():
        flowM.layers[0].shift[0] = shift
    scene = player_scene(flowM, zP, gx=GRID)
    figure(scene, KP, Topology.of(scene))
outp = W.interactive_output(timed(show_shift, "mpl.param"), {"shift": ps})
outp.add_class("mpl-p-out")
display(boxed(W.VBox([ps, outp]), "bench-P"))
''',
    # FlowPlayer, canvas2d
    'pc = FlowPlayer(copy.deepcopy(flow8), n_points=N, grid=GRID, renderer="canvas2d")\n'
    'pc.recompute = timed(pc.recompute, "fp_canvas2d.recompute")\ndisplay(boxed(pc, "bench-C"))',
]

PAGE_JS = r'''
() => {
  const B = {};
  const raf = () => new Promise((r) => requestAnimationFrame(r));
  B.raf = raf;
  B.lt = [];
  try { new PerformanceObserver((l) => { for (const e of l.getEntries()) B.lt.push([e.startTime, e.duration]); })
          .observe({ type: "longtask", buffered: true }); } catch (e) { /* not supported */ }
  // main-thread long-task time (tasks > 50 ms) that started in [t0, t1]
  B.busy = async (t0, t1) => { await new Promise((r) => setTimeout(r, 30));
    return B.lt.filter(([s]) => s >= t0 - 1 && s < t1).reduce((a, [, d]) => a + d, 0); };
  B.player = (sel) => document.querySelector(`${sel} .flowviz-player`);
  // resolves with performance.now() once pred(attribute) holds (checked now and on every mutation)
  B.waitAttr = (el, name, pred, timeout = 60000) => new Promise((resolve, reject) => {
    if (pred(el.getAttribute(name))) { resolve(performance.now()); return; }
    const mo = new MutationObserver(() => {
      if (pred(el.getAttribute(name))) { mo.disconnect(); clearTimeout(tm); resolve(performance.now()); }
    });
    const tm = setTimeout(() => { mo.disconnect(); reject(new Error(`timeout waiting for ${name}`)); }, timeout);
    mo.observe(el, { attributes: true, attributeFilter: [name] });
  });
  B.settle = async (sel) => {
    document.querySelector(sel).scrollIntoView({ block: "start" });
    for (let i = 0; i < 3; i++) await raf();
  };
  B.scrubFP = async (sel, v) => {
    const el = B.player(sel);
    const s = el.querySelector(".fv-slider");
    const f0 = +el.dataset.frame;
    const drawn = B.waitAttr(el, "data-frame", (x) => +x > f0, 10000);
    const t0 = performance.now();
    s.value = String(v);
    s.dispatchEvent(new Event("input", { bubbles: true }));
    // registered after the player's own rAF: runs right after its draw, in the same frame
    const after = new Promise((r) => requestAnimationFrame((ts) => r([ts, performance.now()])));
    const t1 = await drawn;
    const [ts, ta] = await after;
    await raf();
    const t2 = performance.now();
    return { total: t2 - t0, drawn: t1 - t0, frame_js: ta - ts, k: +el.dataset.k,
             position: +el.dataset.position, longtask: await B.busy(t0, t2) };
  };
  B.paramFP = async (sel, id, v) => {
    const el = B.player(sel);
    const inp = el.querySelector(`.fv-params input[data-id="${id}"]`);
    const v0 = el.dataset.version;
    const draws = () => +(el.dataset.canvasDraws || 0), d0 = draws();
    const done = B.waitAttr(el, "data-version", (x) => x !== v0, 120000);
    const t0 = performance.now();
    inp.value = String(v);
    inp.dispatchEvent(new Event("input", { bubbles: true }));
    const t1 = await done;  // rebuildScene + draw ran in this frame (version is set just before draw)
    await raf();
    const t2 = performance.now();
    return { total: t2 - t0, drawn: t1 - t0, version: +el.dataset.version, canvas_draws: draws() - d0,
             epoch0: performance.timeOrigin + t0, epoch1: performance.timeOrigin + t1, longtask: await B.busy(t0, t2) };
  };
  // matplotlib: arm before pressing a key; the keydown time is the start
  B.armImg = (sel) => {
    const root = document.querySelector(sel);
    const img0 = root.querySelector("img");
    const src0 = img0 ? img0.src : "";
    B.kd = null;
    const handle = root.querySelector(".noUi-handle") || root.querySelector("input");
    const onKey = () => { if (B.kd === null) B.kd = performance.now(); };
    handle.addEventListener("keydown", onKey, { capture: true, once: true });
    B.imgP = new Promise((resolve, reject) => {
      const check = () => {
        const img = root.querySelector("img");
        if (img && img.src && img.src !== src0) { mo.disconnect(); clearTimeout(tm); resolve(img); return true; }
        return false;
      };
      const mo = new MutationObserver(check);
      const tm = setTimeout(() => { mo.disconnect(); reject(new Error("timeout waiting for a new image")); }, 60000);
      mo.observe(root, { subtree: true, childList: true, attributes: true, attributeFilter: ["src"] });
    }).then(async (img) => {
      const t1 = performance.now();
      await img.decode();
      await raf();
      const t2 = performance.now();
      return { total: t2 - B.kd, arrived: t1 - B.kd, w: img.naturalWidth, h: img.naturalHeight, longtask: await B.busy(B.kd, t2),
               readout: (root.querySelector(".widget-readout") || {}).textContent };
    });
  };
  B.fps = async (sel, seconds) => {
    const el = B.player(sel);
    const times = [];
    const mo = new MutationObserver(() => times.push(performance.now()));
    mo.observe(el, { attributes: true, attributeFilter: ["data-frame"] });
    const f0 = +el.dataset.frame, t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const f1 = +el.dataset.frame, t1 = performance.now();
    mo.disconnect();
    const gaps = times.slice(1).map((t, i) => t - times[i]).sort((a, b) => a - b);
    return { fps: (f1 - f0) / ((t1 - t0) / 1000), frames: f1 - f0, median_gap_ms: gaps.length ? gaps[gaps.length >> 1] : null,
             max_gap_ms: gaps.length ? gaps[gaps.length - 1] : null, position: +el.dataset.position };
  };
  B.canvasInfo = (sel) => {
    const el = B.player(sel);
    const c = el.querySelector(".fv-panel canvas.fv-base");
    const r = el.querySelector(".fv-panel").getBoundingClientRect();
    return { renderer: el.dataset.renderer, backing: [c.width, c.height], css: [Math.round(r.width), Math.round(r.height)],
             dpr: devicePixelRatio };
  };
  window.__B = B;
}
'''


# ---------------------------------------------------------------------------------------------
SIZE_CSS = ".flowviz-player .fv-panels {{ flex: 0 0 {w}px !important; max-width: {w}px !important; }}"
SIZES = {"550px": 550, "300px": 300, "default": 0}  # 0: the widget's own CSS (stretches to the row)


def med(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def kernel_overhead(repeats: int, device: str = "cpu", n_points: int = N_POINTS) -> dict[str, Any]:
    """Kernel-side costs for one parameter change, in this process (no kernel, no browser), the flow on
    ``device`` (a CUDA flow's arrays come back to the CPU inside player_scene: the scene time includes that)."""
    import torch
    from ipywidgets.widgets.widget import _remove_buffers

    from flowviz.scene import player_scene
    from flowviz.widgets.player import FlowPlayer
    from flowviz.widgets.wire import encode_arrays

    torch.set_num_threads(1)
    ns: dict[str, Any] = {}
    exec(SETUP, ns)  # noqa: S102 - our own constant
    flow8, flowP = (f.to(device) for f in ns["make_flows"]())
    dev = torch.device(device)

    def sync() -> None:
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    out: dict[str, Any] = {}
    for name, flow in (("realnvp8", flow8), ("affine+realnvp8", flowP)):
        player = FlowPlayer(flow, n_points=n_points, grid=GRID)
        z = player._z
        keys = ["arrays", "meta", "controls", "params"]  # what recompute() changes (one message)
        t: dict[str, list[float]] = {k: [] for k in ("trace", "scene", "encode", "state", "recompute")}
        nbytes = 0
        for r in range(repeats + 1):
            t0 = time.perf_counter()
            with torch.no_grad():
                flow.trace(z)
            sync()
            t1 = time.perf_counter()
            scene = player_scene(flow, z, gx=GRID)
            t2 = time.perf_counter()
            enc = encode_arrays(scene.arrays())
            t3 = time.perf_counter()
            state = player.get_state(key=keys)
            _state, _paths, buffers = _remove_buffers(state)
            json.dumps(_state)
            t4 = time.perf_counter()
            player.recompute()
            t5 = time.perf_counter()
            nbytes = sum(memoryview(b).nbytes for b in buffers)
            if r:  # the first round is a warm-up
                for k, v in zip(t, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
                    t[k].append(v * 1e3)
            del enc
        m = {k: med(v) for k, v in t.items()}
        overhead = m["encode"] + m["state"]
        out[name] = {
            "ms": m, "all_ms": t, "buffers_bytes": nbytes,
            "overhead_ms": overhead,
            "overhead_over_scene": overhead / m["scene"],
            "overhead_over_trace": overhead / m["trace"],
            "recompute_minus_scene_ms": m["recompute"] - m["scene"],
            "trace_share_of_scene": m["trace"] / m["scene"],
            "device": str(dev), "n_points": n_points,
        }
    return out


# ---------------------------------------------------------------------------------------------
def write_notebook(path: Path) -> None:
    import nbformat

    fmt = {"N": N_POINTS, "GRID": GRID, "FIGSIZE": FIGSIZE, "DPI": DPI}
    cells = [nbformat.v4.new_code_cell(NB_CELLS[0].replace("{N}", str(fmt["N"])).replace("{GRID}", str(GRID))
                                       .replace("{FIGSIZE}", repr(FIGSIZE)).replace("{DPI}", str(DPI)))]
    cells += [nbformat.v4.new_code_cell(c) for c in NB_CELLS[1:]]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float, proc: subprocess.Popen[bytes]) -> None:
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end:
        if proc.poll() is not None:
            raise RuntimeError(f"voila exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except Exception:
            pass
        time.sleep(0.25)
    raise TimeoutError(f"{url} not up after {timeout} s")


def browser_bench(args: argparse.Namespace, tmp: Path, log: list[str]) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    nb = tmp / "widget_page.ipynb"
    write_notebook(nb)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    vlog = open(tmp / "voila.log", "wb")
    proc = subprocess.Popen(["voila", str(nb), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1"],
                            cwd=tmp, env=env, stdout=vlog, stderr=subprocess.STDOUT, start_new_session=True)
    res: dict[str, Any] = {}
    console: list[str] = []
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/voila/static/favicon.ico", 60, proc)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROME_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            if args.antialias != "auto":  # WebGL multisampling forced on or off (default: off for software GL)
                page.add_init_script(f"window.FLOWVIZ_ANTIALIAS = {'true' if args.antialias == 'on' else 'false'};")
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
            page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
            t0 = time.perf_counter()
            page.goto(base + "/", timeout=180_000)
            for sel in (".bench-A .flowviz-player[data-frame]", ".bench-B .flowviz-player[data-version]",
                        ".bench-C .flowviz-player[data-version]", ".mpl-k-out img", ".mpl-p-out img"):
                page.wait_for_selector(sel, timeout=180_000, state="attached")
            res["page_load_s"] = time.perf_counter() - t0
            log.append(f"page rendered in {res['page_load_s']:.1f} s")
            page.evaluate(PAGE_JS)
            ev = page.evaluate
            res["canvas_default_css"] = ev("s => __B.canvasInfo(s)", ".bench-A")
            # same size as the matplotlib figure (550 x 560 px): the panel's own aspect ratio (1/1.02 at
            # max-height 560) -- by default the panel stretches to the row (954 x 560 here)
            ev("css => { const st = document.createElement('style'); st.id = 'bench-size'; st.textContent = css;"
               " document.head.append(st); }", SIZE_CSS.format(w=550))
            for sel in (".bench-A", ".bench-B", ".bench-C"):
                ev("s => __B.settle(s)", sel)
            res["canvas"] = {"webgl": ev("s => __B.canvasInfo(s)", ".bench-A"),
                             "canvas2d": ev("s => __B.canvasInfo(s)", ".bench-C")}
            log.append(f"canvas: {res['canvas']}")

            # ---- scrubbing, interleaved (rotating order) -------------------------------------
            K = 8
            walk = [1, 2, 3, 4, 5, 6, 7, 8, 7, 6, 5, 4, 3, 2, 1, 0]  # keyboard steps: one layer each
            routes = ["fp_webgl", "fp_canvas2d", "mpl"]
            pos = {r: 0 for r in routes}
            scrub: dict[str, list[dict[str, Any]]] = {r: [] for r in routes}

            def scrub_once(route: str, record: bool) -> None:
                i = pos[route]
                k, prev = walk[i % len(walk)], walk[(i - 1) % len(walk)] if i else 0
                pos[route] += 1
                if route == "mpl":
                    ev("s => __B.settle(s)", ".bench-M")
                    ev("s => __B.armImg(s)", ".bench-M")
                    page.locator(".mpl-k .noUi-handle").press("ArrowRight" if k > prev else "ArrowLeft")
                    r = ev("() => __B.imgP")
                    r["k"] = k
                else:
                    sel = ".bench-A" if route == "fp_webgl" else ".bench-C"
                    ev("s => __B.settle(s)", sel)
                    r = ev("([s, v]) => __B.scrubFP(s, v)", [sel, k])
                if record:
                    scrub[route].append(r)

            for route in routes:  # warm-up: two steps each
                scrub_once(route, False)
                scrub_once(route, False)
            for rep in range(args.scrub_repeats):
                order = routes[rep % 3:] + routes[:rep % 3]
                for route in order:
                    scrub_once(route, True)
            res["scrub"] = scrub
            # sanity: the matplotlib slider really moved (readout) and FlowPlayer showed the layer asked for
            log.append("scrub last: " + json.dumps({r: scrub[r][-1] for r in routes}))

            # ---- parameter change, interleaved ---------------------------------------------------
            pwalk = [1, 2, 3, 4, 5, 6, 5, 4, 3, 2, 1, 0]  # in steps of 0.05 (the FloatSlider step)
            ppos = {"fp": 0, "mpl": 0}
            param: dict[str, list[dict[str, Any]]] = {"fp": [], "mpl": []}

            def param_once(route: str, record: bool) -> None:
                i = ppos[route]
                j, prev = pwalk[i % len(pwalk)], pwalk[(i - 1) % len(pwalk)] if i else 0
                ppos[route] += 1
                if route == "mpl":
                    ev("s => __B.settle(s)", ".bench-P")
                    ev("s => __B.armImg(s)", ".bench-P")
                    page.locator(".mpl-p .noUi-handle").press("ArrowRight" if j > prev else "ArrowLeft")
                    r = ev("() => __B.imgP")
                else:
                    ev("s => __B.settle(s)", ".bench-B")
                    r = ev("([s, id, v]) => __B.paramFP(s, id, v)", [".bench-B", "L1.shift.0", round(0.05 * j, 2)])
                r["value"] = round(0.05 * j, 2)
                if record:
                    param[route].append(r)

            for route in ("fp", "mpl"):
                param_once(route, False)
            for rep in range(args.param_repeats):
                for route in (("fp", "mpl") if rep % 2 == 0 else ("mpl", "fp")):
                    param_once(route, True)
            res["param"] = param
            log.append("param last: " + json.dumps({r: param[r][-1] for r in param}))
            if args.profile:  # where the browser's time goes: the sampling profiler over FlowPlayer ops
                res["profile"] = {
                    "param": profile_ops(page, lambda: [param_once("fp", False) for _ in range(args.param_repeats)]),
                    "scrub": profile_ops(page, lambda: [scrub_once("fp_webgl", False) for _ in range(args.scrub_repeats)]),
                }
            if args.trace:  # the same ops under Chromium's timeline trace: self time by event, per thread
                res["trace"] = {
                    "param": trace_ops(browser, page, lambda: [param_once("fp", False) for _ in range(args.param_repeats)]),
                    "scrub": trace_ops(browser, page, lambda: [scrub_once("fp_webgl", False) for _ in range(args.scrub_repeats)]),
                }

            # ---- 100k points: n_points control, then play --------------------------------------
            fps: dict[str, Any] = {}
            for name, sel in (("webgl", ".bench-A"), ("canvas2d", ".bench-C")):
                ev("s => __B.settle(s)", sel)
                r = ev("([s, id, v]) => __B.paramFP(s, id, v)", [sel, "n_points", 100_000])
                fps[name] = {"n_points_roundtrip_ms": r["total"]}
                # scrub latency at 100k too (a few steps)
                lat = [ev("([s, v]) => __B.scrubFP(s, v)", [sel, v]) for v in (1, 2, 3, 4, 5, 4, 3)]
                fps[name]["scrub_100k_ms"] = med([x["total"] for x in lat[1:]])
                fps[name]["frame_js_100k_ms"] = med([x["frame_js"] for x in lat[1:]])
            for size in SIZES:
                ev("([css]) => { const st = document.getElementById('bench-size'); st.textContent = css; }",
                   [SIZE_CSS.format(w=SIZES[size]) if SIZES[size] else ""])
                for name, sel in (("webgl", ".bench-A"), ("canvas2d", ".bench-C")):
                    ev("s => __B.settle(s)", sel)
                    ev("s => { const el = __B.player(s); el.querySelector('.fv-slider').value = '0';"
                       " el.querySelector('.fv-slider').dispatchEvent(new Event('input', {bubbles: true})); }", sel)
                    ev("() => __B.raf()")
                    info = ev("s => __B.canvasInfo(s)", sel)
                    # click in the page: Playwright's actionability checks stall while a slow frame loop runs
                    ev("s => __B.player(s).querySelector('.fv-play').click()", sel)
                    ev("() => new Promise(r => setTimeout(r, 400))")
                    f = ev("([s, t]) => __B.fps(s, t)", [sel, args.fps_seconds])
                    ev("s => __B.player(s).querySelector('.fv-play').click()", sel)
                    f.update(canvas=info)
                    fps[name][size] = f
                    log.append(f"fps {name} {size}: {f}")
            res["fps_100k"] = fps
            kt = tmp / "kernel_times.jsonl"
            if kt.exists():
                rows = [json.loads(x) for x in kt.read_text().splitlines() if x.strip()]
                res["kernel_callbacks"] = {tag: [r["ms"] for r in rows if r["tag"] == tag]
                                           for tag in sorted({r["tag"] for r in rows})}
                res["param_split"] = param_split(res.get("param", {}).get("fp", []),
                                                 [r for r in rows if r["tag"] == "fp.param"])
            res["console_errors"] = [c for c in console if ("error" in c.lower() and "ERR_NAME_NOT_RESOLVED" not in c)]
            browser.close()
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except Exception:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except Exception:
                pass
        vlog.close()
    return res


# ---------------------------------------------------------------------------------------------
def param_split(ops: list[dict[str, Any]], callbacks: list[dict[str, Any]]) -> dict[str, Any]:
    """FlowPlayer's parameter round trip in three parts, from the page's and the kernel's wall clocks (one
    machine): input -> kernel callback starts (browser, server, ZMQ), the callback (recompute and send), and
    callback ends -> picture drawn (ZMQ, server, websocket, deserialisation, scene build, draw)."""
    parts: dict[str, list[float]] = {"to_kernel": [], "kernel": [], "to_drawn": []}
    for op in ops:
        inside = [c for c in callbacks if "start" in c and op["epoch0"] <= c["start"] <= op["epoch1"]]
        if len(inside) != 1:
            continue
        c = inside[0]
        parts["to_kernel"].append(c["start"] - op["epoch0"])
        parts["kernel"].append(c["end"] - c["start"])
        parts["to_drawn"].append(op["epoch1"] - c["end"])
    return {k: med(v) for k, v in parts.items()} | {"n": len(parts["kernel"])}


def profile_ops(page: Any, ops: Any, top: int = 25) -> dict[str, Any]:
    """Run ``ops()`` under Chromium's sampling CPU profiler (CDP); self time per function, largest first."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Profiler.enable")
    cdp.send("Profiler.setSamplingInterval", {"interval": 250})
    cdp.send("Profiler.start")
    t0 = time.perf_counter()
    ops()
    wall = time.perf_counter() - t0
    prof = cdp.send("Profiler.stop")["profile"]
    cdp.detach()
    nodes = {n["id"]: n for n in prof["nodes"]}
    dt_us: dict[int, float] = {}
    for sid, d in zip(prof.get("samples", []), prof.get("timeDeltas", []), strict=False):
        dt_us[sid] = dt_us.get(sid, 0.0) + d
    self_ms: dict[str, float] = {}
    for nid, us in dt_us.items():
        cf = nodes[nid]["callFrame"]
        url = cf.get("url", "").rsplit("/", 1)[-1].split("?")[0]
        key = f"{cf.get('functionName') or '(anonymous)'} {url}:{cf.get('lineNumber', -1) + 1}" if url else \
            cf.get("functionName") or "(program)"
        self_ms[key] = self_ms.get(key, 0.0) + us / 1e3
    total = sum(self_ms.values())
    busy = total - sum(v for k, v in self_ms.items() if k in ("(idle)", "(program)"))
    rows = sorted(self_ms.items(), key=lambda kv: -kv[1])[:top]
    return {"wall_ms": wall * 1e3, "sampled_ms": total, "busy_ms": busy, "top_self_ms": rows}


TRACE_CATEGORIES = ["devtools.timeline", "disabled-by-default-devtools.timeline", "v8", "blink", "gpu", "cc",
                    "toplevel", "disabled-by-default-v8.gc"]


def trace_ops(browser: Any, page: Any, ops: Any, top: int = 14) -> dict[str, Any]:
    """Run ``ops()`` under Chromium's timeline trace; per thread, the self time of every complete event
    (its duration less its children's on the same thread), largest first."""
    browser.start_tracing(page=page, categories=TRACE_CATEGORIES)
    t0 = time.perf_counter()
    ops()
    wall = time.perf_counter() - t0
    events = json.loads(browser.stop_tracing())
    events = events.get("traceEvents", events) if isinstance(events, dict) else events
    names: dict[tuple[int, int], str] = {}
    for e in events:
        if e.get("ph") == "M" and e.get("name") == "thread_name":
            names[(e["pid"], e["tid"])] = e["args"]["name"]
    per_thread: dict[tuple[int, int], list[tuple[float, float, str]]] = {}
    for e in events:
        if e.get("ph") == "X" and "dur" in e:
            per_thread.setdefault((e["pid"], e["tid"]), []).append((e["ts"], e["ts"] + e["dur"], e["name"]))
    out: dict[str, Any] = {}
    for key, evs in per_thread.items():
        evs.sort(key=lambda x: (x[0], -x[1]))
        self_us: dict[str, float] = {}
        stack: list[list[Any]] = []  # [end, name, child time]

        def close(item: list[Any]) -> None:
            self_us[item[1]] = self_us.get(item[1], 0.0) + max(0.0, item[3] - item[2])

        for start, end, name in evs:
            while stack and stack[-1][0] <= start:
                close(stack.pop())
            if stack:
                stack[-1][2] += end - start
            stack.append([end, name, 0.0, end - start])
        while stack:
            close(stack.pop())
        busy = sum(self_us.values())
        tname = names.get(key, f"{key[0]}:{key[1]}")
        label = f"{tname} ({key[0]})"
        out[label] = {"busy_ms": busy / 1e3, "top_self_ms": sorted(((k, v / 1e3) for k, v in self_us.items()),
                                                                     key=lambda kv: -kv[1])[:top]}
    out = dict(sorted(out.items(), key=lambda kv: -kv[1]["busy_ms"]))
    return {"wall_ms": wall * 1e3, "threads": out}


def summarise(res: dict[str, Any]) -> list[str]:
    lines = []
    sc = res.get("scrub")
    if sc:
        m = {r: med([x["total"] for x in v]) for r, v in sc.items()}
        d = {r: med([x.get("drawn", x.get("arrived")) for x in v]) for r, v in sc.items()}
        js = {r: med([x["frame_js"] for x in v]) for r, v in sc.items() if r != "mpl"}
        res["summary"] = s = {"scrub_ms": m, "scrub_drawn_ms": d, "scrub_frame_js_ms": js,
                              "scrub_speedup_webgl": m["mpl"] / m["fp_webgl"],
                              "scrub_speedup_canvas2d": m["mpl"] / m["fp_canvas2d"]}
        n = len(sc["mpl"])
        cv = res.get("canvas", {}).get("webgl", {}).get("backing", ["?", "?"])
        lines += [f"Scrubbing one layer, 10k points, input -> pixels (median of {n}, interleaved; FlowPlayer canvas "
                  f"{cv[0]}x{cv[1]}, matplotlib {sc['mpl'][0].get('w')}x{sc['mpl'][0].get('h')} PNG)",
                  f"  {'route':<22}{'total ms':>10}{'drawn ms':>10}{'JS frame ms':>13}",
                  *[f"  {r:<22}{m[r]:>10.1f}{d[r]:>10.1f}{(js.get(r) or float('nan')):>13.1f}" for r in m],
                  f"  speed-up vs matplotlib: webgl {s['scrub_speedup_webgl']:.1f}x, "
                  f"canvas2d {s['scrub_speedup_canvas2d']:.1f}x (target >= 30x)"]
    pa = res.get("param")
    if pa:
        m = {r: med([x["total"] for x in v]) for r, v in pa.items()}
        s = res.setdefault("summary", {})
        s["param_ms"] = m
        s["param_speedup"] = m["mpl"] / m["fp"]
        lines += [f"Parameter change (Affine shift, kernel round trip, 10k points, median of {len(pa['fp'])})",
                  f"  FlowPlayer {m['fp']:.1f} ms   matplotlib {m['mpl']:.1f} ms   "
                  f"speed-up {s['param_speedup']:.1f}x (target >= 4x)"]
    fp = res.get("fps_100k")
    if fp:
        lines.append("100k points, playing (frames/s; target 60)")
        for name, v in fp.items():
            for size in SIZES:
                if size in v:
                    f = v[size]
                    lines.append(f"  {name:<9}{size:<8} {f['fps']:>6.1f} fps  median gap {f['median_gap_ms'] or 0:.1f} ms"
                                 f"  max gap {f['max_gap_ms'] or 0:.0f} ms"
                                 f"  canvas {f['canvas']['backing'][0]}x{f['canvas']['backing'][1]}")
            lines.append(f"  {name:<9}scrub at 100k {v['scrub_100k_ms']:.1f} ms (JS frame {v['frame_js_100k_ms']:.1f} ms),"
                         f" n_points 10k->100k round trip {v['n_points_roundtrip_ms']:.0f} ms")
    pr = res.get("profile")
    if pr:
        for op, v in pr.items():
            lines.append(f"Browser CPU profile, FlowPlayer {op} ops: wall {v['wall_ms']:.0f} ms, main thread busy "
                         f"{v['busy_ms']:.0f} ms; top self time:")
            lines += [f"  {ms:8.1f} ms  {name}" for name, ms in v["top_self_ms"][:12]]
    tr = res.get("trace")
    if tr:
        for op, v in tr.items():
            lines.append(f"Browser timeline trace, FlowPlayer {op} ops: wall {v['wall_ms']:.0f} ms; busiest threads:")
            for tname, t in list(v["threads"].items())[:4]:
                lines.append(f"  {tname}: {t['busy_ms']:.0f} ms in events; top self time: "
                             + ", ".join(f"{n} {ms:.0f}" for n, ms in t["top_self_ms"][:8]))
    kc = res.get("kernel_callbacks")
    if kc:
        s = res.setdefault("summary", {})
        s["kernel_callback_ms"] = {k: med(v) for k, v in kc.items()}
        lt = {f"{g}.{r}": med([x.get("longtask", 0) for x in v]) for g in ("scrub", "param") for r, v in res.get(g, {}).items()}
        s["browser_longtask_ms"] = lt
        lines.append("In the page: kernel callback (median ms, Voila kernel): "
                     + ", ".join(f"{k} {v:.0f}" for k, v in s["kernel_callback_ms"].items() if ".recompute" not in k)
                     + f" (n: {', '.join(f'{k} {len(v)}' for k, v in kc.items())})")
        ps = res.get("param_split")
        if ps and ps.get("n"):
            s["param_split_ms"] = ps
            lines.append(f"  FlowPlayer parameter change in parts (median ms, n {ps['n']}): input -> kernel callback "
                         f"{ps['to_kernel']:.0f}, callback {ps['kernel']:.0f}, callback end -> drawn {ps['to_drawn']:.0f}")
        lines.append("  browser main-thread long tasks per op (median ms): "
                     + ", ".join(f"{k} {v:.0f}" for k, v in lt.items()))
    ko = res.get("kernel")
    if ko:
        v0 = next(iter(ko.values()))
        lines.append(f"Kernel side, {v0.get('n_points', N_POINTS):,} points, grid 65, {v0.get('device', 'cpu')} "
                     "(median ms, this process, 1 CPU thread)")
        lines.append(f"  {'flow':<17}{'trace':>7}{'scene':>8}{'encode':>8}{'state':>7}{'recomp':>8}"
                     f"{'ovh/scene':>11}{'ovh/trace':>11}{'MB':>6}")
        for name, v in ko.items():
            m = v["ms"]
            lines.append(f"  {name:<17}{m['trace']:>7.1f}{m['scene']:>8.1f}{m['encode']:>8.2f}{m['state']:>7.2f}"
                         f"{m['recompute']:>8.1f}{v['overhead_over_scene'] * 100:>10.1f}%"
                         f"{v['overhead_over_trace'] * 100:>10.1f}%{v['buffers_bytes'] / 1e6:>6.2f}")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer repeats (~2 min)")
    ap.add_argument("--out", type=Path, default=RESULTS / "widget.json")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (notebook, voila log)")
    ap.add_argument("--no-browser", action="store_true", help="kernel-side part only")
    ap.add_argument("--device", default="cpu", help="the flow's device for the kernel-side part (cpu, cuda)")
    ap.add_argument("--kernel-points", type=int, default=N_POINTS, help="sample points in the kernel-side part")
    ap.add_argument("--antialias", choices=["auto", "on", "off"], default="auto",
                    help="WebGL multisampling: auto (off for a software rasteriser), or forced, for an A/B run")
    ap.add_argument("--profile", action="store_true",
                    help="also run FlowPlayer's parameter changes and scrubs under Chromium's CPU profiler")
    ap.add_argument("--trace", action="store_true",
                    help="also run them under Chromium's timeline trace (self time by event, per thread)")
    args = ap.parse_args()
    args.scrub_repeats = 6 if args.quick else 12
    args.param_repeats = 4 if args.quick else 8
    args.fps_seconds = 2.0 if args.quick else 3.0
    kernel_repeats = 5 if args.quick else 15

    load0 = os.getloadavg()
    log: list[str] = [f"start {dt.datetime.now().isoformat(timespec='seconds')} load {load0}"]
    res: dict[str, Any] = {"args": {"quick": args.quick, "antialias": args.antialias, "n_points": N_POINTS, "grid": GRID, "figsize": FIGSIZE,
                                    "dpi": DPI, "scrub_repeats": args.scrub_repeats,
                                    "param_repeats": args.param_repeats, "fps_seconds": args.fps_seconds},
                           "platform": {"python": platform.python_version(), "cpus": os.cpu_count(),
                                        "machine": platform.machine()}}
    t0 = time.perf_counter()
    res["kernel"] = kernel_overhead(kernel_repeats, args.device, args.kernel_points)
    log.append(f"kernel part {time.perf_counter() - t0:.1f} s")
    if not args.no_browser:
        tmp = Path(tempfile.mkdtemp(prefix="fv-bench-widget-"))
        try:
            res.update(browser_bench(args, tmp, log))
        finally:
            vl = tmp / "voila.log"
            if vl.exists():
                (RESULTS / "widget-voila.log").write_bytes(vl.read_bytes())
            if not args.keep:
                import shutil
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                log.append(f"kept {tmp}")
    res["load_avg"] = {"start": load0, "end": os.getloadavg()}
    try:  # the load while measuring; a minimal (GPU) image may have no procps: the results matter more
        res["uptime"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError as err:
        res["uptime"] = f"(uptime not available: {err})"
    res["wall_s"] = time.perf_counter() - t0
    lines = summarise(res)
    lines.append(f"load average start {load0[0]:.2f}, end {res['load_avg']['end'][0]:.2f}; wall {res['wall_s']:.0f} s")
    print("\n".join(lines))
    res["table"] = lines
    res["log"] = log
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=1, default=float))
    (args.out.with_suffix(".log")).write_text("\n".join(log + [""] + lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
