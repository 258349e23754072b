import { test } from "node:test";
import assert from "node:assert/strict";
import { buildTriangles, buildGridLines, signedAreas, flipFlags, MeshTopology, gridStep } from "../src/mesh.js";

function grid(gx, gy, f = (x, y) => [x, y]) {
  const pos = new Float32Array(gx * gy * 2);
  for (let r = 0; r < gy; r++) for (let c = 0; c < gx; c++) {
    const [x, y] = f(c / (gx - 1) * 2 - 1, r / (gy - 1) * 2 - 1);
    pos[2 * (r * gx + c)] = x; pos[2 * (r * gx + c) + 1] = y;
  }
  return pos;
}

test("two triangles per cell, positively oriented on the base grid", () => {
  const tris = buildTriangles(4, 3);
  assert.equal(tris.length, 2 * 3 * 2 * 3);
  assert.deepEqual(Array.from(tris.subarray(0, 6)), [0, 1, 5, 0, 5, 4]);
  const areas = signedAreas(grid(4, 3), tris);
  assert.ok(areas.every((a) => a > 0));
});

test("grid lines every m-th row and column plus the borders", () => {
  const seg = buildGridLines(5, 5, 2); // rows 0, 2, 4 and cols 0, 2, 4: 6 lines x 4 segments
  assert.equal(seg.length, 6 * 4 * 2);
  const seg2 = buildGridLines(6, 3, 2); // rows 0, 2; cols 0, 2, 4, 5
  assert.equal(seg2.length / 2, 2 * 5 + 4 * 2);
  assert.equal(gridStep(65, 65), 4);
});

test("fold detection: a reflection of the left half flips exactly those triangles", () => {
  const gx = 9, gy = 5;
  const tris = buildTriangles(gx, gy);
  const base = signedAreas(grid(gx, gy), tris);
  // x -> |x| folds the left half onto the right half
  const folded = signedAreas(grid(gx, gy, (x, y) => [Math.abs(x), y]), tris);
  const flips = flipFlags(base, folded);
  const V = gx * gy;
  for (let t = 0; t < tris.length / 3; t++) {
    const xs = [0, 1, 2].map((j) => (tris[3 * t + j] % gx) / (gx - 1) * 2 - 1);
    const left = xs.every((x) => x <= 0);
    assert.equal(flips[t], left ? 1 : 0, `triangle ${t}`);
  }
  // an orientation-preserving map flips nothing
  const rot = signedAreas(grid(gx, gy, (x, y) => [0.6 * x - 0.8 * y, 0.8 * x + 0.6 * y]), tris);
  assert.ok(flipFlags(base, rot).every((f) => f === 0));
  assert.equal(V, 45);
});

test("MeshTopology: per-state flips, validity and index lists", () => {
  const gx = 5, gy = 5, V = gx * gy;
  const s0 = grid(gx, gy), s1 = grid(gx, gy, (x, y) => [-x, y]); // a reflection: every triangle flips
  const mesh = new Float32Array(4 * V);
  mesh.set(s0, 0); mesh.set(s1, 2 * V);
  const logp = new Float32Array(2 * V);
  logp[V + 3] = NaN; // vertex 3 invalid in state 1
  const topo = new MeshTopology(gx, gy, mesh, logp, null);
  assert.deepEqual(topo.flipCount, [0, 32]);
  const i00 = topo.indices(0, 0, 0);
  assert.equal(i00.tris.length, 32 * 3);
  assert.equal(i00.folded.length, 0);
  const i01 = topo.indices(0, 1, 1);
  assert.equal(i01.tris.length, 0);
  const invalidTris = 3; // vertex 3 (row 0, col 3) touches 3 triangles
  assert.equal(i01.folded.length / 3, 32 - invalidTris);
  assert.ok(!Array.from(i01.folded).includes(3));
  assert.ok(!Array.from(i01.grid).includes(3));
  assert.equal(topo.indices(0, 1, 1), i01, "cached");
});

test("with Jacobians, a flip counts as a fold only where the cumulative det is not positive", () => {
  const gx = 5, gy = 5, V = gx * gy;
  const s0 = grid(gx, gy), s1 = grid(gx, gy, (x, y) => [-x, y]);
  const mesh = new Float32Array(4 * V);
  mesh.set(s0, 0); mesh.set(s1, 2 * V);
  const logp = new Float32Array(2 * V);
  const jacNeg = new Float32Array(4 * V);
  const jacPos = new Float32Array(4 * V);
  for (let v = 0; v < V; v++) { jacNeg.set([-1, 0, 0, 1], 4 * v); jacPos.set([1, 0, 0, 1], 4 * v); }
  assert.equal(new MeshTopology(gx, gy, mesh, logp, null, jacNeg).flipCount[1], 32);
  const topo = new MeshTopology(gx, gy, mesh, logp, null, jacPos);
  assert.equal(topo.flipCount[1], 0, "mesh artefact, not a fold");
  assert.equal(topo.rawFlipCount[1], 32);
});

test("Python's per-vertex fold flags decide folded triangles when given", async () => {
  const { MeshTopology } = await import("../src/mesh.js");
  // 3 x 2 grid (2 cells, 4 triangles), K = 1; state 1 mirrors x (an orientation-reversing but
  // invertible map): without flags every triangle would count as flipped by area alone
  const base = [0, 0, 1, 0, 2, 0, 0, 1, 1, 1, 2, 1];
  const mirrored = base.map((v, i) => (i % 2 === 0 ? -v : v));
  const mesh = Float32Array.from([...base, ...mirrored]);
  const logp = new Float32Array(12).fill(-1);
  const none = new Float32Array(12);
  const topo = new MeshTopology(3, 2, mesh, logp, null, null, none);
  assert.equal(topo.flipCount[1], 0);
  const flags = new Float32Array(12);
  flags[6 + 2] = 1; // vertex 2 (right column, bottom row) folded in state 1
  const topo2 = new MeshTopology(3, 2, mesh, logp, null, null, flags);
  // triangles (0,1,4) (0,4,3) (1,2,5) (1,5,4): a triangle is folded when any of its vertices is,
  // so vertex 2 folds one triangle and vertex 4 (top middle) three
  assert.deepEqual(Array.from(topo2.tris), [0, 1, 4, 0, 4, 3, 1, 2, 5, 1, 5, 4]);
  assert.equal(topo2.flipCount[1], 1);
  assert.equal(topo2.flipCount[0], 0);
  const flags4 = new Float32Array(12);
  flags4[6 + 4] = 1;
  assert.equal(new MeshTopology(3, 2, mesh, logp, null, null, flags4).flipCount[1], 3);
});

test("grid segments of over-drawn cells are lost whether or not those cells are folded too", () => {
  // 5 x 2 vertices (4 cells in a row), K = 1, positions unchanged: the left cell's corners get
  // log p_1 = log p_0 + 10 (|det J_cum| = e^-10), so both its triangles are over-drawn, and Python's fold flag
  // on vertex 0 folds them as well. Its outer segments are lost (as flowviz.plot's Topology.of hides them)
  // whether or not an unrelated cell (the right one) is over-drawn without a fold.
  const gx = 5, gy = 2, V = gx * gy;
  const base = [];
  for (let r = 0; r < gy; r++) for (let c = 0; c < gx; c++) base.push(c, r);
  for (const right of [false, true]) {
    const mesh = Float32Array.from([...base, ...base]);
    const logp = new Float32Array(2 * V).fill(-1);
    for (const v of [0, 1, 5, 6]) logp[V + v] = 9;
    if (right) for (const v of [3, 4, 8, 9]) logp[V + v] = 9;
    const folded = new Float32Array(2 * V);
    folded[V + 0] = 1;
    const topo = new MeshTopology(gx, gy, mesh, logp, null, null, folded, null);
    assert.deepEqual(Array.from(topo.stretched[1]).slice(0, 2), [1, 1], "the left cell is over-drawn");
    assert.ok(topo.flips[1][0] && topo.flips[1][1], "and folded");
    const idx = topo.indices(1, 1, 1), drawn = new Set();
    for (let s = 0; s < idx.grid.length; s += 2) drawn.add(`${idx.grid[s]}-${idx.grid[s + 1]}`);
    for (const seg of ["0-1", "5-6", "0-5"]) assert.ok(!drawn.has(seg), `segment ${seg} drawn (right cell over-drawn: ${right})`);
    assert.ok(drawn.has("1-2") && drawn.has("2-3"), "the other bottom segments stay");
  }
});

test("placed vertices without a density carry grid lines in the plain colour, never cells", async () => {
  const { MeshTopology } = await import("../src/mesh.js");
  // 3 x 2 grid; state 1 squashes it onto the line y = 2x (a singular linear map): positions finite,
  // log p = +inf there, so `finite` is 0 while `placed` is 1
  const base = [0, 0, 1, 0, 2, 0, 0, 1, 1, 1, 2, 1];
  const line = [];
  for (let v = 0; v < 6; v++) { const t = base[2 * v] + 2 * base[2 * v + 1]; line.push(t, 2 * t); }
  const mesh = Float32Array.from([...base, ...line]);
  const logp = new Float32Array(12).fill(-1);
  const finite = Float32Array.from([1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
  const placed = new Float32Array(12).fill(1);
  const topo = new MeshTopology(3, 2, mesh, logp, finite, null, null, placed);
  const at1 = topo.indices(1, 1, 1);
  assert.equal(at1.tris.length + at1.folded.length, 0, "no cells where there is no density");
  assert.equal(at1.grid.length, 0);
  assert.equal(at1.bare.length / 2, 7, "all 7 grid segments of a 3 x 2 grid, on the line");
  const at0 = topo.indices(0, 0, 0);
  assert.equal(at0.grid.length / 2, 7);
  assert.equal(at0.bare.length, 0);
  // without `placed` (FlowPlayer): grid segments need valid vertices, as before
  const plain = new MeshTopology(3, 2, mesh, logp, finite, null, null);
  assert.equal(plain.indices(1, 1, 1).grid.length + plain.indices(1, 1, 1).bare.length, 0);
});

test("over-drawn cells: a linear map flags none, a straight triangle cutting across a bend is flagged", async () => {
  const { stretchFlags, segmentsOnlyIn, STRETCH, MeshTopology, buildTriangles, buildGridLines, signedAreas } = await import("../src/mesh.js");
  const gx = 3, gy = 3, V = 9;
  const base = new Float32Array(2 * V);
  for (let r = 0; r < gy; r++) for (let c = 0; c < gx; c++) { base[2 * (r * gx + c)] = c; base[2 * (r * gx + c) + 1] = r; }
  const tris = buildTriangles(gx, gy);
  const a0 = signedAreas(base, tris);
  // a linear map with det 6: areas scale by 6 and so does |det J| = exp(logp0 - logp1): nothing flagged
  const lin = base.map((v, i) => (i % 2 ? 2 * v : 3 * v));
  const lp0 = new Float32Array(V).fill(-1), lp1 = new Float32Array(V).fill(-1 - Math.log(6));
  assert.deepEqual([...stretchFlags(a0, signedAreas(lin, tris), tris, lp0, lp1)], new Array(tris.length / 3).fill(0));
  // the same positions but a density that says the cells barely grew (|det J| = 1): areas 6x too large
  const flat = new Float32Array(V).fill(-1);
  const f = stretchFlags(a0, signedAreas(lin, tris), tris, lp0, flat);
  assert.ok(6 > STRETCH && f.every((x) => x === 1));
  // only vertex 4 (the centre) moved far out: the triangles around it are flagged, the others not
  const bent = base.slice(); bent[8] = 1; bent[9] = 30;
  const g = stretchFlags(a0, signedAreas(bent, tris), tris, lp0, lp0);
  const around = [...Array(tris.length / 3).keys()].filter((t) => [0, 1, 2].some((j) => tris[3 * t + j] === 4));
  for (let t = 0; t < g.length; t++) assert.equal(!!g[t], around.includes(t) && Math.abs(signedAreas(bent, tris)[t]) > STRETCH * Math.abs(a0[t]), `triangle ${t}`);
  // a grid segment is dropped only when every triangle along it is flagged
  const grid = buildGridLines(gx, gy);
  const all = segmentsOnlyIn(grid, gx, gy, new Uint8Array(tris.length / 3).fill(1));
  assert.ok(all.every((x) => x === 1));
  const none = segmentsOnlyIn(grid, gx, gy, new Uint8Array(tris.length / 3));
  assert.ok(none.every((x) => x === 0));
  // each segment's triangles found by index arithmetic are exactly the triangles holding both its ends
  for (let t = 0; t < tris.length / 3; t++) {
    const one = new Uint8Array(tris.length / 3);
    one[t] = 1;
    const got = segmentsOnlyIn(grid, gx, gy, one);
    for (let s = 0; s < got.length; s++) {
      const p = grid[2 * s], q = grid[2 * s + 1];
      const holders = [...Array(tris.length / 3).keys()].filter((u) => [0, 1, 2].some((i) => tris[3 * u + i] === p)
        && [0, 1, 2].some((i) => tris[3 * u + i] === q));
      assert.equal(got[s], holders.length === 1 && holders[0] === t ? 1 : 0, `segment ${p}-${q}, triangle ${t}`);
    }
  }
  // MeshTopology leaves flagged triangles out of the filled list, counts them, keeps the rest
  const mesh = new Float32Array([...base, ...lin]);
  const topo = new MeshTopology(gx, gy, mesh, new Float32Array([...lp0, ...flat]), null);
  assert.equal(topo.stretchCount[1], tris.length / 3);
  assert.equal(topo.indices(1, 1).tris.length, 0);
  assert.equal(topo.indices(0, 0).tris.length, tris.length);
  assert.equal(topo.indices(1, 1).grid.length, 0); // every segment only in flagged cells
});
