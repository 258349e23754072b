// build.mjs: bundle each widget's front end into flowviz/static/ (ESM, one self-contained file each).
//   src/index.js         -> flowviz/static/widget.js   (FlowPlayer)
//   src/entries/NAME.js  -> flowviz/static/NAME.js      (one per lecture view)
// Run with `npm run build` (the Python build hook does `npm install && npm run build`).
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import { readdirSync, statSync, existsSync } from "node:fs";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const outdir = here("../flowviz/static");
const watch = process.argv.includes("--watch");
const entryPoints = { widget: here("src/index.js") };
if (existsSync(here("src/entries"))) {
  for (const f of readdirSync(here("src/entries"))) {
    if (f.endsWith(".js")) entryPoints[f.slice(0, -3)] = here(`src/entries/${f}`);
  }
}
const options = {
  entryPoints,
  outdir,
  bundle: true,
  format: "esm",
  target: "es2020",
  minify: !process.argv.includes("--dev"),
  sourcemap: false,
  legalComments: "none",
  define: { "define.amd": "false" },
  logLevel: "info",
};

if (watch) {
  const { context } = await import("esbuild");
  const ctx = await context(options);
  await ctx.watch();
} else {
  await build(options);
  for (const name of Object.keys(entryPoints)) {
    const file = `${outdir}/${name}.js`;
    console.log(`flowviz: wrote ${file} (${(statSync(file).size / 1024).toFixed(1)} kB)`);
  }
}
