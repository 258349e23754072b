// panel.js: one plot panel: a renderer canvas (WebGL2, or Canvas2D as fallback),
// an overlay canvas above it, sized to the element with a
// ResizeObserver and devicePixelRatio.

import { createWebGLRenderer } from "./renderer-webgl.js";
import { createCanvasRenderer } from "./renderer-canvas2d.js";

/** The device pixel ratio the canvases use: the page's, clamped to [1, 3]. */
export function deviceRatio() {
  return Math.min(Math.max(globalThis.devicePixelRatio || 1, 1), 3);
}

/**
 * Call `onChange()` whenever devicePixelRatio changes: the window moved to a screen of another pixel density
 * (a laptop's to a projector's) or the page was zoomed. No element changes size then, so ResizeObserver says
 * nothing; a resolution media query for the current ratio does (re-armed for each new ratio). Returns stop().
 */
export function watchDeviceRatio(onChange) {
  let query = null;
  const changed = () => { arm(); onChange(); };
  function arm() {
    query?.removeEventListener?.("change", changed);
    query = globalThis.matchMedia?.(`(resolution: ${globalThis.devicePixelRatio || 1}dppx)`) ?? null;
    query?.addEventListener?.("change", changed);
  }
  arm();
  return () => { query?.removeEventListener?.("change", changed); query = null; };
}

/**
 * @param {{prefer?: "auto"|"webgl"|"canvas2d", onChange?: () => void}} opts
 *   onChange is called after a resize or a renderer switch (redraw then).
 */
export function createPanel({ prefer = "auto", onChange = () => {} } = {}) {
  const el = document.createElement("div");
  el.className = "fv-panel";
  let base = document.createElement("canvas");
  base.className = "fv-base";
  const overlay = document.createElement("canvas");
  overlay.className = "fv-overlay";
  el.append(base, overlay);
  const panel = { el, overlay, renderer: null, cssW: 0, cssH: 0, dpr: 1, lutVersion: -1, destroyed: false };

  function useCanvas2d() {
    // a canvas that held a WebGL context cannot give a 2D one: swap in a fresh canvas
    panel.renderer?.destroy();
    const fresh = document.createElement("canvas");
    fresh.className = "fv-base";
    base.replaceWith(fresh);
    base = fresh;
    panel.renderer = createCanvasRenderer(base);
    panel.lutVersion = -1;
    applySize();
    onChange();
  }

  if (prefer !== "canvas2d") {
    try {
      panel.renderer = createWebGLRenderer(base, { onLost: () => setTimeout(() => !panel.destroyed && useCanvas2d(), 0) });
    } catch (err) {
      console.warn("flowviz: WebGL2 renderer failed, using Canvas2D", err);
      panel.renderer = null;
    }
  }
  if (!panel.renderer) {
    if (base.getContext("2d")) panel.renderer = createCanvasRenderer(base);
    else useCanvas2d();
  }

  function applySize() {
    const w = Math.round(panel.cssW * panel.dpr), h = Math.round(panel.cssH * panel.dpr);
    for (const c of [base, overlay]) {
      if (c.width !== w) c.width = w;
      if (c.height !== h) c.height = h;
    }
  }

  /** Re-read the size; returns true if the backing stores changed. */
  panel.measure = () => {
    const dpr = deviceRatio();
    const r = el.getBoundingClientRect();
    const w = Math.max(1, Math.round(r.width)), h = Math.max(1, Math.round(r.height));
    if (w === panel.cssW && h === panel.cssH && dpr === panel.dpr) return false;
    panel.cssW = w; panel.cssH = h; panel.dpr = dpr;
    applySize();
    return true;
  };

  const ro = typeof ResizeObserver === "function" ? new ResizeObserver(() => { if (panel.measure()) onChange(); }) : null;
  ro?.observe(el);
  const stopRatio = watchDeviceRatio(() => { if (panel.measure()) onChange(); });

  /**
   * Run `draw()` (which draws the renderer canvas) only when `key`, a string naming everything its
   * picture depends on, or the renderer or the canvas size changed since the last time; true when drawn.
   * A canvas keeps its picture while nothing draws into it, so hovers and readouts that change only the
   * overlay cost no renderer frame (under a software rasteriser a frame is tens of milliseconds).
   */
  panel.drawBase = (key, draw) => {
    const k = `${key}|${panel.dpr}|${panel.cssW}|${panel.cssH}`;
    if (k === panel.drawnKey && panel.renderer === panel.drawnBy) return false;
    draw();
    panel.drawnKey = k;
    panel.drawnBy = panel.renderer;
    return true;
  };

  panel.destroy = () => {
    panel.destroyed = true;
    ro?.disconnect();
    stopRatio();
    panel.renderer?.destroy();
    el.remove();
  };
  return panel;
}
