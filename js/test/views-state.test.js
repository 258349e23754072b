import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fakeNode, runFrames } from "../dev/fakedom.mjs";
import { createFakeModel } from "../dev/fixture.mjs";
import { encodeArray } from "../src/wire.js";
import { renderLens } from "../src/views/lens/lens.js";
import { renderTriangular } from "../src/views/triangular/triangular.js";

// Lecture views against their models: what a user's input writes, and what the page says for odd states.

const LENS = JSON.parse(readFileSync(new URL("./fixtures/lens_readout.json", import.meta.url), "utf8")).singular;

function findAll(node, pred, out = []) {
  if (pred(node)) out.push(node);
  for (const c of node.children || []) findAll(c, pred, out);
  return out;
}

function mount(render, state) {
  const saves = [];
  const model = createFakeModel({ theme: "light", preset: "notebook", ...state },
    { onSave: (keys, s) => saves.push(Object.fromEntries(keys.map((k) => [k, s[k]]))) });
  const el = fakeNode("div");
  const ac = new AbortController();
  render({ model, el, signal: ac.signal });
  runFrames();
  return { model, el, ac, saves };
}

test("lens 3x3: an emptied or unreadable cell is refused and marked, not saved as 0", () => {
  const m = mount(renderLens, { ...LENS, text: LENS.meta.text, mode: "3d", matrix3: [1, 0.5, 0, 0, 1, 0.5, 0.5, 0, 2] });
  const cells = findAll(m.el, (n) => n.tag === "input" && n.dataset?.index !== undefined);
  assert.equal(cells.length, 9);
  cells[0].value = ""; // what a number input reports for "" and for partial text such as "1e-"
  cells[0].dispatch("change", {});
  runFrames();
  assert.deepEqual(m.model.get("matrix3"), [1, 0.5, 0, 0, 1, 0.5, 0.5, 0, 2], "nothing saved");
  assert.equal(m.saves.filter((s) => "matrix3" in s).length, 0);
  assert.ok(cells[0].classList.contains("fv-bad-input"));
  cells[0].value = "3";
  cells[0].dispatch("change", {});
  assert.deepEqual(m.model.get("matrix3"), [3, 0.5, 0, 0, 1, 0.5, 0.5, 0, 2]);
  assert.ok(!cells[0].classList.contains("fv-bad-input"));
  m.ac.abort();
});

const TRI = {
  arrays: { jac: encodeArray(Float32Array.from([1, 0, 0.5, 2]), [2, 2]) },
  meta: { version: 1, status: "ok", kind: "maf", caption: "", max_abs: 2, logdet_slogdet: Math.log(2),
    logdet_diag: Math.log(2), logdet_layer: Math.log(2), method: "forward", order: [0, 1] },
  controls: [], params: {}, kind: "maf", timing: {}, measuring: false, measure_request: 0,
};

test("triangular: a second click before Python answers queues no second measurement", () => {
  const m = mount(renderTriangular, TRI);
  const button = findAll(m.el, (n) => n.className === "fv-tri-btn fv-tri-measure")[0];
  button.dispatch("click", {});
  runFrames();
  assert.equal(m.model.get("measure_request"), 1);
  assert.equal(button.disabled, true, "disabled at once, not when Python's 'measuring' comes back");
  button.dispatch("click", {});
  runFrames();
  assert.equal(m.model.get("measure_request"), 1);
  m.model.set("measuring", true);
  runFrames();
  m.model.set("measuring", false);
  m.model.set("timing", { error: "RuntimeError: boom" });
  runFrames();
  assert.equal(button.disabled, false, "enabled again after the answer");
  m.ac.abort();
});

test("triangular: an error without a message reads as such, never 'undefined'", () => {
  const m = mount(renderTriangular, { ...TRI, meta: { ...TRI.meta, status: "error", message: undefined } });
  const info = findAll(m.el, (n) => n.className === "fv-readout fv-tri-info")[0];
  assert.match(info.textContent, /cannot show this state/);
  assert.doesNotMatch(info.textContent, /undefined|NaN|null/);
  m.ac.abort();
});

// ChangeOfVariables1D: states cov1d_scene sends (tests/test_cov1d.py writes them and checks they are current)
const COV = JSON.parse(readFileSync(new URL("./fixtures/cov1d_states.json", import.meta.url), "utf8"));

test("cov1d: a strip_z from Python sent with new arrays is read against those arrays, in either order", async () => {
  const { renderCov1d } = await import("../src/views/cov1d/view.js");
  for (const order of ["strip_z first", "arrays first"]) {
    const m = mount(renderCov1d, { ...COV.uniform, strip_z: 0.5, strip_dz: 0.1 });
    const n = COV.normal; // Python: w.base = "normal"; w.strip_z = -2 (two messages, no frame between them)
    if (order === "strip_z first") m.model.set("strip_z", -2);
    m.model.set("arrays", n.arrays);
    m.model.set("meta", n.meta);
    m.model.set("base", "normal");
    if (order === "arrays first") m.model.set("strip_z", -2);
    runFrames();
    assert.equal(+m.el.dataset.stripZ, -2, `${order}: the page shows Python's strip (not one clamped to U[0, 1])`);
    m.ac.abort();
  }
});

test("cov1d: a cancelled drag of the strip writes where it ended, as a release does", async () => {
  const { renderCov1d } = await import("../src/views/cov1d/view.js");
  const m = mount(renderCov1d, { ...COV.uniform, strip_z: 0.2, strip_dz: 0.1 });
  const overlay = findAll(m.el, (n) => n.className === "fv-overlay")[0];
  overlay.dispatch("pointerdown", { button: 0, clientX: 150, clientY: 200, pointerId: 1 });
  overlay.dispatch("pointermove", { clientX: 190, clientY: 200, pointerId: 1 });
  runFrames();
  const shown = +m.el.dataset.stripZ;
  assert.ok(Math.abs(shown - 0.2) > 0.01, `the drag moved the strip (shown ${shown})`);
  overlay.dispatch("pointercancel", { pointerId: 1 });
  runFrames();
  assert.ok(Math.abs(m.model.get("strip_z") - shown) < 1e-12, `model ${m.model.get("strip_z")} vs shown ${shown}`);
  m.ac.abort();
});
