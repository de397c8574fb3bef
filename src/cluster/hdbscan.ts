/**
 * HDBSCAN with euclidean distance (Campello, Moulavi, Sander 2013; McInnes, Healy, Astels 2017) and
 * GLOSH outlier scores (Campello et al. 2015), reproducing the reference package hdbscan 0.8.29 as
 * the method's paper uses it (Fanelli, Giroux, Papandreou 2022, outlier score P_out of eq. 5).
 * The rules followed are spelled out in shared/fixtures/hdbscan/README.md.
 *
 * Cost (wasm backend): the n(n − 1)/2 distances, each computed once, dominate. No n × n matrix is
 * kept: each distance is offered to two per-row candidate lists below sampled thresholds, which
 * hold the core distance (O(n·(4·minSamples + 128)) memory), and Prim's algorithm recomputes only
 * the few distances that can still change an outside point's best edge (see assembly/cluster.ts).
 * Where the lists would not fit in `maxMatrixBytes`, each row is recomputed and selected on its
 * own (2× the arithmetic, O(n·d) memory). The plain-TS backend is the readable dense-matrix
 * reference (src/cluster/mst-ts.ts); both give bit-identical results.
 */
import { ExitCode, FluxmutError } from '../core/errors.js';
import {
  clusterInfo,
  condenseTree,
  gloshLambdaMax,
  gloshScores,
  labelPoints,
  selectClusters,
  singleLinkage,
  type ClusterInfo,
  type CondensedTree,
  type GloshMode,
  type SelectionMethod,
} from './hierarchy.js';
import { coreDistancesTs, denseDistancesTs, primDenseTs } from './mst-ts.js';
import { sharedWorkspace, type Workspace } from './wasm.js';

export interface HdbscanOptions {
  /** Smallest cluster the condensed tree keeps (>= 2). */
  minClusterSize: number;
  /** Neighbour rank of the core distance; defaults to minClusterSize; clamped to n − 1 like the reference. */
  minSamples?: number;
  clusterSelectionMethod?: SelectionMethod;
  allowSingleCluster?: boolean;
  /** λ_max of GLOSH: 'reference' (hdbscan 0.8.29, direct children; default) or 'subtree' (the paper). */
  glosh?: GloshMode;
  /** 'wasm' (default) or 'ts' (plain TypeScript, bit-identical, slower). FLUXMUT_CLUSTER=ts forces 'ts'. */
  backend?: 'wasm' | 'ts';
  /**
   * Largest store of distances kept in memory (bytes): the candidate lists, or the full rows for
   * small n; above it each row is recomputed when needed. Default 512 MiB.
   */
  maxMatrixBytes?: number;
}

export interface HdbscanResult {
  n: number;
  d: number;
  /** The neighbour rank actually used: min(minSamples, n − 1). */
  minSamples: number;
  /** minSamples as asked (the reference's prediction routines use it unclamped). */
  minSamplesRequested: number;
  minClusterSize: number;
  clusterSelectionMethod: SelectionMethod;
  allowSingleCluster: boolean;
  glosh: GloshMode;
  /** Cluster label per point, -1 for noise. */
  labels: Int32Array;
  /** Membership probability per point (0 for noise). */
  probabilities: Float64Array;
  /** GLOSH outlier score per point, in [0, 1]. */
  outlierScores: Float64Array;
  nClusters: number;
  condensedTree: CondensedTree;
  clusterInfo: ClusterInfo;
  /** 1 for each selected cluster (index = cluster id − n). */
  selected: Uint8Array;
  /** Label of each cluster (index = cluster id − n), -1 if not selected. */
  clusterLabel: Int32Array;
  /** The GLOSH denominators used for outlierScores (index = cluster id − n). */
  lambdaMax: Float64Array;
  /** Distance to the minSamples-th nearest other point. */
  coreDistances: Float64Array;
  /** Distance to the (minSamples − 1)-th nearest other point (0 when minSamples = 1). */
  coreDistances2: Float64Array;
  /** A copy of the input, row-major n × d, for scoring new points against this fit. */
  points: Float64Array;
}

export interface MstResult {
  core: Float64Array;
  core2: Float64Array;
  edgeA: Int32Array;
  edgeB: Int32Array;
  edgeW: Float64Array;
}

interface ResolvedParams {
  minClusterSize: number;
  minSamplesRequested: number;
  clusterSelectionMethod: SelectionMethod;
  allowSingleCluster: boolean;
  glosh: GloshMode;
  backend: 'wasm' | 'ts';
  maxMatrixBytes: number;
}

export function hdbscan(points: Float64Array, n: number, d: number, options: HdbscanOptions): HdbscanResult {
  checkPoints(points, n, d, 'hdbscan');
  const params = resolveOptions(options);
  const m = effectiveMinSamples(params.minSamplesRequested, n);
  const mst = mutualReachabilityMst(points, n, d, m, params);
  return finishFit(points.slice(0, n * d), n, d, m, mst, params);
}

export function resolveOptions(options: HdbscanOptions): ResolvedParams {
  if (options === null || typeof options !== 'object') {
    throw new FluxmutError('hdbscan: options with minClusterSize are required', ExitCode.Usage);
  }
  const mcs = options.minClusterSize;
  if (!Number.isInteger(mcs) || mcs < 2) {
    throw new FluxmutError(`hdbscan: minClusterSize must be an integer >= 2, got ${String(mcs)}`, ExitCode.Usage);
  }
  const ms = options.minSamples ?? mcs;
  if (!Number.isInteger(ms) || ms < 1) {
    throw new FluxmutError(`hdbscan: minSamples must be an integer >= 1, got ${String(ms)}`, ExitCode.Usage);
  }
  const method = options.clusterSelectionMethod ?? 'eom';
  if (method !== 'eom' && method !== 'leaf') {
    throw new FluxmutError(`hdbscan: clusterSelectionMethod must be 'eom' or 'leaf', got '${String(method)}'`, ExitCode.Usage);
  }
  const glosh = options.glosh ?? 'reference';
  if (glosh !== 'reference' && glosh !== 'subtree') {
    throw new FluxmutError(`hdbscan: glosh must be 'reference' or 'subtree', got '${String(glosh)}'`, ExitCode.Usage);
  }
  const backend = process.env.FLUXMUT_CLUSTER === 'ts' ? 'ts' : (options.backend ?? 'wasm');
  const maxMatrixBytes = options.maxMatrixBytes ?? 512 * 2 ** 20;
  if (!(maxMatrixBytes >= 0)) {
    throw new FluxmutError(`hdbscan: maxMatrixBytes must be >= 0, got ${String(maxMatrixBytes)}`, ExitCode.Usage);
  }
  return {
    minClusterSize: mcs,
    minSamplesRequested: ms,
    clusterSelectionMethod: method,
    allowSingleCluster: options.allowSingleCluster ?? false,
    glosh,
    backend,
    maxMatrixBytes,
  };
}

/** README step 1: m = min(minSamples, n − 1), at least 1. */
export function effectiveMinSamples(minSamples: number, n: number): number {
  return Math.max(1, Math.min(minSamples, n - 1));
}

/** Rejects what has no HDBSCAN answer: a wrong shape, fewer than 2 points, NaN or infinity. */
export function checkPoints(points: Float64Array, n: number, d: number, what: string): void {
  if (!(points instanceof Float64Array)) {
    throw new FluxmutError(`${what}: points must be a Float64Array (row-major n × d)`, ExitCode.BadInput);
  }
  if (!Number.isInteger(n) || !Number.isInteger(d) || n < 0 || d < 1) {
    throw new FluxmutError(`${what}: invalid shape n=${n}, d=${d} (need integers n >= 2, d >= 1)`, ExitCode.BadInput);
  }
  if (points.length < n * d) {
    throw new FluxmutError(`${what}: points hold ${points.length} values, fewer than n × d = ${n} × ${d}`, ExitCode.BadInput);
  }
  if (n < 2) {
    throw new FluxmutError(`${what}: needs at least 2 points, got ${n}`, ExitCode.BadInput);
  }
  for (let i = 0; i < n * d; i++) {
    if (!Number.isFinite(points[i])) {
      const row = Math.floor(i / d);
      throw new FluxmutError(
        `${what}: point ${row} (0-based), coordinate ${i % d} is ${points[i]}; remove or impute non-finite values first`,
        ExitCode.BadInput,
      );
    }
  }
}

/** Core distances and the MST of the mutual-reachability graph (README steps 2–5, before sorting). */
export function mutualReachabilityMst(
  points: Float64Array,
  n: number,
  d: number,
  m: number,
  params: Pick<ResolvedParams, 'backend' | 'maxMatrixBytes'>,
): MstResult {
  const core = new Float64Array(n);
  const core2 = new Float64Array(n);
  const edgeA = new Int32Array(n - 1);
  const edgeB = new Int32Array(n - 1);
  const edgeW = new Float64Array(n - 1);
  if (params.backend === 'ts') {
    const D = denseDistancesTs(points, n, d);
    coreDistancesTs(D, n, n, m, core, core2);
    primDenseTs(D, n, n, core, edgeA, edgeB, edgeW);
    return { core, core2, edgeA, edgeB, edgeW };
  }
  const ws = sharedWorkspace();
  ws.reset();
  try {
    const ld = n + (n & 1);
    const xT = uploadTransposed(ws, points, n, d, ld);
    const pCore = ws.reserve(8 * n);
    const pCore2 = ws.reserve(8 * n);
    coreDistancesWasm(ws, points, n, d, m, params.maxMatrixBytes, pCore, pCore2);
    const e = primWasm(ws, xT, ld, n, d, pCore);
    core.set(ws.f64.subarray(pCore >> 3, (pCore >> 3) + n));
    core2.set(ws.f64.subarray(pCore2 >> 3, (pCore2 >> 3) + n));
    edgeA.set(ws.i32.subarray(e.a >> 2, (e.a >> 2) + n - 1));
    edgeB.set(ws.i32.subarray(e.b >> 2, (e.b >> 2) + n - 1));
    edgeW.set(ws.f64.subarray(e.w >> 3, (e.w >> 3) + n - 1));
  } finally {
    ws.reset();
  }
  return { core, core2, edgeA, edgeB, edgeW };
}

/**
 * How the wasm backend finds core distances for n points at neighbour rank k:
 * - 'candidates': per-row candidate lists below a sampled threshold (assembly/cluster.ts,
 *   coreCandidates); O(n·(4k + 128)) memory, each distance computed once;
 * - 'dense': the same kernel with no threshold, so the lists are the full rows (small n, or k
 *   too close to n for a threshold to pay off);
 * - 'rows': each row recomputed and selected on its own (when neither fits in maxMatrixBytes).
 */
export interface CorePlan {
  mode: 'candidates' | 'dense' | 'rows';
  /** Row stride of the candidate lists in doubles (capacity + 1 dump slot). */
  stride: number;
  /** Every `step`-th point is a sample point; the threshold is the sample distance of rank `rank`. */
  step: number;
  rank: number;
}

export function corePlan(n: number, k: number, maxMatrixBytes: number): CorePlan {
  const capacity = 4 * (k + 1) + 128;
  const step = 16;
  if (n >= 256 && 2 * capacity <= n && 8 * n * (capacity + 1) <= maxMatrixBytes) {
    const ns = Math.ceil(n / step);
    // About 2(k + 1) + 32 of the n values fall below the sample value of this rank.
    const rank = Math.min(ns - 1, Math.ceil(((2 * (k + 1) + 32) * ns) / n));
    return { mode: 'candidates', stride: capacity + 1, step, rank };
  }
  if (8 * n * (n + 1) <= maxMatrixBytes) return { mode: 'dense', stride: n + 1, step, rank: 0 };
  return { mode: 'rows', stride: 0, step, rank: 0 };
}

/**
 * Core distances (rank k, self included) of the n row-major points into pCore and the one-rank-
 * lower companions into pCore2 (workspace addresses). Frees its scratch on return; returns how
 * many rows had to be recomputed in full.
 */
export function coreDistancesWasm(
  ws: Workspace,
  points: Float64Array,
  n: number,
  d: number,
  k: number,
  maxMatrixBytes: number,
  pCore: number,
  pCore2: number,
): number {
  const mark = ws.mark();
  const plan = corePlan(n, k, maxMatrixBytes);
  const ld = n + (n & 1);
  const xi = ws.reserve(8 * d);
  const rowBuf = ws.reserve(8 * n);
  const scratch = ws.reserve(8 * (n + (n >> 3) + 2));
  let recomputed = 0;
  if (plan.mode === 'rows') {
    const xT = uploadTransposed(ws, points, n, d, ld);
    ws.k.coreOnTheFly(xT, ld, n, d, xi, rowBuf, scratch, k, pCore, pCore2);
    recomputed = n;
  } else {
    // Sample points (every step-th) first; the kernels see the points in this order.
    const ns = plan.mode === 'candidates' ? Math.ceil(n / plan.step) : 0;
    const order = new Int32Array(n);
    let t = 0;
    for (let q = 0; q < ns; q++) order[t++] = q * plan.step;
    for (let i = 0; i < n; i++) if (ns === 0 || i % plan.step !== 0) order[t++] = i;
    const xT = uploadTransposed(ws, points, n, d, ld, order);
    const thr = ws.reserve(8 * n);
    const tmp = ws.reserve(8 * (2 * Math.max(plan.stride, ns) + 2));
    const sRows = ws.reserve(8 * ns * n);
    const sBuf = ws.reserve(8 * ns);
    const cand = ws.reserve(8 * n * plan.stride);
    const cnt = ws.reserve(4 * n);
    const pc = ws.reserve(8 * n);
    const pc2 = ws.reserve(8 * n);
    if (ns === 0) ws.f64.fill(Infinity, thr >> 3, (thr >> 3) + n);
    ws.k.coreCandidates(xT, ld, n, d, xi, rowBuf, ns, plan.rank, sRows, sBuf, tmp, thr, cand, plan.stride, cnt);
    recomputed = ws.k.coreFromCandidates(xT, ld, n, d, xi, rowBuf, scratch, tmp, cand, plan.stride, cnt, k, pc, pc2);
    const f = ws.f64;
    for (let i = 0; i < n; i++) {
      f[(pCore >> 3) + order[i]] = f[(pc >> 3) + i];
      f[(pCore2 >> 3) + order[i]] = f[(pc2 >> 3) + i];
    }
  }
  ws.reset(mark);
  return recomputed;
}

/**
 * Prim's algorithm (README step 5, prims_kdtree tie-breaking) on the n points at xT with core
 * distances at pCore; returns the addresses of the n − 1 edges (a, b: i32; w: f64), which stay
 * reserved in the workspace.
 */
export function primWasm(ws: Workspace, xT: number, ld: number, n: number, d: number, pCore: number): { a: number; b: number; w: number } {
  const a = ws.reserve(4 * n);
  const b = ws.reserve(4 * n);
  const w = ws.reserve(8 * n);
  const mark = ws.mark();
  let P = 1;
  while (P < n) P *= 2;
  const xi = ws.reserve(8 * d);
  const best = ws.reserve(8 * P);
  const src = ws.reserve(4 * n);
  const outside = ws.reserve(P);
  const tree = ws.reserve(8 * P);
  const active = ws.reserve(4 * n);
  const pos = ws.reserve(4 * n);
  const need = ws.reserve(4 * n);
  const needD = ws.reserve(8 * n);
  ws.k.primLazy(xT, ld, n, d, xi, pCore, best, src, outside, tree, P, active, pos, need, needD, a, b, w);
  ws.reset(mark);
  return { a, b, w };
}

/**
 * Copies row-major points into the workspace column-major with leading dimension ld; with
 * `order`, column i holds point order[i].
 */
export function uploadTransposed(
  ws: Workspace,
  points: Float64Array,
  n: number,
  d: number,
  ld: number,
  order?: Int32Array,
): number {
  const xT = ws.reserve(8 * ld * d);
  // Bulk-copy the rows in, transpose inside the wasm (a strided JS loop costs more), free the copy.
  const mark = ws.mark();
  const src = ws.reserve(8 * n * d);
  const ord = order ? ws.reserve(4 * n) : 0;
  ws.f64.set(points.subarray(0, n * d), src >> 3);
  if (order) ws.i32.set(order.subarray(0, n), ord >> 2);
  ws.k.transposeIn(src, n, d, ord, xT, ld);
  ws.reset(mark);
  return xT;
}

/** Steps 5–10 of the README from the MST: hierarchy, condensed tree, selection, labels, GLOSH. */
export function finishFit(
  points: Float64Array,
  n: number,
  d: number,
  m: number,
  mst: MstResult,
  params: ResolvedParams,
): HdbscanResult {
  const slt = singleLinkage(n, mst.edgeA, mst.edgeB, mst.edgeW);
  const tree = condenseTree(slt, n, params.minClusterSize);
  return finishFromTree(points, n, d, m, mst.core, mst.core2, tree, params);
}

/**
 * A fit from a given condensed tree (e.g. one stored by the reference package or saved earlier):
 * core distances are recomputed from the points, everything else follows from the tree.
 */
export function fitFromCondensedTree(
  points: Float64Array,
  n: number,
  d: number,
  tree: CondensedTree,
  options: HdbscanOptions,
): HdbscanResult {
  checkPoints(points, n, d, 'fitFromCondensedTree');
  const params = resolveOptions(options);
  const m = effectiveMinSamples(params.minSamplesRequested, n);
  const mst = mutualReachabilityMst(points, n, d, m, params);
  return finishFromTree(points.slice(0, n * d), n, d, m, mst.core, mst.core2, tree, params);
}

function finishFromTree(
  points: Float64Array,
  n: number,
  d: number,
  m: number,
  core: Float64Array,
  core2: Float64Array,
  tree: CondensedTree,
  params: ResolvedParams,
): HdbscanResult {
  const info = clusterInfo(tree);
  const selected = selectClusters(tree, info, params.clusterSelectionMethod, params.allowSingleCluster);
  const { labels, probabilities, clusterLabel } = labelPoints(tree, info, selected, params.allowSingleCluster);
  const lambdaMax = gloshLambdaMax(tree, info, params.glosh);
  const outlierScores = gloshScores(tree, info, lambdaMax);
  let nClusters = 0;
  for (let c = 0; c < selected.length; c++) nClusters += selected[c];
  // With leaf selection and no split the reference selects the root yet labels every point noise.
  if (nClusters === 1 && selected[0] === 1 && !params.allowSingleCluster) nClusters = 0;
  return {
    n,
    d,
    minSamples: m,
    minSamplesRequested: params.minSamplesRequested,
    minClusterSize: params.minClusterSize,
    clusterSelectionMethod: params.clusterSelectionMethod,
    allowSingleCluster: params.allowSingleCluster,
    glosh: params.glosh,
    labels,
    probabilities,
    outlierScores,
    nClusters,
    condensedTree: tree,
    clusterInfo: info,
    selected,
    clusterLabel,
    lambdaMax,
    coreDistances: core,
    coreDistances2: core2,
    points,
  };
}
