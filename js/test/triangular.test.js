import { test } from "node:test";
import assert from "node:assert/strict";
import { heatColor, heatKey, fitLogLog, zeroPattern, patternText } from "../src/views/triangular/heat.js";

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
  // and in words: a full matrix is not called "full triangular"
  assert.equal(patternText(zeroPattern([1, 1, 1, 3], 2)), "not triangular (full)");
  assert.match(patternText("lower"), /^lower triangular/);
  assert.match(patternText("diagonal"), /^diagonal/);
});

test("heatmap key: the ramp's colours and tick positions are heatColor's", () => {
  const m = 3.7;
  const { gradient, ticks } = heatKey(m, 8);
  assert.deepEqual(ticks.map((t) => t.label), ["-3.7", "-0.37", "0.37", "3.7"]);
  assert.equal(ticks[0].pos, 0);
  assert.equal(ticks[3].pos, 1);
  assert.ok(ticks[1].pos < 0.5 && ticks[2].pos > 0.5 && Math.abs(ticks[1].pos + ticks[2].pos - 1) < 1e-12);
  // every stop of the ramp: its colour is heatColor's at the value that sits at that position
  const stops = [...gradient.matchAll(/rgb\((\d+),(\d+),(\d+)\) ([\d.]+)%/g)]
    .map((g) => ({ c: [+g[1], +g[2], +g[3]], pos: +g[4] / 100 }));
  assert.equal(stops.length, 18);
  stops.forEach(({ c, pos }, i) => {
    const t = 2 * pos - 1, sign = i < 9 ? -1 : 1; // the first 9 stops are the negative half
    // invert t = log1p(|v|/s)/log1p(m/s) with s = m/100 (at the centre: the smallest non-zero of that sign)
    const v = sign * Math.max(1e-300, (m / 100) * Math.expm1(Math.abs(t) * Math.log1p(100)));
    assert.deepEqual(c, heatColor(v, m), `stop ${i} at ${pos}`);
  });
  // the stops run left to right, blue to red, with the step at the centre
  assert.ok(stops.every((s, i) => i === 0 || s.pos >= stops[i - 1].pos));
  assert.ok(stops[0].c[2] > stops[0].c[0] && stops[17].c[0] > stops[17].c[2]);
  // the key of a zero matrix (max 0) falls back to a unit scale, as heatColor does
  assert.deepEqual(heatKey(0).ticks.map((t) => t.label), ["-1", "-0.1", "0.1", "1"]);
});
