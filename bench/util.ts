// Shared timing helpers for the benchmarks: medians of interleaved runs, so that the ratios
// printed are measured side by side under the same machine load.
import { performance } from 'node:perf_hooks';

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : 0.5 * (s[m - 1] + s[m]);
}

/** Times each function `reps` times, interleaving them round by round; returns median ms per function. */
export function timeInterleaved(fns: Record<string, () => void>, reps: number, warmup = 1): Record<string, number> {
  const names = Object.keys(fns);
  for (let w = 0; w < warmup; w++) for (const n of names) fns[n]();
  const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < reps; r++) {
    for (const n of names) {
      const t0 = performance.now();
      fns[n]();
      times[n].push(performance.now() - t0);
    }
  }
  return Object.fromEntries(names.map((n) => [n, median(times[n])]));
}
