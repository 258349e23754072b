import { test } from "node:test";
import assert from "node:assert/strict";
import { lutIndex, makeColormap, makeLut, lutToRGBA8, NO_VALUE } from "../src/colormap.js";

// a grey ramp: entry i is i/255
const lut = new Float32Array(768);
for (let i = 0; i < 256; i++) lut.fill(i / 255, 3 * i, 3 * i + 3);
lut[3 * 255] = 1; lut[3 * 255 + 1] = 0; lut[3 * 255 + 2] = 0; // last entry red

test("limits map to the ends of the table and clamp beyond", () => {
  assert.equal(lutIndex(-5, -5, 3), 0);
  assert.equal(lutIndex(3, -5, 3), 255);
  assert.equal(lutIndex(-100, -5, 3), 0);
  assert.equal(lutIndex(100, -5, 3), 255);
  assert.equal(lutIndex(-1, -5, 3), 128); // midpoint: 0.5 * 255 = 127.5 -> 128
  const cm = makeColormap(lut, -5, 3);
  assert.deepEqual(cm.rgb(3), [255, 0, 0, 255]);
  assert.deepEqual(cm.rgb(-5), [0, 0, 0, 255]);
  assert.deepEqual(cm.rgb(-3), [64, 64, 64, 255]); // 0.25 * 255 = 63.75 -> 64
});

test("non-finite values get the no-value colour, never NaN", () => {
  const cm = makeColormap(lut, -5, 3);
  for (const v of [NaN, Infinity, -Infinity]) {
    assert.equal(lutIndex(v, -5, 3), -1);
    assert.deepEqual(cm.rgb(v), NO_VALUE.slice());
  }
  const out = cm.fill(Float32Array.from([NaN, 3, -Infinity]));
  assert.deepEqual(Array.from(out), [0, 0, 0, 0, 255, 0, 0, 255, 0, 0, 0, 0]);
  assert.ok(!Array.from(out).some(Number.isNaN));
  assert.equal(cm.css(NaN), "rgba(0,0,0,0)");
});

test("degenerate or non-finite limits do not produce NaN", () => {
  assert.equal(lutIndex(1, 2, 2), 128);
  assert.equal(lutIndex(1, NaN, 2), 128);
  assert.equal(lutIndex(1, -Infinity, Infinity), 128);
});

test("tables convert to RGBA bytes; 0..255 tables are accepted too", () => {
  const bytes = lutToRGBA8(lut);
  assert.equal(bytes.length, 1024);
  assert.deepEqual(Array.from(bytes.subarray(4 * 255, 4 * 256)), [255, 0, 0, 255]);
  const scaled = lut.map((v) => v * 255);
  assert.deepEqual(Array.from(lutToRGBA8(scaled)), Array.from(bytes));
  const viridis = lutToRGBA8(makeLut());
  assert.deepEqual(Array.from(viridis.subarray(0, 3)), [68, 1, 84]); // viridis starts dark purple
});
