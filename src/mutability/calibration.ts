import type { Rng } from '../core/rng.js';

/**
 * Quantile cuts and p-values against a reference cluster's score distribution
 * (DESIGN.md step 9).
 *
 * Ties. In the paper's configuration about two thirds of the reference points score exactly 0,
 * so a plain "score > q-quantile" rule cannot be calibrated below q ≈ 0.67: every object that
 * also scores 0 would pass at every q. We use the randomised p-value (the conformal-prediction
 * rule): with `below` reference scores strictly below the object's score s and `tied` equal to
 * it,
 *     p = (below + V) / (n + 1),   V ~ Uniform(0, tied + 1),
 * drawn from the seeded generator. When the object is exchangeable with the reference points
 * (it comes from the reference distribution), p is exactly Uniform(0, 1), so
 * P(p > q) = 1 - q at every q, ties or not. An object is an outlier at q when p > q. Objects
 * whose score lies strictly above every tie block are decided as with the plain rule; only an
 * object tied with reference points is decided by the draw. p near 1 means more outlying than
 * almost all reference objects.
 */

/** Sorts a copy of the reference scores ascending (the form the functions below expect). */
export function sortedScores(scores: ArrayLike<number>): Float64Array {
  return Float64Array.from(scores).sort();
}

/** Number of sorted values strictly below x, and number equal to x (binary searches). */
export function rankCounts(sorted: Float64Array, x: number): { below: number; tied: number } {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  const below = lo;
  hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return { below, tied: lo - below };
}

/** The randomised p-value of score x against sorted reference scores (see the file comment). */
export function randomisedPValue(sorted: Float64Array, x: number, rng: Rng): number {
  const { below, tied } = rankCounts(sorted, x);
  return (below + rng.uniform() * (tied + 1)) / (sorted.length + 1);
}

/**
 * The cut reported as `threshold_<q>`: the reference score of rank ⌈q(n + 1)⌉ (1-based; the
 * highest score when that rank exceeds n). Consistent with the randomised p-value: an object
 * scoring strictly above it has at least q(n + 1) reference scores below it, so p > q and it is
 * always an outlier at q. An object at or below it is decided by the p-value (tied objects by
 * the seeded draw; between two adjacent reference scores the draw also decides, because p is a
 * rank statistic). Cut on `is_outlier_<q>` or `p_value`, which carry the calibrated decision.
 */
export function quantileThreshold(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  const i = Math.min(n - 1, Math.max(0, Math.ceil(q * (n + 1)) - 1));
  return sorted[i];
}

/** Parses "0.68,0.95,0.99" into sorted unique quantiles in (0, 1). */
export function parseQuantiles(text: string): number[] {
  const qs = text.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  for (const q of qs) {
    if (!(q > 0 && q < 1)) throw new RangeError(`quantile '${q}' must lie strictly between 0 and 1 (e.g. --quantiles 0.68,0.95,0.99)`);
  }
  return [...new Set(qs)].sort((a, b) => a - b);
}

/** Column-name form of a quantile: 0.95 -> "0.95". */
export function quantileLabel(q: number): string {
  return String(q);
}

/**
 * Held-out calibration (ours, beyond the paper; docs/method.md). The generated cut (p > q) is
 * calibrated only as far as the generated reference cluster matches real reference objects at
 * the same kinematics. Given m real reference objects that took no part in training, scored the
 * same way, their p-values fix the cut level on p instead:
 *     level(q) = the calibration p-value of rank ⌈q(m + 1)⌉ (1-based),
 * and an object is an outlier at q when p > level(q). This is split-conformal calibration with
 * the generated-cluster p-value as the nonconformity score: for a new reference object
 * exchangeable with the calibration rows, P(p ≤ level) = ⌈q(m + 1)⌉/(m + 1) ∈ [q, q + 1/(m + 1)),
 * whatever the flow's infidelity. The price is the calibration sample's own noise: the realised
 * TPR scatters by about √(q(1 − q)/m) around that value (1.5 points at q = 0.68 with m = 1000).
 * When ⌈q(m + 1)⌉ > m the level is 1: too few calibration rows to certify q, nothing is flagged.
 */
export function heldOutLevels(calibrationPValues: ArrayLike<number>, quantiles: readonly number[]): number[] {
  const sorted = sortedScores(calibrationPValues);
  const m = sorted.length;
  return quantiles.map((q) => {
    const rank = Math.ceil(q * (m + 1));
    return rank > m ? 1 : sorted[rank - 1];
  });
}

/**
 * The score cut matching a cut level on the p-value: quantileThreshold at that level, or +∞ when
 * the level is 1 (no object is an outlier), so that a score above the threshold always means p > level.
 */
export function levelThreshold(sorted: Float64Array, level: number): number {
  return level >= 1 ? Infinity : quantileThreshold(sorted, level);
}
