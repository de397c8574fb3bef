import { describe, it, expect } from 'vitest';
import { Matrix } from '../src/core/matrix.js';
import { Rng } from '../src/core/rng.js';
import { Tape, Tensor } from '../src/nn/tensor.js';
import { huberLoss, mseLoss, standardNormalLogProb, meanStandardNormalLogProb } from '../src/nn/losses.js';
import { awayFromZero, gradCheck, kernelSets, param, randomMatrix } from './nn-helpers.js';

for (const kernels of kernelSets()) {
  describe(`autodiff gradients match central differences (kernels: ${kernels.name})`, () => {
    const rng = new Rng(7);
    const check = (inputs: Tensor[], f: (t: Tape) => Tensor) => gradCheck(inputs, f, { kernels });

    it('linear x·W + b and matmul', () => {
      const x = param(randomMatrix(rng, 5, 4)), w = param(randomMatrix(rng, 4, 3, 0.5)), b = param(randomMatrix(rng, 1, 3));
      check([x, w, b], (t) => t.linear(x, w, b));
      check([x, w], (t) => t.matmul(x, w));
    });

    it('masked linear: gradient of W is zero where the mask is zero', () => {
      const x = param(randomMatrix(rng, 6, 4)), w = param(randomMatrix(rng, 4, 5, 0.5)), b = param(randomMatrix(rng, 1, 5));
      const mask = Matrix.zeros(4, 5);
      for (let i = 0; i < mask.data.length; i++) mask.data[i] = rng.uniform() < 0.5 ? 1 : 0;
      check([x, w, b], (t) => t.maskedLinear(x, w, mask, b));
      let zeros = 0;
      for (let i = 0; i < mask.data.length; i++) {
        if (mask.data[i] === 0) {
          expect(w.grad!.data[i]).toBe(0);
          zeros++;
        }
      }
      expect(zeros).toBeGreaterThan(0);
      // The masked weights must not act either: changing them leaves the output unchanged.
      const before = new Tape({ kernels }).maskedLinear(x, w, mask, b).value.data.slice();
      for (let i = 0; i < mask.data.length; i++) if (mask.data[i] === 0) w.value.data[i] += 100;
      expect(new Tape({ kernels }).maskedLinear(x, w, mask, b).value.data).toEqual(before);
    });

    it('add, sub, mul with equal shapes and with row, column and scalar broadcasting', () => {
      const shapes: [number, number][] = [[4, 3], [1, 3], [4, 1], [1, 1]];
      for (const [ra, ca] of shapes) {
        for (const [rb, cb] of shapes) {
          const a = param(randomMatrix(rng, ra, ca)), b = param(randomMatrix(rng, rb, cb));
          check([a, b], (t) => t.add(a, b));
          check([a, b], (t) => t.sub(a, b));
          check([a, b], (t) => t.mul(a, b));
        }
      }
      const tape = new Tape({ kernels });
      expect(() => tape.add(param(randomMatrix(rng, 4, 3)), param(randomMatrix(rng, 3, 3)))).toThrow(/do not broadcast/);
    });

    it('row broadcast adds the same 1 x n row to every row', () => {
      const a = new Tensor(Matrix.fromRows([[1, 2], [3, 4], [5, 6]]));
      const b = new Tensor(Matrix.fromRows([[10, 20]]));
      expect(new Tape({ kernels }).add(a, b).value.toArray()).toEqual([[11, 22], [13, 24], [15, 26]]);
    });

    it('scale, addScalar, neg, square, exp, log', () => {
      const a = param(randomMatrix(rng, 3, 4));
      check([a], (t) => t.scale(a, -2.5));
      check([a], (t) => t.addScalar(a, 3));
      check([a], (t) => t.neg(a));
      check([a], (t) => t.square(a));
      check([a], (t) => t.exp(a));
      const pos = param(awayFromZero(rng, 3, 4, 0.5, 3));
      for (let i = 0; i < pos.value.data.length; i++) pos.value.data[i] = Math.abs(pos.value.data[i]);
      check([pos], (t) => t.log(pos));
    });

    it('relu, tanh, elu, silu (inputs at least 0.05 from the kinks at 0)', () => {
      const a = param(awayFromZero(rng, 4, 5, 0.05, 3));
      check([a], (t) => t.relu(a));
      check([a], (t) => t.tanh(a));
      check([a], (t) => t.elu(a));
      check([a], (t) => t.silu(a));
      check([a], (t) => t.activation(a, 'identity'));
    });

    it('softClamp c·tanh(x/c), inside and beyond the bound', () => {
      const a = param(randomMatrix(rng, 4, 5, 3));
      check([a], (t) => t.softClamp(a, 2));
      const y = new Tape({ kernels }).softClamp(new Tensor(Matrix.fromRows([[0.001, 50, -50]])), 2).value.data;
      expect(y[0]).toBeCloseTo(0.001, 6);
      expect(y[1]).toBeCloseTo(2, 6);
      expect(y[2]).toBeCloseTo(-2, 6);
    });

    it('concatCols and sliceCols', () => {
      const a = param(randomMatrix(rng, 3, 2)), b = param(randomMatrix(rng, 3, 1)), c = param(randomMatrix(rng, 3, 4));
      check([a, b, c], (t) => t.concatCols([a, b, c]));
      check([c], (t) => t.sliceCols(c, 1, 3));
      // slice of a concat recovers the part, and the gradient flows to that part only
      check([a, b, c], (t) => t.mul(t.sliceCols(t.concatCols([a, b, c]), 2, 5), t.sliceCols(c, 0, 3)));
      const cat = new Tape({ kernels }).concatCols([a, b]).value;
      expect(cat.toArray()).toEqual(a.value.toArray().map((row, i) => [...row, b.value.get(i, 0)]));
    });

    it('sum, mean, sumCols, sumRows', () => {
      const a = param(randomMatrix(rng, 5, 3));
      check([a], (t) => t.sum(a));
      check([a], (t) => t.mean(a));
      check([a], (t) => t.sumCols(a));
      check([a], (t) => t.sumRows(a));
    });

    it('a tensor used several times accumulates every contribution', () => {
      const x = param(randomMatrix(rng, 3, 3, 0.7)), w = param(randomMatrix(rng, 3, 3, 0.5));
      const b = param(randomMatrix(rng, 1, 3));
      const mask = Matrix.fromRows([[1, 0, 1], [1, 1, 0], [0, 1, 1]]);
      check([x, w], (t) => t.add(t.mul(x, t.tanh(t.linear(x, w))), t.exp(t.scale(x, 0.5))));
      // the same weights and bias in two layers: both GEMM gradients must add, not overwrite
      check([x, w, b], (t) => t.linear(t.tanh(t.linear(x, w, b)), w, b));
      check([x, w, b], (t) => t.maskedLinear(t.tanh(t.maskedLinear(x, w, mask, b)), w, mask, b));
    });

    it('Huber loss (both regions, residuals away from ±delta), MSE', () => {
      const pred = param(randomMatrix(rng, 6, 3, 2));
      const target = param(randomMatrix(rng, 6, 3, 2));
      for (let i = 0; i < pred.value.data.length; i++) {
        // keep |r| at least 0.05 from the quadratic/linear seam (delta = 1 and 0.5), where the
        // second derivative jumps
        const r = pred.value.data[i] - target.value.data[i];
        for (const d of [1, 0.5]) if (Math.abs(Math.abs(r) - d) < 0.05) pred.value.data[i] += 0.2;
      }
      check([pred, target], (t) => huberLoss(t, pred, target, 1));
      check([pred, target], (t) => huberLoss(t, pred, target, 0.5));
      check([pred, target], (t) => mseLoss(t, pred, target));
    });

    it('standard-normal log-density and its mean', () => {
      const z = param(randomMatrix(rng, 5, 4));
      check([z], (t) => standardNormalLogProb(t, z));
      check([z], (t) => meanStandardNormalLogProb(t, z));
    });
  });
}

describe('loss values against closed forms', () => {
  const tape = new Tape();
  it('Huber: quadratic inside delta, linear outside', () => {
    const pred = new Tensor(Matrix.fromRows([[0.5, 3, -2]]));
    const target = new Tensor(Matrix.fromRows([[0, 0, 0]]));
    // (0.125 + (3 - 0.5) + (2 - 0.5)) / 3
    expect(huberLoss(tape, pred, target, 1).item()).toBeCloseTo((0.125 + 2.5 + 1.5) / 3, 6);
    // delta = 2: 0.125, 2·(3 - 1) = 4, 0.5·4 = 2
    expect(huberLoss(tape, pred, target, 2).item()).toBeCloseTo((0.125 + 4 + 2) / 3, 6);
    expect(mseLoss(tape, pred, target).item()).toBeCloseTo((0.25 + 9 + 4) / 3, 6);
  });

  it('log N(z; 0, I) matches the product of 1-d normal densities', () => {
    const z = Matrix.fromRows([[0.3, -1.2, 2], [0, 0, 0]]);
    const lp = standardNormalLogProb(tape, new Tensor(z)).value.data;
    for (let i = 0; i < 2; i++) {
      let expected = 0;
      for (const v of z.row(i)) expected += Math.log(Math.exp(-0.5 * v * v) / Math.sqrt(2 * Math.PI));
      expect(lp[i]).toBeCloseTo(expected, 5);
    }
  });
});

describe('tape mechanics', () => {
  it('refuses a non-scalar root without a seed, and a second backward', () => {
    const x = param(Matrix.fromRows([[1, 2]]));
    const tape = new Tape();
    const y = tape.scale(x, 2);
    expect(() => tape.backward(y)).toThrow(/seed/);
    const l = tape.sum(y);
    tape.backward(l);
    expect(Array.from(x.grad!.data)).toEqual([2, 2]);
    expect(() => tape.backward(l)).toThrow(/already/);
  });

  it('records nothing for constants or with record: false, and skips branches off the loss path', () => {
    const c = new Tensor(Matrix.fromRows([[1, 2]]));
    const tape = new Tape();
    tape.exp(c);
    expect(tape.size).toBe(0);
    const x = param(Matrix.fromRows([[1, 2]]));
    const off = new Tape({ record: false });
    expect(off.exp(x).requiresGrad).toBe(false);
    expect(off.size).toBe(0);
    const side = tape.exp(x); // not part of the loss
    tape.backward(tape.sum(tape.scale(x, 3)));
    expect(side.grad).toBeNull();
    expect(Array.from(x.grad!.data)).toEqual([3, 3]);
  });

  it('gradients of parameters accumulate across tapes until zeroed', () => {
    const x = param(Matrix.fromRows([[1, -1]]));
    for (let k = 0; k < 2; k++) {
      const t = new Tape();
      t.backward(t.sum(t.square(x)));
    }
    expect(Array.from(x.grad!.data)).toEqual([4, -4]);
    x.zeroGrad();
    expect(Array.from(x.grad!.data)).toEqual([0, 0]);
  });
});
