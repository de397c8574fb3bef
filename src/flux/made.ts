import type { Activation, Kernels } from '../core/kernels.js';
import { Rng } from '../core/rng.js';

/**
 * MADE (Germain et al. 2015) with conditions, as the building block of the cMAF
 * (Papamakarios et al. 2017; DESIGN.md step 4).
 *
 * Degrees. Input position i has degree 1..D (reversed on every other layer of the flow, so the
 * stack sees both orders). Hidden unit j has degree j mod D, i.e. 0..D-1: a unit of degree m may
 * see the inputs of degree <= m, and the outputs (mu, alpha) of the input of degree d may see the
 * hidden units of degree < d. Degree-0 units see no input at all, only the conditions; they are
 * what makes the first dimension's density depend on k (with the usual degrees 1..D-1 it would
 * not). Conditions feed every hidden layer and the output layer unmasked ("connected to all
 * hidden units").
 */
export interface MadeSpec {
  /** D: dimension of the modelled vector. */
  dim: number;
  /** L: number of conditions (0 for an unconditional MADE). */
  conditions: number;
  /** Widths of the hidden layers. */
  hidden: number[];
  /** True when input position i has degree D - i instead of i + 1 (order reversal between layers). */
  reversed: boolean;
  activation: Activation;
  /** Log-scales are soft-clamped to (-bound, bound) by bound·tanh(raw/bound). */
  logScaleBound: number;
}

/** One masked layer: y = x·(W∘M) + k·C + b. W: in x out (stored already masked), C: L x out. */
export interface MadeLayer {
  inputs: number;
  outputs: number;
  w: Float32Array;
  c: Float32Array;
  b: Float32Array;
}

/** Hidden layers in order, then the output layer (2D outputs: mu in columns 0..D-1, raw log-scale in D..2D-1). */
export interface MadeWeights {
  layers: MadeLayer[];
}

export function inputDegrees(spec: MadeSpec): Int32Array {
  const d = new Int32Array(spec.dim);
  for (let i = 0; i < spec.dim; i++) d[i] = spec.reversed ? spec.dim - i : i + 1;
  return d;
}

export function hiddenDegrees(width: number, dim: number): Int32Array {
  const d = new Int32Array(width);
  for (let j = 0; j < width; j++) d[j] = j % dim;
  return d;
}

/** The 0/1 masks (in x out, row-major) of every layer, hidden layers first, output layer last. */
export function madeMasks(spec: MadeSpec): Float32Array[] {
  const D = spec.dim;
  const inDeg = inputDegrees(spec);
  const masks: Float32Array[] = [];
  let prev = inDeg;
  for (const width of spec.hidden) {
    const deg = hiddenDegrees(width, D);
    const m = new Float32Array(prev.length * width);
    for (let i = 0; i < prev.length; i++) {
      for (let j = 0; j < width; j++) {
        // From the input: unit of degree m sees inputs of degree <= m. Hidden to hidden: same rule.
        m[i * width + j] = deg[j] >= prev[i] ? 1 : 0;
      }
    }
    masks.push(m);
    prev = deg;
  }
  const out = new Float32Array(prev.length * 2 * D);
  for (let i = 0; i < prev.length; i++) {
    for (let o = 0; o < 2 * D; o++) {
      const outDeg = inDeg[o % D];
      // Outputs of the input of degree d see units of degree < d (strict: autoregressive).
      // Without hidden layers the previous layer is the input itself, and the same strict rule holds.
      out[i * 2 * D + o] = outDeg > prev[i] ? 1 : 0;
    }
  }
  masks.push(out);
  return masks;
}

/** Glorot-uniform weights on the unmasked entries, zero biases; the output layer starts small so the flow starts near the identity. */
export function initMade(spec: MadeSpec, rng: Rng): MadeWeights {
  const masks = madeMasks(spec);
  const sizes = [spec.dim, ...spec.hidden, 2 * spec.dim];
  const layers: MadeLayer[] = [];
  for (let l = 0; l < sizes.length - 1; l++) {
    const inputs = sizes[l];
    const outputs = sizes[l + 1];
    const isOutput = l === sizes.length - 2;
    const limit = (isOutput ? 0.01 : 1) * Math.sqrt(6 / (inputs + spec.conditions + outputs));
    const w = new Float32Array(inputs * outputs);
    for (let i = 0; i < w.length; i++) w[i] = masks[l][i] * (2 * rng.uniform() - 1) * limit;
    const c = new Float32Array(spec.conditions * outputs);
    for (let i = 0; i < c.length; i++) c[i] = (2 * rng.uniform() - 1) * limit;
    layers.push({ inputs, outputs, w, c, b: new Float32Array(outputs) });
  }
  return { layers };
}

export function softClampScalar(x: number, bound: number): number {
  return bound * Math.tanh(x / bound);
}

/**
 * Density-direction parameters of one MADE for a batch: mu and the clamped log-scale alpha
 * (B x D each) for rows x (B x D) and conditions k (B x L).
 */
export function madeParams(
  spec: MadeSpec,
  weights: MadeWeights,
  x: Float32Array,
  k: Float32Array,
  batch: number,
  kernels: Kernels,
): { mu: Float32Array; alpha: Float32Array } {
  let h = x;
  const n = weights.layers.length;
  let out = new Float32Array(0);
  for (let l = 0; l < n; l++) {
    const layer = weights.layers[l];
    const pre = new Float32Array(batch * layer.outputs);
    kernels.gemm(h, layer.w, pre, batch, layer.inputs, layer.outputs, layer.b);
    if (spec.conditions > 0) kernels.gemm(k, layer.c, pre, batch, spec.conditions, layer.outputs, undefined, true);
    if (l < n - 1) {
      const act = new Float32Array(pre.length);
      kernels.activate(spec.activation, pre, act);
      h = act;
    } else {
      out = pre;
    }
  }
  const D = spec.dim;
  const mu = new Float32Array(batch * D);
  const alpha = new Float32Array(batch * D);
  for (let r = 0; r < batch; r++) {
    for (let i = 0; i < D; i++) {
      mu[r * D + i] = out[r * 2 * D + i];
      alpha[r * D + i] = softClampScalar(out[r * 2 * D + D + i], spec.logScaleBound);
    }
  }
  return { mu, alpha };
}
