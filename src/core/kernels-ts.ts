import type { Activation, Kernels } from './kernels.js';

// Plain-TypeScript twins of the wasm kernels. They accumulate in float64 and round once,
// so parity tests compare the wasm results against a slightly more accurate reference.

function gemm(a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number, bias?: Float32Array, accumulate = false): void {
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
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = accumulate ? c[i * n + j] : 0;
      for (let p = 0; p < k; p++) s += a[p * m + i] * b[p * n + j];
      c[i * n + j] = s;
    }
  }
}

function gemmNT(a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number, accumulate = false): void {
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
  }
}

function activateBackward(kind: Activation, x: Float32Array, y: Float32Array, dy: Float32Array, dx: Float32Array, accumulate = false): void {
  const len = x.length;
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

function sumRows(x: Float32Array, m: number, n: number, out: Float32Array, accumulate = false): void {
  for (let j = 0; j < n; j++) {
    let s = accumulate ? out[j] : 0;
    for (let i = 0; i < m; i++) s += x[i * n + j];
    out[j] = s;
  }
}

function sumCols(x: Float32Array, m: number, n: number, out: Float32Array, accumulate = false): void {
  for (let i = 0; i < m; i++) {
    let s = accumulate ? out[i] : 0;
    for (let j = 0; j < n; j++) s += x[i * n + j];
    out[i] = s;
  }
}

export const tsKernels: Kernels = { name: 'ts', gemm, gemmTN, gemmNT, activate, activateBackward, sumRows, sumCols };
