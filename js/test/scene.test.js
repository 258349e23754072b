import { test } from "node:test";
import assert from "node:assert/strict";
import { buildScene, statusText, offscreen } from "../src/scene.js";
import { encodeArray } from "../src/wire.js";
import { computeReadout } from "../src/readout.js";
import { makeFixture, layers, DEFAULT_PARAMS } from "../dev/fixture.mjs";

test("the dev fixture's Jacobians match finite differences (the harness shows true numbers)", () => {
  const L = layers(DEFAULT_PARAMS);
  for (const layer of L) {
    for (let i = 0; i < 200; i++) {
      const x = Math.sin(i * 1.7) * 3, y = Math.cos(i * 0.9) * 3, h = 1e-6;
      const o = layer.f(x, y), ox = layer.f(x + h, y), oy = layer.f(x, y + h);
      const num = [(ox.x - o.x) / h, (oy.x - o.x) / h, (ox.y - o.y) / h, (oy.y - o.y) / h];
      num.forEach((v, j) => assert.ok(Math.abs(v - o.J[j]) < 1e-4, `${layer.name} J${j} at (${x}, ${y})`));
    }
  }
});

test("buildScene decodes and checks the fixture; readout terms sum to logp", () => {
  const fx = makeFixture({ N: 200, g: 21 });
  const sc = buildScene(fx.arrays, fx.meta);
  assert.equal(sc.K, 3); assert.equal(sc.N, 200); assert.equal(sc.V, 441);
  assert.equal(sc.gx, 21);
  assert.deepEqual(sc.topo.flipCount.slice(0, 3), [0, 0, 0], "shear and twist do not fold");
  assert.ok(sc.topo.flipCount[3] > 0, "the fold layer folds");
  for (const v of [0, 17, 220, 440]) {
    for (let k = 0; k <= 3; k++) {
      const r = computeReadout(sc.readoutSource, k, v);
      assert.ok(Math.abs(r.sum - r.logp) < 1e-4 * Math.max(1, Math.abs(r.logp)), `k=${k} v=${v}`);
    }
  }
  // the fixture's layer-3 Jacobian has det = 1 - g (1 - x^2) exp(-x^2/2): negative at x = 0 for g = 1.6
  const meshCentre = 220;
  const x2 = sc.statePos(2)[2 * meshCentre];
  const r3 = computeReadout(sc.readoutSource, 3, meshCentre);
  assert.ok(Math.abs(r3.det - (1 - 1.6 * (1 - x2 * x2) * Math.exp(-x2 * x2 / 2))) < 1e-5);
});

test("base64 arrays give the same scene", () => {
  const a = buildScene(makeFixture({ N: 50, g: 11 }).arrays, makeFixture({ N: 50, g: 11 }).meta);
  const fx = makeFixture({ N: 50, g: 11, base64: true });
  assert.equal(typeof fx.arrays.mesh.data, "string");
  const b = buildScene(fx.arrays, fx.meta);
  assert.deepEqual(Array.from(b.mesh.at(1.5)), Array.from(a.mesh.at(1.5)));
});

test("points for the GPU: the decoded states when all finite, else hidden ones moved off screen", () => {
  const fx = makeFixture({ N: 30, g: 5 });
  const sc = buildScene(fx.arrays, fx.meta);
  assert.ok(sc.pointsFinite);
  assert.equal(sc.pointsGPU, sc.points.data, "no copy when every point is finite");
  const S1 = sc.K + 1;
  const flags = new Float32Array(S1 * 30).fill(1);
  flags[2 * 30 + 7] = 0; // point 7 hidden in state 2
  const hidden = buildScene({ ...fx.arrays, points_finite: encodeArray(flags, [S1, 30]) }, fx.meta);
  const gpu = hidden.pointsGPU, data = hidden.points.data;
  assert.notEqual(gpu, data);
  const i = (2 * 30 + 7) * 2;
  assert.ok(Number.isNaN(data[i]) && Number.isNaN(data[i + 1]), "hidden in the scene (NaN)");
  assert.equal(gpu[i], Math.fround(1e30)); assert.equal(gpu[i + 1], Math.fround(1e30));
  for (let j = 0; j < data.length; j++) if (j !== i && j !== i + 1) assert.equal(gpu[j], data[j]);
  // mixed with a finite neighbour by the shader's mix(a, b, f) = a (1 - f) + b f: still far off screen
  for (const f of [1e-6, 0.5, 1 - 1e-6]) assert.ok(Math.abs(Math.fround(data[i - 60] * (1 - f) + gpu[i] * f)) > 1e20);
  assert.deepEqual(Array.from(offscreen(new Float32Array([1, NaN, -Infinity, 2]))), [1, 1e30, 1e30, 2].map(Math.fround));
});

test("hovering between layers finds the vertex under the pointer in the mesh as drawn", () => {
  const fx = makeFixture({ N: 20, g: 21 });
  const sc = buildScene(fx.arrays, fx.meta);
  const span = { t: 1.5, k0: 1, k1: 2, f: 0.5 };
  const drawn = sc.mesh.at(1.5);
  let moved = 0, n = 0;
  for (let v = 0; v < sc.V; v += 7) {
    n++;
    const x = drawn[2 * v], y = drawn[2 * v + 1];
    assert.equal(sc.vertexAtSpan(span, x, y, 1e-6).index, v, `vertex ${v} at its interpolated position`);
    const other = sc.vertexAt(2, x, y, 1e-6).index; // the state-2 rule: usually not this vertex
    if (other !== v) moved++;
  }
  assert.ok(moved >= n / 3, `the fixture moves vertices between states (else this checks nothing): ${moved} of ${n}`);
  // at an integer position it is the state's own lookup
  const p2 = sc.statePos(2);
  assert.equal(sc.vertexAtSpan({ t: 2, k0: 2, k1: 2, f: 0 }, p2[2 * 220], p2[2 * 220 + 1], 1e-6).index, 220);
});

test("shape errors are clear", () => {
  const fx = makeFixture({ N: 20, g: 5 });
  const bad = { ...fx.arrays, logdet: { ...fx.arrays.logdet, shape: [3, 24] } };
  assert.throws(() => buildScene(bad, fx.meta), /logdet|bytes/);
  const wrong = { ...fx.arrays, jac: { dtype: "float32", shape: [2, 25, 4], data: new Float32Array(200) } };
  assert.throws(() => buildScene(wrong, fx.meta), /"jac" has shape \(2, 25, 4\), expected \(3, 25, 4\)/);
  assert.equal(buildScene({}, {}), null);
});

test("status text", () => {
  assert.equal(statusText({ status: "ok" }), "");
  assert.equal(statusText({ status: "non-finite", layers: [{ nonfinite: 0 }, { nonfinite: 0 }, { nonfinite: 12 }] }),
    "non-finite: layer 3, 12 points");
  assert.equal(statusText({ status: "not invertible", layers: [{ name: "a" }, { name: "fold", invertible: false }], message: "det < 0" }),
    "not invertible: layer 2 (fold) \u2014 det < 0");
});
