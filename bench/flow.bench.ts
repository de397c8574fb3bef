// cMAF training throughput, and generation of a reference cluster (1500 points at one k) by the
// one-pass sampler against one density-direction pass over the same 1500 points and against the
// naive D-pass sampler.
import { Rng } from '../src/core/rng.js';
import { getKernels } from '../src/core/backend.js';
import { cmafSample, cmafSampleNaive, cmafToLatent, initCmaf, planSampling, type CmafSpec } from '../src/flux/maf.js';
import { trainCmaf } from '../src/flux/cmaf-train.js';
import { median, timeInterleaved } from './util.js';

function madeFlops(spec: CmafSpec): number {
  // Dense multiply-adds of one density pass per point (masks not exploited), times 2 for FLOPs.
  const sizes = [spec.dim, ...spec.hidden, 2 * spec.dim];
  let macs = 0;
  for (let i = 0; i < sizes.length - 1; i++) macs += (sizes[i] + spec.conditions) * sizes[i + 1];
  return 2 * macs * spec.layers;
}

function trainingThroughput(): void {
  // D = 16, L = 2, K = 8, hidden 128x2, batch 512 (the configuration).
  const spec: CmafSpec = { dim: 16, conditions: 2, layers: 8, hidden: [128, 128], activation: 'relu', logScaleBound: 3 };
  const rng = new Rng(2);
  const n = 512 * 8;
  const a = new Float32Array(n * spec.dim);
  rng.fillNormal(a);
  const k = new Float32Array(n * spec.conditions);
  rng.fillUniform(k);
  const flow = initCmaf(spec, rng);
  const val = { a: a.subarray(0, 512 * spec.dim), k: k.subarray(0, 512 * spec.conditions), n: 512 };
  const times: number[] = [];
  for (let rep = 0; rep < 4; rep++) {
    const t0 = performance.now();
    trainCmaf(flow, { a, k, n }, val, { epochs: 1, batchSize: 512, lr: 1e-4, patience: 10, rng, stage: 'bench' });
    times.push(performance.now() - t0);
  }
  const ms = median(times.slice(1)); // the first epoch includes JIT warm-up
  // Per sample: forward + backward = 3 GEMM-equivalents of the dense masked layers (masks are not exploited).
  const flopPerSample = 3 * madeFlops(spec);
  const perSec = n / (ms / 1e3);
  console.log(`cMAF training (D=16, L=2, K=8, 128x2, batch 512): ${perSec.toFixed(0)} samples/s ` +
    `(${((perSec * flopPerSample) / 1e9).toFixed(2)} GFLOP/s implied; epoch of ${n} samples incl. validation pass of 512: ${ms.toFixed(0)} ms)`);
}

export async function run(): Promise<void> {
  trainingThroughput();
  const kernels = getKernels();
  const P = 1500;
  const cases: [string, CmafSpec, boolean][] = [
    ['default-size D=16 L=2 K=8 128x2', { dim: 16, conditions: 2, layers: 8, hidden: [128, 128], activation: 'relu', logScaleBound: 3 }, true],
    ['paper preset D=28 L=2 K=12 512x2', { dim: 28, conditions: 2, layers: 12, hidden: [512, 512], activation: 'relu', logScaleBound: 3 }, false],
  ];
  console.log(`kernels: ${kernels.name}; P = ${P} points at one k`);
  for (const [name, spec, withNaive] of cases) {
    const rng = new Rng(1);
    const flow = initCmaf(spec, rng);
    const plan = planSampling(flow);
    const z = new Float32Array(P * spec.dim);
    rng.fillNormal(z);
    const kOne = Float32Array.of(0.3, 0.7);
    const kAll = new Float32Array(P * spec.conditions);
    for (let i = 0; i < P; i++) kAll.set(kOne, i * spec.conditions);
    const fns: Record<string, () => void> = {
      density: () => void cmafToLatent(flow, z, kAll, P, kernels),
      sample: () => void cmafSample(plan, z, kOne, P, kernels),
    };
    if (withNaive) fns.naive = () => void cmafSampleNaive(flow, z, kOne, P, kernels);
    const t = timeInterleaved(fns, withNaive ? 3 : 5);
    const gflop = (madeFlops(spec) * P) / 1e9;
    console.log(`${name}: density pass ${t.density.toFixed(1)} ms (${(gflop / (t.density / 1e3)).toFixed(2)} GFLOP/s dense-equivalent), ` +
      `one-pass sampling ${t.sample.toFixed(1)} ms, ratio sampling/density = ${(t.sample / t.density).toFixed(2)}` +
      (withNaive ? `, naive D-pass ${t.naive.toFixed(1)} ms (ratio ${(t.naive / t.density).toFixed(1)})` : ''));
  }
}
