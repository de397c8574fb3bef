// The fast wasm paths of the HDBSCAN fit (candidate-list core distances, matrix-free Prim) against
// the plain-TypeScript reference twin (dense matrix, full selection, textbook Prim): every core
// distance and MST edge must agree bit for bit, including where the sampled thresholds fail and
// rows are recomputed, and where Prim needs most distances (small min_samples, ties).
import { describe, expect, it } from 'vitest';
import { hdbscan, type HdbscanOptions } from '../src/cluster/index.js';
import { coreDistancesWasm, corePlan, effectiveMinSamples, mutualReachabilityMst } from '../src/cluster/hdbscan.js';
import { Workspace } from '../src/cluster/wasm.js';
import { Rng } from '../src/core/rng.js';

const same = (a: ArrayLike<number>, b: ArrayLike<number>): boolean =>
  a.length === b.length && Array.from(a).every((v, i) => Object.is(v, b[i]));

function expectSameMst(X: Float64Array, n: number, d: number, m: number, maxMatrixBytes = 512 * 2 ** 20): void {
  const fast = mutualReachabilityMst(X, n, d, m, { backend: 'wasm', maxMatrixBytes });
  const ref = mutualReachabilityMst(X, n, d, m, { backend: 'ts', maxMatrixBytes });
  expect(same(fast.core, ref.core)).toBe(true);
  expect(same(fast.core2, ref.core2)).toBe(true);
  expect(same(fast.edgeA, ref.edgeA)).toBe(true);
  expect(same(fast.edgeB, ref.edgeB)).toBe(true);
  expect(same(fast.edgeW, ref.edgeW)).toBe(true);
}

/** Rows recomputed in full by the candidate-list core distances (the threshold fallback). */
function recomputedRows(X: Float64Array, n: number, d: number, m: number): number {
  const ws = new Workspace();
  const pCore = ws.reserve(8 * n);
  const pCore2 = ws.reserve(8 * n);
  return coreDistancesWasm(ws, X, n, d, m, 512 * 2 ** 20, pCore, pCore2);
}

describe('hdbscan fast paths', () => {
  it("the paper's configuration (1500 × 28, min_samples 100): wasm and TypeScript agree bit for bit", () => {
    const n = 1500;
    const d = 28;
    const X = new Float64Array(n * d);
    new Rng(31).fillNormal(X);
    expect(corePlan(n, 100, 512 * 2 ** 20).mode).toBe('candidates');
    expectSameMst(X, n, d, 100);
    const opts: HdbscanOptions = { minClusterSize: 1000, minSamples: 100 };
    const a = hdbscan(X, n, d, opts);
    const b = hdbscan(X, n, d, { ...opts, backend: 'ts' });
    expect(same(a.outlierScores, b.outlierScores)).toBe(true);
    expect(same(a.condensedTree.child, b.condensedTree.child)).toBe(true);
  });

  it('sample points far from the rest (thresholds too high, lists overflow): rows are recomputed, results unchanged', () => {
    const n = 640;
    const d = 5;
    const rng = new Rng(32);
    const X = new Float64Array(n * d);
    rng.fillNormal(X);
    // Every 16th point is a sample point of the threshold estimate; put them far out.
    for (let i = 0; i < n; i += 16) for (let k = 0; k < d; k++) X[i * d + k] += 40 + 5 * rng.normal();
    const m = 20;
    expect(recomputedRows(X, n, d, m)).toBeGreaterThan(0);
    expectSameMst(X, n, d, m);
  });

  it('sample points in one tight clump (thresholds too low, lists too short): rows are recomputed, results unchanged', () => {
    const n = 640;
    const d = 4;
    const rng = new Rng(33);
    const X = new Float64Array(n * d);
    for (let i = 0; i < X.length; i++) X[i] = 10 * rng.normal();
    for (let i = 0; i < n; i += 16) for (let k = 0; k < d; k++) X[i * d + k] = 1e-3 * rng.normal();
    const m = 30;
    expect(recomputedRows(X, n, d, m)).toBeGreaterThan(0);
    expectSameMst(X, n, d, m);
  });

  it('small min_samples (Prim needs most distances) and exact ties on a lattice agree bit for bit', () => {
    const rng = new Rng(34);
    const n = 520;
    const X = new Float64Array(n * 3);
    rng.fillNormal(X);
    for (const m of [1, 2, 7]) expectSameMst(X, n, 3, m);
    const L = new Float64Array(n * 2);
    for (let i = 0; i < L.length; i++) L[i] = rng.int(12);
    for (const m of [1, 3, 9]) expectSameMst(L, n, 2, m);
  });

  it('all three core-distance plans (candidate lists, full rows stored, rows recomputed) agree bit for bit', () => {
    const rng = new Rng(35);
    const n = 700;
    const d = 6;
    const X = new Float64Array(n * d);
    rng.fillNormal(X);
    const m = effectiveMinSamples(15, n);
    expect(corePlan(n, m, 512 * 2 ** 20).mode).toBe('candidates');
    expect(corePlan(n, m, 0).mode).toBe('rows');
    expectSameMst(X, n, d, m, 0);
    // k too close to n for a threshold to pay off: the dense plan.
    expect(corePlan(n, 300, 512 * 2 ** 20).mode).toBe('dense');
    expectSameMst(X, n, d, 300);
  });
});
