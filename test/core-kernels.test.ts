import { describe, it, expect, vi } from 'vitest';
import { tsKernels } from '../src/core/kernels-ts.js';
import { wasmKernels } from '../src/core/wasm.js';
import type { Activation, Kernels } from '../src/core/kernels.js';
import { FluxmutError } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';

const U = 2 ** -24; // unit roundoff of float32
const ACTIVATIONS: Activation[] = ['relu', 'tanh', 'elu', 'silu', 'identity'];
// The wasm tanh/elu/silu are polynomial approximations; this is their stated accuracy (the largest
// error measured over 4M random float32 inputs with normal-range outputs was 2.2e-7).
const APPROX_REL = 5e-7;
// Below the smallest normal float32 the format itself has fewer significant bits.
const TINY = 2 ** -126;

function randn(rng: Rng, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  rng.fillNormal(a);
  for (let i = 0; i < n; i++) a[i] *= scale;
  return a;
}

function abs(a: Float32Array): Float32Array {
  return a.map(Math.abs);
}

type Gemm = 'gemm' | 'gemmTN' | 'gemmNT';

function callGemm(K: Kernels, op: Gemm, a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number, bias: Float32Array | undefined, acc: boolean): void {
  if (op === 'gemm') K.gemm(a, b, c, m, k, n, bias, acc);
  else K[op](a, b, c, m, k, n, acc);
}

/**
 * Float32 summation of k products in any order is within γ_k ≈ k·u of the exact sum, relative to
 * Σ|a_ip·b_pj| (Higham, Accuracy and Stability of Numerical Algorithms, §3.1); adding C and the
 * bias and the twin's own final rounding add a few u more. Bound: (k + 4)·u·(Σ|a||b| + |c0| + |bias|).
 */
function expectGemmParity(op: Gemm, m: number, k: number, n: number, withBias: boolean, acc: boolean, rng: Rng): void {
  const a = randn(rng, m * k);
  const b = randn(rng, k * n);
  const bias = withBias ? randn(rng, n) : undefined;
  const c0 = randn(rng, m * n);
  const cw = c0.slice(), ct = c0.slice();
  callGemm(wasmKernels, op, a, b, cw, m, k, n, bias, acc);
  callGemm(tsKernels, op, a, b, ct, m, k, n, bias, acc);
  const mag = new Float32Array(m * n);
  callGemm(tsKernels, op, abs(a), abs(b), mag, m, k, n, undefined, false);
  let worst = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const x = i * n + j;
      const scale = mag[x] + (acc ? Math.abs(c0[x]) : 0) + (bias ? Math.abs(bias[j]) : 0);
      const tol = (k + 4) * U * scale;
      const err = Math.abs(cw[x] - ct[x]);
      if (!(err <= tol)) throw new Error(`${op} ${m}x${k}x${n} bias=${withBias} acc=${acc}: C[${i},${j}] wasm ${cw[x]} vs ts ${ct[x]} (tol ${tol})`);
      worst = Math.max(worst, err / (tol || 1));
    }
  }
  expect(worst).toBeLessThanOrEqual(1);
}

describe('TS twin on hand-computed cases', () => {
  const A = Float32Array.of(1, 2, 3, 4); // [[1, 2], [3, 4]]
  const B = Float32Array.of(5, 6, 7, 8); // [[5, 6], [7, 8]]

  it('gemm, with bias and accumulate', () => {
    const c = new Float32Array(4);
    tsKernels.gemm(A, B, c, 2, 2, 2);
    expect(Array.from(c)).toEqual([19, 22, 43, 50]);
    tsKernels.gemm(A, B, c, 2, 2, 2, Float32Array.of(1, -1));
    expect(Array.from(c)).toEqual([20, 21, 44, 49]);
    tsKernels.gemm(A, B, c, 2, 2, 2, undefined, true);
    expect(Array.from(c)).toEqual([39, 43, 87, 99]);
    // Non-square: [1 2 3] · [[1, 0], [0, 1], [1, 1]] = [4 5].
    const row = new Float32Array(2);
    tsKernels.gemm(Float32Array.of(1, 2, 3), Float32Array.of(1, 0, 0, 1, 1, 1), row, 1, 3, 2);
    expect(Array.from(row)).toEqual([4, 5]);
  });

  it('gemmTN and gemmNT', () => {
    const c = new Float32Array(4);
    tsKernels.gemmTN(A, B, c, 2, 2, 2); // Aᵀ·B
    expect(Array.from(c)).toEqual([26, 30, 38, 44]);
    tsKernels.gemmNT(A, B, c, 2, 2, 2, true); // += A·Bᵀ
    expect(Array.from(c)).toEqual([26 + 17, 30 + 23, 38 + 39, 44 + 53]);
    // Aᵀ with A stored 3 x 1: outer product of the column with a row.
    const o = new Float32Array(2);
    tsKernels.gemmTN(Float32Array.of(1, 2, 3), Float32Array.of(1, 1, 2, 0, 0, 5), o, 1, 3, 2);
    expect(Array.from(o)).toEqual([1 + 4, 1 + 15]);
  });

  it('activations at known points', () => {
    const x = Float32Array.of(-1, 0.5, 2);
    const y = new Float32Array(3);
    const expected: Record<Activation, number[]> = {
      relu: [0, 0.5, 2],
      tanh: [-0.7615941559557649, 0.46211715726000974, 0.9640275800758169],
      elu: [Math.exp(-1) - 1, 0.5, 2],
      silu: [-1 / (1 + Math.E), 0.5 / (1 + Math.exp(-0.5)), 2 / (1 + Math.exp(-2))],
      identity: [-1, 0.5, 2],
    };
    for (const kind of ACTIVATIONS) {
      tsKernels.activate(kind, x, y);
      expected[kind].forEach((v, i) => expect(y[i]).toBeCloseTo(v, 6));
    }
  });

  it('activation derivatives match central finite differences of the float64 functions', () => {
    const f: Record<Activation, (v: number) => number> = {
      relu: (v) => Math.max(v, 0),
      tanh: Math.tanh,
      elu: (v) => (v > 0 ? v : Math.expm1(v)),
      silu: (v) => v / (1 + Math.exp(-v)),
      identity: (v) => v,
    };
    const x = Float32Array.of(-3.1, -0.7, 0.3, 1.9, 4.2);
    const dy = Float32Array.of(1, -2, 0.5, 3, -1);
    const h = 1e-5;
    for (const kind of ACTIVATIONS) {
      const y = new Float32Array(x.length);
      tsKernels.activate(kind, x, y);
      const dx = Float32Array.of(10, 10, 10, 10, 10);
      tsKernels.activateBackward(kind, x, y, dy, dx, true);
      for (let i = 0; i < x.length; i++) {
        const fd = (f[kind](x[i] + h) - f[kind](x[i] - h)) / (2 * h);
        expect(dx[i]).toBeCloseTo(10 + fd * dy[i], 4);
      }
    }
  });

  it('column and row sums', () => {
    const x = Float32Array.of(1, 2, 3, 4, 5, 6); // 2 x 3
    const cols = Float32Array.of(1, 1, 1);
    tsKernels.sumRows(x, 2, 3, cols, true);
    expect(Array.from(cols)).toEqual([6, 8, 10]);
    const rows = new Float32Array(2);
    tsKernels.sumCols(x, 2, 3, rows);
    expect(Array.from(rows)).toEqual([6, 15]);
  });
});

describe('wasm kernels against the TS twin', () => {
  // Shapes around the micro-tile (4 x 8), the f32x4 width and the k slice (256), and size-1 dims.
  const shapes: Array<[number, number, number]> = [
    [1, 1, 1], [1, 7, 1], [3, 1, 5], [4, 8, 8], [5, 3, 9], [7, 16, 17], [1, 33, 64], [64, 1, 3],
    [13, 31, 15], [9, 257, 33], [33, 64, 24], [6, 300, 1], [2, 513, 10], [100, 40, 70],
  ];

  it.each(['gemm', 'gemmTN', 'gemmNT'] as const)('%s on sizes that are not multiples of the tiles', (op) => {
    const rng = new Rng(1000 + op.length);
    for (const [m, k, n] of shapes) {
      for (const acc of [false, true]) {
        expectGemmParity(op, m, k, n, false, acc, rng);
        if (op === 'gemm') expectGemmParity(op, m, k, n, true, acc, rng);
      }
    }
  });

  it('gemm on a large case that grows the wasm memory, then a small one', () => {
    const rng = new Rng(7);
    expectGemmParity('gemm', 1500, 200, 30, true, false, rng);
    expectGemmParity('gemmTN', 40, 1500, 50, false, true, rng);
    expectGemmParity('gemmNT', 3, 5, 2, false, false, rng);
  });

  it('empty dimensions: k = 0 leaves C = [C +] bias, m = 0 or n = 0 does nothing', () => {
    for (const K of [wasmKernels, tsKernels]) {
      const c = Float32Array.of(1, 2, 3, 4, 5, 6);
      K.gemm(new Float32Array(0), new Float32Array(0), c, 2, 0, 3, Float32Array.of(10, 20, 30), true);
      expect(Array.from(c)).toEqual([11, 22, 33, 14, 25, 36]);
      K.gemm(new Float32Array(0), new Float32Array(0), c, 2, 0, 3, Float32Array.of(1, 2, 3));
      expect(Array.from(c)).toEqual([1, 2, 3, 1, 2, 3]);
      K.gemmTN(new Float32Array(0), new Float32Array(0), c, 2, 0, 3);
      expect(Array.from(c)).toEqual([0, 0, 0, 0, 0, 0]);
      const untouched = Float32Array.of(9);
      K.gemmNT(new Float32Array(0), new Float32Array(6), untouched, 0, 2, 3);
      expect(untouched[0]).toBe(9);
    }
  });

  function testInputs(rng: Rng, len: number): Float32Array {
    const x = randn(rng, len, 4);
    // Special points: signed zeros, tiny values (relative accuracy of expm1/tanh near 0),
    // saturation and the float32 under/overflow region of exp.
    const special = [0, -0, 1e-30, -1e-30, 1e-7, -1e-7, 0.01, -0.01, 9, -9, 20, -20, 88, -88, 100, -100, 1e4, -1e4];
    special.forEach((v, i) => { if (i < len) x[i] = v; });
    return x;
  }

  it.each(ACTIVATIONS)('activate %s', (kind) => {
    const rng = new Rng(31);
    for (const len of [1, 3, 4, 5, 18, 1001]) {
      const x = testInputs(rng, len);
      const yw = new Float32Array(len), yt = new Float32Array(len);
      wasmKernels.activate(kind, x, yw);
      tsKernels.activate(kind, x, yt);
      for (let i = 0; i < len; i++) {
        if (kind === 'relu' || kind === 'identity') {
          expect(yw[i]).toBe(yt[i]);
        } else {
          const tol = APPROX_REL * Math.abs(yt[i]) + TINY;
          if (!(Math.abs(yw[i] - yt[i]) <= tol)) throw new Error(`${kind}(${x[i]}): wasm ${yw[i]} vs ts ${yt[i]}`);
        }
      }
    }
  });

  // Magnitude of the terms that make up f'(x), for the rounding bound of the backward pass.
  function derivativeTerms(kind: Activation, x: number, y: number): number {
    switch (kind) {
      case 'relu': case 'identity': return 1;
      case 'tanh': return 1 + y * y;
      case 'elu': return x > 0 ? 1 : 1 + Math.abs(y);
      case 'silu': {
        const s = 1 / (1 + Math.exp(-x));
        return s * (1 + Math.abs(x) * (1 - s));
      }
    }
  }

  it.each(ACTIVATIONS)('activateBackward %s, overwrite and accumulate', (kind) => {
    const rng = new Rng(47);
    for (const len of [1, 3, 4, 7, 18, 1001]) {
      const x = testInputs(rng, len);
      const y = new Float32Array(len);
      tsKernels.activate(kind, x, y);
      const dy = randn(rng, len);
      const dx0 = randn(rng, len);
      for (const acc of [false, true]) {
        const dw = dx0.slice(), dt = dx0.slice();
        wasmKernels.activateBackward(kind, x, y, dy, dw, acc);
        tsKernels.activateBackward(kind, x, y, dy, dt, acc);
        for (let i = 0; i < len; i++) {
          // A few float32 roundings on each term, plus the exp approximation for silu.
          const terms = derivativeTerms(kind, x[i], y[i]) * Math.abs(dy[i]);
          const tol = 4 * U * (terms + (acc ? Math.abs(dx0[i]) : 0)) + (kind === 'silu' ? APPROX_REL * terms : 0) + TINY;
          if (!(Math.abs(dw[i] - dt[i]) <= tol)) throw new Error(`${kind}' at x=${x[i]} acc=${acc}: wasm ${dw[i]} vs ts ${dt[i]}`);
        }
      }
    }
  });

  it('tanh, elu and silu stay within APPROX_REL of float64 on a dense sweep', () => {
    const n = 100_000;
    const x = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) x[i] = -100 + (130 * i) / (n - 1); // silu stays normal down to about -87
    for (let i = 0; i < n; i++) x[n + i] = (i % 2 ? -1 : 1) * 10 ** (-12 + (12 * i) / n); // |x| from 1e-12 to 1
    const ref: Record<string, (v: number) => number> = {
      tanh: Math.tanh,
      elu: (v) => (v > 0 ? v : Math.expm1(v)),
      silu: (v) => v / (1 + Math.exp(-v)),
    };
    const y = new Float32Array(x.length);
    for (const kind of ['tanh', 'elu', 'silu'] as const) {
      wasmKernels.activate(kind, x, y);
      let worst = 0;
      for (let i = 0; i < x.length; i++) {
        const r = ref[kind](x[i]);
        if (Math.abs(r) >= TINY) worst = Math.max(worst, Math.abs(y[i] - r) / Math.abs(r));
      }
      expect(worst, kind).toBeLessThan(APPROX_REL);
    }
  });

  it('sumRows and sumCols (both accumulate in float64)', () => {
    const rng = new Rng(5);
    for (const [m, n] of [[1, 1], [1, 9], [7, 1], [5, 4], [33, 17], [1000, 13]]) {
      const x = randn(rng, m * n);
      const absRows = new Float32Array(n), absCols = new Float32Array(m);
      tsKernels.sumRows(abs(x), m, n, absRows);
      tsKernels.sumCols(abs(x), m, n, absCols);
      for (const acc of [false, true]) {
        const r0 = randn(rng, n), c0 = randn(rng, m);
        const rw = r0.slice(), rt = r0.slice(), cw = c0.slice(), ct = c0.slice();
        wasmKernels.sumRows(x, m, n, rw, acc);
        tsKernels.sumRows(x, m, n, rt, acc);
        wasmKernels.sumCols(x, m, n, cw, acc);
        tsKernels.sumCols(x, m, n, ct, acc);
        // Both round a float64 sum once; the float64 sums differ by at most m·2^-53·Σ|x|.
        for (let j = 0; j < n; j++) expect(Math.abs(rw[j] - rt[j])).toBeLessThanOrEqual(2 * U * (absRows[j] + (acc ? Math.abs(r0[j]) : 0)) + TINY);
        for (let i = 0; i < m; i++) expect(Math.abs(cw[i] - ct[i])).toBeLessThanOrEqual(2 * U * (absCols[i] + (acc ? Math.abs(c0[i]) : 0)) + TINY);
      }
    }
  });

  it('both implementations reject arrays shorter than the stated shape', () => {
    for (const K of [wasmKernels, tsKernels]) {
      const a = new Float32Array(6), b = new Float32Array(6), c = new Float32Array(4);
      expect(() => K.gemm(a, b, c, 2, 3, 2)).not.toThrow();
      expect(() => K.gemm(a, b, c, 2, 4, 2)).toThrow(FluxmutError);
      expect(() => K.gemm(a, b, c, 2, 3, 2, new Float32Array(1))).toThrow(/bias/);
      expect(() => K.gemmTN(a, b, new Float32Array(3), 2, 3, 2)).toThrow(/c has 3 values/);
      expect(() => K.gemmNT(a, b, c, 2.5, 3, 2)).toThrow(/m must be a non-negative integer/);
      expect(() => K.activate('tanh', a, new Float32Array(5))).toThrow(FluxmutError);
      expect(() => K.activateBackward('relu', a, a, a, new Float32Array(2))).toThrow(/dx/);
      expect(() => K.activate('gelu' as Activation, a, a)).toThrow(/unknown activation/);
      expect(() => K.sumRows(a, 3, 3, c)).toThrow(FluxmutError);
      expect(() => K.sumCols(a, 2, 3, new Float32Array(1))).toThrow(/out/);
    }
  });

  it('in-place activation (y === x) works like the twin', () => {
    const rng = new Rng(8);
    const x = randn(rng, 37);
    const w = x.slice(), t = x.slice();
    wasmKernels.activate('relu', w, w);
    tsKernels.activate('relu', t, t);
    expect(w).toEqual(t);
  });
});

describe('getKernels', () => {
  it('defaults to wasm and honours FLUXMUT_KERNELS=ts', async () => {
    const saved = process.env.FLUXMUT_KERNELS;
    try {
      delete process.env.FLUXMUT_KERNELS;
      vi.resetModules();
      expect((await import('../src/core/backend.js')).getKernels().name).toBe('wasm');
      process.env.FLUXMUT_KERNELS = 'ts';
      vi.resetModules();
      const backend = await import('../src/core/backend.js');
      expect(backend.getKernels().name).toBe('ts');
      process.env.FLUXMUT_KERNELS = 'wasm';
      expect(backend.getKernels().name).toBe('ts'); // read once
      process.env.FLUXMUT_KERNELS = 'gpu';
      vi.resetModules();
      const bad = await import('../src/core/backend.js');
      expect(() => bad.getKernels()).toThrow(/FLUXMUT_KERNELS/);
    } finally {
      if (saved === undefined) delete process.env.FLUXMUT_KERNELS;
      else process.env.FLUXMUT_KERNELS = saved;
      vi.resetModules();
    }
  });
});

describe('Matrix-level ops', () => {
  it('matmul dispatches the transpositions and checks shapes', async () => {
    const { Matrix } = await import('../src/core/matrix.js');
    const ops = await import('../src/core/ops.js');
    const A = Matrix.fromRows([[1, 2], [3, 4], [5, 6]]); // 3 x 2
    const B = Matrix.fromRows([[1, 0, 2], [0, 1, 3]]); // 2 x 3
    for (const kernels of [wasmKernels, tsKernels]) {
      expect(ops.matmul(A, B, { kernels, bias: Float32Array.of(1, 1, 1) }).toArray()).toEqual([[2, 3, 9], [4, 5, 19], [6, 7, 29]]);
      expect(ops.matmul(A, A, { kernels, transA: true }).toArray()).toEqual([[35, 44], [44, 56]]);
      const out = Matrix.fromRows([[1, 1, 1], [1, 1, 1], [1, 1, 1]]);
      ops.matmul(A, A, { kernels, transB: true, out, accumulate: true });
      expect(out.toArray()).toEqual([[6, 12, 18], [12, 26, 40], [18, 40, 62]]);
      expect(() => ops.matmul(A, A, { kernels })).toThrow(/inner dimensions differ/);
      expect(ops.columnSums(A, kernels)).toEqual(Float32Array.of(9, 12));
      expect(ops.rowSums(A, kernels)).toEqual(Float32Array.of(3, 7, 11));
      expect(ops.activate('relu', Matrix.fromRows([[-1, 2]]), undefined, kernels).toArray()).toEqual([[0, 2]]);
    }
  });
});
