import { test } from "node:test";
import assert from "node:assert/strict";
import { handleSpecs, handleShown, handleValue, clampToLimits, hitHandle, beginDrag, dragTo, handleParams } from "../src/handles.js";
import { fitView, makeTransform } from "../src/view.js";

const CONTROLS = [
  { id: "L4.enabled", layer: 4, label: "on", kind: "toggle", value: true },
  { id: "L4.centre.0", layer: 4, label: "z0_1", value: 0.5, min: -3, max: 3, step: 0.01 },
  { id: "L4.centre.1", layer: 4, label: "z0_2", value: -0.5, min: -3, max: 3, step: 0.01 },
  { id: "L4.pick", layer: 4, label: "pick", kind: "choice", value: "a", options: [{ value: "a" }] },
];
const META = { handles: [{ layer: 4, ids: ["L4.centre.0", "L4.centre.1"], label: "z0" }] };

function rng(seed) {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
}

test("handle specs: only handles whose two ids are sliders of `controls`", () => {
  const specs = handleSpecs(META, CONTROLS);
  assert.deepEqual(specs, [{ layer: 4, ids: ["L4.centre.0", "L4.centre.1"], label: "z0", limits: [[-3, 3], [-3, 3]] }]);
  const bad = { handles: [
    { layer: 4, ids: ["L4.centre.0", "L4.missing"] },     // unknown id
    { layer: 4, ids: ["L4.enabled", "L4.centre.1"] },      // a toggle is not a coordinate
    { layer: 4, ids: ["L4.centre.0", "L4.pick"] },         // nor is a drop-down
    { layer: 0, ids: ["L4.centre.0", "L4.centre.1"] },     // layers are 1-based
    { layer: 4, ids: ["L4.centre.0"] },                    // needs two
    null,
  ] };
  assert.deepEqual(handleSpecs(bad, CONTROLS), []);
  assert.deepEqual(handleSpecs({}, CONTROLS), []);
  assert.deepEqual(handleSpecs(undefined, undefined), []);
});

test("a layer's handle shows for t in (k-1, k] and only while the layer is on", () => {
  const [spec] = handleSpecs(META, CONTROLS);
  const on = [{}, {}, {}, { enabled: true }];
  for (const [t, shown] of [[0, false], [2.9, false], [3, false], [3.0001, true], [3.5, true], [4, true], [4.0001, false]]) {
    assert.equal(handleShown(spec, t, on), shown, `t = ${t}`);
  }
  assert.equal(handleShown(spec, 3.5, [{}, {}, {}, { enabled: false }]), false);
  assert.equal(handleShown(spec, 3.5, []), true, "no layer info: shown");
});

test("handle value: params first (what the browser set last), else the controls' values", () => {
  const [spec] = handleSpecs(META, CONTROLS);
  assert.deepEqual(handleValue(spec, CONTROLS, {}), [0.5, -0.5]);
  assert.deepEqual(handleValue(spec, CONTROLS, { "L4.centre.0": 1.25 }), [1.25, -0.5]);
  assert.deepEqual(handleValue(spec, CONTROLS, { "L4.centre.0": 1.25, "L4.centre.1": 2 }), [1.25, 2]);
  assert.equal(handleValue(spec, CONTROLS, { "L4.centre.1": NaN }), null);
  assert.equal(handleValue(spec, [], {}), null);
  // a centre Python sent as null (NaN parameters): no handle, not one at the origin
  const nulls = CONTROLS.map((c) => (c.id === "L4.centre.0" ? { ...c, value: null } : c));
  assert.equal(handleValue(spec, nulls, {}), null);
});

test("clamp into the sliders' ranges", () => {
  assert.deepEqual(clampToLimits([5, -7], [[-3, 3], [-2, 2]]), [3, -2]);
  assert.deepEqual(clampToLimits([0.1, 0.2], [[-3, 3], [-2, 2]]), [0.1, 0.2]);
});

test("hit test measures on screen, in CSS pixels, through the view transform", () => {
  // a view of unequal data extent: 1 data unit is 50 px on both axes (equal scales)
  const plot = { left: 40, top: 20, width: 400, height: 200 };
  const tr = makeTransform(fitView([-4, 4, -2, 2], plot.width, plot.height), plot);
  assert.equal(tr.sx, 50);
  const pts = [[0.5, -0.5], [2, 1], null, [NaN, 0]];
  const px = tr.px(0.5), py = tr.py(-0.5);
  assert.equal(px, 40 + 4.5 * 50);
  assert.equal(py, 20 + 2.5 * 50, "y points up: below the centre line");
  assert.equal(hitHandle(pts, tr, px, py, 12), 0);
  assert.equal(hitHandle(pts, tr, px + 11.9, py, 12), 0, "just inside the radius");
  assert.equal(hitHandle(pts, tr, px + 8, py + 9, 12), -1, "outside the radius (12.04 px)");
  assert.equal(hitHandle(pts, tr, tr.px(2) - 3, tr.py(1) + 4, 12), 1);
  // the nearest of two overlapping handles wins
  const near = [[0, 0], [0.1, 0]]; // 5 px apart
  assert.equal(hitHandle(near, tr, tr.px(0) + 1, tr.py(0), 12), 0);
  assert.equal(hitHandle(near, tr, tr.px(0.1) - 1, tr.py(0), 12), 1);
  assert.equal(hitHandle([], tr, px, py, 12), -1);
});

test("dragging keeps the grab offset: the handle stays under the pointer, values in data units", () => {
  const r = rng(7);
  const [spec] = handleSpecs(META, CONTROLS);
  let unclamped = 0;
  for (let trial = 0; trial < 200; trial++) {
    const plot = { left: 30 + 40 * r(), top: 20 + 20 * r(), width: 200 + 600 * r(), height: 150 + 500 * r() };
    const bounds = [-5 * r() - 1, 5 * r() + 1, -5 * r() - 1, 5 * r() + 1];
    const tr = makeTransform(fitView(bounds, plot.width, plot.height), plot);
    const value = [(r() - 0.5) * 4, (r() - 0.5) * 4];
    // grab a few pixels off the handle's centre
    const gx = tr.px(value[0]) + (r() - 0.5) * 16, gy = tr.py(value[1]) + (r() - 0.5) * 16;
    const drag = beginDrag(spec, value, tr, gx, gy);
    assert.deepEqual(dragTo(drag, tr, gx, gy).map((v) => +v.toFixed(9)), value.map((v) => +v.toFixed(9)),
      "no jump when the pointer has not moved");
    const dx = (r() - 0.5) * 200, dy = (r() - 0.5) * 200;
    const v = dragTo(drag, tr, gx + dx, gy + dy);
    // independent arithmetic: a pixel is (x1 - x0) / width data units; screen y grows downwards
    const unit = (tr.view.x1 - tr.view.x0) / plot.width;
    const want = clampToLimits([value[0] + dx * unit, value[1] - dy * unit], spec.limits);
    assert.ok(Math.abs(v[0] - want[0]) < 1e-9 && Math.abs(v[1] - want[1]) < 1e-9, `${v} != ${want}`);
    if (want[0] === value[0] + dx * unit && want[1] === value[1] - dy * unit) {
      // unclamped: the handle is drawn at the same offset from the pointer as when it was grabbed
      unclamped++;
      assert.ok(Math.abs(tr.px(v[0]) - (gx + dx) - (tr.px(value[0]) - gx)) < 1e-6);
      assert.ok(Math.abs(tr.py(v[1]) - (gy + dy) - (tr.py(value[1]) - gy)) < 1e-6);
    }
    assert.deepEqual(drag.start, value, "the start value is kept (pointercancel restores it)");
  }
  assert.ok(unclamped > 150, `only ${unclamped} of 200 drags stayed inside the range`);
});

test("a drag past the slider range stops at its end; the params entries name both ids", () => {
  const [spec] = handleSpecs(META, CONTROLS);
  const tr = makeTransform({ x0: -10, x1: 10, y0: -10, y1: 10 }, { left: 0, top: 0, width: 400, height: 400 });
  const drag = beginDrag(spec, [0.5, -0.5], tr, tr.px(0.5), tr.py(-0.5));
  assert.deepEqual(dragTo(drag, tr, tr.px(8), tr.py(-9)), [3, -3]);
  assert.deepEqual(dragTo(drag, tr, NaN, 5), [3, -3], "a non-finite pointer keeps the last value");
  assert.deepEqual(handleParams(spec, [1.5, -2]), { "L4.centre.0": 1.5, "L4.centre.1": -2 });
});

test("a click without travel leaves the value exactly as it was; a trained value beyond the sliders does not jump", () => {
  const [spec] = handleSpecs(META, CONTROLS); // limits +-3
  const tr = makeTransform({ x0: -10, x1: 10, y0: -10, y1: 10 }, { left: 0, top: 0, width: 400, height: 400 });
  for (const value of [[0.4, 0.04], [5, 0.5], [0.37, -1.13]]) {
    const gx = tr.px(value[0]) + 2, gy = tr.py(value[1]) - 1; // grabbed slightly off its centre
    const drag = beginDrag(spec, value, tr, gx, gy);
    assert.deepEqual(dragTo(drag, tr, gx, gy), value, "no travel: the very same numbers");
    assert.deepEqual(dragTo(drag, tr, gx + 2, gy - 1), value, "within the slop: still the same");
    assert.equal(drag.moved, false);
  }
  // a centre at x = 5, outside the slider's [-3, 3]: a small drag moves it by that much, not to 3
  const drag = beginDrag(spec, [5, 0.5], tr, tr.px(5), tr.py(0.5));
  const v = dragTo(drag, tr, tr.px(5) - 20, tr.py(0.5)); // 20 px left = 1 data unit
  assert.equal(drag.moved, true);
  assert.ok(Math.abs(v[0] - 4) < 1e-9 && Math.abs(v[1] - 0.5) < 1e-9, `${v}`);
  assert.deepEqual(dragTo(drag, tr, tr.px(9), tr.py(0.5)), [5, 0.5], "and not beyond where it started, outside");
});
