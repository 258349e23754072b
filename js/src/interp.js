// interp.js: the picture at a fractional layer position t in [0, K].
//
// State arrays are stacked along their first axis: (K+1, ...). Position t shows
// (1 - f) * state[floor(t)] + f * state[ceil(t)], f = t - floor(t). At an integer t
// the state is copied exactly (so non-finite values of a neighbouring state never
// leak in). A non-finite value in either neighbour stays non-finite in between.

/** Clamp t into [0, K] and split it into the two neighbouring states and the weight f. */
export function layerSpan(t, K) {
  const tc = Number.isFinite(t) ? Math.min(Math.max(t, 0), K) : 0;
  let k0 = Math.floor(tc);
  if (k0 >= K) return { t: tc, k0: K, k1: K, f: 0 };
  const f = tc - k0;
  // at an integer position show state k0 exactly (validity of state k0 + 1 does not matter there)
  return { t: tc, k0, k1: f === 0 ? k0 : k0 + 1, f };
}

/**
 * Interpolate stacked states into `out` (reused; no allocation).
 * @param {Float32Array} data  (K+1) * stride values
 * @param {number} stride      values per state
 * @param {number} t           layer position (clamped to [0, K])
 * @param {Float32Array} out   stride values, written in place and returned
 */
export function interpolateInto(data, stride, t, out) {
  const K = data.length / stride - 1;
  const { k0, k1, f } = layerSpan(t, K);
  const a = k0 * stride;
  if (f === 0) {
    out.set(data.subarray(a, a + stride));
    return out;
  }
  const b = k1 * stride;
  const g = 1 - f;
  for (let i = 0; i < stride; i++) out[i] = g * data[a + i] + f * data[b + i];
  return out;
}

/** A stacked state array bound to its own output buffer: `at(t)` returns the same Float32Array each call. */
export class StateInterpolator {
  /** @param {{data: Float32Array, shape: number[]}} array shape (K+1, ...) */
  constructor(array) {
    this.data = array.data;
    this.K = array.shape[0] - 1;
    this.stride = this.K >= 0 ? array.data.length / array.shape[0] : 0;
    this.out = new Float32Array(this.stride);
    this.t = NaN;
  }

  /** Values at layer position t; cached while t does not change. */
  at(t) {
    if (t !== this.t) {
      interpolateInto(this.data, this.stride, t, this.out);
      this.t = t;
    }
    return this.out;
  }

  /** The exact state k as a subarray view (no copy). */
  state(k) {
    const kk = Math.min(Math.max(k | 0, 0), this.K);
    return this.data.subarray(kk * this.stride, (kk + 1) * this.stride);
  }
}
