// theme.js: colours, fonts and sizes for the widget.
//
// "auto" follows the host page: JupyterLab / Notebook 7 / Voila (their --jp-* CSS variables,
// resolved through a probe element), VS Code's notebook webviews (body classes vscode-dark /
// vscode-light / vscode-high-contrast and its --vscode-* variables), else the system's
// prefers-color-scheme. The "presentation" preset
// scales fonts, line widths and point sizes by about 1.6 for a projector.

export const UI_FONT = 'var(--jp-ui-font-family, var(--vscode-font-family, system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif))';
export const MONO_FONT = 'var(--jp-code-font-family, var(--vscode-editor-font-family, ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace))';

/** The host's background / foreground variables: JupyterLab's, VS Code's, or none. */
const HOSTS = [
  { bg: "--jp-layout-color0", fg: "--jp-ui-font-color1" },
  { bg: "--vscode-editor-background", fg: "--vscode-editor-foreground" },
];

/** The first host whose background variable is defined at el, or null. */
export function hostVariables(el) {
  const cs = getComputedStyle(el);
  return HOSTS.find((h) => cs.getPropertyValue(h.bg).trim() !== "") || null;
}

/** Parse "rgb(..)", "rgba(..)", "#rgb", "#rrggbb" into [r, g, b, a] (a in 0..1), or null. */
export function parseColor(text) {
  const s = String(text || "").trim();
  let m = s.match(/^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)(?:[\s,/]+([\d.]+%?))?\s*\)$/i);
  if (m) {
    let a = m[4] === undefined ? 1 : parseFloat(m[4]);
    if (m[4] && m[4].endsWith("%")) a /= 100;
    return [+m[1], +m[2], +m[3], a];
  }
  m = s.match(/^#([0-9a-f]{3,8})$/i);
  if (m) {
    let h = m[1];
    if (h.length <= 4) h = h.split("").map((c) => c + c).join("");
    const n = (i) => parseInt(h.slice(i, i + 2), 16);
    return [n(0), n(2), n(4), h.length === 8 ? n(6) / 255 : 1];
  }
  return null;
}

/** Relative luminance in 0..1 of an [r, g, b] colour (0..255). */
export function luminance([r, g, b]) {
  const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
}

/** Resolve a CSS colour expression (may use var()) to [r, g, b, a] with a probe element inside el. */
function resolveColor(el, expr, prop = "color") {
  const probe = document.createElement("span");
  probe.style.cssText = `position:absolute;visibility:hidden;pointer-events:none;${prop}:${expr}`;
  el.appendChild(probe);
  const value = getComputedStyle(probe)[prop];
  probe.remove();
  return parseColor(value);
}

/** Is the page dark? JupyterLab's attribute, VS Code's body class, the host's background colour,
 * then prefers-color-scheme. */
export function detectDark(el) {
  const body = document.body;
  const attr = body && body.getAttribute("data-jp-theme-light");
  if (attr === "true") return false;
  if (attr === "false") return true;
  const cls = body && body.classList;
  if (cls) {  // VS Code: vscode-light, vscode-dark, vscode-high-contrast, vscode-high-contrast-light
    if (cls.contains("vscode-light") || cls.contains("vscode-high-contrast-light")) return false;
    if (cls.contains("vscode-dark") || cls.contains("vscode-high-contrast")) return true;
  }
  const host = hostVariables(el);
  if (host) {
    const c = resolveColor(el, `var(${host.bg})`);
    if (c && c[3] > 0) return luminance(c) < 0.35;
  }
  return typeof matchMedia === "function" && matchMedia("(prefers-color-scheme: dark)").matches;
}

const css = (c) => `rgba(${c[0]},${c[1]},${c[2]},${c[3]})`;

/**
 * The theme object used by renderers and overlay.
 * @param {HTMLElement} el root element (for JupyterLab variables)
 * @param {{theme?: string, preset?: string}} opts
 */
export function resolveTheme(el, { theme = "auto", preset = "notebook" } = {}) {
  const dark = theme === "dark" ? true : theme === "light" ? false : detectDark(el);
  const scale = preset === "presentation" ? 1.6 : 1;
  const host = theme === "auto" ? hostVariables(el) : null;
  const pick = (v, fallback) => (host && resolveColor(el, `var(${v})`)) || parseColor(fallback);
  const bg = pick(host?.bg, dark ? "#16181d" : "#ffffff");
  const fg = pick(host?.fg, dark ? "#e6e8eb" : "#1f2328");
  const muted = [...fg.slice(0, 3), 0.62];
  const t = {
    dark, scale, preset,
    bg, fg, muted,
    plotBg: dark ? [26, 29, 35, 1] : [246, 247, 249, 1],
    border: dark ? [255, 255, 255, 0.14] : [0, 0, 0, 0.14],
    accent: dark ? [88, 166, 255, 1] : [9, 105, 218, 1],
    gridOnDensity: [255, 255, 255, 0.28],
    grid: dark ? [210, 215, 225, 0.32] : [40, 50, 70, 0.3],
    pointOnDensity: [255, 255, 255, 0.75],
    point: dark ? [225, 230, 240, 0.6] : [25, 60, 120, 0.55],
    rim: [0, 0, 0, 0.55],
    selected: [255, 120, 20, 0.95],
    fold: [230, 30, 40, 1],
    hover: [255, 64, 129, 1],
    font: "system-ui, sans-serif",
    fontSize: 12 * scale,
    lineWidth: 1 * scale,
    pointSize: 3.2,
  };
  t.css = (c) => css(c);
  // resolve the UI font family list for canvas text
  const probe = document.createElement("span");
  probe.style.cssText = `position:absolute;visibility:hidden;font-family:${UI_FONT}`;
  el.appendChild(probe);
  t.font = getComputedStyle(probe).fontFamily || t.font;
  probe.remove();
  return t;
}

/**
 * The CSS custom properties styles.js reads (every --fv-* variable), from a resolved theme.
 * @param {object} theme a resolveTheme result
 * @returns {Record<string, string>} variable name -> CSS value
 */
export function themeVars(theme) {
  const c = theme.css, a = theme.accent;
  return {
    "--fv-bg": c(theme.bg),
    "--fv-fg": c(theme.fg),
    "--fv-muted": c(theme.muted),
    "--fv-border": c(theme.border),
    "--fv-accent": c(a),
    "--fv-on-accent": theme.dark ? "#0d1117" : "#ffffff",
    "--fv-accent-soft": c([a[0], a[1], a[2], 0.14]),
    "--fv-btn": theme.dark ? "rgba(255,255,255,0.06)" : "rgba(0,0,0,0.025)",
    "--fv-panel-bg": theme.dark ? "rgba(255,255,255,0.03)" : "rgba(0,0,0,0.015)",
    "--fv-bad": theme.dark ? "#ff7b72" : "#cf222e",
    "--fv-scale": String(theme.scale),
  };
}

/**
 * Put a resolved theme on a view's root: every --fv-* variable (themeVars) as an inline style,
 * and data-theme ("dark" | "light") and data-preset (e.g. "notebook", "presentation").
 * @param {HTMLElement} el the view's root element
 * @param {object} theme a resolveTheme result
 * @returns {object} the theme
 */
export function applyThemeVars(el, theme) {
  for (const [k, v] of Object.entries(themeVars(theme))) el.style.setProperty(k, v);
  el.dataset.theme = theme.dark ? "dark" : "light";
  el.dataset.preset = theme.preset;
  return theme;
}

/** Call `onChange` when the page theme may have changed; stops when `signal` aborts. */
export function watchTheme(onChange, signal) {
  const cleanups = [];
  if (typeof matchMedia === "function") {
    const mq = matchMedia("(prefers-color-scheme: dark)");
    mq.addEventListener?.("change", onChange);
    cleanups.push(() => mq.removeEventListener?.("change", onChange));
  }
  if (typeof MutationObserver === "function" && document.body) {
    const mo = new MutationObserver(onChange);
    mo.observe(document.body, { attributes: true, attributeFilter: ["data-jp-theme-light", "data-jp-theme-name", "class"] });
    // VS Code sets its --vscode-* colours as an inline style on <html>: a dark-to-dark theme switch changes only those
    if (document.documentElement) mo.observe(document.documentElement, { attributes: true, attributeFilter: ["style"] });
    cleanups.push(() => mo.disconnect());
  }
  const stop = () => cleanups.splice(0).forEach((f) => f());
  signal?.addEventListener("abort", stop, { once: true });
  return stop;
}
