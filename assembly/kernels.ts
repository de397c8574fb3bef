// WebAssembly SIMD kernels behind src/core/kernels.ts (semantics: see that interface and the
// plain-TS twin in src/core/kernels-ts.ts). The host (src/core/wasm.ts) owns the linear memory:
// it copies operands to byte addresses above heapBase(), calls one of these functions, and copies
// the result out. Everything here is float32, row-major; pointers are byte addresses.
//
// GEMM follows the Goto/van de Geijn layering (Goto & van de Geijn, "Anatomy of high-performance
// matrix multiplication", ACM TOMS 34(3), 2008): the k dimension is cut into KC-deep slices, each
// slice of B is packed into NR-wide column panels (kept in L2), each MR-row slice of A into a small
// panel (kept in L1), and a register-blocked MR x NR micro-kernel holds its C tile in f32x4
// accumulators for the whole slice. Packing pads with zeros, so the micro-kernel never sees an
// edge; partial tiles are computed into a scratch tile and merged with scalar code.
// The three transposition variants differ only in how the packing routines read A and B.

const MR: i32 = 4; // rows of the micro-tile
const NR: i32 = 8; // columns of the micro-tile (two f32x4)
const KC: i32 = 256; // depth of one k slice: a 4 x 256 A panel is 4 KiB, an NR panel 8 KiB

// Micro-kernel init modes: bit 0 = start from C (accumulate), bit 1 = add the bias row.
const MODE_C: i32 = 1;
const MODE_BIAS: i32 = 2;

/** First byte the host may use for its scratch region. */
export function heapBase(): usize {
  return __heap_base;
}

/** Floats of work space gemm/gemmTN/gemmNT need for an output with n columns. */
export function gemmWorkFloats(n: i32): i32 {
  const panels = (n + NR - 1) / NR;
  return KC * panels * NR + KC * MR + MR * NR;
}

// ---------------------------------------------------------------------------------------------
// GEMM

// dst[p*MR + r] = A(i0 + r, p0 + p) for r < mr, zero for the padded rows.
// Element (i, p) of A lives at a + 4 * (i*rs + p*cs).
function packA(a: usize, rs: i32, cs: i32, i0: i32, mr: i32, p0: i32, kc: i32, dst: usize): void {
  if (mr == MR && rs == 1) {
    // A stored transposed (gemmTN): the MR values for one p are contiguous.
    let src = a + (<usize>(i0 + p0 * cs) << 2);
    const step = <usize>cs << 2;
    for (let p = 0; p < kc; p++) {
      v128.store(dst, v128.load(src));
      src += step;
      dst += 16;
    }
    return;
  }
  for (let p = 0; p < kc; p++) {
    for (let r = 0; r < MR; r++) {
      let v: f32 = 0;
      if (r < mr) v = load<f32>(a + (<usize>((i0 + r) * rs + (p0 + p) * cs) << 2));
      store<f32>(dst + (<usize>(p * MR + r) << 2), v);
    }
  }
}

// Packs rows p0..p0+kc of B into ceil(n/NR) panels, panel q holding dst[q*kc*NR + p*NR + jj] =
// B(p0 + p, q*NR + jj), zero past column n. Element (p, j) of B lives at b + 4 * (p*rs + j*cs).
function packB(b: usize, rs: i32, cs: i32, p0: i32, kc: i32, n: i32, dst: usize): void {
  const panels = (n + NR - 1) / NR;
  for (let q = 0; q < panels; q++) {
    const j0 = q * NR;
    const nr = min(NR, n - j0);
    let out = dst + (<usize>(q * kc * NR) << 2);
    if (nr == NR && cs == 1) {
      let src = b + (<usize>(p0 * rs + j0) << 2);
      const step = <usize>rs << 2;
      for (let p = 0; p < kc; p++) {
        v128.store(out, v128.load(src));
        v128.store(out, v128.load(src, 16), 16);
        src += step;
        out += NR << 2;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        for (let jj = 0; jj < NR; jj++) {
          let v: f32 = 0;
          if (jj < nr) v = load<f32>(b + (<usize>((p0 + p) * rs + (j0 + jj) * cs) << 2));
          store<f32>(out + (<usize>jj << 2), v);
        }
        out += NR << 2;
      }
    }
  }
}

// C tile (MR x NR at c, row stride ldc bytes) = init(mode) + Apanel · Bpanel over kc steps.
// Eight f32x4 accumulators + two B vectors + one broadcast fit the 16 x86 vector registers.
@inline
function microKernel(kc: i32, pa: usize, pb: usize, c: usize, ldc: usize, mode: i32, bias: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  if (mode & MODE_C) {
    c00 = v128.load(c); c01 = v128.load(c, 16);
    c10 = v128.load(c + ldc); c11 = v128.load(c + ldc, 16);
    c20 = v128.load(c + 2 * ldc); c21 = v128.load(c + 2 * ldc, 16);
    c30 = v128.load(c + 3 * ldc); c31 = v128.load(c + 3 * ldc, 16);
  }
  if (mode & MODE_BIAS) {
    const b0 = v128.load(bias), b1 = v128.load(bias, 16);
    c00 = f32x4.add(c00, b0); c01 = f32x4.add(c01, b1);
    c10 = f32x4.add(c10, b0); c11 = f32x4.add(c11, b1);
    c20 = f32x4.add(c20, b0); c21 = f32x4.add(c21, b1);
    c30 = f32x4.add(c30, b0); c31 = f32x4.add(c31, b1);
  }
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(pb), b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = f32x4.add(c00, f32x4.mul(a, b0)); c01 = f32x4.add(c01, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 4);
    c10 = f32x4.add(c10, f32x4.mul(a, b0)); c11 = f32x4.add(c11, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 8);
    c20 = f32x4.add(c20, f32x4.mul(a, b0)); c21 = f32x4.add(c21, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 12);
    c30 = f32x4.add(c30, f32x4.mul(a, b0)); c31 = f32x4.add(c31, f32x4.mul(a, b1));
    pa += MR << 2;
    pb += NR << 2;
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c + ldc, c10); v128.store(c + ldc, c11, 16);
  v128.store(c + 2 * ldc, c20); v128.store(c + 2 * ldc, c21, 16);
  v128.store(c + 3 * ldc, c30); v128.store(c + 3 * ldc, c31, 16);
}

// Merges a partial tile (mr x nr of the MR x NR scratch tile) into C with the init mode.
function mergeTile(tile: usize, c: usize, ldcFloats: i32, mr: i32, nr: i32, mode: i32, bias: usize): void {
  for (let r = 0; r < mr; r++) {
    for (let jj = 0; jj < nr; jj++) {
      const dst = c + (<usize>(r * ldcFloats + jj) << 2);
      let v: f32 = 0;
      if (mode & MODE_C) v = load<f32>(dst);
      if (mode & MODE_BIAS) v += load<f32>(bias + (<usize>jj << 2));
      store<f32>(dst, v + load<f32>(tile + (<usize>(r * NR + jj) << 2)));
    }
  }
}

// C (m x n) = [C +] [bias +] A·B where A(i, p) is at a + 4*(i*aRs + p*aCs) and B(p, j) at
// b + 4*(p*bRs + j*bCs).
function gemmCore(
  a: usize, aRs: i32, aCs: i32, b: usize, bRs: i32, bCs: i32, c: usize,
  m: i32, k: i32, n: i32, bias: usize, accumulate: bool, work: usize,
): void {
  const panels = (n + NR - 1) / NR;
  const packedB = work;
  const packedA = work + (<usize>(KC * panels * NR) << 2);
  const tile = packedA + (<usize>(KC * MR) << 2);
  const ldc = <usize>n << 2;
  let p0 = 0;
  // do/while: with k == 0 one pass still writes C = [C +] bias.
  do {
    const kc = min(KC, k - p0);
    packB(b, bRs, bCs, p0, kc, n, packedB);
    let mode = MODE_C;
    if (p0 == 0) mode = (accumulate ? MODE_C : 0) | (bias != 0 ? MODE_BIAS : 0);
    for (let i0 = 0; i0 < m; i0 += MR) {
      const mr = min(MR, m - i0);
      packA(a, aRs, aCs, i0, mr, p0, kc, packedA);
      for (let q = 0; q < panels; q++) {
        const j0 = q * NR;
        const nr = min(NR, n - j0);
        const cp = c + (<usize>(i0 * n + j0) << 2);
        const pb = packedB + (<usize>(q * kc * NR) << 2);
        const bp = bias + (<usize>j0 << 2);
        if (mr == MR && nr == NR) {
          microKernel(kc, packedA, pb, cp, ldc, mode, bp);
        } else {
          microKernel(kc, packedA, pb, tile, <usize>NR << 2, 0, 0);
          mergeTile(tile, cp, n, mr, nr, mode, bp);
        }
      }
    }
    p0 += kc;
  } while (p0 < k);
}

/** C = A·B (+ bias) (+ C). A: m x k, B: k x n. bias = 0 means none. */
export function gemm(a: usize, b: usize, c: usize, m: i32, k: i32, n: i32, bias: usize, accumulate: bool, work: usize): void {
  gemmCore(a, k, 1, b, n, 1, c, m, k, n, bias, accumulate, work);
}

/** C = Aᵀ·B (+ C). A stored k x m, B: k x n. */
export function gemmTN(a: usize, b: usize, c: usize, m: i32, k: i32, n: i32, accumulate: bool, work: usize): void {
  gemmCore(a, 1, m, b, n, 1, c, m, k, n, 0, accumulate, work);
}

/** C = A·Bᵀ (+ C). A: m x k, B stored n x k. */
export function gemmNT(a: usize, b: usize, c: usize, m: i32, k: i32, n: i32, accumulate: bool, work: usize): void {
  gemmCore(a, k, 1, b, 1, k, c, m, k, n, 0, accumulate, work);
}

// ---------------------------------------------------------------------------------------------
// Elementary functions, four lanes at a time.
//
// exp and expm1 use the classic reduction x = n·ln2 + r, |r| <= ln2/2, with ln2 split in a
// 16-bit head (n·LN2_HI is exact for |n| < 2^8) and a tail (Cody & Waite, "Software Manual for
// the Elementary Functions", 1980), and the degree-7 Taylor polynomial of expm1 on r, whose
// truncation error r^8/8! is below 1.5e-8 relative on that interval. Measured against float64
// references, tanh, elu (expm1) and silu are within 2.2e-7 relative (about 4 float32 ulps) for
// every input whose result is a normal float32; test/core-kernels.test.ts holds them to 5e-7.

const LOG2E: f32 = 1.44269504;
const LN2_HI: f32 = 0.693145751953125;
const LN2_LO: f32 = 1.42860677e-6;

// expm1(r) for |r| <= ln2/2.
@inline
function expm1Poly(r: v128): v128 {
  let p = f32x4.splat(1.0 / 5040.0);
  p = f32x4.add(f32x4.splat(1.0 / 720.0), f32x4.mul(r, p));
  p = f32x4.add(f32x4.splat(1.0 / 120.0), f32x4.mul(r, p));
  p = f32x4.add(f32x4.splat(1.0 / 24.0), f32x4.mul(r, p));
  p = f32x4.add(f32x4.splat(1.0 / 6.0), f32x4.mul(r, p));
  p = f32x4.add(f32x4.splat(0.5), f32x4.mul(r, p));
  return f32x4.add(r, f32x4.mul(f32x4.mul(r, r), p));
}

// 2^n for integer lanes n in [-126, 127], built from the exponent bits.
@inline
function pow2i(n: v128): v128 {
  return i32x4.shl(i32x4.add(n, i32x4.splat(127)), 23);
}

// expm1(x) for x <= 0 (callers pass -|x| or a negative branch). Below -30 the result rounds to
// -1 in float32, so x is clamped there, which also keeps 2^n normal.
@inline
function expm1Neg(x: v128): v128 {
  x = f32x4.max(x, f32x4.splat(-30));
  const nf = f32x4.nearest(f32x4.mul(x, f32x4.splat(LOG2E)));
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(nf, f32x4.splat(LN2_HI))), f32x4.mul(nf, f32x4.splat(LN2_LO)));
  const em = expm1Poly(r);
  const s = pow2i(i32x4.trunc_sat_f32x4_s(nf));
  // expm1(x) = 2^n·expm1(r) + (2^n - 1): exact 2^n - 1 keeps relative accuracy when n = 0.
  return f32x4.add(f32x4.mul(s, em), f32x4.sub(s, f32x4.splat(1)));
}

// exp(x) for x <= 0, down to the float32 subnormal range, as the product of two factors
// expNegScaled(x) · expNegScale(x): below -40 the scale 2^n is split as 2^(n+64)·2^-64 so the
// first factor stays a normal number. Callers that multiply further (silu) apply the 2^-64 last,
// so a subnormal result is rounded once instead of carrying a subnormal intermediate.
@inline
function expLow(x: v128): v128 {
  return f32x4.lt(x, f32x4.splat(-40));
}

@inline
function expNegScaled(x: v128): v128 {
  const low = expLow(x);
  x = f32x4.max(x, f32x4.splat(-104)); // exp(-104) rounds to 0 in float32
  const nf = f32x4.nearest(f32x4.mul(x, f32x4.splat(LOG2E)));
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(nf, f32x4.splat(LN2_HI))), f32x4.mul(nf, f32x4.splat(LN2_LO)));
  const p = f32x4.add(f32x4.splat(1), expm1Poly(r));
  const n = i32x4.add(i32x4.trunc_sat_f32x4_s(nf), v128.and(low, i32x4.splat(64)));
  return f32x4.mul(p, pow2i(n));
}

@inline
function expNegScale(x: v128): v128 {
  return v128.bitselect(f32x4.splat(5.421010862427522e-20), f32x4.splat(1), expLow(x)); // 2^-64 or 1
}

// tanh(x) = sign(x)·(-e)/(e + 2) with e = expm1(-2|x|): no cancellation for small |x|.
@inline
function tanh4(x: v128): v128 {
  const sign = v128.and(x, i32x4.splat(0x80000000));
  const e = expm1Neg(f32x4.mul(f32x4.abs(x), f32x4.splat(-2)));
  const t = f32x4.div(f32x4.neg(e), f32x4.add(e, f32x4.splat(2)));
  return v128.or(t, sign);
}

// sigmoid(x) from e = exp(-|x|) and the mask pos = (x >= 0), so it neither overflows nor cancels;
// passing the complemented mask gives sigmoid(-x) = 1 - sigmoid(x) without the subtraction.
@inline
function sigmoidFromExp(e: v128, pos: v128): v128 {
  const inv = f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), e));
  // x >= 0: sigmoid = 1/(1+e); x < 0: sigmoid = e/(1+e).
  return v128.bitselect(inv, f32x4.mul(e, inv), pos);
}

const RELU: i32 = 0;
const TANH: i32 = 1;
const ELU: i32 = 2;
const SILU: i32 = 3;
const IDENTITY: i32 = 4;

@inline
function forward4(kind: i32, x: v128): v128 {
  const zero = f32x4.splat(0);
  if (kind == RELU) {
    // x > 0 ? x : 0 (a NaN input gives 0, as in the TS twin).
    return v128.and(x, f32x4.gt(x, zero));
  } else if (kind == TANH) {
    return tanh4(x);
  } else if (kind == ELU) {
    return v128.bitselect(x, expm1Neg(f32x4.min(x, zero)), f32x4.gt(x, zero));
  } else if (kind == SILU) {
    // silu(x) = x / (1 + e) for x >= 0 and x·e / (1 + e) below, e = exp(-|x|).
    const nx = f32x4.neg(f32x4.abs(x));
    const es = expNegScaled(nx), sc = expNegScale(nx);
    const inv = f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), f32x4.mul(es, sc)));
    const neg = f32x4.mul(f32x4.mul(f32x4.mul(x, es), inv), sc);
    return v128.bitselect(f32x4.mul(x, inv), neg, f32x4.ge(x, zero));
  }
  return x;
}

@inline
function derivative4(kind: i32, x: v128, y: v128): v128 {
  const zero = f32x4.splat(0);
  const one = f32x4.splat(1);
  if (kind == RELU) {
    return v128.and(one, f32x4.gt(x, zero));
  } else if (kind == TANH) {
    return f32x4.sub(one, f32x4.mul(y, y));
  } else if (kind == ELU) {
    return v128.bitselect(one, f32x4.add(y, one), f32x4.gt(x, zero));
  } else if (kind == SILU) {
    // silu'(x) = s·(1 + x·(1 - s)), s = sigmoid(x), with 1 - s = sigmoid(-x) computed directly.
    const nx = f32x4.neg(f32x4.abs(x));
    const e = f32x4.mul(expNegScaled(nx), expNegScale(nx));
    const pos = f32x4.ge(x, zero);
    const s = sigmoidFromExp(e, pos);
    const sNeg = sigmoidFromExp(e, v128.not(pos));
    return f32x4.mul(s, f32x4.add(one, f32x4.mul(x, sNeg)));
  }
  return one;
}

// The last partial vector reads up to 12 bytes past len (the host pads every region by 16) and
// stores only the lanes below len.
function activateKind(kind: i32, x: usize, y: usize, len: i32): void {
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, forward4(kind, v128.load(x + o)));
  }
  if (i < len) {
    const v = forward4(kind, v128.load(x + (<usize>i << 2)));
    for (let l = 0; i + l < len; l++) {
      store<f32>(y + (<usize>(i + l) << 2), laneOf(v, l));
    }
  }
}

@inline
function laneOf(v: v128, l: i32): f32 {
  if (l == 0) return f32x4.extract_lane(v, 0);
  if (l == 1) return f32x4.extract_lane(v, 1);
  if (l == 2) return f32x4.extract_lane(v, 2);
  return f32x4.extract_lane(v, 3);
}

/** y = f(x) for len values. kind: 0 relu, 1 tanh, 2 elu, 3 silu, 4 identity. */
export function activate(kind: i32, x: usize, y: usize, len: i32): void {
  // One specialised loop per kind: the branch on kind is hoisted out of the element loop.
  if (kind == RELU) activateKind(RELU, x, y, len);
  else if (kind == TANH) activateKind(TANH, x, y, len);
  else if (kind == ELU) activateKind(ELU, x, y, len);
  else if (kind == SILU) activateKind(SILU, x, y, len);
  else activateKind(IDENTITY, x, y, len);
}

function backwardKind(kind: i32, x: usize, y: usize, dy: usize, dx: usize, len: i32, accumulate: bool): void {
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const o = <usize>i << 2;
    let g = f32x4.mul(derivative4(kind, v128.load(x + o), v128.load(y + o)), v128.load(dy + o));
    if (accumulate) g = f32x4.add(v128.load(dx + o), g);
    v128.store(dx + o, g);
  }
  if (i < len) {
    const o = <usize>i << 2;
    const d = derivative4(kind, v128.load(x + o), v128.load(y + o));
    for (let l = 0; i + l < len; l++) {
      const at = <usize>(i + l) << 2;
      let g = laneOf(d, l) * load<f32>(dy + at);
      if (accumulate) g = load<f32>(dx + at) + g;
      store<f32>(dx + at, g);
    }
  }
}

/** dx (+)= f'(x)·dy for len values. */
export function activateBackward(kind: i32, x: usize, y: usize, dy: usize, dx: usize, len: i32, accumulate: bool): void {
  if (kind == RELU) backwardKind(RELU, x, y, dy, dx, len, accumulate);
  else if (kind == TANH) backwardKind(TANH, x, y, dy, dx, len, accumulate);
  else if (kind == ELU) backwardKind(ELU, x, y, dy, dx, len, accumulate);
  else if (kind == SILU) backwardKind(SILU, x, y, dy, dx, len, accumulate);
  else backwardKind(IDENTITY, x, y, dy, dx, len, accumulate);
}

// ---------------------------------------------------------------------------------------------
// Reductions. They accumulate in float64 (f64x2 lanes), like the TS twin, and round once:
// they are memory-bound, so the wider accumulator costs nothing measurable.

/** out[j] (+)= Σ_i x[i, j] for an m x n matrix. */
export function sumRows(x: usize, m: i32, n: i32, out: usize, accumulate: bool): void {
  const row = <usize>n << 2;
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    let lo = f64x2.splat(0), hi = f64x2.splat(0);
    let p = x + (<usize>j << 2);
    for (let i = 0; i < m; i++) {
      const v = v128.load(p);
      lo = f64x2.add(lo, f64x2.promote_low_f32x4(v));
      hi = f64x2.add(hi, f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)));
      p += row;
    }
    const o = out + (<usize>j << 2);
    let s0 = f64x2.extract_lane(lo, 0), s1 = f64x2.extract_lane(lo, 1);
    let s2 = f64x2.extract_lane(hi, 0), s3 = f64x2.extract_lane(hi, 1);
    if (accumulate) {
      s0 += <f64>load<f32>(o); s1 += <f64>load<f32>(o, 4);
      s2 += <f64>load<f32>(o, 8); s3 += <f64>load<f32>(o, 12);
    }
    store<f32>(o, <f32>s0); store<f32>(o, <f32>s1, 4);
    store<f32>(o, <f32>s2, 8); store<f32>(o, <f32>s3, 12);
  }
  for (; j < n; j++) {
    let s: f64 = accumulate ? <f64>load<f32>(out + (<usize>j << 2)) : 0;
    for (let i = 0; i < m; i++) s += <f64>load<f32>(x + (<usize>(i * n + j) << 2));
    store<f32>(out + (<usize>j << 2), <f32>s);
  }
}

/** out[i] (+)= Σ_j x[i, j] for an m x n matrix. */
export function sumCols(x: usize, m: i32, n: i32, out: usize, accumulate: bool): void {
  for (let i = 0; i < m; i++) {
    const rowp = x + (<usize>(i * n) << 2);
    let lo = f64x2.splat(0), hi = f64x2.splat(0);
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const v = v128.load(rowp + (<usize>j << 2));
      lo = f64x2.add(lo, f64x2.promote_low_f32x4(v));
      hi = f64x2.add(hi, f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)));
    }
    const t = f64x2.add(lo, hi);
    let s = f64x2.extract_lane(t, 0) + f64x2.extract_lane(t, 1);
    for (; j < n; j++) s += <f64>load<f32>(rowp + (<usize>j << 2));
    const o = out + (<usize>i << 2);
    if (accumulate) s += <f64>load<f32>(o);
    store<f32>(o, <f32>s);
  }
}
