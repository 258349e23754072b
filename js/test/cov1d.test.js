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

// ---- exact readouts (exact.js) against independent references: tests/test_cov1d.py writes, for each state, the
// strips' values from hand formulas (numpy / scipy) and both areas by scipy's quad in float64 (the green one
// integrates p_X over [x', x' + dx] in x). The browser must show the same digits.
import { readFileSync } from "node:fs";
import { decodeArrays } from "../src/wire.js";
import { formatNumber } from "../src/readout.js";
import { exactModel, gaussLegendre, sigmoid, sigmoidSlope, logit } from "../src/views/cov1d/exact.js";
import { fakeNode, runFrames } from "../dev/fakedom.mjs";
import { createFakeModel } from "../dev/fixture.mjs";

const FIX = JSON.parse(readFileSync(new URL("./fixtures/cov1d_states.json", import.meta.url), "utf8"));
const READOUTS = FIX.readouts;
const KEYS = ["x", "xEnd", "dx", "pi", "dxdz", "dzdx", "px", "areaZ", "areaX"];

function decoded(state) {
  const a = {};
  for (const [k, v] of Object.entries(decodeArrays(state.arrays))) a[k] = v.data;
  return a;
}

/** The arrays Python sends for a state at its real grid (4001 points, float32; tests/test_cov1d.py checks that the
 * sent rows are these formulas at the sent z), built here from the state's formulas. */
function sentArrays(meta, n = 4001) {
  const m = exactModel(meta), f = Math.fround;
  const a = { z: new Float32Array(n), pi: new Float32Array(n), x: new Float32Array(n), dxdz: new Float32Array(n),
    px: new Float32Array(n), valid: new Float32Array(n) };
  for (let i = 0; i < n; i++) {
    const z = f(meta.base === "uniform" ? Math.min(Math.max(i / (n - 1), 1e-6), 1 - 1e-6) : -4.5 + (9 * i) / (n - 1));
    a.z[i] = z; a.pi[i] = m.pi(z); a.x[i] = m.G(z); a.dxdz[i] = m.dG(z); a.px[i] = m.pi(z) / Math.abs(m.dG(z)); a.valid[i] = 1;
  }
  return a;
}

test("exact readouts show the digits of the independent references (every value, every state)", () => {
  const bad = [];
  for (const [name, st] of Object.entries(READOUTS)) for (const a of [decoded(st), sentArrays(st.meta)]) {
    const model = exactModel(st.meta);
    assert.ok(model, `${name}: an exact model for ${st.meta.base} / ${st.meta.map}`);
    for (const ref of st.strips) {
      const r = stripReadout(a, ref.z, ref.dz, model);
      assert.ok(r.ok && !r.approx, `${name} at z' = ${ref.z}`);
      for (const k of KEYS) {
        const rel = Math.abs(r[k] - ref[k]) / (Math.abs(ref[k]) || 1); // (logit(1/2) = 0)
        if (formatNumber(r[k]) !== formatNumber(ref[k]) || !(rel < 1e-9)) {
          bad.push(`${name} (${a.z.length} points) z'=${formatNumber(ref.z)} ${k}: ${formatNumber(r[k])} vs ${formatNumber(ref[k])} (rel ${rel.toExponential(1)})`);
        }
      }
    }
  }
  assert.deepEqual(bad, []);
});

test("green area = blue area to the digits shown, over a sweep of strips (the theorem, where it applies)", () => {
  for (const [name, st] of Object.entries(READOUTS)) {
    const a = decoded(st), model = exactModel(st.meta);
    for (const dz of [0.01, 0.1, 0.5]) {
      const lo = a.z[0], hi = a.z[a.z.length - 1] - dz;
      for (let i = 0; i <= 400; i++) {
        const r = stripReadout(a, clampStrip(a.z, lo + ((hi - lo) * i) / 400, dz), dz, model);
        assert.ok(r.ok, `${name} ${r.z}`);
        assert.equal(formatNumber(r.areaX), formatNumber(r.areaZ), `${name}: dz = ${dz}, z' = ${r.z}`);
      }
    }
  }
});

test("the exact model's pieces: inverse maps, pushed densities, quadrature", () => {
  assert.ok(Math.abs(gaussLegendre((t) => t ** 19 - 3 * t ** 4, -0.3, 1.7) - (1.7 ** 20 / 20 - 0.3 ** 20 / 20 - (3 / 5) * (1.7 ** 5 + 0.3 ** 5))) < 1e-10);
  assert.ok(Math.abs(gaussLegendre(Math.exp, 0, 3) - (Math.exp(3) - 1)) < 1e-13);
  assert.equal(sigmoid(-800), 0);
  assert.equal(sigmoid(800), 1);
  assert.ok(sigmoidSlope(-700) > 0 && Math.abs(logit(sigmoid(3)) - 3) < 1e-14);
  for (const st of Object.values(READOUTS)) {
    const m = exactModel(st.meta);
    for (const z of [0.2, 0.5, 0.83]) { // p(G(z)) = pi(z) / |G'(z)|, with p evaluated at x through G^-1
      assert.ok(Math.abs(m.p(m.G(z)) * Math.abs(m.dG(z)) / m.pi(z) - 1) < 1e-12, `${st.meta.map} at ${z}`);
    }
  }
  // x = sigmoid(100 z): near x = 1 float64 no longer resolves 1 - x (the image collapses onto 1): the green area
  // is not a number there, never a wrong one; near x = 0 it is resolved and equals the blue one
  const sat = exactModel({ base: "normal", map: "sigmoid", params: { a: 100, b: 0 } });
  assert.ok(Number.isNaN(sat.massX(0.3, 0.4)));
  const [blue, green] = [sat.massZ(-0.4, -0.3), sat.massX(-0.4, -0.3)];
  assert.ok(Math.abs(green / blue - 1) < 1e-12, `${green} vs ${blue}`);
  assert.equal(exactModel({ base: "uniform", map: "spline", params: {} }), null);
  assert.equal(exactModel({ base: "uniform", map: "affine", params: { a: 2 } }), null);
  assert.equal(exactModel({ base: "uniform", map: "affine", params: { a: 2, b: null } }), null);
});

test("without an exact model: the green area by substitution on the grid's z-points, values marked approximate", () => {
  // the lecture's arrays as float32 (4001 points): trapezoids in x over float32 x showed 0.0099999 for 0.01
  const n = 4001, f32 = Math.fround;
  const a = { z: new Float32Array(n), pi: new Float32Array(n), x: new Float32Array(n), dxdz: new Float32Array(n),
    px: new Float32Array(n), valid: new Float32Array(n) };
  for (let i = 0; i < n; i++) {
    const z = f32(Math.min(Math.max(i / (n - 1), 1e-6), 1 - 1e-6));
    a.z[i] = z; a.pi[i] = 1; a.x[i] = 2 * z + 1; a.dxdz[i] = 2; a.px[i] = 0.5; a.valid[i] = 1;
  }
  let differ = 0;
  for (let i = 0; i <= 400; i++) {
    const r = stripReadout(a, clampStrip(a.z, a.z[0] + ((a.z[n - 1] - 0.01 - a.z[0]) * i) / 400, 0.01), 0.01);
    assert.ok(r.approx);
    if (formatNumber(r.areaX) !== formatNumber(r.areaZ)) differ++;
  }
  assert.equal(differ, 0);
});

// the view itself: the readout table a reader sees
function mountCov(state) {
  const model = createFakeModel({ theme: "light", preset: "notebook", ...state });
  const el = fakeNode("div");
  const ac = new AbortController();
  return { model, el, ac };
}
function rows(el) {
  const out = {};
  const walk = (n) => { if (n.tag === "tr") out[n.children[0].textContent] = n.children[1].textContent; (n.children || []).forEach(walk); };
  walk(el);
  return out;
}

test("the page's readout table: blue and green areas, pi(z'), p(x'), dx/dz as the references (lecture, logit edge)", async () => {
  const { renderCov1d } = await import("../src/views/cov1d/view.js");
  for (const [name, i] of [["lecture", 0], ["uniform_logit", 0], ["uniform_logit", 1], ["normal_affine", 0]]) {
    const st = READOUTS[name], ref = st.strips[i];
    const { model, el, ac } = mountCov({ arrays: st.arrays, meta: st.meta, strip_z: ref.z, strip_dz: ref.dz });
    renderCov1d({ model, el, signal: ac.signal });
    runFrames(); runFrames();
    const t = rows(el);
    const want = (v) => formatNumber(v);
    assert.equal(t["blue area \u222b \u03c0 dz"], want(ref.areaZ), `${name}: blue`);
    assert.equal(t["green area \u222b p dx"], want(ref.areaX), `${name}: green`);
    assert.equal(t["\u03c0(z\u2032)"], want(ref.pi), `${name}: pi`);
    assert.equal(t["p(x\u2032) = \u03c0(z\u2032)|dz/dx|"], want(ref.px), `${name}: p(x')`);
    assert.equal(t["dx/dz = G\u2032(z\u2032)"], want(ref.dxdz), `${name}: dx/dz`);
    assert.ok(t.image.endsWith(`dx = ${want(ref.dx)}`), `${name}: ${t.image}`);
    ac.abort();
  }
});
