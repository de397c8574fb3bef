/**
 * Simulated data sets for learning, testing and benchmarking Flux+Mutability without the paper's
 * private data: GlueX-like BCAL showers (photons as reference, neutrons as the complementary class)
 * and LHC-like dijets (QCD as reference, Z' -> t tbar as anomalies). See docs/simulation.md.
 */
import type { Rng } from '../../core/rng.js';
import type { Table } from '../table.js';
import { simulateBcalRaw, type BcalOptions } from './bcal.js';
import { perturbBcal } from './perturb.js';
import { simulateDijet, type DijetOptions } from './dijet.js';

export {
  BCAL_GEOMETRY,
  BCAL_PHYSICS,
  BCAL_RANGES,
  BCAL_CONDITIONS,
  BCAL_FEATURES,
  BCAL_RADIUS,
  BCAL_PRESELECTION,
  simulateShower,
  showerFeatures,
  showerVertexTime,
  passesPreselection,
  allocShowerPoints,
  simulateBcalBlock,
  simulateBcalChunk,
  simulateBcalRaw,
  BCAL_CHUNK_ROWS,
  type BcalOptions,
  type BcalParticle,
  type ShowerPoints,
} from './bcal.js';
export { PERTURB_STRENGTH, perturbValue, perturbColumn, perturbBcal, bcalPerturbSigns } from './perturb.js';
export {
  DIJET_RANGES,
  DIJET_CONDITIONS,
  DIJET_FEATURES,
  DIJET_PHYSICS,
  simulateDijet,
  simulateDijetBlock,
  jetEnergy,
  type DijetOptions,
  type DijetClass,
} from './dijet.js';
export { Sampler, samplerSeed } from './sample.js';
export { simulateBcalParallel, workersAvailable, type ParallelOptions } from './parallel.js';

/**
 * Photon and neutron showers (photons first): columns E, z (conditions), the 14 Appendix A
 * features, radius, class. With `perturb`, the neutrons' features get the Appendix C perturbation.
 */
export function simulateBcal(opts: BcalOptions, rng: Rng): Table {
  const t = simulateBcalRaw(opts, rng);
  return opts.perturb ? perturbBcal(t) : t;
}

/** Short names for `simulate.bcal(...)` / `simulate.dijet(...)` from the package entry point. */
export const bcal = simulateBcal;
export const dijet = (opts: DijetOptions, rng: Rng): Table => simulateDijet(opts, rng);
