import { test } from "node:test";
import assert from "node:assert/strict";

// a page whose devicePixelRatio the test sets; matchMedia returns resolution queries that fire "change" when
// the ratio they were made for stops (or starts) matching, as a browser does when the window changes screens
const queries = [];
globalThis.devicePixelRatio = 1;
globalThis.matchMedia = (q) => {
  const ratio = +/resolution: ([\d.]+)dppx/.exec(q)[1];
  const listeners = new Set();
  const m = { ratio, listeners, get matches() { return globalThis.devicePixelRatio === ratio; },
    addEventListener: (type, fn) => listeners.add(fn), removeEventListener: (type, fn) => listeners.delete(fn) };
  queries.push(m);
  return m;
};
function moveToScreen(ratio) {
  const before = queries.map((m) => m.matches);
  globalThis.devicePixelRatio = ratio;
  queries.forEach((m, i) => { if (m.matches !== before[i]) for (const fn of [...m.listeners]) fn({ matches: m.matches }); });
}

const { watchDeviceRatio, deviceRatio } = await import("../src/panel.js");

test("watchDeviceRatio reports each change of pixel density once, re-armed for the new ratio, until stopped", () => {
  const seen = [];
  const stop = watchDeviceRatio(() => seen.push(globalThis.devicePixelRatio));
  moveToScreen(2);
  moveToScreen(2);
  moveToScreen(1.5);
  moveToScreen(1);
  assert.deepEqual(seen, [2, 1.5, 1]);
  assert.equal(queries.filter((m) => m.listeners.size).length, 1, "one armed query at a time");
  stop();
  moveToScreen(2);
  assert.deepEqual(seen, [2, 1.5, 1]);
  assert.equal(queries.filter((m) => m.listeners.size).length, 0);
});

test("deviceRatio clamps to [1, 3]", () => {
  for (const [r, want] of [[0.5, 1], [1, 1], [2.25, 2.25], [4, 3], [undefined, 1]]) {
    globalThis.devicePixelRatio = r;
    assert.equal(deviceRatio(), want);
  }
});
