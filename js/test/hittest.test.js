import { test } from "node:test";
import assert from "node:assert/strict";
import { GridIndex, nearestBrute, pointsInRect, pointInPolygon, pointsInPolygon } from "../src/hittest.js";

function rng(seed) {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
}

test("grid index nearest equals brute force on random data", () => {
  const r = rng(3);
  for (const n of [1, 7, 500, 5000]) {
    const pos = new Float32Array(2 * n);
    for (let i = 0; i < 2 * n; i++) pos[i] = (r() - 0.5) * (i % 2 ? 3 : 40); // anisotropic cloud
    const index = new GridIndex(pos);
    for (let q = 0; q < 300; q++) {
      const x = (r() - 0.5) * 60, y = (r() - 0.5) * 6; // queries inside and outside the cloud
      const a = index.nearest(x, y), b = nearestBrute(pos, x, y);
      assert.equal(a.index, b.index, `n=${n} query (${x}, ${y})`);
      assert.equal(a.dist2, b.dist2);
    }
  }
});

test("clustered data, invalid entries and maxDist", () => {
  const r = rng(11);
  const n = 3000;
  const pos = new Float32Array(2 * n);
  const valid = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    pos[2 * i] = c * 10 + (r() - 0.5) * 0.2;
    pos[2 * i + 1] = (r() - 0.5) * 0.2;
    valid[i] = r() > 0.2 ? 1 : 0;
  }
  pos[0] = NaN; valid[0] = 1; // non-finite positions are never hit
  const index = new GridIndex(pos, valid);
  for (let q = 0; q < 200; q++) {
    const x = r() * 25 - 2, y = (r() - 0.5) * 4;
    const a = index.nearest(x, y);
    const b = nearestBrute(pos, x, y, valid);
    assert.equal(a.index, b.index);
    assert.notEqual(a.index, 0);
  }
  const far = index.nearest(5, 0, 1); // halfway between clusters: nothing within 1
  assert.equal(far.index, -1);
  const near = index.nearest(10, 0, 0.5);
  assert.ok(near.index >= 0 && Math.abs(pos[2 * near.index] - 10) < 0.2);
});

test("empty index", () => {
  const index = new GridIndex(Float32Array.from([NaN, NaN]));
  assert.equal(index.nearest(0, 0).index, -1);
});

test("rectangle selection", () => {
  const pos = Float32Array.from([0, 0, 1, 1, 2, 2, -1, 0.5, 0.5, -0.1]);
  assert.deepEqual(pointsInRect(pos, 1.5, 1.5, -0.5, -0.05), [0, 1]);
  assert.deepEqual(pointsInRect(pos, -2, -2, 3, 3), [0, 1, 2, 3, 4]);
});

test("point in polygon (concave lasso)", () => {
  const L = [[0, 0], [4, 0], [4, 1], [1, 1], [1, 4], [0, 4]]; // an L shape
  assert.equal(pointInPolygon(0.5, 0.5, L), true);
  assert.equal(pointInPolygon(3, 0.5, L), true);
  assert.equal(pointInPolygon(0.5, 3, L), true);
  assert.equal(pointInPolygon(3, 3, L), false);
  assert.equal(pointInPolygon(-1, 0.5, L), false);
  const pos = Float32Array.from([0.5, 0.5, 3, 3, 3, 0.5, 5, 5]);
  assert.deepEqual(pointsInPolygon(pos, L), [0, 2]);
  assert.deepEqual(pointsInPolygon(pos, [[0, 0], [1, 1]]), []);
});
