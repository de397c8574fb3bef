/**
 * A fast stand-in for the paper's LHC application (sec. 4.2): QCD dijets as the reference class and
 * Z' -> t tbar dijets as anomalies, conditioned on the leading jet's pT. Each event gets two large-
 * radius jets with kinematics that are consistent by construction (E = sqrt(m^2 + (pT cosh eta)^2)
 * >= |p|, back-to-back in phi up to radiation) and substructure (jet mass, N-subjettiness
 * tau1 >= tau2 >= tau3) with the qualitative behaviour of real jets: QCD jets have a falling mass
 * spectrum and large tau2/tau1, tau3/tau2 (one hard prong); top jets peak near the top mass with a
 * small tau3/tau2 (three prongs), with a tail of partially contained tops (W-like, or lighter).
 * Parameters are in DIJET_PHYSICS and docs/simulation.md.
 */
import type { Rng } from '../../core/rng.js';
import type { Table } from '../table.js';
import { stackClassBlocks } from './blocks.js';
import { Sampler } from './sample.js';
import { checkCount } from './bcal.js';

export const DIJET_RANGES = { pT: [450, 800] as const };
export const DIJET_CONDITIONS = ['pT'] as const;
/** The 15 features: leading jet eta, phi, m, E, tau1-3; subleading jet pT, eta, phi, m, E, tau1-3. */
export const DIJET_FEATURES = [
  'j1_eta',
  'j1_phi',
  'j1_m',
  'j1_E',
  'j1_tau1',
  'j1_tau2',
  'j1_tau3',
  'j2_pT',
  'j2_eta',
  'j2_phi',
  'j2_m',
  'j2_E',
  'j2_tau1',
  'j2_tau2',
  'j2_tau3',
] as const;

export const DIJET_PHYSICS = {
  /** QCD leading-jet spectrum dN/dpT ~ pT^-n. */
  qcdSpectrumIndex: 5,
  /** QCD angular distribution: chi = exp(2|y*|) flat in [1, chiMax] (t-channel Rutherford-like). */
  qcdChiMax: 13.5,
  /** Boost of the dijet system: y_b ~ N(0, sigma). */
  boostSigma: 0.7,
  /** Jet acceptance |eta| < etaMax. */
  etaMax: 2.5,
  /** Azimuthal decorrelation: delta phi = pi + N(0, s) * (1 + tail * Exp(1)). */
  dphiSigma: 0.05,
  dphiTailQcd: 1.0,
  dphiTailSignal: 0.5,
  /** Subleading/leading pT balance: x = 1 - loss * Exp(1) - |N(0, spread)|. */
  balanceLossQcd: 0.05,
  balanceLossSignal: 0.04,
  balanceSpread: 0.03,
  /** QCD jet mass m = pT * massScale * Gamma(massShape): mode 0.045 pT, a falling tail. */
  qcdMassShape: 2,
  qcdMassScale: 0.045,
  /** Z' mass and width (GeV); top mass (GeV) and jet mass resolution of a contained top. */
  zPrimeMass: 1500,
  zPrimeWidth: 60,
  topMass: 172.5,
  topJetMassSigma: 12,
  /** Fractions of top jets reconstructed as a W (b outside the jet) or as a lighter partial jet. */
  wLikeFraction: 0.15,
  partialFraction: 0.12,
  wMass: 80.4,
  wJetMassSigma: 9,
  /** N-subjettiness ratios as Beta(a, b): QCD, contained top, W-like jet. */
  tau21Qcd: [7, 3] as const,
  tau32Qcd: [8, 2.8] as const,
  tau21Top: [6, 4.5] as const,
  tau32Top: [5.5, 5.5] as const,
  tau21W: [3.5, 5] as const,
  tau32W: [7, 3.5] as const,
  /** tau1 = (m / pT) * lognormal(median tau1Scale, log-spread tau1Spread), capped at 1. */
  tau1Scale: 1.2,
  tau1Spread: 0.25,
} as const;

export type DijetClass = 'qcd' | 'signal';

export interface DijetBlock {
  pT: Float64Array;
  /** Row-major, 15 values per row in DIJET_FEATURES order. */
  features: Float64Array;
}

const NF = DIJET_FEATURES.length;

function wrapPhi(x: number): number {
  if (x > Math.PI) return x - 2 * Math.PI;
  if (x <= -Math.PI) return x + 2 * Math.PI;
  return x;
}

/** Jet mass and the three tau_N of one jet; writes [m, tau1, tau2, tau3] to out. */
function jetSubstructure(cls: DijetClass, pT: number, s: Sampler, out: Float64Array): void {
  const P = DIJET_PHYSICS;
  let m: number;
  let r21: readonly [number, number];
  let r32: readonly [number, number];
  const qcdMass = (): number => Math.max(2, pT * P.qcdMassScale * s.gamma(P.qcdMassShape));
  if (cls === 'qcd') {
    m = qcdMass();
    r21 = P.tau21Qcd;
    r32 = P.tau32Qcd;
  } else {
    const u = s.uniform();
    if (u < P.wLikeFraction) {
      m = Math.max(10, P.wMass + P.wJetMassSigma * s.normal());
      r21 = P.tau21W;
      r32 = P.tau32W;
    } else if (u < P.wLikeFraction + P.partialFraction) {
      // A top whose decay products mostly fell outside the jet: QCD-like substructure.
      m = qcdMass();
      r21 = P.tau21Qcd;
      r32 = P.tau32Qcd;
    } else {
      m = Math.max(10, P.topMass + P.topJetMassSigma * s.normal());
      r21 = P.tau21Top;
      r32 = P.tau32Top;
    }
  }
  const tau1 = Math.min(1, (m / pT) * P.tau1Scale * s.lognormal(P.tau1Spread));
  const tau2 = tau1 * s.beta(r21[0], r21[1]);
  const tau3 = tau2 * s.beta(r32[0], r32[1]);
  out[0] = m;
  out[1] = tau1;
  out[2] = tau2;
  out[3] = tau3;
}

/**
 * Draws the leading-jet pT and the dijet rapidities (eta1, eta2) of one event of class `cls`;
 * returns false when the event falls outside the pT range or the acceptance (the caller redraws).
 */
function dijetKinematics(cls: DijetClass, s: Sampler, out: Float64Array): boolean {
  const P = DIJET_PHYSICS;
  const [lo, hi] = DIJET_RANGES.pT;
  let pT: number;
  let ystar: number;
  if (cls === 'qcd') {
    // Inverse CDF of pT^-n on [lo, hi].
    const k = 1 - P.qcdSpectrumIndex;
    const a = Math.pow(lo, k);
    const b = Math.pow(hi, k);
    pT = Math.pow(a + s.uniform() * (b - a), 1 / k);
    const chi = 1 + (P.qcdChiMax - 1) * s.uniform();
    ystar = 0.5 * Math.log(chi);
  } else {
    // Z' -> t tbar: Breit-Wigner-ish (Gaussian) mass, 1 + cos^2 theta* decay angle.
    const M = P.zPrimeMass + P.zPrimeWidth * s.normal();
    let c: number;
    do {
      c = 2 * s.uniform() - 1;
    } while (2 * s.uniform() > 1 + c * c);
    const pStar2 = (M / 2) ** 2 - P.topMass ** 2;
    if (pStar2 <= 0) return false;
    pT = Math.sqrt(pStar2 * (1 - c * c));
    ystar = Math.atanh(c * Math.sqrt(pStar2) / Math.sqrt(pStar2 + P.topMass ** 2));
    if (pT < lo || pT > hi) return false;
  }
  if (s.uniform() < 0.5) ystar = -ystar;
  const yb = P.boostSigma * s.normal();
  const eta1 = yb + ystar;
  const eta2 = yb - ystar;
  if (Math.abs(eta1) > P.etaMax || Math.abs(eta2) > P.etaMax) return false;
  out[0] = pT;
  out[1] = eta1;
  out[2] = eta2;
  return true;
}

/** `count` dijet events of one class, leading-jet pT in DIJET_RANGES. */
export function simulateDijetBlock(cls: DijetClass, count: number, rng: Rng): DijetBlock {
  checkCount(count, cls === 'qcd' ? 'qcd' : 'signal');
  const P = DIJET_PHYSICS;
  const s = new Sampler(rng);
  const pTs = new Float64Array(count);
  const features = new Float64Array(count * NF);
  const kin = new Float64Array(3);
  const sub = new Float64Array(4);
  const tail = cls === 'qcd' ? P.dphiTailQcd : P.dphiTailSignal;
  const loss = cls === 'qcd' ? P.balanceLossQcd : P.balanceLossSignal;
  for (let k = 0; k < count; k++) {
    let tries = 0;
    while (!dijetKinematics(cls, s, kin)) {
      if (++tries > 10000) throw new Error(`simulateDijetBlock: no ${cls} event in the pT range after ${tries} tries`);
    }
    const pT1 = kin[0];
    const x = Math.max(0.3, 1 - loss * s.exponential() - Math.abs(P.balanceSpread * s.normal()));
    const pT2 = pT1 * x;
    const phi1 = Math.PI * (2 * s.uniform() - 1);
    const dphi = P.dphiSigma * s.normal() * (1 + tail * s.exponential());
    const phi2 = wrapPhi(wrapPhi(phi1 + Math.PI) + dphi);
    const o = k * NF;
    pTs[k] = pT1;
    jetSubstructure(cls, pT1, s, sub);
    features[o + 0] = kin[1];
    features[o + 1] = phi1;
    features[o + 2] = sub[0];
    features[o + 3] = jetEnergy(pT1, kin[1], sub[0]);
    features[o + 4] = sub[1];
    features[o + 5] = sub[2];
    features[o + 6] = sub[3];
    jetSubstructure(cls, pT2, s, sub);
    features[o + 7] = pT2;
    features[o + 8] = kin[2];
    features[o + 9] = phi2;
    features[o + 10] = sub[0];
    features[o + 11] = jetEnergy(pT2, kin[2], sub[0]);
    features[o + 12] = sub[1];
    features[o + 13] = sub[2];
    features[o + 14] = sub[3];
  }
  return { pT: pTs, features };
}

/** E of a jet with transverse momentum pT, pseudorapidity eta and mass m: sqrt(m^2 + |p|^2). */
export function jetEnergy(pT: number, eta: number, m: number): number {
  const p = pT * Math.cosh(eta);
  return Math.sqrt(m * m + p * p);
}

export interface DijetOptions {
  qcd: number;
  signal: number;
}

/** QCD then signal events as a Table: pT, the 15 features, class ('qcd' | 'signal'). */
export function simulateDijet(opts: DijetOptions, rng: Rng): Table {
  const rq = rng.fork();
  const rs = rng.fork();
  const q = simulateDijetBlock('qcd', opts.qcd, rq);
  const g = simulateDijetBlock('signal', opts.signal, rs);
  return stackClassBlocks(
    { label: 'qcd', rows: opts.qcd, scalars: [q.pT], features: q.features },
    { label: 'signal', rows: opts.signal, scalars: [g.pT], features: g.features },
    ['pT'], DIJET_FEATURES, '<simulate dijet>',
  );
}
