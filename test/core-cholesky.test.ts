import { describe, it, expect } from 'vitest';
import { cholesky, choleskyLogDet, choleskySolve, solveLower, solveUpperT, NotPositiveDefiniteError } from '../src/core/cholesky.js';
import { Rng } from '../src/core/rng.js';

// A random symmetric positive-definite matrix M·Mᵀ + δ·I (M square Gaussian).
function randomSpd(rng: Rng, n: number, delta = 0.1): Float64Array {
  const m = new Float64Array(n * n);
  rng.fillNormal(m);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = i === j ? delta : 0;
      for (let p = 0; p < n; p++) s += m[i * n + p] * m[j * n + p];
      a[i * n + j] = s;
    }
  }
  return a;
}

function matVec(a: Float64Array, n: number, x: ArrayLike<number>): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) y[i] += a[i * n + j] * x[j];
  return y;
}

// log|det A| by Gaussian elimination with partial pivoting: an independent route to the determinant.
function logAbsDetLU(a: Float64Array, n: number): number {
  const u = a.slice();
  let s = 0;
  for (let j = 0; j < n; j++) {
    let piv = j;
    for (let i = j + 1; i < n; i++) if (Math.abs(u[i * n + j]) > Math.abs(u[piv * n + j])) piv = i;
    if (piv !== j) for (let c = 0; c < n; c++) [u[j * n + c], u[piv * n + c]] = [u[piv * n + c], u[j * n + c]];
    s += Math.log(Math.abs(u[j * n + j]));
    for (let i = j + 1; i < n; i++) {
      const f = u[i * n + j] / u[j * n + j];
      for (let c = j; c < n; c++) u[i * n + c] -= f * u[j * n + c];
    }
  }
  return s;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

describe('cholesky', () => {
  it('factors a hand-computed 3 x 3 case', () => {
    // [[4, 12, -16], [12, 37, -43], [-16, -43, 98]] = L·Lᵀ with L = [[2, 0, 0], [6, 1, 0], [-8, 5, 3]].
    const l = cholesky(Float64Array.of(4, 12, -16, 12, 37, -43, -16, -43, 98), 3);
    expect(Array.from(l)).toEqual([2, 0, 0, 6, 1, 0, -8, 5, 3]);
    expect(choleskyLogDet(l, 3)).toBeCloseTo(Math.log(36), 12); // det A = (2·1·3)²;
  });

  it('L is lower triangular with a positive diagonal and L·Lᵀ = A on random SPD matrices', () => {
    const rng = new Rng(3);
    for (const n of [1, 2, 5, 12, 30]) {
      const a = randomSpd(rng, n);
      const l = cholesky(a, n);
      for (let i = 0; i < n; i++) {
        expect(l[i * n + i]).toBeGreaterThan(0);
        for (let j = i + 1; j < n; j++) expect(l[i * n + j]).toBe(0);
      }
      const scale = maxAbs(a);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let p = 0; p < n; p++) s += l[i * n + p] * l[j * n + p];
          expect(Math.abs(s - a[i * n + j])).toBeLessThan(1e-12 * scale * n);
        }
      }
    }
  });

  it('solves triangular systems and A·x = b', () => {
    const rng = new Rng(4);
    for (const n of [1, 3, 8, 20]) {
      const a = randomSpd(rng, n, 1);
      const l = cholesky(a, n);
      const b = new Float64Array(n);
      rng.fillNormal(b);
      // Forward substitution: L·y = b.
      const y = solveLower(l, n, b);
      const ly = new Float64Array(n);
      for (let i = 0; i < n; i++) for (let p = 0; p <= i; p++) ly[i] += l[i * n + p] * y[p];
      ly.forEach((v, i) => expect(v).toBeCloseTo(b[i], 10));
      // Back substitution: Lᵀ·z = b.
      const z = solveUpperT(l, n, b);
      const ltz = new Float64Array(n);
      for (let i = 0; i < n; i++) for (let p = i; p < n; p++) ltz[i] += l[p * n + i] * z[p];
      ltz.forEach((v, i) => expect(v).toBeCloseTo(b[i], 10));
      // Full solve: the residual A·x - b is at rounding level.
      const x = choleskySolve(l, n, b);
      const r = matVec(a, n, x).map((v, i) => v - b[i]);
      expect(maxAbs(r)).toBeLessThan(1e-10 * (maxAbs(b) + maxAbs(a) * maxAbs(x)));
    }
  });

  it('log-determinant equals the sum of log pivots of an LU factorisation, and of a diagonal', () => {
    const rng = new Rng(5);
    for (const n of [1, 4, 16, 40]) {
      const a = randomSpd(rng, n);
      expect(choleskyLogDet(cholesky(a, n), n)).toBeCloseTo(logAbsDetLU(a, n), 8);
    }
    const d = Float64Array.of(2, 0, 0, 0, 3, 0, 0, 0, 1e-8);
    expect(choleskyLogDet(cholesky(d, 3), 3)).toBeCloseTo(Math.log(6e-8), 12);
  });

  it('rejects matrices that are not positive definite, naming the column', () => {
    const cases: Array<[Float64Array, number, number]> = [
      [Float64Array.of(1, 2, 2, 1), 2, 1], // eigenvalues -1 and 3
      [Float64Array.of(1, 1, 1, 1), 2, 1], // singular (rank 1)
      [Float64Array.of(-1), 1, 0],
      [Float64Array.of(1, 0, 0, Number.NaN), 2, 1],
      [Float64Array.of(Infinity), 1, 0],
    ];
    for (const [a, n, column] of cases) {
      let err: unknown;
      try {
        cholesky(a, n);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(NotPositiveDefiniteError);
      expect((err as NotPositiveDefiniteError).column).toBe(column);
      expect((err as Error).message).toMatch(/not positive definite/);
    }
  });

  it('rejects a value count that does not match n x n', () => {
    expect(() => cholesky(new Float64Array(5), 2)).toThrow(RangeError);
  });
});
