import { describe, it, expect } from 'vitest';
import { Matrix } from '../src/core/matrix.js';
import { Tape, Tensor } from '../src/nn/tensor.js';
import { Adam, clipGradNorm, gradNorm } from '../src/nn/adam.js';

function tensorWith(values: number[], grads: number[] | null): Tensor {
  const t = new Tensor(Matrix.fromRows([values]), true);
  if (grads !== null) t.grad = Matrix.fromRows([grads]);
  return t;
}

describe('Adam', () => {
  it('first step is lr·sign(g) whatever the gradient scale (bias correction)', () => {
    const p = tensorWith([1, -2, 3, 0.5], [1e-3, -5, 100, -0.2]);
    const opt = new Adam([p], { lr: 0.01 });
    opt.step();
    const expected = [1 - 0.01, -2 + 0.01, 3 - 0.01, 0.5 + 0.01];
    // g/(|g| + 1e-8) differs from sign(g) by at most 1e-5 relative; float32 storage adds ~1e-7.
    p.value.data.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 6));
  });

  it('two steps with different gradients match the bias-corrected update computed by hand', () => {
    const p = tensorWith([0.5], [2]);
    const opt = new Adam([p], { lr: 0.1, beta1: 0.8, beta2: 0.9, eps: 1e-8 });
    opt.step();
    p.grad!.data[0] = -1;
    opt.step();
    // m2 = 0.8·0.2·2 + 0.2·(-1) = 0.12,  v2 = 0.9·0.1·4 + 0.1·1 = 0.46
    // m̂ = 0.12/(1-0.64) = 1/3,  v̂ = 0.46/(1-0.81) = 46/19
    const step2 = (0.1 * (1 / 3)) / (Math.sqrt(46 / 19) + 1e-8);
    expect(p.value.data[0]).toBeCloseTo(0.5 - 0.1 - step2, 6);
    expect(opt.steps).toBe(2);
  });

  it('minimises a quadratic', () => {
    const target = Matrix.fromRows([[3, -1, 0.25]]);
    const p = new Tensor(Matrix.zeros(1, 3), true);
    const opt = new Adam([p], { lr: 0.05 });
    for (let i = 0; i < 500; i++) {
      const tape = new Tape();
      opt.zeroGrad();
      tape.backward(tape.sum(tape.square(tape.sub(p, new Tensor(target)))));
      opt.step();
    }
    p.value.data.forEach((v, i) => expect(v).toBeCloseTo(target.data[i], 2));
  });

  it('decoupled weight decay shrinks weights by (1 - lr·wd) when the gradient is zero', () => {
    const p = tensorWith([2, -4], [0, 0]);
    new Adam([p], { lr: 0.1, weightDecay: 0.5 }).step();
    expect(Array.from(p.value.data)).toEqual([Math.fround(2 * 0.95), Math.fround(-4 * 0.95)]);
  });

  it('leaves parameters without a gradient untouched', () => {
    const p = tensorWith([1, 2], null);
    new Adam([p], { lr: 0.1 }).step();
    expect(Array.from(p.value.data)).toEqual([1, 2]);
  });
});

describe('gradient-norm clipping', () => {
  it('scales all gradients by one factor so that the global L2 norm equals the limit', () => {
    // global norm √(3² + 4² + 12²) = 13 over two tensors
    const a = tensorWith([0, 0], [3, 4]);
    const b = tensorWith([0], [-12]);
    expect(gradNorm([a, b])).toBeCloseTo(13, 6);
    const before = clipGradNorm([a, b], 1.3);
    expect(before).toBeCloseTo(13, 6);
    expect(gradNorm([a, b])).toBeCloseTo(1.3, 6);
    expect(Array.from(a.grad!.data).map((v) => +v.toFixed(6))).toEqual([0.3, 0.4]);
    expect(b.grad!.data[0]).toBeCloseTo(-1.2, 6);
  });

  it('leaves gradients below the limit alone', () => {
    const a = tensorWith([0, 0], [0.3, 0.4]);
    expect(clipGradNorm([a], 1)).toBeCloseTo(0.5, 6);
    expect(Array.from(a.grad!.data)).toEqual([Math.fround(0.3), Math.fround(0.4)]);
  });

  it('Adam with clipNorm clips before updating and reports the unclipped norm', () => {
    const a = tensorWith([0, 0], [30, 40]);
    const opt = new Adam([a], { lr: 0.01, clipNorm: 5 });
    expect(opt.step()).toBeCloseTo(50, 5);
    expect(gradNorm([a])).toBeCloseTo(5, 5);
  });
});
