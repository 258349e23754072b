import { test } from "node:test";
import assert from "node:assert/strict";
import { rasterizeDensity } from "../src/renderer-canvas2d.js";
import { buildTriangles } from "../src/mesh.js";

// lut32[i] = i: the pixel value is the table index, easy to check
const lut32 = Uint32Array.from({ length: 256 }, (_, i) => i + 1); // + 1 so that 0 means "not drawn"

test("a 2 x 2 vertex mesh covers its square without cracks, values interpolated", () => {
  const W = 20, H = 10;
  const px = Float32Array.from([0, 0, 20, 0, 0, 10, 20, 10]); // vertex i = row * 2 + col
  const val = Float32Array.from([0, 1, 0, 1]); // value = x / 20
  const pixels = new Uint32Array(W * H);
  rasterizeDensity(pixels, W, H, px, val, buildTriangles(2, 2), lut32, 0, 1);
  assert.ok(pixels.every((p) => p > 0), "every pixel drawn");
  for (let x = 0; x < W; x++) {
    const want = Math.round(((x + 0.5) / 20) * 255);
    assert.ok(Math.abs(pixels[5 * W + x] - 1 - want) <= 1, `x=${x}`);
  }
});

test("pixels outside the mesh stay empty; flipped triangles are still filled", () => {
  const W = 10, H = 10;
  const px = Float32Array.from([2, 2, 6, 2, 2, 6]);
  const pixels = new Uint32Array(W * H);
  rasterizeDensity(pixels, W, H, px, Float32Array.from([5, 5, 5]), Uint32Array.from([0, 2, 1]), lut32, 0, 10);
  assert.equal(pixels[3 * W + 3], 129); // 0.5 * 255 + 0.5 -> 128, + 1
  assert.equal(pixels[8 * W + 8], 0);
  assert.equal(pixels[0], 0);
});

test("degenerate range and off-screen triangles are safe", () => {
  const pixels = new Uint32Array(16);
  rasterizeDensity(pixels, 4, 4, Float32Array.from([-50, -50, -40, -50, -50, -40]), Float32Array.from([1, 2, 3]),
    Uint32Array.from([0, 1, 2]), lut32, 1, 1);
  assert.ok(pixels.every((p) => p === 0));
  rasterizeDensity(pixels, 4, 4, Float32Array.from([0, 0, 4, 0, 0, 4]), Float32Array.from([1, 2, 3]),
    Uint32Array.from([0, 1, 2]), lut32, 1, 1);
  assert.equal(pixels[0], 129, "degenerate range maps to the middle of the table");
});
