import { test } from "node:test";
import assert from "node:assert/strict";
import { fakeNode, runFrames } from "../dev/fakedom.mjs";
import { renderPlayer } from "../src/player.js";
import { makeFixture, createFakeModel } from "../dev/fixture.mjs";

// The player's sync with its model (WIRE.md): values set from Python apply at once, as the toolbar's would.

function mount(state = {}) {
  const fx = makeFixture({ N: 50, g: 9 });
  const model = createFakeModel({ arrays: fx.arrays, meta: fx.meta, controls: fx.controls, params: fx.params,
    position: 0, theme: "light", preset: "notebook", renderer: "canvas2d", ...state });
  const el = fakeNode("div");
  const ac = new AbortController();
  renderPlayer({ model, el, signal: ac.signal });
  runFrames(16);
  return { fx, model, el, ac };
}

test("a position set from Python applies even when it equals one this view wrote before", () => {
  const { model, el, ac } = mount();
  el.dispatch("keydown", { key: "ArrowRight" });
  el.dispatch("keydown", { key: "ArrowRight" });
  runFrames(32);
  assert.equal(model.get("position"), 2);
  assert.equal(el.dataset.position, "2");
  model.set("position", 0.5); // Python: w.position = 0.5
  runFrames(48);
  assert.equal(el.dataset.position, "0.5");
  model.set("position", 2); // Python: w.position = 2, the value the view wrote itself two steps ago
  runFrames(64);
  assert.equal(el.dataset.position, "2");
  ac.abort();
});

test("playing set from Python at the last layer restarts from the start, as the play button does", () => {
  const { fx, model, el, ac } = mount({ position: 3 });
  assert.equal(fx.meta.K, 3);
  assert.equal(el.dataset.position, "3");
  model.set("playing", true); // Python: w.playing = True, loop off
  for (const now of [32, 48, 64]) runFrames(now);
  assert.equal(model.get("playing"), true, "still playing");
  assert.ok(+el.dataset.position < 1, `position ${el.dataset.position}: restarted from 0`);
  assert.ok(+model.get("position") < 1, "and the model knows");
  ac.abort();
});

test("turning the linked z panel off removes its overlay's listeners, each time", () => {
  const { model, el, ac } = mount();
  const overlays = () => findAll(el, (n) => n.className === "fv-overlay");
  const [x] = overlays();
  const removed = [];
  for (let i = 0; i < 3; i++) {
    model.set("linked", true);
    runFrames(16);
    const z = overlays().filter((o) => o !== x);
    assert.equal(z.length, 1, "a z panel while linked");
    assert.equal(z[0].listenerCount("pointermove"), 1);
    removed.push(z[0]);
    model.set("linked", false);
    runFrames(32);
    assert.deepEqual(overlays(), [x], "the x panel alone again");
  }
  for (const o of removed) {
    for (const type of ["pointerdown", "pointermove", "pointerup", "pointercancel", "pointerleave"]) {
      assert.equal(o.listenerCount(type), 0, `${type} listener left on a removed z overlay`);
    }
  }
  assert.equal(x.listenerCount("pointermove"), 1, "the x panel keeps its own");
  ac.abort();
  assert.equal(x.listenerCount("pointermove"), 0, "and loses it when the view ends");
});

function findAll(node, pred, out = []) {
  if (pred(node)) out.push(node);
  for (const c of node.children || []) findAll(c, pred, out);
  return out;
}
