import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FluxmutError, ExitCode } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';
import { Tape, Tensor } from '../src/nn/tensor.js';
import { MLP, loadParametersFromSafetensors, parametersToSafetensors } from '../src/nn/layers.js';
import {
  encodeSafetensors,
  decodeSafetensors,
  loadSafetensors,
  saveSafetensors,
  sha256Bytes,
  sha256File,
  type SafeTensor,
} from '../src/nn/safetensors.js';
import { randomMatrix } from './nn-helpers.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fluxmut-st-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function bytesOf(t: SafeTensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/** A mix of dtypes and awkward values: NaN payloads, -0, ±Inf, subnormals, a scalar, an empty tensor. */
function sampleTensors(): Record<string, SafeTensor> {
  const f32bits = Uint32Array.of(0x7fc00001, 0xffbadbad, 0x80000000, 0x7f800000, 0xff800000, 0x00000001, 0x3f800000, 0xc0490fdb);
  const f64 = Float64Array.of(Math.PI, -0, Number.MIN_VALUE, 1e308);
  new DataView(f64.buffer).setBigUint64(8 * 3, 0x7ff8_0000_dead_beefn, true); // NaN with a payload
  return {
    'enc.0.weight': { dtype: 'F32', shape: [2, 4], data: new Float32Array(f32bits.buffer) },
    'f64': { dtype: 'F64', shape: [4], data: f64 },
    'bytes': { dtype: 'U8', shape: [3], data: Uint8Array.of(1, 2, 255) },
    'ints': { dtype: 'I32', shape: [1, 3], data: Int32Array.of(-1, 0, 2147483647) },
    'longs': { dtype: 'I64', shape: [2], data: BigInt64Array.of(-9007199254740993n, 1n) },
    'half': { dtype: 'BF16', shape: [2], data: Uint16Array.of(0x3f80, 0xffff) },
    'scalar': { dtype: 'F32', shape: [], data: Float32Array.of(2.5) },
    'empty': { dtype: 'F32', shape: [0, 3], data: new Float32Array(0) },
  };
}

describe('safetensors round trip', () => {
  it('is bit-exact for every dtype, NaN payloads and negative zero included', () => {
    const tensors = sampleTensors();
    const path = join(dir, 'rt.safetensors');
    saveSafetensors(path, tensors, { format: 'pt', fluxmut: 'test' });
    const back = loadSafetensors(path);
    expect(back.metadata).toEqual({ format: 'pt', fluxmut: 'test' });
    expect(Object.keys(back.tensors).sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) {
      const b = back.tensors[name];
      expect(b.dtype).toBe(t.dtype);
      expect(b.shape).toEqual(t.shape);
      expect(b.data.constructor).toBe(t.data.constructor);
      expect(bytesOf(b)).toEqual(bytesOf(t));
    }
    // in-memory variants give the same bytes as the file
    expect(encodeSafetensors(tensors, { format: 'pt', fluxmut: 'test' })).toEqual(new Uint8Array(readFileSync(path)));
  });

  it('writes exactly the published layout (parsed here independently)', () => {
    const tensors = sampleTensors();
    const bytes = encodeSafetensors(tensors, { note: 'x' });
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = Number(view.getBigUint64(0, true));
    expect(n % 8).toBe(0); // padded so the data starts 8-byte aligned
    const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8'));
    expect(header.__metadata__).toEqual({ note: 'x' });
    const dataStart = 8 + n;
    const spans: [number, number][] = [];
    for (const [name, t] of Object.entries(tensors)) {
      const h = header[name];
      expect(h.dtype).toBe(t.dtype);
      expect(h.shape).toEqual(t.shape);
      const [begin, end] = h.data_offsets as [number, number];
      expect(end - begin).toBe(t.data.byteLength);
      spans.push([begin, end]);
      // raw little-endian bytes, element by element
      const raw = bytes.subarray(dataStart + begin, dataStart + end);
      const rv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      for (let i = 0; i < t.data.length; i++) {
        const v = t.data[i];
        switch (t.dtype) {
          case 'F32': expect(rv.getUint32(4 * i, true)).toBe(new DataView(t.data.buffer).getUint32(4 * i, true)); break;
          case 'F64': expect(rv.getBigUint64(8 * i, true)).toBe(new DataView(t.data.buffer).getBigUint64(8 * i, true)); break;
          case 'U8': expect(rv.getUint8(i)).toBe(v); break;
          case 'I32': expect(rv.getInt32(4 * i, true)).toBe(v); break;
          case 'I64': expect(rv.getBigInt64(8 * i, true)).toBe(v); break;
          case 'BF16': expect(rv.getUint16(2 * i, true)).toBe(v); break;
          default: throw new Error(`untested dtype ${t.dtype}`);
        }
      }
      // each tensor starts at a multiple of its element size (readers may map it directly)
      expect(begin % t.data.BYTES_PER_ELEMENT).toBe(0);
    }
    // offsets tile the data section: no gaps, no overlaps, nothing left over
    spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let cursor = 0;
    for (const [b, e] of spans) {
      expect(b).toBe(cursor);
      cursor = e;
    }
    expect(dataStart + cursor).toBe(bytes.length);
  });

  it('reads files from other writers: unpadded header, tensors in any order', () => {
    // Built by hand: "b" is stored first, "a" second, header not padded, no metadata.
    const header = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},"b":{"dtype":"I32","shape":[2,1],"data_offsets":[0,8]}}';
    const hb = Buffer.from(header, 'utf8');
    const buf = Buffer.alloc(8 + hb.length + 16);
    buf.writeBigUInt64LE(BigInt(hb.length), 0);
    hb.copy(buf, 8);
    buf.writeInt32LE(7, 8 + hb.length);
    buf.writeInt32LE(-3, 8 + hb.length + 4);
    buf.writeFloatLE(1.5, 8 + hb.length + 8);
    buf.writeFloatLE(-0.25, 8 + hb.length + 12);
    const { tensors, metadata } = decodeSafetensors(buf);
    expect(metadata).toEqual({});
    expect(Array.from(tensors.a.data as Float32Array)).toEqual([1.5, -0.25]);
    expect(Array.from(tensors.b.data as Int32Array)).toEqual([7, -3]);
    expect(tensors.b.shape).toEqual([2, 1]);
  });

  it('model parameters survive save and load into a freshly built model', () => {
    const a = new MLP([3, 6, 2], new Rng(1), { name: 'dec' });
    const b = new MLP([3, 6, 2], new Rng(2), { name: 'dec' });
    const path = join(dir, 'dec.safetensors');
    saveSafetensors(path, parametersToSafetensors(a.parameters()));
    loadParametersFromSafetensors(b.parameters(), loadSafetensors(path).tensors, path);
    const x = new Tensor(randomMatrix(new Rng(3), 4, 3));
    const tape = new Tape({ record: false });
    expect(b.forward(tape, x).value.data).toEqual(a.forward(tape, x).value.data);

    const wider = new MLP([3, 7, 2], new Rng(2), { name: 'dec' });
    expectBadModel(() => loadParametersFromSafetensors(wider.parameters(), loadSafetensors(path).tensors, path), /dec\.0\.weight' has shape \[3, 6\], expected \[3, 7\]/);
    const poisoned = parametersToSafetensors(a.parameters());
    poisoned['dec.1.bias'].data[1] = NaN;
    expectBadModel(() => loadParametersFromSafetensors(b.parameters(), poisoned, 'dec.safetensors'), /tensor 'dec\.1\.bias' holds a non-finite weight at element 1/);
    const extra = { ...parametersToSafetensors(a.parameters()), 'dec.9.weight': { dtype: 'F32' as const, shape: [1, 1], data: Float32Array.of(0) } };
    expectBadModel(() => loadParametersFromSafetensors(b.parameters(), extra, 'dec.safetensors'), /unexpected tensor 'dec\.9\.weight'/);
    const renamed = new MLP([3, 6, 2], new Rng(2), { name: 'enc' });
    expectBadModel(() => loadParametersFromSafetensors(renamed.parameters(), loadSafetensors(path).tensors, path), /missing tensor 'enc\.0\.weight'/);
  });
});

function expectBadModel(f: () => unknown, message: RegExp, code: number = ExitCode.BadModel): void {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(FluxmutError);
    expect((e as FluxmutError).exitCode).toBe(code);
    expect((e as FluxmutError).message).toMatch(message);
    return;
  }
  expect.fail('expected a FluxmutError');
}

describe('safetensors corruption is reported with the file and the fault', () => {
  const good = encodeSafetensors({ w: { dtype: 'F32', shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) }, b: { dtype: 'F32', shape: [2], data: Float32Array.of(5, 6) } });
  const n = Number(new DataView(good.buffer).getBigUint64(0, true));

  /** Writes `bytes` to a file and expects loading it to fail naming the file and `message`. */
  function expectCorrupt(name: string, bytes: Uint8Array, message: RegExp): void {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    expectBadModel(() => loadSafetensors(path), new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*${message.source}`));
  }

  /** The good file with its header replaced by `json` (length field updated). */
  function withHeader(json: string): Uint8Array {
    const hb = Buffer.from(json, 'utf8');
    const data = good.subarray(8 + n);
    const out = new Uint8Array(8 + hb.length + data.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
    out.set(hb, 8);
    out.set(data, 8 + hb.length);
    return out;
  }

  it('truncated before the header length', () => expectCorrupt('t1.safetensors', good.subarray(0, 5), /truncated: 5 bytes/));
  it('header length beyond the file', () => expectCorrupt('t2.safetensors', good.subarray(0, 8 + n - 3), /header length \d+ is beyond the end of the file/));
  it('truncated in the data', () => expectCorrupt('t3.safetensors', good.subarray(0, good.length - 4), /run past the end of the data section/));
  it('trailing bytes', () => expectCorrupt('t4.safetensors', Uint8Array.from([...good, 0, 0, 0, 0]), /4 bytes after the last tensor/));
  it('invalid JSON', () => {
    const bytes = good.slice();
    bytes[8 + 3] = 0x7b; // '{' inside a key
    bytes[8 + 1] = 0x2c; // ','
    expectCorrupt('t5.safetensors', bytes, /header is not valid UTF-8 JSON/);
  });
  it('a header that is not an object', () => expectCorrupt('t6.safetensors', withHeader('[1, 2, 3]'), /not an object/));
  it('unknown dtype', () =>
    expectCorrupt('t7.safetensors', withHeader('{"w":{"dtype":"F31","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}}'), /tensor 'w' has unknown dtype "F31"/));
  it('shape does not match the offsets', () =>
    expectCorrupt('t8.safetensors', withHeader('{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}}'), /tensor 'w' \(F32 \[2, 3\]\) needs 24 bytes but data_offsets \[0, 16\] span 16/));
  it('overlapping offsets', () =>
    expectCorrupt('t9.safetensors', withHeader('{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},"c":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}}'), /overlap tensor/));
  it('a gap between tensors', () =>
    expectCorrupt('t10.safetensors', withHeader('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}}'), /gap of 8 unused bytes before tensor 'b'/));
  it('out-of-range and malformed offsets', () => {
    expectCorrupt('t11.safetensors', withHeader('{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[16,32]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'), /tensor 'w' data_offsets \[16, 32\] run past the end/);
    expectCorrupt('t12.safetensors', withHeader('{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[16,0]}}'), /invalid data_offsets \[16,0\]/);
    expectCorrupt('t13.safetensors', withHeader('{"w":{"dtype":"F32","shape":[-2,2],"data_offsets":[0,16]}}'), /invalid shape \[-2,2\]/);
  });
  it('metadata that is not a string map', () =>
    expectCorrupt('t14.safetensors', withHeader('{"__metadata__":{"epochs":3},"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}}'), /metadata entry 'epochs' is 3, not a string/));
  it('a missing file and an unwritable path', () => {
    expectBadModel(() => loadSafetensors(join(dir, 'nope.safetensors')), /nope\.safetensors: cannot read/, ExitCode.NoInput);
    expectBadModel(() => saveSafetensors(join(dir, 'no-dir', 'x.safetensors'), {}), /no-dir\/x\.safetensors: cannot write/, ExitCode.CantCreate);
  });
});

describe('checksums', () => {
  it('sha256 of bytes and of a file match the FIPS 180-2 test vector for "abc"', () => {
    const abc = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
    expect(sha256Bytes(new TextEncoder().encode('abc'))).toBe(abc);
    const path = join(dir, 'abc.txt');
    writeFileSync(path, 'abc');
    expect(sha256File(path)).toBe(abc);
  });
});
