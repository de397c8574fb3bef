import { describe, it, expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Model, Rng, evaluate, makeTable, numberColumn, simulate, stringColumn, train } from '../src/index.js';

describe('public API (src/index.ts)', () => {
  it('train -> save -> Model.load -> score and evaluate, on simulated BCAL showers', () => {
    const table = simulate.bcal({ photons: 700, neutrons: 150 }, new Rng(1));
    const cls = table.columns.find((c) => c.name === 'class')!.values as string[];
    const photons = makeTable(table.columns.map((c) => (c.kind === 'number'
      ? numberColumn(c.name, c.values.filter((_, i) => cls[i] === 'photon'))
      : stringColumn(c.name, c.values.filter((_, i) => cls[i] === 'photon')))), 'photons');
    const features = ['L1_frac', 'L2_frac', 'width_z', 'width_r'];
    const model = train(photons, { features, conditions: ['E', 'z'], seed: 2, cae: { epochs: 3, hidden: [8] }, cmaf: { epochs: 3, layers: 2, hidden: [16, 16] }, bank: { minPerBin: 30 } });
    const dir = join(mkdtempSync(join(tmpdir(), 'fluxmut-api-')), 'm');
    model.save(dir);
    const loaded = Model.load(dir);
    const opts = { mode: 'cached' as const, nRef: 200, minClusterSize: 100, minSamples: 10, quantiles: [0.5, 0.9] };
    const { table: scored } = loaded.score(table, opts);
    const names = scored.columns.map((c) => c.name);
    for (const c of ['outlier_score', 'p_value', 'threshold_0.5', 'is_outlier_0.5', 'threshold_0.9', 'is_outlier_0.9', 'out_of_range']) expect(names).toContain(c);
    expect(scored.nRows).toBe(table.nRows);
    const report = evaluate(loaded, table, { ...opts, labelColumn: 'class', referenceClass: 'photon' });
    expect(report.quantiles.map((q) => q.q)).toEqual([0.5, 0.9]);
    expect(report.auc!.auc).toBeGreaterThan(0);
    expect(report.nObjects).toBe(table.nRows);
  });
});
