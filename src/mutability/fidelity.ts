import type { Rng } from '../core/rng.js';
import { quantileSorted as quantile } from '../core/stats.js';
import type { FluxModel } from '../flux/model.js';

/**
 * Does the generated reference cluster look like real reference objects at the same kinematics?
 * The method's calibration (TPR = q) rests on it. For each condition bin with enough held-out
 * reference rows, the bin's generated cluster (step 7) is compared with those rows in the
 * augmented space the clustering sees:
 * - a two-sample Kolmogorov-Smirnov test per dimension, Bonferroni-combined into one p-value;
 * - the fraction of generated points beyond `robustSigmas` robust standard deviations
 *   ((IQR / 1.349) of the real rows, around their median) in any dimension, against the same
 *   fraction for the real rows themselves.
 */
export interface BinFidelity {
  bin: number;
  nReal: number;
  nGenerated: number;
  /** Largest per-dimension KS statistic and its dimension. */
  ksMax: number;
  ksDim: number;
  /** Bonferroni-combined p-value of the per-dimension KS tests. */
  pValue: number;
  /** Fraction of generated points beyond robustSigmas in some dimension. */
  farGenerated: number;
  /** The same fraction for the real held-out rows (what a perfect generator would give). */
  farReal: number;
}

export interface FidelityReport {
  bins: BinFidelity[];
  robustSigmas: number;
  /** Fraction of all generated points beyond robustSigmas (pooled over bins). */
  farGenerated: number;
  farReal: number;
  /** Fraction of bins whose combined KS p-value is below 0.01. */
  rejectedAt01: number;
}

/** Asymptotic two-sample KS p-value (Kolmogorov distribution with the effective size correction). */
export function ksPValue(d: number, n: number, m: number): number {
  const en = Math.sqrt((n * m) / (n + m));
  const lambda = (en + 0.12 + 0.11 / en) * d;
  if (lambda < 1e-3) return 1;
  let sum = 0;
  for (let j = 1; j <= 100; j++) {
    const term = 2 * (j % 2 === 1 ? 1 : -1) * Math.exp(-2 * j * j * lambda * lambda);
    sum += term;
    if (Math.abs(term) < 1e-12) break;
  }
  return Math.min(1, Math.max(0, sum));
}

/** Two-sample KS statistic of two sorted samples. */
export function ksStatistic(a: Float64Array, b: Float64Array): number {
  let i = 0, j = 0, d = 0;
  while (i < a.length && j < b.length) {
    const x = Math.min(a[i], b[j]);
    while (i < a.length && a[i] <= x) i++;
    while (j < b.length && b[j] <= x) j++;
    d = Math.max(d, Math.abs(i / a.length - j / b.length));
  }
  return d;
}

function column(x: ArrayLike<number>, n: number, d: number, j: number): Float64Array {
  const c = new Float64Array(n);
  for (let i = 0; i < n; i++) c[i] = x[i * d + j];
  return c.sort();
}

function farFraction(x: ArrayLike<number>, n: number, d: number, centre: Float64Array, scale: Float64Array, sigmas: number): number {
  let far = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      if (Math.abs(x[i * d + j] - centre[j]) > sigmas * scale[j]) {
        far++;
        break;
      }
    }
  }
  return far / n;
}

/**
 * Compares generated reference clusters with held-out reference rows (raw features x, raw
 * conditions k, n rows) bin by bin; bins with fewer than `minRows` held-out rows are skipped.
 */
export function referenceFidelity(
  model: FluxModel, x: Float64Array, k: Float64Array, n: number, rng: Rng,
  options: {
    nRef?: number;
    minRows?: number;
    robustSigmas?: number;
    /** Conditions used only to assign rows to bins (default: k); tests use it to mismatch bins on purpose. */
    binsFrom?: Float64Array;
  } = {},
): FidelityReport {
  const nRef = options.nRef ?? 1500;
  const minRows = options.minRows ?? 50;
  const sigmas = options.robustSigmas ?? 5;
  const L = model.nConditions;
  const D = model.dim;
  const a = model.augment(model.scaleFeatures(x), model.scaleConditions(k), n);
  const rowsOf = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const kb = options.binsFrom ?? k;
    const bin = L > 0 ? model.bank.binOf(kb.subarray(i * L, i * L + L)) : 0;
    const list = rowsOf.get(bin);
    if (list) list.push(i);
    else rowsOf.set(bin, [i]);
  }
  const bins: BinFidelity[] = [];
  let farGen = 0, farReal = 0, totalGen = 0, totalReal = 0;
  for (const [bin, rows] of [...rowsOf.entries()].sort((p, q) => p[0] - q[0])) {
    if (rows.length < minRows) continue;
    const real = new Float64Array(rows.length * D);
    rows.forEach((r, i) => real.set(a.subarray(r * D, (r + 1) * D), i * D));
    const gen = model.generateBinReference(bin, nRef, rng).a;
    let ksMax = 0, ksDim = 0;
    const centre = new Float64Array(D), scale = new Float64Array(D);
    for (let j = 0; j < D; j++) {
      const rc = column(real, rows.length, D, j);
      const gc = column(gen, nRef, D, j);
      const ks = ksStatistic(rc, gc);
      if (ks > ksMax) { ksMax = ks; ksDim = j; }
      centre[j] = quantile(rc, 0.5);
      scale[j] = (quantile(rc, 0.75) - quantile(rc, 0.25)) / 1.349 || 1;
    }
    const pValue = Math.min(1, D * ksPValue(ksMax, rows.length, nRef));
    const fg = farFraction(gen, nRef, D, centre, scale, sigmas);
    const fr = farFraction(real, rows.length, D, centre, scale, sigmas);
    farGen += fg * nRef; totalGen += nRef;
    farReal += fr * rows.length; totalReal += rows.length;
    bins.push({ bin, nReal: rows.length, nGenerated: nRef, ksMax, ksDim, pValue, farGenerated: fg, farReal: fr });
  }
  return {
    bins,
    robustSigmas: sigmas,
    farGenerated: totalGen ? farGen / totalGen : 0,
    farReal: totalReal ? farReal / totalReal : 0,
    rejectedAt01: bins.length ? bins.filter((b) => b.pValue < 0.01).length / bins.length : 0,
  };
}
