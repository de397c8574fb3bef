import { describe, it, expect } from 'vitest';
import { Rng } from '../src/core/rng.js';
import { DIJET_FEATURES, DIJET_PHYSICS, simulateDijet } from '../src/data/simulate/index.js';
import type { Table } from '../src/data/table.js';

function col(t: Table, name: string): Float64Array {
  const c = t.columns.find((x) => x.name === name);
  if (!c || c.kind !== 'number') throw new Error(`no numeric column ${name}`);
  return c.values;
}

const N = 20000;
const t = simulateDijet({ qcd: N, signal: N }, new Rng(9));
const QCD: [number, number] = [0, N];
const SIG: [number, number] = [N, 2 * N];
function values(name: string, [lo, hi]: [number, number], f: (i: number) => number = (i) => col(t, name)[i]): number[] {
  const out: number[] = [];
  for (let i = lo; i < hi; i++) out.push(f(i));
  return out;
}
/** Index of the first row where `ok` fails, or -1 (one expect per check keeps the file fast). */
function firstBad(n: number, ok: (i: number) => boolean): number {
  for (let i = 0; i < n; i++) if (!ok(i)) return i;
  return -1;
}
const avg = (a: number[]): number => a.reduce((s, x) => s + x, 0) / a.length;
const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

describe('simulate dijet', () => {
  it('has pT, the 15 features and class, and is deterministic in the seed', () => {
    expect(t.columns.map((c) => c.name)).toEqual(['pT', ...DIJET_FEATURES, 'class']);
    expect(DIJET_FEATURES.length).toBe(15);
    const a = simulateDijet({ qcd: 100, signal: 100 }, new Rng(4));
    const b = simulateDijet({ qcd: 100, signal: 100 }, new Rng(4));
    for (let j = 0; j < a.columns.length; j++) expect(b.columns[j].values).toEqual(a.columns[j].values);
    expect(col(simulateDijet({ qcd: 100, signal: 100 }, new Rng(5)), 'j1_m')).not.toEqual(col(a, 'j1_m'));
  });

  it('keeps the leading-jet pT in [450, 800] GeV and the subleading jet softer', () => {
    const pT = col(t, 'pT');
    const pT2 = col(t, 'j2_pT');
    expect(firstBad(t.nRows, (i) => pT[i] >= 450 && pT[i] <= 800 && pT2[i] > 0 && pT2[i] <= pT[i])).toBe(-1);
    // QCD falls steeply with pT: far more events in the lowest 50 GeV than in the highest.
    const q = values('pT', QCD);
    expect(q.filter((x) => x < 500).length).toBeGreaterThan(5 * q.filter((x) => x > 750).length);
  });

  it('has consistent kinematics: E >= |p| = pT cosh(eta) and m^2 = E^2 - p^2 for both jets', () => {
    for (const [j, pTname] of [['j1', 'pT'], ['j2', 'j2_pT']] as const) {
      const pT = col(t, pTname);
      const eta = col(t, `${j}_eta`);
      const m = col(t, `${j}_m`);
      const E = col(t, `${j}_E`);
      const p = (i: number): number => pT[i] * Math.cosh(eta[i]);
      expect(firstBad(t.nRows, (i) => E[i] >= p(i)), `${j} E >= p`).toBe(-1);
      expect(firstBad(t.nRows, (i) => Math.abs(Math.sqrt(E[i] * E[i] - p(i) * p(i)) - m[i]) < 1e-6 * E[i]), `${j} mass`).toBe(-1);
      expect(firstBad(t.nRows, (i) => Math.abs(eta[i]) <= DIJET_PHYSICS.etaMax), `${j} eta`).toBe(-1);
    }
  });

  it('puts the jets back to back in phi', () => {
    const p1 = col(t, 'j1_phi');
    const p2 = col(t, 'j2_phi');
    const dev: number[] = [];
    expect(firstBad(t.nRows, (i) => Math.abs(p1[i]) <= Math.PI && Math.abs(p2[i]) <= Math.PI)).toBe(-1);
    for (let i = 0; i < t.nRows; i++) {
      let d = Math.abs(p1[i] - p2[i]);
      if (d > Math.PI) d = 2 * Math.PI - d;
      dev.push(Math.PI - d);
    }
    expect(avg(dev)).toBeLessThan(0.15);
    expect(dev.filter((x) => x > 0.5).length / dev.length).toBeLessThan(0.01);
  });

  it('peaks the signal leading-jet mass near the top mass; QCD mass falls', () => {
    const m = values('j1_m', SIG);
    const inWindow = m.filter((x) => x > 150 && x < 200).length / m.length;
    expect(inWindow).toBeGreaterThan(0.5);
    // Histogram mode in 10 GeV bins from 0 to 300.
    const h = new Array(30).fill(0);
    for (const x of m) if (x < 300) h[Math.floor(x / 10)]++;
    const mode = h.indexOf(Math.max(...h)) * 10 + 5;
    expect(Math.abs(mode - 174)).toBeLessThan(15);
    const q = values('j1_m', QCD);
    const hq = [0, 0, 0, 0];
    for (const x of q) if (x >= 50 && x < 250) hq[Math.floor((x - 50) / 50)]++;
    for (let k = 1; k < 4; k++) expect(hq[k]).toBeLessThan(hq[k - 1]);
    expect(q.filter((x) => x > 150 && x < 200).length / q.length).toBeLessThan(0.1);
  });

  it('gives tau ratios in (0, 1], with lower tau3/tau2 for signal than for QCD', () => {
    for (const j of ['j1', 'j2']) {
      const t1 = col(t, `${j}_tau1`);
      const t2 = col(t, `${j}_tau2`);
      const t3 = col(t, `${j}_tau3`);
      const inUnit = (x: number): boolean => x > 0 && x <= 1;
      expect(firstBad(t.nRows, (i) => inUnit(t1[i]) && inUnit(t2[i] / t1[i]) && inUnit(t3[i] / t2[i])), j).toBe(-1);
      const r32 = (i: number): number => t3[i] / t2[i];
      const r21 = (i: number): number => t2[i] / t1[i];
      expect(median(values('', SIG, r32))).toBeLessThan(median(values('', QCD, r32)) - 0.1);
      expect(avg(values('', QCD, r21))).toBeGreaterThan(0.6);
      expect(avg(values('', QCD, r32))).toBeGreaterThan(0.6);
    }
  });

  it('rejects negative counts', () => {
    expect(() => simulateDijet({ qcd: -2, signal: 1 }, new Rng(1))).toThrow(/qcd must be a non-negative integer/);
  });
});
