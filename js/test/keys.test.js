import { test } from "node:test";
import assert from "node:assert/strict";
import { keyAction, isOwnKeyEvent } from "../src/keys.js";

test("space toggles, arrows step to whole layers, Home/End jump", () => {
  assert.deepEqual(keyAction(" ", 1, 3), { type: "toggle" });
  assert.deepEqual(keyAction("ArrowRight", 1, 3), { type: "seek", position: 2 });
  assert.deepEqual(keyAction("ArrowRight", 1.4, 3), { type: "seek", position: 2 });
  assert.deepEqual(keyAction("ArrowLeft", 1.4, 3), { type: "seek", position: 1 });
  assert.deepEqual(keyAction("ArrowLeft", 2, 3), { type: "seek", position: 1 });
  assert.deepEqual(keyAction("ArrowLeft", 0, 3), { type: "seek", position: 0 });
  assert.deepEqual(keyAction("ArrowRight", 3, 3), { type: "seek", position: 3 });
  assert.deepEqual(keyAction("Home", 2.5, 3), { type: "seek", position: 0 });
  assert.deepEqual(keyAction("End", 0.5, 3), { type: "seek", position: 3 });
  assert.equal(keyAction("ArrowUp", 1, 3), null);
  assert.equal(keyAction("PageDown", 1, 3), null);
});

test("keys are ours only on the focused root without modifiers", () => {
  const root = {}, child = {};
  assert.equal(isOwnKeyEvent({ target: root }, root), true);
  assert.equal(isOwnKeyEvent({ target: child }, root), false, "e.g. a slider inside keeps its arrows");
  assert.equal(isOwnKeyEvent({ target: root, ctrlKey: true }, root), false);
  assert.equal(isOwnKeyEvent({ target: root, metaKey: true }, root), false);
  // Shift+Space is Reveal.js's "previous slide"; Shift+arrows are the page's, not a step
  assert.equal(isOwnKeyEvent({ target: root, key: " ", shiftKey: true }, root), false);
  assert.equal(isOwnKeyEvent({ target: root, key: "ArrowLeft", shiftKey: true }, root), false);
  assert.equal(isOwnKeyEvent({ target: root, key: " ", isComposing: true }, root), false);
  assert.equal(isOwnKeyEvent({ target: root, defaultPrevented: true }, root), false);
});
