import { describe, it, expect } from 'vitest';
import {
  rateWithError,
  decisionRates,
  roc,
  auc,
  hanleyMcNeilSe,
  trapezoid,
  empiricalCdf,
  calibration,
  ratesAtReferenceQuantile,
} from '../src/eval/metrics.js';
import { Rng } from '../src/core/rng.js';
import { FluxmutError } from '../src/core/errors.js';

// Standard normal CDF via Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), independent of the code.
function phi(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erfc = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-z * z);
  return x >= 0 ? 1 - erfc / 2 : erfc / 2;
}

// The definition of the AUC, O(n1·n0): pairs where the anomalous object scores higher, ties 1/2.
function bruteAuc(scores: number[], isRef: boolean[]): number {
  let u = 0, pairs = 0;
  for (let i = 0; i < scores.length; i++) {
    if (isRef[i]) continue;
    for (let j = 0; j < scores.length; j++) {
      if (!isRef[j]) continue;
      pairs++;
      u += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
  }
  return u / pairs;
}

function twoGaussians(rng: Rng, nRef: number, nAnom: number, mu: number): { scores: Float64Array; isRef: boolean[] } {
  const scores = new Float64Array(nRef + nAnom);
  const isRef: boolean[] = [];
  for (let i = 0; i < nRef; i++) { scores[i] = rng.normal(); isRef.push(true); }
  for (let i = 0; i < nAnom; i++) { scores[nRef + i] = mu + rng.normal(); isRef.push(false); }
  return { scores, isRef };
}

describe('rateWithError', () => {
  it('gives k/n, the Wald error and the hand-computed Wilson interval', () => {
    const r = rateWithError(30, 100);
    expect(r.rate).toBe(0.3);
    expect(r.se).toBeCloseTo(Math.sqrt(0.21 / 100), 12);
    // Wilson, z = 1: centre (0.3 + 0.005)/1.01, half sqrt(0.0021 + 0.000025)/1.01.
    expect(r.lo).toBeCloseTo(0.256339, 5);
    expect(r.hi).toBeCloseTo(0.347622, 5);
  });

  it('Wilson bounds are the roots of |p̂ - p| = z·sqrt(p(1-p)/n)', () => {
    for (const [k, n, z] of [[7, 40, 1], [95, 100, 1.96], [1, 3, 1]]) {
      const r = rateWithError(k, n, z);
      for (const b of [r.lo, r.hi]) expect(Math.abs(k / n - b)).toBeCloseTo(z * Math.sqrt((b * (1 - b)) / n), 10);
    }
  });

  it('at k = 0 and k = n the error is 0 but the Wilson interval is not', () => {
    const zero = rateWithError(0, 10);
    expect(zero.se).toBe(0);
    expect(zero.lo).toBe(0);
    expect(zero.hi).toBeCloseTo(1 / 11, 12); // root of p = sqrt(p(1-p)/10)
    const all = rateWithError(10, 10);
    expect(all.hi).toBe(1);
    expect(all.lo).toBeCloseTo(10 / 11, 12);
  });

  it('n = 0 gives NaN, bad counts give a FluxmutError', () => {
    expect(rateWithError(0, 0).rate).toBeNaN();
    expect(() => rateWithError(5, 4)).toThrow(FluxmutError);
    expect(() => rateWithError(-1, 4)).toThrow(FluxmutError);
    expect(() => rateWithError(1.5, 4)).toThrow(FluxmutError);
  });
});

describe('decisionRates', () => {
  it('TPR = reference kept, TNR = anomalous flagged, for Uint8Array and boolean[] alike', () => {
    const isOutlier = Uint8Array.from([1, 0, 0, 1, 1, 0, 1]);
    const isRef = [true, true, true, true, false, false, false];
    const r = decisionRates(isOutlier, isRef);
    expect(r.counts).toEqual({ reference: 4, referenceKept: 2, anomalous: 3, anomalousFlagged: 2 });
    expect(r.tpr.rate).toBe(0.5);
    expect(r.tnr.rate).toBeCloseTo(2 / 3, 15);
    expect(r.tpr.se).toBeCloseTo(Math.sqrt(0.25 / 4), 15);
    const again = decisionRates(Array.from(isOutlier, (v) => v === 1), Uint8Array.from(isRef, (v) => (v ? 1 : 0)));
    expect(again.counts).toEqual(r.counts);
  });

  it('rejects arrays of different lengths', () => {
    expect(() => decisionRates([true], [true, false])).toThrow(/isOutlier has 1 entries but isReference has 2/);
  });
});

describe('roc and auc', () => {
  it('AUC of N(μ,1) against N(0,1) is Φ(μ/√2) within the Hanley-McNeil error', () => {
    const mu = 1;
    const { scores, isRef } = twoGaussians(new Rng(11), 20000, 20000, mu);
    const a = auc(scores, isRef);
    expect(a.nReference).toBe(20000);
    expect(a.nAnomalous).toBe(20000);
    expect(a.se).toBeGreaterThan(0.001);
    expect(a.se).toBeLessThan(0.005);
    expect(Math.abs(a.auc - phi(mu / Math.SQRT2))).toBeLessThan(4 * a.se);
  });

  it('matches the pairwise definition with many ties', () => {
    const rng = new Rng(5);
    const scores: number[] = [], isRef: boolean[] = [];
    for (let i = 0; i < 300; i++) {
      const ref = rng.uniform() < 0.6;
      isRef.push(ref);
      scores.push(rng.int(8) + (ref ? 0 : 2)); // integers: heavy ties within and across classes
    }
    expect(auc(scores, isRef).auc).toBeCloseTo(bruteAuc(scores, isRef), 12);
  });

  it('equals the trapezoid area under roc(), ties as diagonal steps', () => {
    const rng = new Rng(6);
    const scores: number[] = [], isRef: boolean[] = [];
    for (let i = 0; i < 500; i++) {
      const ref = rng.uniform() < 0.5;
      isRef.push(ref);
      scores.push(Math.round(5 * (rng.normal() + (ref ? 0 : 0.7))) / 5);
    }
    const c = roc(scores, isRef);
    expect(c.fpr[0]).toBe(0);
    expect(c.tpr[0]).toBe(0);
    expect(c.thresholds[0]).toBe(Infinity);
    expect(c.fpr[c.fpr.length - 1]).toBe(1);
    expect(c.tpr[c.tpr.length - 1]).toBe(1);
    // One point per distinct score, thresholds strictly decreasing.
    expect(c.thresholds.length).toBe(new Set(scores).size + 1);
    for (let j = 1; j < c.thresholds.length; j++) {
      expect(c.thresholds[j]).toBeLessThan(c.thresholds[j - 1]);
      // fpr at a cut = fraction of reference with score >= cut, counted directly.
      const flaggedRef = scores.filter((s, i) => isRef[i] && s >= c.thresholds[j]).length;
      expect(c.fpr[j]).toBeCloseTo(flaggedRef / c.nReference, 14);
    }
    expect(trapezoid(c.fpr, c.tpr)).toBeCloseTo(auc(scores, isRef).auc, 12);
  });

  it('all scores equal: AUC 0.5 and the ROC is the diagonal', () => {
    const scores = new Float64Array(10).fill(3);
    const isRef = [true, true, true, false, false, false, false, true, false, true];
    expect(auc(scores, isRef).auc).toBe(0.5);
    const c = roc(scores, isRef);
    expect(Array.from(c.fpr)).toEqual([0, 1]);
    expect(Array.from(c.tpr)).toEqual([0, 1]);
  });

  it('perfect separation gives 1, reversed gives 0', () => {
    const isRef = [true, true, true, false, false];
    expect(auc([0, 1, 2, 3, 4], isRef).auc).toBe(1);
    expect(auc([4, 3, 2, 1, 0], isRef).auc).toBe(0);
    const c = roc([0, 1, 2, 3, 4], isRef);
    expect(Array.from(c.tpr.slice(0, 3))).toEqual([0, 0.5, 1]);
    expect(Array.from(c.fpr.slice(0, 3))).toEqual([0, 0, 0]);
  });

  it('Hanley-McNeil se follows its closed formula (A = 0.8, 10 anomalous, 20 reference)', () => {
    // Q1 = 0.8/1.2, Q2 = 1.28/1.8; var = (0.16 + 9(Q1 - 0.64) + 19(Q2 - 0.64)) / 200.
    const q1 = 0.8 / 1.2, q2 = 1.28 / 1.8;
    const expected = Math.sqrt((0.16 + 9 * (q1 - 0.64) + 19 * (q2 - 0.64)) / 200);
    expect(expected).toBeCloseTo(0.0935711, 6);
    expect(hanleyMcNeilSe(0.8, 10, 20)).toBeCloseTo(expected, 14);
    // auc() uses it with (nAnomalous, nReference) in that order.
    const scores = [0.1, 0.4, 0.35, 0.8, 0.7, 0.2];
    const isRef = [true, true, false, true, false, true];
    const a = auc(scores, isRef);
    expect(a.auc).toBe(0.625); // 0.35 beats 0.1, 0.2; 0.7 beats 0.1, 0.4, 0.2: 5 of 8 pairs
    expect(hanleyMcNeilSe(a.auc, 2, 4)).not.toBeCloseTo(hanleyMcNeilSe(a.auc, 4, 2), 3);
    expect(a.se).toBeCloseTo(hanleyMcNeilSe(a.auc, 2, 4), 14);
  });

  it('Hanley-McNeil and bootstrap errors agree with the spread of the AUC over repeated samples', () => {
    const rng = new Rng(21);
    const reps: number[] = [];
    let hm = 0;
    for (let r = 0; r < 200; r++) {
      const { scores, isRef } = twoGaussians(rng, 300, 300, 1);
      const a = auc(scores, isRef);
      reps.push(a.auc);
      hm += a.se / 200;
    }
    const mean = reps.reduce((s, v) => s + v, 0) / reps.length;
    const sd = Math.sqrt(reps.reduce((s, v) => s + (v - mean) ** 2, 0) / (reps.length - 1));
    // With 200 replicates the sample sd is known to about ±5% (1/sqrt(2·199)); HM is an approximation
    // built on exponential scores, so allow 20%.
    expect(Math.abs(hm / sd - 1)).toBeLessThan(0.2);
    const { scores, isRef } = twoGaussians(new Rng(22), 300, 300, 1);
    const boot = auc(scores, isRef, { bootstrap: 400, rng: new Rng(1) });
    expect(boot.bootstrapSe).toBeDefined();
    expect(Math.abs(boot.bootstrapSe! / sd - 1)).toBeLessThan(0.2);
    // Seeded: the same rng seed gives the same bootstrap error.
    expect(auc(scores, isRef, { bootstrap: 400, rng: new Rng(1) }).bootstrapSe).toBe(boot.bootstrapSe);
  });

  it('rejects NaN scores, one-class inputs and a bootstrap without rng', () => {
    expect(() => auc([0.1, NaN, 0.3], [true, false, false])).toThrow(/score of object 1 is NaN/);
    expect(() => auc([0.1, 0.2], [true, true])).toThrow(/both classes/);
    expect(() => roc([0.1, 0.2], [false, false])).toThrow(FluxmutError);
    expect(() => auc([0.1, 0.2], [true, false], { bootstrap: 10 })).toThrow(/rng/);
  });
});

describe('empiricalCdf, calibration and baseline cuts', () => {
  it('counts <= and >= exactly, ties included', () => {
    const e = empiricalCdf([3, 1, 2, 2]);
    expect(Array.from(e.sorted)).toEqual([1, 2, 2, 3]);
    expect(e.cdf(2)).toBe(0.75);
    expect(e.survival(2)).toBe(0.75);
    expect(e.cdf(0.5)).toBe(0);
    expect(e.cdf(3)).toBe(1);
    expect(e.survival(3.5)).toBe(0);
    expect(e.countAtMost(1.9)).toBe(1);
    expect(e.countAtLeast(1)).toBe(4);
    expect(() => empiricalCdf([])).toThrow(FluxmutError);
  });

  it('uniform p-values are calibrated, squeezed ones are not', () => {
    const rng = new Rng(3);
    const n = 5000;
    const uniform = new Float64Array(n), squeezed = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      uniform[i] = rng.uniform();
      squeezed[i] = uniform[i] ** 2; // P(p <= q) = sqrt(q) > q
    }
    const qs = [0.5, 0.9, 0.95, 0.99];
    for (const c of calibration(uniform, qs)) {
      expect(Math.abs(c.pull)).toBeLessThan(4);
      expect(c.kept.n).toBe(n);
    }
    const bad = calibration(squeezed, [0.5]);
    expect(bad[0].kept.rate).toBeCloseTo(Math.SQRT1_2, 1);
    expect(bad[0].pull).toBeGreaterThan(10);
  });

  it('cuts a baseline at the type-7 quantile of its reference scores', () => {
    // Reference scores 1..100: numpy.quantile(q = 0.9) = 90.1, so 90 of 100 are kept.
    const scores: number[] = [], isRef: boolean[] = [];
    for (let i = 1; i <= 100; i++) { scores.push(i); isRef.push(true); }
    for (const s of [50, 95, 200, 300]) { scores.push(s); isRef.push(false); }
    const r = ratesAtReferenceQuantile(scores, isRef, 0.9);
    expect(r.threshold).toBeCloseTo(90.1, 12);
    expect(r.tpr.k).toBe(90);
    expect(r.tpr.n).toBe(100);
    expect(r.tnr.k).toBe(3);
    expect(r.tnr.n).toBe(4);
  });
});
