// linalg.js: 2x2 algebra of the lens readouts (row-major [a, b, c, d]). Pure functions.

import { det2 } from "../../readout.js";

/**
 * Python's test (flowviz.scene.lens.singular): |det| <= tol |row 1| |row 2|, the rows parallel to within `tol`
 * radians. Scale-free: diag(1e6, 1e-6) (det 1) is invertible. Not finite (det or an entry): singular.
 */
export function isSingular(J, det = det2(J), tol = 1e-12) {
  if (!Number.isFinite(det) || !J.every(Number.isFinite)) return true;
  return !(Math.abs(det) > tol * Math.hypot(J[0], J[1]) * Math.hypot(J[2], J[3]));
}

/**
 * Inverse of a row-major 2x2, or null when singular (isSingular). `det`: the determinant to use, when a more
 * exact one than det2(J) is known (the lens sends each vertex's det computed in float64: det2 of the float32 J
 * of a singular map is rounding noise, |det| ~ 1e-9, and would give a made-up inverse).
 */
export function inv2(J, tol = 1e-12, det = det2(J)) {
  if (isSingular(J, det, tol)) return null;
  return [J[3] / det, -J[1] / det, -J[2] / det, J[0] / det];
}

/** Product A B of row-major 2x2s. */
export function mul2(A, B) {
  return [A[0] * B[0] + A[1] * B[2], A[0] * B[1] + A[1] * B[3], A[2] * B[0] + A[3] * B[2], A[2] * B[1] + A[3] * B[3]];
}

/** Row-major flat form of [[a, b], [c, d]]. */
export const flat2 = (m) => (m ? [m[0][0], m[0][1], m[1][0], m[1][1]] : null);

/** "preserved" / "reversed (flip)" / "collapsed (not invertible)" for a determinant (of J, when given: collapsed
 * when J is singular by isSingular). */
export function orientation(det, J = null) {
  if (!Number.isFinite(det) || det === 0 || (J && isSingular(J, det))) return "collapsed (not invertible)";
  return det > 0 ? "preserved" : "reversed (flip)";
}

/** Python's orientation word (meta.orientation) as the readout says it. */
export function orientationWord(word) {
  return { preserved: "preserved", reversed: "reversed (flip)", collapsed: "collapsed (not invertible)",
    mixed: "mixed (det J_f changes sign: the map folds)" }[word] ?? String(word ?? "");
}

/** Is a 3x3 determinant, the sum of its six terms, zero up to their rounding (|sum| <= 16 eps sum|term|)? */
export function flat3(terms, sum) {
  const mag = terms.reduce((s, t) => s + Math.abs(t), 0);
  return !Number.isFinite(sum) || Math.abs(sum) <= 16 * Number.EPSILON * mag;
}
