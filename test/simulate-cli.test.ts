import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../src/core/rng.js';
import { FluxmutError } from '../src/core/errors.js';
import { runSimulateBcal, runSimulateDijet } from '../src/cli/simulate.js';
import { buildProgram } from '../src/cli/main.js';
import { readTable } from '../src/data/table.js';
import { BCAL_FEATURES, DIJET_FEATURES, Sampler } from '../src/data/simulate/index.js';

describe('fluxmut simulate (command functions)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxmut-sim-'));

  it('bcal writes a CSV with the documented columns and one row per shower', async () => {
    const out = join(dir, 'bcal.csv');
    const r = await runSimulateBcal({ photons: 120, neutrons: 80, out, seed: 3 });
    expect(r.rows).toBe(200);
    const header = readFileSync(out, 'utf8').split('\n')[0];
    expect(header.split(',')).toEqual(['E', 'z', ...BCAL_FEATURES, 'radius', 'class']);
    const t = await readTable(out);
    expect(t.nRows).toBe(200);
    const cls = t.columns.find((c) => c.name === 'class')!.values as string[];
    expect(cls.filter((c) => c === 'photon').length).toBe(120);
    expect(cls.filter((c) => c === 'neutron').length).toBe(80);
  });

  it('dijet writes Parquet that reads back with pT, 15 features and class', async () => {
    const out = join(dir, 'dijet.parquet');
    await runSimulateDijet({ qcd: 50, signal: 30, out });
    const t = await readTable(out);
    expect(t.columns.map((c) => c.name)).toEqual(['pT', ...DIJET_FEATURES, 'class']);
    expect(t.nRows).toBe(80);
  });

  it('the same seed writes the same file; --perturb changes only neutron features', async () => {
    const a = join(dir, 'a.csv');
    const b = join(dir, 'b.csv');
    const c = join(dir, 'c.csv');
    await runSimulateBcal({ photons: 50, neutrons: 50, out: a, seed: 9 });
    await runSimulateBcal({ photons: 50, neutrons: 50, out: b, seed: 9 });
    await runSimulateBcal({ photons: 50, neutrons: 50, out: c, seed: 9, perturb: true });
    expect(readFileSync(b, 'utf8')).toBe(readFileSync(a, 'utf8'));
    const la = readFileSync(a, 'utf8').split('\n');
    const lc = readFileSync(c, 'utf8').split('\n');
    expect(lc.slice(0, 51)).toEqual(la.slice(0, 51)); // header + photons
    expect(lc.slice(51, 101)).not.toEqual(la.slice(51, 101));
  });

  it('gives clear errors for negative counts, nothing to do and a missing or unknown --out', async () => {
    await expect(runSimulateBcal({ photons: -1, neutrons: 5, out: join(dir, 'x.csv') })).rejects.toThrow(/--photons must be a non-negative integer/);
    await expect(runSimulateDijet({ qcd: 0, signal: 0, out: join(dir, 'x.csv') })).rejects.toThrow(/nothing to simulate/);
    await expect(runSimulateBcal({ photons: 1, neutrons: 1, out: '' })).rejects.toThrow(/--out <file> is required/);
    await expect(runSimulateBcal({ photons: 1, neutrons: 1, out: join(dir, 'x.txt') })).rejects.toThrow(/unknown table format/);
    await expect(runSimulateBcal({ photons: 1, neutrons: 1, out: join(dir, 'no', 'such', 'x.csv') })).rejects.toThrow(/does not exist/);
  });

  it('parses options through the fluxmut program, rejecting a negative count and a missing --out', async () => {
    const program = buildProgram();
    program.configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
    await expect(
      program.parseAsync(['simulate', 'bcal', '--photons', '-3', '--neutrons', '2', '--out', join(dir, 'y.csv')], { from: 'user' }),
    ).rejects.toThrow(FluxmutError);
    const p2 = buildProgram();
    p2.configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
    p2.commands.forEach((c) => c.commands.forEach((cc) => cc.configureOutput({ writeErr: () => undefined, writeOut: () => undefined })));
    await expect(p2.parseAsync(['simulate', 'dijet', '--qcd', '2', '--signal', '2'], { from: 'user' })).rejects.toThrow(/--out/);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('Sampler variates (the simulators\' random numbers)', () => {
  const s = new Sampler(new Rng(123));
  const n = 200000;
  function moments(draw: () => number): { mean: number; variance: number } {
    let m = 0;
    let m2 = 0;
    for (let i = 0; i < n; i++) {
      const x = draw();
      m += x;
      m2 += x * x;
    }
    m /= n;
    return { mean: m, variance: m2 / n - m * m };
  }
  it('normal has mean 0, variance 1 and the right two-sided 2-sigma tail', () => {
    const { mean, variance } = moments(() => s.normal());
    expect(Math.abs(mean)).toBeLessThan(0.01); // 4.5 sigma of the mean
    expect(Math.abs(variance - 1)).toBeLessThan(0.015);
    let tail = 0;
    for (let i = 0; i < n; i++) if (Math.abs(s.normal()) > 2) tail++;
    expect(tail / n).toBeCloseTo(0.0455, 2); // 2 * (1 - Phi(2))
  });
  it('gamma(a) has mean a and variance a; beta(a, b) has mean a / (a + b)', () => {
    for (const a of [0.6, 1.5, 3.9]) {
      const { mean, variance } = moments(() => s.gamma(a));
      expect(Math.abs(mean - a) / a).toBeLessThan(0.015);
      expect(Math.abs(variance - a) / a).toBeLessThan(0.04);
    }
    const { mean } = moments(() => s.beta(2, 3));
    expect(mean).toBeCloseTo(0.4, 2);
  });
  it('uniform is in (0, 1) with mean 1/2 and exponential has mean 1', () => {
    let bad = 0;
    for (let i = 0; i < n; i++) {
      const u = s.uniform();
      if (!(u > 0 && u < 1)) bad++;
    }
    expect(bad).toBe(0);
    expect(moments(() => s.uniform()).mean).toBeCloseTo(0.5, 2);
    expect(moments(() => s.exponential()).mean).toBeCloseTo(1, 1);
  });
  it('is a deterministic function of the Rng it is seeded from', () => {
    const a = new Sampler(new Rng(77));
    const b = new Sampler(new Rng(77));
    for (let i = 0; i < 100; i++) expect(b.normal()).toBe(a.normal());
  });
});
