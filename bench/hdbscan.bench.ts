// HDBSCAN speed: the paper's configuration (1500 × 28, min_cluster_size 1000, min_samples 100),
// scoring new points (cached and exact modes), and scaling in n at d = 28.
import { ExactRefitScorer, hdbscan, NewPointScorer } from '../src/cluster/index.js';
import { Rng } from '../src/core/rng.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
let lastMin = 0;
function time(fn: () => void, reps: number): number {
  const t: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  lastMin = Math.min(...t);
  return median(t);
}

export async function run(): Promise<void> {
  const d = 28;
  const rng = new Rng(1);
  const n = 1500;
  const X = new Float64Array(n * d);
  rng.fillNormal(X);
  const opts = { minClusterSize: 1000, minSamples: 100 };
  hdbscan(X, n, d, opts); // warm-up (wasm compile, memory growth, JIT)
  const wasm = time(() => hdbscan(X, n, d, opts), 21);
  const wasmMin = lastMin;
  const ts = time(() => hdbscan(X, n, d, { ...opts, backend: 'ts' }), 3);
  const low = time(() => hdbscan(X, n, d, { ...opts, maxMatrixBytes: 0 }), 5);
  console.log(`fit 1500×28 mcs1000 ms100: wasm dense ${wasm.toFixed(2)} ms (median of 21; fastest ${wasmMin.toFixed(2)}), ` +
    `wasm on-the-fly ${low.toFixed(2)} ms, plain TS ${ts.toFixed(2)} ms (${(ts / wasm).toFixed(1)}× slower)`);

  const fit = hdbscan(X, n, d, opts);
  const scorer = new NewPointScorer(fit);
  const P = new Float64Array(200 * d);
  rng.fillNormal(P);
  scorer.score(P);
  const per = time(() => scorer.score(P), 9) / 200;
  console.log(`new-point approximate score vs 1500-point fit: ${(per * 1000).toFixed(1)} µs per point`);
  const exact = new ExactRefitScorer(X, n, d, opts);
  const x = P.subarray(0, d);
  exact.score(x);
  const ex = time(() => exact.score(x), 9);
  console.log(`exact refit score (1501 points, matrix reused): ${ex.toFixed(2)} ms per point (${(ex / wasm).toFixed(2)} of a fit)`);

  console.log('scaling at d = 28 (one fit each after a warm-up at the same n; heap = matrix + buffers):');
  for (const m of [500, 1000, 2000, 4000, 8000, 12000]) {
    const Y = new Float64Array(m * d);
    rng.fillNormal(Y);
    const o = { minClusterSize: Math.round((2 * m) / 3), minSamples: 100 };
    const reps = m <= 2000 ? 5 : 1;
    if (m <= 2000) hdbscan(Y, m, d, o);
    const t = time(() => hdbscan(Y, m, d, o), reps);
    const dense = 8 * m * m <= 512 * 2 ** 20;
    const mem = (dense ? 8 * m * m : 0) + m * (8 * d + 64);
    console.log(`  n=${m}: ${t.toFixed(1)} ms, ${dense ? 'dense' : 'on-the-fly'}, working memory ≈ ${(mem / 2 ** 20).toFixed(1)} MiB`);
  }
}
