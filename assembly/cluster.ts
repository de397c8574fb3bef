// Float64 kernels for HDBSCAN (src/cluster/): dense euclidean distances, core distances by
// selection, Prim's algorithm on the mutual-reachability graph, and the distances of one new point
// to a fitted set. The host (src/cluster/wasm.ts) owns the linear memory and passes byte addresses.
//
// Bit-exactness with the reference (hdbscan 0.8.29 computes sqrt(Σ_k (x_ik − x_jk)²), k in order):
// the SIMD lanes hold two different points j, never two coordinates, so each pair's sum runs over
// k in order; wasm has no fused multiply-add here, so every result equals the scalar twin in
// src/cluster/mst-ts.ts bit for bit.
//
// Points are stored column-major ("xT"): coordinate k of point j at xT + 8*(k*ld + j), so that two
// neighbouring j are one f64x2 load.

export function heapBase(): usize {
  return __heap_base;
}

// out[j] = d(x, point j) for j in [j0, j1), with x given as d contiguous doubles at xi.
export function distRow(xT: usize, ld: i32, d: i32, xi: usize, j0: i32, j1: i32, out: usize): void {
  let j = j0;
  // Scalar head so the vector loop starts on an even j (aligned with the 16-byte column pairs).
  if ((j & 1) != 0 && j < j1) {
    store<f64>(out + (<usize>j << 3), scalarDist(xT, ld, d, xi, j));
    j++;
  }
  const colStep = <usize>ld << 3;
  for (; j + 8 <= j1; j += 8) {
    let a0 = f64x2.splat(0);
    let a1 = f64x2.splat(0);
    let a2 = f64x2.splat(0);
    let a3 = f64x2.splat(0);
    let p = xT + (<usize>j << 3);
    for (let k = 0; k < d; k++) {
      const s = f64x2.splat(load<f64>(xi + (<usize>k << 3)));
      const t0 = f64x2.sub(s, v128.load(p));
      const t1 = f64x2.sub(s, v128.load(p, 16));
      const t2 = f64x2.sub(s, v128.load(p, 32));
      const t3 = f64x2.sub(s, v128.load(p, 48));
      a0 = f64x2.add(a0, f64x2.mul(t0, t0));
      a1 = f64x2.add(a1, f64x2.mul(t1, t1));
      a2 = f64x2.add(a2, f64x2.mul(t2, t2));
      a3 = f64x2.add(a3, f64x2.mul(t3, t3));
      p += colStep;
    }
    const o = out + (<usize>j << 3);
    v128.store(o, f64x2.sqrt(a0));
    v128.store(o, f64x2.sqrt(a1), 16);
    v128.store(o, f64x2.sqrt(a2), 32);
    v128.store(o, f64x2.sqrt(a3), 48);
  }
  for (; j + 2 <= j1; j += 2) {
    let a0 = f64x2.splat(0);
    let p = xT + (<usize>j << 3);
    for (let k = 0; k < d; k++) {
      const t0 = f64x2.sub(f64x2.splat(load<f64>(xi + (<usize>k << 3))), v128.load(p));
      a0 = f64x2.add(a0, f64x2.mul(t0, t0));
      p += colStep;
    }
    v128.store(out + (<usize>j << 3), f64x2.sqrt(a0));
  }
  for (; j < j1; j++) store<f64>(out + (<usize>j << 3), scalarDist(xT, ld, d, xi, j));
}

function scalarDist(xT: usize, ld: i32, d: i32, xi: usize, j: i32): f64 {
  let s: f64 = 0;
  for (let k = 0; k < d; k++) {
    const t = load<f64>(xi + (<usize>k << 3)) - load<f64>(xT + ((<usize>k * <usize>ld + <usize>j) << 3));
    s += t * t;
  }
  return Math.sqrt(s);
}

// Copies point i (column of xT) into xi.
function gatherPoint(xT: usize, ld: i32, d: i32, i: i32, xi: usize): void {
  for (let k = 0; k < d; k++) {
    store<f64>(xi + (<usize>k << 3), load<f64>(xT + ((<usize>k * <usize>ld + <usize>i) << 3)));
  }
}

// Full symmetric matrix D (row stride `stride` doubles) of the n points: upper triangle row by
// row, then mirrored in square blocks to keep the strided writes inside the cache.
export function denseDistances(xT: usize, ld: i32, n: i32, d: i32, xi: usize, D: usize, stride: i32): void {
  const rowBytes = <usize>stride << 3;
  for (let i = 0; i < n; i++) {
    gatherPoint(xT, ld, d, i, xi);
    const row = D + <usize>i * rowBytes;
    store<f64>(row + (<usize>i << 3), 0);
    distRow(xT, ld, d, xi, i + 1, n, row);
  }
  const B = 32;
  for (let bi = 0; bi < n; bi += B) {
    const ei = min(bi + B, n);
    for (let bj = bi; bj < n; bj += B) {
      const ej = min(bj + B, n);
      for (let i = bi; i < ei; i++) {
        const src = D + <usize>i * rowBytes;
        for (let j = max(bj, i + 1); j < ej; j++) {
          store<f64>(D + <usize>j * rowBytes + (<usize>i << 3), load<f64>(src + (<usize>j << 3)));
        }
      }
    }
  }
}

// core[i] = value of rank k (0-based, self-distance included) in row i of D; core2[i] = rank k−1.
// scratch needs room for n + n/8 + 2 doubles.
export function coreDistances(D: usize, n: i32, stride: i32, k: i32, scratch: usize, core: usize, core2: usize): void {
  const rowBytes = <usize>stride << 3;
  for (let i = 0; i < n; i++) {
    rankPair(D + <usize>i * rowBytes, n, k, scratch, core + (<usize>i << 3), core2 + (<usize>i << 3));
  }
}

// Writes the values of rank k and k−1 (0 if k = 0) of row[0..n) to outK and outK1 without
// modifying the row. A quickselect over the whole row is branch-miss bound; instead a threshold
// is chosen from every 8th element so that, in expectation, about 1.5 (k + 1) + 32 elements lie
// at or below it; those are gathered branch-free and selected among. If too few were gathered
// (the sample was unlucky) the whole row is selected instead. Exact either way.
function rankPair(row: usize, n: i32, k: i32, scratch: usize, outK: usize, outK1: usize): void {
  let cand = scratch;
  let len = 0;
  const s = n >> 3;
  if (n >= 256 && k + 1 < (n >> 2)) {
    const sample = scratch + (<usize>n << 3);
    for (let t = 0; t < s; t++) store<f64>(sample + (<usize>t << 3), load<f64>(row + (<usize>(t << 3) << 3)));
    const want = min(s - 1, ((3 * (k + 1)) >> 4) + 4);
    const thr = selectKth(sample, s, want);
    for (let j = 0; j < n; j++) {
      const v = load<f64>(row + (<usize>j << 3));
      store<f64>(cand + (<usize>len << 3), v);
      len += i32(v <= thr);
    }
  }
  if (len < k + 1) {
    memory.copy(cand, row, <usize>n << 3);
    len = n;
  }
  store<f64>(outK, selectKth(cand, len, k));
  let m2: f64 = 0;
  for (let j = 0; j < k; j++) m2 = max(m2, load<f64>(cand + (<usize>j << 3)));
  store<f64>(outK1, m2);
}

// Rearranges a[0..len) so that a[k] holds the value of rank k; Hoare partition, median of three.
export function selectKth(a: usize, len: i32, k: i32): f64 {
  let lo = 0;
  let hi = len - 1;
  while (hi > lo) {
    const mid = (lo + hi) >> 1;
    const x = load<f64>(a + (<usize>lo << 3));
    const y = load<f64>(a + (<usize>mid << 3));
    const z = load<f64>(a + (<usize>hi << 3));
    const pivot = max(min(x, y), min(max(x, y), z));
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (load<f64>(a + (<usize>i << 3)) < pivot) i++;
      while (load<f64>(a + (<usize>j << 3)) > pivot) j--;
      if (i <= j) {
        const pi = a + (<usize>i << 3);
        const pj = a + (<usize>j << 3);
        const t = load<f64>(pi);
        store<f64>(pi, load<f64>(pj));
        store<f64>(pj, t);
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return load<f64>(a + (<usize>k << 3));
}

// Prim's algorithm on the mutual-reachability graph, tie-breaking as the reference's prims_kdtree
// (see primDenseTs in src/cluster/mst-ts.ts). The outside points are kept as a list in increasing
// index order (so "lowest index among equals" is the first met) with their best distance, source
// and core distance alongside; removing the added point shifts the tails down.
// Scratch: idx (4n bytes), best (8n), src (4n), coreL (8n).
export function primDense(
  D: usize, n: i32, stride: i32, core: usize,
  idx: usize, best: usize, src: usize, coreL: usize,
  edgeA: usize, edgeB: usize, edgeW: usize,
): void {
  const rowBytes = <usize>stride << 3;
  let cnt = n - 1;
  for (let t = 0; t < cnt; t++) {
    const j = t + 1;
    store<i32>(idx + (<usize>t << 2), j);
    store<f64>(best + (<usize>t << 3), Infinity);
    store<i32>(src + (<usize>t << 2), 0);
    store<f64>(coreL + (<usize>t << 3), load<f64>(core + (<usize>j << 3)));
  }
  let cur = 0;
  for (let step = 0; step < n - 1; step++) {
    const cc = load<f64>(core + (<usize>cur << 3));
    const row = D + <usize>cur * rowBytes;
    let newD: f64 = Infinity;
    let newT = 0;
    for (let t = 0; t < cnt; t++) {
      const j = load<i32>(idx + (<usize>t << 2));
      const mr = max(max(load<f64>(row + (<usize>j << 3)), cc), load<f64>(coreL + (<usize>t << 3)));
      const pb = best + (<usize>t << 3);
      let b = load<f64>(pb);
      if (mr < b) {
        store<f64>(pb, mr);
        store<i32>(src + (<usize>t << 2), cur);
        b = mr;
      }
      if (b < newD) {
        newD = b;
        newT = t;
      }
    }
    const newNode = load<i32>(idx + (<usize>newT << 2));
    store<i32>(edgeA + (<usize>step << 2), load<i32>(src + (<usize>newT << 2)));
    store<i32>(edgeB + (<usize>step << 2), newNode);
    store<f64>(edgeW + (<usize>step << 3), newD);
    const tail = <usize>(cnt - newT - 1);
    if (tail > 0) {
      memory.copy(idx + (<usize>newT << 2), idx + (<usize>(newT + 1) << 2), tail << 2);
      memory.copy(best + (<usize>newT << 3), best + (<usize>(newT + 1) << 3), tail << 3);
      memory.copy(src + (<usize>newT << 2), src + (<usize>(newT + 1) << 2), tail << 2);
      memory.copy(coreL + (<usize>newT << 3), coreL + (<usize>(newT + 1) << 3), tail << 3);
    }
    cnt--;
    cur = newNode;
  }
}

// Prim without a stored matrix: the row of the current point is computed on the fly into rowBuf
// (the reference's prims_kdtree does the same). O(n² d) time, O(n d) memory.
export function primOnTheFly(
  xT: usize, ld: i32, n: i32, d: i32, xi: usize, rowBuf: usize, core: usize,
  idx: usize, best: usize, src: usize, coreL: usize,
  edgeA: usize, edgeB: usize, edgeW: usize,
): void {
  let cnt = n - 1;
  for (let t = 0; t < cnt; t++) {
    const j = t + 1;
    store<i32>(idx + (<usize>t << 2), j);
    store<f64>(best + (<usize>t << 3), Infinity);
    store<i32>(src + (<usize>t << 2), 0);
    store<f64>(coreL + (<usize>t << 3), load<f64>(core + (<usize>j << 3)));
  }
  let cur = 0;
  for (let step = 0; step < n - 1; step++) {
    const cc = load<f64>(core + (<usize>cur << 3));
    gatherPoint(xT, ld, d, cur, xi);
    distRow(xT, ld, d, xi, 0, n, rowBuf);
    let newD: f64 = Infinity;
    let newT = 0;
    for (let t = 0; t < cnt; t++) {
      const j = load<i32>(idx + (<usize>t << 2));
      const mr = max(max(load<f64>(rowBuf + (<usize>j << 3)), cc), load<f64>(coreL + (<usize>t << 3)));
      const pb = best + (<usize>t << 3);
      let b = load<f64>(pb);
      if (mr < b) {
        store<f64>(pb, mr);
        store<i32>(src + (<usize>t << 2), cur);
        b = mr;
      }
      if (b < newD) {
        newD = b;
        newT = t;
      }
    }
    const newNode = load<i32>(idx + (<usize>newT << 2));
    store<i32>(edgeA + (<usize>step << 2), load<i32>(src + (<usize>newT << 2)));
    store<i32>(edgeB + (<usize>step << 2), newNode);
    store<f64>(edgeW + (<usize>step << 3), newD);
    const tail = <usize>(cnt - newT - 1);
    if (tail > 0) {
      memory.copy(idx + (<usize>newT << 2), idx + (<usize>(newT + 1) << 2), tail << 2);
      memory.copy(best + (<usize>newT << 3), best + (<usize>(newT + 1) << 3), tail << 3);
      memory.copy(src + (<usize>newT << 2), src + (<usize>(newT + 1) << 2), tail << 2);
      memory.copy(coreL + (<usize>newT << 3), coreL + (<usize>(newT + 1) << 3), tail << 3);
    }
    cnt--;
    cur = newNode;
  }
}

// Core distances without a stored matrix: each row is computed into rowBuf and selected in place.
export function coreOnTheFly(xT: usize, ld: i32, n: i32, d: i32, xi: usize, rowBuf: usize, scratch: usize, k: i32, core: usize, core2: usize): void {
  for (let i = 0; i < n; i++) {
    gatherPoint(xT, ld, d, i, xi);
    distRow(xT, ld, d, xi, 0, n, rowBuf);
    // The self-distance computes to exactly 0 (x − x = 0), as the rank convention requires.
    rankPair(rowBuf, n, k, scratch, core + (<usize>i << 3), core2 + (<usize>i << 3));
  }
}
