import { describe, it, expect } from 'vitest';
import { Rng } from '../src/core/rng.js';
import { FluxmutError } from '../src/core/errors.js';
import { GaussianKde, chiSquareCdf, chiSquareQuantile, THREE_SIGMA_COVERAGE } from '../src/flux/kde.js';
import { LatentKdeBank, type SavedTensor } from '../src/flux/kde-bank.js';

// A fixed 10×2 dataset. The scipy numbers below come from scipy 1.17.1:
// gaussian_kde(X.T).covariance / .logpdf, and gaussian_kde(X.T, weights=W).
const X = [
  [0.3, 1.2], [1.1, -0.4], [2.5, 0.9], [-0.7, 2.2], [0.0, 0.0],
  [1.8, 1.7], [-1.2, -0.6], [0.9, 3.1], [2.2, -1.5], [-0.4, 0.8],
];
const W = [1, 2, 0.5, 3, 1, 1, 4, 0.25, 2, 1.5];
const flat = (rows: number[][]): Float64Array => Float64Array.from(rows.flat());
const SCIPY = {
  covariance: [0.7377547584981202, -0.06343504739270807, -0.06343504739270805, 0.9037689191136706],
  logpdf: [-2.8626314082653415, -4.410309474389311, -6.602961267316318],
  weighted: {
    neff: 6.847649918962721,
    factor: 0.7256765264402211,
    covariance: [0.9785801016625538, -0.20491820482055656, -0.20491820482055653, 1.0193132834752014],
    logpdf: [-3.0286793463053088, -4.179119865981756, -5.527158494013402],
  },
  points: [0.5, 0.5, 3, -2, -2, 4],
};

/** Straightforward two-pass weighted covariance, np.cov(aweights=w) semantics. */
function referenceCovariance(rows: number[][], w: number[]): number[] {
  const d = rows[0].length;
  const sw = w.reduce((a, b) => a + b, 0);
  const sw2 = w.reduce((a, b) => a + b * b, 0);
  const mean = Array.from({ length: d }, (_, j) => rows.reduce((a, r, i) => a + w[i] * r[j], 0) / sw);
  const out: number[] = [];
  for (let a = 0; a < d; a++) {
    for (let b = 0; b < d; b++) {
      let s = 0;
      rows.forEach((r, i) => (s += w[i] * (r[a] - mean[a]) * (r[b] - mean[b])));
      out.push(s / (sw - sw2 / sw));
    }
  }
  return out;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rel = 1e-12): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expect(Math.abs(actual[i] - expected[i])).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(expected[i])));
  }
}

describe('GaussianKde (scipy.stats.gaussian_kde semantics)', () => {
  it('kernel covariance = data covariance × Scott factor², Scott factor = n^(-1/(d+4))', () => {
    const kde = new GaussianKde(flat(X), 2);
    expect(kde.n).toBe(10);
    expect(kde.neff).toBeCloseTo(10, 12);
    expect(kde.factor).toBeCloseTo(Math.pow(10, -1 / 6), 14);
    const dataCov = referenceCovariance(X, new Array(10).fill(1));
    expectClose(kde.dataCovariance, dataCov);
    const f2 = Math.pow(10, -1 / 3);
    expectClose(kde.covariance, dataCov.map((v) => v * f2));
    expectClose(kde.covariance, SCIPY.covariance);
    // Its Cholesky factor reproduces it.
    const l = kde.choleskyFactor;
    expectClose([l[0] * l[0], l[2] * l[0], l[2] * l[0], l[2] * l[2] + l[3] * l[3]], SCIPY.covariance);
    expect(l[1]).toBe(0);
    expect(kde.ridge).toBe(0);
  });

  it('weighted: neff = (Σw)²/Σw², aweights covariance, matches scipy', () => {
    const kde = new GaussianKde(flat(X), 2, { weights: W });
    const sw = W.reduce((a, b) => a + b, 0);
    const sw2 = W.reduce((a, b) => a + b * b, 0);
    expect(kde.neff).toBeCloseTo((sw * sw) / sw2, 12);
    expect(kde.neff).toBeCloseTo(SCIPY.weighted.neff, 12);
    expect(kde.factor).toBeCloseTo(Math.pow((sw * sw) / sw2, -1 / 6), 14);
    expect(kde.factor).toBeCloseTo(SCIPY.weighted.factor, 14);
    expectClose(kde.dataCovariance, referenceCovariance(X, W));
    expectClose(kde.covariance, SCIPY.weighted.covariance);
    // Scaling all weights changes nothing.
    const scaled = new GaussianKde(flat(X), 2, { weights: W.map((w) => 7 * w) });
    expectClose(scaled.covariance, kde.covariance);
  });

  it('Silverman and fixed factors', () => {
    const rng = new Rng(3);
    const data = new Float64Array(40 * 3);
    rng.fillNormal(data);
    const s = new GaussianKde(data, 3, { bandwidth: 'silverman' });
    expect(s.factor).toBeCloseTo(Math.pow((40 * 5) / 4, -1 / 7), 14);
    const fixed = new GaussianKde(data, 3, { bandwidth: 0.25 });
    expect(fixed.factor).toBe(0.25);
    expectClose(fixed.covariance, Array.from(fixed.dataCovariance, (v) => v * 0.0625));
    expect(() => new GaussianKde(data, 3, { bandwidth: -1 })).toThrow(FluxmutError);
  });

  it('samples have mean μ and covariance S_biased + factor²·Σ within statistical error', () => {
    const kde = new GaussianKde(flat(X), 2);
    const N = 100_000;
    const s = kde.resample(N, new Rng(11));
    const n = 10;
    const mean = [0, 1].map((j) => X.reduce((a, r) => a + r[j], 0) / n);
    const dataCov = referenceCovariance(X, new Array(n).fill(1));
    // Mixture covariance: the data's 1/n covariance plus the kernel covariance.
    const expected = dataCov.map((v) => v * ((n - 1) / n + kde.factor * kde.factor));
    const sm = [0, 1].map((j) => {
      let a = 0;
      for (let i = 0; i < N; i++) a += s[2 * i + j];
      return a / N;
    });
    for (let j = 0; j < 2; j++) expect(Math.abs(sm[j] - mean[j])).toBeLessThan(5 * Math.sqrt(expected[3 * j] / N));
    for (const [a, b] of [[0, 0], [0, 1], [1, 1]]) {
      let m1 = 0;
      let m2 = 0;
      for (let i = 0; i < N; i++) {
        const p = (s[2 * i + a] - sm[a]) * (s[2 * i + b] - sm[b]);
        m1 += p;
        m2 += p * p;
      }
      m1 /= N;
      const se = Math.sqrt((m2 / N - m1 * m1) / N);
      expect(Math.abs(m1 - expected[2 * a + b])).toBeLessThan(5 * se);
    }
  });

  it('variance correction: draws keep the data covariance instead of inflating it by 1 + factor²', () => {
    const n = 10;
    const dataCov = referenceCovariance(X, new Array(n).fill(1));
    for (const support of [{ varianceCorrection: true, clipMargin: null, maxMahalanobis: 1e3 }, { varianceCorrection: true, clipMargin: null }]) {
      const kde = new GaussianKde(flat(X), 2, { support });
      const r2 = kde.maxMahalanobis ** 2;
      // Truncated χ²₂ kernel: E[r² | r² ≤ R²]/2 = 1 − (R²/2)·e^{−R²/2}/(1 − e^{−R²/2}) in closed form.
      const kappa = Number.isFinite(r2) && r2 < 1e4 ? 1 - (r2 / 2) * Math.exp(-r2 / 2) / (1 - Math.exp(-r2 / 2)) : 1;
      const f2 = kde.factor * kde.factor;
      const N = 100_000;
      const s = kde.resample(N, new Rng(12));
      for (const [a, b] of [[0, 0], [0, 1], [1, 1]]) {
        let ma = 0, mb = 0;
        for (let i = 0; i < N; i++) { ma += s[2 * i + a]; mb += s[2 * i + b]; }
        ma /= N; mb /= N;
        let m1 = 0, m2 = 0;
        for (let i = 0; i < N; i++) {
          const p = (s[2 * i + a] - ma) * (s[2 * i + b] - mb);
          m1 += p; m2 += p * p;
        }
        m1 /= N;
        const se = Math.sqrt((m2 / N - m1 * m1) / N);
        const expected = (dataCov[2 * a + b] * ((n - 1) / n + kappa * f2)) / (1 + kappa * f2);
        expect(Math.abs(m1 - expected)).toBeLessThan(5 * se);
        // and it is not the inflated covariance
        if (a === b) expect(Math.abs(m1 - dataCov[2 * a + b] * ((n - 1) / n + f2))).toBeGreaterThan(10 * se);
      }
    }
  });

  it('logpdf equals the directly evaluated mixture density (1-D and 2-D) and scipy', () => {
    const x1 = [0.1, 0.7, -1.3, 2.4, 0.0, 1.1];
    const k1 = new GaussianKde(x1, 1);
    const mean = x1.reduce((a, b) => a + b) / 6;
    const variance = x1.reduce((a, b) => a + (b - mean) ** 2, 0) / 5;
    const h2 = variance * Math.pow(6, -2 / 5);
    for (const t of [-3, 0.3, 1.9, 8]) {
      const direct = x1.reduce((a, xi) => a + Math.exp(-((t - xi) ** 2) / (2 * h2)) / Math.sqrt(2 * Math.PI * h2), 0) / 6;
      expect(k1.logpdf([t])[0]).toBeCloseTo(Math.log(direct), 12);
    }
    const k2 = new GaussianKde(flat(X), 2);
    const [a, b, , c] = k2.covariance;
    const det = a * c - b * b;
    const lp = k2.logpdf(SCIPY.points);
    for (let p = 0; p < 3; p++) {
      const [u, v] = [SCIPY.points[2 * p], SCIPY.points[2 * p + 1]];
      let dens = 0;
      for (const r of X) {
        const dx = u - r[0];
        const dy = v - r[1];
        const q = (c * dx * dx - 2 * b * dx * dy + a * dy * dy) / det;
        dens += Math.exp(-0.5 * q) / (2 * Math.PI * Math.sqrt(det)) / 10;
      }
      expect(lp[p]).toBeCloseTo(Math.log(dens), 12);
    }
    expectClose(lp, SCIPY.logpdf);
    expectClose(new GaussianKde(flat(X), 2, { weights: W }).logpdf(SCIPY.points), SCIPY.weighted.logpdf);
    // Far away, log-sum-exp stays finite where the plain density underflows.
    expect(Number.isFinite(k1.logpdf([500])[0])).toBe(true);
  });

  it('picks centres in proportion to the weights; zero-weight points never', () => {
    const w = [0, 1, 3, 0, 6];
    const kde = new GaussianKde([0, 1, 2, 3, 4], 1, { weights: w });
    const N = 50_000;
    const { centres } = kde.resampleWithCentres(N, new Rng(5));
    const counts = [0, 0, 0, 0, 0];
    for (const c of centres) counts[c]++;
    expect(counts[0]).toBe(0);
    expect(counts[3]).toBe(0);
    for (const i of [1, 2, 4]) {
      const p = w[i] / 10;
      expect(Math.abs(counts[i] / N - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / N));
    }
  });

  it('χ² CDF and quantile match closed forms and scipy.stats.chi2', () => {
    expect(chiSquareQuantile(THREE_SIGMA_COVERAGE, 1)).toBeCloseTo(9, 10);
    for (const x of [0.5, 2, 7, 30]) expect(chiSquareCdf(x, 2)).toBeCloseTo(1 - Math.exp(-x / 2), 14);
    // scipy: sqrt(chi2.ppf(0.9973002039367398, d)) for d = 3, 16, 28.
    expect(Math.sqrt(chiSquareQuantile(THREE_SIGMA_COVERAGE, 3))).toBeCloseTo(3.7625009779569063, 9);
    expect(Math.sqrt(chiSquareQuantile(THREE_SIGMA_COVERAGE, 16))).toBeCloseTo(6.018004332025806, 9);
    expect(Math.sqrt(chiSquareQuantile(THREE_SIGMA_COVERAGE, 28))).toBeCloseTo(7.301419348628038, 9);
  });

  it('truncated kernel: no draw lies beyond the bound from its centre (untruncated ones do)', () => {
    const rng = new Rng(21);
    const d = 4;
    const data = new Float64Array(30 * d);
    rng.fillNormal(data);
    const N = 20_000;
    const plain = new GaussianKde(data, d);
    const radius = Math.sqrt(chiSquareQuantile(THREE_SIGMA_COVERAGE, d));
    const p = plain.resampleWithCentres(N, new Rng(1));
    let beyond = 0;
    for (let i = 0; i < N; i++) if (plain.kernelMahalanobis2(p.samples.subarray(i * d, (i + 1) * d), p.centres[i]) > radius * radius) beyond++;
    // About 0.27% of untruncated draws: the check below would see them.
    expect(beyond).toBeGreaterThan(0.0027 * N * 0.5);

    const trunc = new GaussianKde(data, d, { support: { clipMargin: null } });
    expect(trunc.maxMahalanobis).toBeCloseTo(radius, 12);
    const t = trunc.resampleWithCentres(N, new Rng(1));
    let worst = 0;
    for (let i = 0; i < N; i++) worst = Math.max(worst, trunc.kernelMahalanobis2(t.samples.subarray(i * d, (i + 1) * d), t.centres[i]));
    expect(Math.sqrt(worst)).toBeLessThanOrEqual(radius + 1e-9);

    const fixed = new GaussianKde(data, d, { support: { maxMahalanobis: 1.5, clipMargin: null } });
    const f = fixed.resampleWithCentres(2000, new Rng(2));
    for (let i = 0; i < 2000; i++) expect(fixed.kernelMahalanobis2(f.samples.subarray(i * d, (i + 1) * d), f.centres[i])).toBeLessThanOrEqual(1.5 * 1.5 + 1e-9);
  });

  it('clip box: every coordinate stays within the data range widened by the margin', () => {
    const data = [0, 0, 1, 10, 2, 5, 3, 7];
    const kde = new GaussianKde(data, 2, { support: { maxMahalanobis: 50, clipMargin: 0.1 } });
    const s = kde.resample(5000, new Rng(8));
    let hitEdge = 0;
    const lo = [Infinity, Infinity];
    const hi = [-Infinity, -Infinity];
    for (let i = 0; i < 5000; i++) {
      for (let j = 0; j < 2; j++) {
        lo[j] = Math.min(lo[j], s[2 * i + j]);
        hi[j] = Math.max(hi[j], s[2 * i + j]);
      }
      if (Math.abs(s[2 * i] + 0.3) < 1e-12 || Math.abs(s[2 * i] - 3.3) < 1e-12) hitEdge++;
    }
    // Box: x in [0 - 0.1·3, 3 + 0.1·3], y in [0 - 0.1·10, 10 + 0.1·10].
    expect(lo[0]).toBeGreaterThanOrEqual(-0.3 - 1e-12);
    expect(hi[0]).toBeLessThanOrEqual(3.3 + 1e-12);
    expect(lo[1]).toBeGreaterThanOrEqual(-1 - 1e-12);
    expect(hi[1]).toBeLessThanOrEqual(11 + 1e-12);
    expect(hitEdge).toBeGreaterThan(0); // the box was active, not vacuous
  });

  it('singular covariance gets a ridge instead of crashing; bad input is a FluxmutError', () => {
    const same = new GaussianKde([1, 2, 1, 2, 1, 2], 2);
    expect(same.ridge).toBeGreaterThan(0);
    const s = same.resample(100, new Rng(1));
    for (let i = 0; i < 100; i++) {
      expect(Math.abs(s[2 * i] - 1)).toBeLessThan(0.05);
      expect(Math.abs(s[2 * i + 1] - 2)).toBeLessThan(0.05);
    }
    // d > n − 1: 3 points in 5 dimensions.
    const rng = new Rng(2);
    const few = new Float64Array(15);
    rng.fillNormal(few);
    const k = new GaussianKde(few, 5);
    expect(k.ridge).toBeGreaterThan(0);
    expect(k.resample(50, rng).every(Number.isFinite)).toBe(true);
    expect(k.logpdf(few).every(Number.isFinite)).toBe(true);
    // A well-conditioned one gets none.
    expect(new GaussianKde(flat(X), 2).ridge).toBe(0);

    expect(() => new GaussianKde([], 2)).toThrow(FluxmutError);
    expect(() => new GaussianKde([1, 2, Number.NaN, 4], 2)).toThrow(/data point 1, dimension 0/);
    expect(() => new GaussianKde([1, 2, 3], 2)).toThrow(FluxmutError);
    expect(() => new GaussianKde([1, 2], 1, { weights: [1, -1] })).toThrow(/weight 1/);
  });

  it('is deterministic for a seed', () => {
    const kde = new GaussianKde(flat(X), 2, { support: true });
    expect(kde.resample(50, new Rng(9))).toEqual(kde.resample(50, new Rng(9)));
    expect(kde.resample(50, new Rng(9))).not.toEqual(kde.resample(50, new Rng(10)));
  });
});

/** Latents z_i = (i, −i, ...) so rows are recognisable, with conditions given per row. */
function latents(n: number, D: number, rng?: Rng): { rows: number; cols: number; data: Float32Array } {
  const data = new Float32Array(n * D);
  if (rng) rng.fillNormal(data);
  return { rows: n, cols: D, data };
}

describe('LatentKdeBank', () => {
  it('fixed widths: edges start at the training min; rows land in floor((k − min)/width)', () => {
    const rng = new Rng(4);
    const n = 400;
    const k = new Float64Array(n * 2);
    for (let i = 0; i < n; i++) {
      k[2 * i] = 10 + 20 * rng.uniform(); // e.g. z position, 4 cm bins
      k[2 * i + 1] = 0.1 + 0.9 * rng.uniform(); // e.g. energy, 0.2 GeV bins
    }
    const bank = LatentKdeBank.fit(latents(n, 3, rng), { rows: n, cols: 2, data: k }, new Rng(1), {
      binning: [{ width: 4 }, { width: 0.2 }],
      minPerBin: 1,
    });
    const min = [0, 1].map((j) => Math.min(...Array.from({ length: n }, (_, i) => k[2 * i + j])));
    const max = [0, 1].map((j) => Math.max(...Array.from({ length: n }, (_, i) => k[2 * i + j])));
    const nb = [Math.ceil((max[0] - min[0]) / 4), Math.ceil((max[1] - min[1]) / 0.2)];
    expect(bank.shape).toEqual(nb);
    expect(bank.edges[0][0]).toBe(min[0]);
    expect(bank.edges[0][1]).toBeCloseTo(min[0] + 4, 12);
    expect(bank.edges[1][0]).toBe(min[1]);
    expect(bank.edges[1][nb[1]]).toBeGreaterThanOrEqual(max[1]);
    const expected = Array.from({ length: bank.nBins }, () => [] as number[]);
    for (let i = 0; i < n; i++) {
      const a = Math.min(nb[0] - 1, Math.floor((k[2 * i] - min[0]) / 4));
      const b = Math.min(nb[1] - 1, Math.floor((k[2 * i + 1] - min[1]) / 0.2));
      expected[a * nb[1] + b].push(i);
      expect(bank.binOf([k[2 * i], k[2 * i + 1]])).toBe(a * nb[1] + b);
    }
    for (let b = 0; b < bank.nBins; b++) {
      expect(Array.from(bank.rowsOfBin(b))).toEqual(expected[b]);
      expect(bank.counts[b]).toBe(expected[b].length);
      expect(bank.binIndex(b)).toEqual([Math.floor(b / nb[1]), b % nb[1]]);
    }
  });

  it('quantile bins: equal counts at numpy linear-interpolation quantiles', () => {
    const n = 100;
    const k = new Float64Array(n);
    const perm = new Rng(6).permutation(n);
    for (let i = 0; i < n; i++) k[i] = perm[i] * 0.5; // 0, 0.5, ..., 49.5 in shuffled order
    const bank = LatentKdeBank.fit(latents(n, 2, new Rng(1)), { rows: n, cols: 1, data: k }, new Rng(1), { binning: [{ quantiles: 4 }], minPerBin: 1 });
    // np.quantile(arange(100) * 0.5, [0, .25, .5, .75, 1]) = [0, 12.375, 24.75, 37.125, 49.5]
    expectClose(bank.edges[0], [0, 12.375, 24.75, 37.125, 49.5]);
    expect(Array.from(bank.counts)).toEqual([25, 25, 25, 25]);
    for (let b = 0; b < 4; b++) for (const r of bank.rowsOfBin(b)) expect(Math.floor(k[r] / 12.5)).toBe(b);
  });

  it('sparse and empty bins borrow whole rings of the nearest populated bins', () => {
    // A 5×5 grid of unit bins (explicit edges); counts chosen per cell.
    const count = (a: number, b: number): number => {
      if (a === 2 && b === 2) return 0; // empty centre
      if (a === 0 && b === 0) return 3; // sparse corner
      if (a === 4 && b === 4) return 0; // empty corner with sparse neighbours
      if ((a === 3 && b === 4) || (a === 4 && b === 3)) return 10;
      return 60;
    };
    const kRows: number[][] = [];
    for (let a = 0; a < 5; a++) for (let b = 0; b < 5; b++) for (let c = 0; c < count(a, b); c++) kRows.push([a + 0.5, b + 0.5]);
    const n = kRows.length;
    const bank = LatentKdeBank.fit(latents(n, 2, new Rng(2)), { rows: n, cols: 2, data: Float64Array.from(kRows.flat()) }, new Rng(1), {
      binning: [{ edges: [0, 1, 2, 3, 4, 5] }, { edges: [0, 1, 2, 3, 4, 5] }],
      minPerBin: 50,
      maxPerBin: 1000,
    });
    const flatBin = (a: number, b: number): number => a * 5 + b;
    const sorted = (a: number[]): number[] => a.sort((x, y) => x - y);
    // Centre (2,2): the 4 edge neighbours at distance 1 hold 240 >= 50 rows; the diagonals are not needed.
    expect(sorted(bank.borrowedFrom(flatBin(2, 2)))).toEqual([flatBin(1, 2), flatBin(2, 1), flatBin(2, 3), flatBin(3, 2)]);
    expect(bank.binInfo(flatBin(2, 2)).kdeRows).toBe(240);
    // Corner (4,4): neighbours (3,4),(4,3) at distance 1 give 20 < 50, then (3,3) at sqrt(2).
    expect(sorted(bank.borrowedFrom(flatBin(4, 4)))).toEqual([flatBin(3, 3), flatBin(3, 4), flatBin(4, 3)]);
    expect(bank.binInfo(flatBin(4, 4)).kdeRows).toBe(80);
    // (3,4) with 10 rows: populated neighbours at distance 1 are (2,4) and (3,3); (4,4) is empty.
    expect(sorted(bank.borrowedFrom(flatBin(3, 4)))).toEqual([flatBin(2, 4), flatBin(3, 3)]);
    // Sparse (0,0): keeps its own 3 rows first, then all rows of (0,1) and (1,0).
    const info = bank.binInfo(flatBin(0, 0));
    expect(info.ownRows).toBe(3);
    expect(sorted(info.borrowedFrom)).toEqual([flatBin(0, 1), flatBin(1, 0)]);
    const kdeRows = Array.from(bank.kdeRowsOfBin(flatBin(0, 0)));
    expect(kdeRows.slice(0, 3)).toEqual(Array.from(bank.rowsOfBin(flatBin(0, 0))));
    const donorRows = [flatBin(0, 1), flatBin(1, 0)].flatMap((b) => Array.from(bank.rowsOfBin(b)));
    expect(sorted(kdeRows.slice(3))).toEqual(sorted(donorRows));
    // A populated bin borrows nothing.
    expect(bank.borrowedFrom(flatBin(1, 1))).toEqual([]);
    expect(bank.binInfo(flatBin(1, 1)).kdeRows).toBe(60);
    // Empty bins own no rows, and binInfo reports their edges.
    expect(bank.rowsOfBin(flatBin(2, 2)).length).toBe(0);
    expect(bank.binInfo(flatBin(2, 2))).toMatchObject({ lower: [2, 2], upper: [3, 3], ownRows: 0 });
  });

  it('caps the latents per bin with a seeded subsample of the bin', () => {
    const n = 300;
    const bank = LatentKdeBank.fit(latents(n, 2, new Rng(3)), null, new Rng(1), { maxPerBin: 100, minPerBin: 10 });
    const rows = Array.from(bank.kdeRowsOfBin(0));
    expect(rows.length).toBe(100);
    expect(new Set(rows).size).toBe(100);
    expect(rows.every((r) => r >= 0 && r < n)).toBe(true);
    expect(bank.toTensors().latents.shape).toEqual([100, 2]);
    const again = LatentKdeBank.fit(latents(n, 2, new Rng(3)), null, new Rng(2), { maxPerBin: 100, minPerBin: 10 });
    expect(Array.from(again.kdeRowsOfBin(0))).not.toEqual(rows);
  });

  it('clamps out-of-range conditions to the edge bin and says so', () => {
    const n = 200;
    const k = Float64Array.from({ length: n }, (_, i) => i / 10); // 0 .. 19.9
    const bank = LatentKdeBank.fit(latents(n, 2, new Rng(1)), { rows: n, cols: 1, data: k }, new Rng(1), { binning: [{ width: 5 }], minPerBin: 1 });
    expect(bank.shape).toEqual([4]);
    expect(bank.locate([-3])).toEqual({ bin: 0, index: [0], clamped: [true], outOfRange: true });
    expect(bank.locate([25])).toEqual({ bin: 3, index: [3], clamped: [true], outOfRange: true });
    expect(bank.locate([19.9])).toMatchObject({ bin: 3, outOfRange: false });
    expect(bank.locate([0])).toMatchObject({ bin: 0, outOfRange: false });
    expect(bank.binOf([7.5])).toBe(1);
    expect(() => bank.binOf([Number.NaN])).toThrow(FluxmutError);
    expect(() => bank.binOf([1, 2])).toThrow(/1 \(k0\)/);
    expect(bank.sample([1e6], 10, new Rng(1)).length).toBe(20);
  });

  it('L = 0 is one bin holding every row', () => {
    const n = 120;
    const bank = LatentKdeBank.fit(latents(n, 4, new Rng(5)), null, new Rng(1));
    expect(bank.nBins).toBe(1);
    expect(bank.binOf([])).toBe(0);
    expect(bank.rowsOfBin(0).length).toBe(n);
    const s = bank.sample([], 1500, new Rng(2));
    expect(s).toBeInstanceOf(Float32Array);
    expect(s.length).toBe(1500 * 4);
    const viaZeroCols = LatentKdeBank.fit(latents(n, 4, new Rng(5)), { rows: n, cols: 0, data: [] }, new Rng(1));
    expect(viaZeroCols.sample([], 1500, new Rng(2))).toEqual(s);
  });

  it('default support keeps bank draws within the bin data range widened by 10%', () => {
    const n = 200;
    const D = 16;
    const bank = LatentKdeBank.fit(latents(n, D, new Rng(7)), null, new Rng(1));
    const kde = bank.kdeOf(0);
    expect(kde.maxMahalanobis).toBeCloseTo(6.018004332025806, 9);
    const s = bank.sample([], 3000, new Rng(3));
    const z = bank.toTensors().latents.data;
    for (let j = 0; j < D; j++) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < n; i++) {
        lo = Math.min(lo, z[i * D + j]);
        hi = Math.max(hi, z[i * D + j]);
      }
      const pad = 0.1 * (hi - lo);
      let sLo = Infinity;
      let sHi = -Infinity;
      for (let i = 0; i < 3000; i++) {
        sLo = Math.min(sLo, s[i * D + j]);
        sHi = Math.max(sHi, s[i * D + j]);
      }
      // float32 rounding of the returned samples is the only slack.
      expect(sLo).toBeGreaterThanOrEqual(lo - pad - 1e-6);
      expect(sHi).toBeLessThanOrEqual(hi + pad + 1e-6);
    }
    // Opting out gives scipy's plain KDE.
    const plain = LatentKdeBank.fit(latents(n, D, new Rng(7)), null, new Rng(1), { support: false });
    expect(plain.kdeOf(0).maxMahalanobis).toBe(Infinity);
    expect(plain.kdeOf(0).clipLow).toBeNull();
  });

  it('save → load round trip gives identical samples; same seed gives the same bank', () => {
    const rng = new Rng(12);
    const n = 600;
    const k = new Float64Array(n * 2);
    for (let i = 0; i < n; i++) {
      k[2 * i] = rng.normal() * 3;
      k[2 * i + 1] = Math.exp(rng.normal());
    }
    const Z = latents(n, 6, rng);
    const opts = { binning: [{ width: 1.5 }, { quantiles: 5 }], maxPerBin: 40, minPerBin: 20, conditionNames: ['z', 'E'] };
    const bank = LatentKdeBank.fit(Z, { rows: n, cols: 2, data: k }, new Rng(99), opts);
    const twin = LatentKdeBank.fit(Z, { rows: n, cols: 2, data: k }, new Rng(99), opts);
    const json = JSON.parse(JSON.stringify(bank.toJSON()));
    const tensors: Record<string, SavedTensor> = {};
    for (const [name, t] of Object.entries(bank.toTensors())) {
      tensors[name] = { dtype: t.dtype, shape: [...t.shape], data: t.data.slice() } as SavedTensor;
      expect(Object.entries(twin.toTensors()).find(([nm]) => nm === name)![1].data).toEqual(t.data);
    }
    const loaded = LatentKdeBank.fromSaved(json, tensors);
    expect(loaded.nBins).toBe(bank.nBins);
    expect(loaded.conditionNames).toEqual(['z', 'E']);
    for (let b = 0; b < bank.nBins; b++) {
      expect(loaded.sampleBin(b, 30, new Rng(b))).toEqual(bank.sampleBin(b, 30, new Rng(b)));
      expect(loaded.rowsOfBin(b)).toEqual(bank.rowsOfBin(b));
      expect(loaded.binInfo(b)).toEqual(bank.binInfo(b));
    }
    for (const q of [[0, 1], [-20, 0.01], [4.4, 3]]) expect(loaded.locate(q)).toEqual(bank.locate(q));

    const broken = { ...tensors, bin_members: { ...tensors.bin_members, data: tensors.bin_members.data.map((v) => v + 1e6) as Int32Array } };
    expect(() => LatentKdeBank.fromSaved(json, broken)).toThrow(/bin_members/);
    const { donors: _omit, ...missing } = tensors;
    expect(() => LatentKdeBank.fromSaved(json, missing)).toThrow(/'donors' is missing/);
    expect(() => LatentKdeBank.fromSaved({ ...json, latentDim: 7 }, tensors)).toThrow(FluxmutError);
  });

  it('rejects bad training input with a FluxmutError naming the row', () => {
    const Z = latents(3, 2, new Rng(1));
    expect(() => LatentKdeBank.fit({ rows: 0, cols: 2, data: [] }, null, new Rng(1))).toThrow(FluxmutError);
    expect(() => LatentKdeBank.fit(Z, { rows: 3, cols: 1, data: [1, Number.NaN, 2] }, new Rng(1), { binning: [{ width: 1 }] })).toThrow(/row 1/);
    const bad = latents(3, 2);
    bad.data[5] = Number.POSITIVE_INFINITY;
    expect(() => LatentKdeBank.fit(bad, null, new Rng(1))).toThrow(/latent row 2/);
    expect(() => LatentKdeBank.fit(Z, { rows: 2, cols: 1, data: [1, 2] }, new Rng(1))).toThrow(FluxmutError);
    expect(() => LatentKdeBank.fit(Z, { rows: 3, cols: 1, data: [1, 2, 3] }, new Rng(1), { binning: [{ width: 0 }] })).toThrow(FluxmutError);
  });
});
