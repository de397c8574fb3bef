/**
 * Appendix C of the paper: a mis-modelled complementary class, emulated by pushing each feature of
 * the neutrons toward the photons with
 *     x' = x + S * P * (x - x_min)(x_max - x) / (x_max - x_min)^2,   P = 10%.
 * The formula is dimensionless, so it is applied in min-max-normalised units u = (x - x_min) /
 * (x_max - x_min): u' = u + S P u (1 - u), i.e. the raw shift is the formula times the feature's
 * range. Taken literally in raw units it would move a feature whose range is, say, 0.01 by at most
 * 0.025% of that range. The shift vanishes at x_min and x_max, so the perturbed values stay in
 * [x_min, x_max]. S = sign(photon mean - neutron mean) per feature, as the paper intends ("make
 * them highly resemble photons"). The shower radius is left alone so the preselection still holds.
 */
import type { Column, Table } from '../table.js';
import { Rng } from '../../core/rng.js';
import { BCAL_FEATURES, simulateBcalRaw } from './bcal.js';

/** The paper's perturbation strength. */
export const PERTURB_STRENGTH = 0.1;

/** One value through the Appendix C formula, in normalised units (see the file comment). */
export function perturbValue(x: number, min: number, max: number, sign: number, strength = PERTURB_STRENGTH): number {
  const range = max - min;
  if (!(range > 0)) return x;
  return x + (sign * strength * (x - min) * (max - x)) / range;
}

/**
 * Perturbs `values[i]` for the rows with `mask[i] = 1`; x_min and x_max are taken over those rows.
 * Returns a new array; the other rows are copied unchanged.
 */
export function perturbColumn(
  values: Float64Array,
  mask: Uint8Array,
  sign: number,
  strength = PERTURB_STRENGTH,
): Float64Array {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (mask[i] !== 1) continue;
    if (values[i] < min) min = values[i];
    if (values[i] > max) max = values[i];
  }
  const out = Float64Array.from(values);
  for (let i = 0; i < values.length; i++) {
    if (mask[i] === 1) out[i] = perturbValue(values[i], min, max, sign, strength);
  }
  return out;
}

let cachedSigns: Record<string, number> | undefined;

/**
 * S per BCAL feature: the sign of (photon mean - neutron mean) on a fixed calibration sample of the
 * simulator (seed 20220419, 4000 showers of each), so that the perturbation of a given neutron does
 * not depend on how many photons the user happened to simulate.
 */
export function bcalPerturbSigns(): Record<string, number> {
  if (cachedSigns !== undefined) return cachedSigns;
  const t = simulateBcalRaw({ photons: 4000, neutrons: 4000 }, new Rng(20220419));
  const signs: Record<string, number> = {};
  for (const name of BCAL_FEATURES) {
    const col = t.columns.find((c) => c.name === name);
    if (col === undefined || col.kind !== 'number') throw new Error(`bcalPerturbSigns: no column ${name}`);
    let mp = 0;
    let mn = 0;
    for (let i = 0; i < 4000; i++) mp += col.values[i];
    for (let i = 4000; i < 8000; i++) mn += col.values[i];
    signs[name] = mp >= mn ? 1 : -1;
  }
  cachedSigns = signs;
  return signs;
}

/**
 * The BCAL table with the neutrons' 14 features perturbed (Appendix C); conditions, radius and
 * photons untouched. `signs` overrides S per feature.
 */
export function perturbBcal(table: Table, opts: { strength?: number; signs?: Record<string, number> } = {}): Table {
  const strength = opts.strength ?? PERTURB_STRENGTH;
  const signs = opts.signs ?? bcalPerturbSigns();
  const cls = table.columns.find((c) => c.name === 'class');
  if (cls === undefined || cls.kind !== 'string') {
    throw new Error(`perturbBcal: ${table.source} has no string column 'class'`);
  }
  const mask = new Uint8Array(table.nRows);
  for (let i = 0; i < table.nRows; i++) mask[i] = cls.values[i] === 'neutron' ? 1 : 0;
  const features = new Set<string>(BCAL_FEATURES);
  const columns: Column[] = table.columns.map((c) => {
    if (c.kind !== 'number' || !features.has(c.name)) return c;
    const sign = signs[c.name];
    if (sign !== 1 && sign !== -1) throw new Error(`perturbBcal: sign for ${c.name} must be +1 or -1, got ${sign}`);
    return { name: c.name, kind: 'number', values: perturbColumn(c.values, mask, sign, strength) };
  });
  return { source: table.source, nRows: table.nRows, columns };
}
