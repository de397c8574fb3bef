import type { Activation } from '../core/kernels.js';
import { Matrix } from '../core/matrix.js';
import { Rng } from '../core/rng.js';
import { MLP } from '../nn/layers.js';
import { huberLoss } from '../nn/losses.js';
import { Tape, Tensor } from '../nn/tensor.js';
import { gatherRows, trainLoop, type TrainHistory, type TrainLoopOptions } from './train.js';

/**
 * The conditional autoencoder of DESIGN.md step 2: the encoder sees [x, k] and returns the
 * latent code; the decoder sees [code, k] and returns the reconstruction x'. Trained with the
 * Huber loss (paper eq. 1, delta = 1 by default).
 */
export interface CaeSpec {
  features: number;
  conditions: number;
  latent: number;
  /** Hidden widths of the encoder; the decoder mirrors them. */
  hidden: number[];
  activation: Activation;
}

export class ConditionalAutoencoder {
  readonly encoder: MLP;
  readonly decoder: MLP;

  constructor(readonly spec: CaeSpec, rng: Rng) {
    const { features: N, conditions: L, latent, hidden, activation } = spec;
    this.encoder = new MLP([N + L, ...hidden, latent], rng, { activation, name: 'cae.encoder' });
    this.decoder = new MLP([latent + L, ...[...hidden].reverse(), N], rng, { activation, name: 'cae.decoder' });
  }

  forward(tape: Tape, x: Tensor, k: Tensor | null): Tensor {
    const code = this.encoder.forward(tape, k ? tape.concatCols([x, k]) : x);
    return this.decoder.forward(tape, k ? tape.concatCols([code, k]) : code);
  }

  /** x' for n rows (x: n x N standardised features, k: n x L scaled conditions), in batches. */
  reconstruct(x: Float32Array, k: Float32Array, n: number, batch = 8192): Float32Array {
    const { features: N, conditions: L } = this.spec;
    const out = new Float32Array(n * N);
    for (let s = 0; s < n; s += batch) {
      const e = Math.min(n, s + batch);
      const tape = new Tape({ record: false });
      const xt = new Tensor(new Matrix(e - s, N, x.subarray(s * N, e * N)));
      const kt = L > 0 ? new Tensor(new Matrix(e - s, L, k.subarray(s * L, e * L))) : null;
      out.set(this.forward(tape, xt, kt).value.data, s * N);
    }
    return out;
  }

  parameters(): Record<string, Tensor> {
    return { ...this.encoder.parameters(), ...this.decoder.parameters() };
  }
}

export interface CaeData {
  x: Float32Array;
  k: Float32Array;
  n: number;
}

/** Mean Huber loss over all elements of a data set. */
export function caeLoss(cae: ConditionalAutoencoder, data: CaeData, delta: number): number {
  const recon = cae.reconstruct(data.x, data.k, data.n);
  let s = 0;
  for (let i = 0; i < recon.length; i++) {
    const r = Math.abs(recon[i] - data.x[i]);
    s += r <= delta ? 0.5 * r * r : delta * (r - 0.5 * delta);
  }
  return s / recon.length;
}

export function trainCae(cae: ConditionalAutoencoder, train: CaeData, val: CaeData, delta: number, options: TrainLoopOptions): TrainHistory {
  const { features: N, conditions: L } = cae.spec;
  return trainLoop(
    cae.parameters(),
    train.n,
    (tape: Tape, rows: Uint32Array) => {
      const x = new Tensor(new Matrix(rows.length, N, gatherRows(train.x, N, rows)));
      const k = L > 0 ? new Tensor(new Matrix(rows.length, L, gatherRows(train.k, L, rows))) : null;
      return huberLoss(tape, cae.forward(tape, x, k), x, delta);
    },
    () => caeLoss(cae, val, delta),
    options,
  );
}
