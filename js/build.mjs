// build.mjs: bundle js/src/index.js into flowviz/static/widget.js (ESM, one file).
// Run with `npm run build` (the Python build hook does `npm install && npm run build`).
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import { statSync } from "node:fs";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const outfile = here("../flowviz/static/widget.js");
const watch = process.argv.includes("--watch");
const options = {
  entryPoints: [here("src/index.js")],
  outfile,
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
  console.log(`flowviz: wrote ${outfile} (${(statSync(outfile).size / 1024).toFixed(1)} kB)`);
}
