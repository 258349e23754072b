// readout-view.js: the readout panel (class fv-readout) beside the plots, the short
// legend under it, panel titles/captions, and the hover square/parallelogram shapes.

import { computeReadout, readoutRows } from "./readout.js";

const BAD = /non-finite|not invertible/;

/** The side panel: readout of the last hovered vertex and a legend. */
export function createReadoutPanel() {
  const el = document.createElement("div");
  el.className = "fv-side";
  const box = document.createElement("div");
  box.className = "fv-readout";
  box.setAttribute("aria-live", "polite");
  box.innerHTML = '<div class="fv-hint">Hover the plot to read the Jacobian of a layer at a mesh vertex: J, det J, log|det J| and how log p is built up, term by term.</div>';
  const legend = document.createElement("div");
  legend.className = "fv-legend";
  el.append(box, legend);
  let legendText = "";

  return {
    el, box,
    /** Show the readout for vertex v at state k; keeps it until the next hover. */
    show(sc, k, v, meta = {}) {
      const r = computeReadout(sc.readoutSource, k, v);
      r.baseName = meta.base || "";
      const parts = [];
      for (const s of readoutRows(r)) {
        const sec = document.createElement("div");
        sec.className = "fv-sec";
        const h = document.createElement("div");
        h.className = "fv-h";
        h.textContent = s.title;
        sec.append(h);
        if (s.note) {
          const n = document.createElement("div");
          n.className = "fv-note";
          n.textContent = s.note;
          sec.append(n);
        }
        const table = document.createElement("table");
        for (const [a, b] of s.rows) {
          const tr = table.insertRow();
          tr.insertCell().textContent = a;
          const c = tr.insertCell();
          c.textContent = b;
          if (BAD.test(b) || a === "mismatch") c.className = "fv-bad";
        }
        sec.append(table);
        parts.push(sec);
      }
      box.replaceChildren(...parts);
      const d = box.dataset;
      d.vertex = String(v);
      d.k = String(r.k);
      d.logp = String(r.logp);
      d.logdetSum = String(r.cumLogdet);
      if (r.layer) { d.det = String(r.det); d.logdet = String(r.logdet); }
      else { delete d.det; delete d.logdet; }
    },
    /** Short help and what the colours mean at the current state; `handles`: the player shows a handle to drag. */
    legend(sc, kr, handles = false) {
      const folds = sc ? sc.topo.flipCount[kr] : 0;
      const html = [
        "<b>forward</b> = base \u2192 data (z \u2192 x).",
        folds ? `<b style="color:var(--fv-bad)">Red hatching</b>: ${folds} folded mesh cells (orientation flipped: the map is not invertible there).` : "",
        "<b>Hover</b>: Jacobian readout. <b>Drag</b>: select points (<b>shift</b>: lasso), click clears.",
        handles
          ? "<b>Drag the ring</b> (z\u2080 of a radial layer, shown while that layer plays) to move its centre." : "",
        "<b>Keys</b> (widget focused): Space play/pause, \u2190/\u2192 layer, Home/End.",
      ].filter(Boolean).join("<br>");
      if (html !== legendText) { legend.innerHTML = html; legendText = html; }
    },
  };
}

/** Title and caption for a panel at layer position span (from interp.layerSpan). */
export function panelText(sc, isX, span, kr) {
  if (!sc) return { title: isX ? "x" : "z", caption: "" };
  const base = sc.meta.base || "N(0, I)";
  if (!isX) {
    return { title: `z: base space, ${base}`, caption: "Samples and mesh before any layer (state 0). Drag to select points; they are highlighted in both panels." };
  }
  const L = sc.layers;
  if (span.f === 0) {
    const k = span.k0;
    if (k === 0) return { title: `x: state 0 of ${sc.K} \u2014 base ${base}`, caption: `Base distribution ${base}: points are samples, colour is the exact log-density.` };
    const l = L[k - 1];
    return { title: `x: state ${k} of ${sc.K} \u2014 after ${l.name}${l.enabled === false ? " (off)" : ""}`, caption: l.caption || "" };
  }
  const l = L[span.k1 - 1];
  return { title: `x: state ${span.t.toFixed(2)} \u2014 applying layer ${span.k1}: ${l.name}`, caption: l.caption || "" };
}

/**
 * Shapes drawn for a hovered vertex v at state k: its (interpolated) position,
 * a square of half-size h at the state-(k-1) position and its image under J.
 * t is the shown layer position (x panel) or null (z panel: the base position only).
 */
export function hoverShapes(sc, k, v, t, h) {
  const pos = t === null ? sc.mesh.state(0) : sc.mesh.at(t);
  const point = [pos[2 * v], pos[2 * v + 1]];
  if (t === null || k < 1) return { point };
  const prev = sc.mesh.state(k - 1), cur = sc.mesh.state(k);
  const p = [prev[2 * v], prev[2 * v + 1]], q = [cur[2 * v], cur[2 * v + 1]];
  const J = sc.readoutSource.jac.subarray(((k - 1) * sc.V + v) * 4, ((k - 1) * sc.V + v + 1) * 4);
  const corners = [[-h, -h], [h, -h], [h, h], [-h, h]];
  const square = corners.map(([a, b]) => [p[0] + a, p[1] + b]);
  const finite = [...J, ...p, ...q].every(Number.isFinite);
  const para = finite ? corners.map(([a, b]) => [q[0] + J[0] * a + J[1] * b, q[1] + J[2] * a + J[3] * b]) : null;
  return { point, square: finite ? square : null, para, from: finite ? p : null };
}
