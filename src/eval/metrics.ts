/**
 * Metrics with uncertainties for one-class decisions and anomaly scores.
 *
 * Vocabulary follows the paper (Fanelli, Giroux, Papandreou 2022): the *reference* class is the
 * one the model learned (photons, gammas); TPR is the fraction of reference objects that are NOT
 * flagged as outliers at a quantile q (it should equal q up to statistics), and TNR is the fraction
 * of anomalous objects that ARE flagged. ROC/AUC follow the usual machine-learning convention with
 * the anomalous class as "positive" and larger score = more anomalous, so that
 * AUC = P(score of a random anomalous object > score of a random reference object).
 */
import { quantileSorted } from '../core/stats.js';
import { FluxmutError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';

/** A binomial rate k/n with its standard error and a Wilson score interval. */
export interface Rate {
  k: number;
  n: number;
  /** k/n; NaN when n = 0. */
  rate: number;
  /** Wald standard error sqrt(p(1-p)/n); 0 at k = 0 or k = n, where the interval is the honest number. */
  se: number;
  /** Wilson score interval (Wilson 1927) at `z` standard deviations (z = 1: 68.27%). */
  lo: number;
  hi: number;
  z: number;
}

export type BoolLike = Uint8Array | boolean[] | ArrayLike<boolean | number>;

/**
 * k successes out of n with the Wald standard error and the Wilson interval. z = 1 (default) is the
 * one-sigma (68.27%) interval the report quotes beside ± se. n = 0 gives NaN rate and the [0, 1]
 * interval rather than a made-up number.
 */
export function rateWithError(k: number, n: number, z = 1): Rate {
  if (!Number.isInteger(n) || n < 0) throw new FluxmutError(`rateWithError: n must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(k) || k < 0 || k > n) throw new FluxmutError(`rateWithError: k must be an integer in [0, n=${n}], got ${k}`);
  if (!(z > 0) || !Number.isFinite(z)) throw new FluxmutError(`rateWithError: z must be a positive number, got ${z}`);
  if (n === 0) return { k, n, rate: NaN, se: NaN, lo: 0, hi: 1, z };
  const p = k / n;
  const se = Math.sqrt((p * (1 - p)) / n);
  // Wilson score interval: the roots in p of |p̂ - p| = z·sqrt(p(1-p)/n).
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // At k = 0 (k = n) one root is exactly 0 (1); rounding must not make it 1e-17 off.
  const lo = k === 0 ? 0 : Math.max(0, centre - half);
  const hi = k === n ? 1 : Math.min(1, centre + half);
  return { k, n, rate: p, se, lo, hi, z };
}

export interface DecisionCounts {
  /** Reference-class objects in the test set, and how many of them were kept (not flagged). */
  reference: number;
  referenceKept: number;
  /** Anomalous-class objects in the test set, and how many of them were flagged. */
  anomalous: number;
  anomalousFlagged: number;
}

export interface DecisionRates {
  /** Fraction of reference objects not flagged (the paper's TPR). */
  tpr: Rate;
  /** Fraction of anomalous objects flagged (the paper's TNR). */
  tnr: Rate;
  counts: DecisionCounts;
}

function truthy(v: boolean | number): boolean {
  return typeof v === 'boolean' ? v : v !== 0;
}

function checkSameLength(what: string, a: { length: number }, b: { length: number }, aName: string, bName: string): void {
  if (a.length !== b.length) {
    throw new FluxmutError(`${what}: ${aName} has ${a.length} entries but ${bName} has ${b.length}; pass one entry per test object to both`);
  }
}

/** The paper's TPR and TNR at one quantile cut, from per-object outlier flags and true classes. */
export function decisionRates(isOutlier: BoolLike, isReference: BoolLike, z = 1): DecisionRates {
  checkSameLength('decisionRates', isOutlier, isReference, 'isOutlier', 'isReference');
  let reference = 0, referenceKept = 0, anomalous = 0, anomalousFlagged = 0;
  for (let i = 0; i < isOutlier.length; i++) {
    const out = truthy(isOutlier[i]);
    if (truthy(isReference[i])) {
      reference++;
      if (!out) referenceKept++;
    } else {
      anomalous++;
      if (out) anomalousFlagged++;
    }
  }
  return {
    tpr: rateWithError(referenceKept, reference, z),
    tnr: rateWithError(anomalousFlagged, anomalous, z),
    counts: { reference, referenceKept, anomalous, anomalousFlagged },
  };
}

function checkScores(what: string, scores: ArrayLike<number>): void {
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i])) throw new FluxmutError(`${what}: score of object ${i} is NaN; remove or fix that object before computing the metric`);
  }
}

/**
 * Objects sorted by descending score, cut into groups of tied scores. Everything in ROC/AUC is
 * computed from these groups, so ties are one step (the diagonal segment) by construction.
 */
interface TieGroups {
  order: Uint32Array;
  /** Group g covers order[start[g] .. start[g+1]). */
  start: Uint32Array;
  groups: number;
  nReference: number;
  nAnomalous: number;
}

function tieGroups(what: string, scores: ArrayLike<number>, isReference: BoolLike): TieGroups {
  checkSameLength(what, scores, isReference, 'scores', 'isReference');
  checkScores(what, scores);
  const n = scores.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const s = Float64Array.from(scores);
  order.sort((a, b) => s[b] - s[a] || a - b);
  const start = new Uint32Array(n + 1);
  let groups = 0;
  for (let i = 0; i < n; i++) {
    if (i === 0 || s[order[i]] !== s[order[i - 1]]) start[groups++] = i;
  }
  start[groups] = n;
  let nReference = 0;
  for (let i = 0; i < n; i++) if (truthy(isReference[i])) nReference++;
  return { order, start, groups, nReference, nAnomalous: n - nReference };
}

export interface RocCurve {
  /**
   * Cut values: point j flags every object with score >= thresholds[j]. The first point is
   * +Infinity (nothing flagged, (0,0)); the last flags everything, (1,1).
   */
  thresholds: Float64Array;
  /** Fraction of reference objects flagged at each cut (= 1 - the paper's TPR). */
  fpr: Float64Array;
  /** Fraction of anomalous objects flagged at each cut (= the paper's TNR). */
  tpr: Float64Array;
  nReference: number;
  nAnomalous: number;
}

function requireBothClasses(what: string, g: TieGroups): void {
  if (g.nReference === 0 || g.nAnomalous === 0) {
    throw new FluxmutError(
      `${what}: needs objects of both classes, got ${g.nReference} reference and ${g.nAnomalous} anomalous; ` +
        'include labelled anomalous objects in the test set (or skip the ROC/AUC)',
    );
  }
}

/** ROC curve from scores (larger = more anomalous), one point per distinct score. O(n log n). */
export function roc(scores: ArrayLike<number>, isReference: BoolLike): RocCurve {
  const g = tieGroups('roc', scores, isReference);
  requireBothClasses('roc', g);
  const m = g.groups + 1;
  const thresholds = new Float64Array(m), fpr = new Float64Array(m), tpr = new Float64Array(m);
  thresholds[0] = Infinity;
  let fp = 0, tp = 0;
  for (let j = 0; j < g.groups; j++) {
    for (let i = g.start[j]; i < g.start[j + 1]; i++) {
      if (truthy(isReference[g.order[i]])) fp++;
      else tp++;
    }
    thresholds[j + 1] = scores[g.order[g.start[j]]];
    fpr[j + 1] = fp / g.nReference;
    tpr[j + 1] = tp / g.nAnomalous;
  }
  return { thresholds, fpr, tpr, nReference: g.nReference, nAnomalous: g.nAnomalous };
}

/**
 * Mann-Whitney U / (n1·n0) over tie groups with multiplicities w (1 for the plain AUC, bootstrap
 * counts for a resample): each anomalous object beats the reference objects strictly below it and
 * gets 1/2 for each one tied with it.
 */
function aucFromGroups(g: TieGroups, isRef: Uint8Array, w: Float64Array | null): { auc: number; nRef: number; nAnom: number } {
  let refBelow = 0; // walking from the lowest score group upward
  for (let i = 0; i < isRef.length; i++) if (isRef[i]) refBelow += w ? w[i] : 1;
  const nRef = refBelow;
  let u = 0, nAnom = 0;
  for (let j = 0; j < g.groups; j++) {
    let refHere = 0, anomHere = 0;
    for (let i = g.start[j]; i < g.start[j + 1]; i++) {
      const o = g.order[i];
      const wi = w ? w[o] : 1;
      if (isRef[o]) refHere += wi;
      else anomHere += wi;
    }
    // Groups go by descending score: reference objects strictly below = those not yet passed.
    refBelow -= refHere;
    u += anomHere * (refBelow + 0.5 * refHere);
    nAnom += anomHere;
  }
  return { auc: u / (nRef * nAnom), nRef, nAnom };
}

/** Hanley & McNeil (1982) standard error of the AUC (their eq. 1 with Q1 = A/(2-A), Q2 = 2A²/(1+A)). */
export function hanleyMcNeilSe(a: number, nAnomalous: number, nReference: number): number {
  const q1 = a / (2 - a);
  const q2 = (2 * a * a) / (1 + a);
  const v = (a * (1 - a) + (nAnomalous - 1) * (q1 - a * a) + (nReference - 1) * (q2 - a * a)) / (nAnomalous * nReference);
  return Math.sqrt(Math.max(0, v));
}

export interface AucOptions {
  /** Number of bootstrap replicates (stratified: each class resampled with replacement). 0 = none. */
  bootstrap?: number;
  /** Required when bootstrap > 0. */
  rng?: Rng;
}

export interface AucResult {
  auc: number;
  /** Hanley-McNeil standard error. */
  se: number;
  /** Standard deviation of the bootstrap replicates, when asked for. */
  bootstrapSe?: number;
  nReference: number;
  nAnomalous: number;
}

/** AUC = P(anomalous scores higher than reference), ties counted 1/2, with its uncertainty. O(n log n). */
export function auc(scores: ArrayLike<number>, isReference: BoolLike, options: AucOptions = {}): AucResult {
  const g = tieGroups('auc', scores, isReference);
  requireBothClasses('auc', g);
  const isRef = new Uint8Array(scores.length);
  for (let i = 0; i < isRef.length; i++) isRef[i] = truthy(isReference[i]) ? 1 : 0;
  const a = aucFromGroups(g, isRef, null).auc;
  const result: AucResult = { auc: a, se: hanleyMcNeilSe(a, g.nAnomalous, g.nReference), nReference: g.nReference, nAnomalous: g.nAnomalous };
  const b = options.bootstrap ?? 0;
  if (b > 0) {
    if (!Number.isInteger(b)) throw new FluxmutError(`auc: bootstrap must be a whole number of replicates, got ${b}`);
    if (!options.rng) throw new FluxmutError('auc: a bootstrap needs an explicit seeded rng (options.rng)');
    const rng = options.rng;
    const refIdx: number[] = [], anomIdx: number[] = [];
    for (let i = 0; i < isRef.length; i++) (isRef[i] ? refIdx : anomIdx).push(i);
    // A resample is a vector of multiplicities over the original objects, so the sort is done once.
    const w = new Float64Array(isRef.length);
    let sum = 0, sum2 = 0;
    for (let r = 0; r < b; r++) {
      w.fill(0);
      for (let t = 0; t < refIdx.length; t++) w[refIdx[rng.int(refIdx.length)]]++;
      for (let t = 0; t < anomIdx.length; t++) w[anomIdx[rng.int(anomIdx.length)]]++;
      const ar = aucFromGroups(g, isRef, w).auc;
      sum += ar;
      sum2 += ar * ar;
    }
    const mean = sum / b;
    result.bootstrapSe = b > 1 ? Math.sqrt(Math.max(0, (sum2 - b * mean * mean) / (b - 1))) : 0;
  }
  return result;
}

/** Area under a piecewise-linear curve by the trapezoid rule (x need not start at 0). */
export function trapezoid(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkSameLength('trapezoid', x, y, 'x', 'y');
  let s = 0;
  for (let i = 1; i < x.length; i++) s += (x[i] - x[i - 1]) * (y[i] + y[i - 1]) * 0.5;
  return s;
}

/** An empirical distribution function over a sample (NaN rejected). */
export interface EmpiricalCdf {
  /** The sample, sorted ascending. */
  sorted: Float64Array;
  n: number;
  /** Fraction of the sample <= x. */
  cdf(x: number): number;
  /** Fraction of the sample >= x. */
  survival(x: number): number;
  /** Number of sample values <= x. */
  countAtMost(x: number): number;
  /** Number of sample values >= x. */
  countAtLeast(x: number): number;
}

/** Index of the first element > x in an ascending array. */
function upperBound(a: Float64Array, x: number): number {
  let lo = 0, hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first element >= x in an ascending array. */
function lowerBound(a: Float64Array, x: number): number {
  let lo = 0, hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function empiricalCdf(values: ArrayLike<number>): EmpiricalCdf {
  checkScores('empiricalCdf', values);
  if (values.length === 0) throw new FluxmutError('empiricalCdf: the sample is empty; pass at least one value');
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  return {
    sorted,
    n,
    cdf: (x) => upperBound(sorted, x) / n,
    survival: (x) => (n - lowerBound(sorted, x)) / n,
    countAtMost: (x) => upperBound(sorted, x),
    countAtLeast: (x) => n - lowerBound(sorted, x),
  };
}

export interface CalibrationPoint {
  q: number;
  /** Fraction of reference objects with p-value <= q: should equal q (the method's promise). */
  kept: Rate;
  /** (kept - q) in units of the binomial standard error sqrt(q(1-q)/n) expected under calibration. */
  pull: number;
}

/**
 * Calibration of reference-class p-values (DESIGN: near 1 = more outlying): at each q the fraction
 * kept should be q. The pull uses the error expected under the hypothesis (q, not the measured rate)
 * so that it is defined at k = 0 or n too.
 */
export function calibration(referencePValues: ArrayLike<number>, qs: ArrayLike<number>, z = 1): CalibrationPoint[] {
  const e = empiricalCdf(referencePValues);
  const out: CalibrationPoint[] = [];
  for (let i = 0; i < qs.length; i++) {
    const q = qs[i];
    if (!(q >= 0 && q <= 1)) throw new FluxmutError(`calibration: quantile ${q} is outside [0, 1]`);
    const kept = rateWithError(e.countAtMost(q), e.n, z);
    const sd = Math.sqrt((q * (1 - q)) / e.n);
    out.push({ q, kept, pull: sd > 0 ? (kept.rate - q) / sd : kept.rate === q ? 0 : Infinity * Math.sign(kept.rate - q) });
  }
  return out;
}

/**
 * The paper's TPR/TNR for a plain score (a baseline): the cut is the q-quantile of the reference
 * objects' own scores (type-7 linear interpolation, like numpy's default), an object is flagged when
 * its score is strictly above it. Lets one-class baselines be compared with F+M at the same q.
 */
export function ratesAtReferenceQuantile(scores: ArrayLike<number>, isReference: BoolLike, q: number, z = 1): DecisionRates & { threshold: number } {
  checkSameLength('ratesAtReferenceQuantile', scores, isReference, 'scores', 'isReference');
  checkScores('ratesAtReferenceQuantile', scores);
  if (!(q >= 0 && q <= 1)) throw new FluxmutError(`ratesAtReferenceQuantile: quantile ${q} is outside [0, 1]`);
  const ref: number[] = [];
  for (let i = 0; i < scores.length; i++) if (truthy(isReference[i])) ref.push(scores[i]);
  if (ref.length === 0) throw new FluxmutError('ratesAtReferenceQuantile: no reference-class objects to set the cut on');
  const threshold = quantileType7(Float64Array.from(ref).sort(), q);
  const flagged = new Uint8Array(scores.length);
  for (let i = 0; i < scores.length; i++) flagged[i] = scores[i] > threshold ? 1 : 0;
  return { ...decisionRates(flagged, isReference, z), threshold };
}

/** Hyndman & Fan (1996) type-7 sample quantile of an ascending sample (src/core/stats.ts). */
export const quantileType7: (sorted: Float64Array, q: number) => number = quantileSorted;
