import { test } from "node:test";
import assert from "node:assert/strict";
import { fakeNode, runFrames } from "../dev/fakedom.mjs";
import { renderPlayer } from "../src/player.js";
import { makeFixture, createFakeModel } from "../dev/fixture.mjs";
import { decodeArray, encodeArray } from "../src/wire.js";

// The player's state against its model (WIRE.md), driven as Python and a user would, on a fake DOM.

let clock = 1000; // performance.now, moved by the test (the position write-back is throttled by it)
Object.defineProperty(globalThis.performance, "now", { value: () => clock, configurable: true, writable: true });

function findAll(node, pred, out = []) {
  if (pred(node)) out.push(node);
  for (const c of node.children || []) findAll(c, pred, out);
  return out;
}

function mount(state = {}, fx = makeFixture({ N: 50, g: 9 })) {
  const saves = [];
  const model = createFakeModel({ arrays: fx.arrays, meta: fx.meta, controls: fx.controls, params: fx.params,
    position: 0, theme: "light", preset: "notebook", renderer: "canvas2d", ...state },
  { onSave: (keys, s) => saves.push(Object.fromEntries(keys.map((k) => [k, s[k]]))) });
  const el = fakeNode("div");
  const ac = new AbortController();
  renderPlayer({ model, el, signal: ac.signal });
  const frame = (dt = 16) => { clock += dt; runFrames(clock); };
  frame();
  const panel = () => findAll(el, (n) => n.className === "fv-panel").at(-1);
  const overlay = () => findAll(el, (n) => n.className === "fv-overlay").at(-1);
  const toPx = () => { // data -> CSS pixels of the x panel (its data-view and data-plot)
    const [x0, x1, y0, y1] = panel().dataset.view.split(",").map(Number);
    const [left, top, width, height] = panel().dataset.plot.split(",").map(Number);
    return { px: (x) => left + ((x - x0) * width) / (x1 - x0), py: (y) => top + ((y1 - y) * height) / (y1 - y0) };
  };
  return { fx, model, el, ac, frame, panel, overlay, toPx, saves };
}

function withCentreHandle(centre) { // a radial-like centre on layer 2 with its two sliders
  const fx = makeFixture({ N: 50, g: 9 });
  fx.meta.handles = [{ layer: 2, ids: ["c0", "c1"], label: "z0" }];
  fx.controls.push({ id: "c0", layer: 2, label: "c0", value: centre[0], min: -3, max: 3, step: 0.01 },
    { id: "c1", layer: 2, label: "c1", value: centre[1], min: -1, max: 1, step: 0.01 });
  fx.params = { ...fx.params, c0: centre[0], c1: centre[1] };
  return fx;
}

test("a click on a handle without moving it writes nothing (a trained centre beyond its slider stays)", () => {
  for (const centre of [[0.2, -0.3], [0.37, -1.13], [5, 0.5]]) {
    const m = mount({ position: 1.5 }, withCentreHandle(centre));
    m.frame();
    const t = m.toPx(), x = t.px(centre[0]) + 3, y = t.py(centre[1]) - 2; // grabbed a little off its centre
    const before = m.saves.length;
    m.overlay().dispatch("pointerdown", { button: 0, clientX: x, clientY: y, pointerId: 1 });
    m.frame();
    m.overlay().dispatch("pointerup", { clientX: x, clientY: y, pointerId: 1 });
    m.frame();
    assert.match(m.panel().dataset.handle || "", /^2,/, "the centre's handle is shown (layer 2)");
    const writes = m.saves.slice(before).filter((s) => "params" in s);
    assert.deepEqual(writes, [], `centre ${centre}: a click wrote ${JSON.stringify(writes)}`);
    m.ac.abort();
  }
});

test("a pause set from Python leaves the exact position shown in the model", () => {
  const m = mount();
  m.model.set("playing", true);
  for (let i = 0; i < 15; i++) m.frame(37);
  m.model.set("playing", false); // Python: w.playing = False, between two throttled write-backs
  m.frame();
  assert.ok(Math.abs(m.model.get("position") - +m.el.dataset.position) < 1e-6, `${m.model.get("position")} vs ${m.el.dataset.position}`);
  assert.ok(+m.el.dataset.position > 0.1);
  m.ac.abort();
});

test("a speed of 0 or below from Python plays forwards at 1x, within [0, K]", () => {
  for (const speed of [-1, 0]) {
    const m = mount({ position: 1 });
    m.model.set("speed", speed);
    m.model.set("playing", true);
    for (let i = 0; i < 40; i++) m.frame(100);
    assert.equal(m.el.dataset.position, "3", `speed ${speed}: ends at K`);
    assert.equal(m.model.get("playing"), false);
    assert.equal(m.model.get("position"), 3);
    m.ac.abort();
  }
});

test("a click clears a selection whose indices all lie beyond the current points", () => {
  const m = mount({}, makeFixture({ N: 30, g: 9 }));
  m.model.set("selection", [40, 45]); // kept from a larger n_points
  m.frame();
  assert.equal(m.el.dataset.selected, "0");
  m.overlay().dispatch("pointerdown", { button: 0, clientX: 200, clientY: 200, pointerId: 1 });
  m.overlay().dispatch("pointerup", { clientX: 200, clientY: 200, pointerId: 1 });
  m.frame();
  assert.deepEqual(m.model.get("selection"), []);
  m.ac.abort();
});

test("a flow with fewer layers clamps the position, and the model is told", () => {
  const fx = makeFixture({ N: 50, g: 9 });
  const m = mount({ position: 3 }, fx);
  const arrays = {}; // the same scene cut to K = 2
  for (const [k, v] of Object.entries(fx.arrays)) {
    if (k === "lut") { arrays[k] = v; continue; }
    const d = decodeArray(v), per = d.data.length / d.shape[0], keep = k === "jac" || k === "logdet" ? 2 : 3;
    arrays[k] = encodeArray(d.data.slice(0, keep * per), [keep, ...d.shape.slice(1)]);
  }
  m.model.set("arrays", arrays);
  m.model.set("meta", { ...fx.meta, K: 2, layers: fx.meta.layers.slice(0, 2), bounds: fx.meta.bounds.slice(0, 3), version: 7 });
  m.frame();
  assert.equal(m.el.dataset.position, "2");
  assert.equal(m.model.get("position"), 2, "the model holds the position shown");
  m.model.set("position", 5); // Python asks for more than K
  m.frame();
  assert.equal(m.el.dataset.position, "2");
  assert.equal(m.model.get("position"), 2);
  m.ac.abort();
});

test("the legend mentions dragging the ring only where a handle can be dragged", () => {
  const legendOf = (m) => findAll(m.el, (n) => (n.innerHTML || "").includes("forward")).map((n) => n.innerHTML).join("");
  const live = mount({ position: 1.5 }, withCentreHandle([0.2, -0.3]));
  assert.match(legendOf(live), /Drag the ring/);
  live.ac.abort();
  const page = mount({ position: 1.5, static: true }, withCentreHandle([0.2, -0.3])); // save_html: no kernel
  assert.doesNotMatch(legendOf(page), /Drag the ring/);
  page.ac.abort();
  const fx = withCentreHandle([0.2, -0.3]);
  fx.meta.layers[1] = { ...fx.meta.layers[1], enabled: false }; // the handle's layer turned off
  const off = mount({ position: 1.5 }, fx);
  assert.doesNotMatch(legendOf(off), /Drag the ring/);
  off.ac.abort();
});

test("grabbing a handle while the flow plays pauses it, so the handle's layer stays in view", () => {
  const m = mount({ position: 1.5 }, withCentreHandle([0.2, -0.3]));
  m.model.set("playing", true);
  m.frame(16);
  const t = m.toPx(), x = t.px(0.2), y = t.py(-0.3);
  m.overlay().dispatch("pointerdown", { button: 0, clientX: x, clientY: y, pointerId: 1 });
  m.frame(16);
  assert.equal(m.model.get("playing"), false);
  m.overlay().dispatch("pointermove", { clientX: x + 30, clientY: y, pointerId: 1 });
  for (let i = 0; i < 20; i++) m.frame(100); // two seconds later: had it played on, layer 2 would be gone
  m.overlay().dispatch("pointerup", { clientX: x + 30, clientY: y, pointerId: 1 });
  m.frame();
  const writes = m.saves.filter((s) => "params" in s);
  assert.ok(writes.length >= 1 && writes.at(-1).params.c0 > 0.2, "the drag moved the centre");
  m.ac.abort();
});

test("a note from the kernel with status ok (a refused value and why) is shown as information, then cleared", () => {
  const fx = makeFixture({ N: 50, g: 9 });
  fx.meta = { ...fx.meta, status: "ok", message: "", layers: fx.meta.layers.map((l) => ({ ...l, invertible: true })) };
  const { model, el, frame, ac } = mount({}, fx);
  const banner = () => findAll(el, (n) => n.className === "fv-status")[0];
  assert.equal(banner().hidden, true);
  model.set("meta", { ...fx.meta, status: "ok", message: "grid = 1000 refused: at most 161", version: 2 });
  frame();
  assert.equal(banner().hidden, false);
  assert.equal(banner().dataset.level, "info");
  assert.equal(banner().dataset.text, "grid = 1000 refused: at most 161");
  model.set("meta", { ...fx.meta, status: "ok", message: "", version: 3 });
  frame();
  assert.equal(banner().hidden, true);
  ac.abort();
});
