// On a Reveal.js slide the view bounds its plot so that the slide's content fits; elsewhere nothing changes.
// Fake elements stand in for the slide's DOM (their `closest` walks a `parent` chain by selector).
import { test } from "node:test";
import assert from "node:assert/strict";
import { fitHeight, fitToSlide, slideOf } from "../src/slides.js";

function node(name, props = {}) {
  const props2 = { offsetHeight: 0, scrollHeight: 0, ...props };
  const vars = new Map();
  return {
    name, parent: null, dataset: {}, ...props2,
    style: { setProperty: (k, v) => vars.set(k, v), removeProperty: (k) => vars.delete(k), vars },
    // selectors used by slides.js: ".reveal .slides", ".reveal", "section"
    closest(sel) {
      const is = (n, s) => n.name === s;
      for (let n = this; n; n = n.parent) {
        if (sel === ".reveal .slides") {
          if (is(n, ".slides")) { for (let a = n.parent; a; a = a.parent) if (is(a, ".reveal")) return n; }
        } else if (is(n, sel)) return n;
      }
      return null;
    },
  };
}

function deck({ slideHeight = 700, content = 900, el = 850, body = 600 } = {}) {
  const reveal = node(".reveal");
  const slides = node(".slides", { offsetHeight: slideHeight });
  const section = node("section", { scrollHeight: content });
  const root = node("div", { offsetHeight: el });
  const main = node("div", { offsetHeight: body });
  slides.parent = reveal; section.parent = slides; root.parent = section; main.parent = root;
  return { reveal, slides, section, root, main };
}

function fakeWindow() {
  const events = [];
  const frames = [];
  return { events, frames, requestAnimationFrame: (f) => frames.push(f), dispatchEvent: (e) => events.push(e.type),
    flush() { while (frames.length) frames.shift()(); } };
}

test("fitHeight: the slide minus everything but the plot's area, minus a margin, at least a floor", () => {
  assert.equal(fitHeight({ slideHeight: 700, content: 900, body: 600 }), 700 - 300 - 12);
  assert.equal(fitHeight({ slideHeight: 700, content: 660, body: 560, margin: 0 }), 600);
  assert.equal(fitHeight({ slideHeight: 700, content: 2000, body: 100 }), 160); // the floor
  assert.equal(fitHeight({ slideHeight: 700, content: 500, body: 600, margin: 0 }), 700); // body > content: no chrome
});

test("slideOf finds the Reveal slide container, and nothing outside a deck", () => {
  const d = deck();
  assert.equal(slideOf(d.main), d.slides);
  const loose = node("div");
  assert.equal(slideOf(loose), null);
  d.slides.parent = null; // .slides without .reveal around it
  assert.equal(slideOf(d.main), null);
  assert.equal(slideOf(null), null);
});

test("on a slide: the plot's bound is set, onSlide runs once, Reveal is asked to lay out when content changes", () => {
  const d = deck();
  const win = fakeWindow();
  let entered = 0;
  const fits = [];
  const ac = new AbortController();
  const measure = fitToSlide(d.root, d.main, { signal: ac.signal, onSlide: () => entered++, onFit: (h) => fits.push(h), win });
  assert.equal(d.root.style.vars.get("--fv-fit-height"), `${700 - 300 - 12}px`);
  assert.equal(d.root.dataset.slide, "1");
  win.flush();
  assert.deepEqual(win.events, ["resize"]);
  // nothing changed: no second layout request, onSlide not again
  measure(); win.flush();
  assert.deepEqual(win.events, ["resize"]);
  // the readout beside the plot grows (content and body alike): the bound stays, no new layout
  d.section.scrollHeight = 950; d.main.offsetHeight = 650; measure(); win.flush();
  assert.equal(d.root.style.vars.get("--fv-fit-height"), `${700 - 300 - 12}px`);
  assert.deepEqual(win.events, ["resize"]);
  d.main.offsetHeight = 600;
  // the sliders unfold: 200 px more above the plot, which gives way; Reveal lays the slide out again
  d.section.scrollHeight = 1100; measure(); win.flush();
  assert.equal(d.root.style.vars.get("--fv-fit-height"), `${700 - 500 - 12}px`);
  assert.deepEqual(win.events, ["resize", "resize"]);
  assert.deepEqual(fits, [700 - 300 - 12, 700 - 500 - 12]); // onFit after each new bound, not for the readout
  assert.equal(entered, 1);
  // after the view ends nothing more happens
  ac.abort(); d.section.scrollHeight = 800; measure(); win.flush();
  assert.equal(win.events.length, 2);
});

test("outside a slide nothing is set, and a view moved off a slide drops its bound", () => {
  const loose = node("div", { offsetHeight: 800 });
  const body = node("div", { offsetHeight: 600 });
  body.parent = loose;
  const win = fakeWindow();
  fitToSlide(loose, body, { win });
  win.flush();
  assert.equal(loose.style.vars.size, 0);
  assert.deepEqual(win.events, []);
  const d = deck();
  const measure = fitToSlide(d.root, d.main, { win });
  assert.ok(d.root.style.vars.has("--fv-fit-height"));
  d.root.parent = null; // moved out of the deck
  measure();
  assert.equal(d.root.style.vars.has("--fv-fit-height"), false);
  assert.equal(d.root.dataset.slide, undefined);
  d.root.parent = d.section; // and back (RISE: slideshow mode off, then on again): marked and bounded again
  measure();
  assert.equal(d.root.dataset.slide, "1");
  assert.ok(d.root.style.vars.has("--fv-fit-height"));
});
