import { test } from "node:test";
import assert from "node:assert/strict";
import { bracket, interp1, integrate, integrateImage, stripReadout, clampStrip, zOfX } from "../src/views/cov1d/math.js";

function arrays(n, lo, hi, G, dG, pi) {
  const a = { z: new Float64Array(n), pi: new Float64Array(n), x: new Float64Array(n), dxdz: new Float64Array(n),
    px: new Float64Array(n), valid: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    const z = lo + ((hi - lo) * i) / (n - 1);
    a.z[i] = z; a.pi[i] = pi(z); a.x[i] = G(z); a.dxdz[i] = dG(z);
    a.px[i] = dG(z) === 0 ? 0 : pi(z) / Math.abs(dG(z));
    a.valid[i] = dG(z) === 0 ? 0 : 1;
  }
  return a;
}
const normal = (z) => Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);

test("bracket and interp1", () => {
  const xs = [0, 1, 2, 4];
  assert.equal(bracket(xs, -1), 0);
  assert.equal(bracket(xs, 1.5), 1);
  assert.equal(bracket(xs, 3), 2);
  assert.equal(bracket(xs, 9), 2);
  assert.equal(interp1(xs, [0, 10, 20, 40], 3), 30);
  assert.equal(interp1(xs, [0, 10, 20, 40], -5), 0);
  assert.equal(interp1(xs, [0, 10, 20, 40], 5), 40);
});

test("integrate is exact for linear functions and clips to the grid", () => {
  const xs = [0, 0.3, 1, 2];
  const ys = xs.map((x) => 2 * x + 1);
  assert.ok(Math.abs(integrate(xs, ys, 0.1, 1.7) - (1.7 ** 2 + 1.7 - 0.01 - 0.1)) < 1e-12);
  assert.equal(integrate(xs, ys, 1, 1), 0);
  assert.ok(Math.abs(integrate(xs, ys, -5, 0.5) - (0.25 + 0.5)) < 1e-12);
});

test("lecture example: U[0,1], x = 2z + 1 gives pi(1/2) = 1, |dz/dx| = 1/2, p(2) = 1/2", () => {
  const a = arrays(1001, 0, 1, (z) => 2 * z + 1, () => 2, () => 1);
  const r = stripReadout(a, 0.5, 0.1);
  assert.ok(r.ok);
  assert.ok(Math.abs(r.pi - 1) < 1e-12);
  assert.ok(Math.abs(r.dzdx - 0.5) < 1e-12);
  assert.ok(Math.abs(r.px - 0.5) < 1e-12);
  assert.ok(Math.abs(r.x - 2) < 1e-12);
  assert.ok(Math.abs(r.dx - 0.2) < 1e-12);
  assert.ok(Math.abs(r.areaZ - 0.1) < 1e-12 && Math.abs(r.areaX - 0.1) < 1e-12);
});

test("decreasing map: same density, equal areas", () => {
  const up = arrays(2001, -4.5, 4.5, (z) => 2 * z + 1, () => 2, normal);
  const dn = arrays(2001, -4.5, 4.5, (z) => -2 * z + 1, () => -2, normal);
  const ru = stripReadout(up, 0.3, 0.2), rd = stripReadout(dn, 0.3, 0.2);
  assert.ok(Math.abs(ru.px - rd.px) < 1e-12 && Math.abs(ru.dzdx - 0.5) < 1e-12);
  assert.ok(Math.abs(rd.areaX - rd.areaZ) < 1e-6, `${rd.areaX} vs ${rd.areaZ}`);
  assert.ok(rd.xEnd < rd.x);
});

test("nonlinear map: strip areas agree and readout matches the analytic formula", () => {
  const sig = (u) => 1 / (1 + Math.exp(-u));
  const G = (z) => sig(2 * z), dG = (z) => 2 * sig(2 * z) * (1 - sig(2 * z));
  const a = arrays(4001, -4.5, 4.5, G, dG, normal);
  const r = stripReadout(a, 0.37, 0.25);
  const exact = normal(0.37) / dG(0.37);
  assert.ok(Math.abs(r.px - exact) < 1e-5, `${r.px} vs ${exact}`);
  assert.ok(Math.abs(r.areaX - r.areaZ) < 1e-6);
  assert.ok(Math.abs(integrateImage(a, 0.37, 0.62) - r.areaZ) < 1e-6);
});

test("a = 0: not invertible, no NaN", () => {
  const a = arrays(101, 0, 1, () => 1, () => 0, () => 1);
  const r = stripReadout(a, 0.5, 0.1);
  assert.equal(r.ok, false);
  assert.equal(r.reason, "not invertible");
  assert.equal(r.dzdx, Infinity);
  assert.ok(!Number.isNaN(r.px) && !Number.isNaN(r.areaZ));
  assert.ok(Math.abs(r.areaZ - 0.1) < 1e-12, "the strip's own mass (pi = 1 on [0.5, 0.6]) stays well defined");
});

test("a strip ending exactly on a grid point does not read the invalid point beyond it", () => {
  // grid z = 0..1 step 0.1, the map invalid (G' = 0) only at z = 1
  const z = Float64Array.from({ length: 11 }, (_, i) => i / 10);
  const a = { z, pi: z.map(() => 1), x: z.map((v) => 2 * v), dxdz: z.map((v, i) => (i === 10 ? 0 : 2)),
    px: z.map(() => 0.5), valid: z.map((v, i) => (i === 10 ? 0 : 1)) };
  assert.equal(z[9], 0.5 + 0.4);
  for (const [z0, dz] of [[0.5, 0.39], [0.5, 0.4]]) assert.equal(stripReadout(a, z0, dz).ok, true, `[${z0}, +${dz}]`);
  // a strip whose end interpolates towards the invalid point is refused
  assert.equal(stripReadout(a, 0.5, 0.45).ok, false);
});

test("clampStrip and zOfX", () => {
  const a = arrays(101, 0, 1, (z) => -3 * z + 2, () => -3, () => 1);
  assert.equal(clampStrip(a.z, 0.95, 0.1), 0.9);
  assert.equal(clampStrip(a.z, -1, 0.1), 0);
  assert.ok(Math.abs(zOfX(a, 0.5) - 0.5) < 1e-12);
});
