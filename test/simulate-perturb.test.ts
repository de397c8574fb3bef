import { describe, it, expect } from 'vitest';
import { Rng } from '../src/core/rng.js';
import {
  BCAL_FEATURES,
  PERTURB_STRENGTH,
  bcalPerturbSigns,
  perturbBcal,
  perturbColumn,
  perturbValue,
  simulateBcal,
} from '../src/data/simulate/index.js';
import type { Table } from '../src/data/table.js';

function col(t: Table, name: string): Float64Array {
  const c = t.columns.find((x) => x.name === name);
  if (!c || c.kind !== 'number') throw new Error(`no numeric column ${name}`);
  return c.values;
}
const mean = (v: ArrayLike<number>, lo: number, hi: number): number => {
  let s = 0;
  for (let i = lo; i < hi; i++) s += v[i];
  return s / (hi - lo);
};

describe('Appendix C formula', () => {
  it('vanishes at x_min and x_max and peaks at the midpoint with P/4 of the range', () => {
    for (const [lo, hi] of [[0, 1], [-3, 7], [162, 262], [0.001, 0.004]]) {
      const range = hi - lo;
      for (const S of [1, -1]) {
        expect(perturbValue(lo, lo, hi, S)).toBe(lo);
        expect(perturbValue(hi, lo, hi, S)).toBe(hi);
        expect(perturbValue(lo + range / 2, lo, hi, S)).toBeCloseTo(lo + range / 2 + (S * PERTURB_STRENGTH * range) / 4, 12);
      }
    }
  });

  it('is u + S P u (1 - u) in min-max-normalised units', () => {
    const lo = 5;
    const hi = 9;
    for (let u = 0; u <= 1; u += 0.125) {
      const x = lo + u * (hi - lo);
      const up = (perturbValue(x, lo, hi, 1) - lo) / (hi - lo);
      expect(up).toBeCloseTo(u + 0.1 * u * (1 - u), 12);
      const um = (perturbValue(x, lo, hi, -1) - lo) / (hi - lo);
      expect(um).toBeCloseTo(u - 0.1 * u * (1 - u), 12);
    }
  });

  it('is scale-invariant: perturbing 1000 x gives 1000 times the perturbed x (not the raw-unit formula)', () => {
    const v = Float64Array.from([0.01, 0.02, 0.015, 0.03, 0.011]);
    const mask = Uint8Array.from([1, 1, 1, 1, 1]);
    const a = perturbColumn(v, mask, 1);
    const b = perturbColumn(v.map((x) => 1000 * x), mask, 1);
    for (let i = 0; i < v.length; i++) expect(b[i]).toBeCloseTo(1000 * a[i], 9);
    // The midpoint-ish value 0.02 moves by a visible fraction of the 0.02 range, not by ~1e-5.
    expect(a[1] - v[1]).toBeCloseTo((0.1 * (0.02 - 0.01) * (0.03 - 0.02)) / 0.02, 12);
  });

  it('takes x_min/x_max over the masked rows and leaves the other rows alone', () => {
    const v = Float64Array.from([100, 0, 1, 2, -50]);
    const mask = Uint8Array.from([0, 1, 1, 1, 0]);
    const out = perturbColumn(v, mask, 1);
    expect(out[0]).toBe(100);
    expect(out[4]).toBe(-50);
    expect(out[1]).toBe(0);
    expect(out[3]).toBe(2);
    expect(out[2]).toBeCloseTo(1 + (0.1 * 1 * 1) / 2, 12);
  });
});

describe('perturbed BCAL neutrons', () => {
  const N = 5000;
  const raw = simulateBcal({ photons: N, neutrons: N }, new Rng(21));
  const pert = perturbBcal(raw);

  it('moves the neutron mean of every one of the 14 features toward the photon mean', () => {
    for (const name of BCAL_FEATURES) {
      const before = col(raw, name);
      const after = col(pert, name);
      const mp = mean(before, 0, N);
      const d0 = Math.abs(mean(before, N, 2 * N) - mp);
      const d1 = Math.abs(mean(after, N, 2 * N) - mp);
      expect(d1, name).toBeLessThan(d0);
    }
  });

  it('uses signs that point from the neutron to the photon means', () => {
    const signs = bcalPerturbSigns();
    for (const name of BCAL_FEATURES) {
      const v = col(raw, name);
      expect(signs[name], name).toBe(Math.sign(mean(v, 0, N) - mean(v, N, 2 * N)));
    }
  });

  it('leaves the photons, the conditions and the shower radius unchanged, and stays in the neutron range', () => {
    for (const name of ['E', 'z', 'radius']) expect(col(pert, name)).toEqual(col(raw, name));
    for (const name of BCAL_FEATURES) {
      const before = col(raw, name);
      const after = col(pert, name);
      expect(after.subarray(0, N)).toEqual(before.subarray(0, N));
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = N; i < 2 * N; i++) {
        lo = Math.min(lo, before[i]);
        hi = Math.max(hi, before[i]);
      }
      let outside = 0;
      for (let i = N; i < 2 * N; i++) if (after[i] < lo || after[i] > hi) outside++;
      expect(outside, name).toBe(0);
    }
    // The preselection still holds on the perturbed neutrons.
    const L4 = col(pert, 'L4_E');
    expect(L4.every((x) => x < 0.1)).toBe(true);
  });

  it('is what simulateBcal({perturb: true}) returns', () => {
    const a = simulateBcal({ photons: 200, neutrons: 200, perturb: true }, new Rng(3));
    const b = perturbBcal(simulateBcal({ photons: 200, neutrons: 200 }, new Rng(3)));
    for (let j = 0; j < a.columns.length; j++) expect(a.columns[j].values).toEqual(b.columns[j].values);
  });
});
