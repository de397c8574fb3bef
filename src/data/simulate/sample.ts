/**
 * Fast random variates for the simulators. The simulators need tens of millions of draws per
 * second, so a Sampler runs its own xoshiro128** stream (the algorithm of core/rng.ts) on an
 * Int32Array state, seeded with four words of the caller's Rng: the output is a deterministic
 * function of that Rng's seed, but the state stays in unboxed int32 slots instead of object fields
 * holding numbers >= 2^31 (which V8 boxes on every update, ~50 ns a draw). Uniforms use one 32-bit
 * word, far more resolution than any simulated detector has.
 */
import type { Rng } from '../../core/rng.js';

const INV_2_32 = 1 / 4294967296;

// Ziggurat tables for the normal density, 128 strips of equal area (Marsaglia & Tsang 2000):
// ZIG_R is the start of the tail, ZIG_V the area of each strip.
const ZIG_R = 3.442619855899;
const ZIG_V = 9.91256303526217e-3;
const ZIG_K = new Float64Array(128);
const ZIG_W = new Float64Array(128);
const ZIG_F = new Float64Array(128);
(function buildZiggurat(): void {
  const m = 2147483648;
  let dn = ZIG_R;
  let tn = dn;
  const q = ZIG_V / Math.exp(-0.5 * dn * dn);
  ZIG_K[0] = Math.floor((dn / q) * m);
  ZIG_K[1] = 0;
  ZIG_W[0] = q / m;
  ZIG_W[127] = dn / m;
  ZIG_F[0] = 1;
  ZIG_F[127] = Math.exp(-0.5 * dn * dn);
  for (let i = 126; i >= 1; i--) {
    dn = Math.sqrt(-2 * Math.log(ZIG_V / dn + Math.exp(-0.5 * dn * dn)));
    ZIG_K[i + 1] = Math.floor((dn / tn) * m);
    tn = dn;
    ZIG_F[i] = Math.exp(-0.5 * dn * dn);
    ZIG_W[i] = dn / m;
  }
})();

/** The four words of `rng` a Sampler starts from: `new Sampler(rng)` equals `new Sampler(samplerSeed(rng))`. */
export function samplerSeed(rng: Rng): Int32Array {
  const w = new Int32Array(4);
  for (let i = 0; i < 4; i++) w[i] = rng.nextU32() | 0;
  return w;
}

export class Sampler {
  private readonly s = new Int32Array(4);

  /** From four words of `rng`, or from four seed words taken earlier (samplerSeed), e.g. by another thread. */
  constructor(seed: Rng | ArrayLike<number>) {
    this.s.set('nextU32' in seed ? samplerSeed(seed) : seed);
    // xoshiro's one forbidden state; splitmix-seeded Rng words make it all but impossible.
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  /** Next 32-bit word as a signed int32 (xoshiro128**, Blackman & Vigna). */
  private next(): number {
    const s = this.s;
    const s0 = s[0], s1 = s[1], s2 = s[2] ^ s0, s3 = s[3] ^ s1;
    const x = Math.imul(s1, 5);
    const r = Math.imul((x << 7) | (x >>> 25), 9);
    s[0] = s0 ^ s3;
    s[1] = s1 ^ s2;
    s[2] = s2 ^ (s1 << 9);
    s[3] = (s3 << 11) | (s3 >>> 21);
    return r;
  }

  /** Uniform in the open interval (0, 1): never 0, so log() is always finite. */
  uniform(): number {
    return ((this.next() >>> 0) + 0.5) * INV_2_32;
  }

  /**
   * Standard normal by the ziggurat method of Marsaglia & Tsang (2000), 128 strips: one 32-bit
   * word and a table compare for ~99% of draws, an exact tail/wedge correction for the rest.
   */
  normal(): number {
    const hz = this.next();
    const iz = hz & 127;
    if (Math.abs(hz) < ZIG_K[iz]) return hz * ZIG_W[iz];
    return this.normalSlow(hz, iz);
  }

  private normalSlow(hz: number, iz: number): number {
    for (;;) {
      const x = hz * ZIG_W[iz];
      if (iz === 0) {
        // Base strip: sample the tail beyond ZIG_R exactly (Marsaglia 1964).
        let tx: number, ty: number;
        do {
          tx = -Math.log(this.uniform()) / ZIG_R;
          ty = -Math.log(this.uniform());
        } while (ty + ty < tx * tx);
        return hz > 0 ? ZIG_R + tx : -ZIG_R - tx;
      }
      if (ZIG_F[iz] + this.uniform() * (ZIG_F[iz - 1] - ZIG_F[iz]) < Math.exp(-0.5 * x * x)) return x;
      hz = this.next();
      iz = hz & 127;
      if (Math.abs(hz) < ZIG_K[iz]) return hz * ZIG_W[iz];
    }
  }

  /** Exponential with mean 1. */
  exponential(): number {
    return -Math.log(this.uniform());
  }

  /** Gamma(shape, 1) by Marsaglia & Tsang (2000); shape < 1 through the u^(1/shape) boost. */
  gamma(shape: number): number {
    if (shape < 1) return this.gamma(shape + 1) * Math.pow(this.uniform(), 1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      const x = this.normal();
      let v = 1 + c * x;
      if (v <= 0) continue;
      v = v * v * v;
      const u = this.uniform();
      const x2 = x * x;
      if (u < 1 - 0.0331 * x2 * x2) return d * v;
      if (Math.log(u) < 0.5 * x2 + d * (1 - v + Math.log(v))) return d * v;
    }
  }

  /** Beta(a, b) as a ratio of gammas. */
  beta(a: number, b: number): number {
    const x = this.gamma(a);
    const y = this.gamma(b);
    return x / (x + y);
  }

  /** Log-normal factor with median 1 and log-space spread `sigma`. */
  lognormal(sigma: number): number {
    return Math.exp(sigma * this.normal());
  }
}
