// The host page decides "auto": JupyterLab's variables and attribute, VS Code's body classes and
// --vscode-* variables, else prefers-color-scheme. A fake document stands in for each host's page.
import { test } from "node:test";
import assert from "node:assert/strict";
import { detectDark, hostVariables, resolveTheme, watchTheme } from "../src/theme.js";

let page; // { classes, attrs, vars: {name: css colour}, dark media }

function fakeEl() {
  return { style: {}, children: [], appendChild(c) { this.children.push(c); c.parent = this; return c; } };
}

globalThis.document = {
  get body() {
    return {
      getAttribute: (k) => page.attrs[k] ?? null,
      classList: { contains: (c) => page.classes.includes(c) },
    };
  },
  documentElement: {},
  createElement: (tag) => ({ tag, style: {}, remove() { const k = this.parent.children; k.splice(k.indexOf(this), 1); } }),
};
// a probe's computed colour is the variable its cssText names (as a browser resolves var())
globalThis.getComputedStyle = (el) => {
  const m = /var\((--[\w-]+)\)/.exec(el.style?.cssText || "");
  const value = m ? page.vars[m[1]] || "" : "";
  return { getPropertyValue: (k) => page.vars[k] || "", color: value, fontFamily: "HostSans" };
};
globalThis.matchMedia = () => ({ matches: page.dark, addEventListener() {}, removeEventListener() {} });

const host = (over) => { page = { classes: [], attrs: {}, vars: {}, dark: false, ...over }; };

test("VS Code: body classes decide dark or light, high contrast included", () => {
  for (const [cls, dark] of [["vscode-dark", true], ["vscode-light", false], ["vscode-high-contrast", true],
    ["vscode-high-contrast-light", false]]) {
    // the system preference says the opposite: the editor's theme wins
    host({ classes: cls === "vscode-high-contrast-light" ? ["vscode-high-contrast", cls] : [cls], dark: !dark });
    assert.equal(detectDark(fakeEl()), dark, cls);
  }
});

test("VS Code: the panel takes the editor's background and foreground colours", () => {
  host({ classes: ["vscode-dark"], vars: { "--vscode-editor-background": "rgb(30, 30, 30)",
    "--vscode-editor-foreground": "rgb(204, 204, 204)" } });
  const el = fakeEl();
  assert.deepEqual(hostVariables(el), { bg: "--vscode-editor-background", fg: "--vscode-editor-foreground" });
  const t = resolveTheme(el, { theme: "auto" });
  assert.equal(t.dark, true);
  assert.deepEqual(t.bg, [30, 30, 30, 1]);
  assert.deepEqual(t.fg, [204, 204, 204, 1]);
  assert.equal(el.children.length, 0, "probes removed");
  // an explicit theme ignores the host's colours
  const light = resolveTheme(el, { theme: "light" });
  assert.deepEqual(light.bg, [255, 255, 255, 1]);
});

test("VS Code without a body class: the editor background's luminance decides", () => {
  host({ vars: { "--vscode-editor-background": "#1e1e1e" }, dark: false });
  assert.equal(detectDark(fakeEl()), true);
  host({ vars: { "--vscode-editor-background": "#fffffe" }, dark: true });
  assert.equal(detectDark(fakeEl()), false);
});

test("JupyterLab's variables come before VS Code's; its attribute before everything", () => {
  host({ vars: { "--jp-layout-color0": "#111111", "--jp-ui-font-color1": "#eeeeee",
    "--vscode-editor-background": "#ffffff" } });
  assert.equal(hostVariables(fakeEl()).bg, "--jp-layout-color0");
  const t = resolveTheme(fakeEl(), { theme: "auto" });
  assert.equal(t.dark, true);
  assert.deepEqual(t.bg, [17, 17, 17, 1]);
  host({ attrs: { "data-jp-theme-light": "true" }, classes: ["vscode-dark"], dark: true });
  assert.equal(detectDark(fakeEl()), false);
});

test("no host: the system preference", () => {
  host({ dark: true });
  assert.equal(hostVariables(fakeEl()), null);
  assert.equal(detectDark(fakeEl()), true);
  host({ dark: false });
  assert.equal(detectDark(fakeEl()), false);
});

test("watchTheme also watches <html>'s inline style (VS Code's colour variables) and stops on abort", () => {
  const observed = [];
  const observers = [];
  let disconnected = 0;
  globalThis.MutationObserver = class {
    constructor(cb) { this.cb = cb; observers.push(this); }
    observe(target, opts) { observed.push([target, opts.attributeFilter, this]); }
    disconnect() { disconnected += 1; }
  };
  host({});
  const ac = new AbortController();
  let changes = 0;
  watchTheme(() => { changes += 1; }, ac.signal);
  const onHtml = observed.find(([t, f]) => t === document.documentElement && f.includes("style"));
  assert.ok(onHtml, "an observer on <html>'s style");
  assert.ok(observed.some(([, f]) => f.includes("class") && f.includes("data-jp-theme-light")));
  // a mutation of <html>'s style reaches the callback (the browser calls the observer's callback)
  onHtml[2].cb([{ type: "attributes", attributeName: "style", target: document.documentElement }], onHtml[2]);
  assert.equal(changes, 1, "a style change of <html> re-resolves the theme");
  ac.abort();
  assert.equal(disconnected, observers.length);
  assert.ok(disconnected >= 1);
  delete globalThis.MutationObserver;
});
