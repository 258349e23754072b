import { test } from "node:test";
import assert from "node:assert/strict";
import { cIndex, pointTerms, mean, robustRange, averagesAt, extent } from "../src/views/likelihood/math.js";

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
  assert.deepEqual(extent([1, -Infinity, 3], [NaN, -2]), [-2, 3]);
});
