/**
 * The evaluation report: what a physicist quotes from a run (per-quantile TPR/TNR with errors and
 * counts, AUC with its error, how it was scored, how fast) as a plain object, report.json,
 * report.md and a terminal table.
 */
import { mkdir } from 'node:fs/promises';
import { writeFileAtomic } from './files.js';
import { join } from 'node:path';
import { ExitCode, FluxmutError } from '../core/errors.js';
import { auc, decisionRates, ratesAtReferenceQuantile, type AucOptions, type AucResult, type BoolLike, type Rate } from './metrics.js';

export interface QuantileResult {
  q: number;
  /** Reference objects kept (the paper's TPR); should equal q. */
  tpr: Rate;
  /** Anomalous objects flagged (the paper's TNR); null when the test set has no labelled anomalies. */
  tnr: Rate | null;
}

/** A yardstick scored on the same test set (the paper's comparison table). */
export interface BaselineResult {
  name: string;
  auc: AucResult | null;
  /** Rates with the cut at the q-quantile of the baseline's own reference scores. */
  quantiles: QuantileResult[];
  note?: string;
}

export type ExtraValue = string | number | boolean | null;

export interface EvalReport {
  title: string;
  /** What was scored (file, rows, classes). */
  dataset: string;
  /** Which model (directory, hyperparameters in a line). */
  model: string;
  /** "exact" (the paper's per-object clustering) or "cached" (one cluster per condition bin). */
  mode: string;
  /** "glosh" or "flow-density". */
  scorer: string;
  nObjects: number;
  /** Wall-clock seconds per scored object; null if not measured. */
  secondsPerObject: number | null;
  auc: AucResult | null;
  quantiles: QuantileResult[];
  baselines: BaselineResult[];
  /** Anything else worth keeping with the numbers (seed, version, N_ref, ...), in insertion order. */
  extra: Record<string, ExtraValue>;
  /** ISO-8601 time stamp; left to the caller so reports stay reproducible. */
  createdAt: string | null;
}

export const REPORT_FORMAT = 'fluxmut-report/1';

/** A report with the defaults filled in. */
export function makeReport(fields: Partial<EvalReport> & Pick<EvalReport, 'quantiles'>): EvalReport {
  return {
    title: fields.title ?? 'fluxmut evaluation',
    dataset: fields.dataset ?? '',
    model: fields.model ?? '',
    mode: fields.mode ?? '',
    scorer: fields.scorer ?? '',
    nObjects: fields.nObjects ?? 0,
    secondsPerObject: fields.secondsPerObject ?? null,
    auc: fields.auc ?? null,
    quantiles: fields.quantiles,
    baselines: fields.baselines ?? [],
    extra: fields.extra ?? {},
    createdAt: fields.createdAt ?? null,
  };
}

/** Per-quantile rates from outlier flags (flags[j] belongs to qs[j]); TNR is null without anomalies. */
export function quantileResults(qs: ArrayLike<number>, flags: ArrayLike<BoolLike>, isReference: BoolLike): QuantileResult[] {
  if (qs.length !== flags.length) {
    throw new FluxmutError(`quantileResults: ${qs.length} quantiles but ${flags.length} sets of outlier flags; pass one set per quantile`);
  }
  const out: QuantileResult[] = [];
  for (let j = 0; j < qs.length; j++) {
    const r = decisionRates(flags[j], isReference);
    out.push({ q: qs[j], tpr: r.tpr, tnr: r.counts.anomalous > 0 ? r.tnr : null });
  }
  return out;
}

/**
 * A baseline's row: AUC (when both classes are present) and the paper's rates with the cut at the
 * q-quantile of its own reference scores (so TPR ≈ q by construction and TNR is comparable).
 */
export function baselineResult(
  name: string,
  scores: ArrayLike<number>,
  isReference: BoolLike,
  qs: ArrayLike<number>,
  options: AucOptions & { note?: string } = {},
): BaselineResult {
  const d = decisionRates(new Uint8Array(scores.length), isReference).counts;
  const both = d.reference > 0 && d.anomalous > 0;
  const quantiles: QuantileResult[] = [];
  for (let j = 0; j < qs.length; j++) {
    const r = ratesAtReferenceQuantile(scores, isReference, qs[j]);
    quantiles.push({ q: qs[j], tpr: r.tpr, tnr: r.counts.anomalous > 0 ? r.tnr : null });
  }
  const b: BaselineResult = { name, auc: both ? auc(scores, isReference, options) : null, quantiles };
  if (options.note !== undefined) b.note = options.note;
  return b;
}

// ------------------------------------------------------------------ JSON

/** JSON has no NaN/Infinity: non-finite numbers are written as null and read back as NaN. */
function num(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

function rateJSON(r: Rate): Record<string, unknown> {
  return { k: r.k, n: r.n, rate: num(r.rate), se: num(r.se), lo: r.lo, hi: r.hi, z: r.z };
}

function aucJSON(a: AucResult): Record<string, unknown> {
  const o: Record<string, unknown> = { auc: num(a.auc), se: num(a.se), nReference: a.nReference, nAnomalous: a.nAnomalous };
  if (a.bootstrapSe !== undefined) o.bootstrapSe = num(a.bootstrapSe);
  return o;
}

function quantileJSON(r: QuantileResult): Record<string, unknown> {
  return { q: r.q, tpr: rateJSON(r.tpr), tnr: r.tnr ? rateJSON(r.tnr) : null };
}

/** The report as a plain object for report.json. */
export function toJSON(report: EvalReport): Record<string, unknown> {
  return {
    format: REPORT_FORMAT,
    title: report.title,
    dataset: report.dataset,
    model: report.model,
    mode: report.mode,
    scorer: report.scorer,
    nObjects: report.nObjects,
    secondsPerObject: report.secondsPerObject === null ? null : num(report.secondsPerObject),
    auc: report.auc ? aucJSON(report.auc) : null,
    quantiles: report.quantiles.map(quantileJSON),
    baselines: report.baselines.map((b) => {
      const o: Record<string, unknown> = { name: b.name, auc: b.auc ? aucJSON(b.auc) : null, quantiles: b.quantiles.map(quantileJSON) };
      if (b.note !== undefined) o.note = b.note;
      return o;
    }),
    extra: Object.fromEntries(Object.entries(report.extra).map(([k, v]) => [k, typeof v === 'number' ? num(v) : v])),
    createdAt: report.createdAt,
  };
}

type Obj = Record<string, unknown>;

function bad(path: string, want: string): never {
  throw new FluxmutError(`report.json: ${path} should be ${want}; the file is not a fluxmut report or was edited by hand`, ExitCode.BadInput);
}

function obj(v: unknown, path: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(path, 'an object');
  return v as Obj;
}

function str(o: Obj, key: string, path: string): string {
  if (typeof o[key] !== 'string') bad(`${path}.${key}`, 'a string');
  return o[key] as string;
}

/** A number, or null meaning a non-finite value (NaN). */
function numOrNaN(o: Obj, key: string, path: string): number {
  const v = o[key];
  if (v === null) return NaN;
  if (typeof v !== 'number') bad(`${path}.${key}`, 'a number');
  return v;
}

function numStrict(o: Obj, key: string, path: string): number {
  const v = o[key];
  if (typeof v !== 'number') bad(`${path}.${key}`, 'a number');
  return v;
}

function arr(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) bad(path, 'an array');
  return v;
}

function rateFrom(v: unknown, path: string): Rate {
  const o = obj(v, path);
  return {
    k: numStrict(o, 'k', path),
    n: numStrict(o, 'n', path),
    rate: numOrNaN(o, 'rate', path),
    se: numOrNaN(o, 'se', path),
    lo: numStrict(o, 'lo', path),
    hi: numStrict(o, 'hi', path),
    z: numStrict(o, 'z', path),
  };
}

function aucFrom(v: unknown, path: string): AucResult | null {
  if (v === null) return null;
  const o = obj(v, path);
  const a: AucResult = {
    auc: numOrNaN(o, 'auc', path),
    se: numOrNaN(o, 'se', path),
    nReference: numStrict(o, 'nReference', path),
    nAnomalous: numStrict(o, 'nAnomalous', path),
  };
  if ('bootstrapSe' in o) a.bootstrapSe = numOrNaN(o, 'bootstrapSe', path);
  return a;
}

function quantileFrom(v: unknown, path: string): QuantileResult {
  const o = obj(v, path);
  return { q: numStrict(o, 'q', path), tpr: rateFrom(o.tpr, `${path}.tpr`), tnr: o.tnr === null ? null : rateFrom(o.tnr, `${path}.tnr`) };
}

/** Reads back what toJSON wrote (after JSON.parse), checking every field. */
export function fromJSON(value: unknown): EvalReport {
  const o = obj(value, 'the top level');
  if (o.format !== REPORT_FORMAT) bad('format', `"${REPORT_FORMAT}"`);
  const extraIn = obj(o.extra, 'extra');
  const extra: Record<string, ExtraValue> = {};
  for (const [k, v] of Object.entries(extraIn)) {
    if (v !== null && typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') bad(`extra.${k}`, 'a string, number, boolean or null');
    extra[k] = v as ExtraValue;
  }
  const spo = o.secondsPerObject;
  if (spo !== null && typeof spo !== 'number') bad('secondsPerObject', 'a number or null');
  if (o.createdAt !== null && typeof o.createdAt !== 'string') bad('createdAt', 'a string or null');
  return {
    title: str(o, 'title', 'report'),
    dataset: str(o, 'dataset', 'report'),
    model: str(o, 'model', 'report'),
    mode: str(o, 'mode', 'report'),
    scorer: str(o, 'scorer', 'report'),
    nObjects: numStrict(o, 'nObjects', 'report'),
    secondsPerObject: spo as number | null,
    auc: aucFrom(o.auc, 'auc'),
    quantiles: arr(o.quantiles, 'quantiles').map((q, i) => quantileFrom(q, `quantiles[${i}]`)),
    baselines: arr(o.baselines, 'baselines').map((b, i) => {
      const bo = obj(b, `baselines[${i}]`);
      const r: BaselineResult = {
        name: str(bo, 'name', `baselines[${i}]`),
        auc: aucFrom(bo.auc, `baselines[${i}].auc`),
        quantiles: arr(bo.quantiles, `baselines[${i}].quantiles`).map((q, j) => quantileFrom(q, `baselines[${i}].quantiles[${j}]`)),
      };
      if (bo.note !== undefined) r.note = str(bo, 'note', `baselines[${i}]`);
      return r;
    }),
    extra,
    createdAt: o.createdAt as string | null,
  };
}

// ------------------------------------------------------------------ text

const DIGITS = 4;

/**
 * "0.9512 ± 0.0021"; at k = 0 or k = n the standard error is 0 and says nothing, so the Wilson
 * interval is shown instead: "1.0000 [0.9990, 1.0000]".
 */
export function formatRate(r: Rate | null): string {
  if (r === null || r.n === 0) return 'n/a';
  if (r.k === 0 || r.k === r.n) return `${r.rate.toFixed(DIGITS)} [${r.lo.toFixed(DIGITS)}, ${r.hi.toFixed(DIGITS)}]`;
  return `${r.rate.toFixed(DIGITS)} ± ${r.se.toFixed(DIGITS)}`;
}

export function formatCounts(r: Rate | null): string {
  return r === null ? 'n/a' : `${r.k}/${r.n}`;
}

export function formatAuc(a: AucResult | null): string {
  if (a === null || !Number.isFinite(a.auc)) return 'n/a';
  let s = `${a.auc.toFixed(DIGITS)} ± ${a.se.toFixed(DIGITS)}`;
  if (a.bootstrapSe !== undefined && Number.isFinite(a.bootstrapSe)) s += ` (bootstrap ± ${a.bootstrapSe.toFixed(DIGITS)})`;
  return s;
}

/** Seconds in the unit that reads best. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return 'n/a';
  const a = Math.abs(seconds);
  if (a >= 1) return `${seconds.toPrecision(3)} s`;
  if (a >= 1e-3) return `${(seconds * 1e3).toPrecision(3)} ms`;
  return `${(seconds * 1e6).toPrecision(3)} µs`;
}

function formatExtra(v: ExtraValue): string {
  if (v === null) return 'n/a';
  return String(v);
}

function headerPairs(r: EvalReport): [string, string][] {
  const pairs: [string, string][] = [
    ['dataset', r.dataset],
    ['model', r.model],
    ['mode', r.mode],
    ['scorer', r.scorer],
    ['objects', String(r.nObjects)],
    ['time per object', formatDuration(r.secondsPerObject)],
    ['AUC', r.auc ? `${formatAuc(r.auc)} (${r.auc.nReference} reference, ${r.auc.nAnomalous} anomalous)` : 'n/a'],
  ];
  for (const [k, v] of Object.entries(r.extra)) pairs.push([k, formatExtra(v)]);
  if (r.createdAt) pairs.push(['created', r.createdAt]);
  return pairs;
}

const QUANTILE_HEADER = ['q', 'TPR (reference kept)', 'k/n', '(TPR-q)/σ', 'TNR (anomalous flagged)', 'k/n'];

/**
 * Calibration pull of the TPR: its distance from q in units of the binomial error expected if the
 * cut is calibrated, sqrt(q(1-q)/n) (defined at k = 0 or n too); |pull| > 3 means miscalibrated.
 */
export function tprPull(r: QuantileResult): number {
  const sd = Math.sqrt((r.q * (1 - r.q)) / r.tpr.n);
  return r.tpr.n > 0 && sd > 0 ? (r.tpr.rate - r.q) / sd : NaN;
}

function formatPull(v: number): string {
  return Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${v.toFixed(2)}` : 'n/a';
}

function quantileRows(rows: QuantileResult[]): string[][] {
  return rows.map((r) => [String(r.q), formatRate(r.tpr), formatCounts(r.tpr), formatPull(tprPull(r)), formatRate(r.tnr), formatCounts(r.tnr)]);
}

function baselineHeader(r: EvalReport): string[] {
  const qs = r.baselines[0]?.quantiles.map((q) => q.q) ?? [];
  return ['baseline', 'AUC', ...qs.flatMap((q) => [`TPR@${q}`, `TNR@${q}`])];
}

function baselineRows(r: EvalReport): string[][] {
  return r.baselines.map((b) => [b.name, formatAuc(b.auc), ...b.quantiles.flatMap((q) => [formatRate(q.tpr), formatRate(q.tnr)])]);
}

function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function mdTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.map(mdCell).join(' | ')} |`;
  return [line(header), `|${header.map(() => '---').join('|')}|`, ...rows.map(line)].join('\n');
}

/** report.md: a header table of what was run, then the per-quantile table and the baselines. */
export function toMarkdown(report: EvalReport): string {
  const parts = [`# ${report.title}`, '', mdTable(['item', 'value'], headerPairs(report)), '', '## Decisions per quantile', ''];
  parts.push(
    'TPR: fraction of reference-class objects kept (should equal q); TNR: fraction of anomalous objects flagged. ' +
      '± is the binomial standard error; at 0 or all of n the Wilson 68% interval is shown instead. ' +
      '(TPR-q)/σ is the calibration pull, σ = sqrt(q(1-q)/n).',
    '',
  );
  parts.push(report.quantiles.length ? mdTable(QUANTILE_HEADER, quantileRows(report.quantiles)) : '(no quantiles)');
  const notes = report.baselines.filter((b) => b.note).map((b) => `- ${b.name}: ${b.note}`);
  if (report.baselines.length) {
    parts.push('', '## Baselines', '', mdTable(baselineHeader(report), baselineRows(report)));
    if (notes.length) parts.push('', ...notes);
  }
  return parts.join('\n') + '\n';
}

function alignColumns(header: string[], rows: string[][]): string[] {
  const width = header.map((h, j) => Math.max(h.length, ...rows.map((r) => (r[j] ?? '').length)));
  const fmt = (cells: string[]): string => cells.map((c, j) => (j === 0 ? c.padEnd(width[j]) : c.padStart(width[j]))).join('  ').trimEnd();
  return [fmt(header), width.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)];
}

/** A fixed-width text rendering for the terminal. */
export function formatTable(report: EvalReport): string {
  const pairs = headerPairs(report);
  const kw = Math.max(...pairs.map(([k]) => k.length));
  const lines = [report.title, ...pairs.map(([k, v]) => `  ${k.padEnd(kw)}  ${v}`), ''];
  lines.push(...(report.quantiles.length ? alignColumns(QUANTILE_HEADER, quantileRows(report.quantiles)) : ['(no quantiles)']));
  if (report.baselines.length) lines.push('', ...alignColumns(baselineHeader(report), baselineRows(report)));
  return lines.join('\n') + '\n';
}

// ------------------------------------------------------------------ files

/** Writes report.json and report.md into `dir` (created if missing); returns their paths. */
export async function writeReport(dir: string, report: EvalReport): Promise<{ json: string; markdown: string }> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    throw new FluxmutError(`cannot create the report folder ${dir}: ${(e as Error).message}`, ExitCode.CantCreate);
  }
  const json = join(dir, 'report.json');
  const markdown = join(dir, 'report.md');
  await writeFileAtomic(json, JSON.stringify(toJSON(report), null, 2) + '\n');
  await writeFileAtomic(markdown, toMarkdown(report));
  return { json, markdown };
}
