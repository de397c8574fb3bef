import type { Activation, Kernels } from './kernels.js';
import { checkDims, checkLength } from './kernel-checks.js';
import { ExitCode, FluxmutError } from './errors.js';

const ACTIVATIONS: readonly Activation[] = ['relu', 'tanh', 'elu', 'silu', 'identity'];

// Plain-TypeScript twins of the wasm kernels. They accumulate in float64 and round once,
// so parity tests compare the wasm results against a slightly more accurate reference.
// Both implementations run the same shape checks (kernel-checks.ts), so a short array fails
// loudly instead of reading undefined as NaN.

function checkGemm(op: string, a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number, aShape: string, bShape: string): void {
  checkDims(op, { m, k, n });
  checkLength(op, 'a', a, m * k, aShape);
  checkLength(op, 'b', b, k * n, bShape);
  checkLength(op, 'c', c, m * n, `m x n = ${m} x ${n}`);
}

function checkElementwise(op: string, len: number, arrays: Record<string, Float32Array>): void {
  for (const [name, arr] of Object.entries(arrays)) checkLength(op, name, arr, len, `x.length = ${len}`);
}

function gemm(a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number, bias?: Float32Array, accumulate = false): void {
  checkGemm('gemm', a, b, c, m, k, n, `m x k = ${m} x ${k}`, `k x n = ${k} x ${n}`);
  if (bias) checkLength('gemm', 'bias', bias, n, `n = ${n}`);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = accumulate ? c[i * n + j] : 0;
      if (bias) s += bias[j];
      for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
      c[i * n + j] = s;
    }
  }
}

function gemmTN(a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number, accumulate = false): void {
  checkGemm('gemmTN', a, b, c, m, k, n, `k x m = ${k} x ${m}`, `k x n = ${k} x ${n}`);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = accumulate ? c[i * n + j] : 0;
      for (let p = 0; p < k; p++) s += a[p * m + i] * b[p * n + j];
      c[i * n + j] = s;
    }
  }
}

function gemmNT(a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number, accumulate = false): void {
  checkGemm('gemmNT', a, b, c, m, k, n, `m x k = ${m} x ${k}`, `n x k = ${n} x ${k}`);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = accumulate ? c[i * n + j] : 0;
      for (let p = 0; p < k; p++) s += a[i * k + p] * b[j * k + p];
      c[i * n + j] = s;
    }
  }
}

function activate(kind: Activation, x: Float32Array, y: Float32Array): void {
  const len = x.length;
  checkElementwise('activate', len, { y });
  switch (kind) {
    case 'identity':
      for (let i = 0; i < len; i++) y[i] = x[i];
      return;
    case 'relu':
      for (let i = 0; i < len; i++) y[i] = x[i] > 0 ? x[i] : 0;
      return;
    case 'tanh':
      for (let i = 0; i < len; i++) y[i] = Math.tanh(x[i]);
      return;
    case 'elu':
      for (let i = 0; i < len; i++) y[i] = x[i] > 0 ? x[i] : Math.expm1(x[i]);
      return;
    case 'silu':
      for (let i = 0; i < len; i++) y[i] = x[i] / (1 + Math.exp(-x[i]));
      return;
    default:
      throw unknownActivation(kind);
  }
}

function activateBackward(kind: Activation, x: Float32Array, y: Float32Array, dy: Float32Array, dx: Float32Array, accumulate = false): void {
  const len = x.length;
  checkElementwise('activateBackward', len, { y, dy, dx });
  if (!ACTIVATIONS.includes(kind)) throw unknownActivation(kind);
  for (let i = 0; i < len; i++) {
    let d: number;
    switch (kind) {
      case 'identity': d = 1; break;
      case 'relu': d = x[i] > 0 ? 1 : 0; break;
      case 'tanh': d = 1 - y[i] * y[i]; break;
      case 'elu': d = x[i] > 0 ? 1 : y[i] + 1; break;
      case 'silu': {
        const s = 1 / (1 + Math.exp(-x[i]));
        d = s * (1 + x[i] * (1 - s));
        break;
      }
    }
    const g = d * dy[i];
    dx[i] = accumulate ? dx[i] + g : g;
  }
}

function unknownActivation(kind: string): FluxmutError {
  return new FluxmutError(`unknown activation "${kind}" (expected ${ACTIVATIONS.join(', ')})`, ExitCode.Internal);
}

function sumRows(x: Float32Array, m: number, n: number, out: Float32Array, accumulate = false): void {
  checkDims('sumRows', { m, n });
  checkLength('sumRows', 'x', x, m * n, `m x n = ${m} x ${n}`);
  checkLength('sumRows', 'out', out, n, `n = ${n}`);
  for (let j = 0; j < n; j++) {
    let s = accumulate ? out[j] : 0;
    for (let i = 0; i < m; i++) s += x[i * n + j];
    out[j] = s;
  }
}

function sumCols(x: Float32Array, m: number, n: number, out: Float32Array, accumulate = false): void {
  checkDims('sumCols', { m, n });
  checkLength('sumCols', 'x', x, m * n, `m x n = ${m} x ${n}`);
  checkLength('sumCols', 'out', out, m, `m = ${m}`);
  for (let i = 0; i < m; i++) {
    let s = accumulate ? out[i] : 0;
    for (let j = 0; j < n; j++) s += x[i * n + j];
    out[i] = s;
  }
}

export const tsKernels: Kernels = { name: 'ts', gemm, gemmTN, gemmNT, activate, activateBackward, sumRows, sumCols };
