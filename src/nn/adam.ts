import type { Tensor } from './tensor.js';

export interface AdamOptions {
  /** Learning rate (default 1e-3). Mutable on the optimizer for schedules. */
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled weight decay (AdamW, Loshchilov & Hutter 2019): p -= lr·wd·p each step. Default 0. */
  weightDecay?: number;
  /** Clip the global L2 norm of all gradients to this value before each step (default: no clipping). */
  clipNorm?: number;
}

/**
 * Global L2 norm of the gradients of `params` (accumulated in float64); parameters without a
 * gradient count as zero.
 */
export function gradNorm(params: readonly Tensor[]): number {
  let s = 0;
  for (const p of params) {
    if (p.grad === null) continue;
    const g = p.grad.data;
    for (let i = 0; i < g.length; i++) s += g[i] * g[i];
  }
  return Math.sqrt(s);
}

/**
 * Scales all gradients by one factor so that their global L2 norm is at most `maxNorm`
 * (direction preserved). Returns the norm before clipping. A non-finite norm is returned
 * unchanged and the gradients are left alone, so the caller can detect divergence.
 */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number): number {
  if (!(maxNorm > 0)) throw new RangeError(`clipGradNorm: maxNorm must be positive, got ${maxNorm}`);
  const norm = gradNorm(params);
  if (Number.isFinite(norm) && norm > maxNorm) {
    const factor = maxNorm / norm;
    for (const p of params) {
      if (p.grad === null) continue;
      const g = p.grad.data;
      for (let i = 0; i < g.length; i++) g[i] *= factor;
    }
  }
  return norm;
}

/**
 * Adam (Kingma & Ba 2015) with bias-corrected moment estimates:
 *   m ← β1·m + (1-β1)·g,  v ← β2·v + (1-β2)·g²,
 *   p ← p - lr·(m/(1-β1ᵗ)) / (√(v/(1-β2ᵗ)) + ε).
 * At t = 1 the step is lr·g/(|g|+ε) ≈ lr·sign(g) whatever the gradient's scale.
 */
export class Adam {
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly clipNorm: number | undefined;
  readonly params: readonly Tensor[];
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  private t = 0;

  constructor(params: readonly Tensor[] | Record<string, Tensor>, options: AdamOptions = {}) {
    this.params = Array.isArray(params) ? [...params] : Object.values(params);
    for (const p of this.params) {
      if (!p.requiresGrad) throw new RangeError(`Adam: parameter ${p.name ?? '(unnamed)'} does not require a gradient`);
    }
    this.lr = options.lr ?? 1e-3;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    this.clipNorm = options.clipNorm;
    if (!(this.lr > 0)) throw new RangeError(`Adam: lr must be positive, got ${this.lr}`);
    if (!(this.beta1 >= 0 && this.beta1 < 1) || !(this.beta2 >= 0 && this.beta2 < 1)) {
      throw new RangeError(`Adam: betas must lie in [0, 1), got ${this.beta1}, ${this.beta2}`);
    }
    if (this.clipNorm !== undefined && !(this.clipNorm > 0)) throw new RangeError(`Adam: clipNorm must be positive, got ${this.clipNorm}`);
    this.m = this.params.map((p) => new Float32Array(p.value.data.length));
    this.v = this.params.map((p) => new Float32Array(p.value.data.length));
  }

  /** Number of steps taken. */
  get steps(): number {
    return this.t;
  }

  /**
   * One update from the current gradients (clipped first when clipNorm is set). Returns the
   * global gradient norm before clipping, for logging and divergence checks. Parameters that
   * received no gradient are left untouched.
   */
  step(): number {
    const norm = this.clipNorm !== undefined ? clipGradNorm(this.params, this.clipNorm) : gradNorm(this.params);
    this.t++;
    const b1 = this.beta1, b2 = this.beta2, eps = this.eps;
    const c1 = 1 - Math.pow(b1, this.t);
    const c2 = 1 - Math.pow(b2, this.t);
    const decay = 1 - this.lr * this.weightDecay;
    this.params.forEach((p, k) => {
      if (p.grad === null) return;
      const w = p.value.data, g = p.grad.data, m = this.m[k], v = this.v[k];
      for (let i = 0; i < w.length; i++) {
        const gi = g[i];
        m[i] = b1 * m[i] + (1 - b1) * gi;
        v[i] = b2 * v[i] + (1 - b2) * gi * gi;
        w[i] = w[i] * decay - (this.lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + eps);
      }
    });
    return norm;
  }

  zeroGrad(): void {
    for (const p of this.params) p.zeroGrad();
  }
}
