// view.js: the ChangeOfVariables1D view (anywidget front-end module): pi(z) and p(x) with
// histograms of pushed samples, a draggable strip [z', z' + dz] and its image [x', x' + dx]
// with equal shaded areas, and the strip readouts computed here: exactly in float64 from the base, map and
// parameters in meta (exact.js), the arrays being only drawn (math.js).
// Only the base/map drop-downs and parameter sliders go back to Python; strip_z / strip_dz are
// written on release.

import { decodeArrays } from "../../wire.js";
import { makeTransform } from "../../view.js";
import { layoutPlot, drawOverlay, createBanner } from "../../overlay.js";
import { createPanel, deviceRatio } from "../../panel.js";
import { createParamControls } from "../../controls.js";
import { mountView } from "../../mount.js";
import { formatNumber } from "../../readout.js";
import { CSS } from "../../styles.js";
import { fitToSlide } from "../../slides.js";
import { stripReadout, clampStrip, zOfX, interp1 as interpAt } from "./math.js";
import { exactModel } from "./exact.js";

export const COV_CSS = `
.flowviz-player.fv-cov1d .fv-panel { aspect-ratio: 1.25 / 1; }
.flowviz-player.fv-cov1d .fv-panel .fv-overlay { cursor: ew-resize; }
.flowviz-player.fv-cov1d .fv-readout { flex: 1 1 100%; }
/* on a slide (js/src/slides.js): both panels as tall as the slide leaves room for */
.flowviz-player.fv-cov1d[data-slide] .fv-panel { max-width: calc(var(--fv-fit-height, 100000px) * 1.25); }
.flowviz-player .fv-swatch { display: inline-block; width: 0.8em; height: 0.8em; border-radius: 2px; margin-right: 0.3em; vertical-align: -0.05em; }
`;
const BLUE = [31, 119, 180, 1], GREEN = [44, 160, 44, 1];
const rgba = (c, a = 1) => `rgba(${c[0]},${c[1]},${c[2]},${c[3] * a})`;

/** Finite number text or a word ("∞ (not invertible)"), never "NaN". */
export function numText(v, word = "not invertible") {
  if (Number.isFinite(v)) return formatNumber(v);
  return v === Infinity ? `\u221e (${word})` : word;
}

export function renderCov1d({ model, el, signal }) {
  const { alive, val, save, listen, requestDraw, followTheme, onCleanup, cleanup } =
    mountView({ model, el, signal }, { classes: ["fv-cov1d"], css: CSS + COV_CSS, frame });
  const S = { a: null, model: null, error: "", z0: +val("strip_z", 0.5), dz: +val("strip_dz", 0.1), drag: null, version: undefined,
    frame: 0, dirty: true, lastSync: 0 };
  let theme;

  const params = createParamControls((id, value) => {
    if (id === "dz") { S.dz = value; clampZ(); save({ strip_dz: S.dz, strip_z: S.z0 }); requestDraw(); return; }
    // the drop-downs set the `base` / `map` traits: Python recomputes and sends new arrays and sliders
    if (id === "base" || id === "map") { save({ [id]: value }); return; }
    save({ params: { ...(model.get("params") || {}), [id]: value } });
  }, { kernel: !val("static", false) });
  const panelsEl = document.createElement("div");
  panelsEl.className = "fv-panels";
  const readoutEl = document.createElement("div");
  readoutEl.className = "fv-readout";
  readoutEl.setAttribute("aria-live", "polite");
  const main = document.createElement("div");
  main.className = "fv-main";
  main.append(panelsEl, readoutEl);
  el.append(params.el, main);
  fitToSlide(el, panelsEl, { signal: alive }); // on a Reveal.js slide: the panels shrink so that the view fits
  const panels = { z: makePanel("z"), x: makePanel("x") };
  panelsEl.append(panels.z.el, panels.x.el);
  const banner = createBanner(panelsEl);
  onCleanup(() => { panels.z.destroy(); panels.x.destroy(); });

  function makePanel(which) {
    const p = createPanel({ prefer: "canvas2d", onChange: () => requestDraw() });
    p.which = which;
    const o = p.overlay;
    o.addEventListener("pointerdown", (e) => down(e, p), { signal: alive });
    o.addEventListener("pointermove", (e) => move(e, p), { signal: alive });
    o.addEventListener("pointerup", (e) => up(e, p), { signal: alive });
    // a cancelled drag (touch input often ends so) still tells Python where the strip is, as a release does
    o.addEventListener("pointercancel", (e) => up(e, p), { signal: alive });
    return p;
  }

  function clampZ() { if (S.a) S.z0 = clampStrip(S.a.z, S.z0, S.dz); }

  function rebuild() {
    S.dirty = false;
    const meta = val("meta", {});
    try {
      const d = decodeArrays(model.get("arrays") || {});
      const need = ["z", "pi", "x", "dxdz", "px"];
      for (const k of need) if (!d[k]) throw new Error(`missing array "${k}"`);
      const a = {};
      for (const [k, v] of Object.entries(d)) a[k] = v.data;
      S.a = a;
      S.model = exactModel(meta); // null for a map this page does not know: readouts from the arrays, marked ≈
      S.error = "";
      clampZ();
    } catch (err) {
      console.error(err);
      S.a = null;
      S.model = null;
      S.error = err.message || String(err);
    }
    if (meta.version !== S.version) { S.version = meta.version; el.dataset.version = String(meta.version ?? ""); }
    updateParams();
  }
  function updateParams() {
    params.update(val("controls", []), { ...val("params", {}), dz: S.dz }, []);
  }

  listen({
    "change:arrays": () => { S.dirty = true; requestDraw(); },
    "change:meta": () => { S.dirty = true; requestDraw(); },
    "change:controls": updateParams,
    "change:params": updateParams,
    // (clamped in the next frame, against the grid of whatever arrays have arrived by then: a strip_z and new
    // arrays sent together, in either order, are read together)
    "change:strip_z": () => { const v = +model.get("strip_z"); if (Number.isFinite(v) && !S.drag) { S.z0 = v; requestDraw(); } },
    "change:strip_dz": () => { const v = +model.get("strip_dz"); if (v > 0) { S.dz = v; updateParams(); requestDraw(); } },
  });

  // ---- dragging the strip (in either panel; x is mapped back through G^-1)
  const local = (e, p) => { const r = p.overlay.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; };
  function zAt(e, p) {
    const [px] = local(e, p);
    if (!p.tr) return NaN;
    const v = p.tr.x(px);
    return p.which === "z" ? v : zOfX(S.a, v);
  }
  function down(e, p) {
    if (e.button !== 0 || !S.a) return;
    const z = zAt(e, p);
    if (!Number.isFinite(z)) return;
    const inside = z >= S.z0 && z <= S.z0 + S.dz;
    S.drag = { p, offset: inside ? z - S.z0 : S.dz / 2 };
    S.z0 = z - S.drag.offset;
    clampZ();
    p.overlay.setPointerCapture?.(e.pointerId);
    requestDraw();
  }
  function move(e, p) {
    if (!S.drag || S.drag.p !== p) return;
    const z = zAt(e, p);
    if (!Number.isFinite(z)) return;
    S.z0 = z - S.drag.offset;
    clampZ();
    const now = performance.now();
    if (now - S.lastSync > 200) { S.lastSync = now; save({ strip_z: S.z0 }); }
    requestDraw();
  }
  function up(e, p) {
    if (!S.drag || S.drag.p !== p) return;
    S.drag = null;
    save({ strip_z: S.z0 });
    requestDraw();
  }

  // ---- drawing (requestDraw schedules frame, one at a time)
  function frame() {
    if (S.dirty) rebuild();
    clampZ();
    draw();
  }

  function draw() {
    const meta = val("meta", {});
    const a = S.a;
    const r = a ? stripReadout(a, S.z0, S.dz, S.model) : null;
    drawPanel(panels.z, meta, a, r);
    drawPanel(panels.x, meta, a, r);
    showReadout(meta, r);
    let text = "", level = "error";
    const status = meta.status || "ok";
    if (S.error) text = `cannot show this state \u2014 ${S.error}`;
    else if (!a) { text = "waiting for data from the kernel\u2026"; level = "info"; }
    else if (status !== "ok") text = meta.message ? `${status} \u2014 ${meta.message}` : status;
    else if (r && !r.ok) text = `${r.reason} at the strip`;
    else if (meta.message) { text = `note \u2014 ${meta.message}`; level = "info"; } // e.g. a switched map
    banner.set(text, level);
    if (text && panels.x.plot) banner.place(panels.x.el, panels.x.plot); // over the pushed density
    el.dataset.status = a ? status : "";
    el.dataset.frame = String(++S.frame);
    el.dataset.stripZ = String(S.z0);
    el.dataset.stripDz = String(S.dz);
    const fin = (v) => (Number.isFinite(v) ? v : null);
    el.dataset.readout = r ? JSON.stringify({ z: r.z, dz: r.dz, x: fin(r.x), dx: fin(r.dx), pi: fin(r.pi), dxdz: fin(r.dxdz),
      dzdx: fin(r.dzdx), px: fin(r.px), areaZ: fin(r.areaZ), areaX: fin(r.areaX), ok: r.ok, approx: r.approx }) : "";
  }

  function drawPanel(p, meta, a, r) {
    if (!p.cssW) p.measure();
    else if (deviceRatio() !== p.dpr) p.measure();
    const isZ = p.which === "z";
    const plot = layoutPlot(p.cssW, p.cssH, theme, { caption: true });
    p.plot = plot;
    const b = (isZ ? meta.z_bounds : meta.x_bounds) || [0, 1, 0, 1];
    const view = { x0: b[0], x1: b[1], y0: b[2] - 0.02 * (b[3] - b[2]), y1: b[3] };
    p.tr = makeTransform(view, plot);
    const base = meta.base_label || "\u03c0";
    const title = isZ ? `base density \u03c0(z), Z ~ ${base}` : `pushed density p(x), ${meta.formula || "x = G(z)"}`;
    const caption = isZ
      ? "Drag the blue strip [z\u2032, z\u2032 + dz]. Bars: histogram of samples z\u1d62 ~ \u03c0."
      : "Green: the image [x\u2032, x\u2032 + dx] of the strip, same area. Bars: histogram of x\u1d62 = G(z\u1d62).";
    drawOverlay(p.overlay, { dpr: p.dpr, theme, plot, tr: p.tr, axes: isZ ? ["z", "\u03c0(z)"] : ["x", "p(x)"], title, caption,
      colorbar: null, hover: null, brush: null });
    if (!a) return;
    const ctx = p.overlay.getContext("2d");
    const tr = p.tr;
    ctx.save();
    ctx.beginPath();
    ctx.rect(plot.left, plot.top, plot.width, plot.height);
    ctx.clip();
    // histogram of pushed samples
    const edges = isZ ? a.hz_edges : a.hx_edges, h = isZ ? a.hz : a.hx;
    if (edges && h) {
      ctx.fillStyle = rgba(theme.fg, 0.13);
      ctx.strokeStyle = rgba(theme.fg, 0.3);
      ctx.lineWidth = theme.lineWidth;
      for (let i = 0; i < h.length; i++) {
        if (!(h[i] > 0)) continue;
        const x0 = tr.px(edges[i]), x1 = tr.px(edges[i + 1]), y = tr.py(h[i]), y0 = tr.py(0);
        ctx.fillRect(x0, y, x1 - x0, y0 - y);
        ctx.strokeRect(x0, y, x1 - x0, y0 - y);
      }
    }
    const xs = isZ ? a.z : a.x, ys = isZ ? a.pi : a.px;
    const ok = (i) => isZ || !a.valid || a.valid[i];
    // shaded strip (blue) / image (green): the area under the curve for z in [z', z' + dz]
    if (r && (isZ || r.ok)) {
      const z0 = r.z, z1 = r.z + r.dz;
      const poly = [];
      const at = (zz) => [isZ ? zz : interpAt(a.z, a.x, zz), isZ ? interpAt(a.z, a.pi, zz) : interpAt(a.z, a.px, zz)];
      poly.push(at(z0));
      for (let i = 0; i < a.z.length; i++) if (a.z[i] > z0 && a.z[i] < z1 && ok(i)) poly.push([xs[i], ys[i]]);
      poly.push(at(z1));
      const col = isZ ? BLUE : GREEN;
      ctx.beginPath();
      ctx.moveTo(tr.px(poly[0][0]), tr.py(0));
      for (const [u, v] of poly) ctx.lineTo(tr.px(u), tr.py(v));
      ctx.lineTo(tr.px(poly[poly.length - 1][0]), tr.py(0));
      ctx.closePath();
      ctx.fillStyle = rgba(col, 0.45);
      ctx.fill();
      ctx.strokeStyle = rgba(col, 1);
      ctx.lineWidth = 1.5 * theme.lineWidth;
      ctx.stroke();
    }
    // the density curve, dropped to 0 at the ends of the grid (the uniform's steps)
    ctx.beginPath();
    let started = false, last = null;
    for (let i = 0; i < xs.length; i++) {
      if (!ok(i)) { if (started) { ctx.lineTo(tr.px(last), tr.py(0)); started = false; } continue; }
      if (!started) { ctx.moveTo(tr.px(xs[i]), tr.py(0)); started = true; }
      ctx.lineTo(tr.px(xs[i]), tr.py(ys[i]));
      last = xs[i];
    }
    if (started) ctx.lineTo(tr.px(last), tr.py(0));
    ctx.strokeStyle = rgba(theme.accent, 1);
    ctx.lineWidth = 2 * theme.lineWidth;
    ctx.stroke();
    ctx.restore();
  }

  function showReadout(meta, r) {
    if (!r) { readoutEl.textContent = ""; return; }
    // values read off the float32 arrays (no exact model for this state) are marked as approximate
    const ap = r.approx ? "\u2248 " : "";
    const num = (v, word) => (Number.isFinite(v) ? ap : "") + numText(v, word);
    const fmt = (v) => ap + formatNumber(v);
    const rows = [
      ["strip", `[z\u2032, z\u2032 + dz] = [${formatNumber(r.z)}, ${formatNumber(r.z + r.dz)}]`],
      ["image", r.ok ? `[x\u2032, x\u2032 + dx], x\u2032 = G(z\u2032) = ${fmt(r.x)}, dx = ${fmt(r.dx)}` : "not invertible"],
      ["\u03c0(z\u2032)", num(r.pi)],
      ["dx/dz = G\u2032(z\u2032)", num(r.dxdz)],
      ["|dz/dx|", num(r.dzdx)],
      ["p(x\u2032) = \u03c0(z\u2032)|dz/dx|", num(r.px)],
      ["blue area \u222b \u03c0 dz", num(r.areaZ)],
      // NaN only where p cannot be evaluated accurately at the image in float64 (exact.js massX)
      ["green area \u222b p dx", r.ok ? num(r.areaX, "not resolved in float64 at this image") : "not invertible"],
    ];
    const table = document.createElement("table");
    for (const [k, v] of rows) {
      const tr = table.insertRow();
      tr.insertCell().textContent = k;
      const c = tr.insertCell();
      c.textContent = v;
      if (/not invertible|non-finite|not resolved/.test(v)) c.className = "fv-bad";
    }
    const head = document.createElement("div");
    head.className = "fv-h";
    head.textContent = `change of variables: p(x) = \u03c0(z) |dz/dx|, z = G\u207b\u00b9(x)  (forward: base \u2192 data, ${meta.formula || "x = G(z)"})`;
    readoutEl.replaceChildren(head, table);
  }

  followTheme((t) => { theme = t; });
  updateParams();
  requestDraw();
  return cleanup;
}
