// handles.js: draggable points on the x panel that stand for a pair of parameter sliders
// (`meta.handles`, js/WIRE.md), e.g. the centre z0 of a radial layer.
//
// A handle of layer k is a point in the coordinates of that layer's input, state k-1. It is
// shown while layer k is the one being applied or just applied, layer position t in (k-1, k],
// and drawn at its data coordinates in the x panel's fixed camera. Dragging writes the two
// sliders' ids in `params` (the same path as the sliders). Pure functions: no DOM here.

const finite2 = (p) => Array.isArray(p) && p.length === 2 && p.every(Number.isFinite);

/** The handles of `meta` that are valid against `controls`: [{layer, ids, label, limits}]. */
export function handleSpecs(meta, controls) {
  const byId = new Map((controls || []).map((c) => [c.id, c]));
  const out = [];
  for (const h of (meta && meta.handles) || []) {
    const k = h && h.layer;
    const ids = h && h.ids;
    if (!Number.isInteger(k) || k < 1 || !Array.isArray(ids) || ids.length !== 2) continue;
    const cs = ids.map((id) => byId.get(id));
    if (!cs.every((c) => c && (!c.kind || c.kind === "slider"))) continue; // numbers only: no toggle or choice
    const limits = cs.map((c) => [Number.isFinite(+c.min) ? +c.min : -Infinity, Number.isFinite(+c.max) ? +c.max : Infinity]);
    out.push({ layer: k, ids: ids.slice(), label: String(h.label || ""), limits });
  }
  return out;
}

/** Is layer k's handle shown at layer position t? t in (k-1, k] and the layer enabled. */
export function handleShown(spec, t, layers = []) {
  const k = spec.layer;
  const info = layers[k - 1];
  if (info && info.enabled === false) return false;
  return t > k - 1 && t <= k;
}

/** The handle's point [x, y] from `params` (what the browser last set), else the controls' values; null if not finite. */
export function handleValue(spec, controls = [], params = {}) {
  const v = spec.ids.map((id) => {
    if (params && id in params && typeof params[id] === "number") return params[id];
    const c = (controls || []).find((q) => q.id === id);
    return c && c.value !== null && c.value !== undefined ? +c.value : NaN; // null: non-finite, no handle
  });
  return finite2(v) ? v : null;
}

/** Clamp a point into the handle's slider ranges. */
export function clampToLimits(p, limits) {
  return p.map((v, i) => Math.min(Math.max(v, limits[i][0]), limits[i][1]));
}

/**
 * Which of `points` ([x, y] in data units, or null) is under the pointer at CSS pixel (px, py):
 * the nearest within `radius` pixels, measured on screen through the transform `tr`; -1 if none.
 */
export function hitHandle(points, tr, px, py, radius) {
  let best = -1, bd = radius * radius;
  points.forEach((p, i) => {
    if (!finite2(p)) return;
    const dx = tr.px(p[0]) - px, dy = tr.py(p[1]) - py;
    const d = dx * dx + dy * dy;
    if (d <= bd) { bd = d; best = i; }
  });
  return best;
}

/**
 * Start dragging a handle at `value` (data units) from CSS pixel (px, py). The offset between the
 * pointer and the handle is kept, so the handle does not jump to the pointer and stays under it.
 */
export function beginDrag(spec, value, tr, px, py) {
  return { spec, start: value.slice(), grab: [px, py], moved: false, value: value.slice() };
}

/** Pixels the pointer must travel from where it grabbed a handle before the handle moves (as a brush). */
export const DRAG_SLOP = 3;

/**
 * The handle's new value with the pointer at CSS pixel (px, py): the start value moved by the pointer's travel
 * since the grab, in data units (no travel: exactly the start, so a click changes nothing), clamped to the
 * sliders' limits widened to hold the start (a trained centre beyond a slider's end does not jump to the end).
 * `drag.moved` turns true once the pointer has travelled DRAG_SLOP pixels.
 */
export function dragTo(drag, tr, px, py) {
  if (!drag.moved && Math.hypot(px - drag.grab[0], py - drag.grab[1]) <= DRAG_SLOP) return drag.value;
  const p = [drag.start[0] + tr.x(px) - tr.x(drag.grab[0]), drag.start[1] + tr.y(py) - tr.y(drag.grab[1])];
  if (!finite2(p)) return drag.value;
  drag.moved = true;
  const limits = drag.spec.limits.map(([lo, hi], i) => [Math.min(lo, drag.start[i]), Math.max(hi, drag.start[i])]);
  drag.value = clampToLimits(p, limits);
  return drag.value;
}

/** The `params` entries that set the handle to `value`. */
export function handleParams(spec, value) {
  return { [spec.ids[0]]: value[0], [spec.ids[1]]: value[1] };
}
