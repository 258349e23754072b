import { test } from "node:test";
import assert from "node:assert/strict";
import { isSoftwareRenderer, webglRendererName } from "../src/renderer-webgl.js";

test("software rasterisers are recognised from the WebGL renderer string", () => {
  for (const name of [
    "ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)",
    "llvmpipe (LLVM 15.0.6, 256 bits)",
    "Mesa softpipe",
    "ANGLE (Microsoft, Microsoft Basic Render Driver Direct3D11 vs_5_0 ps_5_0)",
    "Google SwiftShader",
  ]) assert.equal(isSoftwareRenderer(name), true, name);
  for (const name of [
    "ANGLE (NVIDIA, NVIDIA GeForce RTX 3080 Direct3D11 vs_5_0 ps_5_0, D3D11)",
    "Apple M2",
    "Mesa Intel(R) UHD Graphics 620 (KBL GT2)",
    "AMD Radeon Pro 5500M OpenGL Engine",
    "",
    undefined,
  ]) assert.equal(isSoftwareRenderer(name), false, String(name));
});

test("without a DOM the renderer probe answers the empty string instead of throwing", () => {
  assert.equal(webglRendererName(), "");
});
