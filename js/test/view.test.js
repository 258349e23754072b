import { test } from "node:test";
import assert from "node:assert/strict";
import { decimalsOf, fitView, makeTransform, niceTicks, tickLabel, unionBounds } from "../src/view.js";
import { stepDecimals } from "../src/controls.js";

test("fitView keeps equal scales and contains the bounds", () => {
  const v = fitView([-1, 3, 0, 1], 400, 200);
  assert.ok(v.x0 <= -1 && v.x1 >= 3 && v.y0 <= 0 && v.y1 >= 1);
  assert.ok(Math.abs((v.x1 - v.x0) / (v.y1 - v.y0) - 2) < 1e-12);
  const tall = fitView([-1, 3, 0, 1], 100, 400);
  assert.ok(Math.abs((tall.x1 - tall.x0) / (tall.y1 - tall.y0) - 0.25) < 1e-12);
  const flat = fitView([2, 2, 5, 5], 100, 100); // degenerate box
  assert.ok(flat.x1 > flat.x0 && flat.y1 > flat.y0);
  // ... around the point itself, not somewhere else
  assert.ok(flat.x0 < 2 && flat.x1 > 2 && flat.y0 < 5 && flat.y1 > 5);
  assert.ok(Math.abs((flat.x0 + flat.x1) / 2 - 2) < 1e-9 && Math.abs((flat.y0 + flat.y1) / 2 - 5) < 1e-9);
});

test("transform round trip and y up", () => {
  const tr = makeTransform({ x0: -2, x1: 2, y0: -1, y1: 1 }, { left: 10, top: 20, width: 400, height: 200 });
  assert.equal(tr.px(-2), 10);
  assert.equal(tr.py(1), 20, "top of the plot is y1");
  assert.equal(tr.py(-1), 220);
  assert.ok(Math.abs(tr.x(tr.px(0.7)) - 0.7) < 1e-12);
  assert.ok(Math.abs(tr.y(tr.py(-0.3)) + 0.3) < 1e-12);
  assert.equal(tr.inside(5, 50), false);
  assert.equal(tr.inside(100, 100), true);
});

test("nice ticks", () => {
  assert.deepEqual(niceTicks(0, 10, 5), [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(niceTicks(-3.2, 3.2, 4), [-2, 0, 2]);
  assert.deepEqual(niceTicks(-5, 5, 4), [-5, -2.5, 0, 2.5, 5]);
  assert.deepEqual(niceTicks(0.11, 0.49, 4), [0.2, 0.3, 0.4]);
  assert.deepEqual(niceTicks(1, 1, 4), []);
  assert.equal(tickLabel(-2.5, 2.5), "-2.5");
  assert.equal(tickLabel(0, 0.25), "0.00");
  assert.equal(tickLabel(4, 2), "4");
  assert.equal(tickLabel(-0.0000001, 0.1), "0.0");
});

test("niceTicks ends where the step is below the floats' spacing (1e17 + 32: v += step cannot advance)", () => {
  const t = niceTicks(1e17, 1e17 + 32, 8);
  assert.ok(t.length <= 11, `${t.length} ticks`);
  assert.deepEqual(niceTicks(0, 10, 5), [0, 2, 4, 6, 8, 10]);
});

test("decimals of a step, also below 1e-6 where String() writes an exponent", () => {
  for (const [step, d] of [[0.25, 2], [2, 0], [50, 0], [1e21, 0], [0.1, 1], [1e-7, 7], [2.5e-7, 8], [1.25e-9, 11]]) {
    assert.equal(decimalsOf(step), d, String(step));
  }
  // ticks 2.5e-7 apart read their true values, and so does a slider of that step
  const ticks = niceTicks(0, 1e-6, 4);
  assert.deepEqual(ticks.map((t) => tickLabel(t, ticks[1] - ticks[0])),
    ["0.00000000", "0.00000025", "0.00000050", "0.00000075", "0.00000100"]);
  assert.equal(stepDecimals(2.5e-7), 8);
  assert.equal(stepDecimals(0.05), 2);
  assert.equal(stepDecimals(0), 2);
});

test("unionBounds skips non-finite boxes", () => {
  assert.deepEqual(unionBounds([[0, 1, 0, 1], [NaN, 1, 0, 1], [-2, 0, 3, 4]]), [-2, 1, 0, 4]);
  assert.equal(unionBounds([]), null);
});
