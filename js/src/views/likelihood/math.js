// math.js: pure maths of the likelihood-split view (no DOM).
//
// Arrays: cs (C,) log-spaced shrink factors (cs[C-1] = 1); term1 (C, N) = log pi(cs[j] z_i);
// logdet (N,) = log|det J_{G^-1}(x_i)|; mean1, mean2, mean_total (C,). The shrunk model
// G_c^{-1}(x) = c G^{-1}(x) has term2 = logdet + d log c exactly (the Jacobian of z -> c z is c I).

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
