/**
 * Gaussian kernel density estimate with the semantics of scipy.stats.gaussian_kde: one Gaussian
 * kernel per data point, all sharing the data covariance scaled by factor² (Scott's rule by
 * default). It is the density of the latent KDE bank (DESIGN.md step 5; Fanelli, Giroux,
 * Papandreou 2022, where the latents of each condition bin are resampled with scipy's KDE).
 *
 * Everything here is float64, as scipy keeps it: covariances of 16-28 dimensional latents lose
 * positive-definiteness quickly in float32.
 *
 * Beyond scipy, `support` keeps draws on the latent support (off by default here, on by default in
 * the bank); see KdeSupport for what it does and why.
 */
import { cholesky, NotPositiveDefiniteError, solveLower } from '../core/cholesky.js';
import { FluxmutError, ExitCode } from '../core/errors.js';
import type { Rng } from '../core/rng.js';

/** Bandwidth rule: scipy's 'scott' (default) or 'silverman', or a fixed scalar factor. */
export type KdeBandwidth = 'scott' | 'silverman' | number;

/**
 * Keeps KDE draws on the latent support.
 *
 * Why: a PyTorch implementation of this pipeline had KDE latents land in the Gaussian tails of the
 * kernels, which the flow's sampling direction then amplified to more than 10 standard deviations;
 * such generated "reference" objects poison the reference cluster. Two guards, applied per draw:
 *
 * 1. Truncated kernel. A draw is centre + L·u with u ~ N(0, I) and L the kernel Cholesky factor, so
 *    |u| is its Mahalanobis distance (in kernel standard deviations) from its centre. Draws with
 *    |u| > maxMahalanobis get a fresh u (same centre): the kernel becomes a Gaussian truncated to
 *    a ball. In d dimensions |u|² is χ²_d-distributed (mean d), so a fixed "3σ" radius would reject
 *    almost every draw for d = 16; the radius is therefore the χ_d quantile at `coverage`, by
 *    default 0.99730 (the mass within ±3σ of a 1-D Gaussian): 3 for d = 1, 6.0 for d = 16.
 *    Rejection keeps the accepted kernel shape exact; its acceptance rate is `coverage`.
 * 2. Clip box. Each coordinate is clamped to the range of the KDE's data in that dimension,
 *    widened on both sides by clipMargin × that range. This bounds every coordinate even where the
 *    ball of guard 1 pokes out of the data's extent along one axis.
 *
 * logpdf ignores both guards: it is scipy's untruncated mixture density.
 */
export interface KdeSupport {
  /** Probability mass of the untruncated kernel kept inside the ball; in (0, 1). Default 0.9973. */
  coverage?: number;
  /** Explicit ball radius in kernel standard deviations (overrides coverage). */
  maxMahalanobis?: number;
  /** Widening of the per-dimension data range, as a fraction of that range; null = no clipping. Default 0.1. */
  clipMargin?: number | null;
  /**
   * Shrink every draw towards the data mean by 1/sqrt(1 + κf²) (the variance-corrected smoothed
   * bootstrap, Silverman 1986 §6.4.1; κ = the truncated kernel's share of the untruncated
   * variance), so that draws have the data's own mean and covariance. Without it a KDE of
   * n ≈ 400 latents in 16-D (Scott's f ≈ 0.74) inflates the covariance by 1 + f² ≈ 1.55: the
   * generated reference cluster is wider than the reference class, and real reference objects
   * look too central (TPR above q). Default false (scipy's behaviour).
   */
  varianceCorrection?: boolean;
}

export interface KdeOptions {
  /** Non-negative weight per data point (scipy's `weights`); default all equal. */
  weights?: ArrayLike<number>;
  /** Bandwidth factor rule; default 'scott'. */
  bandwidth?: KdeBandwidth;
  /** Keep draws on the support (see KdeSupport); default off, as in scipy. `true` = the defaults. */
  support?: KdeSupport | boolean;
}

/** The mass of a 1-D Gaussian within ±3σ, erf(3/√2): the default kernel coverage. */
export const THREE_SIGMA_COVERAGE = 0.9973002039367398;
/** Default clip-box widening, as a fraction of each dimension's data range. */
export const DEFAULT_CLIP_MARGIN = 0.1;

/**
 * Ridge added to the diagonal of a singular data covariance (all rows identical, d > n − 1, a
 * constant column), relative to its mean variance trace/d (or, when that is zero, to the mean
 * square of the data, or 1 for all-zero data). 1e-6 of the variance is 1e-3 of the standard
 * deviation: negligible along populated directions, and a tiny kernel width along empty ones.
 */
export const KDE_RIDGE = 1e-6;
/** A pivot below this fraction of the mean variance marks the covariance as numerically singular. */
const SINGULAR_PIVOT = 1e-10;
/** Draws redrawn more often than this per sample mean the truncation radius is unusably small. */
const MAX_REJECTIONS = 10_000;

export class GaussianKde {
  /** Number of data points. */
  readonly n: number;
  /** Dimension. */
  readonly d: number;
  /** Data, n×d row-major float64. */
  readonly dataset: Float64Array;
  /** Weights normalised to sum 1 (scipy's `weights`). */
  readonly weights: Float64Array;
  /** Effective sample size (Σw)²/Σw² (= n unweighted). */
  readonly neff: number;
  /** Bandwidth factor (Scott: neff^(-1/(d+4))). */
  readonly factor: number;
  /** Weighted data covariance (np.cov with aweights, unbiased), plus `ridge` on the diagonal; d×d. */
  readonly dataCovariance: Float64Array;
  /** Kernel covariance = dataCovariance · factor²; d×d. */
  readonly covariance: Float64Array;
  /** Lower Cholesky factor of `covariance`; d×d. */
  readonly choleskyFactor: Float64Array;
  /** Ridge added to the data covariance's diagonal (0 when it was positive definite). */
  readonly ridge: number;
  /** Log determinant of the kernel covariance. */
  readonly logDet: number;
  /** Ball radius of the truncated kernel, or Infinity when not truncated. */
  readonly maxMahalanobis: number;
  /** Weighted data mean and the shrink factor of the variance correction (1 when off). */
  readonly mean: Float64Array;
  readonly shrink: number;
  /** Per-dimension clip box [lo, hi] (length d each), or null when not clipping. */
  readonly clipLow: Float64Array | null;
  readonly clipHigh: Float64Array | null;

  private readonly cumulativeWeights: Float64Array | null;
  private whitened: Float64Array | null = null;
  private readonly logWeights: Float64Array;

  /** `dataset` is n×d row-major (n = dataset.length / d). */
  constructor(dataset: ArrayLike<number>, d: number, options: KdeOptions = {}) {
    if (!Number.isInteger(d) || d < 1) throw new FluxmutError(`GaussianKde: dimension must be a positive integer, got ${d}`);
    if (dataset.length % d !== 0) {
      throw new FluxmutError(`GaussianKde: dataset has ${dataset.length} values, not a multiple of the dimension ${d}`);
    }
    const n = dataset.length / d;
    if (n === 0) throw new FluxmutError('GaussianKde: the dataset is empty; a KDE needs at least one data point');
    const data = Float64Array.from(dataset);
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) {
        throw new FluxmutError(`GaussianKde: data point ${Math.floor(i / d)}, dimension ${i % d} is ${data[i]}; remove non-finite values first`);
      }
    }
    this.n = n;
    this.d = d;
    this.dataset = data;
    this.weights = normaliseWeights(options.weights, n);

    let sumSq = 0;
    for (let i = 0; i < n; i++) sumSq += this.weights[i] * this.weights[i];
    this.neff = 1 / sumSq;
    this.factor = bandwidthFactor(options.bandwidth ?? 'scott', this.neff, d);

    const cov = weightedCovariance(data, n, d, this.weights);
    const { chol, ridge } = regularisedCholesky(cov, data, d);
    this.ridge = ridge;
    this.dataCovariance = cov;
    const f = this.factor;
    this.covariance = cov.map((v) => v * f * f);
    this.choleskyFactor = chol.map((v) => v * f);
    let logDet = 0;
    for (let j = 0; j < d; j++) logDet += 2 * Math.log(this.choleskyFactor[j * d + j]);
    this.logDet = logDet;

    this.logWeights = this.weights.map(Math.log);
    let uniform = options.weights === undefined;
    if (!uniform) {
      uniform = true;
      for (let i = 1; i < n && uniform; i++) if (this.weights[i] !== this.weights[0]) uniform = false;
    }
    if (uniform) {
      this.cumulativeWeights = null;
    } else {
      this.cumulativeWeights = new Float64Array(n);
      let acc = 0;
      for (let i = 0; i < n; i++) this.cumulativeWeights[i] = acc += this.weights[i];
    }

    const support = resolveSupport(options.support);
    this.maxMahalanobis = support === null ? Infinity : support.radius(d);
    this.mean = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) this.mean[j] += this.weights[i] * data[i * d + j];
    let kappa = 1;
    if (Number.isFinite(this.maxMahalanobis)) {
      // E[r² | r² <= R²] / d for r² ~ χ²_d equals F_{d+2}(R²) / F_d(R²).
      const r2 = this.maxMahalanobis * this.maxMahalanobis;
      kappa = chiSquareCdf(r2, d + 2) / chiSquareCdf(r2, d);
    }
    this.shrink = support !== null && support.varianceCorrection ? 1 / Math.sqrt(1 + kappa * this.factor * this.factor) : 1;
    if (support !== null && support.clipMargin !== null) {
      const lo = new Float64Array(d).fill(Infinity);
      const hi = new Float64Array(d).fill(-Infinity);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < d; j++) {
          const v = data[i * d + j];
          if (v < lo[j]) lo[j] = v;
          if (v > hi[j]) hi[j] = v;
        }
      }
      for (let j = 0; j < d; j++) {
        const pad = support.clipMargin * (hi[j] - lo[j]);
        lo[j] -= pad;
        hi[j] += pad;
      }
      this.clipLow = lo;
      this.clipHigh = hi;
    } else {
      this.clipLow = null;
      this.clipHigh = null;
    }
  }

  /** Index of a data point drawn with probability equal to its weight. */
  private pickCentre(rng: Rng): number {
    const cw = this.cumulativeWeights;
    if (cw === null) return rng.int(this.n);
    const u = rng.uniform() * cw[this.n - 1];
    let lo = 0;
    let hi = this.n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cw[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    // Zero-weight points have cw equal to their predecessor's and are never the first cw > u.
    return lo;
  }

  /**
   * `count` draws (count×d row-major), scipy's resample: a data point chosen by weight plus
   * Cholesky·N(0, I); with `support`, truncated and clipped (see KdeSupport).
   */
  resample(count: number, rng: Rng): Float64Array {
    return this.resampleWithCentres(count, rng).samples;
  }

  /** As resample, also returning the index of the data point each draw was centred on. */
  resampleWithCentres(count: number, rng: Rng): { samples: Float64Array; centres: Int32Array } {
    if (!Number.isInteger(count) || count < 0) throw new FluxmutError(`GaussianKde.resample: count must be a non-negative integer, got ${count}`);
    const d = this.d;
    const out = new Float64Array(count * d);
    const centres = new Int32Array(count);
    const u = new Float64Array(d);
    const l = this.choleskyFactor;
    const r2max = this.maxMahalanobis * this.maxMahalanobis;
    for (let s = 0; s < count; s++) {
      const c = this.pickCentre(rng);
      centres[s] = c;
      for (let attempt = 0; ; attempt++) {
        let r2 = 0;
        for (let j = 0; j < d; j++) {
          u[j] = rng.normal();
          r2 += u[j] * u[j];
        }
        if (r2 <= r2max) break;
        if (attempt >= MAX_REJECTIONS) {
          throw new FluxmutError(
            `GaussianKde: the truncation radius ${this.maxMahalanobis} keeps almost no kernel mass in ${d} dimensions; ` +
              'raise support.coverage or support.maxMahalanobis',
            ExitCode.Usage,
          );
        }
      }
      const base = s * d;
      const centre = c * d;
      for (let i = 0; i < d; i++) {
        let v = this.dataset[centre + i];
        for (let j = 0; j <= i; j++) v += l[i * d + j] * u[j];
        if (this.shrink !== 1) v = this.mean[i] + (v - this.mean[i]) * this.shrink;
        if (this.clipLow !== null && this.clipHigh !== null) {
          if (v < this.clipLow[i]) v = this.clipLow[i];
          else if (v > this.clipHigh[i]) v = this.clipHigh[i];
        }
        out[base + i] = v;
      }
    }
    return { samples: out, centres };
  }

  /** Squared Mahalanobis distance of x from data point `centre` under the kernel covariance. */
  kernelMahalanobis2(x: ArrayLike<number>, centre: number): number {
    const diff = new Float64Array(this.d);
    for (let j = 0; j < this.d; j++) diff[j] = x[j] - this.dataset[centre * this.d + j];
    const y = solveLower(this.choleskyFactor, this.d, diff);
    let s = 0;
    for (let j = 0; j < this.d; j++) s += y[j] * y[j];
    return s;
  }

  /**
   * Log density of the (untruncated) mixture at each of the m×d row-major `points`:
   * log Σ_i w_i N(x; x_i, covariance), by log-sum-exp in float64.
   */
  logpdf(points: ArrayLike<number>): Float64Array {
    const d = this.d;
    if (points.length % d !== 0) throw new FluxmutError(`GaussianKde.logpdf: ${points.length} values is not a multiple of the dimension ${d}`);
    const m = points.length / d;
    const w = this.whitenedData();
    const y = new Float64Array(d);
    const x = new Float64Array(d);
    const terms = new Float64Array(this.n);
    const norm = -0.5 * d * Math.log(2 * Math.PI) - 0.5 * this.logDet;
    const out = new Float64Array(m);
    for (let p = 0; p < m; p++) {
      for (let j = 0; j < d; j++) x[j] = points[p * d + j];
      solveLower(this.choleskyFactor, d, x, y);
      let max = -Infinity;
      for (let i = 0; i < this.n; i++) {
        let s = 0;
        for (let j = 0; j < d; j++) {
          const t = y[j] - w[i * d + j];
          s += t * t;
        }
        const v = this.logWeights[i] - 0.5 * s;
        terms[i] = v;
        if (v > max) max = v;
      }
      if (max === -Infinity) {
        out[p] = -Infinity;
        continue;
      }
      let acc = 0;
      for (let i = 0; i < this.n; i++) acc += Math.exp(terms[i] - max);
      out[p] = max + Math.log(acc) + norm;
    }
    return out;
  }

  /** Density (exp of logpdf). */
  pdf(points: ArrayLike<number>): Float64Array {
    return this.logpdf(points).map(Math.exp);
  }

  /** Data mapped through L⁻¹, so kernel Mahalanobis distances become Euclidean; built on first use. */
  private whitenedData(): Float64Array {
    if (this.whitened === null) {
      const d = this.d;
      const w = new Float64Array(this.n * d);
      for (let i = 0; i < this.n; i++) solveLower(this.choleskyFactor, d, this.dataset.subarray(i * d, (i + 1) * d), w.subarray(i * d, (i + 1) * d));
      this.whitened = w;
    }
    return this.whitened;
  }
}

function normaliseWeights(weights: ArrayLike<number> | undefined, n: number): Float64Array {
  const w = new Float64Array(n);
  if (weights === undefined) return w.fill(1 / n);
  if (weights.length !== n) throw new FluxmutError(`GaussianKde: ${weights.length} weights for ${n} data points; give one weight per point`);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const v = weights[i];
    if (!Number.isFinite(v) || v < 0) throw new FluxmutError(`GaussianKde: weight ${i} is ${v}; weights must be finite and non-negative`);
    w[i] = v;
    sum += v;
  }
  if (!(sum > 0)) throw new FluxmutError('GaussianKde: all weights are zero; at least one point needs a positive weight');
  for (let i = 0; i < n; i++) w[i] /= sum;
  return w;
}

/** scipy's covariance_factor for the rule, or the fixed factor itself. */
export function bandwidthFactor(rule: KdeBandwidth, neff: number, d: number): number {
  if (typeof rule === 'number') {
    if (!Number.isFinite(rule) || rule <= 0) throw new FluxmutError(`GaussianKde: a fixed bandwidth factor must be a positive number, got ${rule}`);
    return rule;
  }
  if (rule === 'scott') return Math.pow(neff, -1 / (d + 4));
  if (rule === 'silverman') return Math.pow((neff * (d + 2)) / 4, -1 / (d + 4));
  throw new FluxmutError(`GaussianKde: unknown bandwidth rule '${String(rule)}'; use 'scott', 'silverman' or a positive number`);
}

/**
 * np.cov(x, rowvar, bias=False, aweights=w): Σ w (x−μ)(x−μ)ᵀ / (Σw − Σw²/Σw), two-pass. The weights
 * are normalised (Σw = 1). A single effective point gives a zero matrix (handled by the ridge).
 */
export function weightedCovariance(data: Float64Array, n: number, d: number, weights: Float64Array): Float64Array {
  const mean = new Float64Array(d);
  let sw = 0;
  let sw2 = 0;
  for (let i = 0; i < n; i++) {
    const wi = weights[i];
    sw += wi;
    sw2 += wi * wi;
    for (let j = 0; j < d; j++) mean[j] += wi * data[i * d + j];
  }
  for (let j = 0; j < d; j++) mean[j] /= sw;
  const cov = new Float64Array(d * d);
  const diff = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const wi = weights[i];
    if (wi === 0) continue;
    for (let j = 0; j < d; j++) diff[j] = data[i * d + j] - mean[j];
    for (let a = 0; a < d; a++) {
      const wa = wi * diff[a];
      for (let b = 0; b <= a; b++) cov[a * d + b] += wa * diff[b];
    }
  }
  const denom = sw - sw2 / sw;
  const scale = denom > 1e-15 * sw ? 1 / denom : 0;
  for (let a = 0; a < d; a++) {
    for (let b = 0; b <= a; b++) {
      const v = cov[a * d + b] * scale;
      cov[a * d + b] = v;
      cov[b * d + a] = v;
    }
  }
  return cov;
}

/**
 * Cholesky of the data covariance; a numerically singular one gets KDE_RIDGE · (mean variance) on
 * its diagonal (cov is updated in place), escalated ×100 up to three times if still singular.
 */
function regularisedCholesky(cov: Float64Array, data: Float64Array, d: number): { chol: Float64Array; ridge: number } {
  let trace = 0;
  for (let j = 0; j < d; j++) trace += cov[j * d + j];
  let scale = trace / d;
  if (!(scale > 0)) {
    let ms = 0;
    for (let i = 0; i < data.length; i++) ms += data[i] * data[i];
    scale = ms / data.length > 0 ? ms / data.length : 1;
  }
  const tryFactor = (a: Float64Array): Float64Array | null => {
    try {
      const l = cholesky(a, d);
      for (let j = 0; j < d; j++) if (l[j * d + j] * l[j * d + j] < SINGULAR_PIVOT * scale) return null;
      return l;
    } catch (e) {
      if (e instanceof NotPositiveDefiniteError) return null;
      throw e;
    }
  };
  const plain = tryFactor(cov);
  if (plain !== null) return { chol: plain, ridge: 0 };
  const original = cov.slice();
  for (let k = 0, ridge = KDE_RIDGE * scale; k < 4; k++, ridge *= 100) {
    for (let j = 0; j < d * d; j++) cov[j] = original[j];
    for (let j = 0; j < d; j++) cov[j * d + j] += ridge;
    const l = tryFactor(cov);
    if (l !== null) return { chol: l, ridge };
  }
  throw new FluxmutError('GaussianKde: the data covariance is not positive definite even after regularisation; check the data for huge or degenerate values', ExitCode.BadInput);
}

interface ResolvedSupport {
  radius(d: number): number;
  clipMargin: number | null;
  varianceCorrection: boolean;
}

function resolveSupport(s: KdeSupport | boolean | undefined): ResolvedSupport | null {
  if (s === undefined || s === false) return null;
  const spec: KdeSupport = s === true ? {} : s;
  const clipMargin = spec.clipMargin === undefined ? DEFAULT_CLIP_MARGIN : spec.clipMargin;
  const varianceCorrection = spec.varianceCorrection === true;
  if (clipMargin !== null && (!Number.isFinite(clipMargin) || clipMargin < 0)) {
    throw new FluxmutError(`GaussianKde: support.clipMargin must be a non-negative number or null, got ${clipMargin}`, ExitCode.Usage);
  }
  if (spec.maxMahalanobis !== undefined) {
    const r = spec.maxMahalanobis;
    if (!(r > 0)) throw new FluxmutError(`GaussianKde: support.maxMahalanobis must be positive, got ${r}`, ExitCode.Usage);
    return { radius: () => r, clipMargin, varianceCorrection };
  }
  const coverage = spec.coverage ?? THREE_SIGMA_COVERAGE;
  if (!(coverage > 0 && coverage < 1)) {
    throw new FluxmutError(`GaussianKde: support.coverage must lie strictly between 0 and 1, got ${coverage}`, ExitCode.Usage);
  }
  return { radius: (d) => Math.sqrt(chiSquareQuantile(coverage, d)), clipMargin, varianceCorrection };
}

/** ln Γ(a) for a a positive multiple of 1/2 (all that χ² with integer dof needs), exactly by recursion. */
function lnGammaHalf(a: number): number {
  let x = Number.isInteger(a) ? 1 : 0.5;
  let acc = Number.isInteger(a) ? 0 : 0.5 * Math.log(Math.PI);
  for (; x < a - 1e-9; x += 1) acc += Math.log(x);
  return acc;
}

/** CDF of the χ² distribution with integer dof k: the regularised lower incomplete gamma P(k/2, x/2). */
export function chiSquareCdf(x: number, k: number): number {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`chiSquareCdf: dof must be a positive integer, got ${k}`);
  if (!(x > 0)) return 0;
  if (x === Infinity) return 1;
  const a = k / 2;
  const z = x / 2;
  const logPrefactor = -z + a * Math.log(z) - lnGammaHalf(a);
  if (z < a + 1) {
    // Series: P = e^{-z} z^a / Γ(a) · Σ z^n / (a (a+1) ... (a+n)).
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 10_000; n++) {
      term *= z / (a + n);
      sum += term;
      if (term < sum * 1e-17) break;
    }
    return Math.min(1, sum * Math.exp(logPrefactor));
  }
  // Continued fraction for Q = 1 − P (modified Lentz).
  const tiny = 1e-300;
  let b = z + 1 - a;
  let c = 1 / tiny;
  let dd = 1 / b;
  let h = dd;
  for (let i = 1; i < 10_000; i++) {
    const an = -i * (i - a);
    b += 2;
    dd = an * dd + b;
    if (Math.abs(dd) < tiny) dd = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    dd = 1 / dd;
    const delta = dd * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.max(0, 1 - Math.exp(logPrefactor) * h);
}

/** The p-quantile of χ²_k, by bisection on chiSquareCdf. */
export function chiSquareQuantile(p: number, k: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`chiSquareQuantile: p must lie in (0, 1), got ${p}`);
  let lo = 0;
  let hi = Math.max(1, k);
  while (chiSquareCdf(hi, k) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-14 * hi; i++) {
    const mid = 0.5 * (lo + hi);
    if (chiSquareCdf(mid, k) < p) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}
