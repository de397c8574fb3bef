/**
 * The numeric kernels every model runs on. Two implementations share this interface:
 * `tsKernels` (plain TypeScript, the readable reference the tests trust) and the
 * WebAssembly SIMD kernels (fast). All arrays are row-major Float32.
 *
 * Shapes: A is m x k, B is k x n, C is m x n (after the stated transposition).
 * `accumulate` adds into C instead of overwriting it (backprop sums gradients).
 */
export type Activation = 'relu' | 'tanh' | 'elu' | 'silu' | 'identity';

export interface Kernels {
  readonly name: string;
  /** C = A·B (+ bias broadcast over rows). A: m x k, B: k x n, bias: n. */
  gemm(a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number, bias?: Float32Array, accumulate?: boolean): void;
  /** C = Aᵀ·B. A: k x m (stored), B: k x n, C: m x n. Weight gradients: dW = Xᵀ·dY. */
  gemmTN(a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number, accumulate?: boolean): void;
  /** C = A·Bᵀ. A: m x k, B: n x k (stored), C: m x n. Input gradients: dX = dY·Wᵀ. */
  gemmNT(a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number, accumulate?: boolean): void;
  /** y = f(x) elementwise. */
  activate(kind: Activation, x: Float32Array, y: Float32Array): void;
  /** dx (+)= f'(x) * dy elementwise; y = f(x) is passed because some derivatives are cheaper from it. */
  activateBackward(kind: Activation, x: Float32Array, y: Float32Array, dy: Float32Array, dx: Float32Array, accumulate?: boolean): void;
  /** out[j] (+)= Σ_i x[i, j] (column sums of an m x n matrix; bias gradients). */
  sumRows(x: Float32Array, m: number, n: number, out: Float32Array, accumulate?: boolean): void;
  /** out[i] (+)= Σ_j x[i, j] (row sums of an m x n matrix). */
  sumCols(x: Float32Array, m: number, n: number, out: Float32Array, accumulate?: boolean): void;
}
