// math.js: pure maths of the likelihood-split view (no DOM).
//
// Arrays: cs (C,) log-spaced shrink factors (cs[C-1] = 1); logdet (N,) = log|det J_{G^-1}(x_i)|; z (N, d);
// term1 (C, N) = log pi(cs[j] z_i), sent only for a base without a closed form; mean1, mean2, mean_total (C,).
// The shrunk model G_c^{-1}(x) = c G^{-1}(x) has term2 = logdet + d log c exactly (the Jacobian of z -> c z
// is c I). The slider is continuous: termsAt(a, c, dim, family, support) gives both terms at any c. Term 1 is
// exact for meta.base_family "standard_normal" (log N(c z; 0, I) = -c^2 |z|^2 / 2 - (d/2) log 2 pi) and
// "uniform" (support.log_pi where support.low <= c z <= support.high, -inf outside: pi(c z) = 0); for other
// bases it is interpolated linearly in log c between the two grid values around c (c clamped to the grid)
// and `exact` is false. A -inf term (c z outside the base's support) stays -inf, and so does every mean
// over it: never a substituted 0.

const LOG_2PI = Math.log(2 * Math.PI);
const U = 2 ** -24; // float32's unit roundoff: the wire's rounding of z, logdet and term1
const E = 2 ** -53; // float64's: the browser's arithmetic

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

/** (1 - w) r0 + w r1, a weight of 0 leaving its value out (0 * -inf would be NaN): an infinite grid value with
 * a nonzero weight makes the result infinite. */
export function lerpLog(r0, r1, w) {
  return w === 0 ? r0 : w === 1 ? r1 : (1 - w) * r0 + w * r1;
}

/** |squared norm| of point i of z (N, dim), summed in order (the same arithmetic everywhere). */
function norm2(z, i, dim) {
  let r2 = 0;
  for (let q = 0; q < dim; q++) { const v = z[i * dim + q]; r2 += v * v; }
  return r2;
}

/**
 * Per-point terms at any c > 0: {c, t1: Float64Array, t2: Float64Array, exact, j, w, round1, round2}.
 * t2 = logdet + d log c (exact). t1: exact for family "standard_normal" (needs a.z) and "uniform" (needs a.z
 * and `support` {low, high, log_pi}), else the interpolation lerpLog(term1[j], term1[j + 1], w) in log c.
 * round1, round2: the sums over the points of each term's error bound from the float32 rounding of what it
 * was computed from (2^-24 relative: z, logdet, the grid values), as the browser combines them.
 */
export function termsAt(a, c, dim, family, support = null) {
  const N = a.logdet.length;
  const t1 = new Float64Array(N), t2 = new Float64Array(N);
  const shift = dim * Math.log(c);
  let round1 = 0, round2 = 0;
  for (let i = 0; i < N; i++) { const ld = a.logdet[i]; t2[i] = ld + shift; round2 += U * Math.abs(ld); }
  const hasZ = a.z && a.z.length === N * dim;
  if (family === "standard_normal" && hasZ) {
    const c2 = c * c, k = 0.5 * dim * LOG_2PI;
    let s2 = 0;
    for (let i = 0; i < N; i++) { const r2 = norm2(a.z, i, dim); t1[i] = -0.5 * c2 * r2 - k; s2 += r2; }
    // each z_q rounded by 2^-24: z_q^2 by 2^-23 + 2^-48, so c^2 |z|^2 / 2 by that relative
    round1 = 0.5 * c * c * s2 * (2 * U + U * U);
    return { c, t1, t2, exact: true, j: -1, w: 0, round1, round2 };
  }
  if (family === "uniform" && hasZ && support && support.low && support.high) {
    const { low, high } = support, L = Number(support.log_pi);
    for (let i = 0; i < N; i++) {
      let inside = true;
      for (let q = 0; q < dim && inside; q++) { const v = c * a.z[i * dim + q]; inside = v >= low[q] && v <= high[q]; }
      t1[i] = inside ? L : -Infinity;
    }
    return { c, t1, t2, exact: true, j: -1, w: 0, round1: 0, round2 };
  }
  if (a.cs.length < 2) { t1.set(a.term1.subarray(0, N)); return { c, t1, t2, exact: false, j: 0, w: 0, round1: NaN, round2 }; }
  const [j, w] = logBracket(a.cs, c);
  const r0 = a.term1.subarray(j * N, (j + 1) * N), r1 = a.term1.subarray((j + 1) * N, (j + 2) * N);
  for (let i = 0; i < N; i++) {
    t1[i] = lerpLog(r0[i], r1[i], w);
    round1 += U * lerpLog(Math.abs(r0[i]), Math.abs(r1[i]), w);
  }
  return { c, t1, t2, exact: false, j, w, round1, round2 };
}

/** {mean, abs, ninf, nbad} of every value: mean = their sum / n (a -inf value makes it -inf, NaN without values),
 * abs = the sum of |v| over the finite values, ninf = how many are -inf, nbad = how many are NaN or +inf. */
export function stats(values) {
  let s = 0, abs = 0, ninf = 0, nbad = 0;
  for (const v of values) {
    s += v;
    if (Number.isFinite(v)) abs += Math.abs(v);
    else if (v === -Infinity) ninf++;
    else nbad++;
  }
  return { mean: values.length ? s / values.length : NaN, abs, ninf, nbad };
}

/**
 * The averages at any c: {c, mean1, mean2, total, dlogc, exact, j, w, terms, err1, err2, errTotal, nonfinite1}
 * (see termsAt). Each mean is of every point (-inf where one point's term 1 is -inf). err*: absolute error
 * bounds of the means as computed here from the float32 arrays: the per-point rounding bounds of termsAt
 * averaged, the float64 evaluation of each term (a few 2^-53 relative) and the float64 sum of N terms
 * ((N - 1) 2^-53 times the sum of |t_i|, first order). They bound what the float32 wire (and float64 here)
 * can change; the flow's own arithmetic before the wire is not in them. nonfinite1: points whose term 1 is
 * not finite ({ninf, nbad}).
 */
export function averagesAtC(a, c, dim, family, support = null) {
  const t = termsAt(a, c, dim, family, support);
  const N = t.t1.length;
  const s1 = stats(t.t1), s2 = stats(t.t2);
  const m1 = s1.mean, m2 = s2.mean, total = m1 + m2;
  const dlogc = dim * Math.log(c);
  const k = family === "standard_normal" ? 0.5 * dim * LOG_2PI : 0;
  const err1 = N ? (t.round1 + (N + 8) * E * (s1.abs + N * k)) / N : NaN;
  const err2 = N ? (t.round2 + (N + 8) * E * (s2.abs + N * Math.abs(dlogc))) / N : NaN;
  return { c, mean1: m1, mean2: m2, total, dlogc, exact: t.exact, j: t.j, w: t.w, terms: t,
    err1, err2, errTotal: err1 + err2 + 2 * E * Math.abs(total), nonfinite1: { ninf: s1.ninf, nbad: s1.nbad } };
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

/** Per-point term 1 and term 2 at grid index j: {t1: Float32Array view, t2: Float64Array} (needs term1). */
export function pointTerms(a, j, dim) {
  const N = a.logdet.length;
  const t1 = a.term1.subarray(j * N, (j + 1) * N);
  const shift = dim * Math.log(a.cs[j]);
  const t2 = new Float64Array(N);
  for (let i = 0; i < N; i++) t2[i] = a.logdet[i] + shift;
  return { t1, t2 };
}

/** Mean of the finite values (NaN if none). For the averages of the terms see stats (every value counts). */
export function mean(values) {
  let s = 0, n = 0;
  for (const v of values) if (Number.isFinite(v)) { s += v; n++; }
  return n ? s / n : NaN;
}

// ---- the colour scales: robustRange, without sorting every frame

/** The index round(p (n - 1)) (halves up), within [0, n - 1]. */
const at = (p, n) => Math.min(n - 1, Math.max(0, Math.round(p * (n - 1))));

/** [lo, hi], widened on both sides by max(|lo| 1e-3, 1e-6) where flat (hi <= lo). */
function widen(lo, hi) {
  if (!(hi > lo)) { const m = Math.max(Math.abs(lo) * 1e-3, 1e-6); return [lo - m, hi + m]; }
  return [lo, hi];
}

/** The k-th smallest of a[l..r] (k in [l, r], no NaN), moving the values of a (Hoare's FIND: average O(r - l)). */
function select(a, k, l, r) {
  while (r > l) {
    const m = (l + r) >> 1;
    const p = a[l], q = a[m], s = a[r];
    const x = p < q ? (q < s ? q : p < s ? s : p) : (p < s ? p : q < s ? s : q); // median of three
    let i = l, j = r;
    while (i <= j) {
      while (a[i] < x) i++;
      while (a[j] > x) j--;
      if (i <= j) { const t = a[i]; a[i] = a[j]; a[j] = t; i++; j--; }
    }
    if (j < k) l = i;
    if (k < i) r = j;
  }
  return a[k];
}

/** [lo, hi] between the q-th and (1-q)-th quantiles of the finite values: the sorted values at round(q (n-1))
 * and round((1-q)(n-1)), found by selection (O(n)) instead of a sort; widened if flat; [0, 1] without any. */
export function robustRange(values, q = 0.02) {
  let n = 0;
  for (const v of values) if (Number.isFinite(v)) n++;
  if (!n) return [0, 1];
  const v = new Float64Array(n);
  let i = 0;
  for (const x of values) if (Number.isFinite(x)) v[i++] = x;
  const iLo = at(q, n), iHi = at(1 - q, n);
  const lo = select(v, iLo, 0, n - 1);
  const hi = iHi >= iLo ? select(v, iHi, iLo, n - 1) : select(v, iHi, 0, iLo);
  return widen(lo, hi);
}

/**
 * What the colour scales need, sorted once per scene: {ld: the finite logdet ascending, r2: |z_i|^2 ascending
 * (standard normal base only)}. Term 2 = logdet + d log c and the standard normal's term 1 = -c^2 |z|^2 / 2 -
 * (d/2) log 2 pi are monotone in them, so termRanges reads their quantiles off these at any c: the very numbers
 * robustRange finds in the terms (the same float64 arithmetic as termsAt), without a pass over the points.
 */
export function prepareRanges(a, dim, family) {
  const N = a.logdet.length;
  let n = 0;
  for (let i = 0; i < N; i++) if (Number.isFinite(a.logdet[i])) n++;
  const ld = new Float64Array(n);
  for (let i = 0, k = 0; i < N; i++) if (Number.isFinite(a.logdet[i])) ld[k++] = a.logdet[i];
  ld.sort();
  let r2 = null;
  if (family === "standard_normal" && a.z && a.z.length === N * dim) {
    r2 = new Float64Array(N);
    for (let i = 0; i < N; i++) r2[i] = norm2(a.z, i, dim);
    r2.sort();
  }
  return { ld, r2 };
}

/**
 * [[lo1, hi1], [lo2, hi2]]: robustRange(terms.t1, q) and robustRange(terms.t2, q), the colour scales of the two
 * scatter panels at terms.c; from `prep` (prepareRanges) where the term is monotone in a sorted key, a constant
 * (the uniform base's term 1: one finite value), else by selection.
 */
export function termRanges(terms, dim, family, prep, support = null, q = 0.02) {
  const c = terms.c;
  let r1, r2;
  if (prep && prep.ld && prep.ld.length === terms.t2.length) {
    const v = prep.ld, n = v.length, shift = dim * Math.log(c);
    r2 = widen(v[at(q, n)] + shift, v[at(1 - q, n)] + shift);
  } else r2 = robustRange(terms.t2, q);
  if (family === "standard_normal" && terms.exact && prep && prep.r2 && prep.r2.length === terms.t1.length && prep.r2.length) {
    // t1 decreases with r2: its k-th smallest is f(the (n-1-k)-th smallest r2)
    const v = prep.r2, n = v.length, c2 = c * c, k = 0.5 * dim * LOG_2PI;
    const f = (r) => -0.5 * c2 * r - k;
    r1 = widen(f(v[n - 1 - at(q, n)]), f(v[n - 1 - at(1 - q, n)]));
  } else if (family === "uniform" && terms.exact && support) {
    let finite = false;
    for (const v of terms.t1) if (Number.isFinite(v)) { finite = true; break; }
    const L = Number(support.log_pi);
    r1 = finite ? widen(L, L) : [0, 1];
  } else r1 = robustRange(terms.t1, q);
  return [r1, r2];
}

/** The averages at index j: from the per-point terms (needs term1). */
export function averagesAt(a, j, dim) {
  const { t1, t2 } = pointTerms(a, j, dim);
  const m1 = stats(t1).mean, m2 = stats(t2).mean;
  return { c: a.cs[j], mean1: m1, mean2: m2, total: m1 + m2, dlogc: dim * Math.log(a.cs[j]) };
}

/** Finite [min, max] over several arrays; [0, 1] if none. */
export function extent(...arrays) {
  let lo = Infinity, hi = -Infinity;
  for (const arr of arrays) for (const v of arr) if (Number.isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
  return lo <= hi ? [lo, hi] : [0, 1];
}
