// math.js: pure maths of the change-of-variables view (no DOM): interpolation on the
// dense curves sent by Python (for drawing), the strip readout and the two shaded areas. The readout is
// exact (exact.js, from the base, map and parameters in meta) whenever the map is known; only a state
// without them falls back to the arrays, and its values are then marked approximate.
//
// Arrays (one entry per z-grid point, z ascending): z, pi = pi(z), x = G(z), dxdz = G'(z)
// (signed), px = p(G(z)) = pi(z) / |G'(z)|, valid (1 where x, px are finite and G' != 0).
// Direction: forward is base -> data, x = G(z).

/** Index i with xs[i] <= t <= xs[i+1] (xs ascending), clamped to [0, n-2]; -1 for n < 2. */
export function bracket(xs, t) {
  const n = xs.length;
  if (n < 2) return -1;
  if (t <= xs[0]) return 0;
  if (t >= xs[n - 1]) return n - 2;
  let lo = 0, hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] <= t) lo = mid; else hi = mid;
  }
  return lo;
}

/** Linear interpolation of ys over ascending xs at t (clamped to the ends). */
export function interp1(xs, ys, t) {
  const n = xs.length;
  if (n === 0) return NaN;
  if (n === 1 || t <= xs[0]) return ys[0];
  if (t >= xs[n - 1]) return ys[n - 1];
  const i = bracket(xs, t);
  const x0 = xs[i], x1 = xs[i + 1];
  const f = x1 > x0 ? (t - x0) / (x1 - x0) : 0;
  return ys[i] + f * (ys[i + 1] - ys[i]);
}

/** Trapezoid integral of ys over ascending xs from a to b (a <= b), endpoints interpolated. */
export function integrate(xs, ys, a, b) {
  if (!(b > a) || xs.length < 2) return 0;
  a = Math.max(a, xs[0]);
  b = Math.min(b, xs[xs.length - 1]);
  if (!(b > a)) return 0;
  let sum = 0, px = a, py = interp1(xs, ys, a);
  for (let i = bracket(xs, a) + 1; i < xs.length && xs[i] < b; i++) {
    sum += 0.5 * (py + ys[i]) * (xs[i] - px);
    px = xs[i]; py = ys[i];
  }
  sum += 0.5 * (py + interp1(xs, ys, b)) * (b - px);
  return sum;
}

/**
 * The integral of p over the image [x(z0), x(z1)] from the arrays, by the substitution x = G(z):
 * int p dx = int_{z0}^{z1} p(G(z)) |G'(z)| dz, trapezoids on the same z-points as the blue area
 * (integrate(z, pi, ...)), so that float32 rounding of x does not enter (works for decreasing maps too).
 * Used only without an exact model; a trapezoid rule in x over float32 x was 0.0099999 for 0.01.
 */
export function integrateImage(a, z0, z1) {
  const { z, px, dxdz } = a;
  if (!(z1 > z0) || z.length < 2) return 0;
  const f = Array.from(z, (_, i) => px[i] * Math.abs(dxdz[i]));
  return integrate(z, f, z0, z1);
}

/** Is every grid point inside [z0, z1] (and the ends) valid? */
function allValid(a, z0, z1) {
  if (!a.valid) return true;
  // the grid points the strip's values are read from: those inside, and the neighbours its ends interpolate
  // between (an end exactly on a grid point reads that point alone)
  const i0 = bracket(a.z, z0), b1 = bracket(a.z, z1);
  const i1 = Math.min(a.z[b1] === z1 ? b1 : b1 + 1, a.z.length - 1);
  for (let i = Math.max(i0, 0); i <= i1; i++) if (!a.valid[i]) return false;
  return true;
}

/**
 * The strip [z0, z0 + dz] and its image.
 * With `model` (exact.js exactModel(meta)): every value exact in float64 from the formulas,
 *   pi = pi(z0), dxdz = G'(z0), x = G(z0), xEnd = G(z0 + dz), dzdx = 1 / |G'(z0)|, px = pi |dz/dx|,
 *   areaZ = int pi dz over the strip, areaX = int p dx over its image (exact.js massZ / massX).
 * Without it (a state with no known map): read off the arrays by linear interpolation, areas by trapezoids
 * on the grid's z-points, and `approx` is true (the last digits are not to be trusted).
 * Returns {z, dz, x, xEnd, dx, pi, dxdz, dzdx, px, areaZ, areaX, ok, reason, approx}; when the map is not
 * invertible at the strip (G' = 0 or an invalid point) ok is false, dzdx/px are Infinity and reason says why.
 */
export function stripReadout(a, z0, dz, model = null) {
  const z1 = z0 + dz;
  const pi = model ? model.pi(z0) : interp1(a.z, a.pi, z0);
  const dxdz = model ? model.dG(z0) : interp1(a.z, a.dxdz, z0);
  const r = { z: z0, dz, pi, dxdz, x: NaN, xEnd: NaN, dx: NaN, dzdx: Infinity, px: Infinity,
    areaZ: model ? model.massZ(z0, z1) : integrate(a.z, a.pi, z0, z1), areaX: NaN, ok: false, reason: "",
    approx: !model };
  if (!allValid(a, z0, z1) || !Number.isFinite(dxdz) || dxdz === 0) {
    r.reason = "not invertible";
    return r;
  }
  r.x = model ? model.G(z0) : interp1(a.z, a.x, z0);
  r.xEnd = model ? model.G(z1) : interp1(a.z, a.x, z1);
  r.dx = Math.abs(r.xEnd - r.x);
  r.dzdx = 1 / Math.abs(dxdz);
  r.px = pi * r.dzdx;
  r.areaX = model ? model.massX(z0, z1) : integrateImage(a, z0, z1);
  r.ok = Number.isFinite(r.px) && Number.isFinite(r.x);
  if (!r.ok) r.reason = "non-finite";
  return r;
}

/** Clamp a strip start so that [z0, z0 + dz] stays on the grid. */
export function clampStrip(z, z0, dz) {
  const lo = z[0], hi = z[z.length - 1] - dz;
  return hi > lo ? Math.min(Math.max(z0, lo), hi) : lo;
}

/** z with G(z) = xv, by inverse interpolation on the valid part of the monotone curve; NaN if none. */
export function zOfX(a, xv) {
  const xs = [], zs = [];
  for (let i = 0; i < a.z.length; i++) if (!a.valid || a.valid[i]) { xs.push(a.x[i]); zs.push(a.z[i]); }
  if (xs.length < 2) return NaN;
  if (xs[0] > xs[xs.length - 1]) { xs.reverse(); zs.reverse(); }
  return interp1(xs, zs, xv);
}
