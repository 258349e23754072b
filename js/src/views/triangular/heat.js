// heat.js: colours of the Jacobian heatmap and the log-log slope fit of the timing plot. Pure functions.

/**
 * Colour of a matrix entry: exact zeros are a flat neutral colour (so the zero pattern is exact),
 * non-zeros a diverging blue (negative) - red (positive) scale on t = log1p(|v|/s)/log1p(max/s).
 * Returns [r, g, b] in 0..255.
 */
export function heatColor(v, maxAbs, zero = [236, 238, 242]) {
  if (v === 0) return zero.slice();
  if (!Number.isFinite(v)) return [0, 0, 0];
  const m = maxAbs > 0 ? maxAbs : 1;
  const s = m / 100;
  const t = Math.min(1, Math.log1p(Math.abs(v) / s) / Math.log1p(m / s));
  const lo = 0.25 + 0.75 * t; // even the smallest non-zero is clearly tinted
  const c = v > 0 ? [178, 24, 43] : [33, 102, 172];
  const w = [247, 247, 247];
  return [0, 1, 2].map((i) => Math.round(w[i] + (c[i] - w[i]) * lo));
}

/** Least-squares slope and intercept of log10(y) against log10(x), over finite positive pairs. */
export function fitLogLog(xs, ys) {
  const pts = [];
  for (let i = 0; i < xs.length; i++) if (xs[i] > 0 && ys[i] > 0) pts.push([Math.log10(xs[i]), Math.log10(ys[i])]);
  if (pts.length < 2) return { slope: NaN, intercept: NaN };
  const n = pts.length;
  const mx = pts.reduce((s, p) => s + p[0], 0) / n, my = pts.reduce((s, p) => s + p[1], 0) / n;
  let sxx = 0, sxy = 0;
  for (const [x, y] of pts) { sxx += (x - mx) ** 2; sxy += (x - mx) * (y - my); }
  const slope = sxx > 0 ? sxy / sxx : NaN;
  return { slope, intercept: my - slope * mx };
}

/** Zero pattern of an n x n row-major matrix: "lower", "upper", "diagonal" or "full". */
export function zeroPattern(a, n) {
  let upper = true, lower = true;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = a[i * n + j];
      if (j > i && v !== 0) upper = false; // strictly upper part non-zero -> not lower triangular
      if (j < i && v !== 0) lower = false;
    }
  }
  if (upper && lower) return "diagonal";
  if (upper) return "lower";
  if (lower) return "upper";
  return "full";
}
