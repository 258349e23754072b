import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { cIndex, pointTerms, mean, robustRange, averagesAt, extent, termsAt, averagesAtC, logBracket } from "../src/views/likelihood/math.js";

function fixture() {
  const C = 4, N = 3, dim = 2;
  const cs = new Float32Array([1e-3, 1e-2, 1e-1, 1]);
  const z = [[1, 0], [0, 2], [-1, -1]];
  const logdet = new Float32Array([0.5, -0.2, 1.0]);
  const term1 = new Float32Array(C * N);
  for (let j = 0; j < C; j++) for (let i = 0; i < N; i++) {
    const r2 = (cs[j] * z[i][0]) ** 2 + (cs[j] * z[i][1]) ** 2;
    term1[j * N + i] = -0.5 * r2 - Math.log(2 * Math.PI);
  }
  return { a: { cs, term1, logdet }, dim, z };
}

test("cIndex picks the nearest c in log space", () => {
  const cs = [1e-3, 1e-2, 1e-1, 1];
  assert.equal(cIndex(cs, 1), 3);
  assert.equal(cIndex(cs, 0.05), 2); // log-nearer to 0.1 than to 0.01
  assert.equal(cIndex(cs, 0.02), 1);
  assert.equal(cIndex(cs, 1e-9), 0);
});

test("term2 = logdet + d log c exactly; averages", () => {
  const { a, dim } = fixture();
  const { t1, t2 } = pointTerms(a, 1, dim);
  assert.equal(t1.length, 3);
  assert.ok(Math.abs(t2[0] - (0.5 + 2 * Math.log(1e-2))) < 1e-6);
  const av = averagesAt(a, 3, dim);
  const m1 = (-0.5 * (1 + 4 + 2)) / 3 - Math.log(2 * Math.PI);
  assert.ok(Math.abs(av.mean1 - m1) < 1e-6);
  assert.ok(Math.abs(av.mean2 - 1.3 / 3) < 1e-6);
  assert.ok(Math.abs(av.total - (m1 + 1.3 / 3)) < 1e-6);
});

test("c -> 0: term1 -> log pi(0), term2 -> -inf like d log c, all finite", () => {
  const { a, dim } = fixture();
  const av = averagesAt(a, 0, dim);
  assert.ok(Math.abs(av.mean1 + Math.log(2 * Math.PI)) < 1e-5);
  assert.ok(av.mean2 < -13 && Number.isFinite(av.mean2));
  assert.ok(Math.abs(av.dlogc - 2 * Math.log(1e-3)) < 1e-6);
});

test("mean, robustRange, extent ignore non-finite values", () => {
  assert.equal(mean([1, 2, NaN, Infinity, 3]), 2);
  assert.ok(Number.isNaN(mean([])));
  const r = robustRange(Array.from({ length: 101 }, (_, i) => i), 0.1);
  assert.deepEqual(r, [10, 90]);
  const flat = robustRange([5, 5, 5]);
  assert.ok(flat[1] > flat[0]);
  assert.ok(flat[0] < 5 && 5 < flat[1], `a constant's range ${flat} holds it`);
  assert.deepEqual(extent([1, -Infinity, 3], [NaN, -2]), [-2, 3]);
});

// ---- the continuous slider, against numbers produced by Python (tests/test_likelihood.py writes the
// fixture and checks that it is current): split_terms(flow, x, c) at c between the grid values.

const FIX = JSON.parse(readFileSync(new URL("./fixtures/likelihood_split.json", import.meta.url), "utf8"));
function arraysOf(k) { // what the browser decodes: float32 arrays
  const c = FIX[k];
  return { a: { z: Float32Array.from(c.z), logdet: Float32Array.from(c.logdet), cs: Float32Array.from(c.cs),
    term1: Float32Array.from(c.term1) }, meta: c.meta, expected: c.expected };
}
const maxAbsDiff = (x, y) => { let m = 0; for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i])); return m; };

test("standard normal base: both terms exact at off-grid c, equal to Python's split_terms", () => {
  const { a, meta, expected } = arraysOf("standard_normal");
  assert.equal(meta.base_family, "standard_normal");
  assert.equal(expected.length, FIX.c.length);
  for (const e of expected) {
    const j = cIndex(a.cs, e.c);
    assert.ok(Math.abs(Math.log10(a.cs[j]) - Math.log10(e.c)) > 1e-3, `c = ${e.c} is not a grid value`);
    const t = termsAt(a, e.c, meta.dim, meta.base_family);
    assert.equal(t.exact, true);
    assert.ok(maxAbsDiff(t.t1, e.term1) < 2e-5, `term1 at c = ${e.c}: ${maxAbsDiff(t.t1, e.term1)}`);
    assert.ok(maxAbsDiff(t.t2, e.term2) < 1e-5, `term2 at c = ${e.c}: ${maxAbsDiff(t.t2, e.term2)}`);
    const av = averagesAtC(a, e.c, meta.dim, meta.base_family);
    assert.ok(Math.abs(av.mean1 - e.mean1) < 1e-5 && Math.abs(av.mean2 - e.mean2) < 1e-5, JSON.stringify([av.mean1, e.mean1]));
    assert.ok(Math.abs(av.total - (e.mean1 + e.mean2)) < 2e-5);
    assert.ok(Math.abs(av.dlogc - meta.dim * Math.log(e.c)) < 1e-12);
  }
});

test("other base: term 1 interpolated in log c as Python does, within the interpolation error", () => {
  const { a, meta, expected } = arraysOf("other");
  assert.equal(meta.base_family, "other");
  for (const e of expected) {
    const t = termsAt(a, e.c, meta.dim, meta.base_family);
    assert.equal(t.exact, false);
    assert.ok(a.cs[t.j] <= e.c * (1 + 1e-6) && e.c <= a.cs[t.j + 1] * (1 + 1e-6) && t.w > 0 && t.w < 1, `bracket of ${e.c}`);
    assert.ok(maxAbsDiff(t.t1, e.mirror_term1) < 1e-9, `interpolation at c = ${e.c}: ${maxAbsDiff(t.t1, e.mirror_term1)}`);
    assert.ok(maxAbsDiff(t.t2, e.term2) < 1e-5);
    // and near the exact values: linear interpolation of -c S over one grid step in log c
    assert.ok(maxAbsDiff(t.t1, e.term1) < 0.02, `term1 at c = ${e.c}: ${maxAbsDiff(t.t1, e.term1)}`);
  }
  // the grid's ends: clamped, exact grid rows
  const N = a.logdet.length;
  const lo = termsAt(a, a.cs[0] / 10, meta.dim, "other");
  assert.deepEqual(Array.from(lo.t1), Array.from(a.term1.subarray(0, N)));
  const top = termsAt(a, 1, meta.dim, "other");
  assert.deepEqual(Array.from(top.t1), Array.from(a.term1.subarray((a.cs.length - 1) * N)));
});

test("logBracket", () => {
  const cs = [1e-3, 1e-2, 1e-1, 1];
  assert.deepEqual(logBracket(cs, 1e-4), [0, 0]);
  assert.deepEqual(logBracket(cs, 2), [2, 1]);
  const [j, w] = logBracket(cs, Math.sqrt(1e-3 * 1e-2));
  assert.equal(j, 0);
  assert.ok(Math.abs(w - 0.5) < 1e-12);
  assert.equal(logBracket(cs, 0.1)[0], 2);
});
