/**
 * Plain-TypeScript twin of the wasm kernels in assembly/cluster.ts: dense euclidean distances,
 * core distances by selection, and Prim's algorithm on the mutual-reachability graph. Used when
 * FLUXMUT_CLUSTER=ts is set and by the parity tests; results are bit-identical to the wasm ones
 * (same summation order, no fused multiply-add).
 */

/** Full symmetric n×n distance matrix (row stride n): d(i,j) = sqrt(Σ_k (x_ik − x_jk)²), k in order. */
export function denseDistancesTs(points: Float64Array, n: number, d: number): Float64Array {
  const D = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const oi = i * d;
    for (let j = i + 1; j < n; j++) {
      const oj = j * d;
      let s = 0;
      for (let k = 0; k < d; k++) {
        const t = points[oi + k] - points[oj + k];
        s += t * t;
      }
      const v = Math.sqrt(s);
      D[i * n + j] = v;
      D[j * n + i] = v;
    }
  }
  return D;
}

/**
 * core[i] = the (k+1)-th smallest value of row i (self-distance 0 included), i.e. the distance to
 * the k-th nearest other point (README step 3); core2[i] = the k-th smallest (one rank lower),
 * which lets a scorer update core[i] exactly when one point is appended.
 */
export function coreDistancesTs(
  D: Float64Array,
  n: number,
  stride: number,
  k: number,
  core: Float64Array,
  core2: Float64Array,
): void {
  const row = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) row[j] = D[i * stride + j];
    core[i] = selectKth(row, n, k);
    let m2 = 0;
    for (let j = 0; j < k; j++) if (row[j] > m2) m2 = row[j];
    core2[i] = m2;
  }
}

/**
 * Rearranges a[0..len) so that a[k] holds the value of rank k (0-based), everything before it is
 * <= a[k] and everything after >= a[k]; returns a[k]. Hoare partitioning around a median of three.
 */
export function selectKth(a: Float64Array, len: number, k: number): number {
  let lo = 0;
  let hi = len - 1;
  while (hi > lo) {
    const mid = (lo + hi) >> 1;
    const x = a[lo];
    const y = a[mid];
    const z = a[hi];
    const pivot = Math.max(Math.min(x, y), Math.min(Math.max(x, y), z));
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

/**
 * Prim's algorithm on the complete mutual-reachability graph mr(i,j) = max(core_i, core_j, d_ij),
 * exactly as the reference's prims_kdtree (README, Tolerances 3): start at point 0; an outside
 * point's best distance is replaced only when strictly smaller (the earliest tree node wins); the
 * next point is the one with the smallest best distance, lowest index among equals; edge =
 * (tree node, new point). Writes n − 1 edges.
 */
export function primDenseTs(
  D: Float64Array,
  n: number,
  stride: number,
  core: Float64Array,
  edgeA: Int32Array,
  edgeB: Int32Array,
  edgeW: Float64Array,
): void {
  const inTree = new Uint8Array(n);
  const best = new Float64Array(n).fill(Infinity);
  const src = new Int32Array(n);
  let cur = 0;
  inTree[0] = 1;
  for (let step = 0; step < n - 1; step++) {
    const cc = core[cur];
    const row = cur * stride;
    let newD = Infinity;
    let newNode = -1;
    for (let j = 0; j < n; j++) {
      if (inTree[j]) continue;
      let mr = D[row + j];
      if (cc > mr) mr = cc;
      const cj = core[j];
      if (cj > mr) mr = cj;
      let b = best[j];
      if (mr < b) {
        best[j] = mr;
        src[j] = cur;
        b = mr;
      }
      if (b < newD || newNode < 0) {
        newD = b;
        newNode = j;
      }
    }
    inTree[newNode] = 1;
    edgeA[step] = src[newNode];
    edgeB[step] = newNode;
    edgeW[step] = newD;
    cur = newNode;
  }
}
