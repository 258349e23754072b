import { test } from "node:test";
import assert from "node:assert/strict";
import { mountView } from "../src/mount.js";
import { createFakeModel } from "../dev/fixture.mjs";

// ---- tiny fakes: no DOM library here. Each test file runs in its own process, so globals are ours.

function fakeNode(tag) {
  const classes = new Set();
  const props = new Map();
  return {
    tag, parent: null, children: [], dataset: {}, textContent: "",
    classList: { add: (...c) => c.forEach((x) => classes.add(x)), remove: (...c) => c.forEach((x) => classes.delete(x)),
      contains: (c) => classes.has(c) },
    classes,
    style: { setProperty: (k, v) => props.set(k, String(v)), getPropertyValue: (k) => props.get(k) ?? "" },
    props,
    append(...nodes) { for (const n of nodes) { n.parent = this; this.children.push(n); } },
    appendChild(n) { this.append(n); return n; },
    replaceChildren(...nodes) { this.children = []; this.append(...nodes); },
    remove() { if (this.parent) this.parent.children.splice(this.parent.children.indexOf(this), 1); this.parent = null; },
  };
}

// animation frames run only when the test says so
const frames = new Map();
let nextId = 1;
globalThis.requestAnimationFrame = (fn) => { const id = nextId++; frames.set(id, fn); return id; };
globalThis.cancelAnimationFrame = (id) => { frames.delete(id); };
function runFrames(now = 16) {
  const due = [...frames.values()];
  frames.clear();
  for (const fn of due) fn(now);
  return due.length;
}

// the page: no JupyterLab, a prefers-color-scheme query whose listeners we can count and fire
const mq = { matches: false, listeners: new Set(),
  addEventListener(type, fn) { this.listeners.add(fn); }, removeEventListener(type, fn) { this.listeners.delete(fn); } };
globalThis.matchMedia = () => mq;
globalThis.document = { body: null, createElement: fakeNode };
globalThis.getComputedStyle = () => ({ getPropertyValue: () => "", fontFamily: "TestSans" });

function setup(state = {}, opts = {}) {
  const model = createFakeModel({ theme: "light", preset: "notebook", ...state });
  const el = fakeNode("div");
  el.classList.add("host-class");
  el.append(fakeNode("p")); // something anywidget left there: replaced at mount
  const outer = new AbortController();
  const drawn = [];
  const view = mountView({ model, el, signal: outer.signal },
    { classes: ["fv-test"], css: ".x{}", frame: (now) => drawn.push(now), ...opts });
  return { model, el, outer, view, drawn };
}

test("mount tags el and gives it one stylesheet", () => {
  frames.clear();
  const { el, view } = setup();
  assert.ok(el.classes.has("flowviz-player") && el.classes.has("fv-test") && el.classes.has("host-class"));
  assert.equal(el.children.length, 1);
  assert.equal(el.children[0].tag, "style");
  assert.equal(el.children[0].textContent, ".x{}");
  assert.equal(view.alive.aborted, false);
  view.cleanup();
  assert.equal(el.children.length, 0);
  assert.ok(!el.classes.has("flowviz-player") && !el.classes.has("fv-test"));
  assert.ok(el.classes.has("host-class"), "classes the view did not add stay");
  assert.equal(view.alive.aborted, true);
});

test("val falls back only for undefined and null; save sets all, then saves once", () => {
  const saves = [];
  const model = createFakeModel({ a: 0, b: false, c: "", d: null }, { onSave: (keys) => saves.push(keys.sort().join(",")) });
  const { val, save, cleanup } = mountView({ model, el: fakeNode("div") });
  assert.equal(val("a", 5), 0);
  assert.equal(val("b", true), false);
  assert.equal(val("c", "x"), "");
  assert.equal(val("d", 7), 7);
  assert.equal(val("missing", 8), 8);
  save({ a: 1, b: true });
  assert.deepEqual(saves, ["a,b"]);
  assert.equal(model.get("a"), 1);
  cleanup();
});

test("listen: handlers run on model changes and are removed when anywidget's signal aborts", () => {
  const { model, outer, view } = setup();
  const seen = [];
  view.listen({ "change:a": () => seen.push("a"), "change:b": () => seen.push("b") });
  const base = model.listenerCount();
  assert.ok(base >= 2);
  model.set("a", 1);
  model.set("b", 1);
  assert.deepEqual(seen, ["a", "b"]);
  outer.abort();
  assert.equal(view.alive.aborted, true);
  assert.equal(model.listenerCount(), 0, "every handler is gone");
  model.set("a", 2);
  assert.deepEqual(seen, ["a", "b"]);
});

test("a view whose signal has already aborted ends right after its render function returns", async () => {
  const model = createFakeModel({ theme: "light", preset: "notebook" });
  const el = fakeNode("div");
  const outer = new AbortController();
  outer.abort();
  const view = mountView({ model, el, signal: outer.signal }, { classes: ["fv-test"], css: "" });
  view.listen({ "change:a": () => {} }); // what a render function registers, synchronously
  let cleaned = 0;
  view.onCleanup(() => cleaned++);
  assert.ok(model.listenerCount() >= 1);
  await Promise.resolve(); // the microtask queued at mount
  assert.equal(view.alive.aborted, true);
  assert.equal(model.listenerCount(), 0, "every handler is gone");
  assert.equal(cleaned, 1);
  assert.equal(el.children.length, 0);
});

test("listen: handlers are removed by cleanup(); listen after the end registers nothing", () => {
  const { model, view } = setup();
  let n = 0;
  view.listen({ "change:a": () => n++ });
  view.cleanup();
  assert.equal(model.listenerCount(), 0);
  model.set("a", 1);
  assert.equal(n, 0);
  view.listen({ "change:a": () => n++ });
  assert.equal(model.listenerCount(), 0);
});

test("requestDraw coalesces to one pending frame", () => {
  frames.clear();
  const { view, drawn } = setup();
  view.requestDraw();
  view.requestDraw();
  view.requestDraw();
  assert.equal(frames.size, 1);
  assert.equal(runFrames(42), 1);
  assert.deepEqual(drawn, [42], "frame gets the timestamp");
  view.requestDraw();
  assert.equal(frames.size, 1, "a new frame once the last one ran");
  runFrames();
  assert.equal(drawn.length, 2);
  view.cleanup();
});

test("requestDraw inside the frame schedules the next one (a playing animation)", () => {
  frames.clear();
  let view, count = 0;
  view = setup({}, { frame: () => { count++; if (count < 3) view.requestDraw(); } }).view;
  view.requestDraw();
  while (runFrames()) { /* until it stops asking */ }
  assert.equal(count, 3);
  view.cleanup();
});

test("cleanup cancels the pending frame; requestDraw does nothing afterwards", () => {
  frames.clear();
  const { view, drawn } = setup();
  view.requestDraw();
  assert.equal(frames.size, 1);
  view.cleanup();
  assert.equal(frames.size, 0);
  view.requestDraw();
  assert.equal(frames.size, 0);
  assert.deepEqual(drawn, []);
});

test("cleanup runs the registered cleanups once, in order, before el is emptied", () => {
  const { el, outer, view } = setup();
  const calls = [];
  view.onCleanup(() => calls.push(["first", el.children.length]));
  view.onCleanup(() => calls.push(["second", el.children.length]));
  view.cleanup();
  view.cleanup();
  outer.abort();
  assert.deepEqual(calls, [["first", 1], ["second", 1]]);
  assert.equal(el.children.length, 0);
});

test("anywidget's signal ends the view like cleanup() does", () => {
  frames.clear();
  const { el, outer, view } = setup();
  let n = 0;
  view.onCleanup(() => n++);
  view.requestDraw();
  outer.abort();
  assert.equal(n, 1);
  assert.equal(frames.size, 0);
  assert.equal(el.children.length, 0);
  view.cleanup();
  assert.equal(n, 1);
});

test("followTheme applies now, on theme/preset changes, and on page changes only while theme is auto", () => {
  frames.clear();
  mq.listeners.clear();
  const { model, el, view } = setup({ theme: "light", preset: "notebook" });
  const got = [];
  view.followTheme((t) => got.push(`${t.dark ? "dark" : "light"}/${t.preset}`));
  assert.deepEqual(got, ["light/notebook"]);
  assert.equal(el.dataset.theme, "light");
  assert.equal(el.dataset.preset, "notebook");
  assert.equal(el.props.size, 11, "every --fv-* variable");
  assert.equal(frames.size, 1, "and a draw is requested");

  model.set("theme", "dark");
  model.set("preset", "presentation");
  assert.deepEqual(got.slice(1), ["dark/notebook", "dark/presentation"]);
  assert.equal(el.dataset.theme, "dark");
  assert.equal(el.dataset.preset, "presentation");
  assert.equal(el.style.getPropertyValue("--fv-scale"), "1.6");
  assert.equal(frames.size, 1, "still one frame");

  assert.equal(mq.listeners.size, 1, "the page's colour scheme is watched");
  for (const fn of mq.listeners) fn(); // page switched while theme = "dark": ignored
  assert.equal(got.length, 3);
  model.set("theme", "auto");
  mq.matches = true;
  for (const fn of mq.listeners) fn(); // page switched to dark while theme = "auto": followed
  assert.deepEqual(got.slice(3), ["light/presentation", "dark/presentation"]);
  mq.matches = false;

  view.cleanup();
  assert.equal(mq.listeners.size, 0, "the watch stops with the view");
  assert.equal(model.listenerCount(), 0);
});
