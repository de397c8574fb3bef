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

/**
 * x·(W∘M) + k·C + b as one recorded op: one MADE layer with its conditions. Fused because the
 * generic tape ops (a broadcast add per layer) cost more than the GEMMs at these sizes.
 */
function conditionedMaskedLinear(tape: Tape, x: Tensor, w: Tensor, mask: Matrix, b: Tensor, k: Tensor | null, c: Tensor | null): Tensor {
  const kr = tape.kernels;
  const [m, kin] = x.shape;
  const n = w.cols;
  const wd = w.value.data, md = mask.data;
  const wm = new Float32Array(wd.length);
  for (let i = 0; i < wm.length; i++) wm[i] = wd[i] * md[i];
  const y = Matrix.zeros(m, n);
  kr.gemm(x.value.data, wm, y.data, m, kin, n, b.value.data);
  const L = k && c ? k.cols : 0;
  if (k && c) kr.gemm(k.value.data, c.value.data, y.data, m, L, n, undefined, true);
  const inputs = k && c ? [x, w, b, k, c] : [x, w, b];
  return tape.record(y, inputs, (out) => {
    const dy = out.grad!.data;
    if (x.requiresGrad) kr.gemmNT(dy, wm, x.gradOrZeros().data, m, n, kin, true);
    if (w.requiresGrad) {
      const dw = new Float32Array(wd.length);
      kr.gemmTN(x.value.data, dy, dw, kin, m, n, false);
      const g = w.gradOrZeros().data;
      for (let i = 0; i < g.length; i++) g[i] += dw[i] * md[i];
    }
    if (b.requiresGrad) kr.sumRows(dy, m, n, b.gradOrZeros().data, true);
    if (k && c) {
      if (c.requiresGrad) kr.gemmTN(k.value.data, dy, c.gradOrZeros().data, L, m, n, true);
      if (k.requiresGrad) kr.gemmNT(dy, c.value.data, k.gradOrZeros().data, m, n, L, true);
    }
  });
}

/**
 * The affine step of one MADE in the density direction, fused: from u (B x D) and the MADE
 * output h = [mu, raw log-scale] (B x 2D), u' = (u - mu)·exp(-alpha) with alpha = c·tanh(raw/c),
 * and the per-row log|det| = -Σ alpha appended as column D of the result (B x (D + 1)).
 */
function affineStep(tape: Tape, u: Tensor, h: Tensor, bound: number): Tensor {
  const [B, D] = u.shape;
  const ud = u.value.data, hd = h.value.data;
  const y = Matrix.zeros(B, D + 1);
  const yd = y.data;
  const alpha = new Float32Array(B * D);
  const scale = new Float32Array(B * D); // exp(-alpha)
  for (let r = 0; r < B; r++) {
    let s = 0;
    for (let i = 0; i < D; i++) {
      const al = bound * Math.tanh(hd[r * 2 * D + D + i] / bound);
      const e = Math.exp(-al);
      alpha[r * D + i] = al;
      scale[r * D + i] = e;
      yd[r * (D + 1) + i] = (ud[r * D + i] - hd[r * 2 * D + i]) * e;
      s += al;
    }
    yd[r * (D + 1) + D] = -s;
  }
  return tape.record(y, [u, h], (out) => {
    const g = out.grad!.data;
    const gu = u.requiresGrad ? u.gradOrZeros().data : null;
    const gh = h.requiresGrad ? h.gradOrZeros().data : null;
    for (let r = 0; r < B; r++) {
      const gld = g[r * (D + 1) + D];
      for (let i = 0; i < D; i++) {
        const gi = g[r * (D + 1) + i];
        const e = scale[r * D + i];
        const yi = yd[r * (D + 1) + i];
        if (gu) gu[r * D + i] += gi * e;
        if (gh) {
          gh[r * 2 * D + i] -= gi * e; // d/dmu
          // d/dalpha of (u - mu)e^{-alpha} is -y; of -Σalpha is -1; times d alpha/d raw = 1 - (alpha/c)^2.
          const a = alpha[r * D + i] / bound;
          gh[r * 2 * D + D + i] += (-gi * yi - gld) * (1 - a * a);
        }
      }
    }
  });
}

/** Per-row log p(a | k) on a tape (paper eqs. 2-4): log N(z) + Σ_layers Σ_i (-alpha_i). */
export function cmafLogProbOnTape(tape: Tape, t: CmafTrainable, a: Tensor, k: Tensor | null): Tensor {
  const { dim: D, logScaleBound, activation } = t.flow.spec;
  let u = a;
  let logDet: Tensor | null = null;
  for (const layers of t.layers) {
    let h = u;
    layers.forEach((layer, i) => {
      const pre = conditionedMaskedLinear(tape, h, layer.w, layer.mask, layer.b, k, layer.c);
      h = i + 1 < layers.length ? tape.activation(pre, activation) : pre;
    });
    const step = affineStep(tape, u, h, logScaleBound);
    u = tape.sliceCols(step, 0, D);
    const ld = tape.sliceCols(step, D, D + 1);
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

