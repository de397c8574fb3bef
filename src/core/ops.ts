import { Matrix } from './matrix.js';
import type { Activation, Kernels } from './kernels.js';
import { getKernels } from './backend.js';
import { ExitCode, FluxmutError } from './errors.js';

/** Options of {@link matmul}. */
export interface MatmulOptions {
  /** Use Aᵀ (A is stored k x m). */
  transA?: boolean;
  /** Use Bᵀ (B is stored n x k). */
  transB?: boolean;
  /** Row vector of length n added to every row (only without transposition, as in a dense layer). */
  bias?: Float32Array;
  /** Write into this m x n matrix instead of a new one. */
  out?: Matrix;
  /** Add into `out` instead of overwriting it. */
  accumulate?: boolean;
  /** Kernels to use (default: getKernels()). */
  kernels?: Kernels;
}

function shapeError(message: string): FluxmutError {
  return new FluxmutError(`matmul: ${message}`, ExitCode.Internal);
}

/** op(A)·op(B) (+ bias) on Matrix objects, dispatching to gemm, gemmTN or gemmNT. */
export function matmul(a: Matrix, b: Matrix, options: MatmulOptions = {}): Matrix {
  const { transA = false, transB = false, bias, accumulate = false } = options;
  const K = options.kernels ?? getKernels();
  const [m, ka] = transA ? [a.cols, a.rows] : [a.rows, a.cols];
  const [kb, n] = transB ? [b.cols, b.rows] : [b.rows, b.cols];
  if (ka !== kb) throw shapeError(`inner dimensions differ: ${transA ? 'Aᵀ' : 'A'} is ${m}x${ka}, ${transB ? 'Bᵀ' : 'B'} is ${kb}x${n}`);
  if (transA && transB) throw shapeError('Aᵀ·Bᵀ is not supported; compute (B·A)ᵀ instead');
  if (bias && (transA || transB)) throw shapeError('a bias is only supported for A·B');
  if (bias && bias.length !== n) throw shapeError(`bias has ${bias.length} values, expected ${n}`);
  const out = options.out ?? new Matrix(m, n);
  if (out.rows !== m || out.cols !== n) throw shapeError(`out is ${out.rows}x${out.cols}, expected ${m}x${n}`);
  if (accumulate && !options.out) throw shapeError('accumulate needs an out matrix');
  if (transA) K.gemmTN(a.data, b.data, out.data, m, ka, n, accumulate);
  else if (transB) K.gemmNT(a.data, b.data, out.data, m, ka, n, accumulate);
  else K.gemm(a.data, b.data, out.data, m, ka, n, bias, accumulate);
  return out;
}

/** f(X) elementwise into `out` (a new matrix by default; `out` may be `x`). */
export function activate(kind: Activation, x: Matrix, out?: Matrix, kernels: Kernels = getKernels()): Matrix {
  const y = out ?? new Matrix(x.rows, x.cols);
  if (y.rows !== x.rows || y.cols !== x.cols) {
    throw new FluxmutError(`activate: out is ${y.rows}x${y.cols}, expected ${x.rows}x${x.cols}`, ExitCode.Internal);
  }
  kernels.activate(kind, x.data, y.data);
  return y;
}

/** Column sums of X (length cols): the bias gradient of a dense layer. */
export function columnSums(x: Matrix, kernels: Kernels = getKernels()): Float32Array {
  const out = new Float32Array(x.cols);
  kernels.sumRows(x.data, x.rows, x.cols, out);
  return out;
}

/** Row sums of X (length rows). */
export function rowSums(x: Matrix, kernels: Kernels = getKernels()): Float32Array {
  const out = new Float32Array(x.rows);
  kernels.sumCols(x.data, x.rows, x.cols, out);
  return out;
}
