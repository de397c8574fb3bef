import { describe, it, expect } from 'vitest';
import { Rng } from '../src/core/rng.js';
import { hdbscan } from '../src/cluster/hdbscan.js';
import { heldOutLevels, levelThreshold, quantileThreshold, randomisedPValue, rankCounts, sortedScores } from '../src/mutability/calibration.js';

describe('randomised p-values and quantile cuts', () => {
  it('counts ranks with ties', () => {
    const s = sortedScores([0, 0, 0, 0.2, 0.5, 0.5, 0.9]);
    expect(rankCounts(s, 0)).toEqual({ below: 0, tied: 3 });
    expect(rankCounts(s, 0.5)).toEqual({ below: 4, tied: 2 });
    expect(rankCounts(s, 0.6)).toEqual({ below: 6, tied: 0 });
    expect(rankCounts(s, 1)).toEqual({ below: 7, tied: 0 });
    expect(quantileThreshold(s, 0.5)).toBe(0.2);
    expect(quantileThreshold(s, 0.99)).toBe(0.9);
    expect(quantileThreshold(s, 0.1)).toBe(0);
  });

  it('an object scoring above threshold_q is always an outlier at q (p > q), whatever the draw', () => {
    const rng = new Rng(4);
    for (let t = 0; t < 300; t++) {
      const n = 5 + rng.int(200);
      const ref = sortedScores(Array.from({ length: n }, () => (rng.uniform() < 0.5 ? 0 : Math.round(rng.uniform() * 20) / 20)));
      const q = 0.05 + 0.9 * rng.uniform();
      const thr = quantileThreshold(ref, q);
      const above = ref.find((v) => v > thr);
      if (above === undefined) continue;
      for (let k = 0; k < 5; k++) expect(randomisedPValue(ref, above, rng)).toBeGreaterThan(q);
    }
  });

  it('an object above every reference score gets p > n/(n+1); below all, p < 1/(n+1)', () => {
    const rng = new Rng(1);
    const s = sortedScores([0.1, 0.2, 0.3]);
    for (let i = 0; i < 20; i++) {
      expect(randomisedPValue(s, 0.5, rng)).toBeGreaterThan(0.75);
      expect(randomisedPValue(s, 0.0, rng)).toBeLessThan(0.25);
    }
  });

  it('is uniform for exchangeable draws even when most scores tie (discrete score distribution)', () => {
    // Scores from a distribution with 2/3 of its mass at exactly 0, like GLOSH in the paper's configuration.
    const rng = new Rng(7);
    const draw = () => (rng.uniform() < 2 / 3 ? 0 : rng.uniform());
    const trials = 4000;
    const qs = [0.1, 0.5, 0.68, 0.95];
    const pass = qs.map(() => 0);
    for (let t = 0; t < trials; t++) {
      const ref = sortedScores(Array.from({ length: 200 }, draw));
      const p = randomisedPValue(ref, draw(), rng);
      qs.forEach((q, j) => { if (p <= q) pass[j]++; });
    }
    qs.forEach((q, j) => {
      const se = Math.sqrt((q * (1 - q)) / trials);
      expect(Math.abs(pass[j] / trials - q)).toBeLessThan(4 * se);
    });
  });

  it('calibrates GLOSH in the paper configuration on data drawn from the reference distribution itself', () => {
    // Reference cluster and object from the same 8-D Gaussian; HDBSCAN with the object appended
    // (N_ref = 1500, min_cluster_size 1000, min_samples 100): two thirds of the scores are 0.
    const rng = new Rng(11);
    const d = 8, nRef = 1500, trials = 160;
    const qs = [0.3, 0.68, 0.95];
    const pass = qs.map(() => 0);
    let zeros = 0;
    const pts = new Float64Array((nRef + 1) * d);
    for (let t = 0; t < trials; t++) {
      for (let i = 0; i < pts.length; i++) pts[i] = rng.normal();
      const fit = hdbscan(pts, nRef + 1, d, { minClusterSize: 1000, minSamples: 100 });
      const ref = sortedScores(fit.outlierScores.subarray(0, nRef));
      zeros += rankCounts(ref, 0).tied / nRef;
      const p = randomisedPValue(ref, fit.outlierScores[nRef], rng);
      qs.forEach((q, j) => { if (p <= q) pass[j]++; });
    }
    expect(zeros / trials).toBeGreaterThan(0.6); // the tie problem is really there
    qs.forEach((q, j) => {
      const se = Math.sqrt((q * (1 - q)) / trials);
      expect(Math.abs(pass[j] / trials - q)).toBeLessThan(3.5 * se);
    });
  });

  it('held-out levels: coverage ceil(q(m+1))/(m+1) on exchangeable rows, whatever the distortion of p', () => {
    // p-values of real reference objects against a too-narrow generated cluster pile up near 1:
    // here p = u^(1/3), so the generated cut p > q keeps only q^3 of them.
    const rng = new Rng(21);
    const draw = () => Math.cbrt(rng.uniform());
    const m = 99, trials = 3000;
    const qs = [0.5, 0.68, 0.9];
    const kept = qs.map(() => 0);
    const keptGenerated = qs.map(() => 0);
    for (let t = 0; t < trials; t++) {
      const levels = heldOutLevels(Array.from({ length: m }, draw), qs);
      const p = draw();
      qs.forEach((q, j) => {
        if (p <= levels[j]) kept[j]++;
        if (p <= q) keptGenerated[j]++;
      });
    }
    qs.forEach((q, j) => {
      const expected = Math.ceil(q * (m + 1)) / (m + 1); // the split-conformal coverage, exactly
      const se = Math.sqrt((expected * (1 - expected)) / trials);
      expect(Math.abs(kept[j] / trials - expected)).toBeLessThan(4 * se);
      expect(Math.abs(keptGenerated[j] / trials - q ** 3)).toBeLessThan(4 * se); // and the plain cut is far off
    });
  });

  it('held-out levels: too few rows to certify q gives level 1 and an infinite score cut', () => {
    const levels = heldOutLevels([0.2, 0.9, 0.5], [0.5, 0.75, 0.8]);
    // m = 3: ranks ceil(0.5*4) = 2, ceil(0.75*4) = 3, ceil(0.8*4) = 4 > 3.
    expect(levels).toEqual([0.5, 0.9, 1]);
    const ref = sortedScores([0.1, 0.2, 0.3]);
    expect(levelThreshold(ref, 1)).toBe(Infinity);
    expect(levelThreshold(ref, 0.5)).toBe(quantileThreshold(ref, 0.5));
  });
});
