import { describe, it, expect } from 'vitest';
import { Rng } from '../src/core/rng.js';
import { tsKernels } from '../src/core/kernels-ts.js';
import { getKernels } from '../src/core/backend.js';
import { madeMasks, madeParams, type MadeSpec } from '../src/flux/made.js';
import { cmafLogProb, cmafSample, cmafSampleNaive, cmafToLatent, initCmaf, madeSpecOf, planSampling, type Cmaf, type CmafSpec } from '../src/flux/maf.js';

/** A flow with random weights everywhere the masks allow (init alone starts near identity); scale 0.2 keeps
 * generated values O(10), like a trained flow on standardised data, so float32 round trips stay at 1e-6. */
function randomFlow(spec: CmafSpec, rng: Rng, scale = 0.2): Cmaf {
  const flow = initCmaf(spec, rng);
  flow.mades.forEach((made, l) => {
    const masks = madeMasks(madeSpecOf(spec, l));
    made.layers.forEach((layer, i) => {
      for (let j = 0; j < layer.w.length; j++) layer.w[j] = masks[i][j] * scale * rng.normal();
      for (let j = 0; j < layer.c.length; j++) layer.c[j] = scale * rng.normal();
      for (let j = 0; j < layer.b.length; j++) layer.b[j] = 0.2 * rng.normal();
    });
  });
  return flow;
}

function randn(rng: Rng, n: number): Float32Array {
  const x = new Float32Array(n);
  rng.fillNormal(x);
  return x;
}

const kernels = getKernels();

describe('MADE', () => {
  for (const reversed of [false, true]) {
    for (const conditions of [0, 2]) {
      it(`is autoregressive (reversed=${reversed}, L=${conditions}): d output_i / d input_j = 0 unless degree(j) < degree(i)`, () => {
        const rng = new Rng(11);
        const spec: MadeSpec = { dim: 5, conditions, hidden: [16, 12], reversed, activation: 'tanh', logScaleBound: 3 };
        const flow = randomFlow({ dim: 5, conditions, layers: 2, hidden: [16, 12], activation: 'tanh', logScaleBound: 3 }, rng);
        const weights = flow.mades[reversed ? 1 : 0];
        const x = randn(rng, 5);
        const k = randn(rng, conditions);
        const base = madeParams(spec, weights, x, k, 1, tsKernels);
        const deg = (i: number) => (reversed ? 5 - i : i + 1);
        for (let j = 0; j < 5; j++) {
          const xp = x.slice();
          xp[j] += 0.5;
          const moved = madeParams(spec, weights, xp, k, 1, tsKernels);
          for (let i = 0; i < 5; i++) {
            const dmu = Math.abs(moved.mu[i] - base.mu[i]);
            const dal = Math.abs(moved.alpha[i] - base.alpha[i]);
            if (deg(j) >= deg(i)) {
              expect(dmu).toBe(0);
              expect(dal).toBe(0);
            }
          }
        }
        // And the dependence that is allowed is really there (the masks are not all zero).
        const xp = x.slice();
        const first = reversed ? 4 : 0;
        xp[first] += 0.5;
        const moved = madeParams(spec, weights, xp, k, 1, tsKernels);
        const last = reversed ? 0 : 4;
        expect(Math.abs(moved.mu[last] - base.mu[last])).toBeGreaterThan(1e-6);
      });
    }
  }

  it('makes the first dimension depend on the conditions', () => {
    const rng = new Rng(3);
    const spec: CmafSpec = { dim: 4, conditions: 1, layers: 1, hidden: [12, 12], activation: 'relu', logScaleBound: 3 };
    const flow = randomFlow(spec, rng);
    const x = randn(rng, 4);
    const a = madeParams(madeSpecOf(spec, 0), flow.mades[0], x, Float32Array.of(0.1), 1, tsKernels);
    const b = madeParams(madeSpecOf(spec, 0), flow.mades[0], x, Float32Array.of(0.9), 1, tsKernels);
    expect(Math.abs(a.mu[0] - b.mu[0]) + Math.abs(a.alpha[0] - b.alpha[0])).toBeGreaterThan(1e-4);
  });
});

describe('cMAF', () => {
  const spec: CmafSpec = { dim: 6, conditions: 2, layers: 4, hidden: [24, 24], activation: 'elu', logScaleBound: 2 };

  it('sampling then the density direction recovers z to 1e-4', () => {
    const rng = new Rng(5);
    const flow = randomFlow(spec, rng);
    const B = 64;
    const z = randn(rng, B * spec.dim);
    const k = randn(rng, B * spec.conditions);
    const { a, logProb } = cmafSample(planSampling(flow), z, k, B, kernels);
    const back = cmafToLatent(flow, a, k, B, kernels);
    for (let i = 0; i < z.length; i++) expect(Math.abs(back.z[i] - z[i])).toBeLessThan(1e-4 * (1 + Math.abs(z[i])));
    // The log-density that sampling reports is the density direction's.
    const lp = cmafLogProb(flow, a, k, B, kernels);
    for (let r = 0; r < B; r++) expect(logProb[r]).toBeCloseTo(lp[r], 3);
  });

  it('log-determinant equals log|det| of the numeric Jacobian (float64 finite differences)', () => {
    const rng = new Rng(9);
    const small: CmafSpec = { dim: 3, conditions: 1, layers: 3, hidden: [10, 10], activation: 'tanh', logScaleBound: 2 };
    const flow = randomFlow(small, rng);
    const a = randn(rng, 3);
    const k = Float32Array.of(0.3);
    const { logDet } = cmafToLatent(flow, a, k, 1, tsKernels);
    const h = 1e-2;
    const J: number[][] = [];
    for (let j = 0; j < 3; j++) {
      const ap = a.slice(); ap[j] += h;
      const am = a.slice(); am[j] -= h;
      const zp = cmafToLatent(flow, ap, k, 1, tsKernels).z;
      const zm = cmafToLatent(flow, am, k, 1, tsKernels).z;
      J.push([0, 1, 2].map((i) => (zp[i] - zm[i]) / (2 * h)));
    }
    const det =
      J[0][0] * (J[1][1] * J[2][2] - J[1][2] * J[2][1]) -
      J[0][1] * (J[1][0] * J[2][2] - J[1][2] * J[2][0]) +
      J[0][2] * (J[1][0] * J[2][1] - J[1][1] * J[2][0]);
    // Float32 forward passes: the central difference is good to ~1e-3 relative at h = 1e-2.
    expect(Math.abs(Math.log(Math.abs(det)) - logDet[0])).toBeLessThan(5e-3);
  });

  it('the one-pass sampler equals the naive D-pass sampler to float32 rounding', () => {
    for (const [seed, s] of [
      [1, spec],
      [2, { dim: 13, conditions: 3, layers: 3, hidden: [40, 33], activation: 'relu', logScaleBound: 3 } as CmafSpec],
      [3, { dim: 4, conditions: 0, layers: 2, hidden: [7], activation: 'silu', logScaleBound: 3 } as CmafSpec],
      [4, { dim: 1, conditions: 1, layers: 2, hidden: [5, 5], activation: 'tanh', logScaleBound: 3 } as CmafSpec],
    ] as const) {
      const rng = new Rng(seed);
      const flow = randomFlow(s, rng);
      const B = 37;
      const z = randn(rng, B * s.dim);
      const k = randn(rng, s.conditions); // one k shared by the whole reference cluster
      const fast = cmafSample(planSampling(flow), z, k, B, kernels);
      const naive = cmafSampleNaive(flow, z, k, B, tsKernels);
      for (let i = 0; i < fast.a.length; i++) expect(Math.abs(fast.a[i] - naive.a[i])).toBeLessThan(2e-5 * (1 + Math.abs(naive.a[i])));
      for (let r = 0; r < B; r++) expect(Math.abs(fast.logProb[r] - naive.logProb[r])).toBeLessThan(1e-4 * (1 + Math.abs(naive.logProb[r])));
    }
  });
});
