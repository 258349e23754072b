// scene.js: the decoded, checked arrays of one recompute, ready to draw and query.
//
// Built once per `arrays`/`meta` pair (see WIRE.md). Sizes come from the array
// shapes; meta supplies the grid layout (gx, gy), layer info, bounds and limits.

import { decodeArray } from "./wire.js";
import { StateInterpolator } from "./interp.js";
import { MeshTopology } from "./mesh.js";
import { GridIndex, vertexInTriangle } from "./hittest.js";
import { lutToRGBA8 } from "./colormap.js";
import { unionBounds } from "./view.js";

function expectShape(name, a, shape) {
  const ok = a.shape.length === shape.length && shape.every((d, i) => d === null || d === a.shape[i]);
  if (!ok) {
    const want = shape.map((d) => (d === null ? "*" : d)).join(", ");
    throw new Error(`flowviz: array "${name}" has shape (${a.shape.join(", ")}), expected (${want})`);
  }
}

/** Decode and check the arrays of a FlowPlayer state. Throws an Error with a clear message. */
export function buildScene(rawArrays, meta = {}) {
  if (!rawArrays || !rawArrays.mesh || !rawArrays.points) return null;
  const A = {};
  for (const [name, value] of Object.entries(rawArrays)) A[name] = decodeArray(value, name);
  const S1 = A.mesh.shape[0];
  const K = S1 - 1;
  const V = A.mesh.shape[1];
  const N = A.points.shape[1];
  expectShape("mesh", A.mesh, [S1, V, 2]);
  expectShape("points", A.points, [S1, N, 2]);
  if (A.logp) expectShape("logp", A.logp, [S1, V]);
  if (A.finite) expectShape("finite", A.finite, [S1, V]);
  if (A.jac) expectShape("jac", A.jac, [K, V, 4]);
  if (A.logdet) expectShape("logdet", A.logdet, [K, V]);
  if (A.points_logp) expectShape("points_logp", A.points_logp, [S1, N]);
  if (A.lut) expectShape("lut", A.lut, [256, 3]);
  if (A.folded) expectShape("folded", A.folded, [S1, V]);
  if (A.placed) expectShape("placed", A.placed, [S1, V]);
  if (A.points_finite) {
    // hide points flagged non-finite by Python (their positions were zeroed for the wire)
    expectShape("points_finite", A.points_finite, [S1, N]);
    const flags = A.points_finite.data, pts = A.points.data.slice();
    for (let i = 0; i < flags.length; i++) if (!flags[i]) { pts[2 * i] = NaN; pts[2 * i + 1] = NaN; }
    A.points = { data: pts, shape: A.points.shape };
  }
  let gx = meta.gx | 0, gy = meta.gy | 0;
  if (gx * gy !== V) {
    const s = Math.round(Math.sqrt(V));
    if (s * s !== V) throw new Error(`flowviz: meta gx * gy = ${gx * gy} does not match V = ${V} mesh vertices`);
    gx = gy = s;
  }
  const logp = A.logp ? A.logp.data : new Float32Array(S1 * V).fill(NaN);
  const finite = A.finite ? A.finite.data : null;
  const layers = Array.from({ length: K }, (_, i) => ({
    name: `layer ${i + 1}`, caption: "", invertible: true, nonfinite: 0, enabled: true, ...((meta.layers || [])[i] || {}),
  }));
  let range = meta.logp_range;
  if (!Array.isArray(range) || !range.every(Number.isFinite) || !(range[1] > range[0])) range = finiteRange(logp);
  const bounds = Array.isArray(meta.bounds) && meta.bounds.length === S1 ? meta.bounds : null;
  const statePos = (k) => A.mesh.data.subarray(k * V * 2, (k + 1) * V * 2);
  const scene = {
    K, N, V, gx, gy, meta, layers, range,
    points: new StateInterpolator(A.points),
    mesh: new StateInterpolator(A.mesh),
    logp: new StateInterpolator({ data: logp, shape: [S1, V] }),
    topo: new MeshTopology(gx, gy, A.mesh.data, logp, finite, A.jac ? A.jac.data : null, A.folded ? A.folded.data : null,
      A.placed ? A.placed.data : null),
    lutBytes: lutToRGBA8(A.lut ? A.lut.data : null),
    pointsFinite: allFinite(A.points.data),
    /** All states of the points for a GPU that mixes them: non-finite coordinates moved far off screen. */
    get pointsGPU() {
      if (!this._pointsGPU) this._pointsGPU = this.pointsFinite ? A.points.data : offscreen(A.points.data);
      return this._pointsGPU;
    },
    _pointsGPU: null,
    lutCss: [],
    readoutSource: {
      K, V, mesh: A.mesh.data, logp,
      jac: A.jac ? A.jac.data : new Float32Array(K * V * 4).fill(NaN),
      logdet: A.logdet ? A.logdet.data : new Float32Array(K * V).fill(NaN),
      layers, finite, placed: A.placed ? A.placed.data : null,
      eps: Number(meta.eps) > 0 ? Number(meta.eps) : 2 ** -24, // unit roundoff of the flow's dtype (readout.js)
    },
    /** Each state's robust bounds of the points [x0, x1, y0, y1] (Python's meta.bounds), or null. */
    stateBounds: bounds,
    /** Fixed x-panel view: the union of all states' bounds. */
    xBounds: unionBounds(bounds) || dataBounds(A.mesh.data, A.points.data),
    zBounds: (bounds && unionBounds([bounds[0]])) || dataBounds(statePos(0), A.points.data.subarray(0, 2 * N)),
    _index: [],
    /** Nearest-vertex index of state k, built on first use. */
    index(k) {
      if (!this._index[k]) this._index[k] = new GridIndex(statePos(k), this.topo.placed[k]);
      return this._index[k];
    },
    /**
     * The vertex a pointer at (x, y) (data units, state k) reads out: the nearest valid vertex within
     * `radius`, else, anywhere on the mesh, the nearest vertex of the triangle under the pointer (a
     * stretched mesh has cells much larger than the radius). {index, dist2}; index -1 off the mesh.
     */
    vertexAt(k, x, y, radius) {
      return vertexNear(this.index(k), statePos(k), this.topo.tris, this.topo.placed[k], x, y, radius);
    },
    /**
     * vertexAt for the mesh as drawn at a layer position (layerSpan): between two states the positions
     * are interpolated and a vertex counts if it is valid in both (as the mesh is drawn); the index is
     * built once per position.
     */
    vertexAtSpan(span, x, y, radius) {
      if (span.f === 0) return this.vertexAt(span.k0, x, y, radius);
      let c = this._spanIndex;
      if (!c || c.t !== span.t) {
        const pos = Float32Array.from(this.mesh.at(span.t));
        const v0 = this.topo.placed[span.k0], v1 = this.topo.placed[span.k1], valid = new Uint8Array(V);
        for (let i = 0; i < V; i++) valid[i] = v0[i] && v1[i] ? 1 : 0;
        c = this._spanIndex = { t: span.t, pos, valid, index: new GridIndex(pos, valid) };
      }
      return vertexNear(c.index, c.pos, this.topo.tris, c.valid, x, y, radius);
    },
    _spanIndex: null,
    statePos,
  };
  for (let i = 0; i < 256; i++) {
    const b = scene.lutBytes;
    scene.lutCss.push(`rgb(${b[4 * i]},${b[4 * i + 1]},${b[4 * i + 2]})`);
  }
  return scene;
}

/** The nearest valid vertex within `radius` (a GridIndex of `pos`), else the nearest corner of the triangle under (x, y). */
function vertexNear(index, pos, tris, valid, x, y, radius) {
  const hit = index.nearest(x, y, radius);
  return hit.index >= 0 ? hit : vertexInTriangle(pos, tris, valid, x, y);
}

/** A copy (into `out`) with every non-finite value replaced by 1e30: a point there is clipped, even mixed with a finite one. */
export function offscreen(a, out = new Float32Array(a.length)) {
  for (let i = 0; i < a.length; i++) out[i] = Number.isFinite(a[i]) ? a[i] : 1e30;
  return out;
}

function allFinite(a) {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

function finiteRange(a) {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (Number.isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
  }
  if (!Number.isFinite(lo)) return [-1, 1];
  return hi > lo ? [lo, hi] : [lo - 1, hi + 1];
}

/** Padded bounding box of finite positions in several interleaved arrays. */
export function dataBounds(...arrays) {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const a of arrays) {
    for (let i = 0; i + 1 < a.length; i += 2) {
      const x = a[i], y = a[i + 1];
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y;
    }
  }
  if (!(x1 >= x0)) return [-3, 3, -3, 3];
  const px = 0.05 * (x1 - x0 || 1), py = 0.05 * (y1 - y0 || 1);
  return [x0 - px, x1 + px, y0 - py, y1 + py];
}

/** The banner text for meta.status, or "" when all is well. */
export function statusText(meta) {
  if (!meta || !meta.status || meta.status === "ok") return "";
  const layers = meta.layers || [];
  let text;
  if (meta.status === "non-finite") {
    const bad = layers.map((l, i) => [i + 1, l.nonfinite | 0]).filter(([, n]) => n > 0);
    text = bad.length
      ? `non-finite: ${bad.map(([k, n]) => `layer ${k}, ${n} point${n === 1 ? "" : "s"}`).join("; ")}`
      : "non-finite values";
  } else if (meta.status === "not invertible") {
    const bad = layers.map((l, i) => [i + 1, l]).filter(([, l]) => l.invertible === false);
    text = bad.length ? `not invertible: ${bad.map(([k, l]) => `layer ${k} (${l.name || "?"})`).join(", ")}` : "not invertible";
  } else {
    text = String(meta.status);
  }
  return meta.message ? `${text} \u2014 ${meta.message}` : text;
}
