// fakedom.mjs: a permissive fake DOM, enough to run renderPlayer in node with the Canvas2D renderer (for
// the JS unit tests of the player's model sync; no layout, no pixels). Sets the page globals when imported.
const noop = () => {};
function ctx2d(canvas) {
  const base = {
    canvas, measureText: (t) => ({ width: String(t).length * 6 }),
    createImageData: (w, h) => ({ width: w, height: h, data: new Uint8ClampedArray(w * h * 4) }),
    createPattern: () => ({}), setLineDash: noop,
  };
  base.styleLog = []; // every strokeStyle / fillStyle set, in order (a test reads the colours drawn)
  return new Proxy(base, { get: (o, k) => (k in o ? o[k] : noop), set: (o, k, v) => {
    if (k === "strokeStyle" || k === "fillStyle") o.styleLog.push(v);
    o[k] = v;
    return true;
  } });
}
export const allListeners = [];
export function fakeNode(tag) {
  const listeners = new Map();
  const classes = new Set();
  const style = { setProperty(k, v) { this[k] = v; }, removeProperty(k) { delete this[k]; }, getPropertyValue(k) { return this[k] ?? ""; } };
  const n = {
    tag, parent: null, children: [], dataset: {}, style, textContent: "", hidden: false, width: 300, height: 150,
    classList: { add: (...c) => c.forEach((x) => classes.add(x)), remove: (...c) => c.forEach((x) => classes.delete(x)), contains: (c) => classes.has(c),
      toggle: (c, on = !classes.has(c)) => { if (on) classes.add(c); else classes.delete(c); return on; } },
    set innerHTML(v) { this._html = v; }, get innerHTML() { return this._html || ""; },
    setAttribute(k, v) { this["@" + k] = String(v); }, getAttribute(k) { return this["@" + k] ?? null; }, removeAttribute(k) { delete this["@" + k]; },
    append(...nodes) { for (const c of nodes) { if (typeof c === "string") continue; c.parent = this; this.children.push(c); } },
    prepend(...nodes) { for (const c of nodes.reverse()) { c.parent = this; this.children.unshift(c); } },
    appendChild(c) { this.append(c); return c; },
    replaceChildren(...nodes) { for (const c of this.children) c.parent = null; this.children = []; this.append(...nodes); },
    replaceWith(o) { const p = this.parent; if (p) { p.children[p.children.indexOf(this)] = o; o.parent = p; } },
    remove() { if (this.parent) this.parent.children.splice(this.parent.children.indexOf(this), 1); this.parent = null; },
    addEventListener(type, fn, opts) {
      if (!listeners.has(type)) listeners.set(type, new Set());
      listeners.get(type).add(fn); allListeners.push([n, type, fn]);
      opts?.signal?.addEventListener("abort", () => listeners.get(type).delete(fn), { once: true });
    },
    removeEventListener(type, fn) { listeners.get(type)?.delete(fn); },
    dispatch(type, ev = {}) { const e = { type, target: n, preventDefault() { this.defaultPrevented = true; }, stopPropagation: noop, ...ev }; for (const f of [...(listeners.get(type) || [])]) f(e); return e; },
    listenerCount(type) { return listeners.get(type)?.size || 0; },
    getBoundingClientRect: () => ({ left: 0, top: 0, width: 500, height: 510, right: 500, bottom: 510 }),
    getContext(kind) { if (kind === "2d") return (n._ctx ||= ctx2d(n)); return null; },
    closest: () => null, querySelector: () => null, focus: noop, setPointerCapture: noop,
    insertRow() { const r = fakeNode("tr"); r.insertCell = () => { const c = fakeNode("td"); r.append(c); return c; }; n.append(r); return r; },
    offsetLeft: 0, offsetTop: 0, offsetHeight: 0, scrollHeight: 0,
  };
  return n;
}
export const frames = new Map();
let nextId = 1;
globalThis.requestAnimationFrame = (fn) => { const id = nextId++; frames.set(id, fn); return id; };
globalThis.cancelAnimationFrame = (id) => { frames.delete(id); };
export function runFrames(now = 16) { const due = [...frames.values()]; frames.clear(); for (const fn of due) fn(now); return due.length; }
globalThis.matchMedia = () => ({ matches: false, addEventListener: noop, removeEventListener: noop });
globalThis.document = { body: null, documentElement: null, createElement: fakeNode, activeElement: null };
globalThis.getComputedStyle = () => ({ getPropertyValue: () => "", fontFamily: "TestSans", color: "" });
globalThis.FLOWVIZ_RENDERER = "canvas2d";
