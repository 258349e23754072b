// exact.js: the bases and maps of ChangeOfVariables1D written out in float64, from what Python sends in
// meta (base, map, params), so that the strip readouts are exact instead of read off the float32 curves.
// Direction: forward is base -> data, x = G(z); the inverse is data -> base, z = G^-1(x).
//
//   bases:  "uniform"  pi(z) = 1 on [0, 1];          "normal"  pi(z) = exp(-z^2 / 2) / sqrt(2 pi)
//   maps:   "affine"        x = a z + b
//           "sigmoid"       x = sigmoid(a z + b)
//           "sinh_arcsinh"  x = a sinh((asinh z + skew) / tail) + b
//           "logit"         x = a logit(z) + b
//
// The same formulas as flowviz/scene/cov1d.py (which builds them from flowviz.flows layers).

/** 10-point Gauss-Legendre nodes and weights on [-1, 1] (numpy.polynomial.legendre.leggauss(10)). */
const GL_NODES = [-0.9739065285171717, -0.8650633666889845, -0.6794095682990244, -0.4333953941292472,
  -0.14887433898163122, 0.14887433898163122, 0.4333953941292472, 0.6794095682990244, 0.8650633666889845,
  0.9739065285171717];
const GL_WEIGHTS = [0.06667134430868814, 0.1494513491505804, 0.219086362515982, 0.2692667193099965,
  0.2955242247147528, 0.2955242247147528, 0.2692667193099965, 0.219086362515982, 0.1494513491505804,
  0.06667134430868814];

/** Widest Gauss-Legendre panel: 10 nodes on 0.125 integrate these smooth integrands to float64 rounding. */
export const MAX_PANEL = 0.125;

/**
 * int_lo^hi f(t) dt by composite 10-point Gauss-Legendre (panels at most maxPanel wide); 0 when hi <= lo.
 * Exact for polynomials of degree <= 19 on each panel.
 */
export function gaussLegendre(f, lo, hi, maxPanel = MAX_PANEL) {
  if (!(hi > lo)) return 0;
  const n = Math.max(1, Math.ceil((hi - lo) / maxPanel));
  let sum = 0;
  for (let k = 0; k < n; k++) {
    const a = lo + ((hi - lo) * k) / n, b = k === n - 1 ? hi : lo + ((hi - lo) * (k + 1)) / n;
    const mid = 0.5 * (a + b), half = 0.5 * (b - a);
    let s = 0;
    for (let i = 0; i < 10; i++) s += GL_WEIGHTS[i] * f(mid + half * GL_NODES[i]);
    sum += half * s;
  }
  return sum;
}

const SQRT_2PI = Math.sqrt(2 * Math.PI);

/** sigmoid(u) = 1 / (1 + e^-u), without overflow for either sign of u. */
export function sigmoid(u) {
  if (u >= 0) return 1 / (1 + Math.exp(-u));
  const e = Math.exp(u);
  return e / (1 + e);
}

/** sigmoid'(u) = sigmoid(u) (1 - sigmoid(u)) = e^-|u| / (1 + e^-|u|)^2, accurate in both tails. */
export function sigmoidSlope(u) {
  const e = Math.exp(-Math.abs(u));
  return e / ((1 + e) * (1 + e));
}

/** logit(x) = log x - log(1 - x), x in (0, 1). */
export function logit(x) {
  return Math.log(x) - Math.log1p(-x);
}

/** The bases: density pi(z) and its support [lo, hi]. */
export const BASES = {
  uniform: { pi: (z) => (z >= 0 && z <= 1 ? 1 : 0), lo: 0, hi: 1 },
  normal: { pi: (z) => Math.exp(-0.5 * z * z) / SQRT_2PI, lo: -Infinity, hi: Infinity },
};

/** Closest a sigmoid map's x may come to 1: the float64 spacing there (1.1e-16) then errs 1 - x, hence
 * z = G^-1(x) and dz/dx = 1 / (a x (1 - x)), by at most 1.1e-8 relative; closer, x is not resolved in float64. */
export const SIGMOID_EDGE = 1e-8;

/**
 * The maps from their parameters: G(z), G'(z) (signed), G^-1(x), |dG^-1/dx| and resolved(x) (whether p can be
 * evaluated at x to float64 accuracy: false only where a sigmoid map's x lies within SIGMOID_EDGE of 1), all
 * in float64. Returns null for a map this file does not know.
 */
export function makeMap(map, p) {
  const a = +p.a, b = +p.b;
  if (map === "affine") {
    return { G: (z) => a * z + b, dG: () => a, Ginv: (x) => (x - b) / a, dGinvAbs: () => 1 / Math.abs(a),
      resolved: () => true };
  }
  if (map === "sigmoid") {
    // x = sigmoid(a z + b); z = (logit(x) - b) / a; dz/dx = 1 / (a x (1 - x))
    return { G: (z) => sigmoid(a * z + b), dG: (z) => a * sigmoidSlope(a * z + b),
      Ginv: (x) => (logit(x) - b) / a, dGinvAbs: (x) => 1 / Math.abs(a * x * (1 - x)),
      resolved: (x) => 1 - x >= SIGMOID_EDGE };
  }
  if (map === "sinh_arcsinh") {
    // x = a sinh(u) + b, u = (asinh z + skew) / tail; dx/dz = a cosh(u) / (tail sqrt(1 + z^2))
    // z = sinh(v), v = tail asinh(y) - skew, y = (x - b) / a; dz/dx = tail cosh(v) / (|a| sqrt(1 + y^2))
    const skew = +p.skew, tail = +p.tail;
    const u = (z) => (Math.asinh(z) + skew) / tail;
    const v = (x) => tail * Math.asinh((x - b) / a) - skew;
    return { G: (z) => a * Math.sinh(u(z)) + b, dG: (z) => (a * Math.cosh(u(z))) / (tail * Math.hypot(1, z)),
      Ginv: (x) => Math.sinh(v(x)),
      dGinvAbs: (x) => (tail * Math.cosh(v(x))) / (Math.abs(a) * Math.hypot(1, (x - b) / a)), resolved: () => true };
  }
  if (map === "logit") {
    // x = a logit(z) + b; dx/dz = a / (z (1 - z)); z = sigmoid((x - b) / a); dz/dx = sigmoid'((x - b) / a) / |a|
    return { G: (z) => a * logit(z) + b, dG: (z) => a / (z * (1 - z)), Ginv: (x) => sigmoid((x - b) / a),
      dGinvAbs: (x) => sigmoidSlope((x - b) / a) / Math.abs(a), resolved: () => true };
  }
  return null;
}

/**
 * The exact model of a state from its meta ({base, map, params}), or null when the base, the map or a
 * parameter is unknown or not a finite number (the view then reads its values off the arrays).
 * Model: {base, map, pi(z), G(z), dG(z), p(x), massZ(z0, z1), massX(z0, z1)} with
 *   p(x) = pi(G^-1(x)) |dG^-1/dx|                         (the pushed density, evaluated at x)
 *   massZ = int_{z0}^{z1} pi(z) dz                         (the blue area; exact length for U[0, 1])
 *   massX = int_{G(z0)}^{G(z1)} p(x) dx = int_{z0}^{z1} p(G(t)) |G'(t)| dt   (the green area, x = G(t))
 * both integrals over the strip clipped to the base's support, on the same Gauss-Legendre nodes. p is
 * evaluated at x through the inverse map, not as pi(t) / |G'(t)|: the areas agree because the change of
 * variables holds, not by construction. massX is NaN where the image is not resolved in float64 (a node's
 * x = G(t) where p cannot be evaluated accurately, see makeMap's resolved, or a non-finite integrand): never
 * a wrong number.
 */
export function exactModel(meta) {
  if (!meta || typeof meta !== "object") return null;
  const base = BASES[meta.base];
  const params = meta.params || {};
  const need = { affine: ["a", "b"], sigmoid: ["a", "b"], sinh_arcsinh: ["skew", "tail", "a", "b"], logit: ["a", "b"] };
  const names = need[meta.map];
  if (!base || !names || !names.every((k) => typeof params[k] === "number" && Number.isFinite(params[k]))) return null;
  const g = makeMap(meta.map, params);
  const p = (x) => {
    const z = g.Ginv(x);
    const d = base.pi(z);
    return d === 0 ? 0 : d * g.dGinvAbs(x);
  };
  const clip = (z0, z1) => [Math.max(z0, base.lo), Math.min(z1, base.hi)];
  return {
    base: meta.base, map: meta.map, pi: base.pi, G: g.G, dG: g.dG, p,
    massZ(z0, z1) {
      const [lo, hi] = clip(z0, z1);
      if (!(hi > lo)) return 0;
      return meta.base === "uniform" ? hi - lo : gaussLegendre(base.pi, lo, hi);
    },
    massX(z0, z1) {
      const [lo, hi] = clip(z0, z1);
      const f = (t) => {
        const x = g.G(t);
        const v = g.resolved(x) ? p(x) * Math.abs(g.dG(t)) : NaN;
        return Number.isFinite(v) ? v : NaN;
      };
      return gaussLegendre(f, lo, hi);
    },
  };
}
