// lens.js: the JacobianLens view (anywidget front-end module). Reuses FlowPlayer's pieces: the wire
// decoding and scene (a one-layer "flow": state 0 the base mesh, state 1 its image), the panel with its
// WebGL2/Canvas2D renderer, the overlay (axes, hover square and image), theme, styles and readout
// formatting. Hover readouts are computed here from the arrays; only `text` and `matrix3` go back.

import { NEEDS_KERNEL } from "../../controls.js";
import { buildScene, statusText } from "../../scene.js";
import { decodeArray } from "../../wire.js";
import { fitView, makeTransform } from "../../view.js";
import { layoutPlot, drawOverlay, createBanner } from "../../overlay.js";
import { createPanel, deviceRatio } from "../../panel.js";
import { mountView } from "../../mount.js";
import { hoverShapes } from "../../readout-view.js";
import { formatNumber, matrixText, det2 } from "../../readout.js";
import { CSS } from "../../styles.js";
import { MeshTopology } from "../../mesh.js";
import { inv2, mul2, flat2, orientation, orientationWord, flat3 } from "./linalg.js";
import { sixTerms, project, CUBE_EDGES, cubeImage } from "./three.js";

const LENS_CSS = `
.flowviz-player .fv-lens-bar { display: flex; flex-wrap: wrap; align-items: center; gap: 8px; margin-bottom: 4px; }
.flowviz-player .fv-lens-text { flex: 1 1 260px; font: inherit; font-family: var(--jp-code-font-family, monospace);
  padding: 0.3em 0.5em; color: var(--fv-fg); background: var(--fv-btn); border: 1px solid var(--fv-border); border-radius: 6px; user-select: text; }
.flowviz-player .fv-lens-error { color: var(--fv-bad); font-weight: 600; min-height: 1.2em; margin-bottom: 4px; white-space: pre-wrap; }
.flowviz-player .fv-lens-m3 { display: grid; grid-template-columns: repeat(3, 5em); gap: 3px; margin: 4px 0 8px; }
.flowviz-player .fv-lens-m3[hidden], .flowviz-player .fv-panel[hidden] { display: none; }
.flowviz-player .fv-lens-m3 input { font: inherit; width: 5em; }
.flowviz-player .fv-lens-m3 input.fv-bad-input { outline: 2px solid var(--fv-bad); } /* refused: empty or not a number */
/* the map's text can be longer than the side panel: wrap it (the matrices below stay aligned: short lines) */
.flowviz-player .fv-lens-info, .flowviz-player .fv-lens-hover { white-space: pre-wrap; overflow-wrap: anywhere; }
.flowviz-player .fv-lens-btn { font: inherit; padding: 0.25em 0.8em; border: 1px solid var(--fv-border); border-radius: 6px;
  background: var(--fv-btn); color: var(--fv-fg); cursor: pointer; }
`;

const f = (x) => formatNumber(x);
const mt = (m) => (m ? matrixText(m) : "does not exist");

/**
 * The hover readout at a mesh vertex: z, x = f(z), J_f(z), its inverse, det J_f and the orientation. `det` is
 * Python's float64 det J_f of that vertex (wire "det"); `jacOk` false where J_f is not finite there (wire
 * "jac_finite": the arrays carry zeros in its place).
 */
export function hoverText(J, z, x, det, jacOk = true) {
  if (!jacOk) { // Python zeroes a non-finite J on the wire; jac_finite says so (z1^(1/3) at z1 = 0)
    return [
      `at z = (${f(z[0])}, ${f(z[1])})`, `   x = f(z) = (${f(x[0])}, ${f(x[1])})`, "",
      "J_f(z): non-finite (f is not differentiable here)", "",
      "J_{f\u207b\u00b9}(x): non-finite", "", "det J_f(z) = non-finite",
    ].join("\n");
  }
  const Ji = inv2(J, 1e-12, det);
  return [
    `at z = (${f(z[0])}, ${f(z[1])})`, `   x = f(z) = (${f(x[0])}, ${f(x[1])})`, "",
    "J_f(z)", matrixText(J), "",
    "J_{f\u207b\u00b9}(x) = J_f(z)\u207b\u00b9", Ji ? matrixText(Ji) : "does not exist (det = 0)", "",
    // det J_{f^-1}(x) = 1 / det J_f(z) from Python's float64 det (det2 of the inverse's float32-derived
    // entries would bring back the cancellation: 1.0001 z1 + z2, z1 + z2 read 9.9983e-5 for 1e-4)
    `det J_f(z) = ${f(det)}`,
    `det J_{f\u207b\u00b9}(x) = ${Ji ? f(1 / det) : "\u2014"}`,
    `orientation: ${orientation(det, J)}`,
  ].join("\n");
}

/**
 * det J_f at a vertex: Python's float64 det as sent (`sent`; det2 of the float32 J without it). A det below
 * float32's range (1e-30 I: det 1e-60) arrives as +-0: then its log-det (float32 holds -138) gives it, with the
 * sign of the zero, where the wire flags the vertex's density finite (`densityFinite`: a singular vertex's
 * log-det, -inf, is sent as 0 and flagged).
 */
export function vertexDet(sent, J, logdet, densityFinite) {
  const det = sent ?? det2(J);
  if (det === 0 && densityFinite && Number.isFinite(logdet)) return (Object.is(det, -0) ? -1 : 1) * Math.exp(logdet);
  return det;
}

export function renderLens({ model, el, signal }) {
  const { alive, val, save, listen, requestDraw, followTheme, onCleanup, cleanup } =
    mountView({ model, el, signal }, { classes: ["flowviz-lens"], css: CSS + LENS_CSS, frame });
  const S = { scene: null, sceneSerial: 0, extra: {}, error: null, dirty: true, pointer: null, hoverV: -1, frame: 0, version: undefined };
  let theme, themeSerial = 0;
  // what a renderer canvas's picture depends on besides its size (panel.drawBase redraws only when it changes)
  const baseKey = (...parts) => [themeSerial, ...parts].join("|");
  const viewKey = (tr) => { const v = tr.view, p = tr.plot; return `${v.x0},${v.x1},${v.y0},${v.y1},${p.left},${p.top},${p.width},${p.height}`; };
  const BLANK = { mesh: null, points: null, show: { density: false, grid: false, points: false } };

  const bar = document.createElement("div");
  bar.className = "fv-lens-bar";
  const label = document.createElement("span");
  label.textContent = "x = f(z) =";
  const input = document.createElement("input");
  input.className = "fv-lens-text";
  input.type = "text";
  input.spellcheck = false;
  input.setAttribute("aria-label", "map in z1, z2: two comma-separated expressions");
  input.value = val("text", "");
  const apply = document.createElement("button");
  apply.className = "fv-lens-btn fv-lens-apply";
  apply.textContent = "apply";
  const modeSel = document.createElement("select");
  modeSel.className = "fv-lens-mode";
  for (const [v, t] of [["2d", "2D map"], ["3d", "3\u00d73 volume"]]) {
    const o = document.createElement("option"); o.value = v; o.textContent = t; modeSel.append(o);
  }
  modeSel.value = val("mode", "2d");
  bar.append(label, input, apply, modeSel);
  const errEl = document.createElement("div");
  errEl.className = "fv-lens-error";
  errEl.setAttribute("role", "alert");

  const main = document.createElement("div");
  main.className = "fv-main";
  const panelsEl = document.createElement("div");
  panelsEl.className = "fv-panels";
  const side = document.createElement("div");
  side.className = "fv-side";
  const info = document.createElement("div");
  info.className = "fv-readout fv-lens-info";
  const hover = document.createElement("div");
  hover.className = "fv-readout fv-lens-hover";
  hover.textContent = "Hover the grid: the local Jacobian J_f(z), its inverse and det at that point.";
  const m3 = document.createElement("div");
  m3.className = "fv-lens-m3";
  side.append(info, m3, hover);
  main.append(panelsEl, side);
  el.append(bar, errEl, main);

  const prefer = val("renderer", globalThis.FLOWVIZ_RENDERER || "auto");
  const mk = (which) => {
    const p = createPanel({ prefer, onChange: requestDraw });
    p.which = which;
    p.overlay.addEventListener("pointermove", (e) => { const r = p.overlay.getBoundingClientRect(); S.pointer = { p, x: e.clientX - r.left, y: e.clientY - r.top }; requestDraw(); }, { signal: alive });
    p.overlay.addEventListener("pointerleave", () => { S.pointer = null; requestDraw(); }, { signal: alive });
    panelsEl.append(p.el);
    return p;
  };
  const px = mk("x"), ph = mk("h");
  const banner = createBanner(panelsEl);
  el.dataset.renderer = px.renderer?.kind || "none";
  onCleanup(() => { px.destroy(); ph.destroy(); });

  const m3Inputs = [];
  for (let i = 0; i < 9; i++) {
    const inp = document.createElement("input");
    inp.type = "number"; inp.step = "0.1"; inp.dataset.index = String(i);
    inp.addEventListener("change", () => {
      // an empty or unreadable cell ("", "1e-": a number input reports "") is refused and marked, not read as 0
      const bad = m3Inputs.filter((q) => String(q.value).trim() === "" || q.validity?.badInput || !Number.isFinite(+q.value));
      for (const q of m3Inputs) q.classList?.toggle("fv-bad-input", bad.includes(q));
      if (bad.length) return;
      save({ matrix3: m3Inputs.map((q) => +q.value) });
    }, { signal: alive });
    m3Inputs.push(inp); m3.append(inp);
  }

  // the typed map is parsed and compiled in Python: nothing can apply it in a static export
  if (val("static", false)) for (const q of [input, apply]) { q.disabled = true; q.title = NEEDS_KERNEL; }

  // the text box's value as last set from the model (or submitted): a text Python sets while the box has the
  // focus is not written over what is being typed, but it is taken on blur if the box was not edited meanwhile
  let synced = input.value;
  const setFromModel = () => { input.value = val("text", ""); synced = input.value; };
  function submit() { save({ text: input.value }); el.dataset.pendingText = input.value; synced = input.value; }
  apply.addEventListener("click", submit, { signal: alive });
  input.addEventListener("blur", () => { if (input.value === synced && input.value !== val("text", "")) setFromModel(); },
    { signal: alive });
  input.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); submit(); } e.stopPropagation(); }, { signal: alive });
  modeSel.addEventListener("change", () => { save({ mode: modeSel.value }); requestDraw(); }, { signal: alive });

  listen({
    "change:arrays": () => { S.dirty = true; requestDraw(); },
    "change:meta": () => { S.dirty = true; requestDraw(); },
    "change:text": () => { if (document.activeElement !== input) setFromModel(); },
    "change:error": () => requestDraw(),
    "change:mode": () => { modeSel.value = val("mode", "2d"); requestDraw(); },
    "change:three": () => requestDraw(),
    "change:matrix3": () => requestDraw(),
  });

  function rebuild() {
    S.dirty = false;
    const meta = val("meta", {});
    try {
      const arrays = model.get("arrays") || {};
      S.scene = buildScene(arrays, meta);
      S.sceneSerial++;
      if (S.scene && arrays.folded) { // the lens's own fold flags (an orientation-reversing map is not a fold)
        const dec = (n) => (arrays[n] ? decodeArray(arrays[n], n).data : null);
        S.scene.topo = new MeshTopology(S.scene.gx, S.scene.gy, dec("mesh"), dec("logp"), dec("finite"), dec("jac"), dec("folded"),
          dec("placed"));
      }
      if (document.activeElement !== input && !input.value) { input.value = val("text", "") || meta.text || ""; synced = input.value; }
      S.extra = {};
      for (const n of ["square", "square_image", "hist", "formula", "det", "jac_finite"]) {
        if (arrays[n]) S.extra[n] = decodeArray(arrays[n], n);
      }
      S.error = null;
    } catch (err) {
      console.error(err);
      S.scene = null;
      S.sceneSerial++;
      S.error = err.message || String(err);
    }
    if (meta.version !== S.version) { S.version = meta.version; el.dataset.version = String(meta.version ?? ""); }
    S.hoverV = -1;
    el.dataset.hoverDet = "";
  }

  // requestDraw schedules frame, one at a time
  function frame() {
    if (S.dirty) rebuild();
    draw();
  }

  function infoText(meta) {
    if (!meta || !meta.matrix) return "";
    const J = flat2(meta.matrix), Ji = flat2(meta.jinv), P = flat2(meta.product);
    const where = meta.linear ? "" : "  (at z = 0; hover for other points)";
    const lines = [
      `x = f(z) = (${meta.text})`, "",
      `J_f${where}`, mt(J), "",
      "J_{f\u207b\u00b9} = J_f\u207b\u00b9", mt(Ji), "",
      "J_f J_{f\u207b\u00b9}", P ? matrixText(P) : "does not exist", "",
      `det J_f      = ${f(meta.det)}`,
      `1/det J_{f\u207b\u00b9} = ${meta.det_inv ? f(1 / meta.det_inv) : "\u2014 (no inverse)"}`,
      `det J_{f\u207b\u00b9}   = ${meta.det_inv != null ? f(meta.det_inv) : "\u2014"}`,
      `orientation: ${orientationWord(meta.orientation)}`, // Python's, from the float64 J
    ];
    return lines.join("\n");
  }

  function draw() {
    const meta = val("meta", {});
    const mode = val("mode", "2d");
    const sc = S.scene;
    const err = val("error", "");
    errEl.textContent = err ? `cannot use this map: ${err} (the previous map is still shown)` : "";
    el.dataset.error = err ? "1" : "";
    m3.hidden = mode !== "3d";
    ph.el.hidden = false;
    if (mode === "3d") { drawThree(); return; }
    info.textContent = infoText(meta);
    for (const p of [px, ph]) {
      if (!p.cssW || deviceRatio() !== p.dpr) p.measure();
    }
    // main panel: deformed grid coloured by log p, unit square and its image, hover
    const plot = layoutPlot(px.cssW, px.cssH, theme, { colorbar: !!sc });
    const bounds = sc ? [Math.min(sc.xBounds[0], -0.2), Math.max(sc.xBounds[1], 1.2), Math.min(sc.xBounds[2], -0.2), Math.max(sc.xBounds[3], 1.2)] : null;
    px.tr = makeTransform(fitView(bounds, plot.width, plot.height), plot);
    const vw = px.tr.view; // data units shown, and where (CSS px in the overlay), as the player's panels say
    px.el.dataset.view = `${vw.x0},${vw.x1},${vw.y0},${vw.y1}`;
    px.el.dataset.plot = `${plot.left},${plot.top},${plot.width},${plot.height}`;
    const fr = { dpr: px.dpr, plot, view: px.tr.view, style: theme, range: sc ? sc.range : [0, 1], mesh: null, points: null,
      show: { density: true, grid: true, points: false } };
    let hov = null;
    if (sc) {
      if (px.lutVersion !== S.version) { px.renderer.setLut(sc.lutBytes); px.lutVersion = S.version; }
      fr.mesh = sc.mesh.state(1);
      fr.values = sc.logp.state(1);
      fr.idx = sc.topo.indices(1, 1, 1);
      fr.points = sc.points.state(1);
      hov = updateHover(sc);
    }
    if (px.drawBase(baseKey("main", S.sceneSerial, viewKey(px.tr)), () => px.renderer.draw(fr))) {
      el.dataset.canvasDraws = String((+el.dataset.canvasDraws || 0) + 1); // the main panel's renderer frames
    }
    drawOverlay(px.overlay, {
      dpr: px.dpr, theme, plot, tr: px.tr, axes: ["x\u2081", "x\u2082"],
      title: sc ? `x = f(z): grid coloured by log p(x)` : "x = f(z)",
      caption: "dashed: unit square; filled: its image f(square). Colour: log \u03c0(z) \u2212 log|det J_f(z)|.",
      colorbar: sc ? { colors: sc.lutCss, lo: sc.range[0], hi: sc.range[1] } : null,
      hover: hov,
    });
    drawSquares(px);
    drawHist(ph, meta);
    let text = "", level = "error";
    if (S.error) text = `cannot show this map \u2014 ${S.error}`;
    else if (!sc) { text = "waiting for data from the kernel\u2026"; level = "info"; }
    else if (meta.status === "not invertible") text = `not invertible \u2014 ${meta.message || ""}`;
    else if (meta.status && meta.status !== "ok") text = statusText(meta);
    else if (meta.message) { text = meta.message; level = "info"; } // e.g. vertices beyond float32 (not drawn)
    banner.set(text, level);
    if (text) banner.place(px.el, plot); // over the plot, not its colour bar or the histogram
    el.dataset.status = sc ? meta.status || "ok" : "";
    el.dataset.frame = String(++S.frame);
  }

  function updateHover(sc) {
    const ptr = S.pointer;
    if (!ptr || ptr.p !== px || !px.tr.inside(ptr.x, ptr.y)) return null;
    const hit = sc.vertexAt(1, px.tr.x(ptr.x), px.tr.y(ptr.y), (14 * theme.scale) / px.tr.sx);
    const v = hit.index;
    if (v < 0) return null;
    const J = Array.from(sc.readoutSource.jac.subarray(v * 4, v * 4 + 4));
    const z = Array.from(sc.mesh.state(0).subarray(2 * v, 2 * v + 2)), x = Array.from(sc.mesh.state(1).subarray(2 * v, 2 * v + 2));
    // det J_f as Python computed it in float64 (its sign and size, where det2 of the float32 J is rounding noise)
    const src = sc.readoutSource;
    const det = vertexDet(S.extra.det ? S.extra.det.data[v] : null, J, src.logdet ? src.logdet[v] : NaN,
      !src.finite || src.finite[sc.V + v] !== 0);
    const jacOk = S.extra.jac_finite ? S.extra.jac_finite.data[v] !== 0 : true;
    if (v !== S.hoverV) {
      S.hoverV = v;
      hover.textContent = hoverText(J, z, x, det, jacOk);
      el.dataset.hoverDet = String(det);
      el.dataset.hoverVertex = String(v);
    }
    return hoverShapes(sc, 1, v, 1, (10 * theme.scale) / px.tr.sx);
  }

  function poly(ctx, tr, pts) {
    ctx.beginPath();
    pts.forEach(([x, y], i) => (i ? ctx.lineTo(tr.px(x), tr.py(y)) : ctx.moveTo(tr.px(x), tr.py(y))));
    ctx.closePath();
  }
  const pairs = (a) => { const out = []; for (let i = 0; i + 1 < a.data.length; i += 2) out.push([a.data[i], a.data[i + 1]]); return out; };

  function drawSquares(p) {
    const { square, square_image: img } = S.extra;
    if (!square || !img) return;
    const ctx = p.overlay.getContext("2d");
    ctx.save();
    ctx.setTransform(p.dpr, 0, 0, p.dpr, 0, 0);
    const pl = p.tr.plot;
    ctx.beginPath(); ctx.rect(pl.left, pl.top, pl.width, pl.height); ctx.clip();
    const lw = theme.lineWidth;
    poly(ctx, p.tr, pairs(img));
    ctx.fillStyle = "rgba(255,140,0,0.30)"; ctx.fill();
    ctx.lineWidth = 2.2 * lw; ctx.strokeStyle = "rgb(255,140,0)"; ctx.stroke();
    poly(ctx, p.tr, pairs(square));
    ctx.setLineDash([5 * lw, 4 * lw]); ctx.lineWidth = 1.6 * lw; ctx.strokeStyle = "rgba(255,255,255,0.95)"; ctx.stroke();
    ctx.setLineDash([]);
    ctx.restore();
  }

  function drawHist(p, meta) {
    const H = S.extra.hist, ext = meta.hist_extent;
    const plot = layoutPlot(p.cssW, p.cssH, theme, { colorbar: false });
    p.tr = makeTransform(fitView(ext || [-3, 3, -3, 3], plot.width, plot.height), plot);
    p.drawBase(baseKey("blank", viewKey(p.tr)), () => p.renderer.draw({ dpr: p.dpr, plot, view: p.tr.view, style: theme, range: [0, 1], ...BLANK }));
    drawOverlay(p.overlay, { dpr: p.dpr, theme, plot, tr: p.tr, axes: ["x\u2081", "x\u2082"],
      title: `histogram of ${meta.n_samples || ""} pushed samples f(z\u1d62)`,
      caption: meta.linear ? "contours: p(x) = \u03c0(J_f\u207b\u00b9x) |det J_{f\u207b\u00b9}| (the formula)" : "same colour scale as the density panel (log p)" });
    if (!H || !ext || !S.scene) return;
    const [B0, B1] = H.shape;
    const ctx = p.overlay.getContext("2d");
    ctx.save();
    ctx.setTransform(p.dpr, 0, 0, p.dpr, 0, 0);
    const [lo, hi] = S.scene.range;
    const colors = S.scene.lutCss;
    const bw = (ext[1] - ext[0]) / B1, bh = (ext[3] - ext[2]) / B0;
    for (let r = 0; r < B0; r++) {
      for (let c = 0; c < B1; c++) {
        const d = H.data[r * B1 + c];
        if (!(d > 0)) continue;
        const t = Math.min(255, Math.max(0, Math.round(((Math.log(d) - lo) / (hi - lo)) * 255)));
        ctx.fillStyle = colors[t];
        const x0 = p.tr.px(ext[0] + c * bw), y0 = p.tr.py(ext[2] + (r + 1) * bh);
        ctx.fillRect(x0, y0, p.tr.px(ext[0] + (c + 1) * bw) - x0 + 0.5, p.tr.py(ext[2] + r * bh) - y0 + 0.5);
      }
    }
    const F = S.extra.formula;
    if (F) { // formula contours: mark cells where p crosses a few levels
      const levels = [0.25, 0.5, 0.75].map((q) => q * Math.max(...F.data));
      ctx.fillStyle = "rgba(255,255,255,0.9)";
      for (let r = 0; r + 1 < B0; r++) for (let c = 0; c + 1 < B1; c++) {
        const a = F.data[r * B1 + c], b = F.data[r * B1 + c + 1], d = F.data[(r + 1) * B1 + c];
        for (const L of levels) if ((a - L) * (b - L) < 0 || (a - L) * (d - L) < 0) {
          ctx.fillRect(p.tr.px(ext[0] + (c + 1) * bw) - 1, p.tr.py(ext[2] + (r + 1) * bh) - 1, 2, 2);
        }
      }
    }
    ctx.restore();
  }

  function drawThree() {
    const T = val("three", {});
    ph.el.hidden = true;
    if (!px.cssW || deviceRatio() !== px.dpr) px.measure();
    // the entries as typed (the matrix3 trait, set here at once) are what is drawn and summed, so a static
    // page without a kernel follows them too; Python's det is shown once it has the same matrix
    const typed = val("matrix3", null);
    const M = Array.isArray(typed) && typed.length === 9 && typed.every(Number.isFinite)
      ? [typed.slice(0, 3), typed.slice(3, 6), typed.slice(6, 9)] : T.matrix || [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
    const flat = M.flat();
    m3Inputs.forEach((inp, i) => { if (document.activeElement !== inp) inp.value = String(flat[i]); });
    const terms = sixTerms(M);
    const sum = terms.reduce((s, t) => s + t.value, 0);
    const flattened = flat3(terms.map((t) => t.value), sum); // zero up to the rounding of its six terms
    const pyCurrent = Array.isArray(T.matrix) && T.matrix.flat().every((v, i) => v === flat[i]);
    // a flat M (det 0 up to the rounding of its terms) reads 0, with the rounding residue beside it: the terms as
    // shown add up to 0, and the residue's sign (Python's LU may leave the other one) means nothing
    const zeroish = (x) => (flattened ? `0 (up to rounding: ${f(x)})` : f(x));
    const pyDet = pyCurrent ? (T.det == null ? f(T.det) : zeroish(T.det))
      : val("static", false) ? "\u2014 (needs a running kernel)" : "\u2026 (computing)";
    info.textContent = [
      "det M = volume of the parallelepiped M[0,1]\u00b3", "(signed; columns of M = images of e\u2081, e\u2082, e\u2083)", "",
      ...terms.map((t) => `${t.label.padEnd(14)} = ${f(t.value)}`),
      "", `sum (six terms) = ${zeroish(sum)}`, `det (Python)    = ${pyDet}`,
    ].join("\n");
    el.dataset.det3 = String(sum);
    el.dataset.terms3 = JSON.stringify(terms.map((t) => ({ label: t.label, value: t.value })));
    el.dataset.det3Python = pyCurrent ? String(T.det ?? "") : "";
    hover.textContent = "";
    S.hoverV = -1; // back in 2D mode, the vertex under the pointer writes its readout again
    const cube = cubeImage([[1, 0, 0], [0, 1, 0], [0, 0, 1]]).map((q) => project(q));
    const img = cubeImage(M).map((q) => project(q));
    const all = [...cube, ...img];
    const b = [Math.min(...all.map((q) => q[0])), Math.max(...all.map((q) => q[0])), Math.min(...all.map((q) => q[1])), Math.max(...all.map((q) => q[1]))];
    const pad = 0.1 * Math.max(b[1] - b[0], b[3] - b[2], 1);
    const plot = layoutPlot(px.cssW, px.cssH, theme, { colorbar: false });
    px.tr = makeTransform(fitView([b[0] - pad, b[1] + pad, b[2] - pad, b[3] + pad], plot.width, plot.height), plot);
    px.el.dataset.plot = `${plot.left},${plot.top},${plot.width},${plot.height}`; // (the 2D view's too)
    delete px.el.dataset.view; // projected units, not data: no pointer maths on them
    px.drawBase(baseKey("blank", viewKey(px.tr)), () => px.renderer.draw({ dpr: px.dpr, plot, view: px.tr.view, style: theme, range: [0, 1], ...BLANK }));
    drawOverlay(px.overlay, { dpr: px.dpr, theme, plot, tr: px.tr, axes: ["", ""],
      title: `unit cube (dashed) and its image: volume |det M| = ${flattened ? "0" : f(Math.abs(sum))}`,
      caption: `cabinet projection; det M = ${flattened ? "0 (up to rounding)" : f(sum)}${!flattened && sum < 0 ? " < 0: orientation reversed" : ""}` });
    const ctx = px.overlay.getContext("2d");
    ctx.save();
    ctx.setTransform(px.dpr, 0, 0, px.dpr, 0, 0);
    const edge = (P, color, dash) => {
      ctx.setLineDash(dash); ctx.strokeStyle = color; ctx.lineWidth = 2 * theme.lineWidth;
      for (const [i, j] of CUBE_EDGES) { ctx.beginPath(); ctx.moveTo(px.tr.px(P[i][0]), px.tr.py(P[i][1])); ctx.lineTo(px.tr.px(P[j][0]), px.tr.py(P[j][1])); ctx.stroke(); }
    };
    edge(cube, theme.css(theme.muted), [5, 4]);
    edge(img, "rgb(255,140,0)", []);
    ctx.setLineDash([]);
    ctx.restore();
    banner.set(flattened ? "not invertible \u2014 det M = 0: the cube is flattened" : "", "error");
    banner.place(px.el, plot);
    el.dataset.frame = String(++S.frame);
  }

  followTheme((t) => { theme = t; themeSerial++; });
  requestDraw();
  return cleanup;
}

export default { initialize() {}, render: renderLens };
