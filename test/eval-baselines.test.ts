import { describe, it, expect } from 'vitest';
import { fitGmm, gmmLogLikelihood, gmmScore, knnDistance, fitGbt, gbtScore, gbtLogOdds } from '../src/eval/baselines.js';
import { auc } from '../src/eval/metrics.js';
import { Rng } from '../src/core/rng.js';
import { FluxmutError } from '../src/core/errors.js';

// Standard normal CDF via Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7).
function phi(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erfc = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-z * z);
  return x >= 0 ? 1 - erfc / 2 : erfc / 2;
}

// A 2-D mixture drawn component by component: 0.3·N((-2,0), Σ0) + 0.7·N((2,1), Σ1).
const TRUE = {
  weights: [0.3, 0.7],
  means: [[-2, 0], [2, 1]],
  // Σ = A·Aᵀ with A lower-triangular, so draws are μ + A·ε.
  chol: [[0.8, 0, 0.3, 0.5], [0.6, 0, -0.4, 0.9]],
};

function drawMixture(rng: Rng, n: number): { x: Float64Array; label: Int32Array } {
  const x = new Float64Array(n * 2);
  const label = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = rng.uniform() < TRUE.weights[0] ? 0 : 1;
    label[i] = c;
    const e0 = rng.normal(), e1 = rng.normal();
    const a = TRUE.chol[c];
    x[2 * i] = TRUE.means[c][0] + a[0] * e0;
    x[2 * i + 1] = TRUE.means[c][1] + a[2] * e0 + a[3] * e1;
  }
  return { x, label };
}

// Bivariate normal log-density written out with the explicit 2x2 inverse: an independent route.
function logNormal2(x0: number, x1: number, m: ArrayLike<number>, s: ArrayLike<number>): number {
  const det = s[0] * s[3] - s[1] * s[2];
  const d0 = x0 - m[0], d1 = x1 - m[1];
  const q = (s[3] * d0 * d0 - (s[1] + s[2]) * d0 * d1 + s[0] * d1 * d1) / det;
  return -Math.log(2 * Math.PI) - 0.5 * Math.log(det) - 0.5 * q;
}

describe('Gaussian mixture baseline', () => {
  it('recovers the weights and means of a known 2-component mixture', () => {
    const n = 4000;
    const { x } = drawMixture(new Rng(1), n);
    const m = fitGmm(x, 2, { components: 2, rng: new Rng(2) });
    expect(m.converged).toBe(true);
    const order = m.means[0] < m.means[2] ? [0, 1] : [1, 0];
    for (let t = 0; t < 2; t++) {
      const c = order[t];
      const w = TRUE.weights[t];
      // Binomial error on the weight; the error of a mean is σ/sqrt(n·w) per coordinate.
      expect(Math.abs(m.weights[c] - w)).toBeLessThan(4 * Math.sqrt((w * (1 - w)) / n));
      const a = TRUE.chol[t];
      const sd = [a[0], Math.hypot(a[2], a[3])];
      for (let j = 0; j < 2; j++) {
        expect(Math.abs(m.means[c * 2 + j] - TRUE.means[t][j])).toBeLessThan((4 * sd[j]) / Math.sqrt(n * w));
      }
      // Covariance entries within 15% of the truth (relative error ~ sqrt(2/(n·w)) ≈ 4% for the variances).
      const cov = m.covariances.subarray(c * 4, c * 4 + 4);
      expect(Math.abs(cov[0] / (a[0] * a[0]) - 1)).toBeLessThan(0.15);
      expect(Math.abs(cov[3] / (a[2] * a[2] + a[3] * a[3]) - 1)).toBeLessThan(0.15);
      expect(cov[1]).toBe(cov[2]);
    }
  });

  it('log-likelihood equals the mixture density computed directly, and score is its negative', () => {
    const { x } = drawMixture(new Rng(3), 600);
    const m = fitGmm(x, 2, { components: 3, rng: new Rng(4) });
    const ll = gmmLogLikelihood(m, x);
    const sc = gmmScore(m, x);
    for (let i = 0; i < 600; i += 37) {
      let p = 0;
      for (let c = 0; c < 3; c++) p += m.weights[c] * Math.exp(logNormal2(x[2 * i], x[2 * i + 1], m.means.subarray(2 * c), m.covariances.subarray(4 * c)));
      expect(ll[i]).toBeCloseTo(Math.log(p), 10);
      expect(sc[i]).toBe(-ll[i]);
    }
    // The recorded history is the mean log-likelihood of the parameters it was evaluated at.
    expect(m.logLikelihoodHistory.length).toBe(m.iterations);
  });

  it('EM never decreases the log-likelihood', () => {
    // Non-Gaussian 3-D data (a curved band) so EM has work to do with K = 5 for many iterations.
    const rng = new Rng(7);
    const n = 1500;
    const x = new Float64Array(n * 3);
    for (let i = 0; i < n; i++) {
      const t = 3 * rng.uniform();
      x[3 * i] = Math.cos(t) + 0.1 * rng.normal();
      x[3 * i + 1] = Math.sin(t) + 0.1 * rng.normal();
      x[3 * i + 2] = rng.uniform() ** 2;
    }
    const m = fitGmm(x, 3, { components: 5, rng: new Rng(8), tol: 0, maxIter: 60 });
    const h = m.logLikelihoodHistory;
    expect(h.length).toBe(60);
    expect(h[h.length - 1]).toBeGreaterThan(h[0]);
    for (let i = 1; i < h.length; i++) expect(h[i]).toBeGreaterThanOrEqual(h[i - 1] - 1e-9 * Math.abs(h[i - 1]));
  });

  it('is reproducible from the seed and rejects bad input', () => {
    const { x } = drawMixture(new Rng(9), 300);
    const a = fitGmm(x, 2, { components: 3, rng: new Rng(5) });
    const b = fitGmm(x, 2, { components: 3, rng: new Rng(5) });
    expect(Array.from(a.means)).toEqual(Array.from(b.means));
    expect(() => fitGmm(x.subarray(0, 5), 2, { rng: new Rng(1) })).toThrow(/whole number of rows/);
    const withNaN = x.slice();
    withNaN[7] = NaN;
    expect(() => fitGmm(withNaN, 2, { components: 2, rng: new Rng(1) })).toThrow(/row 3, column 1 is NaN/);
    expect(() => fitGmm(x.subarray(0, 8), 2, { components: 16, rng: new Rng(1) })).toThrow(FluxmutError);
  });
});

describe('kNN distance baseline', () => {
  it('hand cases in 1-D and 2-D', () => {
    const train = Float64Array.from([0, 1, 3, 6]);
    const test = Float64Array.from([2]);
    expect(Array.from(knnDistance(train, test, 1, { k: 1 }))).toEqual([1]);
    expect(Array.from(knnDistance(train, test, 1, { k: 2 }))).toEqual([1]);
    expect(Array.from(knnDistance(train, test, 1, { k: 3 }))).toEqual([2]);
    expect(Array.from(knnDistance(train, test, 1, { k: 4 }))).toEqual([4]);
    expect(Array.from(knnDistance(train, train, 1, { k: 1, excludeSelf: true }))).toEqual([1, 1, 2, 3]);
    const train2 = Float64Array.from([0, 0, 3, 4, -1, 0]);
    expect(Array.from(knnDistance(train2, Float64Array.from([0, 0, 6, 8]), 2, { k: 2 }))).toEqual([1, 10]); // (6,8): 5 to (3,4), 10 to (0,0), 10.6 to (-1,0)
    expect(() => knnDistance(train, test, 1, { k: 5 })).toThrow(/k must be an integer in \[1, 4\]/);
  });
});

describe('gradient-boosted trees (supervised baseline)', () => {
  it('separates two shifted Gaussians nearly as well as the Bayes-optimal rule', () => {
    // Reference N(0, I_8), anomalous N(δ, I_8) with δ = (μ/√2)(1, 1, 0, ...): the optimal score is
    // x·δ and its AUC is Φ(|δ|/√2).
    const d = 8, mu = 1.5, s = mu / Math.SQRT2;
    const draw = (rng: Rng, n: number) => {
      const x = new Float64Array(n * d);
      const isRef: boolean[] = [];
      rng.fillNormal(x);
      for (let i = 0; i < n; i++) {
        const ref = i % 2 === 0;
        isRef.push(ref);
        if (!ref) { x[i * d] += s; x[i * d + 1] += s; }
      }
      return { x, isRef };
    };
    const train = draw(new Rng(31), 10000);
    const test = draw(new Rng(32), 10000);
    const m = fitGbt(train.x, d, train.isRef);
    expect(m.trees.length).toBe(100);
    for (let i = 1; i < m.trainLoss.length; i++) expect(m.trainLoss[i]).toBeLessThanOrEqual(m.trainLoss[i - 1] + 1e-12);
    const p = gbtScore(m, test.x);
    for (const v of p) expect(v > 0 && v < 1).toBe(true);
    const got = auc(p, test.isRef);
    const bayesScore = new Float64Array(10000);
    for (let i = 0; i < 10000; i++) bayesScore[i] = test.x[i * d] + test.x[i * d + 1];
    const bayes = auc(bayesScore, test.isRef);
    expect(Math.abs(bayes.auc - phi(mu / Math.SQRT2))).toBeLessThan(4 * bayes.se);
    // Paired on one test set the noise largely cancels, so the gap is the model's own shortfall:
    // 100 depth-3 trees approximate the linear log-odds x0 + x1 with steps; a 0.01 loss in AUC is
    // far more than such a fit should cost, and it cannot beat the Bayes rule by more than noise.
    expect(got.auc).toBeGreaterThan(bayes.auc - 0.01);
    expect(got.auc).toBeLessThan(bayes.auc + 0.005);
  });

  it('finds the cut between perfectly separated classes and predicts through raw thresholds', () => {
    const x = new Float64Array(200);
    const isRef: boolean[] = [];
    for (let i = 0; i < 200; i++) { x[i] = i < 120 ? i / 120 : 2 + i / 100; isRef.push(i < 120); }
    // 256 bins > 200 rows: every distinct value is a candidate cut, the class boundary included.
    const m = fitGbt(x, 1, isRef, { rounds: 30, minSamplesLeaf: 5, bins: 256 });
    const t = m.trees[0];
    expect(t.feature[0]).toBe(0);
    expect(t.threshold[0]).toBeGreaterThanOrEqual(119 / 120);
    expect(t.threshold[0]).toBeLessThan(2 + 120 / 100);
    const f = gbtLogOdds(m, Float64Array.from([0.5, 3]));
    expect(f[0]).toBeLessThan(-2);
    expect(f[1]).toBeGreaterThan(2);
    expect(auc(gbtScore(m, x), isRef).auc).toBe(1);
  });

  it('rejects one-class labels and bad options', () => {
    const x = new Float64Array(40);
    expect(() => fitGbt(x, 2, new Array(20).fill(true))).toThrow(/needs both classes/);
    expect(() => fitGbt(x, 2, new Array(19).fill(true))).toThrow(/20 rows but 19 labels/);
    expect(() => fitGbt(x, 2, new Array(20).fill(false).map((_, i) => i < 10), { bins: 300 })).toThrow(/bins/);
  });
});
