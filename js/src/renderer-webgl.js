// renderer-webgl.js: WebGL2 drawing of one panel: density mesh, grid lines, points.
//
// The density is drawn per fragment: the interpolated log-density is a varying and
// the colour comes from the 256-entry table as a texture. Folded triangles (their
// orientation flipped relative to the base mesh) get a red tint with hatching.
// Every state of the points and the mesh is uploaded once per scene; a frame at layer position
// t = k0 + f points the attributes at states k0 and k1 and mixes them in the vertex shader, so
// playing and scrubbing upload nothing (at 100k points that was 0.8 MB and a JS loop per frame).
// Non-finite point coordinates arrive as 1e30 (scene.pointsGPU): off screen, mixed or not.

const VIEW_GLSL = `
uniform vec4 u_view; // x0, x1, y0, y1
vec4 toClip(vec2 p) {
  return vec4((p.x - u_view.x) / (u_view.y - u_view.x) * 2.0 - 1.0,
              (p.y - u_view.z) / (u_view.w - u_view.z) * 2.0 - 1.0, 0.0, 1.0);
}`;

// states k0 and k1 of a vertex, mixed by u_f (GLSL mix: a * (1 - f) + b * f, as interp.js)
const MESH_VS = `#version 300 es
in vec2 a_pos0; in vec2 a_pos1; in float a_val0; in float a_val1; out float v_val;
uniform float u_f;
${VIEW_GLSL}
void main() { v_val = mix(a_val0, a_val1, u_f); gl_Position = toClip(mix(a_pos0, a_pos1, u_f)); }`;

const MESH_FS = `#version 300 es
precision highp float;
in float v_val; out vec4 o;
uniform sampler2D u_lut; uniform vec2 u_range; uniform int u_mode; // 0 density, 1 folded density, 2 folded only
uniform vec4 u_fold; uniform float u_hatch;
void main() {
  float s = clamp((v_val - u_range.x) / max(u_range.y - u_range.x, 1e-30), 0.0, 1.0);
  vec3 c = texture(u_lut, vec2((s * 255.0 + 0.5) / 256.0, 0.5)).rgb;
  float a = 1.0;
  if (u_mode > 0) {
    bool stripe = mod(floor((gl_FragCoord.x + gl_FragCoord.y) / u_hatch), 2.0) < 1.0;
    if (u_mode == 1) c = mix(c, u_fold.rgb, stripe ? 0.75 : 0.35);
    else { c = u_fold.rgb; a = stripe ? 0.55 : 0.18; }
  }
  o = vec4(c * a, a);
}`;

const LINE_VS = `#version 300 es
in vec2 a_pos0; in vec2 a_pos1;
uniform float u_f;
${VIEW_GLSL}
void main() { gl_Position = toClip(mix(a_pos0, a_pos1, u_f)); }`;

const LINE_FS = `#version 300 es
precision mediump float;
uniform vec4 u_color; out vec4 o;
void main() { o = vec4(u_color.rgb * u_color.a, u_color.a); }`;

const POINT_VS = `#version 300 es
in vec2 a_pos0; in vec2 a_pos1; in float a_sel; out float v_sel;
uniform float u_f; uniform float u_size; uniform int u_pass; // 0: unselected, 1: selected
${VIEW_GLSL}
void main() {
  v_sel = a_sel;
  bool mine = (u_pass == 1) == (a_sel > 0.5);
  gl_Position = mine ? toClip(mix(a_pos0, a_pos1, u_f)) : vec4(2.0, 2.0, 2.0, 1.0);
  gl_PointSize = u_pass == 1 ? u_size * 1.7 : u_size;
}`;

const POINT_FS = `#version 300 es
precision mediump float;
in float v_sel; out vec4 o;
uniform vec4 u_color; uniform vec4 u_sel; uniform vec4 u_rim; uniform float u_rimw; uniform float u_dim;
void main() {
  float r = length(gl_PointCoord * 2.0 - 1.0);
  if (r > 1.0) discard;
  vec4 c = v_sel > 0.5 ? u_sel : vec4(u_color.rgb, u_color.a * u_dim);
  if (r > 1.0 - u_rimw) c = vec4(u_rim.rgb, u_rim.a * c.a);
  o = vec4(c.rgb * c.a, c.a);
}`;

function compile(gl, vs, fs) {
  const prog = gl.createProgram();
  for (const [type, src] of [[gl.VERTEX_SHADER, vs], [gl.FRAGMENT_SHADER, fs]]) {
    const sh = gl.createShader(type);
    gl.shaderSource(sh, src);
    gl.compileShader(sh);
    if (!gl.getShaderParameter(sh, gl.COMPILE_STATUS)) throw new Error(`flowviz shader: ${gl.getShaderInfoLog(sh)}`);
    gl.attachShader(prog, sh);
  }
  gl.linkProgram(prog);
  if (!gl.getProgramParameter(prog, gl.LINK_STATUS)) throw new Error(`flowviz program: ${gl.getProgramInfoLog(prog)}`);
  const loc = {};
  const nu = gl.getProgramParameter(prog, gl.ACTIVE_UNIFORMS);
  for (let i = 0; i < nu; i++) { const n = gl.getActiveUniform(prog, i).name; loc[n] = gl.getUniformLocation(prog, n); }
  const na = gl.getProgramParameter(prog, gl.ACTIVE_ATTRIBUTES);
  for (let i = 0; i < na; i++) { const n = gl.getActiveAttrib(prog, i).name; loc[n] = gl.getAttribLocation(prog, n); }
  return { prog, loc };
}

/** A GPU buffer that grows when needed and is otherwise updated in place. */
function dynBuffer(gl, target) {
  const buf = gl.createBuffer();
  let size = 0, last = null;
  return {
    buf,
    /** Upload `data`; with `once`, skip when the same array object was uploaded last time. */
    upload(data, once = false) {
      gl.bindBuffer(target, buf);
      if (once && data === last) return;
      last = data;
      if (data.byteLength > size) { gl.bufferData(target, data, gl.DYNAMIC_DRAW); size = data.byteLength; }
      else gl.bufferSubData(target, 0, data);
    },
    delete() { gl.deleteBuffer(buf); },
  };
}

const ONE_STATE = Object.freeze({ t: 0, k0: 0, k1: 0, f: 0 });
const rgba = (c) => [c[0] / 255, c[1] / 255, c[2] / 255, c[3]];

/** Is a WebGL renderer string a software rasteriser (SwiftShader, llvmpipe, WARP...)? */
export function isSoftwareRenderer(name) {
  return /swiftshader|llvmpipe|softpipe|software|basic render|warp/i.test(String(name || ""));
}

let probed = null;
/** The page's WebGL2 renderer string, probed once on a throwaway context ("" if unknown). */
export function webglRendererName() {
  if (probed !== null) return probed;
  probed = "";
  try {
    const g = document.createElement("canvas").getContext("webgl2");
    if (g) {
      const ext = g.getExtension("WEBGL_debug_renderer_info");
      probed = String((ext && g.getParameter(ext.UNMASKED_RENDERER_WEBGL)) || g.getParameter(g.RENDERER) || "");
      g.getExtension("WEBGL_lose_context")?.loseContext();
    }
  } catch { probed = ""; }
  return probed;
}

/**
 * A WebGL2 renderer for `canvas`, or null when WebGL2 is unavailable. Multisampling (antialias) is
 * on for a GPU and off for a software rasteriser, where it doubled the frame time (measured with
 * `python benchmarks/bench_widget.py --quick --antialias on|off`: scrub 73 -> 41 ms, 100k points 3.0 -> 10.3
 * frames/s under SwiftShader).
 * `antialias` (or the page global FLOWVIZ_ANTIALIAS, as bench_widget.py --antialias sets it) forces it.
 */
export function createWebGLRenderer(canvas, { onLost, antialias = globalThis.FLOWVIZ_ANTIALIAS } = {}) {
  const software = isSoftwareRenderer(webglRendererName());
  const aa = antialias === undefined ? !software : !!antialias;
  const gl = canvas.getContext("webgl2", { antialias: aa, premultipliedAlpha: true, alpha: true });
  if (!gl) return null;
  const mesh = compile(gl, MESH_VS, MESH_FS);
  const line = compile(gl, LINE_VS, LINE_FS);
  const point = compile(gl, POINT_VS, POINT_FS);
  const B = {
    pos: dynBuffer(gl, gl.ARRAY_BUFFER), val: dynBuffer(gl, gl.ARRAY_BUFFER),
    pts: dynBuffer(gl, gl.ARRAY_BUFFER), sel: dynBuffer(gl, gl.ARRAY_BUFFER),
    tris: dynBuffer(gl, gl.ELEMENT_ARRAY_BUFFER), folded: dynBuffer(gl, gl.ELEMENT_ARRAY_BUFFER),
    grid: dynBuffer(gl, gl.ELEMENT_ARRAY_BUFFER), bare: dynBuffer(gl, gl.ELEMENT_ARRAY_BUFFER),
  };
  const vao = gl.createVertexArray();
  const lut = gl.createTexture();
  let lost = false;
  const lostHandler = (e) => { e.preventDefault(); lost = true; onLost?.(); };
  canvas.addEventListener("webglcontextlost", lostHandler);

  function attrib(loc, buffer, size, type = gl.FLOAT, offset = 0) {
    if (loc === undefined || loc < 0) return;
    gl.bindBuffer(gl.ARRAY_BUFFER, buffer.buf);
    gl.enableVertexAttribArray(loc);
    gl.vertexAttribPointer(loc, size, type, false, 0, offset);
  }
  /** Attributes name0 / name1 at states k0 / k1 of a stacked array ({data, stride}) in `buffer`. */
  function states(prog, name, buffer, stack, size, span) {
    const bytes = stack.stride * 4;
    attrib(prog.loc[`${name}0`], buffer, size, gl.FLOAT, span.k0 * bytes);
    attrib(prog.loc[`${name}1`], buffer, size, gl.FLOAT, span.k1 * bytes);
  }

  function resetAttribs() {
    for (let i = 0; i < 6; i++) gl.disableVertexAttribArray(i);
  }

  return {
    kind: "webgl2", software, antialias: aa,
    /** draw() takes the stacked states (f.stacks, f.span) and interpolates on the GPU. */
    interpolates: true,
    get lost() { return lost; },

    /** The 256 x 3 colour table (RGBA bytes from colormap.lutToRGBA8). */
    setLut(bytes) {
      gl.bindTexture(gl.TEXTURE_2D, lut);
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, 256, 1, 0, gl.RGBA, gl.UNSIGNED_BYTE, bytes);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.LINEAR);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.LINEAR);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
    },

    /** Draw one frame (see player.js for the fields of `f`). */
    draw(f) {
      if (lost || gl.isContextLost()) return;
      const { dpr, plot, view, style } = f;
      const H = canvas.height;
      gl.bindVertexArray(vao);
      gl.disable(gl.SCISSOR_TEST);
      gl.viewport(0, 0, canvas.width, H);
      gl.clearColor(0, 0, 0, 0);
      gl.clear(gl.COLOR_BUFFER_BIT);
      const vx = Math.round(plot.left * dpr), vy = Math.round(H - (plot.top + plot.height) * dpr);
      const vw = Math.round(plot.width * dpr), vh = Math.round(plot.height * dpr);
      gl.enable(gl.SCISSOR_TEST);
      gl.scissor(vx, vy, vw, vh);
      gl.viewport(vx, vy, vw, vh);
      const bg = rgba(style.plotBg);
      gl.clearColor(bg[0] * bg[3], bg[1] * bg[3], bg[2] * bg[3], bg[3]);
      gl.clear(gl.COLOR_BUFFER_BIT);
      gl.enable(gl.BLEND);
      gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);
      const viewVec = [view.x0, view.x1, view.y0, view.y1];

      // f.stacks + f.span: all states, uploaded once per scene (the same array objects are not sent again);
      // else one state in f.mesh / f.values / f.points, uploaded every frame (its arrays may be reused)
      const stacked = !!f.stacks;
      const one = (a) => (a ? { data: a, stride: a.length } : null);
      const st = stacked ? f.stacks : { mesh: one(f.mesh), values: one(f.values), points: one(f.points) };
      const span = stacked ? f.span : ONE_STATE;
      if (st.mesh && (f.show.density || f.show.grid || f.idx.folded.length)) {
        B.pos.upload(st.mesh.data, stacked);
        B.val.upload(st.values.data, stacked);
      }
      if (st.mesh && (f.show.density || f.idx.folded.length)) {
        gl.useProgram(mesh.prog);
        resetAttribs();
        states(mesh, "a_pos", B.pos, st.mesh, 2, span);
        states(mesh, "a_val", B.val, st.values, 1, span);
        gl.uniform1f(mesh.loc.u_f, span.f);
        gl.uniform4fv(mesh.loc.u_view, viewVec);
        gl.uniform2f(mesh.loc.u_range, f.range[0], f.range[1]);
        gl.uniform4fv(mesh.loc.u_fold, rgba(style.fold));
        gl.uniform1f(mesh.loc.u_hatch, 3 * dpr * style.scale);
        gl.activeTexture(gl.TEXTURE0);
        gl.bindTexture(gl.TEXTURE_2D, lut);
        gl.uniform1i(mesh.loc.u_lut, 0);
        if (f.show.density && f.idx.tris.length) {
          gl.uniform1i(mesh.loc.u_mode, 0);
          B.tris.upload(f.idx.tris, true);
          gl.drawElements(gl.TRIANGLES, f.idx.tris.length, gl.UNSIGNED_INT, 0);
        }
        if (f.idx.folded.length) {
          gl.uniform1i(mesh.loc.u_mode, f.show.density ? 1 : 2);
          B.folded.upload(f.idx.folded, true);
          gl.drawElements(gl.TRIANGLES, f.idx.folded.length, gl.UNSIGNED_INT, 0);
        }
      }
      const lines = (idx, buffer, color) => {
        if (!idx || !idx.length) return;
        gl.useProgram(line.prog);
        resetAttribs();
        states(line, "a_pos", B.pos, st.mesh, 2, span);
        gl.uniform1f(line.loc.u_f, span.f);
        gl.uniform4fv(line.loc.u_view, viewVec);
        gl.uniform4fv(line.loc.u_color, rgba(color));
        buffer.upload(idx, true);
        gl.drawElements(gl.LINES, idx.length, gl.UNSIGNED_INT, 0);
      };
      if (st.mesh && f.show.grid) {
        lines(f.idx.grid, B.grid, f.show.density ? style.gridOnDensity : style.grid);
        lines(f.idx.bare, B.bare, style.grid); // placed vertices with no density under them: plain colour
      }
      if (st.points && f.show.points && st.points.stride) {
        const n = st.points.stride / 2;
        gl.useProgram(point.prog);
        resetAttribs();
        B.pts.upload(st.points.data, stacked);
        states(point, "a_pos", B.pts, st.points, 2, span);
        gl.uniform1f(point.loc.u_f, span.f);
        if (f.selMask) {
          B.sel.upload(f.selMask, true);
          attrib(point.loc.a_sel, B.sel, 1, gl.UNSIGNED_BYTE);
        } else if (point.loc.a_sel >= 0) {
          gl.disableVertexAttribArray(point.loc.a_sel);
          gl.vertexAttrib1f(point.loc.a_sel, 0);
        }
        gl.uniform4fv(point.loc.u_view, viewVec);
        const ps = f.pointStyle || { scale: 1, alpha: 1, rim: 1 };
        const size = style.pointSize * dpr * style.scale * ps.scale;
        const fill = f.show.density ? style.pointOnDensity : style.point;
        gl.uniform1f(point.loc.u_size, size);
        gl.uniform4fv(point.loc.u_color, rgba([fill[0], fill[1], fill[2], fill[3] * ps.alpha]));
        gl.uniform4fv(point.loc.u_sel, rgba(style.selected));
        gl.uniform4fv(point.loc.u_rim, rgba([style.rim[0], style.rim[1], style.rim[2], style.rim[3] * ps.rim]));
        gl.uniform1f(point.loc.u_rimw, Math.min(0.6, (0.9 * dpr) / Math.max(size / 2, 1)));
        gl.uniform1f(point.loc.u_dim, f.selMask && f.selCount ? 0.35 : 1);
        gl.uniform1i(point.loc.u_pass, 0);
        gl.drawArrays(gl.POINTS, 0, n);
        if (f.selMask && f.selCount) {
          gl.uniform1i(point.loc.u_pass, 1);
          gl.drawArrays(gl.POINTS, 0, n);
        }
      }
      gl.bindVertexArray(null);
    },

    destroy() {
      canvas.removeEventListener("webglcontextlost", lostHandler);
      if (gl.isContextLost()) return;
      Object.values(B).forEach((b) => b.delete());
      gl.deleteTexture(lut);
      gl.deleteVertexArray(vao);
      for (const p of [mesh, line, point]) gl.deleteProgram(p.prog);
      gl.getExtension("WEBGL_lose_context")?.loseContext();
    },
  };
}
