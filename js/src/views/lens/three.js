// three.js: the 3x3 part of the Jacobian lens: the six-term (Sarrus) rule and a cabinet projection
// of the unit cube's image parallelepiped. Pure functions (node-tested).

/** The six terms of det M as {label, sign, value}; M is 3x3 nested or 9 numbers row-major. */
export const SIX = [
  [+1, [[0, 0], [1, 1], [2, 2]]], [+1, [[0, 1], [1, 2], [2, 0]]], [+1, [[0, 2], [1, 0], [2, 1]]],
  [-1, [[0, 2], [1, 1], [2, 0]]], [-1, [[0, 1], [1, 0], [2, 2]]], [-1, [[0, 0], [1, 2], [2, 1]]],
];

const at = (m, i, j) => (Array.isArray(m[0]) ? m[i][j] : m[3 * i + j]);

export function sixTerms(m) {
  return SIX.map(([sign, idx]) => ({
    sign,
    label: `${sign > 0 ? "+" : "\u2212"} ${idx.map(([i, j]) => `a${i + 1}${j + 1}`).join(" ")}`,
    value: sign * idx.reduce((p, [i, j]) => p * at(m, i, j), 1),
  }));
}

/** det M by the six-term rule. */
export function det3(m) {
  return sixTerms(m).reduce((s, t) => s + t.value, 0);
}

/** The 8 vertices M c, c in {0,1}^3, vertex index c1 + 2 c2 + 4 c3. */
export function cubeImage(m) {
  const out = [];
  for (let i = 0; i < 8; i++) {
    const c = [i & 1, (i >> 1) & 1, (i >> 2) & 1];
    out.push([0, 1, 2].map((r) => at(m, r, 0) * c[0] + at(m, r, 1) * c[1] + at(m, r, 2) * c[2]));
  }
  return out;
}

/** The 12 cube edges as vertex index pairs. */
export const CUBE_EDGES = (() => {
  const e = [];
  for (let i = 0; i < 8; i++) for (const b of [1, 2, 4]) if (!(i & b)) e.push([i, i | b]);
  return e;
})();

/** Cabinet projection (u, v) = (x + k cos(a) y, z + k sin(a) y); the same as flowviz.scene.lens.oblique_projection. */
export function project(p, depth = 0.5, angleDeg = 30) {
  const a = (angleDeg * Math.PI) / 180;
  return [p[0] + depth * Math.cos(a) * p[1], p[2] + depth * Math.sin(a) * p[1]];
}
