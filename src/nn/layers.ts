import { Matrix } from '../core/matrix.js';
import type { Activation } from '../core/kernels.js';
import type { Rng } from '../core/rng.js';
import { FluxmutError, ExitCode } from '../core/errors.js';
import { Tensor, type Tape } from './tensor.js';
import type { SafeTensor } from './safetensors.js';

/**
 * Weight initialisation. Weights are drawn uniformly in ±bound:
 * - kaiming: bound = √(6 / fan_in), for ReLU-family layers (He et al. 2015);
 * - glorot: bound = √(6 / (fan_in + fan_out)), for tanh/linear layers (Glorot & Bengio 2010);
 * - zeros: all weights zero (e.g. a flow's last layer, so it starts as the identity map).
 * Biases start at zero.
 */
export type Init = 'kaiming' | 'glorot' | 'zeros';

/** Anything with named trainable parameters (names are the weight-file keys). */
export interface Module {
  parameters(): Record<string, Tensor>;
}

function initWeight(rows: number, cols: number, init: Init, rng: Rng, fanIn = rows): Matrix {
  const w = Matrix.zeros(rows, cols);
  if (init === 'zeros') return w;
  const bound = init === 'kaiming' ? Math.sqrt(6 / Math.max(fanIn, 1)) : Math.sqrt(6 / (fanIn + cols));
  for (let i = 0; i < w.data.length; i++) w.data[i] = (2 * rng.uniform() - 1) * bound;
  return w;
}

function checkWidth(value: number, what: string): void {
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${what} must be a positive integer, got ${value}`);
}

export interface DenseOptions {
  init?: Init;
  /** Parameter name prefix: parameters are `<name>.weight` (in x out) and `<name>.bias` (1 x out). */
  name?: string;
}

/**
 * y = x·W + b. W is stored in x out (row-major), i.e. the transpose of PyTorch's nn.Linear
 * weight, so that the forward pass is a plain GEMM without transposition.
 */
export class Dense implements Module {
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(readonly inFeatures: number, readonly outFeatures: number, rng: Rng, options: DenseOptions = {}) {
    checkWidth(inFeatures, 'Dense: inFeatures');
    checkWidth(outFeatures, 'Dense: outFeatures');
    const name = options.name ?? 'dense';
    this.weight = Tensor.parameter(initWeight(inFeatures, outFeatures, options.init ?? 'kaiming', rng), `${name}.weight`);
    this.bias = Tensor.parameter(Matrix.zeros(1, outFeatures), `${name}.bias`);
  }

  forward(tape: Tape, x: Tensor): Tensor {
    return tape.linear(x, this.weight, this.bias);
  }

  parameters(): Record<string, Tensor> {
    return { [this.weight.name!]: this.weight, [this.bias.name!]: this.bias };
  }
}

/**
 * y = x·(W∘M) + b with a fixed 0/1 connectivity mask M (in x out), the building block of MADE
 * (Germain et al. 2015). Masked-out weights are zeroed at construction and never receive a
 * gradient, so they stay zero in weight files too. Kaiming bounds use the largest number of
 * active inputs of any output unit as fan-in.
 */
export class MaskedDense implements Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly mask: Matrix;

  constructor(readonly inFeatures: number, readonly outFeatures: number, mask: Matrix, rng: Rng, options: DenseOptions = {}) {
    checkWidth(inFeatures, 'MaskedDense: inFeatures');
    checkWidth(outFeatures, 'MaskedDense: outFeatures');
    if (mask.rows !== inFeatures || mask.cols !== outFeatures) {
      throw new RangeError(`MaskedDense: mask is ${mask.rows}x${mask.cols}, expected ${inFeatures}x${outFeatures}`);
    }
    let maxFanIn = 0;
    for (let j = 0; j < outFeatures; j++) {
      let fan = 0;
      for (let i = 0; i < inFeatures; i++) {
        const v = mask.data[i * outFeatures + j];
        if (v !== 0 && v !== 1) throw new RangeError(`MaskedDense: mask entry (${i}, ${j}) is ${v}; masks hold only 0 and 1`);
        fan += v;
      }
      maxFanIn = Math.max(maxFanIn, fan);
    }
    this.mask = mask.clone();
    const name = options.name ?? 'masked';
    const w = initWeight(inFeatures, outFeatures, options.init ?? 'kaiming', rng, maxFanIn);
    for (let i = 0; i < w.data.length; i++) w.data[i] *= this.mask.data[i];
    this.weight = Tensor.parameter(w, `${name}.weight`);
    this.bias = Tensor.parameter(Matrix.zeros(1, outFeatures), `${name}.bias`);
  }

  forward(tape: Tape, x: Tensor): Tensor {
    return tape.maskedLinear(x, this.weight, this.mask, this.bias);
  }

  parameters(): Record<string, Tensor> {
    return { [this.weight.name!]: this.weight, [this.bias.name!]: this.bias };
  }
}

export interface MLPOptions {
  /** Hidden-layer nonlinearity (default relu). */
  activation?: Activation;
  /** Applied to the last layer's output (default identity). */
  outputActivation?: Activation;
  /** Init of hidden layers; default kaiming for relu/elu/silu, glorot for tanh/identity. */
  init?: Init;
  /** Init of the last layer (default: as hidden layers). */
  outputInit?: Init;
  /** Parameter prefix: layer i has parameters `<name>.<i>.weight` and `<name>.<i>.bias`. */
  name?: string;
}

/** A stack of Dense layers with widths [in, hidden..., out] and one nonlinearity between them. */
export class MLP implements Module {
  readonly layers: Dense[];
  readonly activation: Activation;
  readonly outputActivation: Activation;

  constructor(widths: readonly number[], rng: Rng, options: MLPOptions = {}) {
    if (widths.length < 2) throw new RangeError(`MLP: need at least an input and an output width, got [${widths.join(', ')}]`);
    this.activation = options.activation ?? 'relu';
    this.outputActivation = options.outputActivation ?? 'identity';
    const name = options.name ?? 'mlp';
    const hiddenInit = options.init ?? (this.activation === 'tanh' || this.activation === 'identity' ? 'glorot' : 'kaiming');
    this.layers = [];
    for (let i = 0; i + 1 < widths.length; i++) {
      const last = i + 2 === widths.length;
      const init = last ? (options.outputInit ?? hiddenInit) : hiddenInit;
      this.layers.push(new Dense(widths[i], widths[i + 1], rng, { init, name: `${name}.${i}` }));
    }
  }

  forward(tape: Tape, x: Tensor): Tensor {
    let h = x;
    this.layers.forEach((layer, i) => {
      h = layer.forward(tape, h);
      const act = i + 1 === this.layers.length ? this.outputActivation : this.activation;
      if (act !== 'identity') h = tape.activation(h, act);
    });
    return h;
  }

  parameters(): Record<string, Tensor> {
    return Object.assign({}, ...this.layers.map((l) => l.parameters())) as Record<string, Tensor>;
  }
}

/** The parameters of a module as F32 safetensors entries (data copied, shape [rows, cols]). */
export function parametersToSafetensors(params: Record<string, Tensor>): Record<string, SafeTensor> {
  const out: Record<string, SafeTensor> = {};
  for (const [name, t] of Object.entries(params)) {
    out[name] = { dtype: 'F32', shape: [t.rows, t.cols], data: t.value.data.slice() };
  }
  return out;
}

/**
 * Copies weights from a loaded file into a module's parameters. The file must hold exactly the
 * module's parameters, as F32 with matching shapes; otherwise a FluxmutError (BadModel) names
 * `source` and the first tensor that is wrong.
 */
export function loadParametersFromSafetensors(params: Record<string, Tensor>, tensors: Record<string, SafeTensor>, source: string): void {
  const fix = 'the weight file does not belong to this model (re-train, or point to the right model directory)';
  for (const [name, t] of Object.entries(params)) {
    const st = tensors[name];
    if (st === undefined) throw new FluxmutError(`${source}: missing tensor '${name}' (expected F32 [${t.rows}, ${t.cols}]); ${fix}`, ExitCode.BadModel);
    if (st.dtype !== 'F32') throw new FluxmutError(`${source}: tensor '${name}' has dtype ${st.dtype}, expected F32; ${fix}`, ExitCode.BadModel);
    const ok = st.shape.length === 2 && st.shape[0] === t.rows && st.shape[1] === t.cols;
    if (!ok) throw new FluxmutError(`${source}: tensor '${name}' has shape [${st.shape.join(', ')}], expected [${t.rows}, ${t.cols}]; ${fix}`, ExitCode.BadModel);
    // A NaN or infinite weight would silently turn every score into NaN.
    const bad = (st.data as Float32Array).findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      throw new FluxmutError(`${source}: tensor '${name}' holds a non-finite weight at element ${bad}; the model diverged or the file is corrupt (re-train)`, ExitCode.BadModel);
    }
  }
  for (const name of Object.keys(tensors)) {
    if (!(name in params)) throw new FluxmutError(`${source}: unexpected tensor '${name}' that this model does not have; ${fix}`, ExitCode.BadModel);
  }
  for (const [name, t] of Object.entries(params)) t.value.data.set(tensors[name].data as Float32Array);
}
