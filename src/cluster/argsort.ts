/**
 * The permutation numpy 1.24's default `np.argsort` (kind='quicksort') returns for a float64 or
 * int64 key array, reproduced step for step. numpy's quicksort is not stable, so among equal keys
 * the order depends on the exact partitioning; the reference hdbscan sorts its MST edges by weight
 * and its condensed-tree rows by parent id with it (fixtures README, "How the reference computes",
 * step 5 and GLOSH step 2), and equal MST weights are common (ties in mutual reachability).
 *
 * The routine is numpy's scalar introsort (numpy/core/src/npysort/quicksort.cpp, `aquicksort_`):
 * median-of-three quicksort that keeps the larger partition on a stack, insertion sort on
 * partitions of at most SMALL_QUICKSORT + 1 elements, heapsort once the depth budget
 * 2·⌊log₂ n⌋ is spent. Keys are compared with `<` only (no NaN ever reaches it here).
 */

const SMALL_QUICKSORT = 16;

export function numpyArgsort(keys: ArrayLike<number>): Int32Array {
  const num = keys.length;
  const tosort = new Int32Array(num);
  for (let i = 0; i < num; i++) tosort[i] = i;
  if (num < 2) return tosort;
  const v = keys;
  // Stacks of [pl, pr] pairs and depths, as in numpy (PYA_QS_STACK = 128 is ample for 2^31).
  const stack: number[] = [];
  const depthStack: number[] = [];
  let pl = 0;
  let pr = num - 1;
  let cdepth = msb(num) * 2;
  let tmp: number;

  for (;;) {
    if (cdepth < 0) {
      heapsortRange(v, tosort, pl, pr - pl + 1);
    } else {
      while (pr - pl > SMALL_QUICKSORT) {
        const pm = pl + ((pr - pl) >> 1);
        if (v[tosort[pm]] < v[tosort[pl]]) { tmp = tosort[pm]; tosort[pm] = tosort[pl]; tosort[pl] = tmp; }
        if (v[tosort[pr]] < v[tosort[pm]]) { tmp = tosort[pr]; tosort[pr] = tosort[pm]; tosort[pm] = tmp; }
        if (v[tosort[pm]] < v[tosort[pl]]) { tmp = tosort[pm]; tosort[pm] = tosort[pl]; tosort[pl] = tmp; }
        const vp = v[tosort[pm]];
        let pi = pl;
        let pj = pr - 1;
        tmp = tosort[pm]; tosort[pm] = tosort[pj]; tosort[pj] = tmp;
        for (;;) {
          do ++pi; while (v[tosort[pi]] < vp);
          do --pj; while (vp < v[tosort[pj]]);
          if (pi >= pj) break;
          tmp = tosort[pi]; tosort[pi] = tosort[pj]; tosort[pj] = tmp;
        }
        const pk = pr - 1;
        tmp = tosort[pi]; tosort[pi] = tosort[pk]; tosort[pk] = tmp;
        // The larger partition waits on the stack; the smaller one is sorted next.
        if (pi - pl < pr - pi) {
          stack.push(pi + 1, pr);
          pr = pi - 1;
        } else {
          stack.push(pl, pi - 1);
          pl = pi + 1;
        }
        depthStack.push(--cdepth);
      }
      // Insertion sort of the small partition.
      for (let pi = pl + 1; pi <= pr; ++pi) {
        const vi = tosort[pi];
        const vpv = v[vi];
        let pj = pi;
        let pk = pi - 1;
        while (pj > pl && vpv < v[tosort[pk]]) {
          tosort[pj--] = tosort[pk--];
        }
        tosort[pj] = vi;
      }
    }
    if (stack.length === 0) break;
    pr = stack.pop()!;
    pl = stack.pop()!;
    cdepth = depthStack.pop()!;
  }
  return tosort;
}

function msb(n: number): number {
  let depth = 0;
  while ((n >>>= 1) > 0) depth++;
  return depth;
}

/** numpy's `aheapsort_` on tosort[start .. start+n), with its 1-based heap indexing. */
function heapsortRange(v: ArrayLike<number>, tosort: Int32Array, start: number, n: number): void {
  // a[i] of numpy is tosort[start + i - 1].
  const o = start - 1;
  let i: number;
  let j: number;
  let tmp: number;
  for (let l = n >> 1; l > 0; --l) {
    tmp = tosort[o + l];
    for (i = l, j = l << 1; j <= n; ) {
      if (j < n && v[tosort[o + j]] < v[tosort[o + j + 1]]) j += 1;
      if (v[tmp] < v[tosort[o + j]]) {
        tosort[o + i] = tosort[o + j];
        i = j;
        j += j;
      } else break;
    }
    tosort[o + i] = tmp;
  }
  for (; n > 1; ) {
    tmp = tosort[o + n];
    tosort[o + n] = tosort[o + 1];
    n -= 1;
    for (i = 1, j = 2; j <= n; ) {
      if (j < n && v[tosort[o + j]] < v[tosort[o + j + 1]]) j++;
      if (v[tmp] < v[tosort[o + j]]) {
        tosort[o + i] = tosort[o + j];
        i = j;
        j += j;
      } else break;
    }
    tosort[o + i] = tmp;
  }
}
