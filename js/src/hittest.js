// hittest.js: which vertex is under the pointer, which points are inside a brush.
//
// Positions are interleaved (x, y) Float32Arrays. Non-finite positions are never hit.

/** Nearest valid position to (x, y) by scanning all of them: {index, dist2}; index -1 if none. */
export function nearestBrute(pos, x, y, valid = null) {
  let best = -1, bd = Infinity;
  const n = pos.length / 2;
  for (let i = 0; i < n; i++) {
    if (valid && !valid[i]) continue;
    const dx = pos[2 * i] - x, dy = pos[2 * i + 1] - y;
    const d = dx * dx + dy * dy;
    if (d < bd) { bd = d; best = i; }
  }
  return { index: best, dist2: bd };
}

/**
 * The first mesh triangle (vertex-index triples, mesh.js) with three valid vertices that contains (x, y),
 * and of its vertices the one nearest to (x, y): {triangle, index, dist2}; -1s and Infinity if none.
 * Degenerate (zero-area) triangles contain nothing.
 */
export function vertexInTriangle(pos, tris, valid, x, y) {
  for (let t = 0, o = 0; o < tris.length; t++, o += 3) {
    const a = tris[o], b = tris[o + 1], c = tris[o + 2];
    if (valid && !(valid[a] && valid[b] && valid[c])) continue;
    const ax = pos[2 * a], ay = pos[2 * a + 1], bx = pos[2 * b], by = pos[2 * b + 1], cx = pos[2 * c], cy = pos[2 * c + 1];
    if (x < Math.min(ax, bx, cx) || x > Math.max(ax, bx, cx) || y < Math.min(ay, by, cy) || y > Math.max(ay, by, cy)) continue;
    const area = (bx - ax) * (cy - ay) - (cx - ax) * (by - ay);
    if (!(Math.abs(area) > 0)) continue; // zero or NaN
    // the point is inside when it is on the same side of all three edges as the triangle's interior
    const s = Math.sign(area);
    if (s * ((bx - ax) * (y - ay) - (x - ax) * (by - ay)) < 0) continue;
    if (s * ((cx - bx) * (y - by) - (x - bx) * (cy - by)) < 0) continue;
    if (s * ((ax - cx) * (y - cy) - (x - cx) * (ay - cy)) < 0) continue;
    let index = -1, dist2 = Infinity;
    for (const v of [a, b, c]) {
      const d = (pos[2 * v] - x) ** 2 + (pos[2 * v + 1] - y) ** 2;
      if (d < dist2) { dist2 = d; index = v; }
    }
    return { triangle: t, index, dist2 };
  }
  return { triangle: -1, index: -1, dist2: Infinity };
}

/** A uniform grid of buckets over the positions of one state, built once, queried many times. */
export class GridIndex {
  constructor(pos, valid = null) {
    this.pos = pos;
    const n = pos.length / 2;
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity, m = 0;
    const ok = (i) => (!valid || valid[i]) && Number.isFinite(pos[2 * i]) && Number.isFinite(pos[2 * i + 1]);
    for (let i = 0; i < n; i++) {
      if (!ok(i)) continue;
      const x = pos[2 * i], y = pos[2 * i + 1];
      if (x < x0) x0 = x; if (x > x1) x1 = x;
      if (y < y0) y0 = y; if (y > y1) y1 = y;
      m++;
    }
    this.count = m;
    if (m === 0) return;
    const side = Math.max(1, Math.ceil(Math.sqrt(m / 2)));
    // a flat cloud (every point on a line: a map with det J = 0) is one row of cells, not 1e7 of them
    const span = Math.max(x1 - x0, y1 - y0, 1e-12);
    const w = Math.max(x1 - x0, 1e-3 * span), h = Math.max(y1 - y0, 1e-3 * span);
    // cells roughly square: split the longer side more often (never more cells on a side than points)
    this.nx = Math.min(m, Math.max(1, Math.round(side * Math.sqrt(w / h))));
    this.ny = Math.min(m, Math.max(1, Math.round(side * Math.sqrt(h / w))));
    this.x0 = x0; this.y0 = y0;
    this.cw = w / this.nx; this.ch = h / this.ny;
    const cells = this.nx * this.ny;
    const start = new Int32Array(cells + 1);
    const cellOf = new Int32Array(n).fill(-1);
    for (let i = 0; i < n; i++) {
      if (!ok(i)) continue;
      const c = this.cell(pos[2 * i], pos[2 * i + 1]);
      cellOf[i] = c;
      start[c + 1]++;
    }
    for (let c = 0; c < cells; c++) start[c + 1] += start[c];
    const fill = start.slice(0, cells);
    const items = new Int32Array(m);
    for (let i = 0; i < n; i++) if (cellOf[i] >= 0) items[fill[cellOf[i]]++] = i;
    this.start = start;
    this.items = items;
  }

  cx(x) { return Math.min(this.nx - 1, Math.max(0, Math.floor((x - this.x0) / this.cw))); }
  cy(y) { return Math.min(this.ny - 1, Math.max(0, Math.floor((y - this.y0) / this.ch))); }
  cell(x, y) { return this.cy(y) * this.nx + this.cx(x); }

  /** Nearest indexed position to (x, y) within maxDist: {index, dist2}; index -1 if none. */
  nearest(x, y, maxDist = Infinity) {
    let best = -1, bd = Infinity;
    if (!this.count || !Number.isFinite(x) || !Number.isFinite(y)) return { index: best, dist2: bd };
    const pos = this.pos, start = this.start, items = this.items;
    const qx = this.cx(x), qy = this.cy(y);
    const step = Math.min(this.cw, this.ch);
    const rmax = Math.max(this.nx, this.ny);
    const md2 = maxDist * maxDist;
    for (let r = 0; r <= rmax; r++) {
      // every cell at Chebyshev ring r is at least (r - 1) * step away
      const lb = Math.max(0, r - 1) * step;
      if (lb * lb > Math.min(bd, md2)) break;
      for (let j = qy - r; j <= qy + r; j++) {
        if (j < 0 || j >= this.ny) continue;
        const edge = j === qy - r || j === qy + r;
        for (let i = qx - r; i <= qx + r; i += edge ? 1 : 2 * r || 1) {
          if (i < 0 || i >= this.nx) continue;
          const c = j * this.nx + i;
          for (let s = start[c]; s < start[c + 1]; s++) {
            const p = items[s];
            const dx = pos[2 * p] - x, dy = pos[2 * p + 1] - y;
            const d = dx * dx + dy * dy;
            if (d < bd || (d === bd && p < best)) { bd = d; best = p; }
          }
        }
      }
    }
    if (bd > md2) return { index: -1, dist2: Infinity };
    return { index: best, dist2: bd };
  }
}

/** Indices of the points (x, y interleaved) inside the rectangle spanned by two corners. */
export function pointsInRect(pos, ax, ay, bx, by) {
  const x0 = Math.min(ax, bx), x1 = Math.max(ax, bx), y0 = Math.min(ay, by), y1 = Math.max(ay, by);
  const out = [];
  for (let i = 0; i < pos.length / 2; i++) {
    const x = pos[2 * i], y = pos[2 * i + 1];
    if (x >= x0 && x <= x1 && y >= y0 && y <= y1) out.push(i);
  }
  return out;
}

/** Even-odd rule: is (x, y) inside the polygon [[x, y], ...]? */
export function pointInPolygon(x, y, poly) {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i], [xj, yj] = poly[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Indices of the points inside a polygon (lasso), with a bounding-box test first. */
export function pointsInPolygon(pos, poly) {
  if (poly.length < 3) return [];
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const [x, y] of poly) {
    x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
  }
  const out = [];
  for (let i = 0; i < pos.length / 2; i++) {
    const x = pos[2 * i], y = pos[2 * i + 1];
    if (x < x0 || x > x1 || y < y0 || y > y1) continue;
    if (pointInPolygon(x, y, poly)) out.push(i);
  }
  return out;
}
