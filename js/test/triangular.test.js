import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fakeNode, runFrames } from "../dev/fakedom.mjs";
import { createFakeModel } from "../dev/fixture.mjs";
import { decodeArray } from "../src/wire.js";
import { formatNumber } from "../src/readout.js";
import { heatColor, heatKey, fitLogLog, zeroPattern, patternText } from "../src/views/triangular/heat.js";
import { renderTriangular } from "../src/views/triangular/triangular.js";

// states as Python sends them, with log|J_ii| from jacrev in float64 ("truth"); written by
// `python tests/test_triangular.py`, checked current there
const FIX = JSON.parse(readFileSync(new URL("./fixtures/triangular_hover.json", import.meta.url), "utf8"));

/** Mount the view on fixture `name`; hover(i, j) (0-based) returns the hover readout's text. */
function mount(name) {
  const { truth, ...state } = FIX[name];
  const model = createFakeModel({ ...state, timing: {}, measuring: false, measure_request: 0, preset: "notebook",
    theme: "light" });
  const el = fakeNode("div");
  const ac = new AbortController();
  renderTriangular({ model, el, signal: ac.signal });
  runFrames();
  const find = (node, cls) => (node.className === cls ? node : node.children.map((c) => find(c, cls)).find(Boolean));
  const heat = find(el, "fv-tri-canvas"), hov = find(el, "fv-readout fv-tri-hover"), n = state.meta.n;
  const r = heat.getBoundingClientRect();
  const hover = (i, j) => {
    heat.dispatch("pointermove", { clientX: r.left + ((j + 0.5) / n) * r.width, clientY: r.top + ((i + 0.5) / n) * r.height });
    runFrames();
    return hov.textContent;
  };
  return { hover, n, truth, J: decodeArray(state.arrays.jac, "jac").data, close: () => ac.abort() };
}

test("the hover's log|J_ii| has the digits of the float64 log, not of a log of the float32 J_ii", () => {
  const { hover, n, truth, J, close } = mount("maf16"); // TriangularJacobian() as it opens
  let differ = 0;
  for (let i = 0; i < n; i++) {
    const text = hover(i, i);
    assert.match(text, new RegExp(`^row ${i + 1}, column ${i + 1} `));
    const shown = text.match(/log\|J\u1d62\u1d62\| = (\S+)$/)[1];
    assert.equal(shown, formatNumber(truth[i]), `cell (${i + 1}, ${i + 1}): ${text}`);
    if (formatNumber(Math.log(Math.abs(J[i * n + i]))) !== shown) differ++;
  }
  assert.ok(differ >= 1, "the fixture holds a cell where the float32 J_ii's log shows other digits");
  assert.match(hover(13, 13), /log\|Jᵢᵢ\| = -0\.0082136$/); // the float32 J_ii's log: -0.0082137
  assert.doesNotMatch(hover(13, 2), /log/); // off the diagonal: J_ij only
  close();
});

test("log|J_ii| where float32 cannot hold J_ii: -inf for J_ii = 0, finite below and beyond float32's range", () => {
  const { hover, truth, close } = mount("edge"); // x = s z, s = (1 + 1e-6, 0, 1e-50, -1e50)
  assert.equal(truth[1], null);
  assert.match(hover(0, 0), /J = ∂x\/∂z = 1\nlog\|Jᵢᵢ\| = 1e-6$/); // log of the float32 1.000001: 9.5367e-7
  assert.equal(formatNumber(truth[0]), "1e-6");
  assert.match(hover(1, 1), /J = ∂x\/∂z = 0 \(exact zero\)\nlog\|Jᵢᵢ\| = −inf \(non-finite\)$/);
  assert.match(hover(2, 2), /J = ∂x\/∂z = 1e-50 \(beyond float32's range\)\nlog\|Jᵢᵢ\| = -115\.13$/);
  assert.match(hover(3, 3), /J = ∂x\/∂z = -1e50 \(beyond float32's range\)\nlog\|Jᵢᵢ\| = 115\.13$/);
  assert.equal(formatNumber(truth[2]), "-115.13");
  assert.match(hover(3, 0), /J = ∂x\/∂z = 0 \(exact zero\)$/);
  close();
});

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
