/**
 * `fluxmut demo`: the paper's studies (Fanelli, Giroux, Papandreou 2022) re-run end to end on the
 * simulated data of docs/simulation.md, or on the MAGIC telescope data.
 *
 *   bcal  — GlueX-like BCAL showers, photons as the reference class: Table 1 (TPR/TNR at the
 *           68/95/99% cuts), Table 5 (features-only ablation against the augmented space), Table 2
 *           (original against Appendix-C-perturbed neutrons, with a supervised classifier trained on
 *           the original neutrons beside F+M); Fig. 3, Fig. C5, the ROC and Fig. C1.
 *   dijet — LHC-like dijets, QCD as the reference class: Table 4 and Fig. 4.
 *   magic — MAGIC gamma telescope, gammas as the reference class: Tables 1 and 5, figures.
 *
 * The studies live in demo-bcal.ts, demo-dijet.ts and demo-magic.ts, their shared pieces in
 * demo-study.ts; this file runs one, formats its tables and writes its files.
 *
 * Library side only: `runDemo` returns numbers and figures, `writeDemo` writes them; nothing is
 * printed here, progress goes through the callbacks.
 */
import { mkdir } from 'node:fs/promises';
import { writeFileAtomic } from './files.js';
import { join } from 'node:path';
import { ExitCode, FluxmutError } from '../core/errors.js';
import { VERSION } from '../version.js';
import { renderHtmlReport, type HtmlReport, type ReportTable } from './html.js';
import { auc, type Rate } from './metrics.js';
import {
  type Context, DEMO_PLANS, DEMO_QUANTILES, type DemoOptions, type DemoPlan, type DemoResult, type DemoTable, now, tableCells,
  tableHeader,
} from './demo-study.js';
import { bcalStudy } from './demo-bcal.js';
import { dijetStudy } from './demo-dijet.js';
import { magicStudy } from './demo-magic.js';

export {
  CALIBRATION_TOLERANCE, DEMO_PLANS, DEMO_QUANTILES,
  type DemoChecks, type DemoDataset, type DemoOptions, type DemoPlan, type DemoQuantile, type DemoResult, type DemoRow, type DemoSize, type DemoTable,
} from './demo-study.js';
export { MAGIC_CONDITIONS, MAGIC_DEFAULT_PATH, MAGIC_FEATURES } from './demo-magic.js';

// ------------------------------------------------------------------------------------------------
// Tables as text, Markdown, HTML and JSON


/** Fixed-width rendering of one table for the terminal. */
export function formatDemoTable(t: DemoTable): string {
  const header = tableHeader(t);
  const rows = tableCells(t);
  const width = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  const fmt = (cells: string[]): string => cells.map((c, j) => (j === 0 ? c.padEnd(width[j]) : c.padStart(width[j]))).join('  ').trimEnd();
  return [t.title, fmt(header), width.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n') + '\n';
}

function formatSeconds(s: number): string {
  return s >= 60 ? `${Math.floor(s / 60)} min ${(s % 60).toFixed(0)} s` : `${s.toFixed(1)} s`;
}

/** Everything printed at the end of a run: the tables, the findings, the time. */
export function formatDemo(r: DemoResult): string {
  const out = [`fluxmut demo --dataset ${r.dataset} --size ${r.size} --seed ${r.seed} --mode ${r.mode}`, ''];
  for (const t of r.tables) out.push(formatDemoTable(t));
  for (const f of r.findings) out.push(`* ${f}`);
  out.push('', `elapsed: ${formatSeconds(r.seconds)} (${Object.entries(r.timings).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join('; ')})`);
  return out.join('\n') + '\n';
}

function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

export function demoMarkdown(r: DemoResult): string {
  const out = [`# fluxmut demo: ${r.dataset}`, '', r.html.subtitle ?? '', ''];
  out.push(`Size ${r.size}, seed ${r.seed}, scoring mode ${r.mode}, N_ref ${r.plan.nRef}, min_cluster_size ${r.plan.minClusterSize}, min_samples ${r.plan.minSamples}. ` +
    `Rows: ${Object.entries(r.counts).map(([k, v]) => `${k} ${v}`).join(', ')}. Elapsed ${formatSeconds(r.seconds)}.`, '');
  for (const t of r.tables) {
    const header = tableHeader(t);
    out.push(`## ${t.title}`, '', t.caption, '', `| ${header.map(mdCell).join(' | ')} |`, `|${header.map(() => '---').join('|')}|`);
    for (const row of tableCells(t)) out.push(`| ${row.map(mdCell).join(' | ')} |`);
    out.push('');
  }
  out.push('## Findings', '', ...r.findings.map((f) => `- ${f}`), '');
  out.push('## Time per stage', '', '| stage | seconds |', '|---|---|', ...Object.entries(r.timings).map(([k, v]) => `| ${k} | ${v.toFixed(1)} |`), '');
  return out.join('\n');
}

export const DEMO_FORMAT = 'fluxmut-demo/1';

function rateJson(r: Rate): Record<string, number> {
  // Rates here always have n > 0, so every field is a finite number.
  return { rate: r.rate, se: r.se, k: r.k, n: r.n, lo: r.lo, hi: r.hi };
}

/** report.json: every table's numbers, the checks, the timings. */
export function demoJson(r: DemoResult): Record<string, unknown> {
  return {
    format: DEMO_FORMAT,
    fluxmutVersion: VERSION,
    dataset: r.dataset,
    size: r.size,
    seed: r.seed,
    mode: r.mode,
    scoring: { nRef: r.plan.nRef, minClusterSize: r.plan.minClusterSize, minSamples: r.plan.minSamples, quantiles: [...DEMO_QUANTILES] },
    counts: r.counts,
    tables: r.tables.map((t) => ({
      id: t.id,
      title: t.title,
      caption: t.caption,
      rows: t.rows.map((row) => ({
        label: row.label,
        auc: { auc: row.auc.auc, se: row.auc.se, nReference: row.auc.nReference, nAnomalous: row.auc.nAnomalous },
        quantiles: row.quantiles.map((q) => ({ q: q.q, tpr: rateJson(q.tpr), tnr: rateJson(q.tnr) })),
      })),
    })),
    checks: r.checks,
    findings: r.findings,
    numbers: r.numbers,
    timings: r.timings,
    seconds: r.seconds,
    warnings: r.warnings,
  };
}

// ------------------------------------------------------------------------------------------------
// Entry points

/** Runs one study and returns its tables, checks, findings and the HTML report (nothing is written). */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const t0 = now();
  const dataset = options.dataset ?? 'bcal';
  const size = options.size ?? 'full';
  const seed = options.seed ?? 1;
  const mode = options.mode ?? 'cached';
  if (!['bcal', 'dijet', 'magic'].includes(dataset)) throw new FluxmutError(`unknown dataset '${dataset}'; use bcal, dijet or magic`, ExitCode.Usage);
  if (size !== 'small' && size !== 'full') throw new FluxmutError(`unknown size '${size}'; use small or full`, ExitCode.Usage);
  if (mode !== 'cached' && mode !== 'exact') throw new FluxmutError(`unknown mode '${mode}'; use cached or exact`, ExitCode.Usage);
  if (!Number.isInteger(seed) || seed < 0) throw new FluxmutError(`--seed must be a non-negative integer, got ${seed}`, ExitCode.Usage);
  const plan: DemoPlan = { ...DEMO_PLANS[size], ...options.plan };
  const ctx: Context = { o: options, plan, seed, mode, timings: {}, warnings: [] };
  const study = dataset === 'bcal' ? await bcalStudy(ctx) : dataset === 'dijet' ? await dijetStudy(ctx) : await magicStudy(ctx);
  const seconds = now() - t0;
  const timingTable: ReportTable = {
    columns: ['stage', 'seconds'],
    rows: [...Object.entries(ctx.timings).map(([k, v]) => [k, v.toFixed(1)]), ['total', seconds.toFixed(1)]],
  };
  const html: HtmlReport = {
    title: `fluxmut demo: ${dataset}`,
    subtitle: study.subtitle,
    sections: [
      {
        heading: 'Setup',
        text: [
          `Rows: ${Object.entries(study.counts).map(([k, v]) => `${k} ${v}`).join(', ')}. Scoring: ${mode} mode, N_ref ${plan.nRef}, ` +
            `HDBSCAN min_cluster_size ${plan.minClusterSize}, min_samples ${plan.minSamples}, GLOSH outlier scores; quantile cuts ${DEMO_QUANTILES.join(', ')}. ` +
            `Models trained on reference-class rows only (seed ${seed}). TPR/TNR are quoted ± their binomial standard error.`,
          ...study.findings,
        ],
        tables: [timingTable],
      },
      ...study.sections,
    ],
    footer: `fluxmut ${VERSION} · demo --dataset ${dataset} --size ${size} --seed ${seed} --mode ${mode}`,
  };
  return {
    dataset, size, seed, mode, plan,
    counts: study.counts,
    tables: study.tables,
    checks: study.checks,
    findings: study.findings,
    numbers: study.numbers,
    timings: ctx.timings,
    seconds,
    html,
    models: study.models,
    warnings: ctx.warnings,
  };
}

export interface DemoFiles {
  html: string;
  json: string;
  markdown: string;
  models: string[];
}

/** Writes report.html, report.json, report.md and (optionally) the model directories into `dir`. */
export async function writeDemo(dir: string, r: DemoResult, options: { models?: boolean } = {}): Promise<DemoFiles> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    throw new FluxmutError(`cannot create the output folder ${dir}: ${(e as Error).message}`, ExitCode.CantCreate);
  }
  const files: DemoFiles = { html: join(dir, 'report.html'), json: join(dir, 'report.json'), markdown: join(dir, 'report.md'), models: [] };
  await writeFileAtomic(files.html, renderHtmlReport(r.html));
  await writeFileAtomic(files.json, JSON.stringify(demoJson(r), null, 1) + '\n');
  await writeFileAtomic(files.markdown, demoMarkdown(r));
  if (options.models ?? true) {
    for (const [name, model] of Object.entries(r.models)) {
      const path = join(dir, `model-${name}`);
      model.save(path);
      files.models.push(path);
    }
  }
  return files;
}
