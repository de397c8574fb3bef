import type { Activation, Kernels } from './kernels.js';
import { ExitCode, FluxmutError } from './errors.js';
import { instantiate, wasmModule, type WasmMemory } from './wasm-module.js';
import { checkDims, checkLength } from './kernel-checks.js';

/**
 * The WebAssembly SIMD kernels (assembly/kernels.ts compiled to build/kernels.wasm). The module
 * works on its own linear memory, so every call copies its operands into a scratch region there,
 * runs, and copies the result back. The region is reused across calls and only grows.
 */

interface KernelExports {
  heapBase(): number;
  gemmWorkFloats(n: number): number;
  gemm(a: number, b: number, c: number, m: number, k: number, n: number, bias: number, accumulate: number, work: number): void;
  gemmTN(a: number, b: number, c: number, m: number, k: number, n: number, accumulate: number, work: number): void;
  gemmNT(a: number, b: number, c: number, m: number, k: number, n: number, accumulate: number, work: number): void;
  activate(kind: number, x: number, y: number, len: number): void;
  activateBackward(kind: number, x: number, y: number, dy: number, dx: number, len: number, accumulate: number): void;
  sumRows(x: number, m: number, n: number, out: number, accumulate: number): void;
  sumCols(x: number, m: number, n: number, out: number, accumulate: number): void;
}

const ACTIVATION_CODE: Record<Activation, number> = { relu: 0, tanh: 1, elu: 2, silu: 3, identity: 4 };
const PAGE = 65536;

function activationCode(kind: Activation): number {
  const code = ACTIVATION_CODE[kind];
  if (code === undefined) throw new FluxmutError(`unknown activation "${String(kind)}" (expected relu, tanh, elu, silu or identity)`, ExitCode.Internal);
  return code;
}

class WasmState {
  readonly exports: KernelExports;
  private readonly memory: WasmMemory;
  private readonly base: number;
  private heap: Float32Array;
  private cursor: number;

  constructor() {
    const module = wasmModule('kernels', 'kernels', 'set FLUXMUT_KERNELS=ts to use the slow TypeScript kernels');
    const { exports, memory } = instantiate<KernelExports>(module, 32);
    this.memory = memory;
    this.exports = exports;
    this.base = align(this.exports.heapBase());
    this.cursor = this.base;
    this.heap = new Float32Array(this.memory.buffer);
  }

  /** Starts a call: all regions reserved until the next reset() are disjoint. */
  reset(): void {
    this.cursor = this.base;
  }

  /**
   * Reserves `floats` values (plus 16 bytes of padding: the kernels read whole vectors at the
   * tail) and returns the byte address. Growing the memory detaches old views, so the float view
   * is rebuilt after growth; put/get always use the current one.
   */
  reserve(floats: number): number {
    const at = this.cursor;
    this.cursor = align(at + floats * 4 + 16);
    const have = this.memory.buffer.byteLength;
    if (this.cursor > have) {
      const pages = Math.ceil((this.cursor - have) / PAGE);
      // Grow geometrically so a slowly growing workload does not grow on every call.
      this.memory.grow(Math.max(pages, Math.ceil(have / PAGE / 2)));
      this.heap = new Float32Array(this.memory.buffer);
    }
    return at;
  }

  put(at: number, src: Float32Array, count: number): void {
    this.heap.set(count === src.length ? src : src.subarray(0, count), at >> 2);
  }

  get(at: number, dst: Float32Array, count: number): void {
    dst.set(this.heap.subarray(at >> 2, (at >> 2) + count));
  }
}

function align(bytes: number): number {
  return (bytes + 63) & ~63;
}

let state: WasmState | null = null;
function wasm(): WasmState {
  state ??= new WasmState();
  return state;
}

/** Loads the wasm module now (it is otherwise loaded on the first kernel call). */
export function loadWasm(): void {
  wasm();
}

function gemmLike(
  op: 'gemm' | 'gemmTN' | 'gemmNT',
  a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number,
  bias: Float32Array | undefined, accumulate: boolean,
): void {
  checkDims(op, { m, k, n });
  const aShape = op === 'gemmTN' ? `k x m = ${k} x ${m}` : `m x k = ${m} x ${k}`;
  const bShape = op === 'gemmNT' ? `n x k = ${n} x ${k}` : `k x n = ${k} x ${n}`;
  checkLength(op, 'a', a, m * k, aShape);
  checkLength(op, 'b', b, k * n, bShape);
  checkLength(op, 'c', c, m * n, `m x n = ${m} x ${n}`);
  if (bias) checkLength(op, 'bias', bias, n, `n = ${n}`);
  if (m === 0 || n === 0) return;
  const w = wasm();
  w.reset();
  const pa = w.reserve(m * k);
  const pb = w.reserve(k * n);
  const pc = w.reserve(m * n);
  const pbias = bias ? w.reserve(n) : 0;
  const work = w.reserve(w.exports.gemmWorkFloats(n));
  w.put(pa, a, m * k);
  w.put(pb, b, k * n);
  if (accumulate) w.put(pc, c, m * n);
  if (bias) w.put(pbias, bias, n);
  const acc = accumulate ? 1 : 0;
  if (op === 'gemm') w.exports.gemm(pa, pb, pc, m, k, n, pbias, acc, work);
  else if (op === 'gemmTN') w.exports.gemmTN(pa, pb, pc, m, k, n, acc, work);
  else w.exports.gemmNT(pa, pb, pc, m, k, n, acc, work);
  w.get(pc, c, m * n);
}

function sumLike(op: 'sumRows' | 'sumCols', x: Float32Array, m: number, n: number, out: Float32Array, accumulate: boolean): void {
  checkDims(op, { m, n });
  checkLength(op, 'x', x, m * n, `m x n = ${m} x ${n}`);
  const outLen = op === 'sumRows' ? n : m;
  checkLength(op, 'out', out, outLen, op === 'sumRows' ? `n = ${n}` : `m = ${m}`);
  if (outLen === 0) return;
  const w = wasm();
  w.reset();
  const px = w.reserve(m * n);
  const po = w.reserve(outLen);
  w.put(px, x, m * n);
  if (accumulate) w.put(po, out, outLen);
  w.exports[op](px, m, n, po, accumulate ? 1 : 0);
  w.get(po, out, outLen);
}

export const wasmKernels: Kernels = {
  name: 'wasm',
  gemm(a, b, c, m, k, n, bias, accumulate = false) {
    gemmLike('gemm', a, b, c, m, k, n, bias, accumulate);
  },
  gemmTN(a, b, c, m, k, n, accumulate = false) {
    gemmLike('gemmTN', a, b, c, m, k, n, undefined, accumulate);
  },
  gemmNT(a, b, c, m, k, n, accumulate = false) {
    gemmLike('gemmNT', a, b, c, m, k, n, undefined, accumulate);
  },
  activate(kind, x, y) {
    const code = activationCode(kind);
    const len = x.length;
    checkLength('activate', 'y', y, len, `x.length = ${len}`);
    if (len === 0) return;
    const w = wasm();
    w.reset();
    const px = w.reserve(len);
    const py = w.reserve(len);
    w.put(px, x, len);
    w.exports.activate(code, px, py, len);
    w.get(py, y, len);
  },
  activateBackward(kind, x, y, dy, dx, accumulate = false) {
    const code = activationCode(kind);
    const len = x.length;
    const shape = `x.length = ${len}`;
    checkLength('activateBackward', 'y', y, len, shape);
    checkLength('activateBackward', 'dy', dy, len, shape);
    checkLength('activateBackward', 'dx', dx, len, shape);
    if (len === 0) return;
    const w = wasm();
    w.reset();
    const px = w.reserve(len);
    const py = w.reserve(len);
    const pdy = w.reserve(len);
    const pdx = w.reserve(len);
    w.put(px, x, len);
    w.put(py, y, len);
    w.put(pdy, dy, len);
    if (accumulate) w.put(pdx, dx, len);
    w.exports.activateBackward(code, px, py, pdy, pdx, len, accumulate ? 1 : 0);
    w.get(pdx, dx, len);
  },
  sumRows(x, m, n, out, accumulate = false) {
    sumLike('sumRows', x, m, n, out, accumulate);
  },
  sumCols(x, m, n, out, accumulate = false) {
    sumLike('sumCols', x, m, n, out, accumulate);
  },
};
