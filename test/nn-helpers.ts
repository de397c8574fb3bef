// Shared by the test/nn-*.test.ts files: finite-difference gradient checks.
import { expect } from 'vitest';
import { Matrix } from '../src/core/matrix.js';
import { Rng } from '../src/core/rng.js';
import type { Kernels } from '../src/core/kernels.js';
import { tsKernels } from '../src/core/kernels-ts.js';
import { getKernels } from '../src/core/backend.js';
import { Tape, Tensor } from '../src/nn/tensor.js';

/** The kernel sets to check: the TS reference and the default (wasm) when it differs. */
export function kernelSets(): Kernels[] {
  const d = getKernels();
  return d.name === tsKernels.name ? [tsKernels] : [tsKernels, d];
}

export function randomMatrix(rng: Rng, rows: number, cols: number, scale = 1, offset = 0): Matrix {
  const m = Matrix.zeros(rows, cols);
  for (let i = 0; i < m.data.length; i++) m.data[i] = offset + scale * rng.normal();
  return m;
}

/** Uniform entries in ±[lo, hi]: magnitudes bounded away from 0 (no relu/elu kink within eps). */
export function awayFromZero(rng: Rng, rows: number, cols: number, lo: number, hi: number): Matrix {
  const m = Matrix.zeros(rows, cols);
  for (let i = 0; i < m.data.length; i++) m.data[i] = (rng.uniform() < 0.5 ? -1 : 1) * (lo + (hi - lo) * rng.uniform());
  return m;
}

export function param(m: Matrix): Tensor {
  return new Tensor(m, true);
}

export interface GradCheckOptions {
  kernels?: Kernels;
  eps?: number;
  rtol?: number;
  atol?: number;
  seed?: number;
  /** Check at most this many elements per input (chosen at random). */
  maxElements?: number;
}

/**
 * Compares the tape's gradients of L = Σ w∘f(inputs) (w: fixed random weights, so every output
 * element's gradient path is exercised) with central differences.
 *
 * Tolerances: f runs in float32, but L is summed here in float64 from the float32 outputs, and
 * only the outputs that depend on the perturbed element change between the two evaluations, so
 * the difference quotient's rounding error is about (#affected outputs)·|w||y|·2⁻²⁴ / eps; with
 * eps = 1e-2, |w|,|y| ~ 1..3 and ≤ ~20 affected outputs that is ≲ 5e-4. Truncation error of central
 * differences is eps²·|f'''|/6 ≈ 2e-5·|f'''|. Hence atol 2e-3 and rtol 1e-2: a wrong gradient (a
 * missing factor, a dropped broadcast sum, a transposed GEMM) is off by O(1) and cannot pass.
 * The perturbation actually applied is taken after rounding x ± eps to float32.
 */
export function gradCheck(inputs: Tensor[], f: (tape: Tape) => Tensor, options: GradCheckOptions = {}): number {
  const kernels = options.kernels ?? tsKernels;
  const eps = options.eps ?? 1e-2;
  const rtol = options.rtol ?? 1e-2;
  const atol = options.atol ?? 2e-3;
  const rng = new Rng(options.seed ?? 12345);
  for (const t of inputs) t.grad = null;

  const tape = new Tape({ kernels });
  const y = f(tape);
  const w = randomMatrix(rng, y.rows, y.cols);
  tape.backward(y, w);

  const loss = (): number => {
    const out = f(new Tape({ kernels, record: false })).value.data;
    let s = 0;
    for (let i = 0; i < out.length; i++) s += w.data[i] * out[i];
    return s;
  };

  let worst = 0;
  for (const [k, t] of inputs.entries()) {
    const x = t.value.data;
    const analytic = t.grad?.data ?? new Float32Array(x.length);
    const maxEl = options.maxElements ?? 40;
    const idx = x.length <= maxEl ? [...Array(x.length).keys()] : Array.from(rng.permutation(x.length).subarray(0, maxEl));
    for (const i of idx) {
      const orig = x[i];
      x[i] = orig + eps;
      const hi = x[i];
      const lp = loss();
      x[i] = orig - eps;
      const lo = x[i];
      const lm = loss();
      x[i] = orig;
      const numeric = (lp - lm) / (hi - lo);
      const err = Math.abs(numeric - analytic[i]);
      worst = Math.max(worst, err / (atol + rtol * Math.max(Math.abs(numeric), Math.abs(analytic[i]))));
      if (err > atol + rtol * Math.max(Math.abs(numeric), Math.abs(analytic[i]))) {
        expect.fail(`input ${k} element ${i}: analytic ${analytic[i]} vs numeric ${numeric} (kernels ${kernels.name})`);
      }
    }
  }
  return worst;
}
