// view.js: the LikelihoodSplit view (anywidget front-end module). Three panels: the data points
// coloured by term 1 = log pi(c z), by term 2 = log|det J_{G^-1}(x)| + d log c, and the averages of
// both and their sum against c (log scale) with the current c marked. The shrink slider is local and
// continuous: both terms at any c come from z and logdet (exact for the standard normal and uniform bases;
// term 1 interpolated in log c on Python's grid otherwise, and the readout says so); the chosen c is written
// back to the `c` trait (debounced). A term that is -inf (c z outside the base's support: pi(c z) = 0) is
// shown as such: its point drawn as a grey ring, counted in the readout, and every mean over it -inf. The
// means show only the digits their error bound leaves (formatWithin); the colour scales' quantiles come from
// keys sorted once per scene (prepareRanges), not from a sort every frame.

import { decodeArrays } from "../../wire.js";
import { makeTransform, fitView, niceTicks } from "../../view.js";
import { layoutPlot, drawOverlay, createBanner } from "../../overlay.js";
import { createPanel } from "../../panel.js";
import { createParamControls } from "../../controls.js";
import { mountView } from "../../mount.js";
import { lutIndex } from "../../colormap.js";
import { formatNumber, formatWithin } from "../../readout.js";
import { CSS } from "../../styles.js";
import { fitToSlide } from "../../slides.js";
import { averagesAtC, extent, prepareRanges, termRanges } from "./math.js";

const LIK_CSS = `
.flowviz-player.fv-lik .fv-panels { flex-wrap: wrap; }
.flowviz-player.fv-lik .fv-panel { flex: 1 1 300px; aspect-ratio: 1 / 1; }
.flowviz-player.fv-lik .fv-panel .fv-overlay { cursor: default; }
.flowviz-player.fv-lik .fv-readout { flex: 1 1 100%; }
/* on a slide (js/src/slides.js): the three panels in one row, as tall as the slide leaves room for */
.flowviz-player.fv-lik[data-slide] .fv-panels { flex-wrap: nowrap; }
.flowviz-player.fv-lik[data-slide] .fv-panel { flex: 1 1 0; max-width: var(--fv-fit-height, none); }
`;
const COLORS = { t1: [31, 119, 180, 1], t2: [214, 39, 40, 1] }; // the sum's colour follows each view's theme
const rgba = (c, a = 1) => `rgba(${c[0]},${c[1]},${c[2]},${c[3] * a})`;
const RING = "rgba(128,128,128,1)"; // a point whose term is not finite: a grey ring, off the colour scale

export function renderLikelihood({ model, el, signal }) {
  const { alive, val, save, listen, requestDraw, followTheme, onCleanup, cleanup } =
    mountView({ model, el, signal }, { classes: ["fv-lik"], css: CSS + LIK_CSS, frame });
  const S = { a: null, prep: null, error: "", c: +val("c", 1), dirty: true, version: undefined, frame: 0, lastSync: 0, timer: 0 };
  let theme, totalColor = [44, 44, 44, 1]; // the sum curve: dark on a light page, light on a dark one

  /** c clamped to the range Python offers ([meta.c_min, 1]; the grid's ends if c_min is missing). */
  function clampC(c) {
    const meta = val("meta", {});
    const lo = Number.isFinite(meta.c_min) && meta.c_min > 0 ? meta.c_min : S.a ? S.a.cs[0] : 1e-3;
    return Math.min(Math.max(c, lo), 1);
  }
  const params = createParamControls((id, value) => {
    if (id !== "log10_c" || !S.a) return;
    S.c = clampC(10 ** value);
    clearTimeout(S.timer);
    S.timer = setTimeout(() => { S.timer = 0; save({ c: S.c }); }, 120);
    requestDraw();
  }, { kernel: !val("static", false) });
  const panelsEl = document.createElement("div");
  panelsEl.className = "fv-panels";
  const readoutEl = document.createElement("div");
  readoutEl.className = "fv-readout";
  const main = document.createElement("div");
  main.className = "fv-main";
  main.append(panelsEl, readoutEl);
  el.append(params.el, main);
  fitToSlide(el, panelsEl, { signal: alive }); // on a Reveal.js slide: the panels shrink so that the view fits
  const panels = ["t1", "t2", "avg"].map((which) => {
    const p = createPanel({ prefer: "canvas2d", onChange: () => requestDraw() });
    p.which = which;
    panelsEl.append(p.el);
    return p;
  });
  const banner = createBanner(panelsEl);
  onCleanup(() => {
    clearTimeout(S.timer);
    if (S.timer) { S.timer = 0; save({ c: S.c }); } // the last c moved is written, even if the view goes now
    for (const p of panels) p.destroy();
  });

  function rebuild() {
    S.dirty = false;
    const meta = val("meta", {});
    try {
      const d = decodeArrays(model.get("arrays") || {});
      // term 1 is computed here from z for the bases with a closed form; the grid `term1` comes only for others
      const family = meta.base_family;
      const need = ["x", "cs", "logdet", "mean1", "mean2", "mean_total",
        ...(family === "standard_normal" || family === "uniform" ? ["z"] : ["term1"])];
      for (const k of need) if (!d[k]) throw new Error(`missing array "${k}"`);
      if (family === "uniform" && !(meta.support && meta.support.low && meta.support.high)) throw new Error("missing meta.support");
      const a = {};
      for (const [k, v] of Object.entries(d)) a[k] = v.data;
      a.N = a.logdet.length;
      a.lut = d.lut ? d.lut.data : null;
      S.a = a;
      S.prep = prepareRanges(a, meta.dim || 2, family); // once per scene: the colour scales' sorted keys
      S.error = "";
    } catch (err) {
      if (model.get("arrays") && Object.keys(model.get("arrays")).length) console.error(err);
      S.a = null;
      S.prep = null;
      S.error = model.get("arrays") && Object.keys(model.get("arrays")).length ? err.message || String(err) : "";
    }
    if (meta.version !== S.version) { S.version = meta.version; el.dataset.version = String(meta.version ?? ""); }
    updateParams();
  }
  function updateParams() {
    params.update(val("controls", []), { log10_c: Math.log10(S.c) }, []);
  }

  listen({
    "change:arrays": () => { S.dirty = true; requestDraw(); },
    "change:meta": () => { S.dirty = true; requestDraw(); },
    "change:controls": updateParams,
    "change:c": () => {
      const c = +model.get("c");
      if (c > 0 && c !== S.c) { S.c = c; updateParams(); requestDraw(); }
    },
  });

  // requestDraw schedules frame, one at a time
  function frame() {
    if (S.dirty) rebuild();
    draw();
  }

  function draw() {
    const meta = val("meta", {});
    const a = S.a, dim = meta.dim || 2;
    const av = a && a.cs.length ? averagesAtC(a, S.c, dim, meta.base_family, meta.support) : null;
    const terms = av ? av.terms : null;
    const ranges = terms ? termRanges(terms, dim, meta.base_family, S.prep, meta.support) : null;
    for (const p of panels) {
      if (!p.cssW) p.measure();
      if (p.which === "avg") drawAverages(p, meta, a, av);
      else drawScatter(p, meta, a, terms, ranges ? ranges[p.which === "t1" ? 0 : 1] : null);
    }
    showReadout(meta, av);
    const status = meta.status || "ok";
    let text = "", level = "error";
    if (S.error) text = `cannot show this state \u2014 ${S.error}`;
    else if (status !== "ok") text = meta.message ? `${status} \u2014 ${meta.message}` : status;
    else if (!a) { text = "waiting for data from the kernel\u2026"; level = "info"; }
    banner.set(text, level);
    el.dataset.status = status;
    el.dataset.frame = String(++S.frame);
    el.dataset.c = av ? String(av.c) : "";
    const fin = (v) => (Number.isFinite(v) ? v : null);
    el.dataset.readout = av ? JSON.stringify({ c: av.c, mean1: fin(av.mean1), mean2: fin(av.mean2), total: fin(av.total),
      dlogc: fin(av.dlogc), logPi0: fin(meta.log_pi_0), exact: av.exact, err1: fin(av.err1), err2: fin(av.err2),
      errTotal: fin(av.errTotal), ninf1: av.nonfinite1.ninf, nbad1: av.nonfinite1.nbad }) : "";
  }

  function drawColorbar(ctx, plot, lo, hi, label) {
    const fs = theme.fontSize, x = plot.left + plot.width + fs * 0.9, w = fs * 0.9, y0 = plot.top, h = plot.height;
    const lut = S.a.lut;
    for (let i = 0; i < 64; i++) {
      const k = Math.round((i / 63) * 255);
      ctx.fillStyle = lut ? `rgb(${255 * lut[3 * k]},${255 * lut[3 * k + 1]},${255 * lut[3 * k + 2]})` : `hsl(${240 - k},60%,50%)`;
      ctx.fillRect(x, y0 + h * (1 - (i + 1) / 64), w, h / 64 + 1);
    }
    ctx.fillStyle = theme.css(theme.muted);
    ctx.font = `${fs * 0.85}px ${theme.font}`;
    ctx.textAlign = "left";
    for (const t of niceTicks(lo, hi, 4)) ctx.fillText(formatNumber(t), x + w + 3, y0 + h * (1 - (t - lo) / (hi - lo)) + fs * 0.3);
    ctx.textAlign = "center";
    ctx.fillText(label, x + w / 2, y0 - fs * 0.5);
  }

  function drawScatter(p, meta, a, terms, range) {
    const isT1 = p.which === "t1";
    const plot = layoutPlot(p.cssW, p.cssH, theme, { colorbar: true, caption: true });
    p.tr = makeTransform(fitView(meta.bounds, plot.width, plot.height), plot);
    const title = isT1 ? "term 1: log \u03c0(c\u00b7G\u207b\u00b9(x))" : "term 2: log|det J_{G\u207b\u00b9}(x)| + d log c";
    const caption = isT1 ? "Each data point x coloured by term 1 at the current c (inverse: data \u2192 base)."
      : "Each data point x coloured by term 2 (the volume term) at the current c.";
    drawOverlay(p.overlay, { dpr: p.dpr, theme, plot, tr: p.tr, axes: ["x\u2081", "x\u2082"], title, caption,
      colorbar: null, hover: null, brush: null });
    if (!a || !terms || !range) return;
    const vals = isT1 ? terms.t1 : terms.t2;
    const [lo, hi] = range;
    p.el.dataset.range = `${lo},${hi}`; // the colour scale's ends, in the term's units
    const ctx = p.overlay.getContext("2d");
    ctx.save();
    ctx.beginPath();
    ctx.rect(p.tr.plot.left, p.tr.plot.top, p.tr.plot.width, p.tr.plot.height);
    ctx.clip();
    const r = Math.max(1.5, 1.6 * theme.scale);
    let off = 0; // points whose term is not finite (term 1 = -inf: c z outside the base's support)
    for (let i = 0; i < a.N; i++) {
      const k = lutIndex(vals[i], lo, hi);
      if (k < 0) { off++; continue; }
      ctx.fillStyle = a.lut ? `rgb(${255 * a.lut[3 * k]},${255 * a.lut[3 * k + 1]},${255 * a.lut[3 * k + 2]})` : "#36c";
      ctx.fillRect(p.tr.px(a.x[2 * i]) - r, p.tr.py(a.x[2 * i + 1]) - r, 2 * r, 2 * r);
    }
    if (off) { // drawn over the coloured ones, as rings: not on the colour scale
      ctx.strokeStyle = RING;
      ctx.lineWidth = Math.max(1, theme.lineWidth);
      for (let i = 0; i < a.N; i++) {
        if (Number.isFinite(vals[i])) continue;
        ctx.strokeRect(p.tr.px(a.x[2 * i]) - 1.5 * r, p.tr.py(a.x[2 * i + 1]) - 1.5 * r, 3 * r, 3 * r);
      }
    }
    p.el.dataset.nonfinite = String(off);
    ctx.restore();
    drawColorbar(ctx, plot, lo, hi, isT1 ? "term 1" : "term 2");
  }

  function drawAverages(p, meta, a, av) {
    const plot = layoutPlot(p.cssW, p.cssH, theme, { caption: true });
    const lc0 = a ? Math.log10(a.cs[0]) : -3;
    let [ylo, yhi] = a ? extent(a.mean1, a.mean2, a.mean_total, [meta.log_pi_0]) : [0, 1];
    const pad = 0.06 * (yhi - ylo || 1);
    ylo -= pad; yhi += pad;
    p.tr = makeTransform({ x0: lc0, x1: 0, y0: ylo, y1: yhi }, plot);
    drawOverlay(p.overlay, { dpr: p.dpr, theme, plot, tr: p.tr, axes: ["log\u2081\u2080 c", "average over the data"],
      title: "averages vs the shrink c", caption: "Blue: term 1 (\u2264 log \u03c0(0), dashed). Red: term 2 \u2192 \u2212\u221e. Black: their sum, log p of the shrunk model.",
      colorbar: null, hover: null, brush: null });
    if (!a) return;
    const ctx = p.overlay.getContext("2d"), tr = p.tr;
    ctx.save();
    ctx.beginPath();
    ctx.rect(plot.left, plot.top, plot.width, plot.height);
    ctx.clip();
    if (Number.isFinite(meta.log_pi_0)) {
      ctx.setLineDash([5, 4]);
      ctx.strokeStyle = rgba(COLORS.t1, 0.7);
      ctx.lineWidth = theme.lineWidth;
      ctx.beginPath();
      ctx.moveTo(plot.left, tr.py(meta.log_pi_0));
      ctx.lineTo(plot.left + plot.width, tr.py(meta.log_pi_0));
      ctx.stroke();
      ctx.setLineDash([]);
    }
    for (const [arr, col] of [[a.mean1, COLORS.t1], [a.mean2, COLORS.t2], [a.mean_total, totalColor]]) {
      ctx.beginPath();
      let pen = false; // a mean that is not finite (-inf) leaves a gap
      for (let j = 0; j < a.cs.length; j++) {
        if (!Number.isFinite(arr[j])) { pen = false; continue; }
        const X = tr.px(Math.log10(a.cs[j])), Y = tr.py(arr[j]);
        if (pen) ctx.lineTo(X, Y); else ctx.moveTo(X, Y);
        pen = true;
      }
      ctx.strokeStyle = rgba(col);
      ctx.lineWidth = 2 * theme.lineWidth;
      ctx.stroke();
    }
    if (av) {
      const X = tr.px(Math.log10(av.c));
      ctx.strokeStyle = theme.css(theme.accent);
      ctx.lineWidth = 1.5 * theme.lineWidth;
      ctx.beginPath();
      ctx.moveTo(X, plot.top);
      ctx.lineTo(X, plot.top + plot.height);
      ctx.stroke();
      for (const [v, col] of [[av.mean1, COLORS.t1], [av.mean2, COLORS.t2], [av.total, totalColor]]) {
        const s = 4 * theme.lineWidth;
        ctx.beginPath();
        if (Number.isFinite(v)) ctx.arc(X, tr.py(v), s, 0, 2 * Math.PI);
        else { // -inf: a triangle on the lower edge, pointing down
          const Y = plot.top + plot.height - s;
          ctx.moveTo(X - s, Y - s);
          ctx.lineTo(X + s, Y - s);
          ctx.lineTo(X, Y + s);
          ctx.closePath();
        }
        ctx.fillStyle = rgba(col);
        ctx.fill();
      }
    }
    ctx.restore();
  }

  function showReadout(meta, av) {
    if (!av) { readoutEl.textContent = ""; return; }
    const d = meta.dim || 2;
    const how = av.exact ? (meta.base_family === "uniform" ? "exact: log \u03c0 inside the box, \u2212inf outside"
      : "exact: \u2212c\u00b2|z|\u00b2/2 \u2212 (d/2) log 2\u03c0")
      : `interpolated in log c between the grid values c = ${formatNumber(S.a.cs[av.j])} and ${formatNumber(S.a.cs[av.j + 1])}`;
    // each mean with the digits its error bound leaves (the float32 wire's rounding of z, logdet and the grid,
    // carried through the sums here); a mean that is not finite reads "-inf (non-finite)"
    const rows = [
      ["shrink c", `${formatNumber(av.c)}   (G_c\u207b\u00b9(x) = c\u00b7G\u207b\u00b9(x); c = 1 is the flow)`],
      ["mean term 1 = log \u03c0(c z)", `${formatWithin(av.mean1, av.err1)}   (bound log \u03c0(0) = ${formatNumber(meta.log_pi_0 ?? -Infinity)}; ${how})`],
      ["mean term 2 = log|det J| + d log c", `${formatWithin(av.mean2, av.err2)}   (d log c = ${d}\u00b7log c = ${formatNumber(av.dlogc)} \u2192 \u2212\u221e as c \u2192 0)`],
      ["mean log p = term 1 + term 2", formatWithin(av.total, av.errTotal)],
    ];
    const { ninf, nbad } = av.nonfinite1;
    if (ninf || nbad) {
      const what = [ninf ? `${ninf} with term 1 = \u2212inf (c z outside the support of ${meta.base || "the base"})` : "",
        nbad ? `${nbad} with term 1 NaN or +inf` : ""].filter(Boolean).join(", ");
      rows.push(["points off the colour scale", `${what}, of ${S.a.N}: drawn as grey rings`]);
    }
    const table = document.createElement("table");
    for (const [k, v] of rows) {
      const tr = table.insertRow();
      tr.insertCell().textContent = k;
      tr.insertCell().textContent = v;
    }
    const head = document.createElement("div");
    head.className = "fv-h";
    head.textContent = "log p(x) = log \u03c0(G\u207b\u00b9(x)) + log|det J_{G\u207b\u00b9}(x)|   (inverse: data \u2192 base)";
    readoutEl.replaceChildren(head, table);
  }

  followTheme((t) => {
    theme = t;
    totalColor = t.dark ? [230, 230, 230, 1] : [44, 44, 44, 1];
  });
  updateParams();
  requestDraw();
  return cleanup;
}
