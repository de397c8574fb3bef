// Approximate scoring of new points (the cached mode) against the exact score (refit with the
// point appended, the paper's exact mode) in the paper's configuration: 1500 Gaussian reference
// points in 28-D, min_cluster_size 1000, min_samples 100 — a tree where no cluster is selected.
import { describe, expect, it } from 'vitest';
import { ExactRefitScorer, hdbscan, NewPointScorer } from '../src/cluster/index.js';
import { Rng } from '../src/core/rng.js';

function ranks(a: Float64Array): Float64Array {
  const idx = Array.from(a.keys()).sort((i, j) => a[i] - a[j]);
  const r = new Float64Array(a.length);
  for (let s = 0; s < idx.length; ) {
    let e = s;
    while (e + 1 < idx.length && a[idx[e + 1]] === a[idx[s]]) e++;
    for (let t = s; t <= e; t++) r[idx[t]] = (s + e) / 2; // average rank for ties
    s = e + 1;
  }
  return r;
}
function spearman(a: Float64Array, b: Float64Array): number {
  const ra = ranks(a);
  const rb = ranks(b);
  const n = a.length;
  const ma = ra.reduce((s, v) => s + v, 0) / n;
  const mb = rb.reduce((s, v) => s + v, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (ra[i] - ma) * (rb[i] - mb);
    saa += (ra[i] - ma) ** 2;
    sbb += (rb[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}
function quantile(a: Float64Array, q: number): number {
  const s = Float64Array.from(a).sort();
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (pos - lo);
}

describe('approximate GLOSH for new points', () => {
  it('agrees with the exact refit score (N=1500, 28-D, mcs 1000, ms 100)', () => {
    const n = 1500;
    const d = 28;
    const rng = new Rng(2022);
    const X = new Float64Array(n * d);
    rng.fillNormal(X);
    const opts = { minClusterSize: 1000, minSamples: 100 };
    const fit = hdbscan(X, n, d, opts);
    expect(fit.nClusters).toBe(0); // no split is possible: the reference's predictor gives up here
    // 40 points from the reference distribution, 40 from shifted/widened ones.
    const m = 80;
    const P = new Float64Array(m * d);
    for (let q = 0; q < m; q++) {
      const shift = q < 40 ? 0 : 0.15 * (q - 40) / 40;
      const scale = q < 40 ? 1 : 1 + 0.3 * ((q * 7) % 40) / 40;
      for (let k = 0; k < d; k++) P[q * d + k] = shift + scale * rng.normal();
    }
    const approx = new NewPointScorer(fit).score(P).scores;
    const refit = new ExactRefitScorer(X, n, d, opts);
    const exact = Float64Array.from({ length: m }, (_, q) => refit.score(P.subarray(q * d, q * d + d)));
    const cut = quantile(fit.outlierScores, 0.95);
    let agree = 0;
    let maxErr = 0;
    for (let q = 0; q < m; q++) {
      if (approx[q] > cut === exact[q] > cut) agree++;
      maxErr = Math.max(maxErr, Math.abs(approx[q] - exact[q]));
    }
    const rho = spearman(approx, exact);
    const outliers = exact.filter((s) => s > cut).length;
    console.log(
      `new-point scoring: Spearman ${rho.toFixed(5)}, decision agreement at q95 ${agree}/${m}, ` +
        `max |approx − exact| ${maxErr.toExponential(2)}, exact outliers ${outliers}/${m}`,
    );
    // The sample must exercise both sides of the cut for the agreement to mean anything.
    expect(outliers).toBeGreaterThan(5);
    expect(m - outliers).toBeGreaterThan(5);
    expect(agree / m).toBeGreaterThanOrEqual(0.99);
    expect(rho).toBeGreaterThan(0.99);
  });

  it('scores a point of the fitted set like the fit does (within the refit effect)', () => {
    const n = 400;
    const d = 5;
    const rng = new Rng(7);
    const X = new Float64Array(n * d);
    rng.fillNormal(X);
    const fit = hdbscan(X, n, d, { minClusterSize: 300, minSamples: 20 });
    const far = new Float64Array(d).fill(50);
    const s = new NewPointScorer(fit).score(far);
    // A far point leaves the root last-but-never: λ tiny, score → 1.
    expect(s.scores[0]).toBeGreaterThan(0.9);
    expect(s.scores[0]).toBeLessThanOrEqual(1);
    const refit = new ExactRefitScorer(X, n, d, { minClusterSize: 300, minSamples: 20 });
    expect(Math.abs(s.scores[0] - refit.score(far))).toBeLessThan(1e-12);
  });
});
