// fixture.mjs: a synthetic FlowPlayer state in the wire format (js/WIRE.md), for the
// dev harness and static-export experiments. Three layers, forward (z -> x):
//   1. shear      x = A z + b                      (constant Jacobian)
//   2. twist      polar (r, phi) -> (c(r) r, phi + theta(r)), exact Jacobian
//   3. fold       x1 -> x1 - g x1 exp(-x1^2/2), x2 -> x2 + 0.3 sin x1; folds when g > 1
// Case "nonfinite" makes layer 3 produce NaN where x1 > 2.

import { encodeArray } from "../src/wire.js";
import { makeLut } from "../src/colormap.js";

export const DEFAULT_PARAMS = { shear: 0.8, twist: 2.2, fold: 1.6, enabled_1: true, enabled_2: true, enabled_3: true };

function rng(seed) {
  let s = seed >>> 0;
  return () => { s = (s + 0x6d2b79f5) >>> 0; let t = s; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
}

/** The layers as functions (x, y) -> {x, y, J: [a, b, c, d]} with their names and captions. */
export function layers(p, kind = "fold") {
  const shear = {
    name: "shear", caption: "Affine map x = A z + b: stretches x\u2081, squeezes x\u2082 and shears. The Jacobian A is the same everywhere.",
    f(x, y) { const A = [1.25, p.shear, 0, 0.75]; return { x: A[0] * x + A[1] * y + 0.3, y: A[3] * y - 0.2, J: A }; },
  };
  const twist = {
    name: "twist", caption: "Rotation by an angle that decays with the radius, with a radial swelling: det J = c (c + r c\u2032).",
    f(x, y) {
      const r2 = x * x + y * y, e = Math.exp(-r2 / 2), a = p.twist, b = 0.45;
      const th = a * e, c = 1 + b * e;
      const cs = Math.cos(th), sn = Math.sin(th);
      const Rx = cs * x - sn * y, Ry = sn * x + cs * y; // R x
      const Dx = -sn * x - cs * y, Dy = cs * x - sn * y; // dR/dtheta x
      const gc = [-b * e * x, -b * e * y], gt = [-a * e * x, -a * e * y]; // grad c, grad theta
      const J = [
        c * cs + Rx * gc[0] + c * Dx * gt[0], -c * sn + Rx * gc[1] + c * Dx * gt[1],
        c * sn + Ry * gc[0] + c * Dy * gt[0], c * cs + Ry * gc[1] + c * Dy * gt[1],
      ];
      return { x: c * Rx, y: c * Ry, J };
    },
  };
  const fold = {
    name: "fold", caption: "x\u2081 \u2192 x\u2081 \u2212 g x\u2081 exp(\u2212x\u2081\u00b2/2): for g > 1 the middle strip is folded over (det J < 0), the map is not invertible.",
    f(x, y) {
      const g = p.fold, e = Math.exp(-x * x / 2);
      if (kind === "nonfinite" && x > 2) return { x: NaN, y: NaN, J: [NaN, NaN, NaN, NaN] };
      return { x: x - g * x * e, y: y + 0.3 * Math.sin(x), J: [1 - g * (1 - x * x) * e, 0, 0.3 * Math.cos(x), 1] };
    },
  };
  return [shear, twist, fold];
}

/** Build arrays (wire format), meta and controls for parameters p. */
export function makeFixture({ params = {}, kind = "fold", N = 1500, g = 41, base64 = false, version = 1 } = {}) {
  const p = { ...DEFAULT_PARAMS, ...(kind === "ok" ? { fold: 0.6 } : {}), ...params };
  const L = layers(p, kind);
  const K = L.length, V = g * g;
  const rand = rng(7);
  const pts = new Float32Array((K + 1) * N * 2);
  const plogp = new Float32Array((K + 1) * N);
  for (let i = 0; i < N; i++) {
    const u = Math.max(rand(), 1e-12), v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    pts[2 * i] = r * Math.cos(2 * Math.PI * v);
    pts[2 * i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  const mesh = new Float32Array((K + 1) * V * 2);
  const lim = 3.2;
  for (let row = 0; row < g; row++) for (let col = 0; col < g; col++) {
    const i = row * g + col;
    mesh[2 * i] = -lim + (2 * lim * col) / (g - 1);
    mesh[2 * i + 1] = -lim + (2 * lim * row) / (g - 1);
  }
  const logp = new Float32Array((K + 1) * V), finite = new Float32Array((K + 1) * V);
  const jac = new Float32Array(K * V * 4), logdet = new Float32Array(K * V);
  const logpi = (x, y) => -0.5 * (x * x + y * y) - Math.log(2 * Math.PI);
  for (let i = 0; i < V; i++) logp[i] = logpi(mesh[2 * i], mesh[2 * i + 1]);
  for (let i = 0; i < N; i++) plogp[i] = logpi(pts[2 * i], pts[2 * i + 1]);
  const nonfinite = new Array(K).fill(0);
  for (let k = 0; k < K; k++) {
    const on = p[`enabled_${k + 1}`] !== false;
    for (let i = 0; i < V; i++) {
      const a = (k * V + i) * 2, b = ((k + 1) * V + i) * 2;
      const o = on ? L[k].f(mesh[a], mesh[a + 1]) : { x: mesh[a], y: mesh[a + 1], J: [1, 0, 0, 1] };
      mesh[b] = o.x; mesh[b + 1] = o.y;
      jac.set(o.J, (k * V + i) * 4);
      const ld = Math.log(Math.abs(o.J[0] * o.J[3] - o.J[1] * o.J[2]));
      logdet[k * V + i] = ld;
      logp[(k + 1) * V + i] = logp[k * V + i] - ld;
    }
    for (let i = 0; i < N; i++) {
      const a = (k * N + i) * 2, b = ((k + 1) * N + i) * 2;
      const o = on ? L[k].f(pts[a], pts[a + 1]) : { x: pts[a], y: pts[a + 1], J: [1, 0, 0, 1] };
      pts[b] = o.x; pts[b + 1] = o.y;
      plogp[(k + 1) * N + i] = plogp[k * N + i] - Math.log(Math.abs(o.J[0] * o.J[3] - o.J[1] * o.J[2]));
      if (!Number.isFinite(o.x) || !Number.isFinite(o.y)) nonfinite[k]++;
    }
  }
  for (let i = 0; i < (K + 1) * V; i++) {
    finite[i] = Number.isFinite(logp[i]) && Number.isFinite(mesh[2 * i]) && Number.isFinite(mesh[2 * i + 1]) ? 1 : 0;
  }
  const bounds = [];
  for (let k = 0; k <= K; k++) bounds.push(box(mesh.subarray(k * V * 2, (k + 1) * V * 2), pts.subarray(k * N * 2, (k + 1) * N * 2)));
  let hi = -Infinity;
  for (const v of logp) if (Number.isFinite(v) && v > hi) hi = v;
  const invertible = [true, true, !(p.fold > 1) || p.enabled_3 === false];
  const bad = nonfinite.some((n) => n > 0);
  const status = bad ? "non-finite" : invertible.every(Boolean) ? "ok" : "not invertible";
  const enc = (a, shape) => encodeArray(a, shape, { base64 });
  const arrays = {
    points: enc(pts, [K + 1, N, 2]), points_logp: enc(plogp, [K + 1, N]),
    mesh: enc(mesh, [K + 1, V, 2]), logp: enc(logp, [K + 1, V]), finite: enc(finite, [K + 1, V]),
    jac: enc(jac, [K, V, 4]), logdet: enc(logdet, [K, V]), lut: enc(makeLut(), [256, 3]),
  };
  const meta = {
    K, N, gx: g, gy: g,
    layers: L.map((l, k) => ({ name: l.name, caption: l.caption, invertible: invertible[k], nonfinite: nonfinite[k], enabled: p[`enabled_${k + 1}`] !== false })),
    base: "N(0, I)", logp_range: [hi - 9, hi], bounds, status,
    message: status === "not invertible" ? "layer 3 folds the plane (det J < 0 in the middle strip)" : bad ? "layer 3 overflowed for x\u2081 > 2" : "",
    version,
  };
  const controls = [
    { id: "shear", layer: 1, label: "shear", value: p.shear, min: -1.5, max: 1.5, step: 0.05 },
    { id: "enabled_1", layer: 1, label: "on", kind: "toggle", value: p.enabled_1 },
    { id: "twist", layer: 2, label: "twist angle", value: p.twist, min: -4, max: 4, step: 0.1 },
    { id: "enabled_2", layer: 2, label: "on", kind: "toggle", value: p.enabled_2 },
    { id: "fold", layer: 3, label: "fold g", value: p.fold, min: 0, max: 2, step: 0.05 },
    { id: "enabled_3", layer: 3, label: "on", kind: "toggle", value: p.enabled_3 },
  ];
  return { arrays, meta, controls, params: p };
}

function box(...arrays) {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const a of arrays) for (let i = 0; i < a.length; i += 2) {
    if (!Number.isFinite(a[i]) || !Number.isFinite(a[i + 1])) continue;
    x0 = Math.min(x0, a[i]); x1 = Math.max(x1, a[i]); y0 = Math.min(y0, a[i + 1]); y1 = Math.max(y1, a[i + 1]);
  }
  const px = 0.04 * (x1 - x0), py = 0.04 * (y1 - y0);
  return [x0 - px, x1 + px, y0 - py, y1 + py];
}

/** A tiny stand-in for the anywidget model: get/set/on/off/save_changes/send. */
export function createFakeModel(state, { onSave = () => {} } = {}) {
  const listeners = new Map();
  let dirty = new Set();
  const emit = (name) => (listeners.get(name) || []).slice().forEach((cb) => cb(model, state[name.slice(7)]));
  const model = {
    get: (k) => state[k],
    set(k, v) {
      if (typeof k === "object") { for (const [kk, vv] of Object.entries(k)) model.set(kk, vv); return; }
      const old = state[k];
      state[k] = v;
      dirty.add(k);
      if (old !== v) emit(`change:${k}`);
    },
    on(name, cb) { for (const n of name.split(/\s+/)) { if (!listeners.has(n)) listeners.set(n, []); listeners.get(n).push(cb); } },
    off(name, cb) {
      const names = name ? name.split(/\s+/) : [...listeners.keys()];
      for (const n of names) listeners.set(n, cb ? (listeners.get(n) || []).filter((f) => f !== cb) : []);
    },
    save_changes() { const d = dirty; dirty = new Set(); onSave([...d], state); },
    send() {},
    listenerCount: () => [...listeners.values()].reduce((a, l) => a + l.length, 0),
  };
  return model;
}
