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
    const base = signedAreas(mesh.subarray(0, 2 * V), this.tris);
    const sign = new Float64Array(V).fill(1); // sign of the cumulative det J at each vertex
    this.rawFlipCount = [];
    for (let k = 0; k <= this.K; k++) {
      const pos = mesh.subarray(k * 2 * V, (k + 1) * 2 * V);
      const valid = validVertices(pos, logp && logp.subarray(k * V, (k + 1) * V), finite && finite.subarray(k * V, (k + 1) * V));
      const flips = folded ? new Uint8Array(T) : k === 0 ? new Uint8Array(T) : flipFlags(base, signedAreas(pos, this.tris));
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
    }
    this.cache = new Map();
  }

  /**
   * Index lists for drawing between states k0 and k1, folds as in state kf:
   * {tris, folded, grid, bare}: triangles valid in both states (not folded / folded), grid segments over
   * valid vertices, and grid segments whose vertices are placed but carry no density (`placed`: drawn in the
   * plain grid colour, since no density lies under them).
   */
  indices(k0, k1, kf = k0) {
    const key = `${k0},${k1},${kf}`;
    let hit = this.cache.get(key);
    if (hit) return hit;
    const va = this.valid[k0], vb = this.valid[k1], flips = this.flips[kf];
    const ok = (v) => va[v] && vb[v];
    const tri = [], folded = [], grid = [];
    const t3 = this.tris;
    for (let t = 0; t < this.T; t++) {
      const a = t3[3 * t], b = t3[3 * t + 1], c = t3[3 * t + 2];
      if (!(ok(a) && ok(b) && ok(c))) continue;
      (flips[t] ? folded : tri).push(a, b, c);
    }
    const pa = this.placed[k0], pb = this.placed[k1];
    const at = (v) => pa[v] && pb[v];
    const g = this.grid, bare = [];
    for (let s = 0; s < g.length; s += 2) {
      const a = g[s], b = g[s + 1];
      if (ok(a) && ok(b)) grid.push(a, b);
      else if (at(a) && at(b)) bare.push(a, b);
    }
    hit = { tris: Uint32Array.from(tri), folded: Uint32Array.from(folded), grid: Uint32Array.from(grid),
      bare: Uint32Array.from(bare) };
    this.cache.set(key, hit);
    return hit;
  }
}
