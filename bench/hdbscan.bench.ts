// HDBSCAN speed: the paper's configuration (1500 × 28, min_cluster_size 1000, min_samples 100),
// its phases, a steady-state loop of fits on fresh data (the mutability stage fits 1501 × 28 once
// per object), scoring new points (cached and exact modes), and scaling in n at d = 28.
// Wall times suffer from other processes on a shared machine; the CPU time of this process
// (process.cpuUsage) and the fastest of many runs are steadier.
import { ExactRefitScorer, hdbscan, NewPointScorer } from '../src/cluster/index.js';
import { coreDistancesWasm, finishFit, primWasm, resolveOptions } from '../src/cluster/hdbscan.js';
import { sharedWorkspace } from '../src/cluster/wasm.js';
import { Rng } from '../src/core/rng.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
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

/** CPU ms of each phase of the wasm fit, fastest of `reps` (README steps 2–4, 5, 5–10). */
function phases(X: Float64Array, n: number, d: number, opts: { minClusterSize: number; minSamples: number }, reps: number): string {
  const params = resolveOptions(opts);
  const m = Math.min(opts.minSamples, n - 1);
  const best: Record<string, number> = { core: Infinity, prim: Infinity, tree: Infinity };
  for (let r = 0; r < reps; r++) {
    const ws = sharedWorkspace();
    ws.reset();
    let t = cpuMs();
    const lap = (k: string): void => {
      const u = cpuMs();
      best[k] = Math.min(best[k], u - t);
      t = u;
    };
    const ld = n + (n & 1);
    const pCore = ws.reserve(8 * n);
    const pCore2 = ws.reserve(8 * n);
    coreDistancesWasm(ws, X, n, d, m, params.maxMatrixBytes, pCore, pCore2);
    lap('core');
    const xT = ws.reserve(8 * ld * d);
    const f = ws.f64;
    for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) f[(xT >> 3) + k * ld + i] = X[i * d + k];
    const e = primWasm(ws, xT, ld, n, d, pCore);
    const i32 = ws.i32;
    const mst = {
      core: ws.f64.slice(pCore >> 3, (pCore >> 3) + n),
      core2: ws.f64.slice(pCore2 >> 3, (pCore2 >> 3) + n),
      edgeA: i32.slice(e.a >> 2, (e.a >> 2) + n - 1),
      edgeB: i32.slice(e.b >> 2, (e.b >> 2) + n - 1),
      edgeW: ws.f64.slice(e.w >> 3, (e.w >> 3) + n - 1),
    };
    lap('prim');
    finishFit(X, n, d, m, mst, params);
    lap('tree');
    ws.reset();
  }
  return `distances + core distances ${best.core.toFixed(2)}, Prim ${best.prim.toFixed(2)}, ` +
    `single linkage + condensed tree + selection + GLOSH ${best.tree.toFixed(2)}`;
}

export async function run(): Promise<void> {
  const d = 28;
  const rng = new Rng(1);
  const n = 1500;
  const X = new Float64Array(n * d);
  rng.fillNormal(X);
  const opts = { minClusterSize: 1000, minSamples: 100 };
  hdbscan(X, n, d, opts); // warm-up (wasm compile, memory growth, JIT)
  const c0 = cpuMs();
  const wasm = time(() => hdbscan(X, n, d, opts), 21);
  const wasmCpu = (cpuMs() - c0) / 21;
  const wasmMin = lastMin;
  const ts = time(() => hdbscan(X, n, d, { ...opts, backend: 'ts' }), 3);
  const low = time(() => hdbscan(X, n, d, { ...opts, maxMatrixBytes: 0 }), 5);
  console.log(`fit 1500×28 mcs1000 ms100: wasm ${wasm.toFixed(2)} ms (median of 21; fastest ${wasmMin.toFixed(2)}; ` +
    `mean CPU ${wasmCpu.toFixed(2)}), wasm rows recomputed (maxMatrixBytes 0) ${low.toFixed(2)} ms, ` +
    `plain TS ${ts.toFixed(2)} ms (${(ts / wasm).toFixed(1)}× slower)`);
  console.log(`  phases, CPU ms, fastest of 15: ${phases(X, n, d, opts, 15)}`);

  // Steady state: fresh data every fit, the shape the mutability stage uses.
  const N = 1501;
  const fresh = Array.from({ length: 8 }, () => {
    const Y = new Float64Array(N * d);
    rng.fillNormal(Y);
    return Y;
  });
  let q = 0;
  hdbscan(fresh[0], N, d, opts);
  const c1 = cpuMs();
  const loop = time(() => hdbscan(fresh[q++ % fresh.length], N, d, opts), 40);
  console.log(`steady-state loop, 40 fits of fresh 1501×28 data: median ${loop.toFixed(2)} ms, fastest ${lastMin.toFixed(2)}, ` +
    `mean CPU ${((cpuMs() - c1) / 40).toFixed(2)} ms per fit`);

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
  console.log(`exact refit score (1501 points, core distances reused): ${ex.toFixed(2)} ms per point (${(ex / wasm).toFixed(2)} of a fit)`);

  console.log('scaling at d = 28 (one fit each after a warm-up at the same n; memory = candidate lists + buffers):');
  for (const m of [500, 1000, 2000, 4000, 8000, 12000]) {
    const Y = new Float64Array(m * d);
    rng.fillNormal(Y);
    const o = { minClusterSize: Math.round((2 * m) / 3), minSamples: 100 };
    const reps = m <= 2000 ? 5 : 1;
    if (m <= 2000) hdbscan(Y, m, d, o);
    const t = time(() => hdbscan(Y, m, d, o), reps);
    const cap = 4 * 101 + 128;
    const lists = 2 * cap <= m ? 8 * m * (cap + 1) : 8 * m * (m + 1);
    const mem = lists + m * (8 * d + 64);
    console.log(`  n=${m}: ${t.toFixed(1)} ms, working memory ≈ ${(mem / 2 ** 20).toFixed(1)} MiB`);
  }
}
