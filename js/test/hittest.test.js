import { test } from "node:test";
import assert from "node:assert/strict";
import { GridIndex, nearestBrute, pointsInRect, pointInPolygon, pointsInPolygon, vertexInTriangle } from "../src/hittest.js";
import { buildTriangles } from "../src/mesh.js";

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

test("the triangle under the pointer and its nearest vertex, on a stretched mesh", () => {
  // 3 x 3 vertices; the right column pushed far out (a stretched cell, as after a logit layer)
  const pos = new Float32Array([0, 0, 1, 0, 50, 0, 0, 1, 1, 1, 50, 1, 0, 2, 1, 2, 50, 2]);
  const tris = buildTriangles(3, 3);
  let r = vertexInTriangle(pos, tris, null, 40, 0.5); // deep in a right-hand cell, far from every vertex
  assert.equal(r.index, 2, "nearest corner of the containing triangle");
  assert.ok(r.triangle >= 0 && r.dist2 === (50 - 40) ** 2 + 0.5 ** 2);
  assert.equal(vertexInTriangle(pos, tris, null, 0.2, 1.9).index, 6);
  // brute force agrees: the nearest of the containing triangle's corners is the nearest vertex here
  assert.equal(nearestBrute(pos, 0.2, 1.9).index, 6);
  // off the mesh, and on a triangle with an invalid corner: nothing
  assert.equal(vertexInTriangle(pos, tris, null, 60, 0.5).index, -1);
  assert.equal(vertexInTriangle(pos, tris, null, 10, -0.1).index, -1);
  const valid = new Uint8Array(9).fill(1);
  valid[2] = valid[5] = 0; // the right column is invalid: its cells are not drawn, so not hovered
  assert.equal(vertexInTriangle(pos, tris, valid, 40, 0.5).index, -1);
  assert.equal(vertexInTriangle(pos, tris, valid, 0.2, 0.3).index, 0, "a valid cell: its corner nearest (0.2, 0.3)");
  // a folded (clockwise) triangle still contains its interior; a degenerate one contains nothing
  const cw = new Float32Array([0, 0, 0, 1, 1, 0]);
  assert.equal(vertexInTriangle(cw, new Uint32Array([0, 1, 2]), null, 0.2, 0.2).index, 0);
  const flat = new Float32Array([0, 0, 1, 1, 2, 2]);
  assert.equal(vertexInTriangle(flat, new Uint32Array([0, 1, 2]), null, 1, 1).index, -1);
  assert.equal(vertexInTriangle(flat, new Uint32Array([0, 1, 2]), null, 1.5, 0.5).index, -1);
  // NaN positions are never inside
  const nan = new Float32Array([0, 0, NaN, 0, 0, 1]);
  assert.equal(vertexInTriangle(nan, new Uint32Array([0, 1, 2]), null, 0.1, 0.1).index, -1);
});

test("a flat cloud (all points on a line, det J = 0) gets a small index that still finds the nearest", () => {
  const n = 1089, pos = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) { pos[2 * i] = -5 + (10 * i) / (n - 1); pos[2 * i + 1] = 0.7; }
  const idx = new GridIndex(pos);
  assert.ok(idx.nx * idx.ny <= n, `${idx.nx} x ${idx.ny} cells for ${n} points`);
  for (const [x, y] of [[2.0, 0.7], [-4.99, 0.71], [0.123, 0.69], [5, 0.7]]) {
    assert.equal(idx.nearest(x, y, 0.05).index, nearestBrute(pos, x, y).index, `${x}, ${y}`);
  }
  assert.equal(idx.nearest(0, 2, 0.5).index, -1); // off the line, beyond maxDist
  // a vertical line and a single point too
  const vert = pos.map((v, i) => (i % 2 ? pos[i - 1] : 0.7));
  const vi = new GridIndex(vert);
  assert.ok(vi.nx * vi.ny <= n);
  assert.equal(vi.nearest(0.7, 1.234).index, nearestBrute(vert, 0.7, 1.234).index);
  const one = new GridIndex(Float32Array.from([1, 2]));
  assert.equal(one.nearest(1.1, 2.1).index, 0);
});
