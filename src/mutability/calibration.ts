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
