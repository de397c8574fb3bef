import { describe, it, expect } from 'vitest';
import { Rng } from '../src/core/rng.js';

// Expected integer streams from an independent C implementation: the reference xoshiro128**
// 1.1 of Blackman & Vigna (prng.di.unimi.it/xoshiro128starstar.c), seeded by splitmix32 (state
// += 0x9e3779b9, then the murmur3 fmix32 finaliser; the 32-bit seed is lo ^ hi of the 64-bit
// seed), compiled with `gcc -O2` and printed with printf("%u"). The last column is uniform()
// from the next two outputs, (a>>5 · 2^26 + b>>6) / 2^53, printed with %.17g.
const REFERENCE: Array<{ seed: number; ints: number[]; uniformAfter: number }> = [
  { seed: 0, ints: [3809008728, 1133695204, 53579671, 2891528803, 139681546, 2203266335, 104831812, 1587294886], uniformAfter: 0.61231244365522453 },
  { seed: 1, ints: [2442144158, 3238099751, 3819917871, 2104621829, 2021136066, 4223536128, 1515984730, 2298887649], uniformAfter: 0.33645951642765937 },
  { seed: 42, ints: [2837322924, 544945897, 479756282, 3500138142, 339756180, 113173290, 65323186, 1112262688], uniformAfter: 0.88068708274502538 },
  { seed: 4294967295, ints: [835879718, 1921286648, 2356205009, 1885780724, 980451116, 1053911718, 3677392737, 2464361898], uniformAfter: 0.84931466560242741 },
  { seed: 2 ** 40 + 5, ints: [4025208168, 2378449997, 3826054364, 610112421, 2858118680, 3308277441, 2177986315, 2475330108], uniformAfter: 0.98638356216027323 },
];

function draws(rng: Rng, n: number, f: (r: Rng) => number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = f(rng);
  return out;
}

function moments(x: Float64Array): { mean: number; variance: number; excessKurtosis: number } {
  let mean = 0;
  for (const v of x) mean += v;
  mean /= x.length;
  let m2 = 0, m4 = 0;
  for (const v of x) {
    const d = (v - mean) ** 2;
    m2 += d;
    m4 += d * d;
  }
  m2 /= x.length;
  m4 /= x.length;
  return { mean, variance: m2, excessKurtosis: m4 / (m2 * m2) - 3 };
}

// Chi-square upper critical values at p = 0.001 (standard tables).
const CHI2_999: Record<number, number> = { 2: 13.816, 5: 20.515, 6: 22.458 };

function chiSquare(counts: number[], expected: number): number {
  return counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
}

// Standard normal CDF via erf (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7).
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

describe('Rng', () => {
  it('reproduces the reference xoshiro128** stream with splitmix32 seeding', () => {
    for (const ref of REFERENCE) {
      const rng = new Rng(ref.seed);
      expect(Array.from({ length: 8 }, () => rng.nextU32())).toEqual(ref.ints);
      expect(rng.uniform()).toBe(ref.uniformAfter);
    }
  });

  it('is deterministic per seed and differs between seeds', () => {
    const a = draws(new Rng(123), 100, (r) => r.uniform());
    const b = draws(new Rng(123), 100, (r) => r.uniform());
    const c = draws(new Rng(124), 100, (r) => r.uniform());
    expect(a).toEqual(b);
    expect(a.filter((v, i) => v === c[i]).length).toBe(0);
    const n1 = draws(new Rng(5), 51, (r) => r.normal());
    const n2 = draws(new Rng(5), 51, (r) => r.normal());
    expect(n1).toEqual(n2);
  });

  it('forks reproducibly into a stream different from the parent', () => {
    const p1 = new Rng(9), p2 = new Rng(9);
    const f1 = p1.fork(), f2 = p2.fork();
    const s1 = Array.from({ length: 20 }, () => f1.nextU32());
    expect(Array.from({ length: 20 }, () => f2.nextU32())).toEqual(s1);
    const parent = Array.from({ length: 20 }, () => p1.nextU32());
    expect(parent.filter((v, i) => v === s1[i]).length).toBe(0);
  });

  it('rejects a non-finite seed', () => {
    expect(() => new Rng(Number.NaN)).toThrow(RangeError);
    expect(() => new Rng(Infinity)).toThrow(RangeError);
  });

  it('draws uniforms in [0, 1) with mean 1/2 and variance 1/12', () => {
    const n = 200_000;
    const x = draws(new Rng(2024), n, (r) => r.uniform());
    expect(x.reduce((m, v) => Math.min(m, v), Infinity)).toBeGreaterThanOrEqual(0);
    expect(x.reduce((m, v) => Math.max(m, v), -Infinity)).toBeLessThan(1);
    const { mean, variance } = moments(x);
    // Standard errors: sqrt(1/12/n) for the mean, sqrt((1/80 - 1/144)/n) for the variance.
    expect(Math.abs(mean - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(5 * Math.sqrt((1 / 80 - 1 / 144) / n));
  });

  it('draws standard normals with the right mean, variance, kurtosis and shape', () => {
    const n = 200_000;
    const x = draws(new Rng(77), n, (r) => r.normal());
    const { mean, variance, excessKurtosis } = moments(x);
    // Standard errors for a normal sample: 1/sqrt(n), sqrt(2/n), sqrt(24/n); 5 sigma.
    expect(Math.abs(mean)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(variance - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    expect(Math.abs(excessKurtosis)).toBeLessThan(5 * Math.sqrt(24 / n));
    // Kolmogorov-Smirnov against N(0, 1): the p = 0.001 critical value is 1.95/sqrt(n).
    const s = Float64Array.from(x.subarray(0, 20_000)).sort();
    let d = 0;
    for (let i = 0; i < s.length; i++) {
      const f = normalCdf(s[i]);
      d = Math.max(d, Math.abs(f - i / s.length), Math.abs(f - (i + 1) / s.length));
    }
    expect(d).toBeLessThan(1.95 / Math.sqrt(s.length));
  });

  it('fills Float32/Float64 arrays from the same streams as single draws', () => {
    const a = new Float64Array(9);
    new Rng(3).fillNormal(a);
    expect(a).toEqual(draws(new Rng(3), 9, (r) => r.normal()));
    const u = new Float32Array(9);
    new Rng(3).fillUniform(u);
    expect(u).toEqual(Float32Array.from(draws(new Rng(3), 9, (r) => r.uniform())));
  });

  it('draws int(n) uniformly over small n (chi-square)', () => {
    const rng = new Rng(11);
    const n = 7, trials = 70_000;
    const counts = new Array<number>(n).fill(0);
    for (let i = 0; i < trials; i++) counts[rng.int(n)]++;
    expect(chiSquare(counts, trials / n)).toBeLessThan(CHI2_999[6]);
  });

  it('has no modulo bias for n close to 2^32', () => {
    // n = 3·2^30: a plain `u32 % n` would put half the draws below 2^30 instead of a third.
    const rng = new Rng(12);
    const n = 3 * 2 ** 30, trials = 30_000;
    const counts = [0, 0, 0];
    for (let i = 0; i < trials; i++) {
      const v = rng.int(n);
      expect(v).toBeLessThan(n);
      counts[Math.floor(v / 2 ** 30)]++;
    }
    expect(chiSquare(counts, trials / 3)).toBeLessThan(CHI2_999[2]);
  });

  it('rejects invalid int(n) arguments', () => {
    const rng = new Rng(1);
    for (const bad of [0, -1, 2.5, 2 ** 32 + 1, Number.NaN]) expect(() => rng.int(bad)).toThrow(RangeError);
    expect(rng.int(1)).toBe(0);
  });

  it('shuffles into a permutation, each of the 3! orders equally often', () => {
    const rng = new Rng(5);
    const p = rng.permutation(1000);
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    const counts = new Map<string, number>();
    const trials = 12_000;
    for (let t = 0; t < trials; t++) {
      const arr = ['a', 'b', 'c'];
      rng.shuffle(arr);
      const key = arr.join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    expect(chiSquare([...counts.values()], trials / 6)).toBeLessThan(CHI2_999[5]);
  });
});
