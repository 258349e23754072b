// mount.js: the lifecycle every flowviz view shares (FlowPlayer and the lecture views).
//
// A view calls mountView once at the top of its anywidget `render` and returns its `cleanup`:
//
//   export function renderThing({ model, el, signal }) {
//     const { alive, val, save, listen, requestDraw, followTheme, onCleanup, cleanup } =
//       mountView({ model, el, signal }, { classes: ["fv-thing"], css: CSS + THING_CSS, frame });
//     let theme, dirty = true;
//     ...build the DOM under el; DOM listeners take { signal: alive }...
//     const panel = createPanel({ onChange: requestDraw });
//     onCleanup(() => panel.destroy());
//     listen({ "change:arrays": () => { dirty = true; requestDraw(); } });
//     followTheme((t) => { theme = t; });
//     requestDraw();
//     return cleanup;
//     function frame(now) { ...draw with theme... }  // hoisted, so it can be named above
//   }

import { resolveTheme, applyThemeVars, watchTheme } from "./theme.js";

/**
 * Mount a view on anywidget's `el`: tag it, give it its stylesheet, and tie everything the view
 * registers to one lifetime that ends when anywidget's `signal` aborts or `cleanup()` is called.
 *
 * At mount: `el` gets the classes "flowviz-player" and `classes`, its children are replaced by one
 * <style> holding `css` (the view appends its own nodes after it).
 *
 * At the end (once, whichever comes first: `signal` aborts, `cleanup()`): `alive` aborts (so DOM
 * listeners added with `{ signal: alive }` go), the pending animation frame is cancelled, then in
 * the order they were registered the model handlers of `listen` are removed, the page-theme watch
 * of `followTheme` stops and the `onCleanup` functions run; last, `el` is emptied and the classes
 * are removed.
 *
 * @param {{model: object, el: HTMLElement, signal?: AbortSignal}} ctx anywidget's render argument
 * @param {{classes?: string[], css?: string, frame?: (now: number) => void}} opts
 *   classes: added to el besides "flowviz-player"; css: the view's stylesheet;
 *   frame: the draw function run in the animation frame that `requestDraw` schedules.
 * @returns {{
 *   alive: AbortSignal,
 *   val: (name: string, fallback?: any) => any,
 *   save: (values: object) => void,
 *   listen: (handlers: Record<string, Function>) => void,
 *   requestDraw: () => void,
 *   followTheme: (onTheme?: (theme: object) => void) => void,
 *   onCleanup: (fn: () => void) => void,
 *   cleanup: () => void,
 * }}
 *   alive: aborts when the view ends; val(name, fallback): the model's value, or fallback when it
 *   is undefined or null; save(values): set every key, then one save_changes; listen(handlers):
 *   model.on for each "event": fn, removed at the end; requestDraw(): run `frame` in the next
 *   animation frame, at most one frame pending at a time, nothing once the view has ended;
 *   followTheme(onTheme): see below; onCleanup(fn): run fn at the end; cleanup(): end the view now
 *   (what anywidget's render returns; safe to call again).
 */
export function mountView({ model, el, signal }, { classes = [], css = "", frame = () => {} } = {}) {
  const ac = new AbortController();
  const alive = ac.signal;
  signal?.addEventListener("abort", () => ac.abort(), { once: true });
  // a view whose signal has already aborted (its cell was removed before it rendered) ends as soon as the
  // render function has registered everything to `alive`: an "abort" listener added now would never run
  if (signal?.aborted) queueMicrotask(() => ac.abort());
  const cleanups = [];
  let raf = 0;

  const val = (name, fallback) => {
    const v = model.get(name);
    return v === undefined || v === null ? fallback : v;
  };

  function save(values) {
    for (const [k, v] of Object.entries(values)) model.set(k, v);
    model.save_changes();
  }

  function listen(handlers) {
    if (alive.aborted) return;
    const entries = Object.entries(handlers);
    for (const [name, fn] of entries) model.on(name, fn);
    cleanups.push(() => { for (const [name, fn] of entries) model.off(name, fn); });
  }

  function requestDraw() {
    if (!raf && !alive.aborted) raf = requestAnimationFrame(run);
  }
  function run(now) {
    raf = 0;
    frame(now);
  }

  /**
   * Follow the theme: resolve it (resolveTheme with the `theme` and `preset` traits), set the CSS
   * variables and data-theme / data-preset on el (applyThemeVars), call onTheme(theme) and request a
   * draw; now, on every change of `theme` or `preset`, and when the page's theme changes while the
   * `theme` trait is "auto".
   */
  function followTheme(onTheme = () => {}) {
    const apply = () => {
      const theme = resolveTheme(el, { theme: val("theme", "auto"), preset: val("preset", "notebook") });
      applyThemeVars(el, theme);
      onTheme(theme);
      requestDraw();
    };
    apply();
    listen({ "change:preset": apply, "change:theme": apply });
    if (alive.aborted) return;
    const stop = watchTheme(() => { if (val("theme", "auto") === "auto") apply(); }, alive);
    cleanups.push(stop);
  }

  function onCleanup(fn) {
    cleanups.push(fn);
  }

  function end() { // once: an AbortSignal aborts only once
    cancelAnimationFrame(raf);
    raf = 0;
    for (const f of cleanups.splice(0)) f();
    el.replaceChildren();
    el.classList.remove("flowviz-player", ...classes);
  }
  alive.addEventListener("abort", end, { once: true });

  el.classList.add("flowviz-player", ...classes);
  el.replaceChildren();
  const style = document.createElement("style");
  style.textContent = css;
  el.append(style);

  return { alive, val, save, listen, requestDraw, followTheme, onCleanup, cleanup: () => ac.abort() };
}
