// points.js: how large and how opaque the sample points are drawn, from how crowded they are on screen.
//
// A cloud of n points in a small part of the plot (the base Gaussian at state 0 under a camera fixed on
// the union of all states, or 100k points anywhere) drawn at full size turns into a dark mass of
// overlapping rims that hides the density map beneath. So the points shrink (down to half size) and
// fade when their discs would cover more of the cloud's box than `maxCover`; where they have room they
// are drawn as the theme says. The box is the state's robust bounds (Python: 0.2-99.8% quantiles, padded
// by 12%), which for a Gaussian is about four times the area its bulk covers: hence the small default.

/**
 * @param {number} n       number of points
 * @param {number} areaPx  area of the cloud's box on screen, CSS px^2
 * @param {number} sizePx  the theme's point diameter, CSS px
 * @param {{maxCover?: number, minScale?: number, minAlpha?: number}} [opts]
 * @returns {{scale: number, alpha: number, rim: number}} multipliers of the diameter, the fill's
 *   opacity and the rim's opacity (1, 1, 1 for an uncrowded cloud)
 */
export function crowding(n, areaPx, sizePx, { maxCover = 0.15, minScale = 0.5, minAlpha = 0.35 } = {}) {
  if (!(n > 0) || !(areaPx > 0) || !(sizePx > 0) || !Number.isFinite(areaPx)) return { scale: 1, alpha: 1, rim: 1 };
  const cover = (n * Math.PI * (sizePx / 2) ** 2) / areaPx;
  if (cover <= maxCover) return { scale: 1, alpha: 1, rim: 1 };
  const scale = Math.max(minScale, Math.sqrt(maxCover / cover));
  const over = (cover * scale * scale) / maxCover; // still this many times too crowded at the smaller size
  const alpha = Math.min(1, Math.max(minAlpha, 1 / Math.sqrt(over)));
  return { scale, alpha, rim: scale };
}

/** The area (CSS px^2) of a box [x0, x1, y0, y1] in data units under a transform with scales sx, sy (px per unit). */
export function boxAreaPx(box, sx, sy) {
  if (!box) return NaN;
  const [x0, x1, y0, y1] = box;
  return Math.abs((x1 - x0) * sx * (y1 - y0) * sy);
}

/** The robust bounds at a layer position: state k0's and k1's boxes mixed by f (null without bounds). */
export function boundsAt(bounds, span) {
  if (!bounds || !bounds[span.k0]) return null;
  const a = bounds[span.k0], b = bounds[span.k1] || a, f = span.f || 0;
  return a.map((v, i) => v + (b[i] - v) * f);
}
