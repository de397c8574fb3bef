import { describe, it, expect, afterAll, beforeAll, vi } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDemo, writeDemo, demoJson, type DemoResult, type DemoFiles } from '../src/eval/demo.js';
import { main } from '../src/cli/main.js';
import { ExitCode } from '../src/core/errors.js';
import { chromium, CHROMIUM, haveChromium, inkOf, INSTALL_HINT, screenshot } from './chromium-helpers.js';

const work = mkdtempSync(join(tmpdir(), 'fluxmut-demo-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Every leaf of a JSON value: numbers must be finite, and null (a NaN written by JSON.stringify) is not allowed. */
function walk(v: unknown, path: string, visit: (path: string, leaf: unknown) => void): void {
  if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${i}]`, visit));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`, visit);
  else visit(path, v);
}

interface RateJ { rate: number; se: number; k: number; n: number; lo: number; hi: number }
interface RowJ { label: string; auc: { auc: number; nReference: number; nAnomalous: number }; quantiles: { q: number; tpr: RateJ; tnr: RateJ }[] }
interface TableJ { id: string; rows: RowJ[] }

let result: DemoResult;
let files: DemoFiles;
let json: { tables: TableJ[]; counts: Record<string, number>; seconds: number; checks: Record<string, unknown> };
const out = join(work, 'bcal');

beforeAll(async () => {
  result = await runDemo({ dataset: 'bcal', size: 'small', seed: 3 });
  files = await writeDemo(out, result);
  json = JSON.parse(readFileSync(files.json, 'utf8'));
}, 60_000);

describe('fluxmut demo --size small (BCAL), end to end', () => {
  it('writes report.html, report.json, report.md and loadable model directories', () => {
    for (const f of ['report.html', 'report.json', 'report.md']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(files.models.map((m) => m.split('/').pop())).toEqual(['model-augmented', 'model-features']);
    for (const m of files.models) expect(existsSync(join(m, 'model.json'))).toBe(true);
    expect(result.seconds).toBeLessThan(60);
  });

  it('report.json holds only finite numbers (no NaN written as null) and the three BCAL tables', () => {
    const bad: string[] = [];
    walk(json, 'report', (path, leaf) => {
      if (leaf === null || (typeof leaf === 'number' && !Number.isFinite(leaf))) bad.push(path);
    });
    expect(bad).toEqual([]);
    expect(json.tables.map((t) => t.id)).toEqual(['table1', 'table5', 'table2']);
    expect(json.seconds).toBeGreaterThan(0);
  });

  it('every rate is k/n in [0, 1] on the right class counts, inside its Wilson interval', () => {
    const { testPhotons, testNeutrons } = json.counts;
    for (const t of json.tables) {
      for (const row of t.rows) {
        expect(row.quantiles.map((q) => q.q)).toEqual([0.68, 0.95, 0.99]);
        expect(row.auc.auc).toBeGreaterThanOrEqual(0);
        expect(row.auc.auc).toBeLessThanOrEqual(1);
        for (const { tpr, tnr } of row.quantiles) {
          for (const r of [tpr, tnr]) {
            expect(r.rate).toBeGreaterThanOrEqual(0);
            expect(r.rate).toBeLessThanOrEqual(1);
            expect(r.rate).toBeCloseTo(r.k / r.n, 12);
            expect(r.lo).toBeLessThanOrEqual(r.rate);
            expect(r.hi).toBeGreaterThanOrEqual(r.rate);
          }
          // The exact-vs-cached rows use a subset; all the others the whole test set.
          if (!row.label.includes('subset')) {
            expect(tpr.n).toBe(testPhotons);
            expect(tnr.n).toBe(testNeutrons);
          }
        }
        // F+M cuts are nested (p > 0.99 implies p > 0.95 ...), so TPR rises and TNR falls with q.
        if (row.label.startsWith('F+M')) {
          for (let j = 1; j < row.quantiles.length; j++) {
            expect(row.quantiles[j].tpr.k).toBeGreaterThanOrEqual(row.quantiles[j - 1].tpr.k);
            expect(row.quantiles[j].tnr.k).toBeLessThanOrEqual(row.quantiles[j - 1].tnr.k);
          }
        }
      }
    }
  });

  it('Table 2: the perturbation touches neutrons only, so each method keeps exactly the same photons', () => {
    const t2 = json.tables.find((t) => t.id === 'table2')!;
    const [fmOrig, fmPert, bdtOrig, bdtPert] = t2.rows;
    expect(fmOrig.label).toMatch(/F\+M.*original/);
    expect(fmPert.label).toMatch(/F\+M.*perturbed/);
    expect(bdtOrig.label).toMatch(/BDT.*original/);
    expect(bdtPert.label).toMatch(/BDT.*perturbed/);
    for (let j = 0; j < 3; j++) {
      expect(fmPert.quantiles[j].tpr).toEqual(fmOrig.quantiles[j].tpr);
      expect(bdtPert.quantiles[j].tpr).toEqual(bdtOrig.quantiles[j].tpr);
    }
    // Table 1's main row and Table 2's "original" row are the same scores of the same objects.
    expect(fmOrig.quantiles).toEqual(json.tables[0].rows[0].quantiles);
  });

  it('Table 1: the held-out cut and the paper\'s cut share the p-values; the held-out cut keeps q of the photons within statistics', () => {
    const [heldOut, paperCut] = json.tables[0].rows;
    expect(heldOut.label).toMatch(/held-out cut/);
    expect(paperCut.label).toMatch(/paper's cut/);
    expect(heldOut.auc).toEqual(paperCut.auc); // a cut level does not change the ranking
    const dev = (row: RowJ) => Math.max(...row.quantiles.map((q) => Math.abs(q.tpr.rate - q.q)));
    expect(json.checks.maxTprDeviation).toBeCloseTo(dev(heldOut), 12);
    expect(json.checks.maxTprDeviationPaperCut).toBeCloseTo(dev(paperCut), 12);
    // Test and calibration photons are exchangeable: TPR - q scatters by sqrt(q(1-q)(1/n + 1/m)).
    const m = json.counts.calibrationPhotons;
    for (const { q, tpr } of heldOut.quantiles) {
      const se = Math.sqrt(q * (1 - q) * (1 / tpr.n + 1 / m));
      expect(Math.abs(tpr.rate - q)).toBeLessThan(4 * se + 1 / (m + 1));
    }
  });

  it('even the reduced models separate photons from neutrons (AUC well above 0.5)', () => {
    expect(json.tables[0].rows[0].auc.auc).toBeGreaterThan(0.7);
    // The supervised classifier sees neutrons in training: it should do at least as well as chance by far.
    expect(json.tables[2].rows[2].auc.auc).toBeGreaterThan(0.8);
  });

  it('report.md carries the same numbers as report.json', () => {
    const md = readFileSync(files.markdown, 'utf8');
    for (const t of ['Table 1', 'Table 5', 'Table 2']) expect(md).toContain(`## ${t}`);
    const r = json.tables[0].rows[0];
    expect(md).toContain(r.quantiles[1].tpr.rate.toFixed(4));
    expect(md).toContain(r.auc.auc.toFixed(4));
  });

  it('the same seed gives the same tables', async () => {
    const again = await runDemo({ dataset: 'bcal', size: 'small', seed: 3 });
    expect(demoJson(again).tables).toEqual(json.tables);
  }, 60_000);
});

describe('the demo report renders in headless Chromium', () => {
  if (!haveChromium) {
    if (process.env.CI) it('needs Chromium', () => { throw new Error(`${CHROMIUM} is missing: ${INSTALL_HINT}`); });
    else it.skip(`renders (needs ${CHROMIUM}; ${INSTALL_HINT})`, () => undefined);
    return;
  }

  it('screenshot: a non-blank PNG of the window size, drawn well beyond text', () => {
    const png = screenshot(files.html, work, 'demo', 1200, 2000);
    expect(png.width).toBe(1200);
    expect(png.height).toBe(2000);
    // The first 2000 px hold the tables, the two heatmaps and the start of the histograms:
    // a text-only page covers under 1% (see eval-html-render.test.ts).
    expect(inkOf(png)).toBeGreaterThan(0.04);
  });

  it('dump-dom: the rendered page holds every table and figure', () => {
    const r = chromium(['--dump-dom', `file://${files.html}`], join(work, 'profile-dom'));
    const dom = r.stdout;
    expect(dom, `empty DOM; chromium exited ${r.status}: ${r.stderr.slice(-2000)}`).toContain('<h1>fluxmut demo: bcal</h1>');
    for (const t of result.tables) expect(dom).toContain(`<h2>${t.title}</h2>`);
    expect(dom).toContain('Fig. C1');
    // Fig. 3, C5, p-values, ROC, two Table 2 histograms, C1.
    expect((dom.match(/<figure>\s*<svg /g) ?? []).length).toBe(7);
    expect(dom).toContain(result.tables[0].rows[0].quantiles[0].tpr.rate.toFixed(4));
  });
});

describe('the demo command', () => {
  async function run(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
    let stdout = '', stderr = '';
    const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => { stdout += String(s); return true; });
    const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => { stderr += String(s); return true; });
    const before = process.exitCode;
    process.exitCode = 0;
    try {
      await main(['node', 'fluxmut', 'demo', ...args]);
      return { stdout, stderr, code: Number(process.exitCode ?? 0) };
    } finally {
      o.mockRestore();
      e.mockRestore();
      process.exitCode = before;
    }
  }

  it('--dataset dijet prints Table 4 and writes the Fig. 4 report', async () => {
    const dir = join(work, 'dijet');
    const r = await run(['--dataset', 'dijet', '--size', 'small', '--out', dir, '--no-models']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("Table 4: QCD (reference) against Z' -> tt̄");
    expect(r.stdout).toMatch(/elapsed: [\d.]+ s/);
    const j = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(j.tables.map((t: TableJ) => t.id)).toEqual(['table4']);
    expect(existsSync(join(dir, 'model-augmented'))).toBe(false);
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('Paper Fig. 4');
  }, 60_000);

  it('--mode exact caps the held-out rows (each costs a clustering) and says so', async () => {
    const r = await runDemo({ dataset: 'dijet', size: 'small', seed: 2, mode: 'exact', plan: { testReference: 40, testAnomalous: 40 } });
    expect(r.warnings.some((w) => /exact mode, so the held-out cut is set on the first 50 of 200 calibration rows/.test(w))).toBe(true);
    expect(r.findings[0]).toMatch(/set on 50 held-out reference rows/);
  }, 60_000);

  it('--dataset magic with a missing data file is a clear error naming the file', async () => {
    const r = await run(['--dataset', 'magic', '--size', 'small', '--data', join(work, 'nope.csv'), '--out', join(work, 'magic-missing')]);
    expect(r.code).toBe(ExitCode.NoInput);
    expect(r.stderr).toContain('nope.csv');
    expect(r.stderr).toMatch(/--data FILE/);
  });

  it('rejects an unknown dataset as a usage error', async () => {
    const r = await run(['--dataset', 'lhc', '--out', join(work, 'x')]);
    expect(r.code).toBe(ExitCode.Usage);
    expect(r.stderr).toMatch(/--dataset must be one of bcal, dijet, magic/);
  });

  const magic = new URL('../../shared/data/magic04.csv', import.meta.url).pathname;
  it.skipIf(!existsSync(magic))('--dataset magic runs on the shared MAGIC file', async () => {
    const dir = join(work, 'magic');
    const r = await run(['--dataset', 'magic', '--size', 'small', '--data', magic, '--out', dir, '--no-models']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(j.tables.map((t: TableJ) => t.id)).toEqual(['table1', 'table5']);
    expect(j.counts.testGammas).toBe(200);
  }, 60_000);
});
