import { readFileSync, writeFileSync, renameSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { FluxmutError, ExitCode } from '../core/errors.js';

/**
 * safetensors weight files (the format of Hugging Face's `safetensors` package, readable from
 * PyTorch, JAX, NumPy):
 *   bytes 0..8      N, the header length, unsigned 64-bit little-endian
 *   bytes 8..8+N    UTF-8 JSON: { name: { dtype, shape, data_offsets: [begin, end] }, ...,
 *                   "__metadata__"?: { string: string } }, which may be padded with spaces
 *   bytes 8+N..     the tensors' raw little-endian bytes; offsets are relative to this point and
 *                   must tile it exactly, without gaps or overlaps.
 */
export type SafetensorsDtype =
  | 'BOOL' | 'U8' | 'I8' | 'F8_E5M2' | 'F8_E4M3' | 'I16' | 'U16' | 'F16' | 'BF16'
  | 'I32' | 'U32' | 'F32' | 'F64' | 'I64' | 'U64';

export type TypedArray =
  | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array
  | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

export interface SafeTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  /** Row-major elements. 16- and 8-bit floats (F16, BF16, F8_*) and BOOL are raw bits/bytes. */
  data: TypedArray;
}

export interface SafetensorsContent {
  tensors: Record<string, SafeTensor>;
  metadata: Record<string, string>;
}

type ArrayCtor = { new (buffer: ArrayBuffer): TypedArray; readonly BYTES_PER_ELEMENT: number; readonly name: string };

const DTYPES: Record<SafetensorsDtype, ArrayCtor> = {
  BOOL: Uint8Array,
  U8: Uint8Array,
  I8: Int8Array,
  F8_E5M2: Uint8Array,
  F8_E4M3: Uint8Array,
  I16: Int16Array,
  U16: Uint16Array,
  F16: Uint16Array,
  BF16: Uint16Array,
  I32: Int32Array,
  U32: Uint32Array,
  F32: Float32Array,
  F64: Float64Array,
  I64: BigInt64Array,
  U64: BigUint64Array,
};

/** The reference implementation refuses headers above 100 MB; so do we (a corrupt length). */
const MAX_HEADER = 100_000_000;
const METADATA_KEY = '__metadata__';
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function isDtype(s: unknown): s is SafetensorsDtype {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPES, s);
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Reverses the bytes of each element in place (only used on big-endian hosts). */
function swapBytes(bytes: Uint8Array, width: number): void {
  if (width === 1) return;
  for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
}

function rawBytes(data: TypedArray): Uint8Array {
  const copy = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  if (!LITTLE_ENDIAN) swapBytes(copy, data.BYTES_PER_ELEMENT);
  return copy;
}

/** Serialises tensors and optional string metadata to safetensors bytes. */
export function encodeSafetensors(tensors: Record<string, SafeTensor>, metadata?: Record<string, string>): Uint8Array {
  const entries = Object.entries(tensors);
  for (const [name, t] of entries) {
    if (name === METADATA_KEY) throw new RangeError(`encodeSafetensors: '${METADATA_KEY}' is reserved and cannot name a tensor`);
    if (!isDtype(t.dtype)) throw new RangeError(`encodeSafetensors: tensor '${name}' has unknown dtype ${String(t.dtype)}`);
    const ctor = DTYPES[t.dtype];
    if (!(t.data instanceof ctor)) {
      throw new TypeError(`encodeSafetensors: tensor '${name}' has dtype ${t.dtype}, which needs a ${ctor.name}, got ${t.data.constructor.name}`);
    }
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new RangeError(`encodeSafetensors: tensor '${name}' has invalid shape [${t.shape.join(', ')}]`);
    }
    if (elementCount(t.shape) !== t.data.length) {
      throw new RangeError(`encodeSafetensors: tensor '${name}' has shape [${t.shape.join(', ')}] but ${t.data.length} elements`);
    }
  }
  for (const [k, v] of Object.entries(metadata ?? {})) {
    if (typeof v !== 'string') throw new TypeError(`encodeSafetensors: metadata '${k}' must be a string, got ${typeof v}`);
  }
  // Widest elements first (then by name), as the reference writer does, so every tensor starts at
  // a multiple of its element size and readers can map the file without copying.
  entries.sort(([na, a], [nb, b]) => DTYPES[b.dtype].BYTES_PER_ELEMENT - DTYPES[a.dtype].BYTES_PER_ELEMENT || (na < nb ? -1 : na > nb ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata !== undefined && Object.keys(metadata).length > 0) header[METADATA_KEY] = metadata;
  let offset = 0;
  for (const [name, t] of entries) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  let headerBytes = new TextEncoder().encode(json);
  // Pad with spaces so the data section starts 8-byte aligned (allowed by the format).
  const pad = (8 - (headerBytes.length % 8)) % 8;
  if (pad > 0) {
    json += ' '.repeat(pad);
    headerBytes = new TextEncoder().encode(json);
  }
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const [, t] of entries) {
    out.set(rawBytes(t.data), pos);
    pos += t.data.byteLength;
  }
  return out;
}

function bad(source: string, what: string): FluxmutError {
  return new FluxmutError(`${source}: not a valid safetensors file: ${what}. The weight file is corrupt or incomplete; re-save or re-train the model.`, ExitCode.BadModel);
}

/**
 * Parses safetensors bytes, checking the whole layout; `source` (a file name) is named in every
 * error. Tensor data is copied into fresh, aligned typed arrays.
 */
export function decodeSafetensors(bytes: Uint8Array, source = '<buffer>'): SafetensorsContent {
  if (bytes.length < 8) throw bad(source, `file is truncated: ${bytes.length} bytes, shorter than the 8-byte header length`);
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(bytes.length - 8)) {
    throw bad(source, `header length ${n64} is beyond the end of the file (${bytes.length - 8} bytes after the length field; truncated?)`);
  }
  const n = Number(n64);
  if (n > MAX_HEADER) throw bad(source, `header length ${n} exceeds the ${MAX_HEADER}-byte limit`);
  let header: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
    header = JSON.parse(text);
  } catch (e) {
    throw bad(source, `header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw bad(source, 'header JSON is not an object');
  }
  const data = bytes.subarray(8 + n);
  const metadata: Record<string, string> = {};
  const spans: { name: string; begin: number; end: number; dtype: SafetensorsDtype; shape: number[] }[] = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      if (typeof info !== 'object' || info === null || Array.isArray(info)) throw bad(source, `"${METADATA_KEY}" must be an object of strings`);
      for (const [k, v] of Object.entries(info)) {
        if (typeof v !== 'string') throw bad(source, `metadata entry '${k}' is ${JSON.stringify(v)}, not a string`);
        metadata[k] = v;
      }
      continue;
    }
    if (typeof info !== 'object' || info === null || Array.isArray(info)) throw bad(source, `entry for tensor '${name}' is not an object`);
    const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
    if (!isDtype(dtype)) throw bad(source, `tensor '${name}' has unknown dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw bad(source, `tensor '${name}' has invalid shape ${JSON.stringify(shape)} (expected a list of non-negative integers)`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((d) => Number.isSafeInteger(d) && d >= 0) || offsets[0] > offsets[1]) {
      throw bad(source, `tensor '${name}' has invalid data_offsets ${JSON.stringify(offsets)} (expected [begin, end] with 0 <= begin <= end)`);
    }
    const [begin, end] = offsets as [number, number];
    const expected = elementCount(shape as number[]) * DTYPES[dtype].BYTES_PER_ELEMENT;
    if (end - begin !== expected) {
      throw bad(source, `tensor '${name}' (${dtype} [${(shape as number[]).join(', ')}]) needs ${expected} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`);
    }
    if (end > data.length) {
      throw bad(source, `tensor '${name}' data_offsets [${begin}, ${end}] run past the end of the data section (${data.length} bytes; truncated?)`);
    }
    spans.push({ name, begin, end, dtype, shape: shape as number[] });
  }
  // The tensors must tile the data section exactly: sorted by begin, each starts where the
  // previous one ended, and the last ends at the end of the file.
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const s of spans) {
    if (s.begin < cursor) {
      const prev = spans[spans.indexOf(s) - 1];
      throw bad(source, `tensor '${s.name}' data_offsets [${s.begin}, ${s.end}] overlap tensor '${prev.name}' [${prev.begin}, ${prev.end}]`);
    }
    if (s.begin > cursor) throw bad(source, `gap of ${s.begin - cursor} unused bytes before tensor '${s.name}' (data_offsets [${s.begin}, ${s.end}])`);
    cursor = s.end;
  }
  if (cursor !== data.length) throw bad(source, `${data.length - cursor} bytes after the last tensor are not described by the header`);

  const tensors: Record<string, SafeTensor> = {};
  for (const s of spans) {
    const ctor = DTYPES[s.dtype];
    // A fresh buffer (not Buffer#slice, which is a view) so the typed array is aligned and owned.
    const copy = new Uint8Array(s.end - s.begin);
    copy.set(data.subarray(s.begin, s.end));
    if (!LITTLE_ENDIAN) swapBytes(copy, ctor.BYTES_PER_ELEMENT);
    tensors[s.name] = { dtype: s.dtype, shape: s.shape, data: new ctor(copy.buffer) };
  }
  return { tensors, metadata };
}

/**
 * Writes a safetensors file (through a temporary file and a rename, so a crash never leaves a
 * half-written weight file under the final name).
 */
export function saveSafetensors(path: string, tensors: Record<string, SafeTensor>, metadata?: Record<string, string>): void {
  const bytes = encodeSafetensors(tensors, metadata);
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new FluxmutError(`${path}: cannot write weight file (${(e as Error).message}); check that the directory exists and is writable`, ExitCode.CantCreate);
  }
}

/** Reads and validates a safetensors file (or bytes already in memory). */
export function loadSafetensors(source: string | Uint8Array): SafetensorsContent {
  if (typeof source !== 'string') return decodeSafetensors(source);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(source);
  } catch (e) {
    throw new FluxmutError(`${source}: cannot read weight file (${(e as Error).message})`, ExitCode.NoInput);
  }
  return decodeSafetensors(bytes, source);
}

/** Hex sha256 of bytes. */
export function sha256Bytes(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Hex sha256 of a file's bytes (recorded in model.json and verified on load). */
export function sha256File(path: string): string {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new FluxmutError(`${path}: cannot read file to checksum it (${(e as Error).message})`, ExitCode.NoInput);
  }
  return sha256Bytes(bytes);
}
