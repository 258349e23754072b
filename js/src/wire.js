// wire.js: decode the binary arrays of the wire format (see js/WIRE.md).
//
// An array crosses as {dtype, shape, data}. In a live kernel ipywidgets hands
// `data` over as a DataView; a static export may give an ArrayBuffer, a typed
// array or a base64 string. Row-major (C order), little-endian.

const TYPES = {
  float32: Float32Array,
  uint8: Uint8Array,
  int32: Int32Array,
};

/** Product of a shape; [] is a scalar (1 element). */
export function shapeSize(shape) {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Decode base64 (standard or URL-safe alphabet) into fresh, aligned bytes. */
export function base64ToBytes(text) {
  const clean = text.replace(/^data:[^,]*,/, "").replace(/\s+/g, "").replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(clean);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Encode bytes (any ArrayBufferView or ArrayBuffer) as base64; used by static exports. */
export function bytesToBase64(data) {
  const bytes = data instanceof ArrayBuffer
    ? new Uint8Array(data)
    : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(bin);
}

/** The raw bytes of `data` as {buffer, byteOffset, byteLength}, or a typed array of the target type. */
function toBytes(data, Type) {
  if (typeof data === "string") return { view: base64ToBytes(data) };
  if (data instanceof ArrayBuffer || (typeof SharedArrayBuffer !== "undefined" && data instanceof SharedArrayBuffer)) {
    return { view: new Uint8Array(data) };
  }
  if (data instanceof Type) return { typed: data };
  if (ArrayBuffer.isView(data)) return { view: data };
  if (Array.isArray(data)) return { typed: Type.from(data) };
  return null;
}

/**
 * Decode one wire array.
 * @param {{dtype: string, shape: number[], data: DataView|ArrayBuffer|ArrayBufferView|string|number[]}} obj
 * @param {string} [name] used in error messages
 * @returns {{data: Float32Array|Uint8Array|Int32Array, shape: number[]}}
 * Zero-copy when the bytes are aligned for the element type, a copy otherwise.
 */
export function decodeArray(obj, name = "array") {
  if (!obj || typeof obj !== "object") throw new Error(`decodeArray(${name}): expected {dtype, shape, data}, got ${obj}`);
  const { dtype, shape } = obj;
  const Type = TYPES[dtype];
  if (!Type) throw new Error(`decodeArray(${name}): unsupported dtype "${dtype}" (use float32, uint8 or int32)`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new Error(`decodeArray(${name}): shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  const count = shapeSize(shape);
  const src = toBytes(obj.data, Type);
  if (!src) throw new Error(`decodeArray(${name}): data must be a DataView, ArrayBuffer, typed array or base64 string`);
  const want = `${shape.join(" x ") || "scalar"} = ${count} ${dtype} values`;
  if (src.typed) {
    if (src.typed.length !== count) {
      throw new Error(`decodeArray(${name}): shape ${want} but data holds ${src.typed.length} values`);
    }
    return { data: src.typed, shape: shape.slice() };
  }
  const { buffer, byteOffset, byteLength } = src.view;
  const size = Type.BYTES_PER_ELEMENT;
  if (byteLength !== count * size) {
    throw new Error(`decodeArray(${name}): shape ${want} (${count * size} bytes) but data has ${byteLength} bytes`);
  }
  const data = byteOffset % size === 0
    ? new Type(buffer, byteOffset, count)
    : new Type(buffer.slice(byteOffset, byteOffset + byteLength));
  return { data, shape: shape.slice() };
}

/** Decode every array in an object of wire arrays: {name: {dtype, shape, data}} -> {name: {data, shape}}. */
export function decodeArrays(obj) {
  const out = {};
  for (const [name, value] of Object.entries(obj || {})) out[name] = decodeArray(value, name);
  return out;
}

/** Encode a typed array as a wire array (used by the dev fixture and static exports). */
export function encodeArray(typed, shape, { base64 = false } = {}) {
  const dtype = Object.keys(TYPES).find((k) => typed instanceof TYPES[k]);
  if (!dtype) throw new Error("encodeArray: unsupported typed array");
  const view = new DataView(typed.buffer, typed.byteOffset, typed.byteLength);
  return { dtype, shape: shape.slice(), data: base64 ? bytesToBase64(typed) : view };
}
