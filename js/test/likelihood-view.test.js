import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fakeNode, runFrames } from "../dev/fakedom.mjs";
import { createFakeModel } from "../dev/fixture.mjs";
import { renderLikelihood } from "../src/views/likelihood/view.js";

// A LikelihoodSplit's state as Python sends it (tests/test_likelihood.py writes it and checks it is current).
const STATE = JSON.parse(readFileSync(new URL("./fixtures/likelihood_state.json", import.meta.url), "utf8"));

function mount(theme) {
  const model = createFakeModel({ ...STATE, theme, preset: "notebook" });
  const el = fakeNode("div");
  const ac = new AbortController();
  renderLikelihood({ model, el, signal: ac.signal });
  runFrames();
  return { model, el, ac };
}

function clearLogs(node) {
  if (node._ctx) node._ctx.styleLog.length = 0;
  for (const c of node.children || []) clearLogs(c);
}

function styles(node, out = []) { // every colour set on the canvases under node
  if (node._ctx) out.push(...node._ctx.styleLog);
  for (const c of node.children || []) styles(c, out);
  return out;
}

test("two views, dark and light: each draws the sum curve in its own theme's colour", () => {
  const dark = mount("dark");
  const light = mount("light"); // mounted second: a colour shared between views would now be light's
  clearLogs(dark.el);
  clearLogs(light.el);
  dark.model.set("c", 0.5); // both redraw (a new c), after both themes were applied
  light.model.set("c", 0.5);
  runFrames();
  const darkStyles = styles(dark.el), lightStyles = styles(light.el);
  assert.ok(darkStyles.length && lightStyles.length, "both views drew again");
  assert.ok(darkStyles.includes("rgba(230,230,230,1)"), "the dark view's sum curve is light");
  assert.ok(!darkStyles.includes("rgba(44,44,44,1)"), "and never the light theme's dark grey");
  assert.ok(lightStyles.includes("rgba(44,44,44,1)"));
  assert.ok(!lightStyles.includes("rgba(230,230,230,1)"));
  dark.ac.abort();
  light.ac.abort();
});

test("the last c moved is written even when the view goes before the debounce fires", () => {
  const { model, el, ac } = mount("light");
  const slider = (function find(n) {
    if (n.dataset?.id === "log10_c") return n;
    for (const c of n.children || []) { const f = find(c); if (f) return f; }
    return null;
  })(el);
  slider.value = "-1";
  slider.dispatch("input", {});
  ac.abort(); // the cell is removed within 120 ms of the last move
  assert.ok(Math.abs(model.get("c") - 0.1) < 1e-9, `c ${model.get("c")}`);
});
