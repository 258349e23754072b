import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeArray, decodeArrays, bytesToBase64, base64ToBytes, encodeArray } from "../src/wire.js";

const values = Float32Array.from([1.5, -2.25, 3, 1e-7, -0, 65504]);

test("DataView over an aligned buffer decodes without copying", () => {
  const dv = new DataView(values.buffer);
  const out = decodeArray({ dtype: "float32", shape: [3, 2], data: dv });
  assert.deepEqual(out.shape, [3, 2]);
  assert.ok(out.data instanceof Float32Array);
  assert.equal(out.data.buffer, values.buffer, "zero-copy: same buffer");
  assert.deepEqual(Array.from(out.data), Array.from(values));
});

test("ArrayBuffer and typed arrays decode", () => {
  const a = decodeArray({ dtype: "float32", shape: [6], data: values.buffer.slice(0) });
  assert.deepEqual(Array.from(a.data), Array.from(values));
  const bytes = new Uint8Array(values.buffer.slice(0));
  const b = decodeArray({ dtype: "float32", shape: [2, 3], data: bytes });
  assert.deepEqual(Array.from(b.data), Array.from(values));
  const c = decodeArray({ dtype: "float32", shape: [6], data: values });
  assert.equal(c.data, values, "same-typed array is used as is");
});

test("a misaligned DataView is copied and still correct", () => {
  const raw = new Uint8Array(values.byteLength + 3);
  raw.set(new Uint8Array(values.buffer), 3);
  const dv = new DataView(raw.buffer, 3, values.byteLength);
  const out = decodeArray({ dtype: "float32", shape: [6], data: dv });
  assert.notEqual(out.data.buffer, raw.buffer, "copied");
  assert.deepEqual(Array.from(out.data), Array.from(values));
});

test("an aligned view at a non-zero offset is not copied", () => {
  const big = new Float32Array(10);
  big.set(values, 2);
  const dv = new DataView(big.buffer, 8, values.byteLength);
  const out = decodeArray({ dtype: "float32", shape: [6], data: dv });
  assert.equal(out.data.buffer, big.buffer);
  assert.equal(out.data.byteOffset, 8);
  assert.deepEqual(Array.from(out.data), Array.from(values));
});

test("base64 strings decode (round trip through bytesToBase64)", () => {
  const b64 = bytesToBase64(values);
  assert.equal(typeof b64, "string");
  const out = decodeArray({ dtype: "float32", shape: [6], data: b64 });
  assert.deepEqual(Array.from(out.data), Array.from(values));
  assert.deepEqual(Array.from(base64ToBytes("AQID")), [1, 2, 3]);
  assert.deepEqual(Array.from(base64ToBytes("data:application/octet-stream;base64,AQID")), [1, 2, 3]);
});

test("uint8 and int32 dtypes", () => {
  const u = decodeArray({ dtype: "uint8", shape: [3], data: new DataView(Uint8Array.from([0, 1, 255]).buffer) });
  assert.ok(u.data instanceof Uint8Array);
  assert.deepEqual(Array.from(u.data), [0, 1, 255]);
  const i = decodeArray({ dtype: "int32", shape: [2], data: Int32Array.from([-7, 123456]).buffer });
  assert.ok(i.data instanceof Int32Array);
  assert.deepEqual(Array.from(i.data), [-7, 123456]);
});

test("shape and length mismatch is a clear error", () => {
  assert.throws(() => decodeArray({ dtype: "float32", shape: [4, 2], data: new DataView(values.buffer) }, "points"),
    /points.*4 x 2 = 8 float32 values \(32 bytes\) but data has 24 bytes/);
  assert.throws(() => decodeArray({ dtype: "float64", shape: [3], data: values }), /unsupported dtype "float64"/);
  assert.throws(() => decodeArray({ dtype: "float32", shape: [2.5], data: values }), /shape must be/);
  assert.throws(() => decodeArray({ dtype: "float32", shape: [6], data: 42 }), /data must be/);
  assert.throws(() => decodeArrays({ mesh: { dtype: "float32", shape: [7], data: values } }), /mesh/);
});

test("encodeArray produces the wire format", () => {
  const w = encodeArray(values, [3, 2]);
  assert.equal(w.dtype, "float32");
  assert.ok(w.data instanceof DataView);
  assert.deepEqual(Array.from(decodeArray(w).data), Array.from(values));
  const w64 = encodeArray(values, [3, 2], { base64: true });
  assert.deepEqual(Array.from(decodeArray(w64).data), Array.from(values));
});
