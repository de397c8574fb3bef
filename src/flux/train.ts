import { Rng } from '../core/rng.js';
import { Adam } from '../nn/adam.js';
import { Tape } from '../nn/tensor.js';
import type { Tensor } from '../nn/tensor.js';
import { FluxmutError, ExitCode } from '../core/errors.js';

/** What a training loop reports after every epoch (the CLI turns it into a progress bar). */
export interface EpochReport {
  stage: string;
  epoch: number;
  epochs: number;
  trainLoss: number;
  valLoss: number;
  best: boolean;
}

export interface TrainLoopOptions {
  epochs: number;
  batchSize: number;
  lr: number;
  /** Stop after this many epochs without a new best validation loss. */
  patience: number;
  /**
   * Halve the learning rate after this many epochs without a new best (default: patience / 2,
   * rounded up). Late, smaller steps settle the conditional moments that a noisy validation
   * loss alone would stop short of.
   */
  decayAfter?: number;
  /** Global gradient-norm clip (undefined: none). */
  clipNorm?: number;
  rng: Rng;
  stage: string;
  onEpoch?: (report: EpochReport) => void;
}

export interface TrainHistory {
  train: number[];
  val: number[];
  bestEpoch: number;
  bestValLoss: number;
}

/**
 * Mini-batch training with a validation split and early stopping on the validation loss; the
 * parameters of the best epoch are restored at the end. `batchLoss(tape, rows)` builds the mean
 * loss of the given training rows on the tape; `valLoss()` evaluates the validation loss.
 */
export function trainLoop(
  params: Record<string, Tensor>,
  nTrain: number,
  batchLoss: (tape: Tape, rows: Uint32Array) => Tensor,
  valLoss: () => number,
  options: TrainLoopOptions,
): TrainHistory {
  const list = Object.values(params);
  const optimizer = new Adam(list, { lr: options.lr, clipNorm: options.clipNorm });
  const history: TrainHistory = { train: [], val: [], bestEpoch: -1, bestValLoss: Infinity };
  let best = list.map((p) => p.value.data.slice());
  let sinceBest = 0;
  const decayAfter = Math.max(1, options.decayAfter ?? Math.ceil(options.patience / 2));
  const batchSize = Math.max(1, Math.min(options.batchSize, nTrain));
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    const order = options.rng.permutation(nTrain);
    let sum = 0;
    let count = 0;
    for (let start = 0; start < nTrain; start += batchSize) {
      const rows = order.subarray(start, Math.min(nTrain, start + batchSize));
      const tape = new Tape();
      for (const p of list) p.zeroGrad();
      const loss = batchLoss(tape, rows);
      const value = loss.item();
      if (!Number.isFinite(value)) {
        throw new FluxmutError(
          `${options.stage}: the training loss became ${value} at epoch ${epoch + 1}; lower the learning rate or check the input for extreme values`,
          ExitCode.BadInput,
        );
      }
      tape.backward(loss);
      optimizer.step();
      sum += value * rows.length;
      count += rows.length;
    }
    const trainLoss = sum / count;
    const v = valLoss();
    const isBest = v < history.bestValLoss;
    history.train.push(trainLoss);
    history.val.push(v);
    if (isBest) {
      history.bestValLoss = v;
      history.bestEpoch = epoch;
      best = list.map((p) => p.value.data.slice());
      sinceBest = 0;
    } else {
      sinceBest++;
      if (sinceBest % decayAfter === 0) optimizer.lr *= 0.5;
    }
    options.onEpoch?.({ stage: options.stage, epoch: epoch + 1, epochs: options.epochs, trainLoss, valLoss: v, best: isBest });
    if (sinceBest >= options.patience) break;
  }
  list.forEach((p, i) => p.value.data.set(best[i]));
  return history;
}

/** Rows `rows` of a row-major n x d matrix, as a new contiguous array. */
export function gatherRows(x: Float32Array, d: number, rows: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rows.length * d);
  for (let i = 0; i < rows.length; i++) out.set(x.subarray(rows[i] * d, rows[i] * d + d), i * d);
  return out;
}
