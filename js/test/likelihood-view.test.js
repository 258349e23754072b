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

// ---- helpers: the readout's rows and the scatter panels' elements

function find(node, pred) {
  if (pred(node)) return node;
  for (const c of node.children || []) { const f = find(c, pred); if (f) return f; }
  return null;
}
function readoutRows(el) { // {label: value} of the readout table
  const ro = find(el, (n) => n.className === "fv-readout");
  const table = find(ro, (n) => n.tagName?.toLowerCase?.() === "table" || n.tag === "table");
  const rows = {};
  for (const tr of (table || ro).children) if (tr.children?.length === 2) rows[tr.children[0].textContent] = tr.children[1].textContent;
  return rows;
}
function panelsOf(el) {
  const out = [];
  (function walk(n) { if (n.dataset?.range !== undefined) out.push(n); for (const c of n.children || []) walk(c); })(el);
  return out;
}
function mountState(state) {
  const model = createFakeModel({ ...state, theme: "light", preset: "notebook" });
  const el = fakeNode("div");
  const ac = new AbortController();
  renderLikelihood({ model, el, signal: ac.signal });
  runFrames();
  return { model, el, ac };
}
const T1 = "mean term 1 = log \u03c0(c z)", T2 = "mean term 2 = log|det J| + d log c", TOT = "mean log p = term 1 + term 2";

test("a uniform base: points outside the box show term 1 = -inf (not 0), counted and drawn as grey rings", () => {
  const U = JSON.parse(readFileSync(new URL("./fixtures/likelihood_uniform_state.json", import.meta.url), "utf8"));
  const { el, ac } = mountState(U.state);
  const e = U.expected;
  const rows = readoutRows(el);
  assert.ok(rows[T1].startsWith("\u2212inf (non-finite)"), rows[T1]);
  assert.equal(rows[TOT], "\u2212inf (non-finite)");
  assert.ok(rows[T2].startsWith(String(Math.round(e.term2 * 1e4) / 1e4)), `${rows[T2]} vs ${e.term2}`);
  assert.ok(rows["points off the colour scale"].startsWith(`${e.outside} with term 1 = \u2212inf`), rows["points off the colour scale"]);
  assert.ok(rows["points off the colour scale"].includes(`of ${e.N}: drawn as grey rings`));
  const r = JSON.parse(el.dataset.readout);
  assert.equal(r.mean1, null); // -inf: JSON has no inf
  assert.equal(r.ninf1, e.outside);
  const [p1, p2] = panelsOf(el);
  assert.equal(p1.dataset.nonfinite, String(e.outside));
  assert.equal(p2.dataset.nonfinite, "0");
  assert.ok(styles(p1).includes("rgba(128,128,128,1)"), "rings drawn");
  assert.equal(el.dataset.status, "non-finite");
  ac.abort();
});

test("the terms cancel: the readout shows only the digits the float32 wire leaves (no noise like -1.9e-7)", () => {
  const F = JSON.parse(readFileSync(new URL("./fixtures/likelihood_cancel_state.json", import.meta.url), "utf8"));
  const k = 0.5 * 2 * Math.log(2 * Math.PI);
  for (const name of ["float32", "float64"]) {
    const f = F[name];
    const { model, el, ac } = mountState(f.state);
    // the float64 reference (z from the float64 flow, log|det| from autograd) at any c
    const ref = (c) => {
      let m1 = 0, m2 = 0;
      for (let i = 0; i < f.ld.length; i++) { m1 += -0.5 * c * c * f.r2[i] - k; m2 += f.ld[i] + 2 * Math.log(c); }
      return { mean1: m1 / f.ld.length, mean2: m2 / f.ld.length };
    };
    let r = JSON.parse(el.dataset.readout);
    assert.ok(Math.abs(r.c - f.c) < 1e-15);
    assert.ok(Math.abs(f.total) < 1e-12, "the float64 terms cancel here");
    assert.equal(readoutRows(el)[TOT], "\u22480", `${name}: ${readoutRows(el)[TOT]} (total ${r.total})`);
    // the digits shown are right: for the float64 flow the bound covers the wire's rounding of its terms
    for (let s = 0; s < 40; s++) {
      const c = s ? 10 ** (-3 + 3 * s / 40 + 0.0007) : f.c;
      if (s) { model.set("c", c); runFrames(); }
      r = JSON.parse(el.dataset.readout);
      const e = ref(r.c), rows = readoutRows(el);
      for (const [key, label, x, err, want] of [["mean1", T1, r.mean1, r.err1, e.mean1], ["mean2", T2, r.mean2, r.err2, e.mean2],
        ["total", TOT, r.total, r.errTotal, e.mean1 + e.mean2]]) {
        assert.ok(err > 0 && err < 1e-5, `${key} bound ${err}`);
        if (name === "float64") assert.ok(Math.abs(x - want) <= err, `${key} at c = ${r.c}: |${x} - ${want}| > ${err}`);
        const shown = rows[label].split(" ")[0].replace("\u2212", "-");
        const v = shown === "\u22480" ? 0 : Number(shown);
        assert.ok(Number.isFinite(v), `${key}: ${rows[label]}`);
        // one unit of the last digit shown ("≈0": of the place the bound leaves); the float32 flow's own
        // arithmetic (not in the bound: it happens before the wire) may add about 1e-6
        const [mant, exp] = shown.split("e");
        const unit = shown === "\u22480" ? 10 ** Math.ceil(Math.log10(err))
          : 10 ** (Number(exp || 0) - (mant.split(".")[1] || "").length);
        assert.ok(Math.abs(v - want) <= unit + (name === "float32" ? 1e-6 : 0), `${name} ${key} at c = ${r.c}: shown ${shown}, float64 ${want}`);
      }
    }
    ac.abort();
  }
});

test("moving the slider sorts nothing: the colour scales' quantiles are read off keys sorted once per scene", () => {
  const counts = { n: 0 };
  const protos = [Array.prototype, Float64Array.prototype, Float32Array.prototype];
  const saved = protos.map((p) => p.sort);
  protos.forEach((p, i) => { p.sort = function (...args) { counts.n++; return saved[i].apply(this, args); }; });
  try {
    const { model, el, ac } = mountState(STATE);
    const sortsToShow = counts.n;
    const before = panelsOf(el).map((p) => p.dataset.range);
    for (const c of [0.5, 0.1, 0.0123, 0.002]) { model.set("c", c); runFrames(); }
    assert.equal(counts.n, sortsToShow, `${counts.n - sortsToShow} sorts while the slider moved`);
    model.set("c", 1); runFrames();
    assert.deepEqual(panelsOf(el).map((p) => p.dataset.range), before);
    ac.abort();
  } finally {
    protos.forEach((p, i) => { p.sort = saved[i]; });
  }
});
