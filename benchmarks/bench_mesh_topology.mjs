// The browser's per-scene mesh work: MeshTopology (js/src/mesh.js) for a 65 x 65 mesh and 10 states, on a
// synthetic worst case where most cells of every state after the first are over-drawn (stretchFlags) and their
// grid lines dropped. Interleaved with another version of mesh.js when one is given, medians of warm runs and
// the first (cold, JIT) build of each.
//
//   node benchmarks/bench_mesh_topology.mjs
//   git show 69cd412^:js/src/mesh.js > /tmp/mesh_old.js && node benchmarks/bench_mesh_topology.mjs /tmp/mesh_old.js
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";

const here = new URL("../js/src/mesh.js", import.meta.url);
const versions = { current: await import(here.href) };
if (process.argv[2]) versions.other = await import(pathToFileURL(resolve(process.argv[2])).href);

const gx = 65, gy = 65, V = gx * gy, K = 9;
const mesh = new Float32Array((K + 1) * V * 2), logp = new Float32Array((K + 1) * V);
for (let k = 0; k <= K; k++) {
  for (let v = 0; v < V; v++) {
    const x = (v % gx) / 9 - 3.5, y = Math.floor(v / gx) / 9 - 3.5;
    const s = k === 0 ? 1 : 1 + 0.3 * Math.sin(3 * x * k);
    mesh[2 * (k * V + v)] = x * s;
    mesh[2 * (k * V + v) + 1] = y + 0.2 * k * Math.sin(5 * x);
    logp[k * V + v] = -0.5 * (x * x + y * y) - 1.8 + (k ? 0.5 : 0); // claims a shrink: many cells over-drawn
  }
}
const times = Object.fromEntries(Object.keys(versions).map((k) => [k, []]));
const cold = {};
for (let rep = 0; rep < 21; rep++) {
  for (const [name, mod] of Object.entries(versions)) {
    const t = performance.now();
    const topo = new mod.MeshTopology(gx, gy, mesh, logp, null);
    const dt = performance.now() - t;
    if (rep === 0) cold[name] = `${dt.toFixed(1)} ms${topo.stretchCount ? `, over-drawn cells per state ${topo.stretchCount.join(",")}` : ""}`;
    else times[name].push(dt);
  }
}
const median = (a) => a.slice().sort((p, q) => p - q)[a.length >> 1];
for (const name of Object.keys(versions)) {
  console.log(`${name}: MeshTopology 65x65, 10 states: median ${median(times[name]).toFixed(1)} ms warm (20 runs); first build ${cold[name]}`);
}
