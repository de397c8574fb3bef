// Properties of our HDBSCAN that do not need the reference: ranges, invariance under row
// permutation, duplicates, ties, the two compute paths and the two backends agreeing bit for bit,
// the incremental exact refit agreeing with a full refit, and clear errors for bad input.
import { describe, expect, it } from 'vitest';
import { ExactRefitScorer, hdbscan, type HdbscanOptions, type HdbscanResult } from '../src/cluster/index.js';
import { FluxmutError } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';

function blobs(rng: Rng, n: number, d: number, centres: number, spread = 1): Float64Array {
  const X = new Float64Array(n * d);
  const C = new Float64Array(centres * d);
  for (let i = 0; i < C.length; i++) C[i] = (rng.uniform() - 0.5) * 20;
  for (let i = 0; i < n; i++) {
    const c = rng.int(centres);
    for (let k = 0; k < d; k++) X[i * d + k] = C[c * d + k] + spread * rng.normal();
  }
  return X;
}
const lambdas = (f: HdbscanResult): Float64Array =>
  Float64Array.from({ length: f.n }, (_, p) => f.condensedTree.lambda[f.clusterInfo.pointRow[p]]);
const bits = (a: ArrayLike<number>): string => Array.from(a).join(',');

describe('hdbscan properties', () => {
  const configs: [number, number, HdbscanOptions][] = [
    [300, 2, { minClusterSize: 10, minSamples: 5 }],
    [250, 5, { minClusterSize: 8, minSamples: 12, clusterSelectionMethod: 'leaf' }],
    [200, 3, { minClusterSize: 15, minSamples: 4, allowSingleCluster: true }],
    [120, 4, { minClusterSize: 100, minSamples: 10 }],
  ];

  it('scores and probabilities lie in [0, 1]; labels are -1 or 0..k-1', () => {
    const rng = new Rng(11);
    for (const [n, d, opts] of configs) {
      for (const glosh of ['reference', 'subtree'] as const) {
        const f = hdbscan(blobs(rng, n, d, 4), n, d, { ...opts, glosh });
        for (let i = 0; i < n; i++) {
          expect(f.outlierScores[i]).toBeGreaterThanOrEqual(0);
          expect(f.outlierScores[i]).toBeLessThanOrEqual(1);
          expect(f.probabilities[i]).toBeGreaterThanOrEqual(0);
          expect(f.probabilities[i]).toBeLessThanOrEqual(1);
          expect(f.labels[i]).toBeGreaterThanOrEqual(-1);
          expect(f.labels[i]).toBeLessThan(Math.max(f.nClusters, 1));
          if (f.labels[i] < 0) expect(f.probabilities[i]).toBe(0);
        }
        // Somewhere in the data the densest point of its cluster scores exactly 0.
        expect(Math.min(...f.outlierScores)).toBe(0);
      }
    }
  });

  it('permuting the input rows permutes every output', () => {
    const rng = new Rng(12);
    for (const [n, d, opts] of configs) {
      const X = blobs(rng, n, d, 4);
      const perm = rng.permutation(n);
      const Y = new Float64Array(n * d);
      for (let i = 0; i < n; i++) Y.set(X.subarray(perm[i] * d, perm[i] * d + d), i * d);
      const a = hdbscan(X, n, d, opts);
      const b = hdbscan(Y, n, d, opts);
      const la = lambdas(a);
      const lb = lambdas(b);
      const map = new Map<number, number>();
      for (let i = 0; i < n; i++) {
        const p = perm[i];
        // Distances are bit-identical under permutation and the MST of continuous data is unique.
        expect(lb[i]).toBe(la[p]);
        expect(Math.abs(b.outlierScores[i] - a.outlierScores[p])).toBeLessThanOrEqual(1e-12);
        expect(Math.abs(b.probabilities[i] - a.probabilities[p])).toBeLessThanOrEqual(1e-12);
        expect(b.labels[i] < 0).toBe(a.labels[p] < 0);
        if (a.labels[p] >= 0) {
          expect(map.get(a.labels[p]) ?? b.labels[i]).toBe(b.labels[i]);
          map.set(a.labels[p], b.labels[i]);
        }
      }
    }
  });

  it('exact duplicates get identical outputs; with >= m copies λ is ∞ and scores stay in [0, 1]', () => {
    const rng = new Rng(13);
    const n0 = 100;
    const d = 3;
    const base = blobs(rng, n0, d, 3);
    for (const copies of [2, 6]) {
      const n = n0 * copies;
      const X = new Float64Array(n * d);
      for (let c = 0; c < copies; c++) X.set(base, c * n0 * d);
      // With 6 copies a cluster of identical points (size 6 >= minClusterSize 4) lives down to
      // distance 0, so its points leave at λ = ∞ (where the reference returns NaN scores).
      const f = hdbscan(X, n, d, { minClusterSize: copies === 6 ? 4 : 10, minSamples: 5 });
      const l = lambdas(f);
      for (let i = 0; i < n0; i++) {
        for (let c = 1; c < copies; c++) {
          expect(l[i + c * n0]).toBe(l[i]);
          expect(f.outlierScores[i + c * n0]).toBe(f.outlierScores[i]);
          expect(f.labels[i + c * n0]).toBe(f.labels[i]);
        }
      }
      for (let i = 0; i < n; i++) {
        expect(Number.isNaN(f.outlierScores[i])).toBe(false);
        expect(f.outlierScores[i]).toBeGreaterThanOrEqual(0);
        expect(f.outlierScores[i]).toBeLessThanOrEqual(1);
      }
      // 6 copies = m + 1 points at each location: core distance 0 for every point.
      if (copies === 6) {
        expect(f.coreDistances.every((v) => v === 0)).toBe(true);
        expect(l.some((v) => v === Infinity)).toBe(true);
        for (let i = 0; i < n; i++) if (l[i] === Infinity) expect(f.outlierScores[i]).toBe(0);
      } else {
        expect(l.every((v) => Number.isFinite(v))).toBe(true);
      }
    }
  });

  it('ties (integer lattice): wasm and TypeScript, dense and on-the-fly paths agree bit for bit', () => {
    const n = 400;
    const d = 2;
    const rng = new Rng(14);
    const X = new Float64Array(n * d);
    for (let i = 0; i < X.length; i++) X[i] = rng.int(25);
    const opts: HdbscanOptions = { minClusterSize: 6, minSamples: 4 };
    const a = hdbscan(X, n, d, opts);
    const b = hdbscan(X, n, d, { ...opts, backend: 'ts' });
    const c = hdbscan(X, n, d, { ...opts, maxMatrixBytes: 0 });
    for (const other of [b, c]) {
      expect(bits(other.coreDistances)).toBe(bits(a.coreDistances));
      expect(bits(other.condensedTree.lambda)).toBe(bits(a.condensedTree.lambda));
      expect(bits(other.condensedTree.child)).toBe(bits(a.condensedTree.child));
      expect(bits(other.outlierScores)).toBe(bits(a.outlierScores));
      expect(bits(other.labels)).toBe(bits(a.labels));
    }
  });

  it('minSamples larger than n − 1 is clamped like the reference', () => {
    const rng = new Rng(15);
    const n = 40;
    const X = blobs(rng, n, 2, 2);
    const a = hdbscan(X, n, 2, { minClusterSize: 5, minSamples: 500 });
    const b = hdbscan(X, n, 2, { minClusterSize: 5, minSamples: n - 1 });
    expect(a.minSamples).toBe(n - 1);
    expect(bits(a.outlierScores)).toBe(bits(b.outlierScores));
  });

  it('the incremental exact refit equals hdbscan on the appended data', () => {
    const rng = new Rng(16);
    const n = 300;
    const d = 4;
    const X = blobs(rng, n, d, 3);
    for (const opts of [
      { minClusterSize: 10, minSamples: 5 },
      { minClusterSize: 200, minSamples: 20 },
      { minClusterSize: 8, minSamples: 400 }, // minSamples >= n: the refit's clamp changes rank
    ] as HdbscanOptions[]) {
      const scorer = new ExactRefitScorer(X, n, d, opts);
      for (let q = 0; q < 5; q++) {
        const x = Float64Array.from({ length: d }, () => rng.normal() * (1 + q * 3));
        const Y = new Float64Array((n + 1) * d);
        Y.set(X);
        Y.set(x, n * d);
        const full = hdbscan(Y, n + 1, d, opts);
        const inc = scorer.refit(x);
        expect(bits(inc.outlierScores)).toBe(bits(full.outlierScores));
        expect(bits(inc.labels)).toBe(bits(full.labels));
      }
    }
  });
});

describe('hdbscan bad input', () => {
  const X = new Float64Array([0, 0, 1, 1, 2, 2, 3, 3]);
  const bad: [string, () => unknown, RegExp][] = [
    ['NaN', () => hdbscan(new Float64Array([0, 0, NaN, 1, 2, 2]), 3, 2, { minClusterSize: 2 }), /point 1 .*coordinate 0 is NaN/],
    ['Infinity', () => hdbscan(new Float64Array([0, 0, 1, 1, 2, Infinity]), 3, 2, { minClusterSize: 2 }), /point 2 .*coordinate 1 is Infinity/],
    ['empty', () => hdbscan(new Float64Array(0), 0, 2, { minClusterSize: 2 }), /at least 2 points/],
    ['one point', () => hdbscan(new Float64Array([1, 2]), 1, 2, { minClusterSize: 2 }), /at least 2 points/],
    ['short data (ragged)', () => hdbscan(X, 5, 2, { minClusterSize: 2 }), /fewer than n × d/],
    ['min_cluster_size 1', () => hdbscan(X, 4, 2, { minClusterSize: 1 }), /minClusterSize must be an integer >= 2/],
    ['min_cluster_size 2.5', () => hdbscan(X, 4, 2, { minClusterSize: 2.5 }), /minClusterSize/],
    ['min_samples 0', () => hdbscan(X, 4, 2, { minClusterSize: 2, minSamples: 0 }), /minSamples must be an integer >= 1/],
    ['selection', () => hdbscan(X, 4, 2, { minClusterSize: 2, clusterSelectionMethod: 'foo' as 'eom' }), /'eom' or 'leaf'/],
    ['new point NaN', () => new ExactRefitScorer(X, 4, 2, { minClusterSize: 2 }).score(new Float64Array([NaN, 1])), /coordinate 0 is NaN/],
    ['new point wrong size', () => new ExactRefitScorer(X, 4, 2, { minClusterSize: 2 }).score(new Float64Array([1, 2, 3])), /whole number/],
  ];
  for (const [name, fn, msg] of bad) {
    it(name, () => {
      expect(fn).toThrow(FluxmutError);
      expect(fn).toThrow(msg);
    });
  }

  it('two points and min_cluster_size above n: all noise, finite scores', () => {
    const f = hdbscan(new Float64Array([0, 0, 3, 4]), 2, 2, { minClusterSize: 5 });
    expect(Array.from(f.labels)).toEqual([-1, -1]);
    expect(Array.from(f.outlierScores)).toEqual([0, 0]);
  });
});
