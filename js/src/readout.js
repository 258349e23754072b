// readout.js: the numbers shown when hovering a mesh vertex (see the end of WIRE.md).
//
// At state k (layer k maps state k-1 to state k, forward direction z -> x):
//   J = jac[k-1][v], det J, log|det J|, cumulative sum_{j<=k} logdet_j,
//   log p_k(x) = log pi(z) - sum_{j<=k} log|det J_j|  (log pi(z) = logp[0][v]),
// shown in the lecture's form log pi(z) + sum_j log|det J_{G_j^-1}|, term by term.

/** A number with about 5 significant digits; "+inf (non-finite)" / "-inf (non-finite)" for +-Infinity,
 * "non-finite" for NaN and anything that is not a number. */
export function formatNumber(x, digits = 5) {
  if (x === Infinity || x === -Infinity) return `${x > 0 ? "+" : "\u2212"}inf (non-finite)`;
  if (typeof x !== "number" || !Number.isFinite(x)) return "non-finite";
  if (x === 0) return "0";
  const a = Math.abs(+x.toPrecision(digits)); // as rounded: 99999.7 shows as 1e5, not "1.0000e+5"
  if (a >= 1e5 || a < 1e-4) {
    const [m, e] = x.toExponential(digits - 1).split("e");
    return `${trimZeros(m)}e${Number(e)}`;
  }
  return trimZeros(x.toPrecision(digits));
}

/** The density exp(logp), written as "exp(logp)" where a finite log-density over- or underflows a double
 * (log p > 709.78 or < -745.13): such a density is finite and not zero, only too large or small to print. */
export function formatDensity(logp) {
  const d = Math.exp(logp);
  return Number.isFinite(logp) && (d === Infinity || d === 0) ? `exp(${formatNumber(logp)})` : formatNumber(d);
}

function trimZeros(s) {
  return s.includes(".") ? s.replace(/\.?0+$/, "") : s;
}

/** det of a row-major 2x2 [a, b, c, d]. */
export function det2(J) {
  return J[0] * J[3] - J[1] * J[2];
}

/**
 * Everything the readout shows for vertex v at state k.
 * @param {object} s {K, V, mesh, logp, jac, logdet, layers?, finite?, placed?} with the flat Float32Arrays
 *   of WIRE.md. `finite` (K+1, V) flags, if given: where a state's density is not finite its wire values are
 *   zeroed, so log p reads NaN ("non-finite"); if the vertex's position is still finite there (`placed`, as
 *   the browser draws it), that state's log-det is read off the layer's J instead: det J = 0 gives
 *   log|det J| = -inf and log p = +inf exactly (a map that squashes the plane onto a line).
 */
export function computeReadout(s, k, v) {
  const { K, V } = s;
  const kk = Math.min(Math.max(k | 0, 0), K);
  const at = (arr, state, width) => Array.from(arr.subarray((state * V + v) * width, (state * V + v + 1) * width));
  const ok = (state) => !s.finite || s.finite[state * V + v] !== 0;
  const placed = (state) => ok(state) || (!!s.placed && s.placed[state * V + v] !== 0);
  const base = ok(0) ? s.logp[v] : NaN;
  const r = {
    k: kk, K, v,
    pos: at(s.mesh, kk, 2),
    z: at(s.mesh, 0, 2),
    logp: ok(kk) ? s.logp[kk * V + v] : NaN,
    base,
    layer: null,
  };
  // a state whose density is not finite had its log-dets zeroed on the wire: read log|det J| off J
  // (J is sent wherever it is finite; det J = 0 gives -inf, and then log p = +inf: a squashed plane)
  const layerLogdet = (j) => (ok(j) ? s.logdet[(j - 1) * V + v]
    : placed(j) ? Math.log(Math.abs(det2(at(s.jac, j - 1, 4)))) : NaN);
  if (!ok(kk) && ok(0) && placed(kk)) {
    let sum = base;
    for (let j = 1; j <= kk; j++) sum -= layerLogdet(j);
    if (sum === Infinity) r.logp = Infinity;
  }
  r.density = Math.exp(r.logp);
  const terms = [{ label: "log \u03c0(z)", value: base }];
  let cum = 0;
  for (let j = 1; j <= kk; j++) {
    const ld = layerLogdet(j);
    cum += ld;
    // the lecture's form: + log|det J_{G_j^-1}| at x_j, which is - log|det J_{G_j}| at x_{j-1}
    terms.push({ label: `+ log|det J${sub(j)}\u207b\u00b9|`, value: -ld, layer: j });
  }
  r.terms = terms;
  r.cumLogdet = cum;
  r.sum = base - cum;
  if (kk >= 1) {
    const J = at(s.jac, kk - 1, 4);
    const det = det2(J);
    const info = (s.layers && s.layers[kk - 1]) || {};
    r.layer = { index: kk, name: info.name || `layer ${kk}`, caption: info.caption || "", invertible: info.invertible !== false };
    r.prev = at(s.mesh, kk - 1, 2);
    r.J = J;
    r.det = det;
    r.logAbsDet = Math.log(Math.abs(det));
    r.logdet = layerLogdet(kk);
  }
  return r;
}

const SUBS = "\u2080\u2081\u2082\u2083\u2084\u2085\u2086\u2087\u2088\u2089";
function sub(n) {
  return String(n).split("").map((d) => SUBS[+d]).join("");
}

/** det J as text: "not invertible" for 0, "non-finite" for NaN/inf. */
export function formatDet(det) {
  if (det === 0) return "0 (not invertible)";
  return formatNumber(det);
}

/** The readout as rows of [label, value] (plain text), grouped in sections. */
export function readoutRows(r) {
  const f = formatNumber;
  const pt = (p) => `(${f(p[0])}, ${f(p[1])})`;
  const sections = [];
  if (r.layer) {
    const L = r.layer;
    sections.push({
      title: `layer ${L.index}/${r.K}: ${L.name}`,
      note: `forward, state ${L.index - 1} \u2192 ${L.index}${L.invertible ? "" : " \u2014 not invertible"}`,
      rows: [
        ["vertex", `#${r.v}`],
        [`x${sub(L.index - 1)}`, pt(r.prev)],
        [`x${sub(L.index)}`, pt(r.pos)],
        ["J", matrixText(r.J)],
        ["det J", formatDet(r.det)],
        ["log|det J|", f(r.logAbsDet)],
        ["  (layer)", f(r.logdet)],
        [`\u03a3 log|det| 1..${L.index}`, f(r.cumLogdet)],
      ],
    });
  } else {
    sections.push({
      title: `state 0: base ${r.baseName || ""}`.trim(),
      note: "no layer applied yet",
      rows: [["vertex", `#${r.v}`], ["z", pt(r.pos)]],
    });
  }
  sections.push({
    title: `density after ${r.k} layer${r.k === 1 ? "" : "s"}`,
    rows: [
      [`p${sub(r.k)}(x)`, formatDensity(r.logp)],
      [`log p${sub(r.k)}(x)`, f(r.logp)],
    ],
  });
  const split = r.terms.map((t) => [t.label, f(t.value)]);
  split.push(["= sum", f(r.sum)]);
  const gap = r.sum - r.logp;
  if (Number.isFinite(gap) && Math.abs(gap) > 1e-3 * Math.max(1, Math.abs(r.logp))) {
    split.push(["mismatch", `sum \u2212 log p = ${f(gap)}`]);
  }
  sections.push({
    title: `log p${sub(r.k)}(x) = log \u03c0(z) + \u03a3 log|det J\u2096\u207b\u00b9|`,
    note: r.k ? "J\u2096\u207b\u00b9 = Jacobian of G\u2096\u207b\u00b9 (data \u2192 base): log|det J\u2096\u207b\u00b9| = \u2212log|det J\u2096|" : "",
    rows: split,
  });
  return sections;
}

/** [[a, b], [c, d]] on two lines with aligned columns. */
export function matrixText(J) {
  const cells = J.map((x) => formatNumber(x));
  const w0 = Math.max(cells[0].length, cells[2].length), w1 = Math.max(cells[1].length, cells[3].length);
  return `[${cells[0].padStart(w0)}  ${cells[1].padStart(w1)}]\n[${cells[2].padStart(w0)}  ${cells[3].padStart(w1)}]`;
}

/** The readout as one plain-text block (for tests, copying and the static export). */
export function readoutText(r) {
  return readoutRows(r)
    .map((s) => [s.title, s.note, ...s.rows.map(([a, b]) => `${a} = ${b.replace(/\n/g, "\n    ")}`)].filter(Boolean).join("\n"))
    .join("\n\n");
}
