import { describe, it, expect } from 'vitest';
import { Matrix } from '../src/core/matrix.js';
import { Rng } from '../src/core/rng.js';
import { Tape, Tensor } from '../src/nn/tensor.js';
import { Dense, MaskedDense, MLP } from '../src/nn/layers.js';
import { huberLoss, meanStandardNormalLogProb } from '../src/nn/losses.js';
import { Adam } from '../src/nn/adam.js';
import { gradCheck, kernelSets, param, randomMatrix } from './nn-helpers.js';

for (const kernels of kernelSets()) {
  describe(`layer gradients match central differences (kernels: ${kernels.name})`, () => {
    it('Dense', () => {
      const rng = new Rng(1);
      const layer = new Dense(4, 3, rng, { init: 'glorot' });
      layer.bias.value.data.set([0.1, -0.2, 0.3]);
      const x = param(randomMatrix(rng, 5, 4));
      gradCheck([x, layer.weight, layer.bias], (t) => layer.forward(t, x), { kernels });
    });

    it('MaskedDense: weights gradient is zero where the mask is zero', () => {
      const rng = new Rng(2);
      const mask = Matrix.fromRows([[1, 0, 1, 1], [0, 0, 1, 1], [1, 1, 0, 1]]);
      const layer = new MaskedDense(3, 4, mask, rng);
      const x = param(randomMatrix(rng, 6, 3));
      gradCheck([x, layer.weight, layer.bias], (t) => t.tanh(layer.forward(t, x)), { kernels });
      for (let i = 0; i < mask.data.length; i++) {
        if (mask.data[i] === 0) {
          expect(layer.weight.grad!.data[i]).toBe(0);
          expect(layer.weight.value.data[i]).toBe(0);
        } else {
          expect(layer.weight.grad!.data[i]).not.toBe(0);
        }
      }
    });

    it('MLP with a loss on top (tanh and silu hidden layers)', () => {
      const rng = new Rng(3);
      for (const activation of ['tanh', 'silu'] as const) {
        const net = new MLP([3, 5, 4, 2], rng, { activation });
        const x = new Tensor(randomMatrix(rng, 7, 3));
        const y = new Tensor(randomMatrix(rng, 7, 2));
        const params = Object.values(net.parameters());
        for (const p of params) if (p.name!.endsWith('bias')) p.value.data.set(randomMatrix(rng, 1, p.cols, 0.1).data);
        gradCheck(params, (t) => huberLoss(t, net.forward(t, x), y, 1), { kernels, maxElements: 12 });
        gradCheck(params, (t) => meanStandardNormalLogProb(t, net.forward(t, x)), { kernels, maxElements: 12 });
      }
    });
  });
}

describe('layer construction', () => {
  it('names parameters for weight files and draws reproducibly from the Rng', () => {
    const a = new MLP([3, 8, 2], new Rng(5), { name: 'enc' });
    expect(Object.keys(a.parameters())).toEqual(['enc.0.weight', 'enc.0.bias', 'enc.1.weight', 'enc.1.bias']);
    expect(a.parameters()['enc.0.weight'].shape).toEqual([3, 8]);
    expect(a.parameters()['enc.1.bias'].shape).toEqual([1, 2]);
    const b = new MLP([3, 8, 2], new Rng(5), { name: 'enc' });
    const c = new MLP([3, 8, 2], new Rng(6), { name: 'enc' });
    expect(b.layers[0].weight.value.data).toEqual(a.layers[0].weight.value.data);
    expect(c.layers[0].weight.value.data).not.toEqual(a.layers[0].weight.value.data);
  });

  it('Kaiming and Glorot uniform: bounds and variance bound²/3', () => {
    for (const [init, bound] of [['kaiming', Math.sqrt(6 / 200)], ['glorot', Math.sqrt(6 / 400)]] as const) {
      const w = new Dense(200, 200, new Rng(9), { init }).weight.value.data;
      let s2 = 0, max = 0;
      for (const v of w) {
        s2 += v * v;
        max = Math.max(max, Math.abs(v));
      }
      expect(max).toBeLessThanOrEqual(bound);
      expect(max).toBeGreaterThan(0.99 * bound);
      // relative standard error of the second moment of 40000 uniform draws is √(0.8/40000) ≈ 0.45%
      expect(Math.abs(s2 / w.length / (bound * bound / 3) - 1)).toBeLessThan(0.02);
    }
    expect(new Dense(4, 3, new Rng(1), { init: 'zeros' }).weight.value.data.every((v) => v === 0)).toBe(true);
  });

  it('MaskedDense rejects masks that are not 0/1 or of the wrong shape', () => {
    expect(() => new MaskedDense(2, 2, Matrix.fromRows([[1, 0.5], [0, 1]]), new Rng(1))).toThrow(/only 0 and 1/);
    expect(() => new MaskedDense(2, 3, Matrix.fromRows([[1, 0], [0, 1]]), new Rng(1))).toThrow(/expected 2x3/);
  });
});

describe('training', () => {
  it('an MLP learns y = sin(x1) + 0.5·x2² with Huber loss', () => {
    const rng = new Rng(2024);
    const sample = (n: number): { x: Matrix; y: Matrix } => {
      const x = Matrix.zeros(n, 2), y = Matrix.zeros(n, 1);
      for (let i = 0; i < n; i++) {
        const x1 = 4 * rng.uniform() - 2, x2 = 4 * rng.uniform() - 2;
        x.set(i, 0, x1);
        x.set(i, 1, x2);
        y.data[i] = Math.sin(x1) + 0.5 * x2 * x2;
      }
      return { x, y };
    };
    const train = sample(2048), test = sample(1024);
    const net = new MLP([2, 32, 32, 1], rng.fork(), { activation: 'silu' });
    const opt = new Adam(net.parameters(), { lr: 1e-2 });
    const batch = 128;
    const order = rng.fork();
    for (let epoch = 0; epoch < 40; epoch++) {
      const perm = order.permutation(train.x.rows);
      for (let s = 0; s + batch <= perm.length; s += batch) {
        const xb = Matrix.zeros(batch, 2), yb = Matrix.zeros(batch, 1);
        for (let i = 0; i < batch; i++) {
          xb.row(i).set(train.x.row(perm[s + i]));
          yb.data[i] = train.y.data[perm[s + i]];
        }
        const tape = new Tape();
        opt.zeroGrad();
        tape.backward(huberLoss(tape, net.forward(tape, new Tensor(xb)), new Tensor(yb), 1));
        opt.step();
      }
      if (epoch === 30) opt.lr = 2e-3;
    }
    const infer = new Tape({ record: false });
    const testLoss = huberLoss(infer, net.forward(infer, new Tensor(test.x)), new Tensor(test.y), 1).item();
    // Baseline: predict the training mean for every test row.
    const mean = train.y.data.reduce((a, b) => a + b, 0) / train.y.rows;
    const baseline = huberLoss(infer, new Tensor(new Matrix(test.y.rows, 1, new Float32Array(test.y.rows).fill(mean))), new Tensor(test.y), 1).item();
    console.log(`MLP test Huber loss ${testLoss.toExponential(3)} vs mean-prediction baseline ${baseline.toExponential(3)}`);
    // The mean predictor scores about Var(y)/2 ≈ 0.43 (Var(sin x1) ≈ 0.59 and Var(x2²/2) ≈ 0.36
    // for U(-2, 2) inputs, all residuals inside delta). The bound 1e-3 means an RMS test error
    // below √(2e-3) ≈ 0.045, under 5% of y's standard deviation: 400x below the baseline, which
    // only a network that has learned both the sine and the parabola reaches (fitting either term
    // alone leaves ≥ 0.18). Measured: about 2e-4 with this seed.
    expect(baseline).toBeGreaterThan(0.3);
    expect(testLoss).toBeLessThan(1e-3);
  });
});
