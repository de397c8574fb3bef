// f32 GEMM: the wasm SIMD kernels against the plain-TypeScript twin, measured side by side.
// Shapes are those of a 128-wide dense layer on a 1024-row batch: forward Y = X·W (gemm),
// weight gradient dW = Xᵀ·dY (gemmTN), input gradient dX = dY·Wᵀ (gemmNT).
import { tsKernels } from '../src/core/kernels-ts.js';
import { wasmKernels } from '../src/core/wasm.js';
import type { Kernels } from '../src/core/kernels.js';
import { Rng } from '../src/core/rng.js';

interface Case {
  label: string;
  m: number;
  k: number;
  n: number;
  call: (K: Kernels, a: Float32Array, b: Float32Array, c: Float32Array) => void;
  aLen: number;
  bLen: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((p, q) => p - q);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

function timeOnce(f: () => void, inner: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < inner; i++) f();
  return Number(process.hrtime.bigint() - t0) / 1e6 / inner;
}

export async function run(): Promise<void> {
  const B = 1024, H = 128;
  const bias = new Float32Array(H);
  const cases: Case[] = [
    { label: `gemm   ${B}x${H} · ${H}x${H} + bias`, m: B, k: H, n: H, aLen: B * H, bLen: H * H, call: (K, a, b, c) => K.gemm(a, b, c, B, H, H, bias) },
    { label: `gemmTN (${B}x${H})ᵀ · ${B}x${H}`, m: H, k: B, n: H, aLen: B * H, bLen: B * H, call: (K, a, b, c) => K.gemmTN(a, b, c, H, B, H) },
    { label: `gemmNT ${B}x${H} · (${H}x${H})ᵀ`, m: B, k: H, n: H, aLen: B * H, bLen: H * H, call: (K, a, b, c) => K.gemmNT(a, b, c, B, H, H) },
  ];
  const rng = new Rng(1);
  const rounds = 7;
  console.log(`median of ${rounds} interleaved rounds; wasm times include copying operands in and out of wasm memory`);
  console.log('kernel                              |   ts ms | ts GFLOP/s | wasm ms | wasm GFLOP/s | speed-up');
  console.log('------------------------------------|---------|------------|---------|--------------|---------');
  for (const cs of cases) {
    const a = new Float32Array(cs.aLen), b = new Float32Array(cs.bLen), c = new Float32Array(cs.m * cs.n);
    rng.fillNormal(a);
    rng.fillNormal(b);
    const flop = 2 * cs.m * cs.k * cs.n;
    // Warm up both (JIT tiers, wasm memory growth).
    for (let i = 0; i < 2; i++) cs.call(tsKernels, a, b, c);
    for (let i = 0; i < 20; i++) cs.call(wasmKernels, a, b, c);
    const tsT: number[] = [], wT: number[] = [];
    for (let r = 0; r < rounds; r++) {
      tsT.push(timeOnce(() => cs.call(tsKernels, a, b, c), 1));
      wT.push(timeOnce(() => cs.call(wasmKernels, a, b, c), 10));
    }
    const ts = median(tsT), w = median(wT);
    console.log(
      `${cs.label.padEnd(36)}| ${ts.toFixed(2).padStart(7)} | ${(flop / ts / 1e6).toFixed(2).padStart(10)} | ${w.toFixed(3).padStart(7)} | ${(flop / w / 1e6).toFixed(2).padStart(12)} | ${(ts / w).toFixed(1).padStart(7)}x`,
    );
  }
  console.log('targets (issue): gemm >= 6x the TS twin and >= 15 GFLOP/s on one core');
}
