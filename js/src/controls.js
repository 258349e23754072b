// controls.js: the player's own HTML controls (no ipywidgets): transport bar, view
// toggles, and the parameter sliders/toggles generated from the `controls` list.

import { decimalsOf } from "./view.js";

export const SPEEDS = [0.25, 0.5, 1, 2, 4];

const SVG = {
  play: '<path d="M4 2.5v11l9.5-5.5z"/>',
  pause: '<path d="M3.5 2.5h3.2v11H3.5zM9.3 2.5h3.2v11H9.3z"/>',
  prev: '<path d="M3 2.5h2v11H3zM14 2.5v11L6 8z"/>',
  next: '<path d="M11 2.5h2v11h-2zM2 2.5v11L10 8z"/>',
  loop: '<path d="M4 5h7.5V3l3 3-3 3V7H5v2.5H3V6a1 1 0 0 1 1-1zm8 6H4.5v2l-3-3 3-3v2H11V6.5h2V10a1 1 0 0 1-1 1z"/>',
};

export function icon(name) {
  return `<svg viewBox="0 0 16 16" width="1em" height="1em" aria-hidden="true" fill="currentColor">${SVG[name]}</svg>`;
}

function h(tag, props = {}, children = []) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") el.className = v;
    else if (k === "html") el.innerHTML = v;
    else if (k === "text") el.textContent = v;
    else if (k in el && typeof v !== "string") el[k] = v;
    else el.setAttribute(k, v);
  }
  for (const c of [].concat(children)) if (c) el.append(c);
  return el;
}

/** Decimals to show for a slider step. */
export function stepDecimals(step) {
  return step > 0 ? decimalsOf(step) : 2;
}

function checkbox(label, title, onChange) {
  const input = h("input", { type: "checkbox" });
  input.addEventListener("change", () => onChange(input.checked));
  const el = h("label", { class: "fv-check", title }, [input, h("span", { text: label })]);
  return { el, input };
}

/**
 * The transport bar and view toggles.
 * @param {object} on handlers: play(), step(dir), scrub(value, done), loop(b), speed(v), toggle(name, b)
 */
export function createToolbar(on) {
  const play = h("button", { class: "fv-btn fv-play", type: "button", title: "Play / pause (Space)", html: icon("play") });
  const prev = h("button", { class: "fv-btn", type: "button", title: "Previous layer (\u2190)", html: icon("prev") });
  const next = h("button", { class: "fv-btn", type: "button", title: "Next layer (\u2192)", html: icon("next") });
  const loop = h("button", { class: "fv-btn fv-loop", type: "button", title: "Loop", html: icon("loop") });
  loop.setAttribute("aria-pressed", "false");
  const slider = h("input", { class: "fv-slider", type: "range", min: "0", max: "1", step: "0.01", value: "0" });
  slider.setAttribute("aria-label", "layer position");
  const label = h("span", { class: "fv-layer-label" });
  const speed = h("select", { class: "fv-speed", title: "Speed (layers per second)" },
    SPEEDS.map((s) => h("option", { value: String(s), text: `${s}\u00d7` })));
  const computing = h("span", { class: "fv-computing", hidden: true, html: '<i></i>computing\u2026' });
  play.addEventListener("click", () => on.play());
  prev.addEventListener("click", () => on.step(-1));
  next.addEventListener("click", () => on.step(1));
  loop.addEventListener("click", () => on.loop(loop.getAttribute("aria-pressed") !== "true"));
  slider.addEventListener("input", () => on.scrub(+slider.value, false));
  slider.addEventListener("change", () => on.scrub(+slider.value, true));
  speed.addEventListener("change", () => on.speed(+speed.value));
  const checks = {
    show_density: checkbox("density", "Colour the deformed mesh by the exact log-density", (b) => on.toggle("show_density", b)),
    show_grid: checkbox("grid", "Show the deformed grid lines", (b) => on.toggle("show_grid", b)),
    show_points: checkbox("points", "Show the sample points", (b) => on.toggle("show_points", b)),
    linked: checkbox("z | x linked", "Show base space z beside x; brush to select points", (b) => on.toggle("linked", b)),
    follow: checkbox("zoom to layer", "The x camera follows the layer shown (off: one view holds every state, so areas compare across layers)",
      (b) => on.toggle("follow", b)),
  };
  const row1 = h("div", { class: "fv-row" }, [prev, play, next, slider, label, loop, speed]);
  const row2 = h("div", { class: "fv-row fv-row2" }, [...Object.values(checks).map((c) => c.el), computing]);
  const el = h("div", { class: "fv-toolbar" }, [row1, row2]);
  let shown = {};
  return {
    el, slider,
    /** Reflect the view state; skips what did not change. */
    update(s) {
      const K = Math.max(s.K, 0);
      if (shown.K !== K) { slider.max = String(K); slider.disabled = K === 0; }
      if (shown.position !== s.position && !s.scrubbing) slider.value = String(s.position);
      const lab = `layer ${s.position.toFixed(2)} / ${K}`;
      if (label.textContent !== lab) label.textContent = lab;
      if (shown.playing !== s.playing) {
        play.innerHTML = icon(s.playing ? "pause" : "play");
        play.setAttribute("aria-pressed", String(!!s.playing));
      }
      if (shown.loop !== s.loop) loop.setAttribute("aria-pressed", String(!!s.loop));
      if (shown.speed !== s.speed) {
        const best = SPEEDS.reduce((a, b) => (Math.abs(b - s.speed) < Math.abs(a - s.speed) ? b : a), 1);
        speed.value = String(best);
      }
      for (const [k, c] of Object.entries(checks)) c.input.checked = !!s[k];
      shown = { ...s, K };
    },
    setComputing(busy) {
      computing.hidden = !busy;
    },
  };
}

/**
 * Parameter sliders, per-layer toggles and drop-downs, grouped by layer, generated from `controls`.
 * A control is a slider `{id, layer, label, value, min, max, step}`, a toggle `{..., kind: "toggle"}`
 * or a choice `{..., kind: "choice", options: [{value, label, disabled?, title?}]}` (a <select>; a
 * disabled option is shown but cannot be picked). `onChange(id, value)` gets a number, a boolean or
 * the chosen option's value (with its own type).
 */
export const NEEDS_KERNEL = "needs a running kernel: this is a static page";

/** Controls beyond this many fold behind a <details> disclosure (open at first). */
export const COLLAPSE_AFTER = 8;

/**
 * Parameter sliders, toggles and drop-downs, grouped by layer, generated from `controls`.
 * With `kernel: false` (a static export: nothing recomputes) every control not marked `local`
 * (browser-only, e.g. the strip width) is shown disabled with a caption saying why, instead of
 * moving without effect.
 */
export function createParamControls(onChange, { kernel = true } = {}) {
  const el = h("div", { class: "fv-params" });
  let signature = "";
  let open = true; // the disclosure of a long list, kept across rebuilds
  let inputs = new Map();
  const active = new Set();

  function build(controls, layers) {
    el.replaceChildren();
    inputs = new Map();
    if (!kernel && controls.some((c) => !c.local)) {
      el.append(h("div", { class: "fv-params-note", text: "Static page: the greyed-out controls need a running kernel to recompute." }));
    }
    // a long list (a hand-built flow has a few sliders per layer) folds away behind one click, so that a
    // slide or a small screen can show the plot alone; short lists stay as they are
    let host = el;
    if (controls.length > COLLAPSE_AFTER) {
      const box = h("details", { class: "fv-params-box" });
      box.open = open;
      box.addEventListener("toggle", () => { open = box.open; });
      host = h("div", { class: "fv-params-groups" });
      box.append(h("summary", { text: `sliders and toggles (${controls.length})` }), host);
      el.append(box);
    }
    const groups = new Map();
    for (const c of controls) {
      const key = Number.isInteger(c.layer) ? c.layer : -1;
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(c);
    }
    for (const [layer, list] of [...groups.entries()].sort((a, b) => a[0] - b[0])) {
      const info = layers[layer - 1];
      const title = layer > 0 ? `layer ${layer}${info && info.name ? `: ${info.name}` : ""}` : "parameters";
      const group = h("fieldset", { class: "fv-group" }, [h("legend", { text: title })]);
      for (const c of list) group.append(c.kind === "toggle" ? toggle(c) : c.kind === "choice" ? choice(c) : slider(c));
      host.append(group);
    }
    if (!kernel) {
      for (const { c, input } of inputs.values()) {
        if (c.local) continue;
        input.disabled = true;
        input.title = NEEDS_KERNEL;
      }
    }
    el.hidden = controls.length === 0;
  }

  function toggle(c) {
    const input = h("input", { type: "checkbox" });
    input.dataset.id = c.id;
    input.addEventListener("change", () => onChange(c.id, input.checked));
    inputs.set(c.id, { c, input, set: (v) => { input.checked = !!v; } });
    return h("label", { class: "fv-check fv-param" }, [input, h("span", { text: c.label || c.id })]);
  }

  function choice(c) {
    const options = Array.isArray(c.options) ? c.options : [];
    const select = h("select", { class: "fv-choice" });
    select.dataset.id = c.id;
    select.setAttribute("aria-label", c.label || c.id);
    for (const o of options) {
      const opt = h("option", { value: String(o.value), text: o.label ?? String(o.value) });
      if (o.disabled) opt.disabled = true;
      if (o.title) opt.title = o.title;
      select.append(opt);
    }
    let shown;
    const set = (v) => { shown = v; select.value = String(v); };
    select.addEventListener("change", () => {
      const o = options.find((q) => String(q.value) === select.value);
      if (!o || o.disabled) { select.value = String(shown); return; }
      onChange(c.id, o.value);
    });
    inputs.set(c.id, { c, input: select, set });
    return h("label", { class: "fv-param fv-param-choice" }, [h("span", { class: "fv-param-label", text: c.label || c.id }), select]);
  }

  function slider(c) {
    const input = h("input", { type: "range", min: String(c.min), max: String(c.max), step: String(c.step || "any") });
    input.dataset.id = c.id;
    const out = h("output", { class: "fv-value" });
    const dec = stepDecimals(c.step);
    const show = (v) => { out.textContent = Number(v).toFixed(dec); };
    input.addEventListener("input", () => { show(input.value); onChange(c.id, +input.value); });
    input.addEventListener("pointerdown", () => active.add(c.id));
    const release = () => active.delete(c.id);
    input.addEventListener("pointerup", release);
    input.addEventListener("pointercancel", release);
    input.addEventListener("blur", release);
    // a value Python could not send as a number (null: the parameter is NaN or inf, e.g. after diverged
    // training) reads "non-finite"; the slider stays where it was
    const set = (v) => {
      const ok = v !== null && v !== undefined && Number.isFinite(+v);
      out.className = ok ? "fv-value" : "fv-value fv-bad";
      if (!ok) { out.textContent = "non-finite"; return; }
      input.value = String(v);
      show(v);
    };
    inputs.set(c.id, { c, input, set });
    return h("label", { class: "fv-param" }, [h("span", { class: "fv-param-label", text: c.label || c.id }), input, out]);
  }

  return {
    el,
    /** Fold (false) or unfold (true) a long list of controls, now and across rebuilds. */
    setOpen(b) {
      open = !!b;
      const box = el.querySelector("details.fv-params-box");
      if (box) box.open = open;
    },
    /** Show `controls` with values from `params` (falling back to each control's value). */
    update(controls = [], params = {}, layers = []) {
      const sig = JSON.stringify([controls.map(({ value, ...rest }) => rest), layers.map((l) => l.name)]);
      if (sig !== signature) { signature = sig; build(controls, layers); }
      for (const c of controls) {
        const entry = inputs.get(c.id);
        if (!entry || active.has(c.id)) continue;
        entry.set(c.id in params ? params[c.id] : c.value);
      }
    },
  };
}
