import type { Activation, Kernels } from '../core/kernels.js';
import { Rng } from '../core/rng.js';
import { hiddenDegrees, initMade, inputDegrees, madeParams, softClampScalar, type MadeSpec, type MadeWeights } from './made.js';

/**
 * cMAF: K stacked conditional MADE affine layers (Papamakarios et al. 2017; DESIGN.md step 4,
 * paper eqs. 2-4). Density direction, layer by layer: u' = (u - mu(u<, k)) · exp(-alpha(u<, k)),
 * log|det| = -Σ alpha; after the last layer z ~ N(0, I). The order of the inputs is reversed on
 * every other layer.
 */
export interface CmafSpec {
  dim: number;
  conditions: number;
  /** K: number of MADE layers. */
  layers: number;
  hidden: number[];
  activation: Activation;
  /** Bound on every log-scale (soft clamp); keeps the sampling direction from exploding tails. */
  logScaleBound: number;
}

export interface Cmaf {
  spec: CmafSpec;
  mades: MadeWeights[];
}

const LOG_2PI = Math.log(2 * Math.PI);

export function madeSpecOf(spec: CmafSpec, layer: number): MadeSpec {
  return {
    dim: spec.dim,
    conditions: spec.conditions,
    hidden: spec.hidden,
    reversed: layer % 2 === 1,
    activation: spec.activation,
    logScaleBound: spec.logScaleBound,
  };
}

export function initCmaf(spec: CmafSpec, rng: Rng): Cmaf {
  const mades: MadeWeights[] = [];
  for (let l = 0; l < spec.layers; l++) mades.push(initMade(madeSpecOf(spec, l), rng));
  return { spec, mades };
}

/** Standard-normal log-density of each row of z (B x D), in float64. */
export function standardNormalLogDensity(z: Float32Array, batch: number, dim: number): Float64Array {
  const out = new Float64Array(batch);
  for (let r = 0; r < batch; r++) {
    let s = 0;
    for (let i = 0; i < dim; i++) s += z[r * dim + i] * z[r * dim + i];
    out[r] = -0.5 * s - 0.5 * dim * LOG_2PI;
  }
  return out;
}

/** Density direction a -> z: one parallel pass per layer. Returns z and Σ log|det| per row. */
export function cmafToLatent(flow: Cmaf, a: Float32Array, k: Float32Array, batch: number, kernels: Kernels): { z: Float32Array; logDet: Float64Array } {
  const D = flow.spec.dim;
  let u = a;
  const logDet = new Float64Array(batch);
  for (let l = 0; l < flow.mades.length; l++) {
    const { mu, alpha } = madeParams(madeSpecOf(flow.spec, l), flow.mades[l], u, k, batch, kernels);
    const next = new Float32Array(batch * D);
    for (let r = 0; r < batch; r++) {
      let s = 0;
      for (let i = 0; i < D; i++) {
        const idx = r * D + i;
        next[idx] = (u[idx] - mu[idx]) * Math.exp(-alpha[idx]);
        s += alpha[idx];
      }
      logDet[r] -= s;
    }
    u = next;
  }
  return { z: u, logDet };
}

/** log p(a | k) (paper eq. 2): log N(z; 0, I) + Σ log|det|. */
export function cmafLogProb(flow: Cmaf, a: Float32Array, k: Float32Array, batch: number, kernels: Kernels): Float64Array {
  const { z, logDet } = cmafToLatent(flow, a, k, batch, kernels);
  const lp = standardNormalLogDensity(z, batch, flow.spec.dim);
  for (let r = 0; r < batch; r++) lp[r] += logDet[r];
  return lp;
}

/** Broadcasts one condition vector (length L) to B rows, or checks a B x L matrix. */
export function conditionRows(k: Float32Array, batch: number, L: number): Float32Array {
  if (k.length === batch * L) return k;
  if (k.length === L) {
    const out = new Float32Array(batch * L);
    for (let r = 0; r < batch; r++) out.set(k, r * L);
    return out;
  }
  throw new RangeError(`cMAF: conditions have ${k.length} values, expected ${L} or ${batch}x${L}`);
}

/**
 * Reference sampler z -> a: inverts each MADE with D full forward passes (one per degree).
 * Costs D times the density pass; kept only as the yardstick for `cmafSample`.
 */
export function cmafSampleNaive(flow: Cmaf, z: Float32Array, k: Float32Array, batch: number, kernels: Kernels): { a: Float32Array; logProb: Float64Array } {
  const { dim: D, conditions: L } = flow.spec;
  const kRows = conditionRows(k, batch, L);
  const logProb = standardNormalLogDensity(z, batch, D);
  let y = z;
  for (let l = flow.mades.length - 1; l >= 0; l--) {
    const spec = madeSpecOf(flow.spec, l);
    const deg = inputDegrees(spec);
    const x = new Float32Array(batch * D);
    for (let d = 1; d <= D; d++) {
      const pos = deg.indexOf(d);
      const { mu, alpha } = madeParams(spec, flow.mades[l], x, kRows, batch, kernels);
      for (let r = 0; r < batch; r++) {
        const idx = r * D + pos;
        x[idx] = y[idx] * Math.exp(alpha[idx]) + mu[idx];
        if (d === D) {
          // The last pass sees the complete x, so its log-scales are final for every position.
          let s = 0;
          for (let i = 0; i < D; i++) s += alpha[r * D + i];
          logProb[r] -= s;
        }
      }
    }
    y = x;
  }
  return { a: y, logProb };
}

/**
 * Sampling plan of one MADE: hidden units sorted by degree, and for each degree m the weights
 * of the units of degree m packed against exactly the inputs they may see, which in degree order
 * form a prefix. Packing once per model lets every step of the sequential pass be a plain GEMM.
 */
interface MadeSamplingPlan {
  spec: MadeSpec;
  /** posOfDegree[d-1] = input position whose degree is d. */
  posOfDegree: Int32Array;
  /** Per hidden layer: sorted unit order, group boundaries per degree (length D+1), packed weights per degree. */
  hidden: {
    width: number;
    order: Int32Array;
    groupStart: Int32Array;
    packed: Float32Array[];
    /** Per sorted unit: bias and condition weights (L), for the condition term computed once per sample batch. */
    bias: Float32Array;
    cond: Float32Array;
  }[];
  /** Per degree d = m + 1: packed [mu row; raw log-scale row] against the last hidden prefix of degree <= m. */
  outPacked: Float32Array[];
  outBias: Float32Array;
  outCond: Float32Array;
}

export interface SamplingPlan {
  flow: Cmaf;
  mades: MadeSamplingPlan[];
}

function planMade(spec: MadeSpec, weights: MadeWeights): MadeSamplingPlan {
  const D = spec.dim;
  const L = spec.conditions;
  const inDeg = inputDegrees(spec);
  const posOfDegree = new Int32Array(D);
  for (let i = 0; i < D; i++) posOfDegree[inDeg[i] - 1] = i;

  const hidden: MadeSamplingPlan['hidden'] = [];
  // "Previous layer" rows in the order the sampler stores them: inputs in degree order first.
  let prevOrder: Int32Array = posOfDegree;
  let prevGroupEnd = (m: number): number => m; // inputs of degree <= m are the first m rows
  for (let l = 0; l < spec.hidden.length; l++) {
    const width = spec.hidden[l];
    const layer = weights.layers[l];
    const deg = hiddenDegrees(width, D);
    const order = Int32Array.from({ length: width }, (_, j) => j).sort((a, b) => deg[a] - deg[b] || a - b);
    const groupStart = new Int32Array(D + 1);
    for (let m = 0, u = 0; m <= D; m++) {
      while (u < width && deg[order[u]] < m) u++;
      groupStart[m] = u;
    }
    const packed: Float32Array[] = [];
    for (let m = 0; m < D; m++) {
      const g0 = groupStart[m];
      const g1 = groupStart[m + 1];
      const cols = prevGroupEnd(m);
      const p = new Float32Array((g1 - g0) * cols);
      for (let u = g0; u < g1; u++) {
        for (let r = 0; r < cols; r++) p[(u - g0) * cols + r] = layer.w[prevOrder[r] * width + order[u]];
      }
      packed.push(p);
    }
    const bias = new Float32Array(width);
    const cond = new Float32Array(width * L);
    for (let u = 0; u < width; u++) {
      bias[u] = layer.b[order[u]];
      for (let c = 0; c < L; c++) cond[u * L + c] = layer.c[c * width + order[u]];
    }
    hidden.push({ width, order, groupStart, packed, bias, cond });
    prevOrder = order;
    const gs = groupStart;
    prevGroupEnd = (m: number): number => gs[m + 1];
  }

  const out = weights.layers[spec.hidden.length];
  const outPacked: Float32Array[] = [];
  const outBias = new Float32Array(2 * D);
  const outCond = new Float32Array(2 * D * L);
  for (let m = 0; m < D; m++) {
    const pos = posOfDegree[m];
    const cols = prevGroupEnd(m);
    const p = new Float32Array(2 * cols);
    for (let r = 0; r < cols; r++) {
      p[r] = out.w[prevOrder[r] * 2 * D + pos];
      p[cols + r] = out.w[prevOrder[r] * 2 * D + D + pos];
    }
    outPacked.push(p);
    // Output rows in degree order: row 2m = mu of degree m+1, row 2m+1 = its raw log-scale.
    outBias[2 * m] = out.b[pos];
    outBias[2 * m + 1] = out.b[D + pos];
    for (let c = 0; c < L; c++) {
      outCond[2 * m * L + c] = out.c[c * 2 * D + pos];
      outCond[(2 * m + 1) * L + c] = out.c[c * 2 * D + D + pos];
    }
  }
  return { spec, posOfDegree, hidden, outPacked, outBias, outCond };
}

export function planSampling(flow: Cmaf): SamplingPlan {
  return { flow, mades: flow.mades.map((w, l) => planMade(madeSpecOf(flow.spec, l), w)) };
}

/** rows x P matrix (transposed layout: one row per unit, one column per sample) of bias + C·k. */
function conditionTerm(bias: Float32Array, cond: Float32Array, rows: number, L: number, kT: Float32Array, P: number): Float32Array {
  const out = new Float32Array(rows * P);
  for (let u = 0; u < rows; u++) {
    const row = out.subarray(u * P, (u + 1) * P);
    row.fill(bias[u]);
    for (let c = 0; c < L; c++) {
      const w = cond[u * L + c];
      if (w === 0) continue;
      const kc = kT.subarray(c * P, (c + 1) * P);
      for (let p = 0; p < P; p++) row[p] += w * kc[p];
    }
  }
  return out;
}

/**
 * Inverts one MADE for P samples in the transposed layout (row = dimension or unit, column =
 * sample). Every hidden unit is computed exactly once, in order of degree, and the input of
 * degree m+1 is emitted as soon as the units of degree <= m exist: the whole D-step inversion
 * costs about one masked forward pass instead of D of them.
 */
function invertMade(plan: MadeSamplingPlan, yT: Float32Array, kT: Float32Array, P: number, sumAlpha: Float64Array, kernels: Kernels): Float32Array {
  const { spec, posOfDegree } = plan;
  const D = spec.dim;
  const L = spec.conditions;
  const xT = new Float32Array(D * P); // inputs in degree order
  const hT = plan.hidden.map((h) => conditionTerm(h.bias, h.cond, h.width, L, kT, P));
  const outT = conditionTerm(plan.outBias, plan.outCond, 2 * D, L, kT, P);
  const act = spec.activation;
  for (let m = 0; m < D; m++) {
    let prev: Float32Array = xT;
    let prevRows = m; // inputs of degree <= m
    for (let l = 0; l < plan.hidden.length; l++) {
      const h = plan.hidden[l];
      const g0 = h.groupStart[m];
      const g1 = h.groupStart[m + 1];
      const rows = g1 - g0;
      if (rows > 0) {
        const target = hT[l].subarray(g0 * P, g1 * P);
        if (prevRows > 0) kernels.gemm(h.packed[m], prev.subarray(0, prevRows * P), target, rows, prevRows, P, undefined, true);
        kernels.activate(act, target, target);
      }
      prev = hT[l];
      prevRows = g1;
    }
    const target = outT.subarray(2 * m * P, (2 * m + 2) * P);
    if (prevRows > 0) kernels.gemm(plan.outPacked[m], prev.subarray(0, prevRows * P), target, 2, prevRows, P, undefined, true);
    const pos = posOfDegree[m];
    const y = yT.subarray(pos * P, (pos + 1) * P);
    const x = xT.subarray(m * P, (m + 1) * P);
    for (let p = 0; p < P; p++) {
      const alpha = softClampScalar(target[P + p], spec.logScaleBound);
      x[p] = y[p] * Math.exp(alpha) + target[p];
      sumAlpha[p] += alpha;
    }
  }
  // Back to position order.
  const out = new Float32Array(D * P);
  for (let m = 0; m < D; m++) out.set(xT.subarray(m * P, (m + 1) * P), posOfDegree[m] * P);
  return out;
}

function transpose(x: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = x[r * cols + c];
  return out;
}

/**
 * Sampling direction z -> a for B samples (z: B x D; k: one condition vector shared by all
 * samples, or B x L), with the log-density of each generated point, which the inversion gives
 * for free: log p(a|k) = log N(z) - Σ alpha.
 */
export function cmafSample(plan: SamplingPlan, z: Float32Array, k: Float32Array, batch: number, kernels: Kernels): { a: Float32Array; logProb: Float64Array } {
  const { dim: D, conditions: L } = plan.flow.spec;
  if (z.length !== batch * D) throw new RangeError(`cmafSample: z has ${z.length} values, expected ${batch}x${D}`);
  const kT = transpose(conditionRows(k, batch, L), batch, L);
  const logProb = standardNormalLogDensity(z, batch, D);
  const sumAlpha = new Float64Array(batch);
  let yT = transpose(z, batch, D);
  for (let l = plan.mades.length - 1; l >= 0; l--) yT = invertMade(plan.mades[l], yT, kT, batch, sumAlpha, kernels);
  for (let r = 0; r < batch; r++) logProb[r] -= sumAlpha[r];
  return { a: transpose(yT, D, batch), logProb };
}
