// player.js: the FlowPlayer view (anywidget front-end module).
//
// Playing, scrubbing, hovering and brushing run in the browser from the arrays it
// holds; only control changes (params), throttled positions, selection and toggles
// go back to the model. State names and formats: js/WIRE.md.

import { buildScene, statusText, offscreen } from "./scene.js";
import { layerSpan } from "./interp.js";
import { fitView, makeTransform } from "./view.js";
import { layoutPlot, drawOverlay, createBanner } from "./overlay.js";
import { createPanel, deviceRatio } from "./panel.js";
import { createToolbar, createParamControls } from "./controls.js";
import { mountView } from "./mount.js";
import { keyAction, isOwnKeyEvent } from "./keys.js";
import { pointsInRect, pointsInPolygon } from "./hittest.js";
import { createReadoutPanel, hoverShapes, panelText } from "./readout-view.js";
import { handleSpecs, handleShown, handleValue, hitHandle, beginDrag, dragTo, handleParams } from "./handles.js";
import { CSS } from "./styles.js";
import { boundsAt, boxAreaPx, crowding } from "./points.js";
import { fitToSlide } from "./slides.js";

const SYNC_MS = 200; // position written back at most ~5 times a second
const clamp = (x, a, b) => Math.min(Math.max(x, a), b);
const playSpeed = (v) => (Number.isFinite(+v) && +v > 0 ? +v : 1); // speed from Python: > 0, else 1x

export function renderPlayer({ model, el, signal }) {
  const { alive, val, save, listen, requestDraw, followTheme, onCleanup, cleanup } =
    mountView({ model, el, signal }, { css: CSS, frame, classes: ["fv-flowplayer"] });

  const S = {
    t: +val("position", 0) || 0, playing: !!val("playing", false), loop: !!val("loop", false), speed: playSpeed(val("speed", 1)),
    show_points: !!val("show_points", true), show_grid: !!val("show_grid", true), show_density: !!val("show_density", true),
    linked: !!val("linked", false), follow: !!val("follow", false), scene: null, sceneError: null, sceneDirty: true, lastNow: 0, frame: 0,
    pointer: null, hoverV: -1, readKey: "", drag: null, brush: null, sel: null, selCount: 0,
    version: undefined, pending: false, lastSync: 0, lastWritten: NaN, scrubbing: false, lutVersion: 0,
    handleSpecs: [], shownHandles: [], handleHot: -1, handleDrag: null, heldView: null,
    sceneSerial: 0, selSerial: 0, themeSerial: 0, canvasDraws: 0,
  };
  let theme, pendingTimer = 0;

  // ---- DOM
  el.tabIndex = 0;
  const toolbar = createToolbar({
    play: () => setPlaying(!S.playing),
    step: (d) => seek(keyAction(d < 0 ? "ArrowLeft" : "ArrowRight", S.t, K()).position),
    scrub: (v, done) => { S.scrubbing = !done; setPlaying(false); S.t = v; syncPosition(done); requestDraw(); },
    loop: (b) => { S.loop = b; save({ loop: b }); requestDraw(); },
    speed: (v) => { S.speed = v; save({ speed: v }); },
    toggle: (name, b) => { S[name] = b; save({ [name]: b }); if (name === "linked") layout(); requestDraw(); },
  });
  // every model change goes this way (sliders, toggles, dragged handles): ipywidgets sends one update
  // at a time and merges the ones that arrive meanwhile, so the newest value wins while the kernel computes
  function setParams(values) {
    save({ params: { ...(model.get("params") || {}), ...values } });
    setPending(true);
  }
  const params = createParamControls((id, value) => setParams({ [id]: value }), { kernel: !val("static", false) });
  const panelsEl = document.createElement("div");
  panelsEl.className = "fv-panels";
  const readout = createReadoutPanel();
  const main = document.createElement("div");
  main.className = "fv-main";
  main.append(panelsEl, readout.el);
  el.append(toolbar.el, params.el, main);
  // on a Reveal.js slide (Voila's slides): the plot shrinks so that the whole player fits the slide, and
  // the sliders start folded so that the plot shows first
  fitToSlide(el, main, { signal: alive, onSlide: () => params.setOpen(false) });

  const prefer = val("renderer", globalThis.FLOWVIZ_RENDERER || "auto");
  let panels = null;
  const markRenderer = () => {
    const r = panels?.x?.renderer;
    el.dataset.renderer = r?.kind || "none";
    el.dataset.antialias = String(!!r?.antialias);
  };
  panels = { x: makePanel("x"), z: null };
  panelsEl.append(panels.x.el);
  const banner = createBanner(panelsEl);
  markRenderer();
  onCleanup(() => {
    clearTimeout(pendingTimer);
    panels.x.destroy();
    panels.z?.destroy();
    el.classList.remove("fv-linked");
    el.removeAttribute("tabindex");
  });

  function makePanel(which) {
    const p = createPanel({ prefer, onChange: () => { markRenderer(); requestDraw(); } });
    p.which = which;
    // the overlay's listeners end with the panel (the z panel goes when "linked" is turned off), or with the view
    const own = new AbortController(), signal = own.signal;
    alive.addEventListener("abort", () => own.abort(), { once: true, signal });
    const destroy = p.destroy;
    p.destroy = () => { own.abort(); destroy(); };
    const o = p.overlay;
    o.addEventListener("pointerdown", (e) => pointerDown(e, p), { signal });
    o.addEventListener("pointermove", (e) => pointerMove(e, p), { signal });
    o.addEventListener("pointerup", (e) => pointerUp(e, p), { signal });
    o.addEventListener("pointercancel", () => {
      cancelHandleDrag();
      S.drag = S.brush = S.heldView = null;
      requestDraw();
    }, { signal });
    o.addEventListener("pointerleave", () => {
      if (!S.drag && !S.handleDrag) { S.pointer = null; S.hoverV = -1; S.heldView = null; requestDraw(); }
    }, { signal });
    // touch drags brush and move handles instead of panning the page (pinch-zoom still works)
    o.style.touchAction = "pinch-zoom";
    return p;
  }

  function layout() {
    if (S.linked && !panels.z) {
      panels.z = makePanel("z");
      panelsEl.prepend(panels.z.el);
      el.classList.add("fv-linked");
    } else if (!S.linked && panels.z) {
      const z = panels.z;
      // a brush, hover or handle drag on the z panel ends with it (else the x panel's hover and handles stay off)
      if (S.drag?.p === z) S.drag = S.brush = null;
      if (S.pointer?.p === z) { S.pointer = null; S.hoverV = -1; }
      if (S.handleDrag?.p === z) S.handleDrag = null;
      z.destroy();
      panels.z = null;
      el.classList.remove("fv-linked");
    }
  }

  // ---- model <-> view state
  const K = () => (S.scene ? S.scene.K : Math.max(0, (val("meta", {}).K | 0)));
  function syncPosition(force) {
    const now = performance.now();
    if (!force && now - S.lastSync < SYNC_MS) return;
    if (S.t === S.lastWritten && !force) return;
    S.lastSync = now;
    S.lastWritten = S.t;
    save({ position: S.t });
  }
  function setPlaying(b) {
    if (b === S.playing) return;
    if (b && !S.loop && S.t >= K() - 1e-9) S.t = 0;
    S.playing = b;
    S.lastNow = 0;
    save({ playing: b });
    if (!b) syncPosition(true);
    requestDraw();
  }
  function seek(t) {
    setPlaying(false);
    S.t = clamp(t, 0, K());
    syncPosition(true);
    requestDraw();
  }
  function setPending(b) {
    S.pending = b;
    toolbar.setComputing(b);
    clearTimeout(pendingTimer);
    if (b) pendingTimer = setTimeout(() => setPending(false), 30000);
  }
  function readSelection() {
    const list = val("selection", []);
    const N = S.scene ? S.scene.N : 0;
    S.sel = N ? new Uint8Array(N) : null;
    S.selCount = 0;
    S.selSerial++;
    if (S.sel) for (const i of list || []) if (i >= 0 && i < N && !S.sel[i]) { S.sel[i] = 1; S.selCount++; }
    el.dataset.selected = String(S.selCount);
  }

  listen({
    "change:arrays": () => { S.sceneDirty = true; requestDraw(); },
    "change:meta": () => { S.sceneDirty = true; requestDraw(); },
    "change:controls": () => updateParams(),
    "change:params": () => updateParams(),
    "change:position": () => {
      const p = +model.get("position");
      // (p === lastWritten: the echo of this view's own last write, stale if the view has moved on since)
      if (Number.isFinite(p) && p !== S.lastWritten && Math.abs(p - S.t) > 1e-9) {
        S.t = clamp(p, 0, K());
        S.lastWritten = p; // a value from elsewhere: a later one equal to this view's earlier write is not an echo
        if (S.scene && S.t !== p) syncPosition(true); // beyond [0, K]: the model gets the position shown
        requestDraw();
      }
    },
    "change:playing": () => {
      const b = !!model.get("playing");
      if (b === S.playing) return;
      S.playing = b;
      S.lastNow = 0;
      if (b && !S.loop && S.t >= K() - 1e-9) { S.t = 0; syncPosition(true); } // as the play button: from the start
      if (!b) syncPosition(true); // paused from Python: the model gets the exact position, as on every pause
      requestDraw();
    },
    "change:speed": () => { S.speed = playSpeed(model.get("speed")); requestDraw(); },
    "change:loop": () => { S.loop = !!model.get("loop"); requestDraw(); },
    "change:show_points": () => { S.show_points = !!model.get("show_points"); requestDraw(); },
    "change:show_grid": () => { S.show_grid = !!model.get("show_grid"); requestDraw(); },
    "change:show_density": () => { S.show_density = !!model.get("show_density"); requestDraw(); },
    "change:linked": () => { S.linked = !!model.get("linked"); layout(); requestDraw(); },
    "change:follow": () => { S.follow = !!model.get("follow"); requestDraw(); },
    "change:selection": () => { readSelection(); requestDraw(); },
  });

  function updateParams() {
    params.update(val("controls", []), val("params", {}), S.scene ? S.scene.layers : val("meta", {}).layers || []);
    // no kernel behind a static export: a dragged handle could not change the picture there
    S.handleSpecs = val("static", false) ? [] : handleSpecs(val("meta", {}), val("controls", []));
    requestDraw();
  }

  function rebuildScene() {
    S.sceneDirty = false;
    const meta = val("meta", {});
    try {
      const arrays = model.get("arrays");
      const next = buildScene(arrays, meta);
      S.sceneError = null;
      if (next !== S.scene) { S.lutVersion++; S.sceneSerial++; }
      S.scene = next;
    } catch (err) {
      console.error(err);
      if (S.scene) S.sceneSerial++;
      S.scene = null;
      S.sceneError = err.message || String(err);
    }
    if (meta.version !== S.version) { S.version = meta.version; el.dataset.version = String(meta.version ?? ""); if (S.pending) setPending(false); }
    if (S.scene) { // keep a position set before data arrived; a shorter flow clamps it, and the model learns so
      const t = clamp(S.t, 0, S.scene.K);
      if (t !== S.t) { S.t = t; syncPosition(true); }
    }
    if (S.scene && S.hoverV >= S.scene.V) S.hoverV = -1;
    S.readKey = "";
    readSelection();
    updateParams();
  }

  // ---- pointer: hover and brush
  const local = (e, p) => { const r = p.overlay.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; };
  function pointerDown(e, p) {
    if (e.button !== 0) return;
    el.focus({ preventScroll: true });
    const [x, y] = local(e, p);
    const hit = p.which === "x" && p.tr ? hitHandle(S.shownHandles.map((h) => h.value), p.tr, x, y, handleRadius()) : -1;
    if (hit >= 0) {
      const h = S.shownHandles[hit];
      if (S.playing) setPlaying(false); // the handle's layer stays in view while it is dragged
      S.handleDrag = { p, pointerId: e.pointerId, sent: h.value.slice(), ...beginDrag(h.spec, h.value, p.tr, x, y) };
      // hold the camera: every recompute brings new bounds, and a view that moved under the pointer
      // would move the handle away from it; released when the pointer leaves the panel
      const v = p.tr.view;
      S.heldView = [v.x0, v.x1, v.y0, v.y1];
      S.drag = S.brush = null;
      p.overlay.setPointerCapture?.(e.pointerId);
      e.preventDefault();
      requestDraw();
      return;
    }
    S.drag = { p, kind: e.shiftKey ? "lasso" : "rect", start: [x, y], pts: [[x, y]], moved: false };
    p.overlay.setPointerCapture?.(e.pointerId);
  }
  function pointerMove(e, p) {
    const [x, y] = local(e, p);
    const hd = S.handleDrag;
    if (hd) {
      if (hd.p === p && e.pointerId === hd.pointerId) moveHandle(hd, x, y);
      return;
    }
    const d = S.drag;
    if (d && d.p === p) {
      if (Math.hypot(x - d.start[0], y - d.start[1]) > 4) d.moved = true;
      if (d.kind === "lasso") d.pts.push([x, y]);
      else d.pts = [d.start, [x, d.start[1]], [x, y], [d.start[0], y]];
      S.brush = d.moved ? { p, kind: d.kind, points: d.pts } : null;
    } else {
      S.pointer = { p, x, y };
    }
    requestDraw();
  }
  function pointerUp(e, p) {
    const hd = S.handleDrag;
    if (hd) {
      if (hd.p === p && e.pointerId === hd.pointerId) {
        moveHandle(hd, ...local(e, p));
        S.handleDrag = null;
        S.pointer = { p, x: local(e, p)[0], y: local(e, p)[1] };
        requestDraw();
      }
      return;
    }
    const d = S.drag;
    S.drag = S.brush = null;
    if (!d || d.p !== p) return;
    const sc = S.scene, tr = p.tr;
    if (sc && tr) {
      let idx = [];
      if (d.moved) {
        const pos = p.which === "z" ? sc.points.state(0) : sc.points.at(S.t);
        const data = d.pts.map(([x, y]) => [tr.x(x), tr.y(y)]);
        idx = d.kind === "lasso" ? pointsInPolygon(pos, data) : pointsInRect(pos, data[0][0], data[0][1], data[2][0], data[2][1]);
      }
      // a click clears whatever the model holds, also indices beyond the current points (kept from a larger n)
      if (d.moved || (val("selection", []) || []).length) { save({ selection: idx }); readSelection(); }
    }
    S.pointer = { p, x: local(e, p)[0], y: local(e, p)[1] };
    requestDraw();
  }

  // ---- handles (meta.handles: a pair of sliders shown as a point to drag, e.g. a radial centre)
  const handleRadius = () => 12 * theme.scale;
  function moveHandle(hd, x, y) {
    if (!hd.p.tr) return;
    const v = dragTo(hd, hd.p.tr, x, y);
    if (hd.moved && (v[0] !== hd.sent[0] || v[1] !== hd.sent[1])) { // a click without travel writes nothing
      hd.sent = v.slice();
      setParams(handleParams(hd.spec, v));
    }
    requestDraw();
  }
  function cancelHandleDrag() {
    const hd = S.handleDrag;
    if (!hd) return;
    S.handleDrag = null;
    if (hd.sent[0] !== hd.start[0] || hd.sent[1] !== hd.start[1]) setParams(handleParams(hd.spec, hd.start));
  }
  /** The handles shown at this position, with their values (a dragged one at the dragged value). */
  function updateHandles(sc, t) {
    const hd = S.handleDrag;
    const controls = val("controls", []), prm = val("params", {});
    S.shownHandles = [];
    if (sc) {
      for (const spec of S.handleSpecs) {
        if (spec.layer > sc.K || !handleShown(spec, t, sc.layers)) continue;
        const value = hd && hd.spec.layer === spec.layer && hd.spec.ids[0] === spec.ids[0] ? hd.value : handleValue(spec, controls, prm);
        if (value) S.shownHandles.push({ spec, value });
      }
    }
    if (hd && !S.shownHandles.some((h) => h.spec.ids[0] === hd.spec.ids[0])) S.handleDrag = null; // its layer left the view
    const ptr = S.pointer, px = panels.x;
    S.handleHot = !S.handleDrag && !S.drag && ptr && ptr.p === px && px.tr
      ? hitHandle(S.shownHandles.map((h) => h.value), px.tr, ptr.x, ptr.y, handleRadius()) : -1;
    const cursor = S.handleDrag ? "grabbing" : S.handleHot >= 0 ? "grab" : "";
    if (px.overlay.style.cursor !== cursor) px.overlay.style.cursor = cursor;
    const first = S.shownHandles[0];
    if (first) px.el.dataset.handle = `${first.spec.layer},${first.value[0]},${first.value[1]}`;
    else delete px.el.dataset.handle;
    px.el.dataset.handleState = S.handleDrag ? "drag" : S.handleHot >= 0 ? "hot" : "";
  }

  function updateHover() {
    const sc = S.scene, ptr = S.pointer;
    if (!sc || !ptr || !ptr.p.tr || !ptr.p.tr.inside(ptr.x, ptr.y)) { S.hoverV = -1; return; }
    const tr = ptr.p.tr;
    const span = layerSpan(S.t, sc.K);
    const k = Math.round(span.t);
    // the vertex under the pointer in the mesh as drawn (interpolated between layers in the x panel)
    const x = tr.x(ptr.x), y = tr.y(ptr.y), r = (12 * theme.scale) / tr.sx;
    const hit = ptr.p.which === "z" ? sc.vertexAt(0, x, y, r) : sc.vertexAtSpan(span, x, y, r);
    S.hoverV = hit.index;
    const key = `${hit.index},${k},${S.version}`;
    if (hit.index >= 0 && key !== S.readKey) {
      S.readKey = key;
      readout.show(sc, k, hit.index, val("meta", {}));
    }
  }

  // ---- keyboard
  el.addEventListener("keydown", (e) => {
    if (!isOwnKeyEvent(e, el)) return;
    const act = keyAction(e.key, S.t, K());
    if (!act) return;
    e.preventDefault();
    e.stopPropagation();
    if (act.type === "toggle") setPlaying(!S.playing);
    else seek(act.position);
  }, { signal: alive });

  // ---- frame loop (requestDraw schedules it, one frame at a time)
  function frame(now) {
    if (S.sceneDirty) rebuildScene();
    const Kn = K();
    if (S.playing && Kn > 0) {
      const dt = S.lastNow ? Math.min((now - S.lastNow) / 1000, 0.1) : 0;
      S.lastNow = now;
      let t = S.t + dt * S.speed;
      if (t >= Kn) {
        if (S.loop) t %= Kn;
        else { t = Kn; S.t = t; setPlaying(false); }
      }
      S.t = t;
      syncPosition(false);
    } else if (S.playing) {
      setPlaying(false);
    }
    draw();
    if (S.playing) requestDraw();
  }

  function draw() {
    const sc = S.scene;
    updateHover();
    const span = sc ? layerSpan(S.t, sc.K) : { t: S.t, k0: 0, k1: 0, f: 0 };
    const kr = Math.round(span.t);
    updateHandles(sc, span.t);
    for (const p of [panels.z, panels.x]) if (p) drawPanel(p, sc, span, kr);
    toolbar.update({ ...S, position: S.t, K: K() });
    // the ring is mentioned where one can be dragged: a kernel behind the page and its layer on
    readout.legend(sc, kr, S.handleSpecs.some((h) => sc?.layers?.[h.layer - 1]?.enabled !== false));
    let text = "", level = "error";
    if (S.sceneError) text = `cannot show this state \u2014 ${S.sceneError}`;
    else if (!sc) { text = "waiting for data from the kernel\u2026"; level = "info"; }
    else text = statusText(sc.meta);
    // a note with status ok (a value the kernel refused, and why): shown as information over the plot
    if (sc && !text && !S.sceneError && sc.meta.message) { text = String(sc.meta.message); level = "info"; }
    banner.set(text, level);
    if (text && panels.x.plot) banner.place(panels.x.el, panels.x.plot); // over the x plot, not its colour bar
    el.dataset.status = sc ? sc.meta.status || "ok" : "";
    el.dataset.frame = String(++S.frame);
    el.dataset.position = String(+S.t.toFixed(6));
    el.dataset.k = String(kr);
    el.dataset.folds = sc ? String(sc.topo.flipCount[kr] ?? 0) : ""; // folded (hatched) mesh triangles shown
    el.dataset.stretched = sc ? String(sc.topo.stretchCount[kr] ?? 0) : ""; // over-drawn cells left unfilled
  }

  function drawPanel(p, sc, span, kr) {
    if (!p.cssW) p.measure();
    else if (deviceRatio() !== p.dpr) p.measure();
    const isX = p.which === "x";
    const plot = layoutPlot(p.cssW, p.cssH, theme, { colorbar: isX && S.show_density && !!sc });
    p.plot = plot;
    // x camera: one view of every state, or (follow) the shown state's bounds, mixed between layers
    const bounds = sc ? (isX ? (S.follow && boundsAt(sc.stateBounds, span)) || sc.xBounds : sc.zBounds) : null;
    const held = isX ? S.heldView : null;
    p.tr = makeTransform(fitView(held || bounds, plot.width, plot.height), plot);
    if (held) p.el.dataset.viewHeld = "1";
    else delete p.el.dataset.viewHeld;
    const v = p.tr.view;
    p.el.dataset.view = `${v.x0},${v.x1},${v.y0},${v.y1}`; // data units shown, and where (CSS px in the overlay)
    p.el.dataset.plot = `${plot.left},${plot.top},${plot.width},${plot.height}`;
    // the base canvas keeps its picture until drawn again: draw it only when what it shows changed
    // (a readout, a hover, a control echo or the "computing" state change only the overlay and DOM)
    const t = sc ? (isX ? span.t : 0) : 0;
    const key = [S.sceneSerial, S.lutVersion, t, isX ? `${span.k0},${span.k1},${kr}` : "", S.show_density, S.show_grid,
      S.show_points, S.selSerial, S.themeSerial, v.x0, v.x1, v.y0, v.y1, plot.left, plot.top, plot.width, plot.height].join("|");
    if (p.drawBase(key, () => drawBase(p, sc, span, kr, t, plot))) el.dataset.canvasDraws = String(++S.canvasDraws);
    drawOverlay(p.overlay, {
      dpr: p.dpr, theme, plot, tr: p.tr,
      axes: isX ? ["x\u2081", "x\u2082"] : ["z\u2081", "z\u2082"],
      ...panelText(sc, isX, span, kr),
      colorbar: S.show_density && isX && sc ? { colors: sc.lutCss, lo: sc.range[0], hi: sc.range[1] } : null,
      hover: sc && S.hoverV >= 0 ? hoverShapes(sc, kr, S.hoverV, isX ? span.t : null, (10 * theme.scale) / p.tr.sx) : null,
      brush: S.brush && S.brush.p === p ? S.brush : null,
      handles: isX ? S.shownHandles.map((h, i) => ({
        x: h.value[0], y: h.value[1], label: `${h.spec.label || "centre"} of layer ${h.spec.layer}`,
        state: S.handleDrag && S.handleDrag.spec.ids[0] === h.spec.ids[0] ? "drag" : i === S.handleHot ? "hot" : "idle",
      })) : null,
    });
  }

  function drawBase(p, sc, span, kr, t, plot) {
    const isX = p.which === "x";
    const f = { dpr: p.dpr, plot, view: p.tr.view, style: theme, range: sc ? sc.range : [0, 1], mesh: null, points: null,
      show: { density: S.show_density, grid: S.show_grid, points: S.show_points } };
    if (sc) {
      if (p.lutVersion !== S.lutVersion) { p.renderer.setLut(sc.lutBytes); p.lutVersion = S.lutVersion; }
      f.idx = isX ? sc.topo.indices(span.k0, span.k1, kr) : sc.topo.indices(0, 0, 0);
      if (p.renderer.interpolates) { // WebGL: all states once, mixed on the GPU
        f.span = isX ? span : { t: 0, k0: 0, k1: 0, f: 0 };
        f.stacks = { mesh: sc.mesh, values: sc.logp, points: { data: sc.pointsGPU, stride: sc.points.stride } };
      } else {
        f.mesh = sc.mesh.at(t);
        f.values = sc.logp.at(t);
        f.points = finitePoints(sc, isX ? sc.points.at(t) : sc.points.state(0));
      }
      f.selMask = S.sel;
      f.selCount = S.selCount;
      // smaller, fainter points where the cloud is crowded on screen (points.js)
      const box = boundsAt(sc.stateBounds, isX ? span : { k0: 0, k1: 0, f: 0 });
      f.pointStyle = crowding(sc.N, boxAreaPx(box, p.tr.sx, p.tr.sy), theme.pointSize * theme.scale);
    }
    p.renderer.draw(f);
  }

  let safePts = null;
  function finitePoints(sc, pts) {
    if (sc.pointsFinite) return pts;
    if (!safePts || safePts.length !== pts.length) safePts = new Float32Array(pts.length);
    return offscreen(pts, safePts);
  }

  // ---- start
  followTheme((t) => { theme = t; S.themeSerial++; });
  layout();
  updateParams();
  requestDraw();
  return cleanup;
}

export default {
  initialize() {},
  render: renderPlayer,
};
