/**
 * Yardsticks for F+M: two one-class baselines trained on reference rows only (a Gaussian mixture
 * and the k-th-nearest-neighbour distance) and one supervised classifier that sees both classes
 * (gradient-boosted trees), as in the paper's comparison table. All take row-major Float64Array
 * matrices (n x d), already standardised, and return anomaly scores: larger = more anomalous.
 */
import { FluxmutError } from '../core/errors.js';
import { cholesky, choleskyLogDet, NotPositiveDefiniteError } from '../core/cholesky.js';
import type { Rng } from '../core/rng.js';
import type { BoolLike } from './metrics.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** Number of rows of a row-major n x d matrix; rejects ragged sizes and non-finite values by row/column. */
function rowsOf(what: string, x: ArrayLike<number>, d: number): number {
  if (!Number.isInteger(d) || d <= 0) throw new FluxmutError(`${what}: the number of columns must be a positive integer, got ${d}`);
  if (x.length % d !== 0) throw new FluxmutError(`${what}: ${x.length} values is not a whole number of rows of ${d} columns`);
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) {
      throw new FluxmutError(`${what}: row ${Math.floor(i / d)}, column ${i % d} is ${x[i]}; remove or impute non-finite values first`);
    }
  }
  return x.length / d;
}

// ---------------------------------------------------------------------------------------------
// Gaussian mixture model (full covariances), fit by EM (Dempster, Laird & Rubin 1977).

export interface GmmOptions {
  /** Number of components K (default 16). */
  components?: number;
  /** Seeds the k-means++ initialisation (Arthur & Vassilvitskii 2007). */
  rng: Rng;
  /** EM iterations at most (default 100). */
  maxIter?: number;
  /** Stop when the mean log-likelihood per row improves by less than this (default 1e-3, like scikit-learn). */
  tol?: number;
  /** Added to every covariance diagonal so no component collapses (default 1e-6, like scikit-learn). */
  reg?: number;
  /** Lloyd iterations after the k-means++ seeding (default 10). */
  kmeansIter?: number;
}

export interface GaussianMixture {
  components: number;
  dim: number;
  weights: Float64Array;
  /** K x d, row-major. */
  means: Float64Array;
  /** K x d x d. */
  covariances: Float64Array;
  /** Lower Cholesky factors of the covariances, K x d x d. */
  choleskyFactors: Float64Array;
  /** Mean log-likelihood per training row before each M-step: non-decreasing under EM. */
  logLikelihoodHistory: number[];
  converged: boolean;
  iterations: number;
}

function sqDist(a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) {
    const t = a[ao + j] - b[bo + j];
    s += t * t;
  }
  return s;
}

/** k-means++ seeding followed by a few Lloyd iterations; returns hard labels. */
function kmeansLabels(x: Float64Array, n: number, d: number, k: number, rng: Rng, iters: number): Int32Array {
  const centres = new Float64Array(k * d);
  const first = rng.int(n);
  for (let j = 0; j < d; j++) centres[j] = x[first * d + j];
  const dmin = new Float64Array(n).fill(Infinity);
  for (let c = 1; c <= k; c++) {
    let total = 0;
    for (let i = 0; i < n; i++) {
      const s = sqDist(x, i * d, centres, (c - 1) * d, d);
      if (s < dmin[i]) dmin[i] = s;
      total += dmin[i];
    }
    if (c === k) break;
    // Next centre drawn with probability proportional to the squared distance to the nearest one.
    let pick = n - 1;
    if (total > 0) {
      let u = rng.uniform() * total;
      for (let i = 0; i < n; i++) {
        u -= dmin[i];
        if (u < 0) { pick = i; break; }
      }
    } else {
      pick = rng.int(n);
    }
    for (let j = 0; j < d; j++) centres[c * d + j] = x[pick * d + j];
  }
  const labels = new Int32Array(n);
  const sums = new Float64Array(k * d), counts = new Float64Array(k);
  for (let it = 0; it <= iters; it++) {
    let changed = false;
    for (let i = 0; i < n; i++) {
      let best = 0, bestD = Infinity;
      for (let c = 0; c < k; c++) {
        const s = sqDist(x, i * d, centres, c * d, d);
        if (s < bestD) { bestD = s; best = c; }
      }
      if (labels[i] !== best) changed = true;
      labels[i] = best;
    }
    if (it === iters || (it > 0 && !changed)) break;
    sums.fill(0);
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const c = labels[i];
      counts[c]++;
      for (let j = 0; j < d; j++) sums[c * d + j] += x[i * d + j];
    }
    // An emptied cluster keeps its old centre.
    for (let c = 0; c < k; c++) if (counts[c] > 0) for (let j = 0; j < d; j++) centres[c * d + j] = sums[c * d + j] / counts[c];
  }
  return labels;
}

/** M-step: weights, means and regularised covariances from responsibilities (n x K). */
function mStep(x: Float64Array, n: number, d: number, k: number, resp: Float64Array, reg: number, m: GaussianMixture): void {
  // 10·eps keeps empty components finite, as scikit-learn does.
  const eps10 = 10 * Number.EPSILON;
  const nk = new Float64Array(k);
  m.means.fill(0);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      const r = resp[i * k + c];
      if (r === 0) continue;
      nk[c] += r;
      for (let j = 0; j < d; j++) m.means[c * d + j] += r * x[i * d + j];
    }
  }
  for (let c = 0; c < k; c++) {
    nk[c] += eps10;
    for (let j = 0; j < d; j++) m.means[c * d + j] /= nk[c];
    m.weights[c] = nk[c] / (n + k * eps10);
  }
  const cov = m.covariances, means = m.means;
  cov.fill(0);
  const diff = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const io = i * d;
    for (let c = 0; c < k; c++) {
      const r = resp[i * k + c];
      if (r === 0) continue;
      const mo = c * d;
      for (let j = 0; j < d; j++) diff[j] = x[io + j] - means[mo + j];
      const base = c * d * d;
      for (let a = 0; a < d; a++) {
        const ra = r * diff[a];
        const row = base + a * d;
        for (let b = 0; b <= a; b++) cov[row + b] += ra * diff[b];
      }
    }
  }
  for (let c = 0; c < k; c++) {
    const base = c * d * d;
    for (let a = 0; a < d; a++) {
      for (let b = 0; b <= a; b++) {
        const v = m.covariances[base + a * d + b] / nk[c] + (a === b ? reg : 0);
        m.covariances[base + a * d + b] = v;
        m.covariances[base + b * d + a] = v;
      }
    }
    let l: Float64Array;
    try {
      l = cholesky(m.covariances.subarray(base, base + d * d), d);
    } catch (e) {
      if (e instanceof NotPositiveDefiniteError) {
        throw new FluxmutError(
          `GMM: the covariance of component ${c} is not positive definite (column ${e.column}); ` +
            'the data may have duplicated or constant columns: raise reg or lower the number of components',
        );
      }
      throw e;
    }
    m.choleskyFactors.set(l, base);
  }
}

/**
 * Log p(x_i | component c) + log w_c for each row and component into `lp` (n x K), and the
 * per-row log-likelihood log Σ_c exp(lp) into `ll`.
 */
function logProbs(m: GaussianMixture, x: ArrayLike<number>, n: number, lp: Float64Array, ll: Float64Array): void {
  const { components: k, dim: d } = m;
  const L = m.choleskyFactors, means = m.means;
  const consts = new Float64Array(k);
  const invDiag = new Float64Array(k * d); // multiplications instead of divisions in the hot loop
  for (let c = 0; c < k; c++) {
    consts[c] = Math.log(m.weights[c]) - 0.5 * (d * LOG_2PI + choleskyLogDet(L.subarray(c * d * d, (c + 1) * d * d), d));
    for (let a = 0; a < d; a++) invDiag[c * d + a] = 1 / L[c * d * d + a * d + a];
  }
  const y = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const io = i * d;
    let max = -Infinity;
    for (let c = 0; c < k; c++) {
      const base = c * d * d, mo = c * d;
      // Mahalanobis distance through forward substitution L·y = x - μ: |y|² = (x-μ)ᵀ Σ⁻¹ (x-μ).
      let maha = 0;
      for (let a = 0; a < d; a++) {
        const row = base + a * d;
        let s = x[io + a] - means[mo + a];
        for (let b = 0; b < a; b++) s -= L[row + b] * y[b];
        const v = s * invDiag[mo + a];
        y[a] = v;
        maha += v * v;
      }
      const v = consts[c] - 0.5 * maha;
      lp[i * k + c] = v;
      if (v > max) max = v;
    }
    let s = 0;
    for (let c = 0; c < k; c++) s += Math.exp(lp[i * k + c] - max);
    ll[i] = max + Math.log(s);
  }
}

/** Fits a full-covariance Gaussian mixture to the rows of x (n x d) by EM. */
export function fitGmm(x: Float64Array, d: number, options: GmmOptions): GaussianMixture {
  const n = rowsOf('fitGmm', x, d);
  const k = options.components ?? 16;
  const maxIter = options.maxIter ?? 100;
  const tol = options.tol ?? 1e-3;
  const reg = options.reg ?? 1e-6;
  if (!Number.isInteger(k) || k < 1) throw new FluxmutError(`fitGmm: components must be a positive integer, got ${k}`);
  if (n < k) throw new FluxmutError(`fitGmm: ${n} rows cannot fit ${k} components; use fewer components or more rows`);
  if (!(reg >= 0)) throw new FluxmutError(`fitGmm: reg must be >= 0, got ${reg}`);
  if (!options.rng) throw new FluxmutError('fitGmm: an explicit seeded rng is required (options.rng)');
  const m: GaussianMixture = {
    components: k,
    dim: d,
    weights: new Float64Array(k),
    means: new Float64Array(k * d),
    covariances: new Float64Array(k * d * d),
    choleskyFactors: new Float64Array(k * d * d),
    logLikelihoodHistory: [],
    converged: false,
    iterations: 0,
  };
  const resp = new Float64Array(n * k);
  const labels = kmeansLabels(x, n, d, k, options.rng, options.kmeansIter ?? 10);
  for (let i = 0; i < n; i++) resp[i * k + labels[i]] = 1;
  mStep(x, n, d, k, resp, reg, m);
  const ll = new Float64Array(n);
  let prev = -Infinity;
  for (let it = 1; it <= maxIter; it++) {
    logProbs(m, x, n, resp, ll);
    let mean = 0;
    for (let i = 0; i < n; i++) {
      mean += ll[i];
      for (let c = 0; c < k; c++) resp[i * k + c] = Math.exp(resp[i * k + c] - ll[i]);
    }
    mean /= n;
    m.logLikelihoodHistory.push(mean);
    m.iterations = it;
    if (Math.abs(mean - prev) < tol) {
      m.converged = true;
      break;
    }
    prev = mean;
    mStep(x, n, d, k, resp, reg, m);
  }
  return m;
}

/** Per-row log-likelihood log p(x) under the mixture. */
export function gmmLogLikelihood(m: GaussianMixture, x: Float64Array): Float64Array {
  const n = rowsOf('gmmLogLikelihood', x, m.dim);
  const lp = new Float64Array(n * m.components);
  const ll = new Float64Array(n);
  logProbs(m, x, n, lp, ll);
  return ll;
}

/** GMM anomaly score: -log p(x) (larger = more anomalous). */
export function gmmScore(m: GaussianMixture, x: Float64Array): Float64Array {
  const ll = gmmLogLikelihood(m, x);
  for (let i = 0; i < ll.length; i++) ll[i] = -ll[i];
  return ll;
}

// ---------------------------------------------------------------------------------------------
// k-th nearest neighbour distance (brute force: exact, and fast enough for ~10k x 8).

export interface KnnOptions {
  /** Which neighbour (default 5). */
  k?: number;
  /**
   * Skip the pair (i, i): set when `test` is the training set itself, so a row is not its own
   * nearest neighbour.
   */
  excludeSelf?: boolean;
}

/** Euclidean distance from each test row to its k-th nearest training row (the anomaly score). */
export function knnDistance(train: Float64Array, test: Float64Array, d: number, options: KnnOptions = {}): Float64Array {
  const nTrain = rowsOf('knnDistance (train)', train, d);
  const nTest = rowsOf('knnDistance (test)', test, d);
  const k = options.k ?? 5;
  const excludeSelf = options.excludeSelf ?? false;
  if (excludeSelf && nTrain !== nTest) throw new FluxmutError('knnDistance: excludeSelf needs the test rows to be the training rows');
  const available = excludeSelf ? nTrain - 1 : nTrain;
  if (!Number.isInteger(k) || k < 1 || k > available) {
    throw new FluxmutError(`knnDistance: k must be an integer in [1, ${available}] (training rows available), got ${k}`);
  }
  const out = new Float64Array(nTest);
  const best = new Float64Array(k); // ascending squared distances of the k nearest so far
  for (let i = 0; i < nTest; i++) {
    best.fill(Infinity);
    const io = i * d;
    for (let t = 0; t < nTrain; t++) {
      if (excludeSelf && t === i) continue;
      // Partial-distance early exit: stop summing once past the current k-th best (exact).
      const worst = best[k - 1];
      const to = t * d;
      let s = 0;
      for (let j = 0; j < d && s < worst; j++) {
        const u = test[io + j] - train[to + j];
        s += u * u;
      }
      if (s >= worst) continue;
      let p = k - 1;
      while (p > 0 && best[p - 1] > s) {
        best[p] = best[p - 1];
        p--;
      }
      best[p] = s;
    }
    out[i] = Math.sqrt(best[k - 1]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Gradient-boosted trees, logistic loss, second-order (Newton) leaf values and split gains as in
// Friedman (2001) and Chen & Guestrin (2016, XGBoost eqs. 5-7), splits searched over per-feature
// quantile bins (histograms) for speed.

export interface GbtOptions {
  /** Boosting rounds (default 100). */
  rounds?: number;
  /** Tree depth (default 3). */
  depth?: number;
  /** Shrinkage (default 0.1). */
  learningRate?: number;
  /** Quantile bins per feature, 2..256 (default 64). */
  bins?: number;
  /** L2 penalty on leaf values (default 1). */
  lambda?: number;
  /** Fewest rows in a leaf (default 20). */
  minSamplesLeaf?: number;
}

/** One tree as flat node arrays; a leaf has feature -1. Rows with x[feature] <= threshold go left. */
export interface GbtTree {
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  value: Float64Array;
}

export interface GbtModel {
  dim: number;
  /** Initial log-odds of the anomalous class. */
  base: number;
  /** Learning rate is already folded into the leaf values. */
  trees: GbtTree[];
  /** Mean training log-loss after each round. */
  trainLoss: number[];
}

/** Ascending distinct cut values at the 1/B, 2/B, ... quantiles of a column. */
function binEdges(col: Float64Array, bins: number): Float64Array {
  const s = Float64Array.from(col).sort();
  const n = s.length;
  const edges: number[] = [];
  for (let j = 1; j < bins; j++) {
    const v = s[Math.min(n - 1, Math.max(0, Math.ceil((n * j) / bins) - 1))];
    if (edges.length === 0 || v > edges[edges.length - 1]) edges.push(v);
  }
  // A cut at the maximum separates nothing.
  if (edges.length > 0 && edges[edges.length - 1] >= s[n - 1]) edges.pop();
  return Float64Array.from(edges);
}

/** Bin code of x: the first j with edges[j] >= x (so code <= j exactly when x <= edges[j]). */
function binCode(edges: Float64Array, x: number): number {
  let lo = 0, hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface TreeBuilder {
  feature: number[];
  threshold: number[];
  left: number[];
  right: number[];
  value: number[];
}

/**
 * Fits boosted trees to classify anomalous (isReference false) against reference rows. Both classes
 * must be present. Deterministic: no row or column subsampling.
 */
export function fitGbt(x: Float64Array, d: number, isReference: BoolLike, options: GbtOptions = {}): GbtModel {
  const n = rowsOf('fitGbt', x, d);
  if (isReference.length !== n) throw new FluxmutError(`fitGbt: ${n} rows but ${isReference.length} labels; pass one label per row`);
  const rounds = options.rounds ?? 100;
  const depth = options.depth ?? 3;
  const lr = options.learningRate ?? 0.1;
  const bins = options.bins ?? 64;
  const lambda = options.lambda ?? 1;
  const minLeaf = options.minSamplesLeaf ?? 20;
  if (!Number.isInteger(rounds) || rounds < 0) throw new FluxmutError(`fitGbt: rounds must be a non-negative integer, got ${rounds}`);
  if (!Number.isInteger(depth) || depth < 1) throw new FluxmutError(`fitGbt: depth must be a positive integer, got ${depth}`);
  if (!Number.isInteger(bins) || bins < 2 || bins > 256) throw new FluxmutError(`fitGbt: bins must be an integer in [2, 256], got ${bins}`);
  if (!(lr > 0)) throw new FluxmutError(`fitGbt: learningRate must be > 0, got ${lr}`);
  if (!(lambda >= 0)) throw new FluxmutError(`fitGbt: lambda must be >= 0, got ${lambda}`);
  if (!Number.isInteger(minLeaf) || minLeaf < 1) throw new FluxmutError(`fitGbt: minSamplesLeaf must be a positive integer, got ${minLeaf}`);

  const y = new Float64Array(n);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const ref = typeof isReference[i] === 'boolean' ? isReference[i] : isReference[i] !== 0;
    y[i] = ref ? 0 : 1;
    pos += y[i];
  }
  if (pos === 0 || pos === n) {
    throw new FluxmutError(`fitGbt: the supervised baseline needs both classes, got ${n - pos} reference and ${pos} anomalous rows`);
  }

  // Column-major bin codes: a node's histogram walks one feature's codes at a time.
  const edges: Float64Array[] = [];
  const codes = new Uint8Array(n * d);
  const col = new Float64Array(n);
  for (let f = 0; f < d; f++) {
    for (let i = 0; i < n; i++) col[i] = x[i * d + f];
    const e = binEdges(col, bins);
    edges.push(e);
    for (let i = 0; i < n; i++) codes[f * n + i] = binCode(e, col[i]);
  }

  const base = Math.log(pos / (n - pos));
  const fRaw = new Float64Array(n).fill(base);
  const g = new Float64Array(n), h = new Float64Array(n);
  const histG = new Float64Array(bins), histH = new Float64Array(bins), histC = new Int32Array(bins);
  const trees: GbtTree[] = [];
  const trainLoss: number[] = [];

  const build = (t: TreeBuilder, idx: Uint32Array, level: number): number => {
    let G = 0, H = 0;
    for (let r = 0; r < idx.length; r++) { G += g[idx[r]]; H += h[idx[r]]; }
    const node = t.feature.length;
    t.feature.push(-1); t.threshold.push(0); t.left.push(-1); t.right.push(-1); t.value.push(0);
    let bestGain = 1e-12, bestF = -1, bestB = -1;
    if (level < depth && idx.length >= 2 * minLeaf) {
      const parent = (G * G) / (H + lambda);
      for (let f = 0; f < d; f++) {
        const nb = edges[f].length + 1;
        if (nb < 2) continue;
        histG.fill(0, 0, nb); histH.fill(0, 0, nb); histC.fill(0, 0, nb);
        const off = f * n;
        for (let r = 0; r < idx.length; r++) {
          const i = idx[r];
          const b = codes[off + i];
          histG[b] += g[i]; histH[b] += h[i]; histC[b]++;
        }
        let gl = 0, hl = 0, cl = 0;
        for (let b = 0; b < nb - 1; b++) {
          gl += histG[b]; hl += histH[b]; cl += histC[b];
          if (cl < minLeaf) continue;
          if (idx.length - cl < minLeaf) break;
          const gr = G - gl, hr = H - hl;
          const gain = (gl * gl) / (hl + lambda) + (gr * gr) / (hr + lambda) - parent;
          if (gain > bestGain) { bestGain = gain; bestF = f; bestB = b; }
        }
      }
    }
    if (bestF < 0) {
      // Newton step for the logistic loss with the L2 penalty, shrunk by the learning rate.
      const v = (-G / (H + lambda)) * lr;
      t.value[node] = v;
      for (let r = 0; r < idx.length; r++) fRaw[idx[r]] += v;
      return node;
    }
    let nl = 0;
    const off = bestF * n;
    for (let r = 0; r < idx.length; r++) if (codes[off + idx[r]] <= bestB) nl++;
    const li = new Uint32Array(nl), ri = new Uint32Array(idx.length - nl);
    let a = 0, b = 0;
    for (let r = 0; r < idx.length; r++) {
      const i = idx[r];
      if (codes[off + i] <= bestB) li[a++] = i;
      else ri[b++] = i;
    }
    t.feature[node] = bestF;
    t.threshold[node] = edges[bestF][bestB];
    t.left[node] = build(t, li, level + 1);
    t.right[node] = build(t, ri, level + 1);
    return node;
  };

  const all = new Uint32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < n; i++) {
      const p = 1 / (1 + Math.exp(-fRaw[i]));
      g[i] = p - y[i];
      h[i] = Math.max(p * (1 - p), 1e-16);
    }
    const t: TreeBuilder = { feature: [], threshold: [], left: [], right: [], value: [] };
    build(t, all, 0);
    trees.push({
      feature: Int32Array.from(t.feature),
      threshold: Float64Array.from(t.threshold),
      left: Int32Array.from(t.left),
      right: Int32Array.from(t.right),
      value: Float64Array.from(t.value),
    });
    let loss = 0;
    for (let i = 0; i < n; i++) loss += logLoss(fRaw[i], y[i]);
    trainLoss.push(loss / n);
  }
  return { dim: d, base, trees, trainLoss };
}

/** Logistic loss of raw score f for label y, computed without overflow. */
function logLoss(f: number, y: number): number {
  // -[y log σ(f) + (1-y) log(1-σ(f))] = log(1 + e^f) - y·f
  const sp = f > 0 ? f + Math.log1p(Math.exp(-f)) : Math.log1p(Math.exp(f));
  return sp - y * f;
}

/** Raw log-odds of the anomalous class for each row. */
export function gbtLogOdds(m: GbtModel, x: Float64Array): Float64Array {
  const n = rowsOf('gbtLogOdds', x, m.dim);
  const d = m.dim;
  const out = new Float64Array(n).fill(m.base);
  for (const t of m.trees) {
    for (let i = 0; i < n; i++) {
      let node = 0;
      while (t.feature[node] >= 0) node = x[i * d + t.feature[node]] <= t.threshold[node] ? t.left[node] : t.right[node];
      out[i] += t.value[node];
    }
  }
  return out;
}

/** Supervised baseline score: predicted probability of the anomalous class. */
export function gbtScore(m: GbtModel, x: Float64Array): Float64Array {
  const f = gbtLogOdds(m, x);
  for (let i = 0; i < f.length; i++) f[i] = 1 / (1 + Math.exp(-f[i]));
  return f;
}
