// renderer-canvas2d.js: the same picture as renderer-webgl.js with Canvas2D, for
// browsers (or contexts) without WebGL2 and for tests. The density is rasterised in
// JS into an image at CSS-pixel resolution (values interpolated per pixel, then
// looked up in the table, as the WebGL shader does); lines and points are paths.

/**
 * Rasterise triangles with per-vertex values into RGBA pixels (Uint32, little-endian).
 * px: vertex positions in pixel units (x right, y down); lut32: 256 packed colours.
 */
export function rasterizeDensity(pixels, W, H, px, val, tris, lut32, lo, hi) {
  pixels.fill(0);
  const scale = hi > lo ? 255 / (hi - lo) : 0;
  const mid = scale ? -1 : 128;
  for (let o = 0; o < tris.length; o += 3) {
    const a = tris[o], b = tris[o + 1], c = tris[o + 2];
    const ax = px[2 * a], ay = px[2 * a + 1], bx = px[2 * b], by = px[2 * b + 1], cx = px[2 * c], cy = px[2 * c + 1];
    const area = (bx - ax) * (cy - ay) - (cx - ax) * (by - ay);
    if (!(area !== 0) || !Number.isFinite(area)) continue;
    const inv = 1 / area;
    const x0 = Math.max(0, Math.floor(Math.min(ax, bx, cx))), x1 = Math.min(W - 1, Math.ceil(Math.max(ax, bx, cx)));
    const y0 = Math.max(0, Math.floor(Math.min(ay, by, cy))), y1 = Math.min(H - 1, Math.ceil(Math.max(ay, by, cy)));
    const va = val[a], vb = val[b], vc = val[c];
    for (let y = y0; y <= y1; y++) {
      const py = y + 0.5;
      for (let x = x0; x <= x1; x++) {
        const qx = x + 0.5;
        const wa = ((bx - qx) * (cy - py) - (cx - qx) * (by - py)) * inv;
        if (wa < -1e-7) continue;
        const wb = ((cx - qx) * (ay - py) - (ax - qx) * (cy - py)) * inv;
        if (wb < -1e-7 || wa + wb > 1 + 1e-7) continue;
        let i = mid;
        if (i < 0) {
          i = ((va * wa + vb * wb + vc * (1 - wa - wb)) - lo) * scale + 0.5;
          i = i < 0 ? 0 : i > 255 ? 255 : i | 0;
        }
        pixels[y * W + x] = lut32[i];
      }
    }
  }
}

const css = (c, alpha = 1) => `rgba(${c[0]},${c[1]},${c[2]},${c[3] * alpha})`;

/** A Canvas2D renderer for `canvas` (same interface as createWebGLRenderer). */
export function createCanvasRenderer(canvas) {
  const ctx = canvas.getContext("2d");
  if (!ctx) return null;
  const lut32 = new Uint32Array(256);
  let scratch = new Float32Array(0), rpx = new Float32Array(0);
  let image = null, pixels = null;
  const raster = document.createElement("canvas");
  const rctx = raster.getContext("2d");
  let hatch = null, hatchKey = "";

  // The fold hatching, as the WebGL renderer's: stripes "\\" with a period of 6 * scale CSS pixels along x
  // and y. The tile is drawn in device pixels; the pattern undoes the context's dpr transform (without
  // DOMMatrix it is left scaled: coarser, still a hatch).
  function hatchPattern(color, dpr, scale = 1) {
    const key = `${color}|${dpr}|${scale}`;
    if (hatch && hatchKey === key) return hatch;
    const s = Math.max(4, Math.round(6 * dpr * scale));
    const tile = document.createElement("canvas");
    tile.width = tile.height = s;
    const t = tile.getContext("2d");
    t.strokeStyle = color;
    t.lineWidth = Math.max(1, s / 3);
    t.beginPath();
    t.moveTo(-1, -1); t.lineTo(s + 1, s + 1);
    t.moveTo(s - 1, -1); t.lineTo(s + 1, 1);
    t.moveTo(-1, s - 1); t.lineTo(1, s + 1);
    t.stroke();
    hatch = ctx.createPattern(tile, "repeat");
    if (typeof DOMMatrix === "function" && hatch?.setTransform) hatch.setTransform(new DOMMatrix().scale(1 / dpr));
    hatchKey = key;
    return hatch;
  }

  function trianglePath(idx, px) {
    ctx.beginPath();
    for (let t = 0; t < idx.length / 3; t++) {
      const a = 2 * idx[3 * t], b = 2 * idx[3 * t + 1], c = 2 * idx[3 * t + 2];
      ctx.moveTo(px[a], px[a + 1]); ctx.lineTo(px[b], px[b + 1]); ctx.lineTo(px[c], px[c + 1]); ctx.closePath();
    }
  }

  return {
    kind: "canvas2d",
    lost: false,

    setLut(bytes) {
      const v = new DataView(bytes.buffer, bytes.byteOffset, 1024);
      for (let i = 0; i < 256; i++) lut32[i] = v.getUint32(4 * i, true);
    },

    draw(f) {
      const { dpr, plot, view, style } = f;
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.save();
      ctx.beginPath();
      ctx.rect(plot.left, plot.top, plot.width, plot.height);
      ctx.clip();
      ctx.fillStyle = css(style.plotBg);
      ctx.fillRect(plot.left, plot.top, plot.width, plot.height);
      const sx = plot.width / (view.x1 - view.x0), sy = plot.height / (view.y1 - view.y0);
      const X = (x) => plot.left + (x - view.x0) * sx, Y = (y) => plot.top + (view.y1 - y) * sy;

      if (f.mesh) {
        const V = f.mesh.length / 2;
        if (scratch.length < 2 * V) scratch = new Float32Array(2 * V);
        const px = scratch;
        for (let v = 0; v < V; v++) { px[2 * v] = X(f.mesh[2 * v]); px[2 * v + 1] = Y(f.mesh[2 * v + 1]); }
        const { tris, folded, grid } = f.idx;
        if (f.show.density && tris.length) {
          const W = Math.max(1, Math.round(plot.width)), H = Math.max(1, Math.round(plot.height));
          if (!image || image.width !== W || image.height !== H) {
            raster.width = W; raster.height = H;
            image = rctx.createImageData(W, H);
            pixels = new Uint32Array(image.data.buffer);
          }
          if (rpx.length < 2 * V) rpx = new Float32Array(2 * V);
          for (let v = 0; v < 2 * V; v += 2) { rpx[v] = px[v] - plot.left; rpx[v + 1] = px[v + 1] - plot.top; }
          rasterizeDensity(pixels, W, H, rpx, f.values, tris, lut32, f.range[0], f.range[1]);
          rctx.putImageData(image, 0, 0);
          ctx.imageSmoothingEnabled = true;
          ctx.drawImage(raster, plot.left, plot.top, plot.width, plot.height);
        }
        if (folded.length) {
          trianglePath(folded, px);
          ctx.fillStyle = css(style.fold, f.show.density ? 0.35 : 0.18);
          ctx.fill();
          ctx.fillStyle = hatchPattern(css(style.fold, 0.8), dpr, style.scale || 1);
          ctx.fill();
        }
        const lines = (segs, color) => {
          if (!f.show.grid || !segs.length) return;
          ctx.beginPath();
          for (let s = 0; s < segs.length; s += 2) {
            const a = 2 * segs[s], b = 2 * segs[s + 1];
            ctx.moveTo(px[a], px[a + 1]); ctx.lineTo(px[b], px[b + 1]);
          }
          ctx.strokeStyle = css(color);
          ctx.lineWidth = 1 / dpr;
          ctx.stroke();
        };
        lines(grid, f.show.density ? style.gridOnDensity : style.grid);
        lines(f.idx.bare || [], style.grid); // placed vertices with no density under them: plain colour
      }

      if (f.points && f.show.points) {
        const n = f.points.length / 2;
        const ps = f.pointStyle || { scale: 1, alpha: 1, rim: 1 };
        const r = (style.pointSize * style.scale * ps.scale) / 2;
        const hasSel = f.selMask && f.selCount > 0;
        const fast = n > 20000; // many points: squares, no rim
        const drawSet = (want, radius, fill, dim) => {
          ctx.beginPath();
          for (let i = 0; i < n; i++) {
            const sel = hasSel && f.selMask[i] > 0;
            if (sel !== want) continue;
            const x = X(f.points[2 * i]), y = Y(f.points[2 * i + 1]);
            if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
            if (fast) { ctx.rect(x - radius, y - radius, 2 * radius, 2 * radius); continue; }
            ctx.moveTo(x + radius, y);
            ctx.arc(x, y, radius, 0, 2 * Math.PI);
          }
          ctx.fillStyle = css(fill, dim);
          ctx.fill();
          if (fast) return;
          ctx.strokeStyle = css(style.rim, dim * fill[3] * ps.rim);
          ctx.lineWidth = 0.8;
          ctx.stroke();
        };
        const base = f.show.density ? style.pointOnDensity : style.point;
        drawSet(false, r, [base[0], base[1], base[2], base[3] * ps.alpha], hasSel ? 0.35 : 1);
        if (hasSel) drawSet(true, r * 1.7, style.selected, 1);
      }
      ctx.restore();
    },

    destroy() {},
  };
}
