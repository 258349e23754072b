import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { cIndex, pointTerms, mean, robustRange, averagesAt, extent, termsAt, averagesAtC, logBracket, lerpLog, stats,
  prepareRanges, termRanges } from "../src/views/likelihood/math.js";

function fixture() {
  const C = 4, N = 3, dim = 2;
  const cs = new Float32Array([1e-3, 1e-2, 1e-1, 1]);
  const z = [[1, 0], [0, 2], [-1, -1]];
  const logdet = new Float32Array([0.5, -0.2, 1.0]);
  const term1 = new Float32Array(C * N);
  for (let j = 0; j < C; j++) for (let i = 0; i < N; i++) {
    const r2 = (cs[j] * z[i][0]) ** 2 + (cs[j] * z[i][1]) ** 2;
    term1[j * N + i] = -0.5 * r2 - Math.log(2 * Math.PI);
  }
  return { a: { cs, term1, logdet }, dim, z };
}

test("cIndex picks the nearest c in log space", () => {
  const cs = [1e-3, 1e-2, 1e-1, 1];
  assert.equal(cIndex(cs, 1), 3);
  assert.equal(cIndex(cs, 0.05), 2); // log-nearer to 0.1 than to 0.01
  assert.equal(cIndex(cs, 0.02), 1);
  assert.equal(cIndex(cs, 1e-9), 0);
});

test("term2 = logdet + d log c exactly; averages", () => {
  const { a, dim } = fixture();
  const { t1, t2 } = pointTerms(a, 1, dim);
  assert.equal(t1.length, 3);
  assert.ok(Math.abs(t2[0] - (0.5 + 2 * Math.log(1e-2))) < 1e-6);
  const av = averagesAt(a, 3, dim);
  const m1 = (-0.5 * (1 + 4 + 2)) / 3 - Math.log(2 * Math.PI);
  assert.ok(Math.abs(av.mean1 - m1) < 1e-6);
  assert.ok(Math.abs(av.mean2 - 1.3 / 3) < 1e-6);
  assert.ok(Math.abs(av.total - (m1 + 1.3 / 3)) < 1e-6);
});

test("c -> 0: term1 -> log pi(0), term2 -> -inf like d log c, all finite", () => {
  const { a, dim } = fixture();
  const av = averagesAt(a, 0, dim);
  assert.ok(Math.abs(av.mean1 + Math.log(2 * Math.PI)) < 1e-5);
  assert.ok(av.mean2 < -13 && Number.isFinite(av.mean2));
  assert.ok(Math.abs(av.dlogc - 2 * Math.log(1e-3)) < 1e-6);
});

test("mean, robustRange, extent ignore non-finite values", () => {
  assert.equal(mean([1, 2, NaN, Infinity, 3]), 2);
  assert.ok(Number.isNaN(mean([])));
  const r = robustRange(Array.from({ length: 101 }, (_, i) => i), 0.1);
  assert.deepEqual(r, [10, 90]);
  const flat = robustRange([5, 5, 5]);
  assert.ok(flat[1] > flat[0]);
  assert.ok(flat[0] < 5 && 5 < flat[1], `a constant's range ${flat} holds it`);
  assert.deepEqual(extent([1, -Infinity, 3], [NaN, -2]), [-2, 3]);
});

// ---- the continuous slider, against numbers produced by Python (tests/test_likelihood.py writes the
// fixture and checks that it is current): split_terms(flow, x, c) at c between the grid values.

const FIX = JSON.parse(readFileSync(new URL("./fixtures/likelihood_split.json", import.meta.url), "utf8"));
function arraysOf(k) { // what the browser decodes: float32 arrays
  const c = FIX[k];
  return { a: { z: Float32Array.from(c.z), logdet: Float32Array.from(c.logdet), cs: Float32Array.from(c.cs),
    term1: Float32Array.from(c.term1) }, meta: c.meta, expected: c.expected };
}
const maxAbsDiff = (x, y) => { let m = 0; for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i])); return m; };

test("standard normal base: both terms exact at off-grid c, equal to Python's split_terms", () => {
  const { a, meta, expected } = arraysOf("standard_normal");
  assert.equal(meta.base_family, "standard_normal");
  assert.equal(expected.length, FIX.c.length);
  for (const e of expected) {
    const j = cIndex(a.cs, e.c);
    assert.ok(Math.abs(Math.log10(a.cs[j]) - Math.log10(e.c)) > 1e-3, `c = ${e.c} is not a grid value`);
    const t = termsAt(a, e.c, meta.dim, meta.base_family);
    assert.equal(t.exact, true);
    assert.ok(maxAbsDiff(t.t1, e.term1) < 2e-5, `term1 at c = ${e.c}: ${maxAbsDiff(t.t1, e.term1)}`);
    assert.ok(maxAbsDiff(t.t2, e.term2) < 1e-5, `term2 at c = ${e.c}: ${maxAbsDiff(t.t2, e.term2)}`);
    const av = averagesAtC(a, e.c, meta.dim, meta.base_family);
    assert.ok(Math.abs(av.mean1 - e.mean1) < 1e-5 && Math.abs(av.mean2 - e.mean2) < 1e-5, JSON.stringify([av.mean1, e.mean1]));
    assert.ok(Math.abs(av.total - (e.mean1 + e.mean2)) < 2e-5);
    assert.ok(Math.abs(av.dlogc - meta.dim * Math.log(e.c)) < 1e-12);
  }
});

test("other base: term 1 interpolated in log c as Python does, within the interpolation error", () => {
  const { a, meta, expected } = arraysOf("other");
  assert.equal(meta.base_family, "other");
  for (const e of expected) {
    const t = termsAt(a, e.c, meta.dim, meta.base_family);
    assert.equal(t.exact, false);
    assert.ok(a.cs[t.j] <= e.c * (1 + 1e-6) && e.c <= a.cs[t.j + 1] * (1 + 1e-6) && t.w > 0 && t.w < 1, `bracket of ${e.c}`);
    assert.ok(maxAbsDiff(t.t1, e.mirror_term1) < 1e-9, `interpolation at c = ${e.c}: ${maxAbsDiff(t.t1, e.mirror_term1)}`);
    assert.ok(maxAbsDiff(t.t2, e.term2) < 1e-5);
    // and near the exact values: linear interpolation of -c S over one grid step in log c
    assert.ok(maxAbsDiff(t.t1, e.term1) < 0.02, `term1 at c = ${e.c}: ${maxAbsDiff(t.t1, e.term1)}`);
  }
  // the grid's ends: clamped, exact grid rows
  const N = a.logdet.length;
  const lo = termsAt(a, a.cs[0] / 10, meta.dim, "other");
  assert.deepEqual(Array.from(lo.t1), Array.from(a.term1.subarray(0, N)));
  const top = termsAt(a, 1, meta.dim, "other");
  assert.deepEqual(Array.from(top.t1), Array.from(a.term1.subarray((a.cs.length - 1) * N)));
});

test("logBracket", () => {
  const cs = [1e-3, 1e-2, 1e-1, 1];
  assert.deepEqual(logBracket(cs, 1e-4), [0, 0]);
  assert.deepEqual(logBracket(cs, 2), [2, 1]);
  const [j, w] = logBracket(cs, Math.sqrt(1e-3 * 1e-2));
  assert.equal(j, 0);
  assert.ok(Math.abs(w - 0.5) < 1e-12);
  assert.equal(logBracket(cs, 0.1)[0], 2);
});

// ---- a bounded base (Python's bounded_fixture): the uniform box [0.25, 0.75]^2, where pi(c z) = 0 outside

const inf = (list) => Float64Array.from(list, (v) => (v === null ? -Infinity : v)); // JSON's null: -inf
function boundedCase(k) {
  const c = FIX.bounded[k];
  return { a: { z: Float32Array.from(c.z), logdet: Float32Array.from(c.logdet), cs: Float32Array.from(c.cs),
    term1: Float32Array.from(inf(c.term1)) }, meta: c.meta, expected: c.expected };
}

test("uniform base: term 1 exact at any c, -inf outside the box (not 0), and every mean over it -inf", () => {
  const { a, meta, expected } = boundedCase("uniform");
  assert.equal(meta.base_family, "uniform");
  let mixed = 0;
  for (const e of expected) {
    const ref = inf(e.term1_f64); // independent float64 in Python
    const t = termsAt(a, e.c, meta.dim, meta.base_family, meta.support);
    assert.equal(t.exact, true);
    assert.deepEqual(Array.from(t.t1), Array.from(ref), `term 1 at c = ${e.c}`);
    assert.deepEqual(Array.from(t.t1), Array.from(inf(e.mirror_term1)));
    const out = ref.filter((v) => v === -Infinity).length;
    const av = averagesAtC(a, e.c, meta.dim, meta.base_family, meta.support);
    assert.equal(av.nonfinite1.ninf, out);
    assert.equal(av.nonfinite1.nbad, 0);
    if (out) {
      assert.equal(av.mean1, -Infinity, `c = ${e.c}: ${out} points outside`);
      assert.equal(av.total, -Infinity);
      if (out < ref.length) mixed++;
    } else assert.ok(Math.abs(av.mean1 - 2 * Math.log(2)) < 1e-12);
    assert.ok(Math.abs(av.mean2 - e.term2.reduce((s, v) => s + v, 0) / e.term2.length) < 1e-5);
  }
  assert.ok(mixed >= 2, "some c with points on both sides of the box's edge");
});

test("other base with a bounded support: -inf grid values interpolate to -inf (never NaN, never 0)", () => {
  const { a, meta, expected } = boundedCase("other");
  assert.equal(meta.base_family, "other");
  assert.ok(a.term1.some((v) => v === -Infinity));
  for (const e of expected) {
    const t = termsAt(a, e.c, meta.dim, meta.base_family, meta.support);
    assert.equal(t.exact, false);
    const mirror = inf(e.mirror_term1);
    for (let i = 0; i < mirror.length; i++) {
      if (mirror[i] === -Infinity) assert.equal(t.t1[i], -Infinity);
      else assert.ok(Math.abs(t.t1[i] - mirror[i]) < 1e-9, `point ${i} at c = ${e.c}`);
    }
    const av = averagesAtC(a, e.c, meta.dim, meta.base_family);
    assert.equal(av.mean1, mirror.some((v) => v === -Infinity) ? -Infinity : av.mean1);
    assert.ok(!Number.isNaN(av.mean1));
  }
  // the grid's ends: weight 0 for the other neighbour (0 * -inf would be NaN)
  const N = a.logdet.length;
  const lo = termsAt(a, a.cs[0] / 10, meta.dim, "other");
  assert.deepEqual(Array.from(lo.t1), Array.from(a.term1.subarray(0, N)));
  assert.equal(lerpLog(-Infinity, 1, 1), 1);
  assert.equal(lerpLog(1, -Infinity, 0), 1);
  assert.equal(lerpLog(-Infinity, 1, 0.5), -Infinity);
  assert.deepEqual(averagesAt({ cs: [0.5, 1], term1: Float32Array.from([1, -Infinity, 1, 2]), logdet: [0, 0] }, 0, 2).mean1, -Infinity);
  assert.ok(Number.isNaN(stats([]).mean));
});

// ---- the colour scales: the same numbers as sorting every frame did, without the sort

/** The former robustRange (sorted copy of the finite values): the reference. */
function sortedRange(values, q = 0.02) {
  const v = Array.from(values).filter(Number.isFinite).sort((x, y) => x - y);
  if (!v.length) return [0, 1];
  const at = (p) => v[Math.min(v.length - 1, Math.max(0, Math.round(p * (v.length - 1))))];
  let lo = at(q), hi = at(1 - q);
  if (!(hi > lo)) { const m = Math.max(Math.abs(lo) * 1e-3, 1e-6); lo -= m; hi += m; }
  return [lo, hi];
}

test("robustRange by selection equals the sorted quantiles exactly (duplicates, inf, NaN, any q)", () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (const n of [1, 2, 3, 10, 51, 1000, 4099]) {
    for (const kind of ["spread", "dups", "mixed"]) {
      const v = Array.from({ length: n }, () => (kind === "dups" ? Math.floor(rnd() * 4) : rnd() * 10 - 5));
      if (kind === "mixed") for (let i = 0; i < n; i += 7) v[i] = [NaN, -Infinity, Infinity][i % 3];
      for (const q of [0, 0.02, 0.1, 0.5]) assert.deepEqual(robustRange(v, q), sortedRange(v, q), `${n} ${kind} ${q}`);
    }
  }
  assert.deepEqual(robustRange([NaN, -Infinity]), [0, 1]);
});

test("termRanges (keys sorted once per scene) equal the sorted terms' quantiles at every c", () => {
  const cases = [["standard_normal", arraysOf("standard_normal"), null], ["other", arraysOf("other"), null]];
  for (const k of ["uniform", "other"]) { const b = boundedCase(k); cases.push([`bounded ${k}`, b, b.meta.support]); }
  for (const [name, { a, meta }, support] of cases) {
    const prep = prepareRanges(a, meta.dim, meta.base_family);
    for (let s = 0; s <= 60; s++) {
      const c = 10 ** (-3 + s * 0.05 + 0.0123 * (s % 3));
      const t = termsAt(a, Math.min(c, 1), meta.dim, meta.base_family, support);
      const [r1, r2] = termRanges(t, meta.dim, meta.base_family, prep, support);
      assert.deepEqual(r1, sortedRange(t.t1), `${name}: term 1 at c = ${c}`);
      assert.deepEqual(r2, sortedRange(t.t2), `${name}: term 2 at c = ${c}`);
    }
  }
});
