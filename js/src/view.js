// view.js: data rectangles, the data <-> screen transform and axis ticks.
//
// A view is {x0, x1, y0, y1} in data units, shown in a plot rectangle
// {left, top, width, height} in CSS pixels, y pointing up, equal scale on both axes.

/** The union of [xmin, xmax, ymin, ymax] boxes, ignoring non-finite entries; null if none. */
export function unionBounds(list) {
  let b = null;
  for (const q of list || []) {
    if (!q || q.length < 4 || !q.every(Number.isFinite)) continue;
    b = b ? [Math.min(b[0], q[0]), Math.max(b[1], q[1]), Math.min(b[2], q[2]), Math.max(b[3], q[3])] : q.slice(0, 4);
  }
  return b;
}

/** Bounds widened so that a w x h plot shows them with equal scale on both axes, centred. */
export function fitView(bounds, w, h) {
  let [x0, x1, y0, y1] = bounds || [-3, 3, -3, 3];
  if (!(x1 > x0)) { x0 -= 1; x1 += 1; }
  if (!(y1 > y0)) { y0 -= 1; y1 += 1; }
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  const aspect = w > 0 && h > 0 ? w / h : 1;
  let hw = (x1 - x0) / 2, hh = (y1 - y0) / 2;
  if (hw / hh < aspect) hw = hh * aspect; else hh = hw / aspect;
  return { x0: cx - hw, x1: cx + hw, y0: cy - hh, y1: cy + hh };
}

/** Data <-> CSS-pixel transform for a view shown in a plot rectangle. */
export function makeTransform(view, plot) {
  const sx = plot.width / (view.x1 - view.x0);
  const sy = plot.height / (view.y1 - view.y0);
  return {
    view, plot, sx, sy,
    px: (x) => plot.left + (x - view.x0) * sx,
    py: (y) => plot.top + (view.y1 - y) * sy,
    x: (px) => view.x0 + (px - plot.left) / sx,
    y: (py) => view.y1 - (py - plot.top) / sy,
    inside: (px, py) => px >= plot.left && px <= plot.left + plot.width && py >= plot.top && py <= plot.top + plot.height,
  };
}

/** About `count` round tick values (1, 2, 5 x 10^n steps) covering [lo, hi]. */
export function niceTicks(lo, hi, count = 5) {
  if (!(hi > lo) || !Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || 10 * mag;
  const out = [];
  // (at most count + 3 ticks: a step below the floats' spacing at this magnitude would not advance v)
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9 && out.length <= count + 2; v += step) {
    out.push(Math.abs(v) < step * 1e-9 ? 0 : +v.toPrecision(12));
  }
  return out;
}

/** Decimals that show `step` (to 6 significant digits) exactly: 0.25 -> 2, 2.5e-7 -> 8, 50 -> 0. */
export function decimalsOf(step) {
  const [m, e] = String(+Number(step).toPrecision(6)).split("e");
  return Math.max(0, (m.split(".")[1] || "").length - Number(e || 0));
}

/** Tick label with as many decimals as the tick step has. */
export function tickLabel(v, step) {
  const t = v.toFixed(Math.min(decimalsOf(step), 20));
  return /^-0(\.0*)?$/.test(t) ? t.slice(1) : t;
}
