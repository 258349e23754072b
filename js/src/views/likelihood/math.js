// math.js: pure maths of the likelihood-split view (no DOM).
//
// Arrays: cs (C,) log-spaced shrink factors (cs[C-1] = 1); term1 (C, N) = log pi(cs[j] z_i);
// logdet (N,) = log|det J_{G^-1}(x_i)|; mean1, mean2, mean_total (C,). The shrunk model
// G_c^{-1}(x) = c G^{-1}(x) has term2 = logdet + d log c exactly (the Jacobian of z -> c z is c I).
// The slider is continuous: termsAt(a, c, dim, family) gives both terms at any c. For the standard
// normal base (meta.base_family "standard_normal") term 1 = log N(c z; 0, I) = -c^2 |z|^2 / 2 -
// (d/2) log 2 pi is computed exactly from z (N, d); for other bases it is interpolated linearly in
// log c between the two grid values around c (c clamped to the grid) and `exact` is false.

const LOG_2PI = Math.log(2 * Math.PI);

/** [j, w]: the grid interval around c in log c (cs ascending, >= 2 values) and the weight of j + 1. */
export function logBracket(cs, c) {
  const C = cs.length;
  const lc = Math.log(c), lo = Math.log(cs[0]), hi = Math.log(cs[C - 1]);
  if (!(lc > lo)) return [0, 0];
  if (!(lc < hi)) return [C - 2, 1];
  let j = 0, k = C - 1;
  while (k - j > 1) { const m = (j + k) >> 1; if (Math.log(cs[m]) <= lc) j = m; else k = m; }
  const l0 = Math.log(cs[j]), l1 = Math.log(cs[j + 1]);
  return [j, l1 > l0 ? (lc - l0) / (l1 - l0) : 0];
}

/**
 * Per-point terms at any c > 0: {c, t1: Float64Array, t2: Float64Array, exact, j, w}.
 * t2 = logdet + d log c (exact). t1: exact for family "standard_normal" (needs a.z), else the
 * interpolation (1 - w) term1[j] + w term1[j + 1] in log c.
 */
export function termsAt(a, c, dim, family) {
  const N = a.logdet.length;
  const t1 = new Float64Array(N), t2 = new Float64Array(N);
  const shift = dim * Math.log(c);
  for (let i = 0; i < N; i++) t2[i] = a.logdet[i] + shift;
  if (family === "standard_normal" && a.z && a.z.length === N * dim) {
    const c2 = c * c, k = 0.5 * dim * LOG_2PI;
    for (let i = 0; i < N; i++) {
      let r2 = 0;
      for (let q = 0; q < dim; q++) { const v = a.z[i * dim + q]; r2 += v * v; }
      t1[i] = -0.5 * c2 * r2 - k;
    }
    return { c, t1, t2, exact: true, j: -1, w: 0 };
  }
  if (a.cs.length < 2) { t1.set(a.term1.subarray(0, N)); return { c, t1, t2, exact: false, j: 0, w: 0 }; }
  const [j, w] = logBracket(a.cs, c);
  const r0 = a.term1.subarray(j * N, (j + 1) * N), r1 = a.term1.subarray((j + 1) * N, (j + 2) * N);
  for (let i = 0; i < N; i++) t1[i] = (1 - w) * r0[i] + w * r1[i];
  return { c, t1, t2, exact: false, j, w };
}

/** The averages at any c: {c, mean1, mean2, total, dlogc, exact, j, w} (see termsAt). */
export function averagesAtC(a, c, dim, family) {
  const t = termsAt(a, c, dim, family);
  const m1 = mean(t.t1), m2 = mean(t.t2);
  return { c, mean1: m1, mean2: m2, total: m1 + m2, dlogc: dim * Math.log(c), exact: t.exact, j: t.j, w: t.w, terms: t };
}

/** Index of the grid value nearest to c in log c (cs ascending, positive). */
export function cIndex(cs, c) {
  if (!cs.length) return -1;
  const lc = Math.log(Math.max(c, 1e-300));
  let best = 0, bd = Infinity;
  for (let j = 0; j < cs.length; j++) {
    const d = Math.abs(Math.log(cs[j]) - lc);
    if (d < bd) { bd = d; best = j; }
  }
  return best;
}

/** Per-point term 1 and term 2 at grid index j: {t1: Float32Array view, t2: Float64Array}. */
export function pointTerms(a, j, dim) {
  const N = a.logdet.length;
  const t1 = a.term1.subarray(j * N, (j + 1) * N);
  const shift = dim * Math.log(a.cs[j]);
  const t2 = new Float64Array(N);
  for (let i = 0; i < N; i++) t2[i] = a.logdet[i] + shift;
  return { t1, t2 };
}

/** Mean of the finite values (NaN if none). */
export function mean(values) {
  let s = 0, n = 0;
  for (const v of values) if (Number.isFinite(v)) { s += v; n++; }
  return n ? s / n : NaN;
}

/** [lo, hi] between the q-th and (1-q)-th quantiles of the finite values (widened if flat). */
export function robustRange(values, q = 0.02) {
  const v = Array.from(values).filter(Number.isFinite).sort((x, y) => x - y);
  if (!v.length) return [0, 1];
  const at = (p) => v[Math.min(v.length - 1, Math.max(0, Math.round(p * (v.length - 1))))];
  let lo = at(q), hi = at(1 - q);
  if (!(hi > lo)) { const m = Math.max(Math.abs(lo) * 1e-3, 1e-6); lo -= m; hi += m; }
  return [lo, hi];
}

/** The averages at index j: from the per-point terms (and the grid means, for a check). */
export function averagesAt(a, j, dim) {
  const { t1, t2 } = pointTerms(a, j, dim);
  const m1 = mean(t1), m2 = mean(t2);
  return { c: a.cs[j], mean1: m1, mean2: m2, total: m1 + m2, dlogc: dim * Math.log(a.cs[j]) };
}

/** Finite [min, max] over several arrays; [0, 1] if none. */
export function extent(...arrays) {
  let lo = Infinity, hi = -Infinity;
  for (const arr of arrays) for (const v of arr) if (Number.isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
  return lo <= hi ? [lo, hi] : [0, 1];
}
