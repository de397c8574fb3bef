/**
 * A fast, parametrised stand-in for Geant4 showers of photons and neutrons in the GlueX barrel
 * calorimeter (BCAL), the reference/complementary pair of the paper's one-class problem
 * (Fanelli, Giroux, Papandreou 2022, sec. 4.1 and Appendix A). Each shower is a small set of
 * energy-weighted points (layer, r, z, t, theta, phi, energy); the 14 features are computed from
 * those points exactly as docs/simulation.md defines them, and the paper's preselection is applied.
 *
 * Coordinates: z along the beam, measured from the BCAL's upstream edge (the target centre sits at
 * z = 65 cm); r is the distance from the beam line; times in ns; energies in GeV; angles in rad.
 */
import type { Rng } from '../../core/rng.js';
import type { Table } from '../table.js';
import { stackClassBlocks } from './blocks.js';
import { Sampler, samplerSeed } from './sample.js';

/** Geometry and material of the simulated barrel calorimeter (see docs/simulation.md). */
export const BCAL_GEOMETRY = {
  /** Inner radius of the fibre volume (cm). */
  innerRadius: 64.3,
  /** Outer radius of the fibre volume (cm). */
  outerRadius: 86.17,
  /** Radial edges of the four readout layers (cm): thicknesses in the ratio 1:2:3:4. */
  layerEdges: [64.3, 66.487, 70.861, 77.422, 86.17] as readonly number[],
  /** Length along z (cm); the upstream edge is z = 0. */
  length: 390,
  /** Target centre (cm from the upstream edge) and half-length of the 30 cm target. */
  targetZ: 65,
  targetHalfLength: 15,
} as const;

/** Shower-physics parameters of the model (see docs/simulation.md for their meaning and sources). */
export const BCAL_PHYSICS = {
  /** Effective radiation length of the Pb/scintillating-fibre matrix (cm). */
  radiationLength: 1.45,
  /** Effective critical energy (GeV). */
  criticalEnergy: 0.011,
  /** Moliere radius (cm). */
  moliereRadius: 3.6,
  /** Nuclear interaction length (cm): depth scale of the first hadronic interaction. */
  interactionLength: 30,
  /** Gamma-profile slope b (per X0) of electromagnetic showers (Longo-Sestili / PDG). */
  emSlope: 0.5,
  /** Shower-to-shower log-spread of the profile shape a and slope b. */
  emShapeSpread: 0.12,
  emSlopeSpread: 0.08,
  /** Fraction of em points in the narrow core; core and halo widths in Moliere radii. */
  emCoreFraction: 0.8,
  emCoreWidth: 0.22,
  emHaloWidth: 0.8,
  /** Log-spread of point energies: sampling fluctuations of em and of hadronic deposits. */
  emPointSpread: 0.35,
  hadPointSpread: 0.9,
  /** Visible fraction of a neutron's kinetic energy: 0.08 + 0.62 * Beta(1.8, 2.6). */
  visibleFraction: { offset: 0.08, scale: 0.62, a: 1.8, b: 2.6 },
  /** Electromagnetic (pi0) share of a neutron's visible energy: Beta(1.2, 2.0). */
  emShare: { a: 1.6, b: 1.4 },
  /** Hadronic deposits: depth beyond the first interaction ~ depthScale * Gamma(depthShape) (cm). */
  hadDepthShape: 1.5,
  hadDepthScale: 6,
  /** Hadronic transverse spread (cm), multiplied per point by (0.3 + Exp(1)) for long tails. */
  hadWidth: 2.5,
  /** Angular spread (rad) of a neutron's em sub-shower axis about the neutron direction. */
  subShowerAngle: 0.3,
  /** Probability and mean (ns) of a delayed hadronic deposit (slow nucleons, de-excitation). */
  hadDelayProb: 0.2,
  hadDelayMean: 1.0,
  /** Speed (in c) of the slow hadronic component that carries energy through the shower. */
  hadSpeed: 0.7,
  /** Point time resolution (ns): timeConst + timeStoch / sqrt(e / GeV). */
  timeConst: 0.15,
  timeStoch: 0.08,
  /** Point z resolution (cm) from the up/down-stream time difference: zStoch / sqrt(e / GeV), capped. */
  zStoch: 0.5,
  zResMax: 8,
  /** Deposits below this energy (GeV) are not read out. */
  pointThreshold: 0.001,
  /** Neutron mass (GeV). */
  neutronMass: 0.93957,
} as const;

/** Ranges of the two conditions, drawn flat. */
export const BCAL_RANGES = { E: [0.2, 2.2] as const, z: [162, 262] as const };

export const BCAL_CONDITIONS = ['E', 'z'] as const;
/** The 14 features of the paper's Appendix A, in its order. */
export const BCAL_FEATURES = [
  'L1_E',
  'L2_E',
  'L3_E',
  'L4_E',
  'L1_frac',
  'L2_frac',
  'L3_frac',
  'L4_frac',
  'width_z',
  'width_r',
  'width_t',
  'width_theta',
  'width_phi',
  'z_entry',
] as const;
/** Energy-weighted mean radius: used by the preselection, not one of the 14 features. */
export const BCAL_RADIUS = 'radius';

/** Preselection of the paper plus our loose fiducial cuts. */
export const BCAL_PRESELECTION = {
  /** Layer-4 energy must stay below this (GeV). */
  maxLayer4Energy: 0.1,
  /** The shower radius must lie within the first three layers: below layerEdges[3]. */
  maxRadius: BCAL_GEOMETRY.layerEdges[3],
  /** Fiducial: z-entry inside the barrel, away from its ends (cm). */
  zEntryRange: [10, 380] as const,
  /** Fiducial: at least this many read-out points. */
  minPoints: 2,
} as const;

export type BcalParticle = 'photon' | 'neutron';

const C_LIGHT = 29.9792458; // cm/ns
const MAX_POINTS = 64;

/** Reusable buffers for one shower's points. `n` is the number of read-out points. */
export interface ShowerPoints {
  n: number;
  layer: Int32Array;
  r: Float64Array;
  z: Float64Array;
  t: Float64Array;
  theta: Float64Array;
  phi: Float64Array;
  e: Float64Array;
  /** The shower's azimuth (the particle's phi), the reference for wrapped phi differences. */
  phi0: number;
  /** Scratch space of the simulation (local shower coordinates). */
  readonly work: { depth: Float64Array; u: Float64Array; v: Float64Array; t: Float64Array; w: Float64Array; em: Uint8Array };
}

export function allocShowerPoints(capacity = MAX_POINTS): ShowerPoints {
  return {
    n: 0,
    layer: new Int32Array(capacity),
    r: new Float64Array(capacity),
    z: new Float64Array(capacity),
    t: new Float64Array(capacity),
    theta: new Float64Array(capacity),
    phi: new Float64Array(capacity),
    e: new Float64Array(capacity),
    phi0: 0,
    work: {
      depth: new Float64Array(capacity),
      u: new Float64Array(capacity),
      v: new Float64Array(capacity),
      t: new Float64Array(capacity),
      w: new Float64Array(capacity),
      em: new Uint8Array(capacity),
    },
  };
}

/** Number of points simulated for a shower of energy E: more hits at higher energy, as in data. */
export function pointsFor(E: number): number {
  return Math.min(MAX_POINTS, 10 + Math.round(12 * E));
}

/**
 * Simulates one shower whose reconstructed energy is E (GeV) and whose energy-weighted z is zc (cm),
 * writing its read-out points into `out` (out.n = 0 when nothing was read out).
 */
export function simulateShower(particle: BcalParticle, E: number, zc: number, s: Sampler, out: ShowerPoints): void {
  simulateShowerPreselected(particle, E, zc, s, out, false);
}

/**
 * As simulateShower; with `preselect`, stops as soon as the radius, layer-4 energy and z-entry
 * (known once the radial positions are) fail the preselection, returning false (out.n is then
 * meaningless). Rejected showers skip the costlier z/t/angle smearing.
 */
export function simulateShowerPreselected(
  particle: BcalParticle,
  E: number,
  zc: number,
  s: Sampler,
  out: ShowerPoints,
  preselect: boolean,
): boolean {
  const G = BCAL_GEOMETRY;
  const P = BCAL_PHYSICS;
  const K = pointsFor(E);
  const zv = G.targetZ + (2 * s.uniform() - 1) * G.targetHalfLength;
  // Aim at the requested z at the class's mean radial depth of the shower centroid; the whole
  // shower is then shifted to put its centroid at z = zc, which amounts to moving the vertex by a
  // few cm (zero on average, so times projected back to the target stay unbiased).
  const depthGuess = particle === 'photon' ? 4.4 : 6.3;
  const theta = Math.atan2(G.innerRadius + depthGuess, zc - zv);
  const sinT = Math.sin(theta);
  const cosT = Math.cos(theta);
  const zEntry = zv + (G.innerRadius * cosT) / sinT;
  const flight = G.innerRadius / sinT;
  const phi0 = 2 * Math.PI * s.uniform();
  out.phi0 = phi0;

  // Local shower coordinates: depth along the path from the inner face, in-plane (r-z) and
  // out-of-plane transverse offsets, time, and a raw energy weight.
  const { depth: dep, u: uu, v: vv, t: tt, w: ww, em: isEm } = out.work;

  const X0 = P.radiationLength;
  const RM = P.moliereRadius;
  if (particle === 'photon') {
    // Longitudinal gamma profile, PDG eq. (34.36): t_max = ln(E/Ec) + 0.5 for photons, a = b t_max + 1.
    const tmax = Math.log(E / P.criticalEnergy) + 0.5;
    const b = P.emSlope * s.lognormal(P.emSlopeSpread);
    const a = (P.emSlope * tmax + 1) * s.lognormal(P.emShapeSpread);
    const t0 = flight / C_LIGHT;
    for (let i = 0; i < K; i++) {
      const d = (X0 * s.gamma(a)) / b;
      const w = (s.uniform() < P.emCoreFraction ? P.emCoreWidth : P.emHaloWidth) * RM;
      dep[i] = d;
      uu[i] = w * s.normal();
      vv[i] = w * s.normal();
      tt[i] = t0 + d / C_LIGHT;
      ww[i] = s.lognormal(P.emPointSpread);
      isEm[i] = 1;
    }
    normaliseShare(ww, isEm, K, E, 1, E);
  } else {
    const vf = P.visibleFraction;
    const fvis = vf.offset + vf.scale * s.beta(vf.a, vf.b);
    const T = E / fvis;
    const Etot = T + P.neutronMass;
    const beta = Math.sqrt(1 - (P.neutronMass / Etot) ** 2);
    // First interaction: exponential along the path, truncated at the depth where the shower
    // radius leaves the first three layers. Deeper starts fail the preselection anyway, so drawing
    // them would only cost time; the accepted showers keep the same distribution.
    const sMax = (BCAL_PRESELECTION.maxRadius - G.innerRadius) / sinT;
    const s0 = truncatedExponential(s, P.interactionLength, sMax);
    const fem = s.beta(P.emShare.a, P.emShare.b);
    const tInt = (flight + s0) / (beta * C_LIGHT);
    const Eem = Math.max(fem * E, 2 * P.criticalEnergy);
    const tmax = Math.log(Eem / P.criticalEnergy) + 0.5;
    const b = P.emSlope * s.lognormal(P.emSlopeSpread);
    const a = (P.emSlope * tmax + 1) * s.lognormal(P.emShapeSpread);
    const du = P.subShowerAngle * s.normal();
    const dv = P.subShowerAngle * s.normal();
    // The em share of the points follows fem (stochastic rounding keeps the mean exact).
    const kEm = Math.min(K, Math.floor(fem * K + s.uniform()));
    for (let i = 0; i < K; i++) {
      if (i < kEm) {
        const d = (X0 * s.gamma(a)) / b;
        const w = (s.uniform() < P.emCoreFraction ? P.emCoreWidth : P.emHaloWidth) * RM;
        dep[i] = s0 + d;
        uu[i] = d * du + w * s.normal();
        vv[i] = d * dv + w * s.normal();
        tt[i] = tInt + d / C_LIGHT;
        ww[i] = s.lognormal(P.emPointSpread);
        isEm[i] = 1;
      } else {
        const d = P.hadDepthScale * s.gamma(P.hadDepthShape);
        const w = P.hadWidth * (0.3 + s.exponential());
        dep[i] = s0 + d;
        uu[i] = w * s.normal();
        vv[i] = w * s.normal();
        let t = tInt + d / (P.hadSpeed * C_LIGHT);
        if (s.uniform() < P.hadDelayProb) t += P.hadDelayMean * s.exponential();
        tt[i] = t;
        ww[i] = s.lognormal(P.hadPointSpread);
        isEm[i] = 0;
      }
    }
    normaliseShare(ww, isEm, K, fem * E, (1 - fem) * E, E);
  }

  // Radial positions first, dropping leakage and sub-threshold deposits; the work arrays are
  // compacted in place (index n <= i has already been read).
  const edges = G.layerEdges;
  let n = 0;
  let sumE = 0;
  let sumEr = 0;
  let e4 = 0;
  for (let i = 0; i < K; i++) {
    const d = dep[i];
    const u = uu[i];
    const v = vv[i];
    const rAxis = G.innerRadius + d * sinT + u * cosT;
    let r = Math.sqrt(rAxis * rAxis + v * v);
    // Energy "behind" the inner face is deposited in the first fibres it crosses.
    if (r < G.innerRadius) r = 2 * G.innerRadius - r;
    const e = ww[i];
    if (r >= G.outerRadius || e < P.pointThreshold) continue;
    let layer = 1;
    while (layer < 4 && r >= edges[layer]) layer++;
    out.layer[n] = layer;
    out.r[n] = r;
    out.e[n] = e;
    dep[n] = d;
    uu[n] = u;
    vv[n] = v;
    ww[n] = rAxis; // the weight was copied to out.e; its slot keeps rAxis for phi below
    tt[n] = tt[i];
    sumE += e;
    sumEr += e * r;
    if (layer === 4) e4 += e;
    n++;
  }
  out.n = n;
  if (n === 0) return false;
  if (preselect) {
    const S = BCAL_PRESELECTION;
    const rbar = sumEr / sumE;
    const zEntryReco = G.targetZ + ((zc - G.targetZ) * G.innerRadius) / rbar;
    if (n < S.minPoints || e4 >= S.maxLayer4Energy || rbar >= S.maxRadius) return false;
    if (zEntryReco < S.zEntryRange[0] || zEntryReco > S.zEntryRange[1]) return false;
  }
  let sumEz = 0;
  for (let i = 0; i < n; i++) {
    const e = out.e[i];
    const eSafe = Math.max(e, 1e-6);
    const zRes = Math.min(P.zStoch / Math.sqrt(eSafe), P.zResMax);
    const z = zEntry + dep[i] * cosT - uu[i] * sinT + zRes * s.normal();
    out.z[i] = z;
    out.t[i] = tt[i] + (P.timeConst + P.timeStoch / Math.sqrt(eSafe)) * s.normal();
    out.phi[i] = phi0 + Math.atan2(vv[i], ww[i]);
    sumEz += e * z;
  }
  const shift = zc - sumEz / sumE;
  for (let i = 0; i < n; i++) {
    const z = out.z[i] + shift;
    out.z[i] = z;
    out.theta[i] = Math.atan2(out.r[i], z - G.targetZ);
  }
  return true;
}

/** Exponential with mean `mean` conditioned on being below `max` (inverse CDF). */
function truncatedExponential(s: Sampler, mean: number, max: number): number {
  const pMax = -Math.expm1(-max / mean);
  return -mean * Math.log1p(-pMax * s.uniform());
}

/**
 * Scales the em points' weights to sum to `emE` and the hadronic points' to `hadE`. When one
 * component drew no points its energy goes to the other, so the shower always carries `total`.
 */
function normaliseShare(w: Float64Array, isEm: Uint8Array, K: number, emE: number, hadE: number, total: number): void {
  let se = 0;
  let sh = 0;
  for (let i = 0; i < K; i++) {
    if (isEm[i] === 1) se += w[i];
    else sh += w[i];
  }
  const fe = se > 0 ? (sh > 0 ? emE / se : total / se) : 0;
  const fh = sh > 0 ? (se > 0 ? hadE / sh : total / sh) : 0;
  for (let i = 0; i < K; i++) w[i] *= isEm[i] === 1 ? fe : fh;
}

/** Number of values `showerFeatures` writes: the 14 features, then the radius. */
export const BCAL_FEATURE_COUNT = 15;

/**
 * The 14 features of Appendix A and the shower radius from a shower's points (definitions in
 * docs/simulation.md): layer energies E_k = sum of e_i in layer k; fractions E_k / sum_k E_k;
 * widths sqrt(sum e_i (x_i - xbar)^2 / sum e_i) with xbar the energy-weighted mean (phi
 * differences wrapped to (-pi, pi]); z-entry where the line from the target centre through the
 * energy-weighted centroid (rbar, zbar) crosses the inner radius; radius = rbar.
 * `out` receives [L1_E..L4_E, L1_frac..L4_frac, width_z, width_r, width_t, width_theta, width_phi,
 * z_entry, radius]. Requires pts.n >= 1.
 */
export function showerFeatures(pts: ShowerPoints, out: Float64Array): void {
  let E1 = 0, E2 = 0, E3 = 0, E4 = 0;
  let sz = 0, sr = 0, st = 0, sth = 0, sph = 0;
  const n = pts.n;
  const phi0 = pts.phi0;
  for (let i = 0; i < n; i++) {
    const e = pts.e[i];
    const l = pts.layer[i];
    if (l === 1) E1 += e;
    else if (l === 2) E2 += e;
    else if (l === 3) E3 += e;
    else E4 += e;
    sz += e * pts.z[i];
    sr += e * pts.r[i];
    st += e * pts.t[i];
    sth += e * pts.theta[i];
    sph += e * wrapAngle(pts.phi[i] - phi0);
  }
  const tot = E1 + E2 + E3 + E4;
  const mz = sz / tot, mr = sr / tot, mt = st / tot, mth = sth / tot, mph = sph / tot;
  let vz = 0, vr = 0, vt = 0, vth = 0, vph = 0;
  for (let i = 0; i < n; i++) {
    const e = pts.e[i];
    const dz = pts.z[i] - mz;
    const dr = pts.r[i] - mr;
    const dt = pts.t[i] - mt;
    const dth = pts.theta[i] - mth;
    const dph = wrapAngle(pts.phi[i] - phi0) - mph;
    vz += e * dz * dz;
    vr += e * dr * dr;
    vt += e * dt * dt;
    vth += e * dth * dth;
    vph += e * dph * dph;
  }
  const G = BCAL_GEOMETRY;
  out[0] = E1;
  out[1] = E2;
  out[2] = E3;
  out[3] = E4;
  out[4] = E1 / tot;
  out[5] = E2 / tot;
  out[6] = E3 / tot;
  out[7] = E4 / tot;
  out[8] = Math.sqrt(vz / tot);
  out[9] = Math.sqrt(vr / tot);
  out[10] = Math.sqrt(vt / tot);
  out[11] = Math.sqrt(vth / tot);
  out[12] = Math.sqrt(vph / tot);
  out[13] = G.targetZ + ((mz - G.targetZ) * G.innerRadius) / mr;
  out[14] = mr;
}

/** x wrapped to (-pi, pi]; point phis lie within pi of the shower's phi0, so one step suffices. */
function wrapAngle(x: number): number {
  if (x > Math.PI) return x - 2 * Math.PI;
  if (x <= -Math.PI) return x + 2 * Math.PI;
  return x;
}

/**
 * The shower's time projected back to the target centre at the speed of light: the energy-weighted
 * mean of t_i - |x_i - target| / c. About 0 for a photon from the target; later for a slower
 * particle. Not one of the 14 features (the paper uses only the time width).
 */
export function showerVertexTime(pts: ShowerPoints): number {
  const zT = BCAL_GEOMETRY.targetZ;
  let se = 0;
  let st = 0;
  for (let i = 0; i < pts.n; i++) {
    const dz = pts.z[i] - zT;
    const path = Math.sqrt(pts.r[i] * pts.r[i] + dz * dz);
    se += pts.e[i];
    st += pts.e[i] * (pts.t[i] - path / C_LIGHT);
  }
  return st / se;
}

/** Whether a feature vector (as written by showerFeatures) passes the preselection and fiducial cuts. */
export function passesPreselection(f: Float64Array, nPoints: number): boolean {
  const S = BCAL_PRESELECTION;
  return (
    nPoints >= S.minPoints &&
    f[3] < S.maxLayer4Energy &&
    f[14] < S.maxRadius &&
    f[13] >= S.zEntryRange[0] &&
    f[13] <= S.zEntryRange[1]
  );
}

export interface BcalOptions {
  photons: number;
  neutrons: number;
  /** Apply the Appendix C perturbation to the neutrons (see perturb.ts). */
  perturb?: boolean;
}

/** Raw simulated block of one class: conditions, 14 features + radius, and the acceptance. */
export interface BcalBlock {
  E: Float64Array;
  z: Float64Array;
  /** Row-major, BCAL_FEATURE_COUNT values per row. */
  features: Float64Array;
  /** Showers simulated to get these rows (the rest failed preselection). */
  attempts: number;
}

/**
 * Rows per chunk of a simulated block. A block of more rows is simulated chunk by chunk, each
 * from its own seed (the first from the block's generator, the others from forks of it), so that
 * the chunks can run on several threads (parallel.ts) and give the same rows as one thread.
 */
export const BCAL_CHUNK_ROWS = 32768;

/** The rows and Sampler seed of each chunk of a block of `count` rows (see BCAL_CHUNK_ROWS). */
export function chunkPlan(count: number, rng: Rng): { rows: number; seed: Int32Array }[] {
  const plan = [{ rows: Math.min(count, BCAL_CHUNK_ROWS), seed: samplerSeed(rng) }];
  for (let done = plan[0].rows; done < count; done += BCAL_CHUNK_ROWS) {
    plan.push({ rows: Math.min(BCAL_CHUNK_ROWS, count - done), seed: samplerSeed(rng.fork()) });
  }
  return plan;
}

/**
 * Simulates `count` preselected showers of one particle type. Each row's conditions (E, z) are drawn
 * flat in BCAL_RANGES first, then showers are simulated at those conditions until one passes the
 * preselection: the accepted rows stay flat in E and z, and their features follow the preselected
 * distribution at each (E, z), whatever the acceptance (photons ~95%, neutrons 25-75% with E).
 */
export function simulateBcalBlock(particle: BcalParticle, count: number, rng: Rng): BcalBlock {
  checkCount(count, particle === 'photon' ? 'photons' : 'neutrons');
  return concatBlocks(chunkPlan(count, rng).map((c) => simulateBcalChunk(particle, c.rows, c.seed)));
}

/** One chunk of a block: `count` preselected showers from a Sampler with these seed words. */
export function simulateBcalChunk(particle: BcalParticle, count: number, seed: ArrayLike<number>): BcalBlock {
  const s = new Sampler(seed);
  const pts = allocShowerPoints();
  const f = new Float64Array(BCAL_FEATURE_COUNT);
  const E = new Float64Array(count);
  const z = new Float64Array(count);
  const features = new Float64Array(count * BCAL_FEATURE_COUNT);
  const [e0, e1] = BCAL_RANGES.E;
  const [z0, z1] = BCAL_RANGES.z;
  // The acceptance never falls below ~20% anywhere in (E, z); the cap only guards a broken model.
  const maxTries = 1000;
  let attempts = 0;
  for (let k = 0; k < count; k++) {
    const En = e0 + (e1 - e0) * s.uniform();
    const zn = z0 + (z1 - z0) * s.uniform();
    for (let tries = 1; ; tries++) {
      if (tries > maxTries) {
        throw new Error(`simulateBcalBlock: no ${particle} shower at E=${En}, z=${zn} passed preselection in ${maxTries} tries`);
      }
      attempts++;
      if (!simulateShowerPreselected(particle, En, zn, s, pts, true)) continue;
      showerFeatures(pts, f);
      if (passesPreselection(f, pts.n)) break;
    }
    E[k] = En;
    z[k] = zn;
    features.set(f, k * BCAL_FEATURE_COUNT);
  }
  return { E, z, features, attempts };
}

/** The chunks of a block, in order, as one block. */
export function concatBlocks(chunks: BcalBlock[]): BcalBlock {
  if (chunks.length === 1) return chunks[0];
  const n = chunks.reduce((a, c) => a + c.E.length, 0);
  const out: BcalBlock = { E: new Float64Array(n), z: new Float64Array(n), features: new Float64Array(n * BCAL_FEATURE_COUNT), attempts: 0 };
  let at = 0;
  for (const c of chunks) {
    out.E.set(c.E, at);
    out.z.set(c.z, at);
    out.features.set(c.features, at * BCAL_FEATURE_COUNT);
    out.attempts += c.attempts;
    at += c.E.length;
  }
  return out;
}

/**
 * Photons then neutrons, as a Table with columns E, z, the 14 features, radius and class
 * ('photon' | 'neutron'). Photons and neutrons draw from independent forks of `rng`, so the photon
 * rows do not depend on how many neutrons are asked for.
 */
export function simulateBcalRaw(opts: BcalOptions, rng: Rng): Table {
  const jobs = bcalChunkJobs(opts, rng);
  return bcalTableOfChunks(jobs, jobs.map((j) => simulateBcalChunk(j.particle, j.rows, j.seed)));
}

/** One chunk to simulate: what simulateBcalChunk takes, in a form a worker thread can be sent. */
export interface BcalChunkJob {
  particle: BcalParticle;
  rows: number;
  seed: Int32Array;
}

/**
 * The chunks of a BCAL sample, in table order, using the generator as the table is defined: one
 * fork per particle, then each block's chunk plan. Running them anywhere (this thread or worker
 * threads, parallel.ts) and passing the blocks to bcalTableOfChunks gives the same table.
 */
export function bcalChunkJobs(opts: BcalOptions, rng: Rng): BcalChunkJob[] {
  checkCount(opts.photons, 'photons');
  checkCount(opts.neutrons, 'neutrons');
  const rp = rng.fork();
  const rn = rng.fork();
  return [
    ...chunkPlan(opts.photons, rp).map((c) => ({ particle: 'photon' as const, ...c })),
    ...chunkPlan(opts.neutrons, rn).map((c) => ({ particle: 'neutron' as const, ...c })),
  ];
}

/** The table of simulateBcalRaw from the blocks of its chunk jobs (blocks[i] from jobs[i]). */
export function bcalTableOfChunks(jobs: BcalChunkJob[], blocks: BcalBlock[]): Table {
  const of = (particle: BcalParticle): BcalBlock => concatBlocks(blocks.filter((_, i) => jobs[i].particle === particle));
  const ph = of('photon');
  const ne = of('neutron');
  return stackClassBlocks(
    { label: 'photon', rows: ph.E.length, scalars: [ph.E, ph.z], features: ph.features },
    { label: 'neutron', rows: ne.E.length, scalars: [ne.E, ne.z], features: ne.features },
    ['E', 'z'], [...BCAL_FEATURES, BCAL_RADIUS], '<simulate bcal>',
  );
}

export function checkCount(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`${what} must be a non-negative integer, got ${n}`);
  }
}
