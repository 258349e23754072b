// triangular.js: the TriangularJacobian view. The heatmap of J (zeros exact and neutral), a hover
// readout of J_ij, log|det J| three ways, and the LU-vs-diagonal timing on log-log axes.
// Reuses the wire decoding, parameter controls, theme, styles, ticks and number formatting.

import { decodeArray } from "../../wire.js";
import { createParamControls, NEEDS_KERNEL } from "../../controls.js";
import { mountView } from "../../mount.js";
import { niceTicks, tickLabel } from "../../view.js";
import { formatNumber } from "../../readout.js";
import { CSS } from "../../styles.js";
import { fitToSlide } from "../../slides.js";
import { deviceRatio, watchDeviceRatio } from "../../panel.js";
import { heatColor, heatKey, HEAT_ZERO, fitLogLog, zeroPattern, patternText } from "./heat.js";

const TRI_CSS = `
.flowviz-player .fv-tri-bar { display: flex; flex-wrap: wrap; align-items: center; gap: 8px; margin-bottom: 6px; }
.flowviz-player .fv-tri-canvas { width: calc(380px * var(--fv-scale)); height: calc(380px * var(--fv-scale)); border: 1px solid var(--fv-border); image-rendering: pixelated; }
.flowviz-player .fv-tri-heatcol { display: flex; flex-direction: column; flex: 0 0 auto; }
/* the colour key under the heatmap: the ramp from -max to +max, tick labels, the swatch of an exact zero */
.flowviz-player .fv-tri-key { position: relative; height: 2.5em; font-size: 0.8em; color: var(--fv-muted); margin-top: 4px; }
.flowviz-player .fv-tri-ramp { height: 0.8em; border: 1px solid var(--fv-border); box-sizing: border-box; }
.flowviz-player .fv-tri-tick { position: absolute; top: 1em; transform: translateX(-50%); white-space: nowrap; }
.flowviz-player .fv-tri-tick:first-of-type { transform: none; }
.flowviz-player .fv-tri-tick.fv-last { transform: translateX(-100%); }
.flowviz-player .fv-tri-zero { position: absolute; top: 1em; left: 50%; transform: translateX(-50%); white-space: nowrap; }
.flowviz-player .fv-tri-zero i { display: inline-block; width: 0.8em; height: 0.8em; vertical-align: -0.1em; border: 1px solid var(--fv-border); margin-right: 0.3em; }
.flowviz-player .fv-tri-plot { width: calc(420px * var(--fv-scale)); height: calc(300px * var(--fv-scale)); border: 1px solid var(--fv-border); }
.flowviz-player.flowviz-triangular .fv-side { flex: 1 1 calc(380px * var(--fv-scale)); }
.flowviz-player .fv-tri-timing, .flowviz-player .fv-tri-info { white-space: pre-wrap; }
.flowviz-player .fv-tri-timing:empty { display: none; } /* no empty box before the first measurement */
/* on a slide (js/src/slides.js): the heatmap, its column of text and the timing plot below share the height */
.flowviz-player.flowviz-triangular[data-slide] .fv-tri-canvas {
  width: min(calc(380px * var(--fv-scale)), calc(var(--fv-fit-height, 100000px) * 0.56 - 2.4em));
  height: min(calc(380px * var(--fv-scale)), calc(var(--fv-fit-height, 100000px) * 0.56 - 2.4em)); }
.flowviz-player.flowviz-triangular[data-slide] .fv-side { max-height: calc(var(--fv-fit-height, 100000px) * 0.56); }
.flowviz-player.flowviz-triangular[data-slide] .fv-tri-plot {
  width: min(calc(420px * var(--fv-scale)), calc(var(--fv-fit-height, 100000px) * 0.6));
  height: min(calc(300px * var(--fv-scale)), calc(var(--fv-fit-height, 100000px) * 0.42)); }
.flowviz-player .fv-tri-btn { font: inherit; padding: 0.25em 0.8em; border: 1px solid var(--fv-border); border-radius: 6px; background: var(--fv-btn); color: var(--fv-fg); cursor: pointer; }
`;
const f = (x) => formatNumber(x);

/**
 * The hover's text for cell (i, j) (0-based, in the layer's order `order`): J_ij = v as the float32 wire holds it
 * and, on the diagonal, log|J_ii| = `logJ`, which Python computed from the float64 J (arrays.logdiag): a log of
 * the float32 J_ii near 1 would lose digits to cancellation. `logJ` null where Python flagged it not finite
 * (J_ii = 0 or not finite, so that v is 0 or not finite too): then the log of v says which (-inf, +inf).
 * `logJ` undefined (a state without logdiag): no log line. A diagonal J_ii beyond float32's range (v = ±0 or ±inf
 * while logJ is finite) is shown as ±exp(logJ) to 4 digits (|logJ| <= 745 in float32: within 5e-5 relative), not
 * as an exact zero or a non-finite number.
 */
export function hoverText(i, j, v, order = [], logJ = undefined) {
  let Jtext = v === 0 ? "0 (exact zero)" : f(v), log = "";
  if (i === j && logJ !== undefined) {
    log = `\nlog|J\u1d62\u1d62| = ${f(logJ === null ? Math.log(Math.abs(v)) : logJ)}`;
    if (logJ !== null && (v === 0 || Math.abs(v) === Infinity)) {
      const sign = v < 0 || Object.is(v, -0) ? "-" : ""; // 4 digits: logJ is float32
      Jtext = `${sign}${formatNumber(Math.exp(logJ), 4)} (beyond float32's range)`;
    }
  }
  return `row ${i + 1}, column ${j + 1} (x${(order[i] ?? i) + 1}, z${(order[j] ?? j) + 1})\n` +
    `J = \u2202x/\u2202z = ${Jtext}${log}`;
}


export function renderTriangular({ model, el, signal }) {
  const { alive, val, save, listen, requestDraw, followTheme, onCleanup, cleanup } =
    mountView({ model, el, signal }, { classes: ["flowviz-triangular"], css: CSS + TRI_CSS, frame: draw });
  let theme, frameNo = 0, J = null, n = 0, hoverIJ = null, awaiting = false, logDiag = null, logOk = null;

  const bar = document.createElement("div");
  bar.className = "fv-tri-bar";
  const kindSel = document.createElement("select");
  kindSel.className = "fv-tri-kind";
  for (const [v, t] of [["maf", "masked autoregressive (MAF)"], ["coupling", "affine coupling"]]) {
    const o = document.createElement("option"); o.value = v; o.textContent = t; kindSel.append(o);
  }
  kindSel.value = val("kind", "maf");
  const measureBtn = document.createElement("button");
  measureBtn.className = "fv-tri-btn fv-tri-measure";
  measureBtn.textContent = "measure LU vs diagonal";
  const kernel = !val("static", false);
  const params = createParamControls((id, value) => save({ params: { ...(val("params", {})), [id]: value } }), { kernel });
  if (!kernel) for (const b of [kindSel, measureBtn]) { b.disabled = true; b.title = NEEDS_KERNEL; }
  bar.append(kindSel, measureBtn);
  const main = document.createElement("div");
  main.className = "fv-main";
  const heat = document.createElement("canvas");
  heat.className = "fv-tri-canvas";
  const plot = document.createElement("canvas");
  plot.className = "fv-tri-plot";
  const key = document.createElement("div");
  key.className = "fv-tri-key";
  key.title = "J\u1d62\u2c7c: blue negative, red positive, shade on a log scale of |J\u1d62\u2c7c|; grey: exactly zero";
  const heatCol = document.createElement("div");
  heatCol.className = "fv-tri-heatcol";
  heatCol.append(heat, key);
  let keyMax = null;
  const side = document.createElement("div");
  side.className = "fv-side";
  const info = document.createElement("div");
  info.className = "fv-readout fv-tri-info";
  const hov = document.createElement("div");
  hov.className = "fv-readout fv-tri-hover";
  hov.textContent = "Hover the matrix to read J\u1d62\u2c7c.";
  const timingText = document.createElement("div");
  timingText.className = "fv-readout fv-tri-timing";
  side.append(info, hov, timingText);
  main.append(heatCol, side, plot);
  el.append(bar, params.el, main);
  // on a Reveal.js slide: heatmap and timing plot shrink so that the view fits the slide (redrawn at that size)
  fitToSlide(el, main, { signal: alive, onFit: () => requestDraw() });

  kindSel.addEventListener("change", () => save({ kind: kindSel.value }), { signal: alive });
  measureBtn.addEventListener("click", () => {
    if (measureBtn.disabled) return;
    awaiting = true; // until Python answers (measuring, then timing): a second click queues nothing
    measureBtn.disabled = true;
    save({ measure_request: (val("measure_request", 0) | 0) + 1 });
  }, { signal: alive });
  heat.addEventListener("pointermove", (e) => {
    if (!n) return;
    const r = heat.getBoundingClientRect();
    const j = Math.floor(((e.clientX - r.left) / r.width) * n), i = Math.floor(((e.clientY - r.top) / r.height) * n);
    hoverIJ = i >= 0 && i < n && j >= 0 && j < n ? [i, j] : null;
    requestDraw();
  }, { signal: alive });
  heat.addEventListener("pointerleave", () => { // the highlight and its reading go with the pointer
    hoverIJ = null;
    hov.textContent = "Hover the matrix to read J\u1d62\u2c7c.";
    delete el.dataset.hoverValue;
    requestDraw();
  }, { signal: alive });

  function rebuild() {
    const arrays = val("arrays", {});
    try {
      J = arrays.jac ? decodeArray(arrays.jac, "jac") : null;
      n = J ? J.shape[0] : 0;
      // log|J_ii| from Python's float64 J (not Math.log of the float32 J_ii), with its finite flags
      logDiag = arrays.logdiag ? decodeArray(arrays.logdiag, "logdiag").data : null;
      logOk = arrays.logdiag_finite ? decodeArray(arrays.logdiag_finite, "logdiag_finite").data : null;
      if (logDiag && logDiag.length !== n) throw new Error(`logdiag has ${logDiag.length} entries, J is ${n} x ${n}`);
    } catch (err) { console.error(err); J = null; n = 0; logDiag = null; logOk = null; }
    hoverIJ = null;
    el.dataset.version = String(val("meta", {}).version ?? "");
  }

  listen({
    "change:arrays": () => { rebuild(); requestDraw(); }, "change:meta": () => { rebuild(); requestDraw(); },
    "change:controls": () => requestDraw(), "change:params": () => requestDraw(),
    "change:kind": () => { kindSel.value = val("kind", "maf"); },
    "change:timing": () => { awaiting = false; requestDraw(); },
    "change:measuring": () => { awaiting = false; requestDraw(); },
  });

  // requestDraw schedules draw, one frame at a time
  function draw() {
    const meta = val("meta", {});
    params.update(val("controls", []), val("params", {}), []);
    measureBtn.disabled = !kernel || awaiting || !!val("measuring", false); // a static page has no kernel
    measureBtn.textContent = val("measuring", false) ? "measuring\u2026" : "measure LU vs diagonal";
    drawHeat(meta);
    drawTiming(val("timing", {}));
    el.dataset.frame = String(++frameNo);
    el.dataset.status = meta.status || "";
  }

  function drawHeat(meta) {
    const errLine = meta.status === "error" ? (meta.message ? `cannot show this: ${meta.message}` : "cannot show this state") : "";
    if (!J) { info.textContent = errLine || "waiting for data\u2026"; return; }
    const dpr = deviceRatio();
    const r = heat.getBoundingClientRect();
    const W = Math.max(n, Math.round(r.width * dpr)), H = Math.max(n, Math.round(r.height * dpr));
    if (heat.width !== W) heat.width = W;
    if (heat.height !== H) heat.height = H;
    const ctx = heat.getContext("2d");
    const img = ctx.createImageData(n, n);
    const maxAbs = meta.max_abs || 1;
    if (keyMax !== maxAbs) drawKey(maxAbs);
    for (let k = 0; k < n * n; k++) {
      const c = heatColor(J.data[k], maxAbs);
      img.data[4 * k] = c[0]; img.data[4 * k + 1] = c[1]; img.data[4 * k + 2] = c[2]; img.data[4 * k + 3] = 255;
    }
    const tmp = document.createElement("canvas");
    tmp.width = n; tmp.height = n;
    tmp.getContext("2d").putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.clearRect(0, 0, W, H);
    ctx.drawImage(tmp, 0, 0, W, H);
    if (n <= 48) { // diagonal outline
      ctx.strokeStyle = "rgba(0,0,0,0.5)"; ctx.lineWidth = 1;
      for (let i = 0; i < n; i++) ctx.strokeRect((i * W) / n + 0.5, (i * H) / n + 0.5, W / n - 1, H / n - 1);
    }
    if (hoverIJ) {
      const [i, j] = hoverIJ;
      ctx.strokeStyle = "rgb(255,64,129)"; ctx.lineWidth = 2 * dpr;
      ctx.strokeRect((j * W) / n, (i * H) / n, W / n, H / n);
      const v = J.data[i * n + j];
      const logJ = !logDiag ? undefined : logOk && logOk[i] === 0 ? null : logDiag[i];
      hov.textContent = hoverText(i, j, v, meta.order || [], logJ);
      el.dataset.hoverValue = String(v);
    }
    const pattern = zeroPattern(J.data, n);
    el.dataset.pattern = pattern;
    info.textContent = [
      `J = \u2202x/\u2202z, n = ${n} (${meta.kind || ""})`, meta.caption || "",
      `zero pattern: ${patternText(pattern)}`, "",
      "log|det J| three ways:",
      `  slogdet(J), dense LU : ${f(meta.logdet_slogdet)}`,
      `  \u03a3 log|J\u1d62\u1d62|, diagonal : ${f(meta.logdet_diag)}`,
      `  the layer's log_det  : ${f(meta.logdet_layer)}`,
      `(Jacobian by autograd, ${meta.method || "?"} pass)`,
      errLine,
    ].filter((l, i, a) => l !== "" || i < a.length - 1).join("\n");
  }

  function drawKey(maxAbs) {
    keyMax = maxAbs;
    const { gradient, ticks } = heatKey(maxAbs);
    const ramp = document.createElement("div");
    ramp.className = "fv-tri-ramp";
    ramp.style.background = gradient;
    const labels = ticks.map(({ pos, label }, i) => {
      const t = document.createElement("span");
      t.className = i === ticks.length - 1 ? "fv-tri-tick fv-last" : "fv-tri-tick";
      t.style.left = `${(100 * pos).toFixed(2)}%`;
      t.textContent = label;
      return t;
    });
    const zero = document.createElement("span");
    zero.className = "fv-tri-zero";
    const swatch = document.createElement("i");
    swatch.style.background = `rgb(${HEAT_ZERO.join(",")})`;
    zero.append(swatch, "exact 0");
    key.replaceChildren(ramp, ...labels, zero);
    el.dataset.keyMax = String(maxAbs);
  }

  function drawTiming(T) {
    const dpr = deviceRatio();
    const r = plot.getBoundingClientRect();
    const W = Math.max(1, Math.round(r.width * dpr)), H = Math.max(1, Math.round(r.height * dpr));
    if (plot.width !== W) plot.width = W;
    if (plot.height !== H) plot.height = H;
    const ctx = plot.getContext("2d");
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, W, H);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const w = r.width, h = r.height, fs = theme.fontSize;
    ctx.font = `${fs}px ${theme.font}`;
    ctx.fillStyle = theme.css(theme.fg);
    if (T.error) { timingText.textContent = `measurement failed: ${T.error}`; return; }
    if (!T.n || !T.n.length) {
      ctx.fillText("press \u201cmeasure\u201d to time log|det| by LU vs diagonal", 10, h / 2);
      timingText.textContent = "";
      return;
    }
    const lx = T.n.map(Math.log10), lu = T.lu_median_s.map(Math.log10), dg = T.diag_median_s.map(Math.log10);
    const D = T.diag_only && T.diag_only.n ? T.diag_only : { n: [], median_s: [] };
    const dx = D.n.map(Math.log10), dy = D.median_s.map(Math.log10);
    const ys = [...lu, ...dg, ...dy].filter(Number.isFinite);
    const x0 = Math.min(...lx, ...dx) - 0.1, x1 = Math.max(...lx, ...dx) + 0.1, y0 = Math.min(...ys) - 0.2, y1 = Math.max(...ys) + 0.2;
    const L = fs * 4, R = 10, Tp = fs * 1.6, B = fs * 3;
    const px = (x) => L + ((x - x0) / (x1 - x0)) * (w - L - R), py = (y) => Tp + ((y1 - y) / (y1 - y0)) * (h - Tp - B);
    ctx.strokeStyle = theme.css(theme.border); ctx.strokeRect(L, Tp, w - L - R, h - Tp - B);
    ctx.fillStyle = theme.css(theme.muted);
    const xt = niceTicks(x0, x1, 4), yt = niceTicks(y0, y1, 4);
    ctx.textAlign = "center";
    for (const t of xt) ctx.fillText(`10^${tickLabel(t, xt[1] - xt[0] || 1)}`, px(t), h - B + fs * 1.2);
    ctx.textAlign = "right";
    for (const t of yt) ctx.fillText(`10^${tickLabel(t, yt[1] - yt[0] || 1)}`, L - 4, py(t) + fs * 0.3);
    ctx.textAlign = "center";
    ctx.fillText("n", L + (w - L - R) / 2, h - fs * 0.4);
    ctx.textAlign = "left";
    ctx.fillText("median seconds", 4, fs);
    const series = [[lx, lu, "rgb(207,34,46)", [], "dense LU"], [lx, dg, "rgb(9,105,218)", [], "\u03a3 log|diag|"],
      [dx, dy, "rgb(9,105,218)", [5, 4], "diagonal alone"]];
    series.forEach(([xsr, ysr, color, dash, name], k) => {
      if (!xsr.length) return;
      ctx.strokeStyle = color; ctx.fillStyle = color; ctx.lineWidth = 2; ctx.setLineDash(dash);
      ctx.beginPath();
      ysr.forEach((y, i) => (i ? ctx.lineTo(px(xsr[i]), py(y)) : ctx.moveTo(px(xsr[i]), py(y))));
      ctx.stroke();
      ctx.setLineDash([]);
      ysr.forEach((y, i) => { ctx.beginPath(); ctx.arc(px(xsr[i]), py(y), 3, 0, 2 * Math.PI); ctx.fill(); });
      const ly = h - B - 8 - (2 - k) * fs * 1.3;
      ctx.fillRect(w - R - 130, ly - 4, 14, 3);
      ctx.fillText(name, w - R - 112, ly);
    });
    const from = T.slope_from_n || 0;
    const sel = T.n.map((v, i) => i).filter((i) => T.n[i] >= from);
    const fl = fitLogLog(sel.map((i) => T.n[i]), sel.map((i) => T.lu_median_s[i]));
    const fd = fitLogLog(sel.map((i) => T.n[i]), sel.map((i) => T.diag_median_s[i]));
    el.dataset.luSlope = String(fl.slope);
    timingText.textContent = [
      `device ${T.device}, ${T.threads} thread(s), median of ${T.repeats}`,
      ...T.n.map((v, i) => `n=${String(v).padStart(4)}  LU ${f(T.lu_median_s[i])} s   diag ${f(T.diag_median_s[i])} s`),
      `fitted slopes (n \u2265 ${from}): LU ${f(fl.slope)} (theory 3), diag ${f(fd.slope)} (theory 1)`,
      ...(D.n.length ? [`diagonal alone up to n = ${D.n[D.n.length - 1]}: slope ${f(D.slope)}`] : []),
      T.note || "",
    ].join("\n");
  }

  followTheme((t) => { theme = t; });
  onCleanup(watchDeviceRatio(() => requestDraw())); // canvases sized when drawn: redraw at a new pixel density
  rebuild();
  requestDraw();
  return cleanup;
}

export default { initialize() {}, render: renderTriangular };
