/**
 * From the minimum spanning tree of the mutual-reachability graph to labels, membership
 * probabilities and GLOSH outlier scores (Campello, Moulavi, Sander 2013; Campello et al. 2015,
 * "Hierarchical density estimates for data clustering, visualization, and outlier detection").
 * Every step follows the reference package hdbscan 0.8.29 as specified in
 * shared/fixtures/hdbscan/README.md ("How the reference computes the outputs"), including its row
 * orders, because tie-breaking and float summation order depend on them.
 */
import { numpyArgsort } from './argsort.js';

/** scipy-style single-linkage tree: row k merges `left[k]` and `right[k]` at `distance[k]` into node n + k. */
export interface SingleLinkageTree {
  left: Int32Array;
  right: Int32Array;
  distance: Float64Array;
  size: Int32Array;
}

/**
 * The condensed tree as parallel columns, rows in the reference's order. Points are ids 0..n-1,
 * clusters are ids >= n, the root is n. `lambda` = 1 / distance (Infinity at distance 0).
 */
export interface CondensedTree {
  parent: Int32Array;
  child: Int32Array;
  lambda: Float64Array;
  childSize: Int32Array;
  /** Number of points n. */
  nPoints: number;
  /** Number of clusters including the root; cluster ids are n .. n + nClusters - 1. */
  nClusters: number;
}

/** Per-cluster facts derived once from the condensed tree (index = cluster id - n). */
export interface ClusterInfo {
  /** Parent cluster id, -1 for the root. */
  parent: Int32Array;
  /** λ at which the cluster is born (0 for the root). */
  birth: Float64Array;
  /** Largest λ among the rows whose parent is this cluster (direct children only). */
  maxLambdaDirect: Float64Array;
  /** Largest λ among all point rows in the cluster's subtree (the GLOSH paper's λ_max). */
  maxLambdaSubtree: Float64Array;
  /** Row index of each point's row in the condensed tree (index = point id). */
  pointRow: Int32Array;
  /** Whether the cluster has child clusters. */
  hasChildren: Uint8Array;
}

/**
 * Sorts MST edges by weight with numpy's argsort order and merges them with union-find into the
 * single-linkage tree (the reference's `label`): row k = [find(a), find(b), w, size].
 */
export function singleLinkage(
  n: number,
  edgeA: Int32Array,
  edgeB: Int32Array,
  edgeW: Float64Array,
): SingleLinkageTree {
  const m = n - 1;
  const order = numpyArgsort(edgeW);
  const left = new Int32Array(m);
  const right = new Int32Array(m);
  const distance = new Float64Array(m);
  const size = new Int32Array(m);
  const parent = new Int32Array(2 * n - 1).fill(-1);
  const compSize = new Int32Array(2 * n - 1);
  compSize.fill(1, 0, n);
  const find = (x: number): number => {
    let r = x;
    while (parent[r] !== -1) r = parent[r];
    // Path compression: does not change which root is found, only how fast.
    while (parent[x] !== -1 && parent[x] !== r) {
      const next = parent[x];
      parent[x] = r;
      x = next;
    }
    return r;
  };
  for (let k = 0; k < m; k++) {
    const e = order[k];
    const aa = find(edgeA[e]);
    const bb = find(edgeB[e]);
    const node = n + k;
    left[k] = aa;
    right[k] = bb;
    distance[k] = edgeW[e];
    size[k] = compSize[aa] + compSize[bb];
    compSize[node] = size[k];
    parent[aa] = node;
    parent[bb] = node;
  }
  return { left, right, distance, size };
}

/**
 * Condenses the single-linkage tree with `minClusterSize` (README step 6): breadth-first from the
 * top, left before right; a split needs both sides >= minClusterSize, otherwise the small side's
 * points leave the cluster at λ = 1/δ in breadth-first order of that side.
 */
export function condenseTree(slt: SingleLinkageTree, n: number, minClusterSize: number): CondensedTree {
  const cap = 2 * n + 4;
  const parent = new Int32Array(cap);
  const child = new Int32Array(cap);
  const lambda = new Float64Array(cap);
  const childSize = new Int32Array(cap);
  let rows = 0;
  const push = (p: number, c: number, l: number, s: number): void => {
    parent[rows] = p;
    child[rows] = c;
    lambda[rows] = l;
    childSize[rows] = s;
    rows++;
  };
  if (n === 1) {
    push(n, 0, Infinity, 1);
    return trim();
  }
  const root = 2 * n - 2;
  const relabel = new Int32Array(2 * n - 1);
  relabel[root] = n;
  let nextLabel = n + 1;
  const ignore = new Uint8Array(2 * n - 1);
  const countOf = (node: number): number => (node < n ? 1 : slt.size[node - n]);
  // Breadth-first node order of the whole hierarchy (the reference's bfs_from_hierarchy).
  const queue = new Int32Array(2 * n - 1);
  const sub = new Int32Array(2 * n - 1);
  const bfs = (start: number, out: Int32Array): number => {
    let head = 0;
    let tail = 0;
    out[tail++] = start;
    while (head < tail) {
      const x = out[head++];
      if (x >= n) {
        out[tail++] = slt.left[x - n];
        out[tail++] = slt.right[x - n];
      }
    }
    return tail;
  };
  const leaveAll = (start: number, clusterId: number, l: number): void => {
    const len = bfs(start, sub);
    for (let t = 0; t < len; t++) {
      const s = sub[t];
      if (s < n) push(clusterId, s, l, 1);
      ignore[s] = 1;
    }
  };
  const total = bfs(root, queue);
  for (let t = 0; t < total; t++) {
    const node = queue[t];
    if (node < n || ignore[node]) continue;
    const k = node - n;
    const left = slt.left[k];
    const right = slt.right[k];
    const dist = slt.distance[k];
    const l = dist > 0 ? 1 / dist : Infinity;
    const leftCount = countOf(left);
    const rightCount = countOf(right);
    const id = relabel[node];
    if (leftCount >= minClusterSize && rightCount >= minClusterSize) {
      relabel[left] = nextLabel++;
      push(id, relabel[left], l, leftCount);
      relabel[right] = nextLabel++;
      push(id, relabel[right], l, rightCount);
    } else if (leftCount < minClusterSize && rightCount < minClusterSize) {
      leaveAll(left, id, l);
      leaveAll(right, id, l);
    } else if (leftCount < minClusterSize) {
      relabel[right] = id;
      leaveAll(left, id, l);
    } else {
      relabel[left] = id;
      leaveAll(right, id, l);
    }
  }
  return trim(nextLabel - n);

  function trim(nClusters = 1): CondensedTree {
    return {
      parent: parent.slice(0, rows),
      child: child.slice(0, rows),
      lambda: lambda.slice(0, rows),
      childSize: childSize.slice(0, rows),
      nPoints: n,
      nClusters,
    };
  }
}

export function clusterInfo(tree: CondensedTree): ClusterInfo {
  const n = tree.nPoints;
  const nc = tree.nClusters;
  const parent = new Int32Array(nc).fill(-1);
  const birth = new Float64Array(nc);
  const maxLambdaDirect = new Float64Array(nc);
  const maxLambdaSubtree = new Float64Array(nc);
  const pointRow = new Int32Array(n).fill(-1);
  const hasChildren = new Uint8Array(nc);
  const rows = tree.parent.length;
  for (let r = 0; r < rows; r++) {
    const p = tree.parent[r] - n;
    const c = tree.child[r];
    const l = tree.lambda[r];
    if (l > maxLambdaDirect[p]) maxLambdaDirect[p] = l;
    if (c < n) {
      pointRow[c] = r;
      if (l > maxLambdaSubtree[p]) maxLambdaSubtree[p] = l;
    } else {
      parent[c - n] = p + n;
      birth[c - n] = l;
      hasChildren[p] = 1;
    }
  }
  // Children have larger ids than their parents, so one pass from the last id up finishes each
  // subtree before its parent reads it.
  for (let c = nc - 1; c > 0; c--) {
    const p = parent[c] - n;
    if (maxLambdaSubtree[c] > maxLambdaSubtree[p]) maxLambdaSubtree[p] = maxLambdaSubtree[c];
  }
  return { parent, birth, maxLambdaDirect, maxLambdaSubtree, pointRow, hasChildren };
}

/**
 * Stability of each cluster (README step 7): Σ over its rows of (λ − birth) · child_size, summed in
 * row order like the reference so that the eom comparisons see the same doubles.
 */
export function stability(tree: CondensedTree, info: ClusterInfo): Float64Array {
  const n = tree.nPoints;
  const out = new Float64Array(tree.nClusters);
  const rows = tree.parent.length;
  for (let r = 0; r < rows; r++) {
    const p = tree.parent[r] - n;
    out[p] += (tree.lambda[r] - info.birth[p]) * tree.childSize[r];
  }
  return out;
}

export type SelectionMethod = 'eom' | 'leaf';

/** Which clusters are selected (README step 8); index = cluster id - n. */
export function selectClusters(
  tree: CondensedTree,
  info: ClusterInfo,
  method: SelectionMethod,
  allowSingleCluster: boolean,
): Uint8Array {
  const nc = tree.nClusters;
  const n = tree.nPoints;
  const selected = new Uint8Array(nc);
  if (method === 'leaf') {
    if (nc === 1) {
      selected[0] = 1;
      return selected;
    }
    for (let c = 1; c < nc; c++) if (!info.hasChildren[c]) selected[c] = 1;
    return selected;
  }
  const stab = stability(tree, info);
  // Child clusters of each cluster in row order (the reference sums them in that order).
  const firstChild = new Int32Array(nc).fill(-1);
  const secondChild = new Int32Array(nc).fill(-1);
  const rows = tree.parent.length;
  for (let r = 0; r < rows; r++) {
    const c = tree.child[r];
    if (c < n) continue;
    const p = tree.parent[r] - n;
    if (firstChild[p] < 0) firstChild[p] = c - n;
    else secondChild[p] = c - n;
  }
  const last = allowSingleCluster ? 0 : 1;
  for (let c = 1; c < nc; c++) selected[c] = 1;
  if (allowSingleCluster) selected[0] = 1;
  for (let c = nc - 1; c >= last; c--) {
    let s = 0;
    if (firstChild[c] >= 0) s += stab[firstChild[c]];
    if (secondChild[c] >= 0) s += stab[secondChild[c]];
    // The reference keeps this sum in a C float (README step 8).
    s = Math.fround(s);
    if (s > stab[c]) {
      selected[c] = 0;
      stab[c] = s;
    } else {
      deselectDescendants(c);
    }
  }
  return selected;

  function deselectDescendants(c: number): void {
    const stack = [c];
    while (stack.length > 0) {
      const x = stack.pop()!;
      if (firstChild[x] >= 0) {
        selected[firstChild[x]] = 0;
        stack.push(firstChild[x]);
      }
      if (secondChild[x] >= 0) {
        selected[secondChild[x]] = 0;
        stack.push(secondChild[x]);
      }
    }
  }
}

/**
 * Labels and membership probabilities (README steps 9 and 10). `clusterLabel[c]` is the label of
 * selected cluster c (by id order), -1 otherwise.
 */
export function labelPoints(
  tree: CondensedTree,
  info: ClusterInfo,
  selected: Uint8Array,
  allowSingleCluster: boolean,
): { labels: Int32Array; probabilities: Float64Array; clusterLabel: Int32Array } {
  const n = tree.nPoints;
  const nc = tree.nClusters;
  const clusterLabel = new Int32Array(nc).fill(-1);
  let nSelected = 0;
  for (let c = 0; c < nc; c++) if (selected[c]) clusterLabel[c] = nSelected++;
  // The first selected non-root cluster at or above each cluster, -1 if none.
  const owner = new Int32Array(nc).fill(-1);
  for (let c = 1; c < nc; c++) {
    owner[c] = selected[c] ? c : owner[info.parent[c] - n];
  }
  const rootOnly = allowSingleCluster && selected[0] === 1 && nSelected === 1;
  const labels = new Int32Array(n).fill(-1);
  const probabilities = new Float64Array(n);
  for (let p = 0; p < n; p++) {
    const r = info.pointRow[p];
    const c = tree.parent[r] - n;
    const lp = tree.lambda[r];
    let s = owner[c];
    if (s < 0 && rootOnly && lp >= info.maxLambdaDirect[0]) s = 0;
    if (s < 0) continue;
    labels[p] = clusterLabel[s];
    const maxLambda = info.maxLambdaDirect[s];
    probabilities[p] = maxLambda === 0 || !Number.isFinite(lp) ? 1 : Math.min(lp, maxLambda) / maxLambda;
  }
  return { labels, probabilities, clusterLabel };
}

export type GloshMode = 'reference' | 'subtree';

/**
 * The GLOSH denominators λ_max per cluster. 'reference' reproduces hdbscan 0.8.29 (README, "GLOSH
 * as implemented"): direct children only, then the propagation over rows in numpy argsort order of
 * the parent column, stopping at the first point row. 'subtree' is the paper's definition
 * (Campello et al. 2015, eq. 8): the largest λ of any point in the cluster's subtree.
 */
export function gloshLambdaMax(tree: CondensedTree, info: ClusterInfo, mode: GloshMode): Float64Array {
  if (mode === 'subtree') return info.maxLambdaSubtree.slice();
  const n = tree.nPoints;
  const deaths = info.maxLambdaDirect.slice();
  const order = numpyArgsort(tree.parent);
  for (let t = 0; t < order.length; t++) {
    const r = order[t];
    const c = tree.child[r];
    if (c < n) break;
    const p = tree.parent[r] - n;
    if (deaths[c - n] > deaths[p]) deaths[p] = deaths[c - n];
  }
  return deaths;
}

/**
 * GLOSH score of every point: (λ_max(C) − λ_p) / λ_max(C) for the point's row [C, p, λ_p].
 * 0 when λ_max(C) = 0 or λ_p = ∞ (as the reference); where λ_max(C) = ∞ (a cluster of exact
 * duplicates) the reference returns NaN, we return the limit 1 instead.
 */
export function gloshScores(tree: CondensedTree, info: ClusterInfo, lambdaMax: Float64Array): Float64Array {
  const n = tree.nPoints;
  const out = new Float64Array(n);
  for (let p = 0; p < n; p++) {
    const r = info.pointRow[p];
    out[p] = gloshScore(lambdaMax[tree.parent[r] - n], tree.lambda[r]);
  }
  return out;
}

export function gloshScore(lambdaMax: number, lambdaP: number): number {
  if (lambdaMax === 0 || lambdaP === Infinity) return 0;
  if (lambdaMax === Infinity) return 1;
  return (lambdaMax - lambdaP) / lambdaMax;
}
