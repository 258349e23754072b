// heat.js: colours of the Jacobian heatmap and the log-log slope fit of the timing plot. Pure functions.

/**
 * Colour of a matrix entry: exact zeros are a flat neutral colour (so the zero pattern is exact),
 * non-zeros a diverging blue (negative) - red (positive) scale on t = log1p(|v|/s)/log1p(max/s).
 * Returns [r, g, b] in 0..255.
 */
export function heatColor(v, maxAbs, zero = HEAT_ZERO) {
  if (v === 0) return zero.slice();
  if (!Number.isFinite(v)) return [0, 0, 0];
  return tintOf(Math.sign(v) * heatPosition(Math.abs(v), maxAbs));
}

/** The neutral colour of an exact zero. */
export const HEAT_ZERO = [236, 238, 242];

/** Where |v| lies on the scale, t = log1p(|v|/s)/log1p(max/s) in [0, 1], s = max/100. */
export function heatPosition(absV, maxAbs) {
  const m = maxAbs > 0 ? maxAbs : 1;
  const s = m / 100;
  return Math.min(1, Math.log1p(absV / s) / Math.log1p(m / s));
}

// the colour at signed scale position t in [-1, 1] (t != 0): white tinted towards red (t > 0) or blue
function tintOf(t) {
  const lo = 0.25 + 0.75 * Math.abs(t); // even the smallest non-zero is clearly tinted
  const c = t > 0 ? [178, 24, 43] : [33, 102, 172];
  const w = [247, 247, 247];
  return [0, 1, 2].map((i) => Math.round(w[i] + (c[i] - w[i]) * lo));
}

/**
 * The colour key of the heatmap, -maxAbs at the left to +maxAbs at the right: `gradient`, a CSS
 * linear-gradient with the same colours as heatColor (a hard step at the centre, where the smallest
 * non-zeros of either sign meet), and `ticks` [{pos (0..1), label}] at -max, -max/10, +max/10, +max
 * (each placed where heatColor puts that value).
 */
export function heatKey(maxAbs, steps = 8) {
  const m = maxAbs > 0 ? maxAbs : 1;
  const stops = [];
  const stop = (t) => `rgb(${tintOf(t).join(",")}) ${(50 + 50 * t).toFixed(2)}%`;
  for (let i = steps; i >= 1; i--) stops.push(stop(-i / steps));
  stops.push(stop(-Number.MIN_VALUE), stop(Number.MIN_VALUE)); // the smallest non-zeros of either sign meet
  for (let i = 1; i <= steps; i++) stops.push(stop(i / steps));
  const label = (v) => Number(v.toPrecision(2)).toString();
  const ticks = [-m, -m / 10, m / 10, m].map((v) => ({
    pos: 0.5 + 0.5 * Math.sign(v) * heatPosition(Math.abs(v), m), label: label(v),
  }));
  return { gradient: `linear-gradient(to right, ${stops.join(", ")})`, ticks };
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

/** What the readout says of a zeroPattern result. */
export function patternText(pattern) {
  return { lower: "lower triangular (strictly upper part = 0)", upper: "upper triangular (strictly lower part = 0)",
    diagonal: "diagonal (triangular both ways)", full: "not triangular (full)" }[pattern] ?? String(pattern);
}
