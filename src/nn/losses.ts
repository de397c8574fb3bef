import { Matrix } from '../core/matrix.js';
import type { Tape, Tensor } from './tensor.js';

/** log(2π), the normalising constant of the standard normal density per dimension. */
const LOG_2PI = Math.log(2 * Math.PI);

function checkPair(pred: Tensor, target: Tensor, what: string): void {
  if (pred.rows !== target.rows || pred.cols !== target.cols) {
    throw new RangeError(`${what}: prediction is ${pred.rows}x${pred.cols} but target is ${target.rows}x${target.cols}`);
  }
}

/**
 * Huber loss averaged over all elements (the cAE reconstruction loss, paper eq. 1, delta = 1):
 * ½r² for |r| ≤ δ, δ(|r| - ½δ) beyond, with r = pred - target. Its gradient is r clipped to
 * [-δ, δ], so outlying training rows cannot dominate a step.
 */
export function huberLoss(tape: Tape, pred: Tensor, target: Tensor, delta = 1): Tensor {
  checkPair(pred, target, 'huberLoss');
  if (!(delta > 0)) throw new RangeError(`huberLoss: delta must be positive, got ${delta}`);
  const p = pred.value.data, t = target.value.data;
  const count = p.length;
  let s = 0;
  for (let i = 0; i < count; i++) {
    const r = p[i] - t[i];
    const ar = Math.abs(r);
    s += ar <= delta ? 0.5 * r * r : delta * (ar - 0.5 * delta);
  }
  const value = new Matrix(1, 1, Float32Array.of(s / count));
  return tape.record(value, [pred, target], (out) => {
    const g = out.grad!.data[0] / count;
    const gp = pred.requiresGrad ? pred.gradOrZeros().data : null;
    const gt = target.requiresGrad ? target.gradOrZeros().data : null;
    for (let i = 0; i < count; i++) {
      const r = p[i] - t[i];
      const d = g * (r > delta ? delta : r < -delta ? -delta : r);
      if (gp !== null) gp[i] += d;
      if (gt !== null) gt[i] -= d;
    }
  });
}

/** Mean squared error over all elements. */
export function mseLoss(tape: Tape, pred: Tensor, target: Tensor): Tensor {
  checkPair(pred, target, 'mseLoss');
  const p = pred.value.data, t = target.value.data;
  const count = p.length;
  let s = 0;
  for (let i = 0; i < count; i++) {
    const r = p[i] - t[i];
    s += r * r;
  }
  const value = new Matrix(1, 1, Float32Array.of(s / count));
  return tape.record(value, [pred, target], (out) => {
    const g = (2 * out.grad!.data[0]) / count;
    const gp = pred.requiresGrad ? pred.gradOrZeros().data : null;
    const gt = target.requiresGrad ? target.gradOrZeros().data : null;
    for (let i = 0; i < count; i++) {
      const d = g * (p[i] - t[i]);
      if (gp !== null) gp[i] += d;
      if (gt !== null) gt[i] -= d;
    }
  });
}

/**
 * Per-row log N(z; 0, I) = -½|z|² - ½·d·log 2π (m x 1): the base density of the flow
 * (Papamakarios et al. 2017; paper eqs. 2-4). Its gradient is -z.
 */
export function standardNormalLogProb(tape: Tape, z: Tensor): Tensor {
  const [m, d] = z.shape;
  const zd = z.value.data;
  const value = Matrix.zeros(m, 1);
  for (let i = 0; i < m; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += zd[i * d + j] * zd[i * d + j];
    value.data[i] = -0.5 * s - 0.5 * d * LOG_2PI;
  }
  return tape.record(value, [z], (out) => {
    const g = out.grad!.data, gz = z.gradOrZeros().data;
    for (let i = 0; i < m; i++) for (let j = 0; j < d; j++) gz[i * d + j] -= g[i] * zd[i * d + j];
  });
}

/** Mean over rows of log N(z; 0, I) (1 x 1). */
export function meanStandardNormalLogProb(tape: Tape, z: Tensor): Tensor {
  return tape.mean(standardNormalLogProb(tape, z));
}
