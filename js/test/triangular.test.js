import { test } from "node:test";
import assert from "node:assert/strict";
import { heatColor, fitLogLog, zeroPattern } from "../src/views/triangular/heat.js";

test("heatmap colours: exact zeros neutral, signs distinct, magnitude monotone", () => {
  assert.deepEqual(heatColor(0, 5), [236, 238, 242]);
  const small = heatColor(1e-6, 5), big = heatColor(5, 5), neg = heatColor(-5, 5);
  assert.notDeepEqual(small, [236, 238, 242]);
  assert.ok(big[0] > big[2] && neg[2] > neg[0]);
  assert.ok(heatColor(0.5, 5)[1] > heatColor(4, 5)[1]);
  assert.deepEqual(heatColor(NaN, 1), [0, 0, 0]);
});

test("log-log slope fit recovers power laws", () => {
  const xs = [16, 32, 64, 128, 256];
  const r3 = fitLogLog(xs, xs.map((n) => 2e-9 * n ** 3));
  assert.ok(Math.abs(r3.slope - 3) < 1e-9);
  const r1 = fitLogLog(xs, xs.map((n) => 1e-7 * n));
  assert.ok(Math.abs(r1.slope - 1) < 1e-9);
  assert.ok(Number.isNaN(fitLogLog([1], [1]).slope));
});

test("zero pattern", () => {
  assert.equal(zeroPattern([1, 0, 2, 3], 2), "lower");
  assert.equal(zeroPattern([1, 2, 0, 3], 2), "upper");
  assert.equal(zeroPattern([1, 0, 0, 3], 2), "diagonal");
  assert.equal(zeroPattern([1, 1, 1, 3], 2), "full");
});
