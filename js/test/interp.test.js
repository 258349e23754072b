import { test } from "node:test";
import assert from "node:assert/strict";
import { interpolateInto, layerSpan, StateInterpolator } from "../src/interp.js";

// three states of 2 values each
const data = Float32Array.from([0, 10, 2, 20, 6, NaN]);

test("layerSpan clamps and splits", () => {
  // an integer position shows that state alone (k1 = k0), so validity of the next state does not matter
  assert.deepEqual(layerSpan(0, 2), { t: 0, k0: 0, k1: 0, f: 0 });
  assert.deepEqual(layerSpan(1, 2), { t: 1, k0: 1, k1: 1, f: 0 });
  assert.deepEqual(layerSpan(2, 2), { t: 2, k0: 2, k1: 2, f: 0 });
  assert.deepEqual(layerSpan(5, 2), { t: 2, k0: 2, k1: 2, f: 0 });
  assert.deepEqual(layerSpan(-1, 2), { t: 0, k0: 0, k1: 0, f: 0 });
  const s = layerSpan(1.25, 2);
  assert.equal(s.k0, 1); assert.equal(s.k1, 2); assert.equal(s.f, 0.25);
  assert.equal(layerSpan(NaN, 2).t, 0);
});

test("integer t returns the exact state (no NaN leaking from a neighbour)", () => {
  const out = new Float32Array(2);
  assert.deepEqual(Array.from(interpolateInto(data, 2, 0, out)), [0, 10]);
  assert.deepEqual(Array.from(interpolateInto(data, 2, 1, out)), [2, 20]);
  const last = Array.from(interpolateInto(data, 2, 2, out));
  assert.equal(last[0], 6);
  assert.ok(Number.isNaN(last[1]));
});

test("midpoint and fractional positions interpolate linearly", () => {
  const out = new Float32Array(2);
  assert.deepEqual(Array.from(interpolateInto(data, 2, 0.5, out)), [1, 15]);
  assert.deepEqual(Array.from(interpolateInto(data, 2, 0.25, out)), [0.5, 12.5]);
  const r = interpolateInto(data, 2, 1.5, out);
  assert.equal(r[0], 4);
  assert.ok(Number.isNaN(r[1]), "non-finite neighbour stays non-finite in between");
});

test("clamping beyond [0, K]", () => {
  const out = new Float32Array(2);
  assert.deepEqual(Array.from(interpolateInto(data, 2, -3, out)), [0, 10]);
  assert.equal(interpolateInto(data, 2, 99, out)[0], 6);
});

test("StateInterpolator reuses its output buffer", () => {
  const s = new StateInterpolator({ data, shape: [3, 2] });
  assert.equal(s.K, 2);
  const a = s.at(0.5);
  const b = s.at(1);
  assert.equal(a, b, "same buffer every call");
  assert.deepEqual(Array.from(b), [2, 20]);
  assert.deepEqual(Array.from(s.state(0)), [0, 10]);
  assert.equal(s.state(0).buffer, data.buffer, "state() is a view");
});
