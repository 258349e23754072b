// slides.js: a view on a Reveal.js slide (Voila's reveal template, RISE) fits the slide.
//
// A slide has a fixed logical size (Reveal's `height`, 700 px by default, scaled to the screen with a CSS
// transform) and does not scroll: a player taller than that loses the bottom of its plot off the slide.
// On a slide, the view's plot gets a maximum height (the CSS variable --fv-fit-height, which the panels'
// max-height honours): the slide's height minus everything else on the slide (a heading, the cell's
// padding, the toolbar and sliders), recomputed whenever that changes (sliders unfolded, a resize); the
// long list of sliders starts folded so that the plot shows first. Reveal centres a slide's content when
// the slide is shown, often before the kernel has drawn the widget: when the view first finds its slide and
// whenever the plot's bound changes (sliders folded or unfolded), Reveal is asked to lay the slide out again
// (the window "resize" event it listens to); not for changes beside the plot (a hover readout growing), so
// that the plot does not move under the pointer. Outside a slide nothing changes.

/** The Reveal.js slide container holding `el` (".reveal .slides"), or null. */
export function slideOf(el) {
  const slides = el?.closest?.(".reveal .slides");
  return slides && slides.closest(".reveal") ? slides : null;
}

/**
 * The largest plot height (CSS px) for which the slide's content fits a slide `slideHeight` tall: the slide
 * minus what the slide shows besides the view's main area (`content - body`), minus a `margin`; at least
 * `floor`.
 */
export function fitHeight({ slideHeight, content, body, margin = 12, floor = 160 }) {
  const chrome = Math.max(0, content - body);
  return Math.max(floor, Math.floor(slideHeight - chrome - margin));
}

/**
 * Keep `el` (a view's root) within its slide: sets `--fv-fit-height` on `el` from `fitHeight`, with `body`
 * the element the plot lives in (its height is what the variable bounds). `onSlide()` runs once, the first
 * time `el` is found on a slide (the player folds its sliders there); `onFit(px)` after each new bound, in the
 * next animation frame (a view whose canvases size themselves when drawn redraws then). Ends with `signal`.
 * Returns `measure()` (call it after changing what the view shows).
 */
export function fitToSlide(el, body, { signal, onSlide = () => {}, onFit = () => {}, win = globalThis } = {}) {
  let entered = false;
  let last = "";
  function measure() {
    if (signal?.aborted) return;
    const slides = slideOf(el);
    if (!slides) {
      if (last) { el.style.removeProperty("--fv-fit-height"); last = ""; delete el.dataset.slide; }
      return;
    }
    el.dataset.slide = "1"; // (again after leaving the deck: RISE's slideshow mode off and on)
    if (!entered) { entered = true; onSlide(); }
    // offset and scroll sizes are layout pixels: the slide's own (untransformed) units
    const section = el.closest("section") || el;
    const h = fitHeight({ slideHeight: slides.offsetHeight, content: section.scrollHeight, body: body.offsetHeight });
    const v = `${h}px`;
    if (v === last) return; // e.g. a hover readout grew beside the plot: no new layout (the plot stays put)
    last = v;
    el.style.setProperty("--fv-fit-height", v);
    win.requestAnimationFrame?.(() => {
      if (signal?.aborted) return;
      win.dispatchEvent?.(new Event("resize"));
      onFit(h);
    });
  }
  if (typeof ResizeObserver === "function") {
    const ro = new ResizeObserver(() => measure());
    ro.observe(el);
    signal?.addEventListener("abort", () => ro.disconnect(), { once: true });
  }
  measure();
  return measure;
}
