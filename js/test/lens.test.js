import { test } from "node:test";
import assert from "node:assert/strict";
import { sixTerms, det3, cubeImage, CUBE_EDGES, project } from "../src/views/lens/three.js";
import { inv2, mul2, orientation } from "../src/views/lens/linalg.js";

function detLaplace(m) {
  return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
    + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
}

test("six terms sum to the determinant (Laplace expansion)", () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 4 - 2;
  for (let k = 0; k < 20; k++) {
    const m = [[rnd(), rnd(), rnd()], [rnd(), rnd(), rnd()], [rnd(), rnd(), rnd()]];
    const t = sixTerms(m);
    assert.equal(t.length, 6);
    assert.ok(Math.abs(det3(m) - detLaplace(m)) < 1e-12);
    assert.deepEqual(t.map((x) => x.sign), [1, 1, 1, -1, -1, -1]);
  }
  const t = sixTerms([1, 2, 3, 4, 5, 6, 7, 8, 10]); // flat row-major works too
  assert.equal(t[0].label, "+ a11 a22 a33");
  assert.equal(t[0].value, 50);
  assert.equal(t[5].value, -(1 * 6 * 8));
  assert.equal(det3([1, 2, 3, 4, 5, 6, 7, 8, 10]), -3);
});

test("cube image and projection", () => {
  const v = cubeImage([[2, 0, 0], [0, 3, 0], [0, 0, 4]]);
  assert.deepEqual(v[7], [2, 3, 4]);
  assert.deepEqual(v[1], [2, 0, 0]);
  assert.deepEqual(v[2], [0, 3, 0]);
  assert.equal(CUBE_EDGES.length, 12);
  for (const [i, j] of CUBE_EDGES) assert.equal([1, 2, 4].includes(i ^ j), true);
  // the cube's 12 edges exactly: distinct, 4 along each axis, every corner on 3 of them
  const pairs = new Set(CUBE_EDGES.map(([i, j]) => `${Math.min(i, j)}-${Math.max(i, j)}`));
  assert.equal(pairs.size, 12);
  for (const axis of [1, 2, 4]) assert.equal(CUBE_EDGES.filter(([i, j]) => (i ^ j) === axis).length, 4);
  for (let v = 0; v < 8; v++) assert.equal(CUBE_EDGES.filter(([i, j]) => i === v || j === v).length, 3);
  // cabinet: the x axis stays horizontal, the z axis vertical, y recedes at 30 degrees with half length
  assert.deepEqual(project([1, 0, 0]), [1, 0]);
  assert.deepEqual(project([0, 0, 1]), [0, 1]);
  const [u, w] = project([0, 1, 0]);
  assert.ok(Math.abs(Math.hypot(u, w) - 0.5) < 1e-12 && Math.abs(Math.atan2(w, u) - Math.PI / 6) < 1e-12);
});

test("2x2 inverse, product, orientation: the lecture's matrix", () => {
  const J = [1, 1, 2, 0];
  const Ji = inv2(J);
  assert.deepEqual(Ji, [-0, 0.5, 1, -0.5]);
  assert.deepEqual(mul2(J, Ji), [1, 0, 0, 1]);
  assert.equal(inv2([1, 2, 2, 4]), null);
  assert.equal(orientation(-2), "reversed (flip)");
  assert.equal(orientation(3), "preserved");
  assert.match(orientation(0), /not invertible/);
});
