import { describe, it, expect } from 'vitest';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  makeReport,
  quantileResults,
  baselineResult,
  toJSON,
  fromJSON,
  toMarkdown,
  formatTable,
  formatRate,
  formatDuration,
  writeReport,
  type EvalReport,
} from '../src/eval/report.js';
import { rateWithError, auc } from '../src/eval/metrics.js';
import { FluxmutError } from '../src/core/errors.js';

function sampleReport(): EvalReport {
  return makeReport({
    title: 'MAGIC gammas vs hadrons',
    dataset: 'magic04.csv (12332 g | 6688 h)',
    model: 'models/magic (latent 6, 5 MADE layers)',
    mode: 'cached',
    scorer: 'glosh',
    nObjects: 2000,
    secondsPerObject: 0.00123,
    auc: { auc: 0.8512, se: 0.0087, bootstrapSe: 0.009, nReference: 1000, nAnomalous: 1000 },
    quantiles: [
      { q: 0.9, tpr: rateWithError(900, 1000), tnr: rateWithError(612, 1000) },
      { q: 0.99, tpr: rateWithError(1000, 1000), tnr: rateWithError(0, 1000) },
    ],
    baselines: [
      {
        name: 'GMM (K=16)',
        auc: { auc: 0.8, se: 0.01, nReference: 1000, nAnomalous: 1000 },
        quantiles: [{ q: 0.9, tpr: rateWithError(900, 1000), tnr: rateWithError(500, 1000) }],
        note: 'one-class | reference rows only',
      },
    ],
    extra: { seed: 42, nRef: 1500, version: '0.1.0', exact: false, missing: null },
    createdAt: '2024-01-01T00:00:00Z',
  });
}

describe('report text', () => {
  it('markdown carries the numbers, counts and context', () => {
    const md = toMarkdown(sampleReport());
    expect(md).toContain('# MAGIC gammas vs hadrons');
    // 900/1000: se = sqrt(0.9·0.1/1000) = 0.0094868
    expect(md).toContain('| 0.9 | 0.9000 ± 0.0095 | 900/1000 | +0.00 | 0.6120 ± 0.0154 | 612/1000 |');
    // 1000/1000: Wilson 68% lower bound 1000/1001 = 0.9990 instead of a meaningless ± 0.
    expect(md).toContain('1.0000 [0.9990, 1.0000]');
    expect(md).toContain('0.0000 [0.0000, 0.0010]');
    // Calibration pull at q = 0.99 with 1000/1000 kept: 0.01 / sqrt(0.99·0.01/1000) = +3.18.
    expect(md).toContain('| 0.99 | 1.0000 [0.9990, 1.0000] | 1000/1000 | +3.18 |');
    expect(md).toContain('0.8512 ± 0.0087 (bootstrap ± 0.0090)');
    expect(md).toContain('1.23 ms');
    expect(md).toContain('| seed | 42 |');
    expect(md).toContain('| mode | cached |');
    expect(md).toContain('magic04.csv (12332 g \\| 6688 h)'); // pipes escaped inside cells
    expect(md).toContain('| GMM (K=16) | 0.8000 ± 0.0100 | 0.9000 ± 0.0095 | 0.5000 ± 0.0158 |');
    // Every table row has the same number of unescaped cell separators as its header.
    for (const table of md.split('\n\n').filter((b) => b.startsWith('|'))) {
      const counts = table.split('\n').map((l) => l.replace(/\\\|/g, '').split('|').length);
      expect(new Set(counts).size).toBe(1);
    }
  });

  it('the terminal table is aligned in fixed-width columns', () => {
    const text = formatTable(sampleReport());
    const lines = text.split('\n');
    const header = lines.findIndex((l) => l.startsWith('q '));
    expect(header).toBeGreaterThan(0);
    const rows = lines.slice(header, header + 4);
    expect(rows[1]).toMatch(/^-+( +-+)+$/);
    // Right-aligned columns: all rows end at the same column.
    expect(new Set(rows.map((r) => r.length)).size).toBe(1);
    expect(text).toContain('0.9000 ± 0.0095');
    expect(text).toContain('612/1000');
  });

  it('formats rates and durations', () => {
    expect(formatRate(rateWithError(1, 4))).toBe('0.2500 ± 0.2165');
    expect(formatRate(rateWithError(0, 0))).toBe('n/a');
    expect(formatRate(null)).toBe('n/a');
    expect(formatDuration(2.5)).toBe('2.50 s');
    expect(formatDuration(0.0005)).toBe('500 µs');
    expect(formatDuration(null)).toBe('n/a');
  });
});

describe('report.json', () => {
  it('round-trips through JSON text, NaN included', () => {
    const r = sampleReport();
    r.quantiles.push({ q: 0.5, tpr: rateWithError(0, 0), tnr: null });
    const back = fromJSON(JSON.parse(JSON.stringify(toJSON(r))));
    expect(back).toEqual(r);
    expect(back.quantiles[2].tpr.rate).toBeNaN();
  });

  it('rejects a file that is not a report, naming the field', () => {
    const j = toJSON(sampleReport()) as Record<string, unknown>;
    expect(() => fromJSON({ ...j, format: 'other' })).toThrow(FluxmutError);
    expect(() => fromJSON({ ...j, quantiles: [{ q: 0.9, tpr: { k: 'x' }, tnr: null }] })).toThrow(/quantiles\[0\]\.tpr\.k should be a number/);
    expect(() => fromJSON([])).toThrow(/top level should be an object/);
  });

  it('writeReport creates the folder and leaves exactly report.json and report.md', async () => {
    const root = await mkdtemp(join(tmpdir(), 'fluxmut-report-'));
    try {
      const dir = join(root, 'a', 'b');
      const r = sampleReport();
      const paths = await writeReport(dir, r);
      expect((await readdir(dir)).sort()).toEqual(['report.json', 'report.md']);
      expect(fromJSON(JSON.parse(await readFile(paths.json, 'utf8')))).toEqual(r);
      expect(await readFile(paths.markdown, 'utf8')).toBe(toMarkdown(r));
      // Overwriting is fine and still atomic.
      r.nObjects = 7;
      await writeReport(dir, r);
      expect(fromJSON(JSON.parse(await readFile(paths.json, 'utf8'))).nObjects).toBe(7);
      expect((await readdir(dir)).length).toBe(2);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('a path that cannot be a folder gives a FluxmutError', async () => {
    const root = await mkdtemp(join(tmpdir(), 'fluxmut-report-'));
    try {
      await writeReport(root, sampleReport());
      await expect(writeReport(join(root, 'report.json', 'sub'), sampleReport())).rejects.toThrow(/cannot create the report folder/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('report builders', () => {
  it('quantileResults counts per quantile and leaves TNR null without anomalies', () => {
    const isRef = [true, true, true, true, false, false];
    const rows = quantileResults([0.5, 0.9], [[1, 0, 1, 0, 1, 0], [0, 0, 0, 1, 1, 1]], isRef);
    expect(rows[0].tpr.k).toBe(2);
    expect(rows[0].tnr!.k).toBe(1);
    expect(rows[1].tpr.k).toBe(3);
    expect(rows[1].tnr!.k).toBe(2);
    const refOnly = quantileResults([0.9], [[0, 1]], [true, true]);
    expect(refOnly[0].tnr).toBeNull();
    expect(() => quantileResults([0.9, 0.5], [[0, 1]], [true, true])).toThrow(FluxmutError);
  });

  it('baselineResult cuts at the reference quantile and carries the AUC', () => {
    const scores: number[] = [], isRef: boolean[] = [];
    for (let i = 1; i <= 100; i++) { scores.push(i); isRef.push(true); }
    for (let i = 0; i < 10; i++) { scores.push(95 + i); isRef.push(false); }
    const b = baselineResult('kNN', scores, isRef, [0.9], { note: 'k = 5' });
    expect(b.quantiles[0].tpr.k).toBe(90);
    expect(b.quantiles[0].tnr!.k).toBe(10);
    expect(b.auc!.auc).toBe(auc(scores, isRef).auc);
    expect(b.note).toBe('k = 5');
    expect(baselineResult('x', [1, 2], [true, true], [0.5]).auc).toBeNull();
  });
});
