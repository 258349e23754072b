// colormap.js: log-density -> colour through a 256 x 3 lookup table (RGB in 0..1).
//
// Values are scaled linearly from [lo, hi] onto the table and clamped at its ends.
// A non-finite value never becomes NaN: it maps to NO_VALUE (transparent), and
// index() returns -1 for it.

/** RGBA (0..255) used for values that are not finite: fully transparent. */
export const NO_VALUE = Object.freeze([0, 0, 0, 0]);

// A few anchors of viridis, used when no table is supplied.
const VIRIDIS = [
  [0.267, 0.005, 0.329], [0.283, 0.141, 0.458], [0.254, 0.265, 0.53], [0.207, 0.372, 0.553],
  [0.164, 0.471, 0.558], [0.128, 0.567, 0.551], [0.135, 0.659, 0.518], [0.267, 0.749, 0.441],
  [0.478, 0.821, 0.318], [0.741, 0.873, 0.15], [0.993, 0.906, 0.144],
];

/** A 256 x 3 Float32Array table interpolated from anchor colours (default: viridis). */
export function makeLut(anchors = VIRIDIS) {
  const lut = new Float32Array(256 * 3);
  const m = anchors.length - 1;
  for (let i = 0; i < 256; i++) {
    const s = (i / 255) * m;
    const j = Math.min(Math.floor(s), m - 1);
    const f = s - j;
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = (1 - f) * anchors[j][c] + f * anchors[j + 1][c];
  }
  return lut;
}

/** Table index 0..255 for a value, or -1 if the value is not finite. Degenerate ranges map to the middle. */
export function lutIndex(value, lo, hi) {
  if (!Number.isFinite(value)) return -1;
  const span = hi - lo;
  if (!(span > 0) || !Number.isFinite(span)) return 128;
  const s = (value - lo) / span;
  if (s <= 0) return 0;
  if (s >= 1) return 255;
  return Math.round(s * 255);
}

/** The table as RGBA bytes (1024), e.g. for a 256 x 1 texture. Accepts a table in 0..1 or 0..255. */
export function lutToRGBA8(lut) {
  const table = lut || makeLut();
  let max = 0;
  for (let i = 0; i < 768; i++) if (table[i] > max) max = table[i];
  const scale = max > 1.0001 ? 1 : 255;
  const out = new Uint8Array(256 * 4);
  for (let i = 0; i < 256; i++) {
    for (let c = 0; c < 3; c++) {
      const v = table[i * 3 + c] * scale;
      out[i * 4 + c] = Number.isFinite(v) ? Math.max(0, Math.min(255, Math.round(v))) : 128;
    }
    out[i * 4 + 3] = 255;
  }
  return out;
}

/**
 * A colour map bound to a table and limits.
 * @param {Float32Array|number[]|null} lut 256 x 3, RGB in 0..1
 * @param {number} lo value drawn with the first colour
 * @param {number} hi value drawn with the last colour
 */
export function makeColormap(lut, lo, hi, { noValue = NO_VALUE } = {}) {
  const rgba = lutToRGBA8(lut);
  const css = [];
  for (let i = 0; i < 256; i++) css.push(`rgb(${rgba[i * 4]},${rgba[i * 4 + 1]},${rgba[i * 4 + 2]})`);
  const noCss = `rgba(${noValue[0]},${noValue[1]},${noValue[2]},${noValue[3] / 255})`;
  return {
    lo, hi, rgba,
    index: (v) => lutIndex(v, lo, hi),
    /** [r, g, b, a] in 0..255; NO_VALUE for non-finite input. */
    rgb(v) {
      const i = lutIndex(v, lo, hi);
      return i < 0 ? noValue.slice() : [rgba[i * 4], rgba[i * 4 + 1], rgba[i * 4 + 2], 255];
    },
    /** CSS colour string for a value. */
    css(v) {
      const i = lutIndex(v, lo, hi);
      return i < 0 ? noCss : css[i];
    },
    cssAt: (i) => (i < 0 ? noCss : css[i]),
    /** Colour many values into RGBA bytes (out: 4 per value). */
    fill(values, out = new Uint8Array(values.length * 4)) {
      for (let k = 0; k < values.length; k++) {
        const i = lutIndex(values[k], lo, hi);
        const o = k * 4;
        if (i < 0) {
          out[o] = noValue[0]; out[o + 1] = noValue[1]; out[o + 2] = noValue[2]; out[o + 3] = noValue[3];
        } else {
          out[o] = rgba[i * 4]; out[o + 1] = rgba[i * 4 + 1]; out[o + 2] = rgba[i * 4 + 2]; out[o + 3] = 255;
        }
      }
      return out;
    },
  };
}
