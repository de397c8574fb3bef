/**
 * HDBSCAN with euclidean distance (Campello, Moulavi, Sander 2013; McInnes, Healy, Astels 2017) and
 * GLOSH outlier scores (Campello et al. 2015), reproducing the reference package hdbscan 0.8.29 as
 * the method's paper uses it (Fanelli, Giroux, Papandreou 2022, outlier score P_out of eq. 5).
 * The rules followed are spelled out in shared/fixtures/hdbscan/README.md.
 *
 * Cost: the dense distance matrix (n² float64) dominates; up to `maxMatrixBytes` it is stored and
 * read by the core-distance selection and by Prim's algorithm, beyond it both recompute rows on
 * the fly (3× the arithmetic, O(n·d) memory).
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
  /** Largest distance matrix kept in memory (bytes); above it rows are recomputed. Default 512 MiB. */
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
    const xi = ws.reserve(8 * d);
    const pCore = ws.reserve(8 * n);
    const pCore2 = ws.reserve(8 * n);
    const dense = 8 * n * n <= params.maxMatrixBytes;
    const rowBuf = ws.reserve(8 * n);
    const scratch = ws.reserve(8 * (n + (n >> 3) + 2));
    const D = dense ? ws.reserve(8 * n * n) : 0;
    if (dense) {
      ws.k.denseDistances(xT, ld, n, d, xi, D, n);
      ws.k.coreDistances(D, n, n, m, scratch, pCore, pCore2);
    } else {
      ws.k.coreOnTheFly(xT, ld, n, d, xi, rowBuf, scratch, m, pCore, pCore2);
    }
    const idx = ws.reserve(4 * n);
    const best = ws.reserve(8 * n);
    const src = ws.reserve(4 * n);
    const coreL = ws.reserve(8 * n);
    const pA = ws.reserve(4 * n);
    const pB = ws.reserve(4 * n);
    const pW = ws.reserve(8 * n);
    if (dense) ws.k.primDense(D, n, n, pCore, idx, best, src, coreL, pA, pB, pW);
    else ws.k.primOnTheFly(xT, ld, n, d, xi, rowBuf, pCore, idx, best, src, coreL, pA, pB, pW);
    core.set(ws.f64.subarray(pCore >> 3, (pCore >> 3) + n));
    core2.set(ws.f64.subarray(pCore2 >> 3, (pCore2 >> 3) + n));
    edgeA.set(ws.i32.subarray(pA >> 2, (pA >> 2) + n - 1));
    edgeB.set(ws.i32.subarray(pB >> 2, (pB >> 2) + n - 1));
    edgeW.set(ws.f64.subarray(pW >> 3, (pW >> 3) + n - 1));
  } finally {
    ws.reset();
  }
  return { core, core2, edgeA, edgeB, edgeW };
}

/** Copies row-major points into the workspace column-major with leading dimension ld. */
export function uploadTransposed(ws: Workspace, points: Float64Array, n: number, d: number, ld: number): number {
  const xT = ws.reserve(8 * ld * d);
  const f = ws.f64;
  const base = xT >> 3;
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let k = 0; k < d; k++) f[base + k * ld + i] = points[o + k];
  }
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
