// linalg.js: 2x2 algebra of the lens readouts (row-major [a, b, c, d]). Pure functions.

import { det2 } from "../../readout.js";

/** Inverse of a row-major 2x2, or null when singular (|det| <= tol * max|entry|^2). */
export function inv2(J, tol = 1e-12) {
  const d = det2(J);
  const s = Math.max(1, ...J.map(Math.abs)) ** 2;
  if (!Number.isFinite(d) || Math.abs(d) <= tol * s) return null;
  return [J[3] / d, -J[1] / d, -J[2] / d, J[0] / d];
}

/** Product A B of row-major 2x2s. */
export function mul2(A, B) {
  return [A[0] * B[0] + A[1] * B[2], A[0] * B[1] + A[1] * B[3], A[2] * B[0] + A[3] * B[2], A[2] * B[1] + A[3] * B[3]];
}

/** Row-major flat form of [[a, b], [c, d]]. */
export const flat2 = (m) => (m ? [m[0][0], m[0][1], m[1][0], m[1][1]] : null);

/** "preserved" / "reversed (flip)" / "collapsed" for a determinant. */
export function orientation(det) {
  if (!Number.isFinite(det) || det === 0) return "collapsed (not invertible)";
  return det > 0 ? "preserved" : "reversed (flip)";
}
