// overlay.js: the 2D canvas over a renderer's canvas: frame, axes with ticks, axis
// labels, title and caption, colour bar, the hover square and its image
// parallelogram, the brush, draggable handles; and the status banner (an HTML element, class fv-status).

import { niceTicks, tickLabel } from "./view.js";

const css = (c, a = 1) => `rgba(${c[0]},${c[1]},${c[2]},${c[3] * a})`;

/** The plot rectangle inside a panel of w x h CSS pixels, leaving room for axes and text. */
export function layoutPlot(w, h, theme, { colorbar = false, caption = true } = {}) {
  const fs = theme.fontSize;
  const left = Math.round(fs * 3.6), top = Math.round(fs * 2.2);
  const right = Math.round(colorbar ? fs * 5.2 : fs * 1.2);
  const bottom = Math.round(fs * (caption ? 5.4 : 3.2));
  return { left, top, width: Math.max(10, w - left - right), height: Math.max(10, h - top - bottom) };
}

/** Break text into at most `maxLines` lines of at most `width` pixels (ellipsis if cut). */
export function wrapText(ctx, text, width, maxLines = 2) {
  const words = String(text || "").split(/\s+/).filter(Boolean);
  const lines = [];
  let line = "";
  for (const w of words) {
    const next = line ? `${line} ${w}` : w;
    if (ctx.measureText(next).width <= width || !line) { line = next; continue; }
    lines.push(line);
    line = w;
    if (lines.length === maxLines) break;
  }
  if (lines.length < maxLines && line) lines.push(line);
  else if (line && lines.length === maxLines) {
    let last = lines[maxLines - 1];
    while (last && ctx.measureText(`${last}\u2026`).width > width) last = last.slice(0, -1);
    lines[maxLines - 1] = `${last}\u2026`;
  }
  return lines;
}

function strokeTwice(ctx, path, color, width, dash = []) {
  ctx.setLineDash(dash);
  ctx.lineWidth = width + 2;
  ctx.strokeStyle = "rgba(0,0,0,0.55)";
  path(); ctx.stroke();
  ctx.lineWidth = width;
  ctx.strokeStyle = color;
  path(); ctx.stroke();
  ctx.setLineDash([]);
}

function polygon(ctx, tr, pts) {
  return () => {
    ctx.beginPath();
    pts.forEach(([x, y], i) => (i ? ctx.lineTo(tr.px(x), tr.py(y)) : ctx.moveTo(tr.px(x), tr.py(y))));
    ctx.closePath();
  };
}

/** Draw the overlay for one panel. See player.js for the fields of `o`. */
export function drawOverlay(canvas, o) {
  const ctx = canvas.getContext("2d");
  const { dpr, theme: th, plot, tr } = o;
  const fs = th.fontSize, lw = th.lineWidth;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.textBaseline = "alphabetic";
  const font = (size, weight = 400) => `${weight} ${size}px ${th.font}`;

  // frame and ticks
  ctx.strokeStyle = css(th.border, 1.6);
  ctx.lineWidth = lw;
  ctx.strokeRect(plot.left + 0.5, plot.top + 0.5, plot.width - 1, plot.height - 1);
  ctx.fillStyle = css(th.muted);
  ctx.font = font(fs * 0.9);
  const v = tr.view;
  const xt = niceTicks(v.x0, v.x1, Math.max(2, Math.round(plot.width / (fs * 7))));
  const yt = niceTicks(v.y0, v.y1, Math.max(2, Math.round(plot.height / (fs * 5))));
  const tick = fs * 0.4;
  ctx.beginPath();
  ctx.textAlign = "center";
  const xs = xt.length > 1 ? xt[1] - xt[0] : 1, ys = yt.length > 1 ? yt[1] - yt[0] : 1;
  for (const x of xt) {
    const px = Math.round(tr.px(x)) + 0.5;
    ctx.moveTo(px, plot.top + plot.height); ctx.lineTo(px, plot.top + plot.height + tick);
    ctx.fillText(tickLabel(x, xs), px, plot.top + plot.height + tick + fs);
  }
  ctx.textAlign = "right";
  for (const y of yt) {
    const py = Math.round(tr.py(y)) + 0.5;
    ctx.moveTo(plot.left, py); ctx.lineTo(plot.left - tick, py);
    ctx.fillText(tickLabel(y, ys), plot.left - tick - 2, py + fs * 0.32);
  }
  ctx.strokeStyle = css(th.muted);
  ctx.stroke();

  // axis labels
  ctx.fillStyle = css(th.fg, 0.85);
  ctx.font = font(fs, 500);
  ctx.textAlign = "center";
  ctx.fillText(o.axes[0], plot.left + plot.width / 2, plot.top + plot.height + tick + fs * 2.2);
  ctx.save();
  ctx.translate(fs * 1.0, plot.top + plot.height / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText(o.axes[1], 0, 0);
  ctx.restore();

  // title and caption
  ctx.textAlign = "left";
  ctx.fillStyle = css(th.fg);
  ctx.font = font(fs * 1.08, 600);
  ctx.fillText(fitText(ctx, o.title, plot.width), plot.left, plot.top - fs * 0.65);
  if (o.caption) {
    ctx.font = font(fs * 0.92);
    ctx.fillStyle = css(th.muted);
    const lines = wrapText(ctx, o.caption, plot.width + plot.left * 0.6, 2);
    lines.forEach((l, i) => ctx.fillText(l, plot.left * 0.4, plot.top + plot.height + tick + fs * (3.6 + 1.2 * i)));
  }

  if (o.colorbar) drawColorbar(ctx, o, font);

  ctx.save();
  ctx.beginPath();
  ctx.rect(plot.left, plot.top, plot.width, plot.height);
  ctx.clip();
  const h = o.hover;
  if (h) {
    if (h.square) strokeTwice(ctx, polygon(ctx, tr, h.square), "rgba(255,255,255,0.95)", 1.2 * lw, [4 * lw, 3 * lw]);
    if (h.para) {
      const p = polygon(ctx, tr, h.para);
      p();
      ctx.fillStyle = css(th.hover, 0.18);
      ctx.fill();
      strokeTwice(ctx, p, css(th.hover), 1.6 * lw);
    }
    if (h.from && h.point) {
      strokeTwice(ctx, () => {
        ctx.beginPath();
        ctx.moveTo(tr.px(h.from[0]), tr.py(h.from[1]));
        ctx.lineTo(tr.px(h.point[0]), tr.py(h.point[1]));
      }, "rgba(255,255,255,0.8)", 0.8 * lw, [2 * lw, 2 * lw]);
    }
    if (h.point) {
      ctx.beginPath();
      ctx.arc(tr.px(h.point[0]), tr.py(h.point[1]), 3.5 * lw, 0, 2 * Math.PI);
      ctx.fillStyle = css(th.hover);
      ctx.fill();
      ctx.lineWidth = 1.5 * lw;
      ctx.strokeStyle = "white";
      ctx.stroke();
    }
  }
  if (o.handles && o.handles.length) drawHandles(ctx, o, font);
  const b = o.brush;
  if (b && b.points && b.points.length > 1) {
    ctx.beginPath();
    b.points.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
    if (b.kind === "rect") ctx.closePath();
    ctx.fillStyle = css(th.accent, 0.12);
    ctx.fill();
    strokeTwice(ctx, () => {}, css(th.accent), lw, [5, 3]);
  }
  ctx.restore();
}

/** Handles to drag (o.handles: [{x, y, label, state: "idle" | "hot" | "drag"}], data units): a ring with a
 * cross at the point, and its label; larger while hovered or dragged. */
function drawHandles(ctx, o, font) {
  const { tr, theme: th, plot } = o;
  const lw = th.lineWidth, fs = th.fontSize;
  for (const h of o.handles) {
    if (!Number.isFinite(h.x) || !Number.isFinite(h.y)) continue;
    const x = tr.px(h.x), y = tr.py(h.y);
    const active = h.state === "hot" || h.state === "drag";
    const r = (active ? 8 : 6.5) * lw;
    ctx.beginPath();
    ctx.arc(x, y, r, 0, 2 * Math.PI);
    ctx.fillStyle = css(th.accent, active ? 0.45 : 0.25);
    ctx.fill();
    strokeTwice(ctx, () => { ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI); }, "white", 1.6 * lw);
    strokeTwice(ctx, () => {
      ctx.beginPath();
      ctx.moveTo(x - r - 3 * lw, y); ctx.lineTo(x + r + 3 * lw, y);
      ctx.moveTo(x, y - r - 3 * lw); ctx.lineTo(x, y + r + 3 * lw);
    }, css(th.accent), 1.2 * lw);
    if (h.label) {
      ctx.font = font(fs * 0.9, active ? 600 : 500);
      const text = h.label;
      const w = ctx.measureText(text).width;
      const right = x + r + 6 * lw + w < plot.left + plot.width;
      ctx.textAlign = right ? "left" : "right";
      const tx = right ? x + r + 6 * lw : x - r - 6 * lw, ty = y - r - 2 * lw;
      ctx.lineWidth = 3;
      ctx.lineJoin = "round";
      ctx.strokeStyle = "rgba(0,0,0,0.6)";
      ctx.strokeText(text, tx, ty);
      ctx.fillStyle = "white";
      ctx.fillText(text, tx, ty);
    }
  }
}

function fitText(ctx, text, width) {
  let t = String(text || "");
  if (ctx.measureText(t).width <= width) return t;
  while (t && ctx.measureText(`${t}\u2026`).width > width) t = t.slice(0, -1);
  return `${t}\u2026`;
}

function drawColorbar(ctx, o, font) {
  const { plot, theme: th } = o;
  const { colors, lo, hi } = o.colorbar;
  const fs = th.fontSize;
  const x = plot.left + plot.width + fs * 0.9, w = fs * 0.9;
  const y0 = plot.top, hgt = plot.height;
  for (let i = 0; i < 256; i++) {
    ctx.fillStyle = colors[i];
    const ya = y0 + hgt * (1 - (i + 1) / 256);
    ctx.fillRect(x, Math.floor(ya), w, Math.ceil(hgt / 256) + 1);
  }
  ctx.strokeStyle = css(th.border, 1.6);
  ctx.lineWidth = th.lineWidth;
  ctx.strokeRect(x, y0, w, hgt);
  ctx.fillStyle = css(th.muted);
  ctx.font = font(fs * 0.85);
  ctx.textAlign = "left";
  const ticks = niceTicks(lo, hi, Math.max(2, Math.round(hgt / (fs * 4))));
  const step = ticks.length > 1 ? ticks[1] - ticks[0] : 1;
  for (const t of ticks) {
    const y = y0 + hgt * (1 - (t - lo) / (hi - lo));
    ctx.fillRect(x + w, Math.round(y), fs * 0.3, 1);
    ctx.fillText(tickLabel(t, step), x + w + fs * 0.4, y + fs * 0.3);
  }
  ctx.save();
  ctx.translate(x + w / 2, y0 - fs * 0.65);
  ctx.textAlign = "center";
  ctx.fillText("log p", 0, 0);
  ctx.restore();
}

/** The status banner over a panel: an element with class fv-status, hidden when text is empty. */
export function createBanner(parent) {
  const el = document.createElement("div");
  el.className = "fv-status";
  el.setAttribute("role", "status");
  el.hidden = true;
  parent.appendChild(el);
  return {
    el,
    /** Show `text` ("" hides); the part after " \u2014 " is shown smaller, below. */
    set(text, level = "error") {
      if (text === el.dataset.text && level === el.dataset.level) return;
      el.dataset.text = text || "";
      el.dataset.level = level;
      el.hidden = !text;
      const [head, ...rest] = String(text || "").split(" \u2014 ");
      const b = document.createElement("strong");
      b.textContent = head;
      el.replaceChildren(b);
      if (rest.length) {
        const sep = document.createElement("span");
        sep.className = "fv-sep";
        sep.textContent = " \u2014 ";
        const small = document.createElement("small");
        small.textContent = rest.join(" \u2014 ");
        el.append(sep, small);
      }
    },
    /**
     * Centre the banner over the plot area of `panelEl` (`plot`: layoutPlot's box in the panel's CSS
     * pixels) and keep it inside that area, so that it never covers the colour bar, the axes or a
     * neighbouring panel. Both elements must share the banner's offset parent (the panels' row).
     */
    place(panelEl, plot) {
      const left = panelEl.offsetLeft + plot.left + plot.width / 2;
      const top = panelEl.offsetTop + plot.top + Math.min(12, plot.height * 0.05);
      const style = `${Math.round(left)}px|${Math.round(top)}px|${Math.round(plot.width * 0.94)}px`;
      if (el.dataset.place === style) return;
      el.dataset.place = style;
      el.style.left = `${Math.round(left)}px`;
      el.style.top = `${Math.round(top)}px`;
      el.style.maxWidth = `${Math.round(plot.width * 0.94)}px`;
    },
  };
}
