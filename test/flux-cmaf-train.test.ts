import { describe, it, expect } from 'vitest';
import { Rng } from '../src/core/rng.js';
import { getKernels } from '../src/core/backend.js';
import { initCmaf, cmafLogProb, cmafSample, planSampling, type CmafSpec } from '../src/flux/maf.js';
import { trainCmaf, type CmafData } from '../src/flux/cmaf-train.js';

/**
 * A known conditional density: a | k ~ N(m(k), Σ(k)) in 2-D with m(k) = (2k - 1, sin 3k),
 * unit variances and correlation ρ(k) = 0.8(2k - 1), k ~ U(0, 1).
 */
function truth(k: number): { m: [number, number]; rho: number } {
  return { m: [2 * k - 1, Math.sin(3 * k)], rho: 0.8 * (2 * k - 1) };
}

function draw(rng: Rng, n: number): CmafData & { trueNll: number } {
  const a = new Float32Array(2 * n);
  const k = new Float32Array(n);
  let nll = 0;
  for (let i = 0; i < n; i++) {
    const ki = rng.uniform();
    const { m, rho } = truth(ki);
    const e1 = rng.normal();
    const e2 = rng.normal();
    const x1 = m[0] + e1;
    const x2 = m[1] + rho * e1 + Math.sqrt(1 - rho * rho) * e2;
    k[i] = ki;
    a[2 * i] = x1;
    a[2 * i + 1] = x2;
    // Exact -log N(x; m, Σ) of the float32-stored values.
    const d1 = a[2 * i] - m[0];
    const d2 = a[2 * i + 1] - m[1];
    const det = 1 - rho * rho;
    const q = (d1 * d1 - 2 * rho * d1 * d2 + d2 * d2) / det;
    nll += 0.5 * q + Math.log(2 * Math.PI) + 0.5 * Math.log(det);
  }
  return { a, k, n, trueNll: nll / n };
}

describe('cMAF training on a known conditional density', () => {
  it('reaches the true test NLL within 0.05 nats per dimension and samples with the true moments at fixed k', () => {
    const rng = new Rng(2024);
    const train = draw(rng, 6000);
    const val = draw(rng, 2000);
    const test = draw(rng, 4000);
    const spec: CmafSpec = { dim: 2, conditions: 1, layers: 5, hidden: [32, 32], activation: 'relu', logScaleBound: 3 };
    const flow = initCmaf(spec, rng);
    const history = trainCmaf(flow, train, val, { epochs: 40, batchSize: 256, lr: 3e-3, patience: 6, rng, stage: 'cmaf' });
    const kernels = getKernels();
    const lp = cmafLogProb(flow, test.a, test.k, test.n, kernels);
    let nll = 0;
    for (let i = 0; i < test.n; i++) nll -= lp[i];
    nll /= test.n;
    // The statistical error of a mean NLL over 4000 rows is ~0.015 nats; 0.05 per dimension is the target.
    expect(Math.abs(nll - test.trueNll) / 2).toBeLessThan(0.05);
    expect(history.val.length).toBeGreaterThan(3);

    for (const kk of [0.2, 0.8]) {
      const P = 6000;
      const z = new Float32Array(2 * P);
      rng.fillNormal(z);
      const { a } = cmafSample(planSampling(flow), z, Float32Array.of(kk), P, kernels);
      let s1 = 0, s2 = 0, s11 = 0, s22 = 0, s12 = 0;
      for (let i = 0; i < P; i++) {
        s1 += a[2 * i]; s2 += a[2 * i + 1];
      }
      const m1 = s1 / P, m2 = s2 / P;
      for (let i = 0; i < P; i++) {
        const d1 = a[2 * i] - m1, d2 = a[2 * i + 1] - m2;
        s11 += d1 * d1; s22 += d2 * d2; s12 += d1 * d2;
      }
      const v1 = s11 / (P - 1), v2 = s22 / (P - 1), c12 = s12 / (P - 1);
      const { m, rho } = truth(kk);
      // Standard errors at P = 6000: mean 0.013, variance 0.018, covariance ~0.015. The flow's own
      // model error adds to that; 5 standard errors of the sample plus a 0.05 model allowance.
      expect(Math.abs(m1 - m[0])).toBeLessThan(0.1);
      expect(Math.abs(m2 - m[1])).toBeLessThan(0.1);
      expect(Math.abs(v1 - 1)).toBeLessThan(0.15);
      expect(Math.abs(v2 - 1)).toBeLessThan(0.15);
      expect(Math.abs(c12 - rho)).toBeLessThan(0.12);
    }
  });
});

describe('cMAF log-likelihood gradient', () => {
  it('matches central finite differences of the density pass for every parameter kind', async () => {
    const { cmafTrainable, cmafLogProbOnTape } = await import('../src/flux/cmaf-train.js');
    const { Tape, Tensor } = await import('../src/nn/tensor.js');
    const { Matrix } = await import('../src/core/matrix.js');
    const { tsKernels } = await import('../src/core/kernels-ts.js');
    const rng = new Rng(3);
    const spec: CmafSpec = { dim: 3, conditions: 2, layers: 2, hidden: [8, 8], activation: 'tanh', logScaleBound: 1.5 };
    const flow = initCmaf(spec, rng);
    // Larger output weights than init so the log-scales (and their clamp) really vary.
    for (const made of flow.mades) for (const layer of made.layers) for (let i = 0; i < layer.w.length; i++) if (layer.w[i] !== 0) layer.w[i] = 0.5 * rng.normal();
    for (const made of flow.mades) for (const layer of made.layers) for (let i = 0; i < layer.c.length; i++) layer.c[i] = 0.5 * rng.normal();
    const B = 5;
    const a = new Float32Array(B * 3); rng.fillNormal(a);
    const k = new Float32Array(B * 2); rng.fillUniform(k);
    const t = cmafTrainable(flow);
    const tape = new Tape({ kernels: tsKernels });
    const loss = tape.sum(cmafLogProbOnTape(tape, t, new Tensor(new Matrix(B, 3, a)), new Tensor(new Matrix(B, 2, k))));
    tape.backward(loss);
    const f = () => cmafLogProb(flow, a, k, B, tsKernels).reduce((s, v) => s + v, 0);
    let checked = 0;
    for (const [name, p] of Object.entries(t.params)) {
      for (const idx of [0, Math.floor(p.value.data.length / 2), p.value.data.length - 1]) {
        const old = p.value.data[idx];
        if (name.endsWith('.weight') && old === 0) continue; // masked-out entry: no gradient by construction
        const h = 1e-2;
        p.value.data[idx] = old + h; const fp = f();
        p.value.data[idx] = old - h; const fm = f();
        p.value.data[idx] = old;
        const fd = (fp - fm) / (2 * h);
        const g = p.grad!.data[idx];
        // Float32 forward passes: central differences at h = 1e-2 are good to ~1e-3 of the scale.
        expect(Math.abs(g - fd)).toBeLessThan(2e-3 + 2e-2 * Math.abs(fd));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });
});
