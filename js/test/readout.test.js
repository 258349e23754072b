import { test } from "node:test";
import assert from "node:assert/strict";
import { computeReadout, formatNumber, formatDensity, formatDet, readoutRows, readoutText, det2, matrixText } from "../src/readout.js";

// K = 2 layers, V = 2 vertices
const V = 2, K = 2;
const jac = Float32Array.from([
  2, 0, 0, 3, /* layer 1, v0 */ 1, 1, 1, 1, /* layer 1, v1: singular */
  0.5, 0.25, -1, 2, /* layer 2, v0 */ 1, 0, 0, 1,
]);
const logdet = Float32Array.from([Math.log(6), -Infinity, Math.log(1.25), 0]);
const base = [-1.8378771, -2.3378771];
const logp = Float32Array.from([
  base[0], base[1],
  base[0] - Math.log(6), Infinity,
  base[0] - Math.log(6) - Math.log(1.25), Infinity,
]);
const mesh = Float32Array.from([0, 0, 1, 0, 0, 0, 1, 1, 0.5, 0, 2, 2]);
const src = { K, V, jac, logdet, logp, mesh, layers: [{ name: "scale" }, { name: "mix", invertible: true }] };

test("det, log|det|, cumulative sum and the split of log p", () => {
  const r = computeReadout(src, 2, 0);
  assert.deepEqual(r.J, [0.5, 0.25, -1, 2]);
  assert.equal(r.det, 1.25);
  assert.ok(Math.abs(r.logAbsDet - Math.log(1.25)) < 1e-12);
  assert.ok(Math.abs(r.cumLogdet - (Math.log(6) + Math.log(1.25))) < 1e-6);
  assert.equal(r.base, logp[0], "base term is logp[0][v]");
  assert.equal(r.terms.length, 3);
  const sum = r.terms.reduce((a, t) => a + t.value, 0);
  assert.ok(Math.abs(sum - r.logp) < 1e-5, "terms sum to logp[k][v]");
  assert.ok(Math.abs(r.sum - r.logp) < 1e-5);
  assert.ok(Math.abs(r.density - Math.exp(r.logp)) < 1e-12);
  assert.deepEqual(r.prev, [0, 0]);
  assert.deepEqual(r.pos, [0.5, 0]);
  assert.equal(r.layer.name, "mix");
});

test("layer 1 and state 0", () => {
  const r1 = computeReadout(src, 1, 0);
  assert.equal(r1.det, 6);
  assert.equal(r1.terms.length, 2);
  const r0 = computeReadout(src, 0, 1);
  assert.equal(r0.layer, null);
  assert.equal(r0.J, undefined);
  assert.equal(r0.logp, logp[1]);
  assert.equal(r0.terms.length, 1);
  assert.match(readoutText(r0), /no layer applied/);
});

test("singular and non-finite values are named, not printed as NaN", () => {
  const r = computeReadout(src, 1, 1);
  assert.equal(r.det, 0);
  assert.equal(formatDet(r.det), "0 (not invertible)");
  const text = readoutText(r);
  assert.match(text, /det J = 0 \(not invertible\)/);
  assert.match(text, /log\|det J\| = \u2212inf \(non-finite\)/);
  assert.match(text, /log p\u2081\(x\) = \+inf \(non-finite\)/);
  assert.doesNotMatch(text, /NaN|Infinity/);
});

test("as the wire sends it (non-finite values zeroed, `finite` flags): det J = 0 reads log p = +inf", () => {
  // vertex 1 is squashed by layer 1 (det 0): Python zeroes its log p in states 1, 2 and its layer-1 log-det
  const wire = { ...src, logdet: Float32Array.from([Math.log(6), 0, Math.log(1.25), 0]),
    logp: Float32Array.from([base[0], base[1], base[0] - Math.log(6), 0, base[0] - Math.log(6) - Math.log(1.25), 0]),
    finite: Float32Array.from([1, 1, 1, 0, 1, 0]), placed: Float32Array.from([1, 1, 1, 1, 1, 1]) };
  for (const k of [1, 2]) {
    const r = computeReadout(wire, k, 1);
    assert.equal(r.logp, Infinity, `state ${k}`);
    assert.equal(r.terms[1].value, Infinity); // - log|det J_1| read off J, not the zeroed wire value
    assert.equal(r.sum, Infinity);
    assert.doesNotMatch(readoutText(r), /mismatch|NaN/);
  }
  assert.equal(computeReadout(wire, 2, 1).logdet, 0); // layer 2 at that vertex: J = I, log|det| 0
  assert.equal(computeReadout(wire, 1, 1).logdet, -Infinity);
  // the vertex that stays finite reads exactly as without flags
  assert.deepEqual(computeReadout(wire, 2, 0).terms, computeReadout(src, 2, 0).terms);
  // a non-finite state whose J is finite and non-singular: log p is not made up (NaN, "non-finite")
  const nan = { ...wire, jac: Float32Array.from([2, 0, 0, 3, 2, 0, 0, 2, 0.5, 0.25, -1, 2, 1, 0, 0, 1]) };
  assert.ok(Number.isNaN(computeReadout(nan, 1, 1).logp));
  assert.match(readoutText(computeReadout(nan, 1, 1)), /log p\u2081\(x\) = non-finite/);
  // a position that is not finite (an overflow; its J was zeroed on the wire): nothing is read off J
  const lost = { ...wire, placed: Float32Array.from([1, 1, 1, 0, 1, 0]) };
  assert.ok(Number.isNaN(computeReadout(lost, 1, 1).logp));
  assert.ok(Number.isNaN(computeReadout(lost, 2, 1).terms[1].value));
  assert.ok(Number.isNaN(computeReadout({ ...wire, placed: undefined }, 1, 1).logp));
});

test("number formatting", () => {
  assert.equal(formatNumber(1.2345678), "1.2346");
  assert.equal(formatNumber(-0.000123456), "-0.00012346");
  assert.equal(formatNumber(123456789), "1.2346e8");
  assert.equal(formatNumber(2.5e-7), "2.5e-7");
  assert.equal(formatNumber(3), "3");
  // the notation follows the value as rounded: 99999.7 is 1e5 to 5 digits (not "1.0000e+5")
  assert.equal(formatNumber(99999.4), "99999");
  assert.equal(formatNumber(99999.5), "1e5");
  assert.equal(formatNumber(-99999.7), "-1e5");
  assert.equal(formatNumber(9.99999), "10");
  assert.equal(formatNumber(0.000099999), "9.9999e-5");
  assert.equal(formatNumber(0.0000999999), "0.0001");
  // a density whose finite log overflows or underflows a double is written through its log, not as inf or 0
  assert.equal(formatDensity(Math.log(0.25)), "0.25");
  assert.equal(formatDensity(750.5), "exp(750.5)");
  assert.equal(formatDensity(-800), "exp(-800)");
  assert.equal(formatDensity(Infinity), "+inf (non-finite)");
  assert.equal(formatDensity(NaN), "non-finite");
  assert.equal(formatNumber(0), "0");
  assert.equal(formatNumber(NaN), "non-finite");
  assert.equal(formatNumber(-Infinity), "\u2212inf (non-finite)");
  assert.equal(formatNumber(Infinity), "+inf (non-finite)");
  assert.equal(formatNumber(undefined), "non-finite");
  assert.equal(det2([1, 2, 3, 4]), -2);
  assert.equal(matrixText([1, -2.5, 10, 0]), "[ 1  -2.5]\n[10     0]");
});

test("rows name the direction and flag mismatches", () => {
  const rows = readoutRows(computeReadout(src, 2, 0));
  assert.match(rows[0].note, /forward, state 1 → 2/);
  const bad = { ...src, logp: Float32Array.from(logp) };
  bad.logp[4] += 1; // log p from the kernel disagrees with the terms
  const text = readoutText(computeReadout(bad, 2, 0));
  assert.match(text, /mismatch/);
});

test("consistent data shows no mismatch row; the (layer) row is the kernel's own log_det", () => {
  const rows = readoutRows(computeReadout(src, 2, 0));
  assert.ok(!rows.some((row) => row[0] === "mismatch" || (Array.isArray(row.rows) && row.rows.some((x) => x[0] === "mismatch"))),
    "no mismatch for data whose terms sum to log p");
  assert.doesNotMatch(readoutText(computeReadout(src, 2, 0)), /mismatch/);
  // a kernel log_det that differs from log|det J| of the sent J must be shown as sent, not recomputed
  const other = { ...src, logdet: Float32Array.from(logdet) };
  other.logdet[2] = 0.123;
  const r = computeReadout(other, 2, 0);
  assert.ok(Math.abs(r.logdet - 0.123) < 1e-7, `layer log_det ${r.logdet}`);
  assert.ok(Math.abs(r.logAbsDet - Math.log(1.25)) < 1e-12, "log|det J| still from J");
  assert.match(readoutText(r), /\(layer\)\s*=?\s*0\.123/);
});

test("the split reads in the lecture's form: log pi(z) + sum of log|det J_k^-1| = - log|det J_k|", () => {
  const rows = readoutRows(computeReadout(src, 2, 0));
  const split = rows[rows.length - 1];
  assert.match(split.title, /log p\u2082\(x\) = log \u03c0\(z\) \+ \u03a3 log\|det J\u2096\u207b\u00b9\|/);
  const byLabel = Object.fromEntries(split.rows);
  assert.equal(byLabel["+ log|det J\u2081\u207b\u00b9|"], formatNumber(-Math.log(6)));
  assert.equal(byLabel["+ log|det J\u2082\u207b\u00b9|"], formatNumber(-Math.log(1.25)));
  assert.equal(byLabel["= sum"], formatNumber(base[0] - Math.log(6) - Math.log(1.25)));
});
