import { test } from "node:test";
import assert from "node:assert/strict";
import { themeVars, applyThemeVars, resolveTheme } from "../src/theme.js";

// every custom property styles.js and the views' own CSS read
const ALL_VARS = ["--fv-bg", "--fv-fg", "--fv-muted", "--fv-border", "--fv-accent", "--fv-on-accent",
  "--fv-accent-soft", "--fv-btn", "--fv-panel-bg", "--fv-bad", "--fv-scale"];

/** The least of an element applyThemeVars and resolveTheme touch. */
function fakeEl() {
  const props = new Map();
  return {
    props, dataset: {}, children: [],
    style: { setProperty: (k, v) => props.set(k, String(v)), getPropertyValue: (k) => props.get(k) ?? "" },
    appendChild(c) { this.children.push(c); c.parent = this; return c; },
  };
}

// resolveTheme makes probe elements and reads computed styles: a page with no JupyterLab variables
globalThis.document = {
  body: null,
  createElement: (tag) => ({ tag, style: {}, remove() { const k = this.parent.children; k.splice(k.indexOf(this), 1); } }),
};
globalThis.getComputedStyle = () => ({ getPropertyValue: () => "", fontFamily: "TestSans" });

test("themeVars gives every --fv-* variable, light and dark", () => {
  for (const theme of ["light", "dark"]) {
    for (const preset of ["notebook", "presentation"]) {
      const t = resolveTheme(fakeEl(), { theme, preset });
      const vars = themeVars(t);
      assert.deepEqual(Object.keys(vars).sort(), [...ALL_VARS].sort());
      for (const v of Object.values(vars)) assert.equal(typeof v, "string");
      assert.equal(vars["--fv-scale"], preset === "presentation" ? "1.6" : "1");
      assert.equal(vars["--fv-on-accent"], theme === "dark" ? "#0d1117" : "#ffffff");
      assert.equal(vars["--fv-bad"], theme === "dark" ? "#ff7b72" : "#cf222e");
      assert.equal(vars["--fv-accent"], t.css(t.accent));
      assert.equal(vars["--fv-accent-soft"], t.css([...t.accent.slice(0, 3), 0.14]));
    }
  }
});

test("applyThemeVars sets every variable and data-theme / data-preset on the element", () => {
  const el = fakeEl();
  const t = resolveTheme(el, { theme: "dark", preset: "presentation" });
  assert.equal(el.children.length, 0, "resolveTheme's probes are removed");
  assert.equal(applyThemeVars(el, t), t);
  for (const k of ALL_VARS) assert.ok(el.props.get(k), `${k} is set`);
  assert.deepEqual(Object.fromEntries(el.props), themeVars(t));
  assert.equal(el.dataset.theme, "dark");
  assert.equal(el.dataset.preset, "presentation");
  assert.equal(el.props.get("--fv-fg"), "rgba(230,232,235,1)");

  // switching back overwrites every variable
  const light = resolveTheme(el, { theme: "light", preset: "notebook" });
  applyThemeVars(el, light);
  assert.deepEqual(Object.fromEntries(el.props), themeVars(light));
  assert.equal(el.dataset.theme, "light");
  assert.equal(el.dataset.preset, "notebook");
  assert.equal(el.props.get("--fv-btn"), "rgba(0,0,0,0.025)");
});
