/**
 * End to end through the built command (`node bin/fluxmut.js`, as a user runs it): train a tiny
 * model once, then inspect, score (exact/cached x glosh/density) and evaluate it, and check the
 * files against what DESIGN.md and the README promise. Needs dist/ (npm install / npm run build:ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FluxModel } from '../src/flux/model.js';
import { CONDITIONS, FAST, FEATURES, fluxmut, mannWhitneyAuc, readCsv, scoreColumns, stackLines, writeSynth } from './cli-helpers.js';

const QS = ['0.68', '0.95', '0.99'];
let dir = '';
let model = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fluxmut-cli-'));
  // Training file: 500 reference + 100 anomalous rows over e in [1, 5], z in [0, 10].
  writeSynth(join(dir, 'train.csv'), { reference: 500, anomalous: 100, seed: 11 });
  // Objects to score: strictly inside the training range, so none is out of range.
  writeSynth(join(dir, 'test.csv'), { reference: 30, anomalous: 10, seed: 12, eRange: [1.5, 4.5], zRange: [1, 9] });
  writeSynth(join(dir, 'eval.csv'), { reference: 300, anomalous: 100, seed: 13, eRange: [1.5, 4.5], zRange: [1, 9] });
  model = join(dir, 'model');
  const r = fluxmut(
    ['train', '--data', 'train.csv', '--features', FEATURES.join(','), '--conditions', CONDITIONS.join(','), '--filter', 'class=ref', '--max-epochs', '3', '--seed', '5', '--out', 'model'],
    dir,
  );
  if (r.code !== 0) throw new Error(`fluxmut train failed (${r.code}): ${r.stderr}`);
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('fluxmut train', () => {
  it('writes model.json and the four weight files, with the sha256 of each recorded in model.json', () => {
    const files = readdirSync(model).sort();
    expect(files).toEqual(['bank.safetensors', 'cae.safetensors', 'cmaf.safetensors', 'conditions.safetensors', 'model.json']);
    const json = JSON.parse(readFileSync(join(model, 'model.json'), 'utf8'));
    expect(json.schema).toEqual({ features: FEATURES, conditions: CONDITIONS });
    for (const f of files.filter((f) => f.endsWith('.safetensors'))) {
      const sha = createHash('sha256').update(readFileSync(join(model, f))).digest('hex');
      expect(json.files[f].sha256).toBe(sha);
    }
  });

  it('--filter class=ref keeps exactly the 500 reference rows', () => {
    const json = JSON.parse(readFileSync(join(model, 'model.json'), 'utf8'));
    expect(json.training.rows).toBe(500);
    expect(json.training.trainRows + json.training.validationRows).toBe(500);
  });

  it('the same seed gives the same weights, byte for byte', () => {
    const r = fluxmut(['train', '--data', 'train.csv', '--features', FEATURES.join(','), '--conditions', CONDITIONS.join(','), '--filter', 'class=ref', '--max-epochs', '3', '--seed', '5', '--out', 'model-again'], dir);
    expect(r.code).toBe(0);
    for (const f of ['cae', 'cmaf', 'bank', 'conditions']) {
      expect(readFileSync(join(dir, 'model-again', `${f}.safetensors`)).equals(readFileSync(join(model, `${f}.safetensors`)))).toBe(true);
    }
  }, 30_000);

  it('a filter that matches no row is a clear error naming the filter and the values seen; nothing is written', () => {
    const r = fluxmut(['train', '--data', 'train.csv', '--features', FEATURES.join(','), '--filter', 'class=photon', '--out', 'never'], dir);
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/train\.csv/);
    expect(r.stderr).toMatch(/class=photon/);
    expect(r.stderr).toMatch(/"ref" \(500\)/);
    expect(stackLines(r.stderr)).toEqual([]);
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });

  it('--bin-widths gives KDE bins of those widths per condition; --quantile-bins N gives N per condition', () => {
    const base = ['train', '--data', 'train.csv', '--features', FEATURES.join(','), '--conditions', CONDITIONS.join(','), '--filter', 'class=ref', '--max-epochs', '1'];
    const w = fluxmut([...base, '--bin-widths', '1,2.5', '--out', 'widths'], dir);
    expect(w.code).toBe(0);
    const edges: number[][] = JSON.parse(readFileSync(join(dir, 'widths', 'model.json'), 'utf8')).bank.edges;
    expect(edges.length).toBe(2);
    edges.forEach((e, j) => {
      expect(e.length).toBeGreaterThanOrEqual(3);
      for (let b = 1; b < e.length; b++) expect(e[b] - e[b - 1]).toBeCloseTo([1, 2.5][j], 9);
    });
    const q = fluxmut([...base, '--quantile-bins', '2', '--out', 'quantiles'], dir);
    expect(q.code).toBe(0);
    expect(q.stdout).toMatch(/latent KDE bank: 4 condition bins/);
    const both = fluxmut([...base, '--quantile-bins', '2', '--bin-widths', '1,1', '--out', 'both'], dir);
    expect(both.code).toBe(64);
    expect(both.stderr).toMatch(/either --bin-widths or --quantile-bins, not both/);
    expect(existsSync(join(dir, 'both'))).toBe(false);
  }, 30_000);

  it('--bank-bandwidth 0.25 gives every bin\'s KDE that factor; a bad value is a usage error', () => {
    const r = fluxmut(['train', '--data', 'train.csv', '--features', FEATURES.join(','), '--conditions', CONDITIONS.join(','), '--filter', 'class=ref', '--max-epochs', '2', '--bank-bandwidth', '0.25', '--out', 'model-bw'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/bandwidth 0\.25/);
    const json = JSON.parse(readFileSync(join(dir, 'model-bw', 'model.json'), 'utf8'));
    expect(json.bank.bandwidth).toBe(0.25);
    const loaded = FluxModel.load(join(dir, 'model-bw'));
    for (let b = 0; b < loaded.bank.nBins; b++) expect(loaded.bank.kdeOf(b).factor).toBe(0.25);
    const bad = fluxmut(['train', '--data', 'train.csv', '--features', FEATURES.join(','), '--bank-bandwidth', 'wide', '--out', 'model-bad'], dir);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toMatch(/--bank-bandwidth must be scott, silverman or a positive factor/);
    expect(existsSync(join(dir, 'model-bad'))).toBe(false);
  }, 30_000);

  it('an unconditional model (no --conditions) trains, inspects and scores', () => {
    const t = fluxmut(['train', '--data', 'train.csv', '--features', FEATURES.join(','), '--filter', 'class=ref', '--max-epochs', '2', '--out', 'uncond'], dir);
    expect(t.code).toBe(0);
    const json = JSON.parse(readFileSync(join(dir, 'uncond', 'model.json'), 'utf8'));
    expect(json.schema.conditions).toEqual([]);
    const i = fluxmut(['inspect', 'uncond'], dir);
    expect(i.code).toBe(0);
    expect(i.stdout).toMatch(/conditions \(0\)/);
    const s = fluxmut(['score', '--model', 'uncond', '--data', 'test.csv', '--mode', 'cached', ...FAST, '--out', 'uncond.csv'], dir);
    expect(s.code).toBe(0);
    expect(s.stderr).toBe('');
    const out = readCsv(join(dir, 'uncond.csv'));
    expect(out.rows.length).toBe(40);
    expect(out.col('out_of_range').every((v) => v === 'false')).toBe(true);
    for (const p of out.num('p_value')) expect(p > 0 && p < 1).toBe(true);
  }, 30_000);
});

describe('fluxmut inspect', () => {
  it('prints the schema, network sizes, training losses and condition bins', () => {
    const r = fluxmut(['inspect', 'model'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/features \(3\):\s+f1, f2, f3/);
    expect(r.stdout).toMatch(/conditions \(2\): e, z/);
    expect(r.stdout).toMatch(/space: augmented \(flow dimension 6\)/);
    expect(r.stdout).toMatch(/cAE: latent 6/);
    expect(r.stdout).toMatch(/cMAF: K = \d+ MADE layers/);
    expect(r.stdout).toMatch(/500 rows \(400 train, 100 validation\)/);
    expect(r.stdout).toMatch(/cAE Huber: best validation [\d.]+ at epoch \d of 3/);
    expect(r.stdout).toMatch(/cMAF NLL: best validation -?[\d.]+ at epoch \d of 3/);
    expect(r.stdout).toMatch(/latent KDE bank: \d+ bins/);
    expect(r.stdout).toMatch(/\n\s+e edges: /);
    expect(r.stdout).toMatch(/\n\s+z edges: /);
  });
});

describe('fluxmut score', () => {
  const combos = [
    ['exact', 'glosh'],
    ['exact', 'density'],
    ['cached', 'glosh'],
    ['cached', 'density'],
  ] as const;

  it.each(combos)('--mode %s --scorer %s: every input column plus the score columns, consistent decisions', (mode, scorer) => {
    const out = `scored-${mode}-${scorer}.csv`;
    const r = fluxmut(['score', '--model', 'model', '--data', 'test.csv', '--mode', mode, '--scorer', scorer, ...FAST, '--out', out], dir);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(''); // in range: no warning; not a TTY: no progress bar
    expect(r.stdout).toMatch(new RegExp(`scored 40 objects .*${mode} mode, ${scorer}`));
    const input = readCsv(join(dir, 'test.csv'));
    const s = readCsv(join(dir, out));
    expect(s.header).toEqual([...input.header, ...scoreColumns(QS)]);
    expect(s.rows.length).toBe(40);
    // Input columns come back unchanged (numbers may be re-formatted, not changed).
    expect(s.col('id')).toEqual(input.col('id'));
    expect(s.col('class')).toEqual(input.col('class'));
    for (const c of ['e', 'z', 'f1', 'f2', 'f3']) expect(s.num(c)).toEqual(input.num(c));
    const score = s.num('outlier_score');
    const p = s.num('p_value');
    for (let i = 0; i < 40; i++) {
      expect(Number.isFinite(score[i])).toBe(true);
      expect(p[i] > 0 && p[i] < 1).toBe(true);
    }
    if (scorer === 'glosh') for (const x of score) expect(x >= 0 && x <= 1).toBe(true); // P_out = 1 - P_in
    expect(s.col('out_of_range').every((v) => v === 'false')).toBe(true);
    let previous: number[] | null = null;
    for (const q of QS) {
      const t = s.num(`threshold_${q}`);
      const flag = s.col(`is_outlier_${q}`);
      for (let i = 0; i < 40; i++) {
        expect(Number.isFinite(t[i])).toBe(true);
        expect(['true', 'false']).toContain(flag[i]);
        // The decision rule: outlier at q exactly when the p-value exceeds q.
        expect(flag[i] === 'true').toBe(p[i] > Number(q));
        // Below the q-quantile of the reference scores, never an outlier.
        if (score[i] < t[i]) expect(flag[i]).toBe('false');
        // Quantiles of one distribution grow with q.
        if (previous) expect(t[i]).toBeGreaterThanOrEqual(previous[i]);
      }
      previous = t;
    }
    // 3-sigma anomalies are more outlying than the reference objects on average.
    const cls = s.col('class');
    const mean = (keep: (i: number) => boolean): number => {
      const v = p.filter((_, i) => keep(i));
      return v.reduce((a, b) => a + b, 0) / v.length;
    };
    expect(mean((i) => cls[i] === 'anom')).toBeGreaterThan(mean((i) => cls[i] === 'ref'));
  }, 30_000);

  it('--quantiles are sorted and named as given (threshold_0.5 before threshold_0.9)', () => {
    const r = fluxmut(['score', '--model', 'model', '--data', 'test.csv', '--mode', 'cached', '--quantiles', '0.9,0.5', ...FAST, '--out', 'q.csv'], dir);
    expect(r.code).toBe(0);
    const s = readCsv(join(dir, 'q.csv'));
    expect(s.header.slice(-6)).toEqual(scoreColumns(['0.5', '0.9']).slice(1));
  });

  it('the same seed gives the same scores; the file round-trips through .tsv', () => {
    const a = fluxmut(['score', '--model', 'model', '--data', 'test.csv', '--mode', 'cached', ...FAST, '--seed', '3', '--out', 'a.csv'], dir);
    const b = fluxmut(['score', '--model', 'model', '--data', 'test.csv', '--mode', 'cached', ...FAST, '--seed', '3', '--out', 'b.tsv'], dir);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    const csv = readFileSync(join(dir, 'a.csv'), 'utf8');
    const tsv = readFileSync(join(dir, 'b.tsv'), 'utf8');
    expect(tsv.replaceAll('\t', ',')).toBe(csv);
  });
  it('--calibration-data: same scores and p-values, cut levels set on the held-out rows and printed', () => {
    writeSynth(join(dir, 'cal.csv'), { reference: 300, anomalous: 0, seed: 14, eRange: [1.5, 4.5], zRange: [1, 9] });
    const plain = fluxmut(['score', '--model', 'model', '--data', 'test.csv', '--mode', 'cached', ...FAST, '--out', 'plain.csv'], dir);
    const held = fluxmut(['score', '--model', 'model', '--data', 'test.csv', '--mode', 'cached', ...FAST, '--calibration-data', 'cal.csv', '--out', 'held.csv'], dir);
    expect(plain.code).toBe(0);
    expect(held.code).toBe(0);
    expect(plain.stdout).toMatch(/cut against the generated reference cluster/);
    const m = held.stdout.match(/cut calibrated on 300 held-out reference rows of cal\.csv \(q=0\.68: p > ([\d.]+), q=0\.95: p > ([\d.]+), q=0\.99: p > ([\d.]+)\)/);
    expect(m, held.stdout).not.toBeNull();
    const levels = m!.slice(1).map(Number);
    const a = readCsv(join(dir, 'plain.csv'));
    const b = readCsv(join(dir, 'held.csv'));
    expect(b.num('p_value')).toEqual(a.num('p_value'));
    expect(b.num('outlier_score')).toEqual(a.num('outlier_score'));
    const p = b.num('p_value');
    QS.forEach((q, j) => {
      const flag = b.col(`is_outlier_${q}`);
      // Printed to 4 decimals: decide only the objects whose p-value is not within rounding of the level.
      p.forEach((pi, i) => { if (Math.abs(pi - levels[j]) > 1e-4) expect(flag[i] === 'true').toBe(pi > levels[j]); });
    });
  }, 30_000);

  it('--calibration-data with the training file itself warns that the rows were trained on; exit 0', () => {
    const r = fluxmut(['score', '--model', 'model', '--data', 'test.csv', '--mode', 'cached', ...FAST, '--calibration-data', 'train.csv', '--out', 'cal-train.csv'], dir);
    expect(r.code).toBe(0);
    const warnings = r.stderr.split('\n').filter((l) => l.includes('trained on'));
    expect(warnings.length).toBe(1);
    expect(warnings[0]).toMatch(/^fluxmut: warning: train\.csv: 500 of 600 calibration rows have exactly the conditions of a row the model was trained on/);
  }, 30_000);

  it('--calibration-data errors name the file and the column, exit 65, write nothing', () => {
    writeFileSync(join(dir, 'cal-bad.csv'), 'e,z,f1,f3\n2,3,1,1\n');
    writeFileSync(join(dir, 'cal-nan.csv'), 'e,z,f1,f2,f3\n2,3,1,1,1\n2,3,1,NaN,1\n');
    writeFileSync(join(dir, 'cal-empty.csv'), 'e,z,f1,f2,f3\n');
    const cases: [string, RegExp][] = [
      ['cal-bad.csv', /cal-bad\.csv.*f2/],
      ['cal-nan.csv', /cal-nan\.csv: data row 2 .*f2/],
      ['cal-empty.csv', /cal-empty\.csv/],
    ];
    for (const [file, message] of cases) {
      const r = fluxmut(['score', '--model', 'model', '--data', 'test.csv', ...FAST, '--calibration-data', file, '--out', 'never.csv'], dir);
      expect(r.code, file).toBe(65);
      expect(r.stderr).toMatch(message);
      expect(stackLines(r.stderr)).toEqual([]);
      expect(existsSync(join(dir, 'never.csv'))).toBe(false);
    }
  });
});

describe('fluxmut evaluate', () => {
  it('prints the table, writes report.json, and its counts and AUC agree with fluxmut score on the same objects', () => {
    const r = fluxmut(['evaluate', '--model', 'model', '--data', 'eval.csv', '--label-column', 'class', '--reference-class', 'ref', '--mode', 'cached', ...FAST, '--report', 'report'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/AUC\s+0\.\d+ ± 0\.\d+/);
    expect(r.stdout).toMatch(/TPR \(reference kept\)/);
    expect(r.stdout).toMatch(/TNR \(anomalous flagged\)/);
    for (const q of QS) expect(r.stdout).toMatch(new RegExp(`^${q.replace('.', '\\.')}\\s`, 'm'));
    const rep = JSON.parse(readFileSync(join(dir, 'report', 'report.json'), 'utf8'));
    expect(rep.mode).toBe('cached');
    expect(rep.scorer).toBe('glosh');
    expect(rep.nObjects).toBe(400);
    expect(rep.secondsPerObject).toBeGreaterThan(0);
    expect(rep.quantiles.map((x: { q: number }) => x.q)).toEqual(QS.map(Number));

    // The same objects through `score` (same seed and options) must give the report's numbers.
    const s = fluxmut(['score', '--model', 'model', '--data', 'eval.csv', '--mode', 'cached', ...FAST, '--out', 'eval-scored.csv'], dir);
    expect(s.code).toBe(0);
    const t = readCsv(join(dir, 'eval-scored.csv'));
    const isRef = t.col('class').map((c) => c === 'ref');
    for (const [j, q] of QS.entries()) {
      const flag = t.col(`is_outlier_${q}`).map((v) => v === 'true');
      const kept = flag.filter((f, i) => isRef[i] && !f).length;
      const caught = flag.filter((f, i) => !isRef[i] && f).length;
      const { tpr, tnr } = rep.quantiles[j];
      expect([tpr.k, tpr.n]).toEqual([kept, 300]);
      expect([tnr.k, tnr.n]).toEqual([caught, 100]);
      expect(tpr.rate).toBeCloseTo(kept / 300, 12);
      // Binomial error sqrt(r(1-r)/n).
      expect(tpr.se).toBeCloseTo(Math.sqrt((tpr.rate * (1 - tpr.rate)) / 300), 12);
      expect(tnr.se).toBeCloseTo(Math.sqrt((tnr.rate * (1 - tnr.rate)) / 100), 12);
    }
    const a = mannWhitneyAuc(t.num('p_value'), isRef);
    expect(rep.auc.auc).toBeCloseTo(a, 10);
    expect(rep.auc.nReference).toBe(300);
    expect(rep.auc.nAnomalous).toBe(100);
    // Hanley & McNeil (1982) standard error.
    const q1 = a / (2 - a);
    const q2 = (2 * a * a) / (1 + a);
    const se = Math.sqrt((a * (1 - a) + 99 * (q1 - a * a) + 299 * (q2 - a * a)) / (100 * 300));
    expect(rep.auc.se).toBeCloseTo(se, 10);
    // Anomalies shifted by 3 sigma in two features are found even by a 3-epoch model.
    expect(a).toBeGreaterThan(0.8);
  }, 30_000);

  it('--mode exact --limit 25 evaluates a subset of 25 objects in exact mode', () => {
    const r = fluxmut(['evaluate', '--model', 'model', '--data', 'eval.csv', '--label-column', 'class', '--reference-class', 'ref', '--mode', 'exact', '--limit', '25', ...FAST, '--report', 'report-exact'], dir);
    expect(r.code).toBe(0);
    const rep = JSON.parse(readFileSync(join(dir, 'report-exact', 'report.json'), 'utf8'));
    expect(rep.mode).toBe('exact');
    expect(rep.nObjects).toBe(25);
    for (const x of rep.quantiles) expect(x.tpr.n + (x.tnr ? x.tnr.n : 0)).toBe(25);
    expect(existsSync(join(dir, 'report-exact', 'report.md'))).toBe(true);
  }, 30_000);

  it('errors name the column or class, exit 65, and write no report', () => {
    const a = fluxmut(['evaluate', '--model', 'model', '--data', 'eval.csv', '--label-column', 'label', '--reference-class', 'ref', ...FAST, '--report', 'no-report'], dir);
    expect(a.code).toBe(65);
    expect(a.stderr).toMatch(/eval\.csv: no column 'label'/);
    const b = fluxmut(['evaluate', '--model', 'model', '--data', 'eval.csv', '--label-column', 'class', '--reference-class', 'g', ...FAST, '--report', 'no-report'], dir);
    expect(b.code).toBe(65);
    expect(b.stderr).toMatch(/class = 'g'/);
    expect(b.stderr).toMatch(/ref, anom/);
    for (const r of [a, b]) expect(stackLines(r.stderr)).toEqual([]);
    expect(existsSync(join(dir, 'no-report'))).toBe(false);
  });

  it('--calibration-data keeps only the reference-class rows of a labelled file and says so in the report', () => {
    writeSynth(join(dir, 'cal-labelled.csv'), { reference: 250, anomalous: 40, seed: 15, eRange: [1.5, 4.5], zRange: [1, 9] });
    const r = fluxmut(['evaluate', '--model', 'model', '--data', 'eval.csv', '--label-column', 'class', '--reference-class', 'ref', '--mode', 'cached', ...FAST, '--calibration-data', 'cal-labelled.csv', '--report', 'report-cal'], dir);
    expect(r.code).toBe(0);
    const rep = JSON.parse(readFileSync(join(dir, 'report-cal', 'report.json'), 'utf8'));
    expect(rep.extra.calibration).toMatch(/^cut calibrated on 250 held-out reference rows of cal-labelled\.csv/);
    // Beside it, the paper's cut on the same p-values: what `score` without calibration decides.
    expect(rep.baselines.map((b: { name: string }) => b.name)).toEqual(["F+M, paper's cut (p > q)"]);
    const s = fluxmut(['score', '--model', 'model', '--data', 'eval.csv', '--mode', 'cached', ...FAST, '--out', 'eval-plain.csv'], dir);
    expect(s.code).toBe(0);
    const scored = readCsv(join(dir, 'eval-plain.csv'));
    const cls = scored.col('class');
    QS.forEach((q, j) => {
      const flags = scored.col(`is_outlier_${q}`);
      const kept = flags.filter((f, i) => cls[i] === 'ref' && f === 'false').length;
      const flagged = flags.filter((f, i) => cls[i] === 'anom' && f === 'true').length;
      expect(rep.baselines[0].quantiles[j].tpr.k).toBe(kept);
      expect(rep.baselines[0].quantiles[j].tnr.k).toBe(flagged);
    });
    expect(rep.baselines[0].auc.auc).toBe(rep.auc.auc);
  }, 30_000);
});
