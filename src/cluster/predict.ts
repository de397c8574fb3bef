/**
 * Scoring new points against an existing HDBSCAN fit without re-clustering.
 *
 * Three scorers:
 * - `NewPointScorer` (the cached mode's scorer): an approximation of the exact score defined below;
 *   it works whether or not clusters were selected, including the paper's single-blob
 *   configuration (min_cluster_size 1000, min_samples 100, 1500 points in 28-D).
 * - `ExactRefitScorer`: the exact score (the fit redone with the point appended, as the paper's
 *   exact mode does), reusing the stored distance matrix so only Prim's algorithm and the tree are
 *   redone per point. Equal to `hdbscan()` on the appended data.
 * - `approximatePredict` / `approximatePredictScores`: hdbscan 0.8.29's `hdbscan.prediction`
 *   routines, reproduced for compatibility (README, "Scoring new points").
 *
 * Definition of the approximate score of a new point x (fit on n points, m' = min(minSamples, n),
 * the neighbour rank the refit on n + 1 points would use):
 *   core(x)   = distance from x to its m'-th nearest training point;
 *   core'(j)  = core(j) updated for x's presence (exact order statistic: if d(x,j) < core(j) the
 *               new m-th neighbour distance is max(d(x,j), core2(j)), core2 = one rank lower);
 *   δ         = min_j max(core(x), core'(j), d(x,j)), j* the minimiser (nearest among ties);
 *   λ_x       = min(1/δ, λ(j*)), where λ(j*) is the λ at which j* leaves its cluster C: x is
 *               a leaf of the refit MST hanging on j*; if it joins j* below the height where j*
 *               leaves C, it leaves C together with j*;
 *   C         climbs to its parent while C is not the root and birth(C) >= λ_x (x joins j*'s
 *               branch above the height where C is born);
 *   score     = max(0, (λ_max(C) − λ_x) / λ_max(C)), λ_max as in the fit's GLOSH mode; a point
 *               denser than every member of C would raise λ_max(C) on refit, hence the clamp at 0.
 * What it leaves out: x changing the MST between other points and the λ of other points (x can
 * only lower their core distances). Both matter only where x sits inside the dense core, where the
 * score is near 0 anyway.
 */
import { ExitCode, FluxmutError } from '../core/errors.js';
import { finishFit, resolveOptions, effectiveMinSamples, type HdbscanOptions, type HdbscanResult } from './hdbscan.js';
import { gloshScore } from './hierarchy.js';
import { selectKth } from './mst-ts.js';
import { Workspace } from './wasm.js';
import { coreDistancesWasm, primWasm, uploadTransposed } from './hdbscan.js';

export interface NewPointScores {
  /** Approximate GLOSH score per new point, in [0, 1]. */
  scores: Float64Array;
  /** λ at which the point is estimated to leave its cluster. */
  lambdas: Float64Array;
  /** Mutual-reachability nearest training point. */
  neighbours: Int32Array;
  /** Core distance of the new point against the training points. */
  coreDistances: Float64Array;
  /** Condensed-tree cluster id the point attaches to. */
  clusters: Int32Array;
  /** Label of the selected cluster at or above the attachment cluster, -1 if none. */
  labels: Int32Array;
}

function checkNew(points: Float64Array, d: number, what: string): number {
  if (!(points instanceof Float64Array)) {
    throw new FluxmutError(`${what}: new points must be a Float64Array (row-major m × ${d})`, ExitCode.BadInput);
  }
  if (points.length % d !== 0) {
    throw new FluxmutError(`${what}: ${points.length} values is not a whole number of ${d}-dimensional points`, ExitCode.BadInput);
  }
  for (let i = 0; i < points.length; i++) {
    if (!Number.isFinite(points[i])) {
      throw new FluxmutError(
        `${what}: new point ${Math.floor(i / d)} (0-based), coordinate ${i % d} is ${points[i]}; remove or impute non-finite values first`,
        ExitCode.BadInput,
      );
    }
  }
  return points.length / d;
}

/** Walks up from cluster c to the first selected cluster (or the root-only selection); -1 if none. */
function labelOf(fit: HdbscanResult, c: number, lambda: number): number {
  const n = fit.n;
  let k = c - n;
  while (k > 0 && !fit.selected[k]) k = fit.clusterInfo.parent[k] - n;
  if (k > 0) return fit.clusterLabel[k];
  if (fit.allowSingleCluster && fit.selected[0] && fit.nClusters === 1 && lambda >= fit.clusterInfo.maxLambdaDirect[0]) {
    return fit.clusterLabel[0];
  }
  return -1;
}

/**
 * Scores new points against a fit (definition in the file comment). Keeps the training points
 * resident in its own wasm memory; about 2·n·d flops per point.
 */
export class NewPointScorer {
  private readonly ws: Workspace;
  private readonly xT: number;
  private readonly xi: number;
  private readonly out: number;
  private readonly ld: number;
  private readonly dist: Float64Array;
  private readonly scratch: Float64Array;
  private readonly pointLambda: Float64Array;
  private readonly pointCluster: Int32Array;
  private readonly mNew: number;

  constructor(readonly fit: HdbscanResult) {
    const { n, d } = fit;
    this.ws = new Workspace();
    this.ld = n + (n & 1);
    this.xT = uploadTransposed(this.ws, fit.points, n, d, this.ld);
    this.xi = this.ws.reserve(8 * d);
    this.out = this.ws.reserve(8 * n);
    this.dist = new Float64Array(n);
    this.scratch = new Float64Array(n);
    this.pointLambda = new Float64Array(n);
    this.pointCluster = new Int32Array(n);
    const tree = fit.condensedTree;
    for (let p = 0; p < n; p++) {
      const r = fit.clusterInfo.pointRow[p];
      this.pointLambda[p] = tree.lambda[r];
      this.pointCluster[p] = tree.parent[r];
    }
    this.mNew = Math.min(fit.minSamplesRequested, n);
  }

  /** Distances from x (d values at points[offset..]) to every training point, into this.dist. */
  private distances(points: Float64Array, offset: number): void {
    const { n, d } = this.fit;
    const f = this.ws.f64;
    f.set(points.subarray(offset, offset + d), this.xi >> 3);
    this.ws.k.distRow(this.xT, this.ld, d, this.xi, 0, n, this.out);
    this.dist.set(f.subarray(this.out >> 3, (this.out >> 3) + n));
  }

  score(points: Float64Array): NewPointScores {
    const fit = this.fit;
    const { n, d } = fit;
    const count = checkNew(points, d, 'scoreNewPoints');
    const res: NewPointScores = {
      scores: new Float64Array(count),
      lambdas: new Float64Array(count),
      neighbours: new Int32Array(count),
      coreDistances: new Float64Array(count),
      clusters: new Int32Array(count),
      labels: new Int32Array(count),
    };
    const core = fit.coreDistances;
    const core2 = fit.coreDistances2;
    const sameRank = this.mNew === fit.minSamples;
    const info = fit.clusterInfo;
    const lambdaMax = fit.glosh === 'subtree' ? info.maxLambdaSubtree : info.maxLambdaDirect;
    for (let q = 0; q < count; q++) {
      this.distances(points, q * d);
      const dist = this.dist;
      this.scratch.set(dist);
      const coreX = selectKth(this.scratch, n, this.mNew - 1);
      let best = Infinity;
      let bestD = Infinity;
      let jStar = 0;
      for (let j = 0; j < n; j++) {
        const dj = dist[j];
        let cj = core[j];
        if (sameRank) {
          if (dj < cj) cj = dj > core2[j] ? dj : core2[j];
        } else if (dj > cj) cj = dj;
        let mr = dj > coreX ? dj : coreX;
        if (cj > mr) mr = cj;
        if (mr < best || (mr === best && dj < bestD)) {
          best = mr;
          bestD = dj;
          jStar = j;
        }
      }
      let lambda = best > 0 ? 1 / best : Infinity;
      const lj = this.pointLambda[jStar];
      if (lj < lambda) lambda = lj;
      let c = this.pointCluster[jStar] - n;
      while (c > 0 && info.birth[c] >= lambda) c = info.parent[c] - n;
      // In the refit x is a direct child of C, so C's direct-children maximum includes λ_x and
      // the reference's propagation step (which stops at the first point row) rarely reaches C.
      let lm = lambdaMax[c];
      if (lambda > lm) lm = lambda;
      const s = gloshScore(lm, lambda);
      res.scores[q] = s < 0 ? 0 : s;
      res.lambdas[q] = lambda;
      res.neighbours[q] = jStar;
      res.coreDistances[q] = coreX;
      res.clusters[q] = c + n;
      res.labels[q] = labelOf(fit, c + n, lambda);
    }
    return res;
  }
}

/** One-shot convenience for `new NewPointScorer(fit).score(points)`. */
export function scoreNewPoints(fit: HdbscanResult, points: Float64Array): NewPointScores {
  return new NewPointScorer(fit).score(points);
}

/**
 * The exact per-point score: `hdbscan()` on the training points with x appended as the last row,
 * returning x's outlier score. The core distances and their one-rank-lower companions are computed
 * once; per point only x's distances, the changed core distances (exact order statistics), Prim's
 * algorithm on n + 1 points (which needs no distance matrix, see primLazy in assembly/cluster.ts)
 * and the tree are redone.
 */
export class ExactRefitScorer {
  private readonly ws: Workspace;
  private readonly n: number;
  private readonly d: number;
  private readonly ld: number;
  private readonly xT: number;
  private readonly xi: number;
  private readonly rowN: number;
  private readonly pCore: number;
  private readonly core: Float64Array;
  private readonly core2: Float64Array;
  private readonly row: Float64Array;
  private readonly m: number;
  private readonly mRefit: number;
  private readonly points: Float64Array;
  private readonly params: ReturnType<typeof resolveOptions>;

  constructor(points: Float64Array, n: number, d: number, options: HdbscanOptions) {
    this.params = resolveOptions(options);
    if (n < 2) throw new FluxmutError(`ExactRefitScorer: needs at least 2 reference points, got ${n}`, ExitCode.BadInput);
    this.n = n;
    this.d = d;
    this.points = new Float64Array((n + 1) * d);
    this.points.set(points.subarray(0, n * d));
    this.m = effectiveMinSamples(this.params.minSamplesRequested, n);
    this.mRefit = effectiveMinSamples(this.params.minSamplesRequested, n + 1);
    const N = n + 1;
    this.ws = new Workspace();
    // Column n of xT is where each new point goes.
    this.ld = N + (N & 1);
    this.xT = uploadTransposed(this.ws, this.points, n, d, this.ld);
    this.xi = this.ws.reserve(8 * d);
    this.rowN = this.ws.reserve(8 * N);
    this.pCore = this.ws.reserve(8 * N);
    const pCore2 = this.ws.reserve(8 * N);
    coreDistancesWasm(this.ws, this.points, n, d, this.m, this.params.maxMatrixBytes, this.pCore, pCore2);
    this.core = this.ws.f64.slice(this.pCore >> 3, (this.pCore >> 3) + n);
    this.core2 = this.ws.f64.slice(pCore2 >> 3, (pCore2 >> 3) + n);
    this.row = new Float64Array(N);
  }

  /** The full refit with x appended (labels, scores, tree of all n + 1 points). */
  refit(x: Float64Array): HdbscanResult {
    const { n, d, ws } = this;
    checkNew(x, d, 'ExactRefitScorer');
    if (x.length !== d) throw new FluxmutError(`ExactRefitScorer: expected one ${d}-dimensional point, got ${x.length / d}`, ExitCode.BadInput);
    const N = n + 1;
    const f = ws.f64;
    f.set(x, this.xi >> 3);
    for (let k = 0; k < d; k++) f[(this.xT >> 3) + k * this.ld + n] = x[k];
    // d(x, j); the kernel sums (x_k − x_jk)², the full fit (x_jk − x_k)², equal in IEEE.
    ws.k.distRow(this.xT, this.ld, d, this.xi, 0, n, this.rowN);
    const rowAt = this.rowN >> 3;
    const coreAt = this.pCore >> 3;
    const sameRank = this.mRefit === this.m;
    const row = this.row;
    for (let j = 0; j < n; j++) {
      const dj = f[rowAt + j];
      row[j] = dj;
      let cj = this.core[j];
      if (sameRank) {
        if (dj < cj) cj = dj > this.core2[j] ? dj : this.core2[j];
      } else if (dj > cj) cj = dj;
      f[coreAt + j] = cj;
    }
    // x's own core distance: rank mRefit among its row (self included).
    row[n] = 0;
    f[coreAt + n] = selectKth(row, N, this.mRefit);
    const mark = ws.mark();
    const e = primWasm(ws, this.xT, this.ld, N, d, this.pCore);
    const i32 = ws.i32;
    const f2 = ws.f64;
    const mst = {
      core: f2.slice(coreAt, coreAt + N),
      core2: new Float64Array(N),
      edgeA: i32.slice(e.a >> 2, (e.a >> 2) + n),
      edgeB: i32.slice(e.b >> 2, (e.b >> 2) + n),
      edgeW: f2.slice(e.w >> 3, (e.w >> 3) + n),
    };
    ws.reset(mark);
    this.points.set(x, n * d);
    return finishFit(this.points.slice(), N, d, this.mRefit, mst, this.params);
  }

  /** The appended point's outlier score in the refit. */
  score(x: Float64Array): number {
    const r = this.refit(x);
    return r.outlierScores[this.n];
  }
}

// ---------------------------------------------------------------------------------------------
// Reference-compatible prediction (hdbscan 0.8.29 `hdbscan.prediction`).

interface Neighbourhood {
  neighbour: number;
  lambda: number;
  nearestDistance: number;
}

/** Distance to the rank-r point (0-based, self included) of each training point. */
function rankDistances(fit: HdbscanResult, r: number): Float64Array {
  if (r === fit.minSamples) return fit.coreDistances;
  if (r === fit.minSamples - 1) return fit.coreDistances2;
  const { n, d, points } = fit;
  const out = new Float64Array(n);
  const row = new Float64Array(n);
  const rr = Math.min(r, n - 1);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) {
        const t = points[i * d + k] - points[j * d + k];
        s += t * t;
      }
      row[j] = Math.sqrt(s);
    }
    out[i] = selectKth(row, n, rr);
  }
  return out;
}

function referenceNeighbourhoods(fit: HdbscanResult, points: Float64Array, what: string): Neighbourhood[] {
  const { n, d } = fit;
  const count = checkNew(points, d, what);
  const ms = fit.minSamplesRequested;
  // The prediction data store the distance to the (min_samples − 1)-th other point.
  const predCore = rankDistances(fit, ms - 1);
  const k = Math.min(2 * ms, n);
  const ws = new Workspace();
  const ld = n + (n & 1);
  const xT = uploadTransposed(ws, fit.points, n, d, ld);
  const xi = ws.reserve(8 * d);
  const out = ws.reserve(8 * n);
  const dist = new Float64Array(n);
  const order = new Int32Array(n);
  const result: Neighbourhood[] = [];
  for (let q = 0; q < count; q++) {
    ws.f64.set(points.subarray(q * d, q * d + d), xi >> 3);
    ws.k.distRow(xT, ld, d, xi, 0, n, out);
    dist.set(ws.f64.subarray(out >> 3, (out >> 3) + n));
    for (let j = 0; j < n; j++) order[j] = j;
    // k nearest in increasing distance (index order among equal distances).
    const nearest = Array.from(order).sort((a, b) => dist[a] - dist[b] || a - b).slice(0, k);
    const coreX = dist[nearest[Math.min(ms, k - 1)]];
    let best = Infinity;
    let neighbour = nearest[0];
    for (const j of nearest) {
      let mr = predCore[j];
      if (coreX > mr) mr = coreX;
      if (dist[j] > mr) mr = dist[j];
      if (mr < best) {
        best = mr;
        neighbour = j;
      }
    }
    result.push({ neighbour, lambda: best > 0 ? 1 / best : Number.MAX_VALUE, nearestDistance: dist[nearest[0]] });
  }
  return result;
}

/** hdbscan 0.8.29 `approximate_predict`: labels and probabilities of new points. */
export function approximatePredict(fit: HdbscanResult, points: Float64Array): { labels: Int32Array; probabilities: Float64Array } {
  const nb = referenceNeighbourhoods(fit, points, 'approximatePredict');
  const labels = new Int32Array(nb.length).fill(-1);
  const probabilities = new Float64Array(nb.length);
  const tree = fit.condensedTree;
  const info = fit.clusterInfo;
  const n = fit.n;
  if (tree.nClusters === 1) return { labels, probabilities };
  nb.forEach(({ neighbour, lambda }, q) => {
    const r = info.pointRow[neighbour];
    let c = tree.parent[r] - n;
    if (tree.lambda[r] > lambda) {
      while (c > 0 && info.birth[c] >= lambda) c = info.parent[c] - n;
    }
    let s = c;
    while (s > 0 && !fit.selected[s]) s = info.parent[s] - n;
    if (s <= 0 && !(s === 0 && fit.selected[0] && fit.allowSingleCluster)) return;
    labels[q] = fit.clusterLabel[s];
    const M = info.maxLambdaDirect[s];
    probabilities[q] = M > 0 ? Math.min(M, lambda) / M : 1;
  });
  return { labels, probabilities };
}

/**
 * hdbscan 0.8.29 `approximate_predict_scores`. With `emptyTreeShortcut` (the reference's
 * behaviour) a condensed tree without clusters gives 1 for every point; without it the same
 * formula is applied anyway. Scores are not clamped (negative for points denser than the cluster).
 */
export function approximatePredictScores(
  fit: HdbscanResult,
  points: Float64Array,
  opts: { emptyTreeShortcut?: boolean } = {},
): Float64Array {
  const nb = referenceNeighbourhoods(fit, points, 'approximatePredictScores');
  const out = new Float64Array(nb.length);
  const tree = fit.condensedTree;
  const info = fit.clusterInfo;
  const n = fit.n;
  if (tree.nClusters === 1 && (opts.emptyTreeShortcut ?? true)) return out.fill(1);
  nb.forEach(({ neighbour, lambda, nearestDistance }, q) => {
    const r = info.pointRow[neighbour];
    const c = tree.parent[r] - n;
    const l = nearestDistance === 0 ? tree.lambda[r] : lambda;
    const lm = fit.lambdaMax[c];
    out[q] = lm === 0 ? 0 : (lm - l) / lm;
  });
  return out;
}
