import { describe, it, expect } from 'vitest';
import { Rng } from '../src/core/rng.js';
import {
  BCAL_FEATURES,
  BCAL_GEOMETRY,
  BCAL_PRESELECTION,
  allocShowerPoints,
  showerFeatures,
  simulateBcal,
  simulateShower,
  showerVertexTime,
  Sampler,
} from '../src/data/simulate/index.js';
import type { Table } from '../src/data/table.js';

function col(t: Table, name: string): Float64Array {
  const c = t.columns.find((x) => x.name === name);
  if (!c || c.kind !== 'number') throw new Error(`no numeric column ${name}`);
  return c.values;
}
function classes(t: Table): string[] {
  const c = t.columns.find((x) => x.name === 'class');
  if (!c || c.kind !== 'string') throw new Error('no class column');
  return c.values;
}
/** Index of the first row where `ok` fails, or -1 (one expect per check keeps the file fast). */
function firstBad(n: number, ok: (i: number) => boolean): number {
  for (let i = 0; i < n; i++) if (!ok(i)) return i;
  return -1;
}
function meanWhere(v: Float64Array, cls: string[], which: string, keep: (i: number) => boolean = () => true): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    if (cls[i] === which && keep(i)) {
      s += v[i];
      n++;
    }
  }
  return s / n;
}

// One shared sample keeps the file fast: 6000 showers of each kind.
const N = 6000;
const table = simulateBcal({ photons: N, neutrons: N }, new Rng(7));
const cls = classes(table);

describe('simulate bcal: table shape and determinism', () => {
  it('has the documented columns in order and one row per requested shower', () => {
    expect(table.columns.map((c) => c.name)).toEqual(['E', 'z', ...BCAL_FEATURES, 'radius', 'class']);
    expect(BCAL_FEATURES.length).toBe(14);
    expect(table.nRows).toBe(2 * N);
    expect(cls.slice(0, N).every((c) => c === 'photon')).toBe(true);
    expect(cls.slice(N).every((c) => c === 'neutron')).toBe(true);
  });

  it('is a deterministic function of the seed', () => {
    const a = simulateBcal({ photons: 300, neutrons: 300 }, new Rng(42));
    const b = simulateBcal({ photons: 300, neutrons: 300 }, new Rng(42));
    const c = simulateBcal({ photons: 300, neutrons: 300 }, new Rng(43));
    for (let j = 0; j < a.columns.length; j++) expect(b.columns[j].values).toEqual(a.columns[j].values);
    expect(col(c, 'L1_E')).not.toEqual(col(a, 'L1_E'));
  });

  it('photon rows do not depend on how many neutrons are asked for', () => {
    const a = simulateBcal({ photons: 200, neutrons: 10 }, new Rng(5));
    const b = simulateBcal({ photons: 200, neutrons: 500 }, new Rng(5));
    expect(col(b, 'width_z').subarray(0, 200)).toEqual(col(a, 'width_z').subarray(0, 200));
  });

  it('rejects negative or fractional counts', () => {
    expect(() => simulateBcal({ photons: -1, neutrons: 3 }, new Rng(1))).toThrow(/photons must be a non-negative integer/);
    expect(() => simulateBcal({ photons: 1, neutrons: 2.5 }, new Rng(1))).toThrow(/neutrons must be a non-negative integer/);
  });
});

describe('simulate bcal: ranges, preselection, definitions', () => {
  it('draws E in [0.2, 2.2] GeV and z in [162, 262] cm, roughly flat for both classes', () => {
    const E = col(table, 'E');
    const z = col(table, 'z');
    for (const which of ['photon', 'neutron']) {
      const lowE = [0, 0];
      const lowZ = [0, 0];
      expect(firstBad(table.nRows, (i) => E[i] >= 0.2 && E[i] <= 2.2 && z[i] >= 162 && z[i] <= 262)).toBe(-1);
      for (let i = 0; i < table.nRows; i++) {
        if (cls[i] !== which) continue;
        lowE[E[i] < 1.2 ? 0 : 1]++;
        lowZ[z[i] < 212 ? 0 : 1]++;
      }
      // Flat: each half holds 50% +- 5 sigma of binomial noise (sigma = 0.65% for N = 6000).
      expect(Math.abs(lowE[0] / N - 0.5)).toBeLessThan(0.033);
      expect(Math.abs(lowZ[0] / N - 0.5)).toBeLessThan(0.033);
    }
  });

  it('every row passes the preselection: layer-4 energy < 0.1 GeV, radius within the first three layers', () => {
    const L4 = col(table, 'L4_E');
    const r = col(table, 'radius');
    const ze = col(table, 'z_entry');
    expect(firstBad(table.nRows, (i) => L4[i] < 0.1), 'layer-4 energy').toBe(-1);
    expect(BCAL_GEOMETRY.layerEdges[3]).toBeCloseTo(77.422, 3);
    expect(firstBad(table.nRows, (i) => r[i] >= BCAL_GEOMETRY.innerRadius && r[i] < BCAL_GEOMETRY.layerEdges[3]), 'radius').toBe(-1);
    const [zlo, zhi] = BCAL_PRESELECTION.zEntryRange;
    expect(firstBad(table.nRows, (i) => ze[i] >= zlo && ze[i] <= zhi), 'z-entry').toBe(-1);
  });

  it('layer fractions are the layer energies over their sum and add up to 1', () => {
    const Ek = [1, 2, 3, 4].map((k) => col(table, `L${k}_E`));
    const fk = [1, 2, 3, 4].map((k) => col(table, `L${k}_frac`));
    const E = col(table, 'E');
    const tot = (i: number): number => Ek[0][i] + Ek[1][i] + Ek[2][i] + Ek[3][i];
    // The read-out sum is positive and at most E (leakage and thresholds only remove energy).
    expect(firstBad(table.nRows, (i) => tot(i) > 0 && tot(i) <= E[i] * (1 + 1e-12))).toBe(-1);
    expect(firstBad(table.nRows, (i) => Math.abs(fk[0][i] + fk[1][i] + fk[2][i] + fk[3][i] - 1) < 1e-12)).toBe(-1);
    expect(firstBad(table.nRows, (i) => [0, 1, 2, 3].every((k) => Math.abs(fk[k][i] - Ek[k][i] / tot(i)) < 1e-12))).toBe(-1);
  });

  it('showerFeatures implements the documented energy-weighted definitions (hand-computed case)', () => {
    const p = allocShowerPoints(8);
    // Two points of 0.3 and 0.1 GeV in layers 1 and 3.
    p.n = 2;
    p.phi0 = 3;
    p.layer.set([1, 3]);
    p.e.set([0.3, 0.1]);
    p.r.set([65, 73]);
    p.z.set([200, 208]);
    p.t.set([5, 7]);
    p.theta.set([0.6, 0.5]);
    p.phi.set([3.01, 2.97]);
    const f = new Float64Array(15);
    showerFeatures(p, f);
    // Weighted mean of two points with weights 3:1; width = |x1 - x2| * sqrt(w1 w2) / (w1 + w2).
    const k = Math.sqrt(0.3 * 0.1) / 0.4;
    expect(Array.from(f.subarray(0, 8))).toEqual([0.3, 0, 0.1, 0, 0.75, 0, 0.25, 0].map((x) => expect.closeTo(x, 12)));
    expect(f[8]).toBeCloseTo(8 * k, 12);
    expect(f[9]).toBeCloseTo(8 * k, 12);
    expect(f[10]).toBeCloseTo(2 * k, 12);
    expect(f[11]).toBeCloseTo(0.1 * k, 12);
    expect(f[12]).toBeCloseTo(0.04 * k, 12);
    const rbar = 67;
    const zbar = 202;
    expect(f[14]).toBeCloseTo(rbar, 12);
    // The line from the target centre (r = 0, z = 65) through the centroid meets r = 64.3 here:
    expect(f[13]).toBeCloseTo(65 + ((zbar - 65) * 64.3) / rbar, 10);
  });

  it('phi widths wrap around +-pi', () => {
    const p = allocShowerPoints(4);
    p.n = 2;
    p.phi0 = Math.PI - 0.01;
    p.layer.set([1, 1]);
    p.e.set([0.5, 0.5]);
    p.r.set([65, 65]);
    p.z.set([200, 200]);
    p.t.set([1, 1]);
    p.theta.set([0.5, 0.5]);
    p.phi.set([Math.PI - 0.02, Math.PI + 0.02]); // 0.04 apart across the +-pi seam
    const f = new Float64Array(15);
    showerFeatures(p, f);
    expect(f[12]).toBeCloseTo(0.02, 10);
  });
});

describe('simulate bcal: physics', () => {
  it('photons deposit a larger fraction in layer 1 than neutrons', () => {
    const f1 = col(table, 'L1_frac');
    expect(meanWhere(f1, cls, 'photon')).toBeGreaterThan(meanWhere(f1, cls, 'neutron') + 0.03);
  });

  it('neutron showers are wider in z and r, and go deeper', () => {
    for (const name of ['width_z', 'width_r', 'radius']) {
      const v = col(table, name);
      expect(meanWhere(v, cls, 'neutron'), name).toBeGreaterThan(meanWhere(v, cls, 'photon'));
    }
  });

  it('neutron showers arrive later than photon showers of the same energy', () => {
    const s = new Sampler(new Rng(11));
    const pts = allocShowerPoints();
    for (const E of [0.3, 1.0, 2.0]) {
      const meanT = { photon: 0, neutron: 0 };
      const meanT0 = { photon: 0, neutron: 0 };
      for (const particle of ['photon', 'neutron'] as const) {
        let sum = 0;
        let sum0 = 0;
        for (let k = 0; k < 1000; k++) {
          simulateShower(particle, E, 212, s, pts);
          sum += showerVertexTime(pts);
          let se = 0;
          let st = 0;
          for (let i = 0; i < pts.n; i++) {
            se += pts.e[i];
            st += pts.e[i] * pts.t[i];
          }
          sum0 += st / se;
        }
        meanT[particle] = sum / 1000;
        meanT0[particle] = sum0 / 1000;
      }
      // Raw times: a photon needs ~L/c = 5 ns to reach the barrel at z = 212 cm.
      expect(meanT0.photon).toBeGreaterThan(4.5);
      expect(meanT0.photon).toBeLessThan(6.5);
      // Projected back to the target at the speed of light, a photon shower is on time (|t| well
      // below the 0.15-0.5 ns point resolution) and a neutron shower is late (beta < 1, slow
      // hadronic deposits).
      expect(Math.abs(meanT.photon)).toBeLessThan(0.1);
      expect(meanT.neutron, `E=${E}`).toBeGreaterThan(meanT.photon + 0.1);
    }
  });

  it('features depend on the conditions (conditioning matters)', () => {
    const E = col(table, 'E');
    const z = col(table, 'z');
    const f1 = col(table, 'L1_frac');
    // Higher-energy em showers peak deeper (t_max ~ ln E), so the layer-1 share falls with E.
    const lo = meanWhere(f1, cls, 'photon', (i) => E[i] < 0.6);
    const hi = meanWhere(f1, cls, 'photon', (i) => E[i] > 1.8);
    expect(lo).toBeGreaterThan(hi + 0.05);
    // z-entry follows the shower z.
    const ze = col(table, 'z_entry');
    const zlo = meanWhere(ze, cls, 'neutron', (i) => z[i] < 180);
    const zhi = meanWhere(ze, cls, 'neutron', (i) => z[i] > 244);
    expect(zhi - zlo).toBeGreaterThan(50);
  });

  it('classes overlap: no single feature separates photons from neutrons', () => {
    // For each feature, the fraction of neutrons inside the central 90% of photons stays large.
    for (const name of BCAL_FEATURES) {
      const v = col(table, name);
      const ph = Array.from(v.subarray(0, N)).sort((a, b) => a - b);
      const lo = ph[Math.floor(0.05 * N)];
      const hi = ph[Math.floor(0.95 * N)];
      let inside = 0;
      for (let i = N; i < 2 * N; i++) if (v[i] >= lo && v[i] <= hi) inside++;
      expect(inside / N, name).toBeGreaterThan(0.25);
    }
  });

  it('simulates at least 10^4 showers/s even on a loaded machine (bench/simulate.bench.ts measures properly)', () => {
    const t0 = performance.now();
    simulateBcal({ photons: 5000, neutrons: 5000 }, new Rng(3));
    const rate = 10000 / ((performance.now() - t0) / 1000);
    expect(rate).toBeGreaterThan(1e4);
  });
});
