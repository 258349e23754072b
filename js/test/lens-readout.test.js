import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fakeNode, runFrames } from "../dev/fakedom.mjs";
import { createFakeModel } from "../dev/fixture.mjs";
import { decodeArray } from "../src/wire.js";
import { det2 } from "../src/readout.js";
import * as LENS from "../src/views/lens/lens.js";
const { hoverText, renderLens } = LENS;
import { inv2, isSingular, orientation, flat3 } from "../src/views/lens/linalg.js";
import { sixTerms } from "../src/views/lens/three.js";

// arrays and meta as flowviz.scene.lens sends them (written by `python tests/test_lens.py`, checked current there)
const FIX = JSON.parse(readFileSync(new URL("./fixtures/lens_readout.json", import.meta.url), "utf8"));
const arrays = (name) => Object.fromEntries(Object.entries(FIX[name].arrays).map(([k, v]) => [k, decodeArray(v, k)]));
const vertex = (a, v) => ({
  J: Array.from(a.jac.data.subarray(4 * v, 4 * v + 4)), det: a.det.data[v], ok: a.jac_finite.data[v] !== 0,
  z: Array.from(a.mesh.data.subarray(2 * v, 2 * v + 2)), x: Array.from(a.mesh.data.subarray(2 * (81 + v), 2 * (81 + v) + 2)),
});

test("a singular map written with decimals: no made-up inverse at any vertex, orientation collapsed", () => {
  const a = arrays("singular");
  for (let v = 0; v < 81; v++) {
    const { J, det, ok, z, x } = vertex(a, v);
    assert.ok(ok);
    // the float32 entries alone would say det ~ 1e-9 and invert it (entries ~ 1e8)
    assert.ok(Math.abs(det2(J)) > 1e-10 && inv2(J) !== null, "the float32 J looks invertible");
    const text = hoverText(J, z, x, det, ok);
    assert.match(text, /J_\{f⁻¹\}\(x\) = J_f\(z\)⁻¹\ndoes not exist \(det = 0\)/);
    assert.match(text, /orientation: collapsed \(not invertible\)/);
    assert.doesNotMatch(text, /NaN|e8/);
  }
});

test("where J_f is not finite (z1^(1/3) at z1 = 0) the hover says so, not J = 0", () => {
  const a = arrays("cuberoot");
  let seen = 0;
  for (let v = 0; v < 81; v++) {
    const { J, det, ok, z, x } = vertex(a, v);
    const text = hoverText(J, z, x, det, ok);
    if (z[0] > 0) {
      assert.ok(ok);
      assert.ok(Math.abs(J[0] - Math.cbrt(z[0]) ** -2 / 3) < 1e-5 * J[0], `J11 at z1 = ${z[0]}`);
      assert.match(text, /orientation: preserved/);
    } else {
      assert.equal(ok, false);
      assert.match(text, /J_f\(z\): non-finite/);
      assert.doesNotMatch(text, /\[\s*0\s+0\]/, "no zero Jacobian shown");
      seen++;
    }
  }
  assert.equal(seen, 45); // z1 = 0 and z1 < 0 columns of the 9 x 9 grid
});

test("the info panel takes the orientation from Python's float64 J", () => {
  const model = createFakeModel({ ...FIX.singular, text: FIX.singular.meta.text, mode: "2d", renderer: "canvas2d",
    theme: "light", preset: "notebook" });
  const el = fakeNode("div");
  const ac = new AbortController();
  renderLens({ model, el, signal: ac.signal });
  runFrames();
  const find = (n, cls) => (n.className === cls ? n : n.children.map((c) => find(c, cls)).find(Boolean));
  const info = find(el, "fv-readout fv-lens-info");
  assert.match(info.textContent, /orientation: collapsed \(not invertible\)/);
  assert.match(info.textContent, /J_\{f⁻¹\} = J_f⁻¹\ndoes not exist/);
  ac.abort();
});

test("singularity tests: 2x2 by the angle between the rows, 3x3 relative to the six terms", () => {
  assert.equal(isSingular([1, 2, 2, 4]), true);
  assert.equal(isSingular([1, 0, 0, -1]), false);
  // as Python's lens.singular: |det| <= 1e-12 |row 1| |row 2|, free of the scale (these were "singular" by
  // |det| <= 1e-12 max(1, |J|)^2: diag(1e6, 1e-6) keeps areas, det 1)
  assert.equal(isSingular([1e-7, 0, 0, 1e-7]), false);
  assert.equal(isSingular([1e6, 0, 0, 1e-6], 1), false);
  assert.equal(isSingular([1e6, 1e6, 1e-6, -1e-6], -2), false);
  assert.equal(isSingular([1, 1e-11, 1, 0], -1e-11), false);
  assert.equal(isSingular([1, 1e-13, 1, 0], -1e-13), true, "rows 1e-13 rad apart");
  assert.equal(isSingular([0.1, 0.3, 0.13, 0.39], 8.3e-18), true, "a singular map written with decimals");
  assert.equal(isSingular([NaN, 0, 0, 1], 1), true);
  assert.equal(isSingular([1, 0, 0, 1], Infinity), true);
  assert.equal(orientation(-1e-20, [1, 1, 1, 1]), "collapsed (not invertible)");
  assert.equal(orientation(-2, [1, 1, 2, 0]), "reversed (flip)");
  // a singular 3x3 with decimals sums to -1.5e-11 by rounding; 1e-5 I is invertible with det 1e-15
  const sing = [[11.1, 22.2, 33.3], [44.4, 55.5, 66.6], [77.7, 88.8, 99.9]];
  const ts = sixTerms(sing).map((t) => t.value), sum = ts.reduce((s, t) => s + t, 0);
  assert.ok(sum !== 0 && Math.abs(sum) > 1e-12);
  assert.equal(flat3(ts, sum), true);
  const small = [[1e-5, 0, 0], [0, 1e-5, 0], [0, 0, 1e-5]];
  const ss = sixTerms(small).map((t) => t.value);
  assert.equal(flat3(ss, ss.reduce((s, t) => s + t, 0)), false);
});

test("a note from Python with status ok is shown as information; an overflowed det reads non-finite, with why", () => {
  const find = (n, cls) => (n.className === cls ? n : n.children.map((c) => find(c, cls)).find(Boolean));
  const mount = (fix) => {
    const model = createFakeModel({ ...fix, text: fix.meta.text, mode: "2d", renderer: "canvas2d", theme: "light",
      preset: "notebook" });
    const el = fakeNode("div");
    const ac = new AbortController();
    renderLens({ model, el, signal: ac.signal });
    runFrames();
    return { el, ac, banner: find(el, "fv-status"), info: find(el, "fv-readout fv-lens-info") };
  };
  const beyond = mount(FIX.beyond); // x1 = exp(exp(2 z1)) passes float32's range at the mesh's edge: invertible
  assert.equal(FIX.beyond.meta.status, "ok");
  assert.equal(beyond.banner.hidden, false);
  assert.equal(beyond.banner.dataset.level, "info");
  assert.match(beyond.banner.dataset.text, /^\d+ mesh vertices beyond float32's range \(not drawn\)$/);
  assert.match(beyond.info.textContent, /orientation: preserved/);
  beyond.ac.abort();
  const over = mount(FIX.overflow); // det J_f = -exp(800): invertible, reversed, beyond float64
  assert.equal(over.banner.dataset.level, "error");
  assert.match(over.banner.dataset.text, /non-finite.*det J_f = -exp\(800\) is beyond float64's range/);
  assert.match(over.info.textContent, /det J_f {6}= non-finite/);
  assert.match(over.info.textContent, /orientation: reversed/);
  assert.doesNotMatch(over.info.textContent, /det J_f {6}= 0\b/);
  over.ac.abort();
});

test("hover: det J_{f^-1} is 1 / Python's float64 det, not det2 of the float32-derived inverse", () => {
  // f = (1.0001 z1 + z2, z1 + z2): det J_f = 1e-4; det2 of the inverse's entries (from the float32 J) gave 9.9983e-5
  const J = Array.from(new Float32Array([1.0001, 1, 1, 1])), det = 1.0001 * 1 - 1 * 1;
  const text = hoverText(J, [0, 0], [0, 0], det, true);
  assert.match(text, /det J_f\(z\) = 0.0001\n/);
  assert.match(text, /det J_\{f⁻¹\}\(x\) = 10000\n/);
  assert.doesNotMatch(text, /9\.99/);
});

test("3x3: a flat M reads 0 with the rounding residue beside it, for the six terms' sum and Python's det alike", () => {
  const M = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]; // det 0; the terms in float64 sum to -1.4e-17
  const model = createFakeModel({ ...FIX.singular, text: FIX.singular.meta.text, mode: "3d", renderer: "canvas2d",
    theme: "light", preset: "notebook", matrix3: M,
    three: { matrix: [M.slice(0, 3), M.slice(3, 6), M.slice(6, 9)], det: 3.3306690738754696e-18 } });
  const el = fakeNode("div");
  const ac = new AbortController();
  renderLens({ model, el, signal: ac.signal });
  runFrames();
  const all = (n) => [n, ...n.children.flatMap(all)];
  const info = all(el).find((n) => /sum \(six terms\)/.test(n.textContent || ""));
  assert.ok(info, "the 3x3 info panel");
  assert.match(info.textContent, /sum \(six terms\) = 0 \(up to rounding: -1\.3878e-17\)/);
  assert.match(info.textContent, /det \(Python\) {4}= 0 \(up to rounding: 3\.3307e-18\)/);
  ac.abort();
});

test("a text Python sets while the box has the focus is taken on blur, unless the box was edited meanwhile", () => {
  const model = createFakeModel({ ...FIX.singular, text: "z1 + z2, 2*z1", mode: "2d", renderer: "canvas2d",
    theme: "light", preset: "notebook" });
  const el = fakeNode("div");
  const ac = new AbortController();
  renderLens({ model, el, signal: ac.signal });
  runFrames();
  const all = (n) => [n, ...n.children.flatMap(all)];
  const input = all(el).find((n) => n.className === "fv-lens-text");
  assert.equal(input.value, "z1 + z2, 2*z1");
  document.activeElement = input; // focused, not edited: Python's new text waits for the blur, then shows
  model.set("text", "z1, z2 + sin(z1)");
  assert.equal(input.value, "z1 + z2, 2*z1", "not written over while focused");
  document.activeElement = null;
  input.dispatch("blur");
  assert.equal(input.value, "z1, z2 + sin(z1)");
  document.activeElement = input; // focused and edited: the user's text stays after the blur
  input.value = "z1, 3*z2";
  model.set("text", "z1, 2*z2");
  document.activeElement = null;
  input.dispatch("blur");
  assert.equal(input.value, "z1, 3*z2");
  model.set("text", "z2, z1"); // not focused: shown at once
  assert.equal(input.value, "z2, z1");
  ac.abort();
  document.activeElement = null;
});

test("a det below float32's range (1e-30 I: det 1e-60, sent as -0 or 0) is read off the log-det, with its sign", () => {
  const a = arrays("tiny"); // (1e-30 z1, -1e-30 z2): det J_f = -1e-60 at every vertex
  const { vertexDet } = LENS;
  for (let v = 0; v < 81; v++) {
    const { J, det } = vertex(a, v);
    assert.ok(Object.is(det, -0), "the wire's float32 det is -0");
    const got = vertexDet(det, J, a.logdet.data[v], a.finite.data[81 + v] !== 0);
    assert.ok(Math.abs(got / -1e-60 - 1) < 1e-6, `vertex ${v}: ${got}`);
    assert.match(hoverText(J, [0, 0], [0, 0], got, true), /det J_f\(z\) = -1e-60\n/);
  }
  // a singular vertex (det 0, log-det -inf sent as 0 and flagged): stays 0
  assert.equal(vertexDet(0, [1, 2, 2, 4], 0, false), 0);
});
