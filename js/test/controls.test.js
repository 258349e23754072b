import { test, before, after } from "node:test";
import assert from "node:assert/strict";

// A minimal DOM, just enough for controls.js (node has no document): elements with attributes,
// children, properties, dataset, listeners; <select> whose value follows its <option>s.
class FakeElement {
  constructor(tag) {
    this.tagName = tag.toUpperCase();
    this.children = [];
    this.attributes = new Map();
    this.dataset = {};
    this.listeners = new Map();
    this.className = "";
    this.textContent = "";
    this.hidden = false;
    this.disabled = false;
    this.checked = false;
    this.title = "";
    this.type = "";
    this._value = "";
  }
  get value() { return this.attributes.has("value") && this._value === "" ? this.attributes.get("value") : this._value; }
  set value(v) { this._value = String(v); }
  set innerHTML(v) { this._html = v; }
  get innerHTML() { return this._html || ""; }
  setAttribute(k, v) { this.attributes.set(k, String(v)); }
  getAttribute(k) { return this.attributes.has(k) ? this.attributes.get(k) : null; }
  append(...nodes) { for (const n of nodes) if (n) { n.parentNode = this; this.children.push(n); } }
  replaceChildren(...nodes) { this.children = []; this.append(...nodes); }
  addEventListener(type, fn) { if (!this.listeners.has(type)) this.listeners.set(type, []); this.listeners.get(type).push(fn); }
  dispatch(type) { for (const fn of this.listeners.get(type) || []) fn({ type, target: this }); }
  querySelectorAll(sel) { // "tag" or "tag[data-id=x]" only
    const m = /^(\w+)(?:\[data-id="?([^"\]]+)"?\])?$/.exec(sel);
    const out = [];
    const walk = (e) => { for (const c of e.children) {
      if (c.tagName === m[1].toUpperCase() && (m[2] === undefined || c.dataset.id === m[2])) out.push(c);
      walk(c);
    } };
    walk(this);
    return out;
  }
  querySelector(sel) { return this.querySelectorAll(sel)[0] || null; }
}

class FakeSelect extends FakeElement {
  constructor() { super("select"); this.selectedIndex = 0; }
  get options() { return this.children.filter((c) => c.tagName === "OPTION"); }
  get value() { const o = this.options[this.selectedIndex]; return o ? o.value : ""; }
  set value(v) { this.selectedIndex = this.options.findIndex((o) => o.value === String(v)); }
}

/** The element tree as plain data: tag, class, attributes, the properties controls.js sets, children. */
function serialize(e) {
  return {
    tag: e.tagName, className: e.className, text: e.textContent, html: e.innerHTML, hidden: e.hidden,
    disabled: e.disabled, checked: e.checked, value: e.value, title: e.title, dataset: { ...e.dataset },
    attributes: Object.fromEntries(e.attributes), listeners: [...e.listeners.keys()].sort(),
    children: e.children.map(serialize),
  };
}

let controls;
before(async () => {
  globalThis.document = { createElement: (tag) => (tag === "select" ? new FakeSelect() : new FakeElement(tag)) };
  controls = await import("../src/controls.js");
});
after(() => { delete globalThis.document; });

const CHOICES = [
  { id: "base", layer: 0, label: "base", value: "normal", kind: "choice", options: [
    { value: "uniform", label: "U[0, 1]" }, { value: "normal", label: "N(0, 1)" }] },
  { id: "map", layer: 0, label: "map", value: "affine", kind: "choice", options: [
    { value: "affine", label: "a z + b" }, { value: "sigmoid", label: "sigmoid(a z + b)" },
    { value: "logit", label: "logit (needs U[0, 1])", disabled: true, title: "the logit map needs z in (0, 1)" }] },
  { id: "a", layer: 0, label: "a", value: 2, min: -3, max: 3, step: 0.05 },
];

test("a choice control is a <select> with its options, disabled ones greyed out", () => {
  const calls = [];
  const pc = controls.createParamControls((id, v) => calls.push([id, v]));
  pc.update(CHOICES, { a: 2 });
  const selects = pc.el.querySelectorAll("select");
  assert.equal(selects.length, 2);
  const map = pc.el.querySelector('select[data-id="map"]');
  assert.deepEqual(map.options.map((o) => [o.value, o.textContent, o.disabled]),
    [["affine", "a z + b", false], ["sigmoid", "sigmoid(a z + b)", false], ["logit", "logit (needs U[0, 1])", true]]);
  assert.equal(map.options[2].title, "the logit map needs z in (0, 1)");
  assert.equal(map.value, "affine");
  assert.equal(pc.el.querySelector('select[data-id="base"]').value, "normal");
  assert.equal(map.parentNode.children[0].textContent, "map", "the label precedes the select");
  assert.equal(pc.el.querySelectorAll("input").length, 1, "the slider is still there");
});

test("picking an option reports the option's value; a disabled one is refused and reverted", () => {
  const calls = [];
  const pc = controls.createParamControls((id, v) => calls.push([id, v]));
  pc.update(CHOICES, { a: 2 });
  const map = pc.el.querySelector('select[data-id="map"]');
  map.value = "sigmoid";
  map.dispatch("change");
  assert.deepEqual(calls, [["map", "sigmoid"]]);
  map.value = "logit"; // a browser does not allow this; a script could
  map.dispatch("change");
  assert.deepEqual(calls, [["map", "sigmoid"]], "no call for a disabled option");
  assert.equal(map.value, "affine", "reverted to the value last shown");
  // option values keep their type (numbers stay numbers)
  const pc2 = controls.createParamControls((id, v) => calls.push([id, v]));
  pc2.update([{ id: "k", layer: 0, label: "k", value: 2, kind: "choice", options: [{ value: 1, label: "one" }, { value: 2, label: "two" }] }]);
  const k = pc2.el.querySelector('select[data-id="k"]');
  assert.equal(k.value, "2");
  k.value = "1";
  k.dispatch("change");
  assert.deepEqual(calls.at(-1), ["k", 1]);
});

test("a new value updates the select in place; new options rebuild it", () => {
  const pc = controls.createParamControls(() => {});
  pc.update(CHOICES, { a: 2 });
  const map = pc.el.querySelector('select[data-id="map"]');
  pc.update(CHOICES.map((c) => (c.id === "map" ? { ...c, value: "sigmoid" } : c)), { a: 2 });
  assert.equal(pc.el.querySelector('select[data-id="map"]'), map, "same element: only the value changed");
  assert.equal(map.value, "sigmoid");
  const enabled = CHOICES.map((c) => (c.id === "map" ? { ...c, options: c.options.map((o) => ({ value: o.value, label: o.label })) } : c));
  pc.update(enabled, { a: 2 });
  const rebuilt = pc.el.querySelector('select[data-id="map"]');
  assert.notEqual(rebuilt, map, "options changed: rebuilt");
  assert.deepEqual(rebuilt.options.map((o) => o.disabled), [false, false, false]);
});

test("sliders and toggles are built as before (choices change nothing about them)", () => {
  const list = [
    { id: "L1.enabled", layer: 1, label: "on", kind: "toggle", value: true },
    { id: "L1.scale.0", layer: 1, label: "s1", value: 1.5, min: -3, max: 3, step: 0.01 },
    { id: "n_points", layer: 0, label: "points", value: 5000, min: 100, max: 100000, step: 100 },
  ];
  const calls = [];
  const pc = controls.createParamControls((id, v) => calls.push([id, v]));
  pc.update(list, { "L1.scale.0": 0.25 }, [{ name: "Affine" }]);
  const tree = serialize(pc.el);
  assert.equal(tree.children.length, 2);
  assert.deepEqual(tree.children.map((g) => g.children[0].text), ["parameters", "layer 1: Affine"]);
  const [range, check] = [pc.el.querySelector('input[data-id="L1.scale.0"]'), pc.el.querySelector('input[data-id="L1.enabled"]')];
  assert.deepEqual(Object.fromEntries(range.attributes), { type: "range", min: "-3", max: "3", step: "0.01" });
  assert.equal(range.value, "0.25");
  assert.equal(range.parentNode.children[2].textContent, "0.25");
  assert.equal(check.checked, true);
  range.value = "0.5";
  range.dispatch("input");
  check.checked = false;
  check.dispatch("change");
  assert.deepEqual(calls, [["L1.scale.0", 0.5], ["L1.enabled", false]]);
  assert.equal(pc.el.querySelectorAll("select").length, 0);
  // a value Python sends as null (the parameter is NaN or inf) reads "non-finite"; the slider stays put
  pc.update(list.map((c) => (c.id === "L1.scale.0" ? { ...c, value: null } : c)), { "L1.scale.0": null }, [{ name: "Affine" }]);
  assert.equal(range.parentNode.children[2].textContent, "non-finite");
  assert.equal(range.value, "0.5");
  pc.update(list, { "L1.scale.0": 1 }, [{ name: "Affine" }]);
  assert.equal(range.parentNode.children[2].textContent, "1.00");
});

test("without a kernel (static page) every control but the local ones is disabled, with a caption", () => {
  const list = [...CHOICES, { id: "dz", layer: 0, label: "dz", value: 0.1, min: 0.01, max: 0.5, step: 0.01, local: true },
    { id: "L1.enabled", layer: 1, label: "on", kind: "toggle", value: true }];
  const pc = controls.createParamControls(() => {}, { kernel: false });
  pc.update(list, {}, [{ name: "Affine" }]);
  const byId = (id) => pc.el.querySelector(`input[data-id="${id}"]`) || pc.el.querySelector(`select[data-id="${id}"]`);
  for (const id of ["base", "map", "a", "L1.enabled"]) {
    const input = byId(id);
    assert.equal(input.disabled, true, id);
    assert.equal(input.title, controls.NEEDS_KERNEL, id);
  }
  assert.equal(byId("dz").disabled, false, "a browser-only control keeps working");
  assert.match(pc.el.children[0].textContent, /Static page: .*need a running kernel/);
  // with a kernel nothing is disabled and there is no caption
  const live = controls.createParamControls(() => {});
  live.update(list, {}, [{ name: "Affine" }]);
  assert.ok(![...live.el.querySelectorAll("input"), ...live.el.querySelectorAll("select")].some((q) => q.disabled));
  assert.ok(!live.el.children.some((c) => c.className === "fv-params-note"));
  // only local controls: nothing to explain
  const onlyLocal = controls.createParamControls(() => {}, { kernel: false });
  onlyLocal.update([list[3]], {}, []);
  assert.ok(!onlyLocal.el.children.some((c) => c.className === "fv-params-note"));
});

test("a long list folds behind a disclosure, open at first, and stays as the user left it", () => {
  const many = [];
  for (let k = 1; k <= 3; k++) {
    many.push({ id: `L${k}.enabled`, layer: k, label: "on", kind: "toggle", value: true });
    for (let i = 0; i < 3; i++) many.push({ id: `L${k}.p.${i}`, layer: k, label: `p${i}`, value: 0, min: -1, max: 1, step: 0.1 });
  }
  assert.ok(many.length > controls.COLLAPSE_AFTER);
  const pc = controls.createParamControls(() => {});
  pc.update(many, {}, [{ name: "A" }, { name: "B" }, { name: "C" }]);
  const box = pc.el.children[0];
  assert.equal(box.tagName, "DETAILS");
  assert.equal(box.open, true);
  assert.equal(box.children[0].tagName, "SUMMARY");
  assert.equal(box.children[0].textContent, `sliders and toggles (${many.length})`);
  assert.equal(box.children[1].children.length, 3, "one fieldset per layer inside");
  assert.equal(pc.el.querySelectorAll("input").length, many.length);
  // closed by the user, then rebuilt (a layer renamed): still closed
  box.open = false;
  box.dispatch("toggle");
  pc.update(many, {}, [{ name: "A" }, { name: "B2" }, { name: "C" }]);
  assert.notEqual(pc.el.children[0], box, "rebuilt");
  assert.equal(pc.el.children[0].open, false);
  // a short list has no disclosure
  const few = controls.createParamControls(() => {});
  few.update(many.slice(0, 4), {}, [{ name: "A" }]);
  assert.equal(few.el.children[0].tagName, "FIELDSET");
});
