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
export function formatDensity(logp, err = 0) {
  const d = Math.exp(logp);
  if (Number.isFinite(logp) && (d === Infinity || d === 0)) return `exp(${formatWithin(logp, err)})`;
  return formatWithin(d, d * err); // d = exp(log p): a relative error of err
}

/**
 * x with only the digits its absolute error bound `err` leaves: x is rounded to the decimal place
 * 10^ceil(log10 err), so that every digit shown is right to within one unit of the last (at most 5
 * significant digits). "≈0" when that rounds x to 0 (x itself not 0): e.g. a log|det J| of 7e-8 read off a
 * float32 J, whose rounding alone is 2e-7. Without a usable `err` this is formatNumber(x).
 */
export function formatWithin(x, err, digits = 5) {
  if (!(err > 0) || !Number.isFinite(err) || typeof x !== "number" || !Number.isFinite(x) || x === 0) {
    return formatNumber(x, digits);
  }
  const e = Math.ceil(Math.log10(err));
  const place = 10 ** e;
  const q = Math.round(x / place) * place;
  if (q === 0) return "≈0";
  const sig = Math.floor(Math.log10(Math.abs(q)) + 1e-9) - e + 1;
  return formatNumber(q, Math.max(1, Math.min(digits, sig)));
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
  // error bounds (absolute) of what is shown: the flow computed in a dtype of unit roundoff E (meta.eps), the
  // wire rounded every value to float32 (U); a quantity of size m from layer j errs by about
  // C_j E max(1, |m|) + U |m|, C_j = the layer's error_scale (8 closed form, 1024 with a network inside).
  // Only the digits these leave are shown (formatWithin).
  const U = 2 ** -24, E = s.eps > 0 && Number.isFinite(s.eps) ? s.eps : U;
  const scaleOf = (j) => { // j = 0: the base density; j >= 1: layer j
    const c = j >= 1 && s.layers && s.layers[j - 1] ? Number(s.layers[j - 1].error_scale) : NaN;
    return c >= 1 ? c : 8;
  };
  const kk = Math.min(Math.max(k | 0, 0), K);
  const at = (arr, state, width) => Array.from(arr.subarray((state * V + v) * width, (state * V + v + 1) * width));
  // the size of what layer j worked on: its input position (a network's rounding grows with its inputs)
  const inSize = (j) => (j >= 1 ? Math.max(...at(s.mesh, j - 1, 2).map(Math.abs)) || 0 : 0);
  const bound = (m, j = 0) => scaleOf(j) * E * Math.max(1, Math.abs(m), inSize(j)) + U * Math.abs(m);
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
  const terms = [{ label: "log \u03c0(z)", value: base, err: bound(base) }];
  let cum = 0, cumErr = 0, computeErr = bound(base) - U * Math.abs(base);
  for (let j = 1; j <= kk; j++) {
    const ld = layerLogdet(j), err = bound(ld, j);
    cum += ld;
    cumErr += err;
    computeErr += err - U * Math.abs(ld);
    // the lecture's form: + log|det J_{G_j^-1}| at x_j, which is - log|det J_{G_j}| at x_{j-1}
    terms.push({ label: `+ log|det J${sub(j)}\u207b\u00b9|`, value: -ld, layer: j, err });
  }
  r.terms = terms;
  r.cumLogdet = cum;
  r.sum = base - cum;
  // a position after k layers carries the rounding of every layer it went through
  // a position's error after each layer, propagated to first order: what the input carried, amplified by the
  // layer's J (its row-sum norm), plus the layer's own rounding relative to the larger of its input and output
  // (a shift by +1e5 and back leaves 1e5's rounding in a position of size 1)
  const size = (p) => Math.max(Math.abs(p[0]), Math.abs(p[1]));
  const posErrs = [8 * E * Math.max(1, size(at(s.mesh, 0, 2)))];
  for (let j = 1; j <= kk; j++) {
    const J = at(s.jac, j - 1, 4);
    const norm = Math.max(Math.abs(J[0]) + Math.abs(J[1]), Math.abs(J[2]) + Math.abs(J[3]));
    posErrs.push(posErrs[j - 1] * (Number.isFinite(norm) ? norm : 1)
      + scaleOf(j) * E * Math.max(1, inSize(j), size(at(s.mesh, j, 2))));
  }
  const posErr = (p, j) => posErrs[j] + U * size(p);
  // log p_k was computed in the flow's dtype as log pi(z) - the running sum of the log-dets
  r.err = { pos: posErr(r.pos, kk), cum: cumErr, sum: terms[0].err + cumErr, logp: computeErr + U * Math.abs(r.logp) };
  if (kk >= 1) {
    const J = at(s.jac, kk - 1, 4);
    const det = det2(J);
    // each entry errs relative to its row's size; a row that is exactly (1, 0) or (0, 1) is a coordinate the
    // layer copies (a coupling's kept half): exact
    const C = scaleOf(kk), size = Math.max(1, inSize(kk));
    // (an entry that is exactly 0 is a structural zero autograd computed exactly: the triangular pattern)
    const rowErr = (a, b) => ((a === 1 && b === 0) || (a === 0 && b === 1) ? [0, 0]
      : [a, b].map((x) => (x === 0 ? 0 : C * E * size * Math.max(Math.abs(a), Math.abs(b)) + U * Math.abs(x))));
    const e = [...rowErr(J[0], J[1]), ...rowErr(J[2], J[3])];
    r.err.J = e;
    // det2 = ad - bc of the entries shown: first-order in their errors, plus the rounding of the two products
    r.err.det = Math.abs(J[3]) * e[0] + Math.abs(J[0]) * e[3] + Math.abs(J[2]) * e[1] + Math.abs(J[1]) * e[2]
      + e[0] * e[3] + e[1] * e[2] + 2 * U * (Math.abs(J[0] * J[3]) + Math.abs(J[1] * J[2]));
    r.err.prev = posErr(at(s.mesh, kk - 1, 2), kk - 1);
    const info = (s.layers && s.layers[kk - 1]) || {};
    r.layer = { index: kk, name: info.name || `layer ${kk}`, caption: info.caption || "", invertible: info.invertible !== false };
    r.prev = at(s.mesh, kk - 1, 2);
    r.J = J;
    r.det = det;
    r.logAbsDet = Math.log(Math.abs(det));
    r.logdet = layerLogdet(kk);
    r.err.logdet = bound(r.logdet, kk);
    // det J as shown: exp of the layer's own log|det J| (as exact as the layer's formula; det2 of J's entries
    // loses digits to cancellation and to large off-diagonal entries), with det2's sign; det2 where the layer's
    // log-det is not finite (a squashed plane: det J = 0)
    if (Number.isFinite(r.logdet) && det !== 0 && Number.isFinite(det)) {
      r.detShown = Math.sign(det) * Math.exp(r.logdet);
      r.err.detShown = Math.abs(r.detShown) * Math.expm1(r.err.logdet);
    } else {
      r.detShown = det;
      r.err.detShown = r.err.det;
    }
  }
  return r;
}

const SUBS = "\u2080\u2081\u2082\u2083\u2084\u2085\u2086\u2087\u2088\u2089";
function sub(n) {
  return String(n).split("").map((d) => SUBS[+d]).join("");
}

/** det J as text: "not invertible" for 0, "non-finite" for NaN/inf; with `err`, only the digits it leaves. */
export function formatDet(det, err = 0) {
  if (det === 0) return "0 (not invertible)";
  return formatWithin(det, err);
}

/** log|det J| read off det J with error `err`: "< log(2 err)" where |det J| is within its rounding of 0. */
function formatLogAbsDet(det, err = 0) {
  if (det !== 0 && Number.isFinite(det) && err > 0 && Math.abs(det) <= err) {
    return `< ${formatNumber(Math.log(2 * err), 3)} (|det J| within rounding of 0)`;
  }
  return formatWithin(Math.log(Math.abs(det)), err > 0 ? err / Math.abs(det) : 0);
}

/** The readout as rows of [label, value] (plain text), grouped in sections. */
export function readoutRows(r) {
  const err = r.err || {};
  const f = (x, e = 0) => formatWithin(x, e);
  const pt = (p, e = 0) => `(${f(p[0], e)}, ${f(p[1], e)})`;
  const sections = [];
  if (r.layer) {
    const L = r.layer;
    sections.push({
      title: `layer ${L.index}/${r.K}: ${L.name}`,
      note: `forward, state ${L.index - 1} \u2192 ${L.index}${L.invertible ? "" : " \u2014 not invertible"}`,
      rows: [
        ["vertex", `#${r.v}`],
        [`x${sub(L.index - 1)}`, pt(r.prev, err.prev)],
        [`x${sub(L.index)}`, pt(r.pos, err.pos)],
        ["J", matrixText(r.J, err.J)],
        ["det J", formatDet(r.detShown ?? r.det, r.detShown === undefined ? err.det : err.detShown)],
        ["log|det J|", formatLogAbsDet(r.det, err.det)],
        ["  (layer)", f(r.logdet, err.logdet)],
        [`\u03a3 log|det| 1..${L.index}`, f(r.cumLogdet, err.cum)],
      ],
    });
  } else {
    sections.push({
      title: `state 0: base ${r.baseName || ""}`.trim(),
      note: "no layer applied yet",
      rows: [["vertex", `#${r.v}`], ["z", pt(r.pos, err.pos)]],
    });
  }
  sections.push({
    title: `density after ${r.k} layer${r.k === 1 ? "" : "s"}`,
    rows: [
      [`p${sub(r.k)}(x)`, formatDensity(r.logp, err.logp)],
      [`log p${sub(r.k)}(x)`, f(r.logp, err.logp)],
    ],
  });
  const split = r.terms.map((t) => [t.label, f(t.value, t.err)]);
  split.push(["= sum", f(r.sum, err.sum)]);
  const gap = r.sum - r.logp;
  if (Number.isFinite(gap) && Math.abs(gap) > 1e-3 * Math.max(1, Math.abs(r.logp)) + (err.sum || 0) + (err.logp || 0)) {
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
export function matrixText(J, err = null) {
  const cells = J.map((x, i) => (err ? formatWithin(x, err[i]) : formatNumber(x)));
  const w0 = Math.max(cells[0].length, cells[2].length), w1 = Math.max(cells[1].length, cells[3].length);
  return `[${cells[0].padStart(w0)}  ${cells[1].padStart(w1)}]\n[${cells[2].padStart(w0)}  ${cells[3].padStart(w1)}]`;
}

/** The readout as one plain-text block (for tests, copying and the static export). */
export function readoutText(r) {
  return readoutRows(r)
    .map((s) => [s.title, s.note, ...s.rows.map(([a, b]) => `${a} = ${b.replace(/\n/g, "\n    ")}`)].filter(Boolean).join("\n"))
    .join("\n\n");
}
