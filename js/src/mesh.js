// mesh.js: topology of the base-space mesh and fold detection.
//
// The mesh has V = gx * gy vertices, vertex i = row * gx + col. Each grid cell is
// split into two triangles. A triangle whose signed area changed sign relative to
// the base mesh (state 0) has been folded over: the map is not invertible there.

/** Triangle vertex indices, two per cell: (v00, v10, v11) and (v00, v11, v01). */
export function buildTriangles(gx, gy) {
  const cells = Math.max(gx - 1, 0) * Math.max(gy - 1, 0);
  const out = new Uint32Array(cells * 6);
  let o = 0;
  for (let r = 0; r < gy - 1; r++) {
    for (let c = 0; c < gx - 1; c++) {
      const a = r * gx + c, b = a + 1, d = a + gx, e = d + 1;
      out[o++] = a; out[o++] = b; out[o++] = e;
      out[o++] = a; out[o++] = e; out[o++] = d;
    }
  }
  return out;
}

/** Grid-line stride so that about `target` lines are drawn each way. */
export function gridStep(gx, gy, target = 16) {
  return Math.max(1, Math.round((Math.max(gx, gy) - 1) / target));
}

/** Line segments (pairs of vertex indices) along every m-th row and column, borders included. */
export function buildGridLines(gx, gy, m = gridStep(gx, gy)) {
  const seg = [];
  const keep = (i, n) => i % m === 0 || i === n - 1;
  for (let r = 0; r < gy; r++) {
    if (!keep(r, gy)) continue;
    for (let c = 0; c < gx - 1; c++) seg.push(r * gx + c, r * gx + c + 1);
  }
  for (let c = 0; c < gx; c++) {
    if (!keep(c, gx)) continue;
    for (let r = 0; r < gy - 1; r++) seg.push(r * gx + c, (r + 1) * gx + c);
  }
  return Uint32Array.from(seg);
}

/** Twice the signed area of every triangle, from positions (x, y interleaved). */
export function signedAreas(pos, tris, out = new Float32Array(tris.length / 3)) {
  for (let t = 0, o = 0; o < tris.length; t++, o += 3) {
    const a = tris[o] * 2, b = tris[o + 1] * 2, c = tris[o + 2] * 2;
    out[t] = (pos[b] - pos[a]) * (pos[c + 1] - pos[a + 1]) - (pos[c] - pos[a]) * (pos[b + 1] - pos[a + 1]);
  }
  return out;
}

/** 1 where a triangle's orientation is opposite to its base orientation, else 0. */
export function flipFlags(baseAreas, areas, out = new Uint8Array(areas.length)) {
  for (let t = 0; t < areas.length; t++) out[t] = baseAreas[t] * areas[t] < 0 ? 1 : 0;
  return out;
}

/**
 * How far a cell is over-drawn: a triangle whose straight edges cover more than STRETCH times the area its
 * base cell really maps to. The image of a base triangle of area A0 has area integral |det J| ~ A0 times the
 * mean of |det J_cum| = exp(log pi(z) - log p_k) at its corners; where the map bends faster than the mesh
 * resolves, the straight triangle through the three mapped corners cuts across places the cell never
 * reaches (e.g. the gap between two moons) and would paint them with its corners' density. Such cells are
 * left unfilled (their grid lines stay); a finer grid resolves them.
 */
export const STRETCH = 4;

/** 1 for each triangle of state k (values: its log p per vertex) over-drawn by more than STRETCH, else 0. */
export function stretchFlags(baseAreas, areas, tris, logp0, logpk, out = new Uint8Array(areas.length)) {
  const det = new Float64Array(logp0.length); // |det J_cum| per vertex, once (not once per triangle corner)
  for (let v = 0; v < det.length; v++) det[v] = Math.exp(logp0[v] - logpk[v]);
  for (let t = 0, o = 0; t < areas.length; t++, o += 3) {
    const mean = (det[tris[o]] + det[tris[o + 1]] + det[tris[o + 2]]) / 3;
    out[t] = Math.abs(areas[t]) > STRETCH * Math.abs(baseAreas[t]) * mean ? 1 : 0; // NaN compares false: kept
  }
  return out;
}

/**
 * 1 for each grid segment (pairs of vertex indices along a row or a column of the gx x gy mesh) every one of
 * whose triangles (buildTriangles: cell (r, c) holds triangles 2(r(gx-1) + c) = (a, a+1, a+gx+1) and the next,
 * (a, a+gx+1, a+gx)) is flagged in `flags`: a line across a region none of its cells really reaches.
 */
export function segmentsOnlyIn(segments, gx, gy, flags, out = new Uint8Array(segments.length / 2)) {
  const W = gx - 1;
  for (let s = 0; s < out.length; s++) {
    const p = Math.min(segments[2 * s], segments[2 * s + 1]), q = Math.max(segments[2 * s], segments[2 * s + 1]);
    const r = (p / gx) | 0, c = p - r * gx;
    // the (up to two) triangles holding the segment; -1 where the mesh ends
    let t1, t2;
    if (q === p + 1) { // along a row: in the cell below it (first triangle) and above it (second)
      t1 = r < gy - 1 ? 2 * (r * W + c) : -1;
      t2 = r > 0 ? 2 * ((r - 1) * W + c) + 1 : -1;
    } else { // along a column: in the cell to its right (second triangle) and to its left (first)
      t1 = c < gx - 1 ? 2 * (r * W + c) + 1 : -1;
      t2 = c > 0 ? 2 * (r * W + c - 1) : -1;
    }
    out[s] = (t1 >= 0 || t2 >= 0) && (t1 < 0 || flags[t1]) && (t2 < 0 || flags[t2]) ? 1 : 0;
  }
  return out;
}

/** Vertex validity for a state: the `finite` flag (if given) and finite position and value. */
export function validVertices(pos, values, finite, out = new Uint8Array(pos.length / 2)) {
  for (let v = 0; v < out.length; v++) {
    const ok = (!finite || finite[v] !== 0) && Number.isFinite(pos[2 * v]) && Number.isFinite(pos[2 * v + 1])
      && (!values || Number.isFinite(values[v]));
    out[v] = ok ? 1 : 0;
  }
  return out;
}

/**
 * Per-state mesh topology with folds and validity, and the index lists to draw at
 * a layer position (cached per pair of neighbouring states).
 */
export class MeshTopology {
  /**
   * @param {number} gx columns
   * @param {number} gy rows
   * @param {Float32Array} mesh (K+1) * V * 2 positions
   * @param {Float32Array} logp (K+1) * V values
   * @param {Float32Array|null} finite (K+1) * V flags
   * @param {Float32Array|null} jac K * V * 4 Jacobians (layer k+1 at state k), to confirm folds
   * @param {Float32Array|null} placed (K+1) * V flags: 1 where the vertex's position is finite even if its
   *   density is not (JacobianLens: a singular map's image); grid segments use these, triangles `finite`
   * @param {Float32Array|null} folded (K+1) * V per-vertex fold flags computed by Python (preferred:
   *   a vertex is folded in state k when some layer j <= k reversed that layer's own orientation there)
   */
  constructor(gx, gy, mesh, logp, finite, jac = null, folded = null, placed = null) {
    this.gx = gx; this.gy = gy;
    const V = gx * gy;
    this.V = V;
    this.K = mesh.length / (2 * V) - 1;
    this.tris = buildTriangles(gx, gy);
    this.grid = buildGridLines(gx, gy);
    const T = this.tris.length / 3;
    this.T = T;
    this.valid = [];
    this.placed = []; // per state: vertices whose position can carry grid lines
    this.flips = [];
    this.flipCount = [];
    this.stretched = []; // per state: triangles over-drawn by more than STRETCH (stretchFlags): not filled
    this.stretchCount = [];
    this.lost = []; // per state: grid segments whose every triangle is stretched (not drawn)
    const base = signedAreas(mesh.subarray(0, 2 * V), this.tris);
    const sign = new Float64Array(V).fill(1); // sign of the cumulative det J at each vertex
    this.rawFlipCount = [];
    for (let k = 0; k <= this.K; k++) {
      const pos = mesh.subarray(k * 2 * V, (k + 1) * 2 * V);
      const valid = validVertices(pos, logp && logp.subarray(k * V, (k + 1) * V), finite && finite.subarray(k * V, (k + 1) * V));
      const areas = k === 0 ? base : signedAreas(pos, this.tris);
      const flips = folded ? new Uint8Array(T) : k === 0 ? new Uint8Array(T) : flipFlags(base, areas);
      const stretched = k === 0 || !logp ? new Uint8Array(T)
        : stretchFlags(base, areas, this.tris, logp.subarray(0, V), logp.subarray(k * V, (k + 1) * V));
      if (folded) {
        const fk = folded.subarray(k * V, (k + 1) * V), tr = this.tris;
        for (let t = 0; t < T; t++) flips[t] = fk[tr[3 * t]] || fk[tr[3 * t + 1]] || fk[tr[3 * t + 2]] ? 1 : 0;
      }
      let raw = 0;
      for (let t = 0; t < T; t++) raw += flips[t];
      this.rawFlipCount.push(raw);
      if (!folded && jac && k > 0) {
        const J = jac.subarray((k - 1) * V * 4, k * V * 4);
        for (let v = 0; v < V; v++) {
          const d = J[4 * v] * J[4 * v + 3] - J[4 * v + 1] * J[4 * v + 2];
          sign[v] = d > 0 ? sign[v] : d < 0 ? -sign[v] : 0;
          if (!Number.isFinite(d)) sign[v] = 0;
        }
        const tr = this.tris;
        for (let t = 0; t < T; t++) {
          if (flips[t] && sign[tr[3 * t]] > 0 && sign[tr[3 * t + 1]] > 0 && sign[tr[3 * t + 2]] > 0) flips[t] = 0;
        }
      }
      let n = 0;
      for (let t = 0; t < T; t++) n += flips[t];
      this.valid.push(valid);
      this.placed.push(placed ? validVertices(pos, null, placed.subarray(k * V, (k + 1) * V)) : valid);
      this.flips.push(flips);
      this.flipCount.push(n);
      let ns = 0, any = false;
      for (let t = 0; t < T; t++) { ns += stretched[t] && !flips[t] ? 1 : 0; any ||= !!stretched[t]; }
      this.stretched.push(stretched);
      this.stretchCount.push(ns);
      // folded triangles may be over-drawn too: their segments are lost as well (flowviz.plot's Topology.of)
      this.lost.push(any ? segmentsOnlyIn(this.grid, gx, gy, stretched) : new Uint8Array(this.grid.length / 2));
    }
    this.cache = new Map();
  }

  /**
   * Index lists for drawing between states k0 and k1, folds as in state kf:
   * {tris, folded, grid, bare}: triangles valid in both states (not folded / folded; a triangle over-drawn
   * in either state (stretchFlags) is in neither), grid segments over valid vertices, and grid segments whose
   * vertices are placed but carry no density (`placed`: drawn in the plain grid colour, since no density lies
   * under them).
   */
  indices(k0, k1, kf = k0) {
    const key = `${k0},${k1},${kf}`;
    let hit = this.cache.get(key);
    if (hit) return hit;
    const va = this.valid[k0], vb = this.valid[k1], flips = this.flips[kf];
    const sa = this.stretched[k0], sb = this.stretched[k1];
    const ok = (v) => va[v] && vb[v];
    const tri = [], folded = [], grid = [];
    const t3 = this.tris;
    for (let t = 0; t < this.T; t++) {
      const a = t3[3 * t], b = t3[3 * t + 1], c = t3[3 * t + 2];
      if (!(ok(a) && ok(b) && ok(c))) continue;
      if (flips[t]) folded.push(a, b, c);
      else if (!sa[t] && !sb[t]) tri.push(a, b, c);
    }
    const pa = this.placed[k0], pb = this.placed[k1];
    const at = (v) => pa[v] && pb[v];
    const g = this.grid, bare = [], la = this.lost[k0], lb = this.lost[k1];
    for (let s = 0; s < g.length; s += 2) {
      const a = g[s], b = g[s + 1];
      if (la[s / 2] || lb[s / 2]) continue;
      if (ok(a) && ok(b)) grid.push(a, b);
      else if (at(a) && at(b)) bare.push(a, b);
    }
    hit = { tris: Uint32Array.from(tri), folded: Uint32Array.from(folded), grid: Uint32Array.from(grid),
      bare: Uint32Array.from(bare) };
    this.cache.set(key, hit);
    return hit;
  }
}
