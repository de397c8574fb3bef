// Float64 kernels for HDBSCAN (src/cluster/): euclidean distances, core distances by selection
// (from per-row candidate lists, no n × n matrix), Prim's algorithm on the mutual-reachability
// graph computing only the distances it needs, and the distances of one new point to a fitted
// set. The host (src/cluster/wasm.ts) owns the linear memory and passes byte addresses.
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

// xT (column-major, leading dimension ld) from row-major points at src; with order != 0, column
// i holds point order[i] (i32 indices).
export function transposeIn(src: usize, n: i32, d: i32, order: usize, xT: usize, ld: i32): void {
  const colStep = <usize>ld << 3;
  for (let i = 0; i < n; i++) {
    const p = order != 0 ? load<i32>(order + (<usize>i << 2)) : i;
    let from = src + <usize>p * (<usize>d << 3);
    let to = xT + (<usize>i << 3);
    for (let k = 0; k < d; k++) {
      store<f64>(to, load<f64>(from));
      from += 8;
      to += colStep;
    }
  }
}

// Copies point i (column of xT) into xi.
function gatherPoint(xT: usize, ld: i32, d: i32, i: i32, xi: usize): void {
  for (let k = 0; k < d; k++) {
    store<f64>(xi + (<usize>k << 3), load<f64>(xT + ((<usize>k * <usize>ld + <usize>i) << 3)));
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

// Core distances without a stored matrix: each row is computed into rowBuf and selected in place.
export function coreOnTheFly(xT: usize, ld: i32, n: i32, d: i32, xi: usize, rowBuf: usize, scratch: usize, k: i32, core: usize, core2: usize): void {
  for (let i = 0; i < n; i++) {
    gatherPoint(xT, ld, d, i, xi);
    distRow(xT, ld, d, xi, 0, n, rowBuf);
    // The self-distance computes to exactly 0 (x − x = 0), as the rank convention requires.
    rankPair(rowBuf, n, k, scratch, core + (<usize>i << 3), core2 + (<usize>i << 3));
  }
}

// ---------------------------------------------------------------------------------------------
// Core distances without the n × n matrix (README step 3). Only the values at or below a per-row
// threshold can be the (k+1)-th smallest, so each pair's distance, computed once for the upper
// triangle, is appended to row i's and row j's candidate lists only when it is at most that row's
// threshold. The thresholds come from the distances to a sample of the points and only decide
// speed: a row whose list ends with fewer than k + 1 values (threshold too low) or more than it
// holds (too high) is recomputed in full and selected exactly (coreFromCandidates).

// Candidate lists of row i at cand + 8*i*stride; slot stride − 1 is a dump for rejected values,
// so cnt[i] <= stride − 1 means the list is complete. Each list starts with the zero
// self-distance.
//
// With ns > 0 the first ns points are the sample (the host uploads the points permuted so that a
// spread-out subset comes first): their rows of the upper triangle are computed first into sRows
// (ns × n), which gives every point its distances to all sample points; thr[i] is the value of
// rank r among them, then those rows are appended like the others. With ns = 0 the thresholds
// are given (+∞ and stride n + 1: the lists are the full rows, i.e. the dense matrix).
export function coreCandidates(
  xT: usize, ld: i32, n: i32, d: i32, xi: usize, rowBuf: usize,
  ns: i32, r: i32, sRows: usize, sBuf: usize, tmp: usize,
  thr: usize, cand: usize, stride: i32, cnt: usize,
): void {
  const rowBytes = <usize>stride << 3;
  const sBytes = <usize>n << 3;
  for (let a = 0; a < ns; a++) {
    gatherPoint(xT, ld, d, a, xi);
    distRow(xT, ld, d, xi, a + 1, n, sRows + <usize>a * sBytes);
  }
  if (ns > 0) {
    for (let i = 0; i < n; i++) {
      for (let p = 0; p < ns; p++) {
        let v: f64 = 0;
        if (p < i) v = load<f64>(sRows + <usize>p * sBytes + (<usize>i << 3));
        else if (p > i) v = load<f64>(sRows + <usize>i * sBytes + (<usize>p << 3));
        store<f64>(sBuf + (<usize>p << 3), v);
      }
      store<f64>(thr + (<usize>i << 3), selectRank(sBuf, ns, r, tmp));
    }
  }
  for (let i = 0; i < n; i++) {
    store<f64>(cand + <usize>i * rowBytes, 0);
    store<i32>(cnt + (<usize>i << 2), 1);
  }
  for (let i = 0; i < n - 1; i++) {
    let row = rowBuf;
    if (i < ns) {
      row = sRows + <usize>i * sBytes;
    } else {
      gatherPoint(xT, ld, d, i, xi);
      distRow(xT, ld, d, xi, i + 1, n, rowBuf);
    }
    appendRow(i, n, row, thr, cand, stride, cnt);
  }
}

// Offers d(i, j) = row[j], j in (i, n), to the lists of i and of j (branch-free: the value is
// always stored, the count advances only if it is within the list's threshold).
function appendRow(i: i32, n: i32, row: usize, thr: usize, cand: usize, stride: i32, cnt: usize): void {
  const rowBytes = <usize>stride << 3;
  const dump = stride - 1;
  const ti = load<f64>(thr + (<usize>i << 3));
  const listI = cand + <usize>i * rowBytes;
  let ci = load<i32>(cnt + (<usize>i << 2));
  // Running pointers: row j's list, count and threshold, and the distance.
  let pj = cand + <usize>(i + 1) * rowBytes;
  let pc = cnt + (<usize>(i + 1) << 2);
  let pt = thr + (<usize>(i + 1) << 3);
  let pv = row + (<usize>(i + 1) << 3);
  const end = row + (<usize>n << 3);
  while (pv < end) {
    const v = load<f64>(pv);
    store<f64>(listI + (<usize>min(ci, dump) << 3), v);
    ci += i32(v <= ti);
    const cj = load<i32>(pc);
    store<f64>(pj + (<usize>min(cj, dump) << 3), v);
    store<i32>(pc, cj + i32(v <= load<f64>(pt)));
    pv += 8;
    pt += 8;
    pc += 4;
    pj += rowBytes;
  }
  store<i32>(cnt + (<usize>i << 2), ci);
}

// core[i] (rank k) and core2[i] (rank k − 1) from the lists; rows whose list cannot hold the
// answer are recomputed in full. Returns how many rows were recomputed.
export function coreFromCandidates(
  xT: usize, ld: i32, n: i32, d: i32, xi: usize, rowBuf: usize, scratch: usize, tmp: usize,
  cand: usize, stride: i32, cnt: usize, k: i32, core: usize, core2: usize,
): i32 {
  const rowBytes = <usize>stride << 3;
  let recomputed = 0;
  for (let i = 0; i < n; i++) {
    const c = load<i32>(cnt + (<usize>i << 2));
    const oK = core + (<usize>i << 3);
    const oK1 = core2 + (<usize>i << 3);
    if (c >= k + 1 && c <= stride - 1) {
      selectPair(cand + <usize>i * rowBytes, c, k, tmp, oK, oK1);
    } else {
      gatherPoint(xT, ld, d, i, xi);
      distRow(xT, ld, d, xi, 0, n, rowBuf);
      rankPair(rowBuf, n, k, scratch, oK, oK1);
      recomputed++;
    }
  }
  return recomputed;
}

// Values of rank k and k − 1 (0 if k = 0) of a[0..len), len > k, into outK and outK1; a is
// left as is, tmp needs room for 2·len doubles. Quickselect with a three-way partition that
// copies (< pivot to the front of the other buffer, > pivot to its back, == pivot only counted)
// instead of swapping in place: no branch depends on the data and no load waits on the store of
// the previous element, which is what makes an in-place partition of short random lists slow.
// `below` is the largest value ranked before the current range (all values are >= 0).
function selectPair(a: usize, len: i32, k: i32, tmp: usize, outK: usize, outK1: usize): void {
  const tmp1 = tmp + (<usize>len << 3);
  let src = a;
  let dst = tmp;
  let lo = 0;
  let hi = len;
  let kk = k;
  let below: f64 = 0;
  while (hi - lo > 1) {
    const x = load<f64>(src + (<usize>lo << 3));
    const y = load<f64>(src + (<usize>((lo + hi) >> 1) << 3));
    const z = load<f64>(src + (<usize>(hi - 1) << 3));
    const pivot = max(min(x, y), min(max(x, y), z));
    const L = hi - lo;
    const top = dst + (<usize>(L - 1) << 3);
    let wl = 0;
    let wg = 0;
    for (let r = lo; r < hi; r++) {
      const v = load<f64>(src + (<usize>r << 3));
      store<f64>(dst + (<usize>wl << 3), v);
      store<f64>(top - (<usize>wg << 3), v);
      wl += i32(v < pivot);
      wg += i32(v > pivot);
    }
    const eq = L - wl - wg;
    if (kk >= wl && kk < wl + eq) {
      store<f64>(outK, pivot);
      let m2 = below;
      if (kk > wl) m2 = pivot;
      else for (let j = 0; j < wl; j++) m2 = max(m2, load<f64>(dst + (<usize>j << 3)));
      store<f64>(outK1, m2);
      return;
    }
    if (kk < wl) {
      lo = 0;
      hi = wl;
    } else {
      // Everything before the values > pivot ranks lower; the largest of it is the pivot.
      below = pivot;
      kk -= wl + eq;
      lo = L - wg;
      hi = L;
    }
    src = dst;
    dst = dst == tmp ? tmp1 : tmp;
  }
  store<f64>(outK, load<f64>(src + (<usize>lo << 3)));
  store<f64>(outK1, below);
}

// Value of rank k of a[0..len) (a unchanged; tmp as for selectPair).
function selectRank(a: usize, len: i32, k: i32, tmp: usize): f64 {
  const out = tmp + (<usize>(2 * len) << 3);
  selectPair(a, len, k, tmp, out, out + 8);
  return load<f64>(out);
}

// ---------------------------------------------------------------------------------------------
// Prim's algorithm on the mutual-reachability graph without a distance matrix, with the
// reference's prims_kdtree tie-breaking (primDenseTs in src/cluster/mst-ts.ts is the readable
// twin; the edges are identical, in the same order).
//
// Two facts make most distances unnecessary. mr(i, j) >= core(j), so once best[j] == core(j) no
// later tree node can strictly improve it: j is frozen. And mr(cur, j) >= core(cur), so j can
// only improve if core(cur) < best[j]. The distance d(cur, j) is computed only for the outside,
// not frozen points ("active") with core(cur) < best[j]; with min_samples 100 on 1500 points that
// is about 1% of the pairs. The next point (smallest best, lowest index among equals) comes from
// a tournament tree over the indices, updated only where best changes.
//
// Scratch (P = power of two >= n): best 8P, outside P bytes, tree 8P (i32 2P), active 4n, pos 4n,
// need 4n, needD 8n.
export function primLazy(
  xT: usize, ld: i32, n: i32, d: i32, xi: usize, core: usize,
  best: usize, src: usize, outside: usize, tree: usize, P: i32,
  active: usize, pos: usize, need: usize, needD: usize,
  edgeA: usize, edgeB: usize, edgeW: usize,
): void {
  for (let j = 0; j < P; j++) {
    store<f64>(best + (<usize>j << 3), Infinity);
    store<u8>(outside + <usize>j, u8(j > 0 && j < n));
    store<i32>(tree + (<usize>(P + j) << 2), j);
  }
  for (let j = 0; j < n; j++) store<i32>(src + (<usize>j << 2), 0);
  for (let t = P - 1; t >= 1; t--) {
    const a = load<i32>(tree + (<usize>(2 * t) << 2));
    const b = load<i32>(tree + (<usize>(2 * t + 1) << 2));
    store<i32>(tree + (<usize>t << 2), winner(best, outside, a, b));
  }
  let nAct = n - 1;
  for (let j = 1; j < n; j++) {
    store<i32>(active + (<usize>(j - 1) << 2), j);
    store<i32>(pos + (<usize>j << 2), j - 1);
  }
  store<i32>(pos, -1);
  let cur = 0;
  for (let step = 0; step < n - 1; step++) {
    const cc = load<f64>(core + (<usize>cur << 3));
    let nNeed = 0;
    for (let a = 0; a < nAct; a++) {
      const j = load<i32>(active + (<usize>a << 2));
      store<i32>(need + (<usize>nNeed << 2), j);
      nNeed += i32(cc < load<f64>(best + (<usize>j << 3)));
    }
    if (nNeed > 0) {
      gatherPoint(xT, ld, d, cur, xi);
      distList(xT, ld, d, xi, need, nNeed, needD);
    }
    for (let t = 0; t < nNeed; t++) {
      const j = load<i32>(need + (<usize>t << 2));
      const cj = load<f64>(core + (<usize>j << 3));
      const mr = max(max(load<f64>(needD + (<usize>t << 3)), cc), cj);
      const pb = best + (<usize>j << 3);
      if (mr < load<f64>(pb)) {
        store<f64>(pb, mr);
        store<i32>(src + (<usize>j << 2), cur);
        climb(best, outside, tree, P, j);
        if (mr <= cj) nAct = dropActive(active, pos, nAct, j);
      }
    }
    const w = load<i32>(tree + 4);
    store<i32>(edgeA + (<usize>step << 2), load<i32>(src + (<usize>w << 2)));
    store<i32>(edgeB + (<usize>step << 2), w);
    store<f64>(edgeW + (<usize>step << 3), load<f64>(best + (<usize>w << 3)));
    store<u8>(outside + <usize>w, 0);
    climb(best, outside, tree, P, w);
    if (load<i32>(pos + (<usize>w << 2)) >= 0) nAct = dropActive(active, pos, nAct, w);
    cur = w;
  }
}

// The better of two candidates, a < b by index: smaller best wins, a on ties; a point already in
// the tree (or padding) loses to any outside point.
// @ts-ignore: decorator
@inline
function winner(best: usize, outside: usize, a: i32, b: i32): i32 {
  if (load<u8>(outside + <usize>b) == 0) return a;
  if (load<u8>(outside + <usize>a) == 0) return b;
  return load<f64>(best + (<usize>b << 3)) < load<f64>(best + (<usize>a << 3)) ? b : a;
}

function climb(best: usize, outside: usize, tree: usize, P: i32, j: i32): void {
  let t = (P + j) >> 1;
  while (t >= 1) {
    const a = load<i32>(tree + (<usize>(2 * t) << 2));
    const b = load<i32>(tree + (<usize>(2 * t + 1) << 2));
    store<i32>(tree + (<usize>t << 2), winner(best, outside, a, b));
    t >>= 1;
  }
}

function dropActive(active: usize, pos: usize, nAct: i32, j: i32): i32 {
  const p = load<i32>(pos + (<usize>j << 2));
  const last = load<i32>(active + (<usize>(nAct - 1) << 2));
  store<i32>(active + (<usize>p << 2), last);
  store<i32>(pos + (<usize>last << 2), p);
  store<i32>(pos + (<usize>j << 2), -1);
  return nAct - 1;
}

// out[t] = d(x, point list[t]) for t < len; two listed points per f64x2 (their coordinates are
// gathered), each lane summing over k in order like distRow.
export function distList(xT: usize, ld: i32, d: i32, xi: usize, list: usize, len: i32, out: usize): void {
  const colStep = <usize>ld << 3;
  let t = 0;
  for (; t + 4 <= len; t += 4) {
    const p0 = xT + (<usize>load<i32>(list + (<usize>t << 2)) << 3);
    const p1 = xT + (<usize>load<i32>(list + (<usize>(t + 1) << 2)) << 3);
    const p2 = xT + (<usize>load<i32>(list + (<usize>(t + 2) << 2)) << 3);
    const p3 = xT + (<usize>load<i32>(list + (<usize>(t + 3) << 2)) << 3);
    let a0 = f64x2.splat(0);
    let a1 = f64x2.splat(0);
    let off: usize = 0;
    for (let k = 0; k < d; k++) {
      const s = f64x2.splat(load<f64>(xi + (<usize>k << 3)));
      const v0 = f64x2.replace_lane(f64x2.splat(load<f64>(p0 + off)), 1, load<f64>(p1 + off));
      const v1 = f64x2.replace_lane(f64x2.splat(load<f64>(p2 + off)), 1, load<f64>(p3 + off));
      const t0 = f64x2.sub(s, v0);
      const t1 = f64x2.sub(s, v1);
      a0 = f64x2.add(a0, f64x2.mul(t0, t0));
      a1 = f64x2.add(a1, f64x2.mul(t1, t1));
      off += colStep;
    }
    const o = out + (<usize>t << 3);
    v128.store(o, f64x2.sqrt(a0));
    v128.store(o, f64x2.sqrt(a1), 16);
  }
  for (; t < len; t++) {
    store<f64>(out + (<usize>t << 3), scalarDist(xT, ld, d, xi, load<i32>(list + (<usize>t << 2))));
  }
}
