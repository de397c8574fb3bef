/**
 * Float64 Cholesky factorisation A = L·Lᵀ of a symmetric positive-definite n x n matrix
 * (row-major), and the triangular solves that go with it. Used for KDE bandwidth matrices,
 * where covariances must stay in float64 as scipy's gaussian_kde keeps them.
 */
export class NotPositiveDefiniteError extends Error {
  constructor(readonly column: number, readonly pivot: number) {
    super(`matrix is not positive definite: pivot ${pivot} at column ${column}`);
    this.name = 'NotPositiveDefiniteError';
  }
}

/** Returns the lower-triangular L (row-major, upper part zero). Throws NotPositiveDefiniteError. */
export function cholesky(a: Float64Array, n: number): Float64Array {
  if (a.length !== n * n) throw new RangeError(`cholesky: expected ${n * n} values, got ${a.length}`);
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j];
    for (let p = 0; p < j; p++) d -= l[j * n + p] * l[j * n + p];
    if (!(d > 0) || !Number.isFinite(d)) throw new NotPositiveDefiniteError(j, d);
    const ljj = Math.sqrt(d);
    l[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j];
      for (let p = 0; p < j; p++) s -= l[i * n + p] * l[j * n + p];
      l[i * n + j] = s / ljj;
    }
  }
  return l;
}

/** Solves L·x = b for lower-triangular L (forward substitution). */
export function solveLower(l: Float64Array, n: number, b: ArrayLike<number>, out = new Float64Array(n)): Float64Array {
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let p = 0; p < i; p++) s -= l[i * n + p] * out[p];
    out[i] = s / l[i * n + i];
  }
  return out;
}

/** Solves Lᵀ·x = b for lower-triangular L (back substitution). */
export function solveUpperT(l: Float64Array, n: number, b: ArrayLike<number>, out = new Float64Array(n)): Float64Array {
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    for (let p = i + 1; p < n; p++) s -= l[p * n + i] * out[p];
    out[i] = s / l[i * n + i];
  }
  return out;
}

/** Solves A·x = b given A's Cholesky factor L. */
export function choleskySolve(l: Float64Array, n: number, b: ArrayLike<number>): Float64Array {
  return solveUpperT(l, n, solveLower(l, n, b));
}

/** log det A = 2 Σ log L_ii. */
export function choleskyLogDet(l: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.log(l[i * n + i]);
  return 2 * s;
}
