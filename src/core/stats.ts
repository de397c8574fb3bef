/**
 * The sample quantile of an ascending sample by linear interpolation between order statistics
 * (Hyndman & Fan 1996 type 7; numpy's default 'linear' method).
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}
