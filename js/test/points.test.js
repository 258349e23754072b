import { test } from "node:test";
import assert from "node:assert/strict";
import { crowding, boxAreaPx, boundsAt } from "../src/points.js";

test("an uncrowded cloud is drawn as the theme says", () => {
  // 1000 points of 3.2 px in a 400 x 400 px box: discs cover 5% of it
  assert.deepEqual(crowding(1000, 400 * 400, 3.2), { scale: 1, alpha: 1, rim: 1 });
  assert.deepEqual(crowding(0, 100, 3.2), { scale: 1, alpha: 1, rim: 1 });
  assert.deepEqual(crowding(10, NaN, 3.2), { scale: 1, alpha: 1, rim: 1 });
});

test("a crowded cloud shrinks to the covered share, then fades", () => {
  // 5000 points of 3.2 px in a 320 x 320 px box: cover = 5000 pi 1.6^2 / 102400 = 0.393 > 0.15
  const cover = (5000 * Math.PI * 1.6 ** 2) / (320 * 320);
  const c = crowding(5000, 320 * 320, 3.2);
  assert.ok(Math.abs(c.scale - Math.sqrt(0.15 / cover)) < 1e-12, `scale ${c.scale}`);
  assert.equal(c.alpha, 1); // the smaller discs cover exactly maxCover: no fading needed
  assert.ok(Math.abs(c.rim - c.scale) < 1e-12);
  // far more crowded: half size at most, then fainter, never below minAlpha
  const d = crowding(5000, 150 * 150, 3.2);
  assert.equal(d.scale, 0.5);
  const over = ((5000 * Math.PI * 1.6 ** 2) / (150 * 150)) * 0.25 / 0.15;
  assert.ok(Math.abs(d.alpha - 1 / Math.sqrt(over)) < 1e-12, `alpha ${d.alpha}`);
  assert.equal(crowding(1e6, 100 * 100, 3.2).alpha, 0.35);
  // monotone: more points never draw larger or more opaque
  let last = { scale: 1, alpha: 1 };
  for (const n of [100, 1000, 3000, 10000, 30000, 100000]) {
    const e = crowding(n, 300 * 300, 3.2);
    assert.ok(e.scale <= last.scale && e.alpha <= last.alpha, `${n}: ${JSON.stringify(e)}`);
    last = e;
  }
});

test("box area on screen and bounds between two states", () => {
  assert.equal(boxAreaPx([-1, 1, -2, 2], 10, 10), 20 * 40);
  assert.ok(Number.isNaN(boxAreaPx(null, 1, 1)));
  const bounds = [[-1, 1, -1, 1], [-3, 3, -2, 2]];
  assert.deepEqual(boundsAt(bounds, { k0: 0, k1: 1, f: 0.5 }), [-2, 2, -1.5, 1.5]);
  assert.deepEqual(boundsAt(bounds, { k0: 1, k1: 1, f: 0 }), [-3, 3, -2, 2]);
  assert.equal(boundsAt(null, { k0: 0, k1: 1, f: 0.5 }), null);
});
