import { Matrix } from '../core/matrix.js';
import { Tape, Tensor } from '../nn/tensor.js';
import { standardNormalLogProb } from '../nn/losses.js';
import { madeMasks } from './made.js';
import { madeSpecOf, type Cmaf } from './maf.js';
import { gatherRows, trainLoop, type TrainHistory, type TrainLoopOptions } from './train.js';

/**
 * The trainable view of a cMAF: one Tensor per weight array, sharing the flow's buffers, so that
 * what the optimiser changes is what the density pass and the sampler read.
 */
export interface CmafTrainable {
  flow: Cmaf;
  params: Record<string, Tensor>;
  /** Per MADE layer, per dense layer: [weight, condition weight, bias] and the mask. */
  layers: { w: Tensor; c: Tensor | null; b: Tensor; mask: Matrix }[][];
}

export function cmafTrainable(flow: Cmaf): CmafTrainable {
  const params: Record<string, Tensor> = {};
  const L = flow.spec.conditions;
  const layers = flow.mades.map((made, l) => {
    const masks = madeMasks(madeSpecOf(flow.spec, l));
    return made.layers.map((layer, i) => {
      const prefix = `cmaf.${l}.${i}`;
      const w = Tensor.parameter(new Matrix(layer.inputs, layer.outputs, layer.w), `${prefix}.weight`);
      const c = L > 0 ? Tensor.parameter(new Matrix(L, layer.outputs, layer.c), `${prefix}.cond_weight`) : null;
      const b = Tensor.parameter(new Matrix(1, layer.outputs, layer.b), `${prefix}.bias`);
      params[w.name!] = w;
      if (c) params[c.name!] = c;
      params[b.name!] = b;
      return { w, c, b, mask: new Matrix(layer.inputs, layer.outputs, masks[i]) };
    });
  });
  return { flow, params, layers };
}

/** Per-row log p(a | k) on a tape (paper eqs. 2-4): log N(z) + Σ_layers Σ_i (-alpha_i). */
export function cmafLogProbOnTape(tape: Tape, t: CmafTrainable, a: Tensor, k: Tensor | null): Tensor {
  const { dim: D, logScaleBound, activation } = t.flow.spec;
  let u = a;
  let logDet: Tensor | null = null;
  for (const layers of t.layers) {
    let h = u;
    layers.forEach((layer, i) => {
      let pre = tape.maskedLinear(h, layer.w, layer.mask, layer.b);
      if (layer.c && k) pre = tape.add(pre, tape.matmul(k, layer.c));
      h = i + 1 < layers.length ? tape.activation(pre, activation) : pre;
    });
    const mu = tape.sliceCols(h, 0, D);
    const alpha = tape.softClamp(tape.sliceCols(h, D, 2 * D), logScaleBound);
    u = tape.mul(tape.sub(u, mu), tape.exp(tape.neg(alpha)));
    const ld = tape.neg(tape.sumCols(alpha));
    logDet = logDet ? tape.add(logDet, ld) : ld;
  }
  const base = standardNormalLogProb(tape, u);
  return logDet ? tape.add(base, logDet) : base;
}

export interface CmafData {
  /** N x D augmented vectors (preprocessed). */
  a: Float32Array;
  /** N x L scaled conditions (empty when L = 0). */
  k: Float32Array;
  n: number;
}

/** Mean negative log-likelihood per row of a data set, evaluated in batches without recording. */
export function cmafMeanNll(t: CmafTrainable, data: CmafData, batch = 4096): number {
  const { dim: D, conditions: L } = t.flow.spec;
  let sum = 0;
  for (let s = 0; s < data.n; s += batch) {
    const e = Math.min(data.n, s + batch);
    const tape = new Tape({ record: false });
    const a = new Tensor(new Matrix(e - s, D, data.a.subarray(s * D, e * D)));
    const k = L > 0 ? new Tensor(new Matrix(e - s, L, data.k.subarray(s * L, e * L))) : null;
    const lp = cmafLogProbOnTape(tape, t, a, k).value.data;
    for (let i = 0; i < lp.length; i++) sum -= lp[i];
  }
  return sum / data.n;
}

/** Trains the flow by maximum likelihood (paper eq. 4) with early stopping on validation NLL. */
export function trainCmaf(flow: Cmaf, train: CmafData, val: CmafData, options: TrainLoopOptions): TrainHistory {
  const t = cmafTrainable(flow);
  const { dim: D, conditions: L } = flow.spec;
  return trainLoop(
    t.params,
    train.n,
    (tape: Tape, rows: Uint32Array) => {
      const a = new Tensor(new Matrix(rows.length, D, gatherRows(train.a, D, rows)));
      const k = L > 0 ? new Tensor(new Matrix(rows.length, L, gatherRows(train.k, L, rows))) : null;
      return tape.neg(tape.mean(cmafLogProbOnTape(tape, t, a, k)));
    },
    () => cmafMeanNll(t, val),
    options,
  );
}

