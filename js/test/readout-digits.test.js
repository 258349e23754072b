import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { buildScene } from "../src/scene.js";
import { computeReadout, formatWithin, readoutRows } from "../src/readout.js";

// arrays and meta as player_scene sends them, and the float64 truth at the same vertices (autograd Jacobians of a
// float64 copy of the flow): written by `python tests/test_readout_digits.py`, checked current there
const FIX = JSON.parse(readFileSync(new URL("./fixtures/readout_digits.json", import.meta.url), "utf8"));
const f64 = (b64) => new Float64Array(new Uint8Array(Buffer.from(b64, "base64")).buffer);
const SUBS = "\u2080\u2081\u2082\u2083\u2084\u2085\u2086\u2087\u2088\u2089";
const sub = (n) => String(n).split("").map((d) => SUBS[+d]).join("");

/** The value a shown number claims and the place of its last digit; null for a text that is not a number. */
function claim(text) {
  const m = String(text).replace("\u2212", "-").match(/^(-?)(\d+)(?:\.(\d+))?(?:e(-?\d+))?$/);
  if (!m) return null;
  return { value: Number(String(text).replace("\u2212", "-")), place: 10 ** ((m[4] ? +m[4] : 0) - (m[3] ? m[3].length : 0)) };
}

/** Shown text vs truth: every digit right to one unit of the last; "\u22480" only where the error bound allows 0. */
function holds(text, truth, err) {
  if (text === "\u22480") return Math.abs(truth) <= 1.5 * 10 ** Math.ceil(Math.log10(err));
  const c = claim(text);
  assert.ok(c, `not a number: ${text}`);
  return Math.abs(c.value - truth) <= 1.0001 * c.place;
}

test("formatWithin rounds to the place of the error bound and says \u22480 where that leaves nothing", () => {
  assert.equal(formatWithin(3.7344e-5, 6e-7), "3.7e-5"); // place 1e-6
  assert.equal(formatWithin(-7.7716e-16, 2.4e-7), "\u22480");
  assert.equal(formatWithin(0.015762, 2.4e-7), "0.015762");
  assert.equal(formatWithin(0.015762, 3e-5), "0.0158");
  assert.equal(formatWithin(9e-7, 1.1e-7), "1e-6");
  assert.equal(formatWithin(-2.0000001, 2e-7), "-2");
  assert.equal(formatWithin(0, 1), "0", "an exact zero stays 0");
  assert.equal(formatWithin(0.5, 0), "0.5", "no bound: formatNumber");
  assert.equal(formatWithin(NaN, 1e-3), "non-finite");
});

for (const [name, fix] of Object.entries(FIX)) {
  test(`every number the readout shows is right to its last digit: ${name}`, () => {
    const sc = buildScene(fix.arrays, fix.meta);
    const { K, V } = sc;
    const T = Object.fromEntries(Object.entries(fix.truth).map(([k, b]) => [k, f64(b)]));
    let checked = 0, zeros = 0, wrong = [];
    const check = (what, text, truth, err, k, v) => {
      if (!Number.isFinite(truth)) return;
      checked++;
      if (text === "\u22480") zeros++;
      if (!holds(text, truth, err)) wrong.push(`${what} k=${k} v=${v}: shows ${text}, truth ${truth}`);
    };
    for (let k = 0; k <= K; k++) {
      for (let v = 0; v < V; v++) {
        const r = computeReadout(sc.readoutSource, k, v);
        const rows = Object.fromEntries(readoutRows(r).flatMap((s) => s.rows));
        const [px, py] = rows[k === 0 ? "z" : `x${sub(k)}`].slice(1, -1).split(", ");
        check("x1", px, T.pos[(k * V + v) * 2], r.err.pos, k, v);
        check("x2", py, T.pos[(k * V + v) * 2 + 1], r.err.pos, k, v);
        check("log p", rows[`log p${sub(k)}(x)`], T.logp[k * V + v], r.err.logp, k, v);
        check("sum", rows["= sum"], T.logp[k * V + v], r.err.sum, k, v);
        if (k === 0) continue;
        const J = rows.J.replace(/[[\]]/g, " ").trim().split(/\s+/);
        J.forEach((text, i) => check(`J${i}`, text, T.J[((k - 1) * V + v) * 4 + i], r.err.J[i], k, v));
        check("det J", rows["det J"], T.det[(k - 1) * V + v], r.err.detShown, k, v);
        check("(layer)", rows["  (layer)"], T.logabsdet[(k - 1) * V + v], r.err.logdet, k, v);
        if (!rows["log|det J|"].startsWith("<")) {
          check("log|det J|", rows["log|det J|"], T.logabsdet[(k - 1) * V + v], r.err.det / Math.abs(r.det), k, v);
        }
        let cum = 0;
        for (let j = 1; j <= k; j++) cum += T.logabsdet[(j - 1) * V + v];
        check("cum", rows[`\u03a3 log|det| 1..${k}`], cum, r.err.cum, k, v);
      }
    }
    assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} of ${checked} numbers wrong`);
    assert.ok(checked > 1000 && zeros < checked / 4, `${checked} checked, ${zeros} shown as \u22480`);
  });
}
