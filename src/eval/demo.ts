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
 * Library side only: `runDemo` returns numbers and figures, `writeDemo` writes them; nothing is
 * printed here, progress goes through the callbacks.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { writeFileAtomic } from './files.js';
import { join, resolve } from 'node:path';
import { ExitCode, FluxmutError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { extract, type Schema } from '../data/schema.js';
import { getColumn, readTable, selectRows, type Table } from '../data/table.js';
import {
  BCAL_CONDITIONS, BCAL_FEATURES, BCAL_RANGES, DIJET_CONDITIONS, DIJET_FEATURES, DIJET_RANGES, simulateBcal, simulateDijet,
} from '../data/simulate/index.js';
import { trainFlux, type CaeOptions, type CmafOptions, type FluxModel, type Space } from '../flux/model.js';
import type { EpochReport } from '../flux/train.js';
import { scoreObjects, type CalibrationRows, type Mode, type Scores } from '../mutability/score.js';
import { calibrationRows } from '../mutability/table.js';
import { VERSION } from '../version.js';
import { fitGbt, gbtScore, type GbtOptions } from './baselines.js';
import { renderHtmlReport, type HtmlReport, type ReportFigure, type ReportSection, type ReportTable } from './html.js';
import { auc, decisionRates, quantileType7, roc, type AucResult, type Rate } from './metrics.js';
import { gridOfPlots, heatmapPlot, histogramPlot, rocPlot, scatterPlot, PALETTE, type PanelSpec } from './plots.js';
import { formatAuc, formatRate } from './report.js';

export type DemoDataset = 'bcal' | 'dijet' | 'magic';
export type DemoSize = 'small' | 'full';

export const DEMO_QUANTILES = [0.68, 0.95, 0.99] as const;
/** The issue's calibration target: |TPR - q| within 1.5 points at every quantile. */
export const CALIBRATION_TOLERANCE = 0.015;

/** How much of everything a demo uses. `full` is sized for ~5-8 minutes on a 2-core CPU. */
export interface DemoPlan {
  /** Reference-class rows the flux model is trained on. */
  trainRows: number;
  /** Held-out reference-class rows and anomalous rows in the test set. */
  testReference: number;
  testAnomalous: number;
  /** BCAL Table 2: photons and original neutrons the supervised classifier learns from, and photons that set its cut. */
  supervisedReference: number;
  supervisedAnomalous: number;
  /** Held-out reference rows, in no training set: they set F+M's held-out cut (and the BDT's cut). */
  calibrationReference: number;
  /** Objects (half reference, half anomalous) also scored in the paper's exact mode. */
  exactObjects: number;
  /** With --mode exact: held-out rows used for the cut (each costs a clustering, ~0.08 s at the paper's sizes). */
  exactCalibrationRows: number;
  cae: Partial<CaeOptions>;
  cmaf: Partial<CmafOptions>;
  nRef: number;
  minClusterSize: number;
  minSamples: number;
  gbt: GbtOptions;
}

export const DEMO_PLANS: Record<DemoSize, DemoPlan> = {
  full: {
    trainRows: 8000,
    testReference: 6000,
    testAnomalous: 4000,
    supervisedReference: 3000,
    supervisedAnomalous: 3000,
    // Held-out reference rows that set the F+M held-out cut and the BDT's cut. The realised TPR of a
    // held-out cut scatters by sqrt(q(1-q)/m) on top of the test set's own sqrt(q(1-q)/n), 0.60
    // points at q = 0.68 with n = 6000: m = 20000 (0.33 points) keeps the sum well inside the 1.5-point
    // target. With m = 10000 the dijet study (seed 1) missed it by 0.27 points, a 2.3-sigma draw of
    // its calibration sample (other calibration seeds: 0.0-0.3 points off).
    calibrationReference: 20000,
    exactObjects: 200,
    exactCalibrationRows: 2000,
    cae: {},
    cmaf: {},
    // The paper's reference-cluster and HDBSCAN sizes.
    nRef: 1500,
    minClusterSize: 1000,
    minSamples: 100,
    gbt: { rounds: 150, depth: 3, learningRate: 0.1 },
  },
  small: {
    trainRows: 500,
    testReference: 200,
    testAnomalous: 200,
    supervisedReference: 200,
    supervisedAnomalous: 200,
    calibrationReference: 200,
    exactObjects: 10,
    exactCalibrationRows: 50,
    cae: { epochs: 4, hidden: [16, 8], patience: 4 },
    cmaf: { epochs: 4, layers: 2, hidden: [24, 24], patience: 4 },
    nRef: 300,
    minClusterSize: 200,
    minSamples: 20,
    gbt: { rounds: 20, depth: 2 },
  },
};

export interface DemoOptions {
  dataset?: DemoDataset;
  size?: DemoSize;
  seed?: number;
  /** Scoring mode of the main tables (default cached); exact costs ~0.1 s per object. */
  mode?: Mode;
  /** MAGIC: the magic04.csv file (default ../shared/data/magic04.csv from the working directory). */
  data?: string;
  /** Overrides of the size plan (experiments, tests). */
  plan?: Partial<DemoPlan>;
  /** A step of the study begins (e.g. "training the augmented model"). */
  onStage?: (stage: string) => void;
  onEpoch?: (report: EpochReport) => void;
  /** Scoring progress; `label` names the batch being scored. */
  onProgress?: (label: string, done: number, total: number) => void;
  onWarning?: (message: string) => void;
}

/** One row of a results table: a method on a test set, with its rates at each quantile and its AUC. */
export interface DemoRow {
  label: string;
  auc: AucResult;
  quantiles: DemoQuantile[];
}

/** TPR (reference kept) and TNR (anomalous flagged) at one quantile cut; every test set here has both classes. */
export interface DemoQuantile {
  q: number;
  tpr: Rate;
  tnr: Rate;
}

export interface DemoTable {
  id: string;
  title: string;
  caption: string;
  rows: DemoRow[];
}

export interface DemoChecks {
  /** Largest |TPR - q| of the main F+M row (cached, full test set, held-out cut). */
  maxTprDeviation: number;
  calibrated: boolean;
  /** The same for the paper's cut (p > q against the generated reference cluster). */
  maxTprDeviationPaperCut: number;
  calibratedPaperCut: boolean;
  /** Table 5: AUC and TNR at every q of the augmented model above the features-only one (bcal, magic). */
  augmentedBeatsFeaturesAuc?: boolean;
  augmentedBeatsFeaturesTnr?: boolean;
}

export interface DemoResult {
  dataset: DemoDataset;
  size: DemoSize;
  seed: number;
  mode: Mode;
  plan: DemoPlan;
  /** Names of the classes and how many rows each part of the study used. */
  counts: Record<string, number>;
  tables: DemoTable[];
  checks: DemoChecks;
  /** Sentences on what the tables show (calibration, ablation, Table 2 pattern). */
  findings: string[];
  /** Extra numbers quoted in the findings (agreement exact vs cached, mean shifts, ...). */
  numbers: Record<string, number>;
  /** Wall-clock seconds per stage, and in total. */
  timings: Record<string, number>;
  seconds: number;
  html: HtmlReport;
  models: Record<string, FluxModel>;
  warnings: string[];
}

// ------------------------------------------------------------------------------------------------
// Small helpers

function now(): number {
  return Date.now() / 1000;
}

/** Rows of `table` whose label column equals (or not) `value`, as an index list. */
function rowsWhere(table: Table, column: string, value: string, equal = true): number[] {
  const col = getColumn(table, column);
  const out: number[] = [];
  for (let i = 0; i < table.nRows; i++) if ((String(col.values[i]) === value) === equal) out.push(i);
  return out;
}

function concatTables(a: Table, b: Table): Table {
  return {
    source: a.source,
    nRows: a.nRows + b.nRows,
    columns: a.columns.map((c) => {
      const d = getColumn(b, c.name);
      if (c.kind === 'number' && d.kind === 'number') {
        const v = new Float64Array(a.nRows + b.nRows);
        v.set(c.values);
        v.set(d.values, a.nRows);
        return { name: c.name, kind: 'number' as const, values: v };
      }
      return { name: c.name, kind: 'string' as const, values: [...c.values, ...d.values].map(String) };
    }),
  };
}

function mask(nRef: number, nAnom: number): Uint8Array {
  const m = new Uint8Array(nRef + nAnom);
  m.fill(1, 0, nRef);
  return m;
}

/**
 * F+M's rates: objects flagged where the p-value exceeds the cut level of q (the per-object dynamic
 * cut): q itself for the paper's cut, the held-out calibration level otherwise.
 */
function fmRow(label: string, pValue: ArrayLike<number>, isRef: Uint8Array, qs: readonly number[], levels: readonly number[] = qs): DemoRow {
  const quantiles = qs.map((q, j) => {
    const flags = new Uint8Array(pValue.length);
    for (let i = 0; i < flags.length; i++) flags[i] = pValue[i] > levels[j] ? 1 : 0;
    const r = decisionRates(flags, isRef);
    return { q, tpr: r.tpr, tnr: r.tnr };
  });
  return { label, auc: auc(pValue, isRef), quantiles };
}

/** A plain score's rates with the cut at the q-quantile of separate calibration reference scores. */
function cutRow(label: string, scores: ArrayLike<number>, isRef: Uint8Array, calibration: Float64Array, qs: readonly number[]): DemoRow {
  const sorted = Float64Array.from(calibration).sort();
  const quantiles = qs.map((q) => {
    const cut = quantileType7(sorted, q);
    const flags = new Uint8Array(scores.length);
    for (let i = 0; i < flags.length; i++) flags[i] = scores[i] > cut ? 1 : 0;
    const r = decisionRates(flags, isRef);
    return { q, tpr: r.tpr, tnr: r.tnr };
  });
  return { label, auc: auc(scores, isRef), quantiles };
}

function subsetScores(s: Scores, idx: number[]): { pValue: Float64Array; outlierScore: Float64Array } {
  return { pValue: Float64Array.from(idx, (i) => s.pValue[i]), outlierScore: Float64Array.from(idx, (i) => s.outlierScore[i]) };
}

function concatF64(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const out = new Float64Array(a.length + b.length);
  out.set(a as ArrayLike<number>);
  out.set(b as ArrayLike<number>, a.length);
  return out;
}

function median(values: ArrayLike<number>): number {
  const s = Float64Array.from(values).sort();
  return s.length === 0 ? NaN : quantileType7(s, 0.5);
}

function mean(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return values.length ? s / values.length : NaN;
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

// ------------------------------------------------------------------------------------------------
// The pieces every study shares

interface Context {
  o: DemoOptions;
  plan: DemoPlan;
  seed: number;
  mode: Mode;
  timings: Record<string, number>;
  warnings: string[];
}

async function timed<T>(ctx: Context, stage: string, fn: () => T | Promise<T>): Promise<T> {
  ctx.o.onStage?.(stage);
  const t0 = now();
  const out = await fn();
  ctx.timings[stage] = (ctx.timings[stage] ?? 0) + (now() - t0);
  return out;
}

function train(ctx: Context, table: Table, schema: Schema, space: Space): Promise<FluxModel> {
  return timed(ctx, `training the ${space === 'augmented' ? 'augmented' : 'features-only'} model`, () =>
    trainFlux(table, {
      features: schema.features, conditions: schema.conditions, space, seed: ctx.seed,
      cae: ctx.plan.cae, cmaf: ctx.plan.cmaf, onEpoch: ctx.o.onEpoch,
    }),
  );
}

function score(ctx: Context, model: FluxModel, table: Table, label: string, mode: Mode = ctx.mode, calibration?: Table): Promise<Scores> {
  return timed(ctx, `scoring (${mode})`, () => {
    const { x, k, rows } = extract(table, model.schema);
    let calTable = calibration;
    const cap = ctx.plan.exactCalibrationRows;
    if (calTable && mode === 'exact' && calTable.nRows > cap) {
      // Each calibration row costs a clustering in exact mode, as an object does.
      const m = `${label}: exact mode, so the held-out cut is set on the first ${cap} of ${calTable.nRows} calibration rows`;
      ctx.warnings.push(m);
      ctx.o.onWarning?.(m);
      calTable = selectRows(calTable, Array.from({ length: cap }, (_, i) => i));
    }
    const cal: CalibrationRows | undefined = calTable ? calibrationRows(model, calTable) : undefined;
    return scoreObjects(model, x, k, rows, {
      mode, quantiles: [...DEMO_QUANTILES], nRef: ctx.plan.nRef, minClusterSize: ctx.plan.minClusterSize,
      minSamples: ctx.plan.minSamples, seed: ctx.seed, calibration: cal,
      onProgress: (d, t) => ctx.o.onProgress?.(label, d, t),
      onWarning: (m) => { ctx.warnings.push(`${label}: ${m}`); ctx.o.onWarning?.(`${label}: ${m}`); },
    });
  });
}

/**
 * The exact-vs-cached comparison: the paper's per-object clustering on a subset of the test set
 * (half reference, half anomalous), beside the cached scores of the very same objects.
 */
async function exactComparison(
  ctx: Context, model: FluxModel, test: Table, nRef: number, cached: Scores, what: string,
): Promise<{ rows: DemoRow[]; numbers: Record<string, number> }> {
  const half = Math.max(1, Math.floor(ctx.plan.exactObjects / 2));
  const idx = [...Array.from({ length: Math.min(half, nRef) }, (_, i) => i), ...Array.from({ length: Math.min(half, test.nRows - nRef) }, (_, i) => nRef + i)];
  const nR = Math.min(half, nRef);
  const isRef = mask(nR, idx.length - nR);
  const sub = selectRows(test, idx);
  const other: Mode = ctx.mode === 'cached' ? 'exact' : 'cached';
  const s = await score(ctx, model, sub, `${what} subset (${other})`, other);
  const c = subsetScores(cached, idx);
  const agree95 = mean(Array.from(idx, (_, j) => ((c.pValue[j] > 0.95) === (s.pValue[j] > 0.95) ? 1 : 0)));
  return {
    rows: [
      fmRow(`F+M ${other}, ${idx.length}-object subset`, s.pValue, isRef, DEMO_QUANTILES),
      fmRow(`F+M ${ctx.mode}, same subset`, c.pValue, isRef, DEMO_QUANTILES),
    ],
    numbers: { exactCachedAgreement95: agree95, exactSecondsPerObject: s.seconds / Math.max(1, idx.length) },
  };
}

/** Fig. C1: original, reconstructed and generated features of the training rows in the fullest condition bin. */
function featureFigure(model: FluxModel, trainTable: Table, rng: Rng, title: string): ReportFigure {
  const bank = model.bank;
  let bin = 0;
  for (let b = 1; b < bank.nBins; b++) if (bank.counts[b] > bank.counts[bin]) bin = b;
  const rows = Array.from(bank.rowsOfBin(bin));
  const { x, k } = extract(selectRows(trainTable, rows), model.schema);
  const n = rows.length;
  const N = model.nFeatures;
  const recon = model.featureScaler.inverseTransform(
    Float64Array.from(model.cae.reconstruct(model.scaleFeatures(x), model.scaleConditions(k), n)), N,
  );
  // Generated objects live in the standardised augmented space; undo both scalers to reach x'.
  const gen = model.generateBinReference(bin, Math.max(n, 500), rng);
  const D = model.dim;
  const raw = model.augmentedScaler.inverseTransform(Float64Array.from(gen.a), D);
  const nGen = raw.length / D;
  const genX = new Float64Array(nGen * N);
  for (let r = 0; r < nGen; r++) for (let j = 0; j < N; j++) genX[r * N + j] = raw[r * D + j];
  const generated = model.featureScaler.inverseTransform(genX, N);
  const column = (m: Float64Array, rowsN: number, j: number): Float64Array => Float64Array.from({ length: rowsN }, (_, r) => m[r * N + j]);
  const panels: PanelSpec[] = model.schema.features.map((f, j) => {
    const orig = column(x, n, j);
    const s = Float64Array.from(orig).sort();
    // Range from the originals' 0.5-99.5% so one wild generated value does not squash the panel.
    const lo = quantileType7(s, 0.005), hi = quantileType7(s, 0.995);
    return {
      kind: 'histogram' as const, title: f, density: true, bins: 30,
      range: hi > lo ? ([lo, hi] as const) : undefined,
      series: [
        { name: 'original x', values: orig, color: PALETTE[0] },
        { name: "reconstructed x'", values: column(recon, n, j), color: PALETTE[1] },
        { name: "generated x'", values: column(generated, nGen, j), color: PALETTE[2] },
      ],
    };
  });
  const info = bank.binInfo(bin);
  const where = model.schema.conditions.map((c, j) => `${c} in [${info.lower[j].toPrecision(4)}, ${info.upper[j].toPrecision(4)})`).join(', ');
  return {
    svg: gridOfPlots({
      title, columns: 4, panels, panelWidth: 260, panelHeight: 200,
      legend: [{ name: 'original x', color: PALETTE[0] }, { name: "reconstructed x'", color: PALETTE[1] }, { name: "generated x'", color: PALETTE[2] }],
    }),
    caption:
      `Paper Fig. C1: in one kinematic bin (${where}; ${n} training rows), each feature of the training objects (original), ` +
      `their cAE reconstructions, and ${nGen} objects generated by the flow from the bin's latent KDE (unit-area histograms).`,
  };
}

function scoreHistogram(refName: string, anomName: string, ref: ArrayLike<number>, anom: ArrayLike<number>, threshold: number, q: number): ReportFigure {
  return {
    svg: histogramPlot({
      title: 'Outlier-score distributions', xLabel: 'outlier score P_out (GLOSH)', yLabel: 'density', density: true, bins: 40,
      series: [{ name: refName, values: ref }, { name: anomName, values: anom }],
      vlines: [{ x: threshold, label: `median ${Math.round(q * 100)}% cut` }],
    }),
    caption:
      `Paper Fig. C5: outlier scores of test ${refName} and ${anomName}. The line is the median over objects of the per-object ` +
      `${Math.round(q * 100)}% threshold (each object's cut is set on its own reference cluster, so it varies with kinematics).`,
  };
}

function pValueHistogram(refName: string, anomName: string, ref: ArrayLike<number>, anom: ArrayLike<number>): ReportFigure {
  return {
    svg: histogramPlot({
      title: 'p-values', xLabel: 'p-value (position in the reference cluster\'s score distribution)', yLabel: 'density',
      density: true, bins: 20, range: [0, 1], series: [{ name: refName, values: ref }, { name: anomName, values: anom }],
    }),
    caption: `p-values of test ${refName} (flat if the cut is calibrated: TPR = q at every q) and ${anomName} (piled up near 1).`,
  };
}

function rocFigure(curves: { name: string; scores: ArrayLike<number>; isRef: Uint8Array; auc: number }[], refName: string, anomName: string): ReportFigure {
  return {
    svg: rocPlot({
      title: 'ROC', axes: 'tpr-tnr', xLabel: `TPR (${refName} kept)`, yLabel: `TNR (${anomName} flagged)`,
      curves: curves.map((c, i) => {
        const r = roc(c.scores, c.isRef);
        return { name: c.name, fpr: r.fpr, tpr: r.tpr, auc: c.auc, color: PALETTE[i] };
      }),
    }),
    caption: `ROC curves from the p-values (F+M) and from the classifier's score: fraction of ${anomName} flagged against fraction of ${refName} kept.`,
  };
}

/** Paper Fig. 3: mean outlier score per bin of two conditions, one panel per class, shared colour scale. */
function conditionHeatmaps(
  classes: { name: string; k: Float64Array; score: ArrayLike<number> }[], names: [string, string], xEdges: number[], yEdges: number[], L: number, xi: number, yi: number,
): ReportFigure {
  const nx = xEdges.length - 1, ny = yEdges.length - 1;
  const find = (edges: number[], v: number): number => {
    if (!(v >= edges[0] && v <= edges[edges.length - 1])) return -1;
    let b = 0;
    while (b < edges.length - 2 && v >= edges[b + 1]) b++;
    return b;
  };
  const maps = classes.map((c) => {
    const sum = new Float64Array(nx * ny), cnt = new Float64Array(nx * ny);
    for (let i = 0; i < c.score.length; i++) {
      const bx = find(xEdges, c.k[i * L + xi]), by = find(yEdges, c.k[i * L + yi]);
      if (bx < 0 || by < 0) continue;
      sum[by * nx + bx] += c.score[i];
      cnt[by * nx + bx]++;
    }
    return Float64Array.from(sum, (s, j) => (cnt[j] > 0 ? s / cnt[j] : NaN));
  });
  let lo = Infinity, hi = -Infinity;
  for (const m of maps) for (const v of m) if (Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const colorRange = lo < hi ? ([lo, hi] as const) : undefined;
  return {
    svg: gridOfPlots({
      columns: 2, panelWidth: 480, panelHeight: 360,
      panels: classes.map((c, i) => ({
        kind: 'heatmap' as const, title: c.name, xLabel: names[0], yLabel: names[1], xEdges, yEdges, values: maps[i], colorLabel: 'mean P_out', colorRange,
      })),
    }),
    caption: `Paper Fig. 3: mean outlier score of the test objects in bins of ${names[0]} and ${names[1]}, per class, on one colour scale.`,
  };
}

function edgesBetween(lo: number, hi: number, n: number): number[] {
  return Array.from({ length: n + 1 }, (_, i) => lo + ((hi - lo) * i) / n);
}

function quantileEdges(values: Float64Array, n: number): number[] {
  const s = Float64Array.from(values).sort();
  const e: number[] = [];
  for (let i = 0; i <= n; i++) {
    const v = quantileType7(s, i / n);
    if (e.length === 0 || v > e[e.length - 1]) e.push(v);
  }
  return e;
}

function exactFinding(n: Record<string, number>, mode: Mode): string {
  const other = mode === 'cached' ? 'exact' : 'cached';
  return `Exact against cached mode on the subset: the two agree on ${pct(n.exactCachedAgreement95)} of the decisions at q = 0.95; ` +
    `the ${other} mode took ${(1000 * n.exactSecondsPerObject).toFixed(0)} ms per object.`;
}

/** How many held-out rows set the cut levels of these scores (0 for the paper's cut). */
function heldOutRows(s: Scores): number {
  return s.calibration.kind === 'held-out' ? s.calibration.rows : 0;
}

function tprDeviation(row: DemoRow): { maxDev: number; ok: boolean; text: string } {
  const maxDev = Math.max(...row.quantiles.map((r) => Math.abs(r.tpr.rate - r.q)));
  // The pull uses the error expected if calibrated, sqrt(q(1-q)/n), as report.ts tprPull does.
  const parts = row.quantiles.map((r) => `${pct(r.tpr.rate)} at q = ${r.q} (pull ${((r.tpr.rate - r.q) / Math.sqrt((r.q * (1 - r.q)) / r.tpr.n)).toFixed(1)}σ)`);
  const ok = maxDev <= CALIBRATION_TOLERANCE;
  return { maxDev, ok, text: `TPR ${parts.join(', ')}; largest |TPR - q| = ${(100 * maxDev).toFixed(2)} points, ${ok ? 'within' : 'OUTSIDE'} the ${(100 * CALIBRATION_TOLERANCE).toFixed(1)}-point target` };
}

/** The calibration finding: the held-out cut (the main row) and the paper's generated cut. */
function calibrationCheck(heldOut: DemoRow, paperCut: DemoRow, m: number, levels: readonly number[]): {
  maxDev: number; ok: boolean; maxDevPaper: number; okPaper: boolean; text: string;
} {
  const h = tprDeviation(heldOut);
  const g = tprDeviation(paperCut);
  const lv = DEMO_QUANTILES.map((q, j) => `${levels[j].toFixed(3)} for q = ${q}`).join(', ');
  return {
    maxDev: h.maxDev, ok: h.ok, maxDevPaper: g.maxDev, okPaper: g.ok,
    text: `Calibration, held-out cut (levels on the p-value set on ${m} held-out reference rows: ${lv}): ${h.text}. ` +
      `The paper's cut (p > q against the generated reference cluster): ${g.text}; ` +
      `this measures how well the generated reference cluster matches the real class.`,
  };
}

function ablationCheck(aug: DemoRow, feat: DemoRow): { aucBetter: boolean; tnrBetter: boolean; text: string } {
  const aucBetter = aug.auc.auc > feat.auc.auc;
  const tnrBetter = aug.quantiles.every((r, j) => r.tnr.rate > feat.quantiles[j].tnr.rate);
  const tnrs = aug.quantiles.map((r, j) => `${pct(r.tnr.rate)} vs ${pct(feat.quantiles[j].tnr.rate)} at q = ${r.q}`).join(', ');
  return {
    aucBetter, tnrBetter,
    text: `Table 5: augmented AUC ${aug.auc.auc.toFixed(4)} vs features-only ${feat.auc.auc.toFixed(4)}; TNR ${tnrs}. ` +
      (aucBetter && tnrBetter ? 'The augmented space beats features only on every measure.' :
        aucBetter || tnrBetter ? 'The augmented space wins on some measures, not all.' : 'Features only does as well or better here.'),
  };
}

// ------------------------------------------------------------------------------------------------
// Studies

interface StudyOutput {
  counts: Record<string, number>;
  tables: DemoTable[];
  checks: DemoChecks;
  findings: string[];
  numbers: Record<string, number>;
  sections: ReportSection[];
  models: Record<string, FluxModel>;
  subtitle: string;
}

async function bcalStudy(ctx: Context): Promise<StudyOutput> {
  const p = ctx.plan;
  const schema: Schema = { features: [...BCAL_FEATURES], conditions: [...BCAL_CONDITIONS] };
  const qs = DEMO_QUANTILES;
  // Three independent simulations: flux training + supervised training/calibration, and the test
  // set twice from one seed — once as simulated, once with the Appendix C perturbation, so the
  // perturbed neutrons are the very same showers, moved toward the photons.
  const { trainSet, test, testPerturbed } = await timed(ctx, 'simulating BCAL showers', () => {
    const trainSet = simulateBcal({ photons: p.trainRows + p.supervisedReference + p.calibrationReference, neutrons: p.supervisedAnomalous }, new Rng(ctx.seed));
    const testArgs = { photons: p.testReference, neutrons: p.testAnomalous };
    const test = simulateBcal(testArgs, new Rng(ctx.seed + 1000));
    const testPerturbed = simulateBcal({ ...testArgs, perturb: true }, new Rng(ctx.seed + 1000));
    return { trainSet, test, testPerturbed };
  });
  const photons = rowsWhere(trainSet, 'class', 'photon');
  const fluxTrain = selectRows(trainSet, photons.slice(0, p.trainRows));
  const supPhotons = photons.slice(p.trainRows, p.trainRows + p.supervisedReference);
  const calPhotons = photons.slice(p.trainRows + p.supervisedReference);
  const calTable = selectRows(trainSet, calPhotons);
  const supNeutrons = rowsWhere(trainSet, 'class', 'neutron');
  const nR = p.testReference, nA = p.testAnomalous;
  const isRef = mask(nR, nA);
  const perturbedNeutrons = selectRows(testPerturbed, Array.from({ length: nA }, (_, i) => nR + i));

  const aug = await train(ctx, fluxTrain, schema, 'augmented');
  const feat = await train(ctx, fluxTrain, schema, 'features');
  const sAug = await score(ctx, aug, test, 'photons + neutrons, augmented', ctx.mode, calTable);
  const sFeat = await score(ctx, feat, test, 'photons + neutrons, features only', ctx.mode, calTable);
  // Same model, rows and seed as sAug's calibration, so its levels apply to the perturbed neutrons too.
  const sPert = await score(ctx, aug, perturbedNeutrons, 'perturbed neutrons, augmented');

  // The supervised baseline sees E, z and the 14 features; its cut is set on photons it never trained on.
  const gbtCols: Schema = { features: [...BCAL_CONDITIONS, ...BCAL_FEATURES], conditions: [] };
  const xOf = (t: Table): Float64Array => extract(t, gbtCols).x;
  const d = gbtCols.features.length;
  const { gbtOrig, gbtPert, gbtCal } = await timed(ctx, 'supervised baseline (boosted trees)', () => {
    const supTable = selectRows(trainSet, [...supPhotons, ...supNeutrons]);
    const model = fitGbt(xOf(supTable), d, mask(supPhotons.length, supNeutrons.length), p.gbt);
    return {
      gbtOrig: gbtScore(model, xOf(test)),
      gbtPert: gbtScore(model, xOf(perturbedNeutrons)),
      gbtCal: gbtScore(model, xOf(calTable)),
    };
  });

  const main = fmRow(`F+M augmented, ${ctx.mode}, held-out cut`, sAug.pValue, isRef, qs, sAug.levels);
  const paperCut = fmRow(`F+M augmented, ${ctx.mode}, paper's cut (p > q)`, sAug.pValue, isRef, qs);
  const exact = await exactComparison(ctx, aug, test, nR, sAug, 'photons + neutrons');
  const featRow = fmRow(`F+M features only (x'), ${ctx.mode}`, sFeat.pValue, isRef, qs, sFeat.levels);
  const augRow5 = fmRow(`F+M augmented ([x', x' - x]), ${ctx.mode}`, sAug.pValue, isRef, qs, sAug.levels);
  const photonP = sAug.pValue.subarray(0, nR);
  const fmPert = fmRow('F+M, perturbed neutrons', concatF64(photonP, sPert.pValue), isRef, qs, sAug.levels);
  const fmOrig = fmRow('F+M, original neutrons', sAug.pValue, isRef, qs, sAug.levels);
  const gbtOrigRow = cutRow('supervised BDT, original neutrons', gbtOrig, isRef, gbtCal, qs);
  const gbtPertRow = cutRow('supervised BDT, perturbed neutrons', concatF64(gbtOrig.subarray(0, nR), gbtPert), isRef, gbtCal, qs);

  const tables: DemoTable[] = [
    {
      id: 'table1', title: 'Table 1: photons (reference) against neutrons',
      caption: `TPR = photons kept, TNR = neutrons flagged, at the dynamic quantile cut q. F+M flags an object when its p-value against its reference cluster ` +
        `exceeds the cut level: set on ${heldOutRows(sAug)} held-out photons (held-out cut, README "Held-out calibration"), or q itself (the paper's cut). ` +
        `Test set: ${nR} photons, ${nA} neutrons. The last two rows compare the paper's exact per-object clustering with the cached mode on the same objects, both with the paper's cut.`,
      rows: [main, paperCut, ...exact.rows],
    },
    {
      id: 'table5', title: 'Table 5: features only against the augmented space',
      caption: `The same training photons and test set; the features-only model runs the flow on the reconstruction x' alone, the augmented one on [x', x' - x]. Both with the held-out cut.`,
      rows: [featRow, augRow5],
    },
    {
      id: 'table2', title: 'Table 2: original against perturbed neutrons (Appendix C)',
      caption: `The same test photons; the neutrons once as simulated and once with every feature pushed toward the photons by the Appendix C formula (P = 10%). ` +
        `The supervised boosted decision trees (BDT) were trained on ${supPhotons.length} photons and ${supNeutrons.length} ORIGINAL neutrons; ` +
        `their cut is the q-quantile of their scores on the ${calPhotons.length} held-out photons that also set F+M's held-out cut, so their TPR is q by construction too.`,
      rows: [fmOrig, fmPert, gbtOrigRow, gbtPertRow],
    },
  ];

  const cal = calibrationCheck(main, paperCut, heldOutRows(sAug), sAug.levels);
  const abl = ablationCheck(augRow5, featRow);
  // What drives Table 2: how far the perturbation moved the neutrons in each method's own score.
  const nOrigScore = median(sAug.outlierScore.subarray(nR)), nPertScore = median(sPert.outlierScore);
  const gbtMedOrig = median(gbtOrig.subarray(nR)), gbtMedPert = median(gbtPert);
  const dTnrFm = fmOrig.quantiles.map((r, j) => r.tnr.rate - fmPert.quantiles[j].tnr.rate);
  const dTnrGbt = gbtOrigRow.quantiles.map((r, j) => r.tnr.rate - gbtPertRow.quantiles[j].tnr.rate);
  const q95 = qs.indexOf(0.95);
  const shifts = perturbationShifts(test, perturbedNeutrons, nR, schema.features);
  const fracOff = fractionSumDeviation(perturbedNeutrons);
  const table2 = table2Finding(fmOrig, fmPert, gbtOrigRow, gbtPertRow, q95, shifts, { nOrigScore, nPertScore, gbtMedOrig, gbtMedPert, fracOff });
  const findings = [cal.text, abl.text, table2, exactFinding(exact.numbers, ctx.mode)];
  const numbers: Record<string, number> = {
    ...exact.numbers,
    neutronMedianScoreOriginal: nOrigScore, neutronMedianScorePerturbed: nPertScore,
    bdtNeutronMedianOriginal: gbtMedOrig, bdtNeutronMedianPerturbed: gbtMedPert,
    tnrDrop95FM: dTnrFm[q95], tnrDrop95BDT: dTnrGbt[q95], perturbedFractionSumDeviation: fracOff,
    ...Object.fromEntries(shifts.map((f) => [`shift_${f.name}`, f.shift])),
  };

  // Figures.
  const { k: kTest } = extract(test, schema);
  const zEdges = edgesBetween(BCAL_RANGES.z[0], BCAL_RANGES.z[1], 10);
  const eEdges = edgesBetween(BCAL_RANGES.E[0], BCAL_RANGES.E[1], 8);
  const fig3 = conditionHeatmaps(
    [
      { name: 'photons', k: kTest.subarray(0, nR * 2), score: sAug.outlierScore.subarray(0, nR) },
      { name: 'neutrons', k: kTest.subarray(nR * 2), score: sAug.outlierScore.subarray(nR) },
    ],
    ['z (cm)', 'E (GeV)'], zEdges, eEdges, 2, 1, 0,
  );
  const thr95 = median(sAug.thresholds[q95]);
  const figRng = new Rng(ctx.seed + 7);
  const sections: ReportSection[] = [
    sectionOf(tables[0], [cal.text], [
      fig3,
      scoreHistogram('photons', 'neutrons', sAug.outlierScore.subarray(0, nR), sAug.outlierScore.subarray(nR), thr95, 0.95),
      pValueHistogram('photons', 'neutrons', photonP, sAug.pValue.subarray(nR)),
      rocFigure([
        { name: 'F+M augmented', scores: sAug.pValue, isRef, auc: augRow5.auc.auc },
        { name: 'F+M features only', scores: sFeat.pValue, isRef, auc: featRow.auc.auc },
        { name: 'supervised BDT', scores: gbtOrig, isRef, auc: gbtOrigRow.auc.auc },
      ], 'photons', 'neutrons'),
    ]),
    sectionOf(tables[1], [abl.text], []),
    sectionOf(tables[2], [table2], [
      {
        svg: histogramPlot({
          title: 'BDT score', xLabel: 'BDT probability of neutron', yLabel: 'density', density: true, bins: 40, range: [0, 1], logY: true,
          series: [{ name: 'photons', values: gbtOrig.subarray(0, nR) }, { name: 'original neutrons', values: gbtOrig.subarray(nR) }, { name: 'perturbed neutrons', values: gbtPert }],
        }),
        caption: 'The supervised classifier\'s score for test photons and for the same neutrons before and after the perturbation.',
      },
      {
        svg: histogramPlot({
          title: 'F+M outlier score', xLabel: 'outlier score P_out', yLabel: 'density', density: true, bins: 40,
          series: [{ name: 'photons', values: sAug.outlierScore.subarray(0, nR) }, { name: 'original neutrons', values: sAug.outlierScore.subarray(nR) }, { name: 'perturbed neutrons', values: sPert.outlierScore }],
        }),
        caption: 'F+M outlier scores of the same objects.',
      },
    ]),
    { heading: 'Fig. C1: generated against real photons', figures: [featureFigure(aug, fluxTrain, figRng, 'Photons in one (E, z) bin')] },
  ];
  return {
    counts: {
      trainPhotons: fluxTrain.nRows, testPhotons: nR, testNeutrons: nA,
      supervisedPhotons: supPhotons.length, supervisedNeutrons: supNeutrons.length, calibrationPhotons: calPhotons.length,
    },
    tables,
    checks: {
      maxTprDeviation: cal.maxDev, calibrated: cal.ok, maxTprDeviationPaperCut: cal.maxDevPaper, calibratedPaperCut: cal.okPaper,
      augmentedBeatsFeaturesAuc: abl.aucBetter, augmentedBeatsFeaturesTnr: abl.tnrBetter,
    },
    findings,
    numbers,
    sections,
    models: { augmented: aug, features: feat },
    subtitle: 'GlueX-like BCAL showers (simulated): photons are the reference class, neutrons the anomalies.',
  };
}

async function dijetStudy(ctx: Context): Promise<StudyOutput> {
  const p = ctx.plan;
  const schema: Schema = { features: [...DIJET_FEATURES], conditions: [...DIJET_CONDITIONS] };
  const qs = DEMO_QUANTILES;
  const { trainSet, test, calTable } = await timed(ctx, 'simulating dijets', () => ({
    trainSet: simulateDijet({ qcd: p.trainRows, signal: 0 }, new Rng(ctx.seed)),
    test: simulateDijet({ qcd: p.testReference, signal: p.testAnomalous }, new Rng(ctx.seed + 1000)),
    calTable: simulateDijet({ qcd: p.calibrationReference, signal: 0 }, new Rng(ctx.seed + 2000)),
  }));
  const nR = p.testReference, nA = p.testAnomalous;
  const isRef = mask(nR, nA);
  const model = await train(ctx, trainSet, schema, 'augmented');
  const s = await score(ctx, model, test, 'QCD + signal', ctx.mode, calTable);
  const main = fmRow(`F+M augmented, ${ctx.mode}, held-out cut`, s.pValue, isRef, qs, s.levels);
  const paperCut = fmRow(`F+M augmented, ${ctx.mode}, paper's cut (p > q)`, s.pValue, isRef, qs);
  const exact = await exactComparison(ctx, model, test, nR, s, 'QCD + signal');
  const table: DemoTable = {
    id: 'table4', title: "Table 4: QCD (reference) against Z' -> tt̄",
    caption: `TPR = QCD dijets kept, TNR = Z' -> tt̄ events flagged. Test set: ${nR} QCD, ${nA} signal events. ` +
      `Held-out cut: levels set on ${heldOutRows(s)} further QCD events; paper's cut: p > q. The exact/cached rows use the paper's cut.`,
    rows: [main, paperCut, ...exact.rows],
  };
  const cal = calibrationCheck(main, paperCut, heldOutRows(s), s.levels);
  const q99 = qs.indexOf(0.99);
  const { k } = extract(test, schema);
  // Fig. 4: the 99% threshold follows the kinematics; its binned median against pT.
  const pEdges = edgesBetween(DIJET_RANGES.pT[0], DIJET_RANGES.pT[1], 14);
  const lineX: number[] = [], lineY: number[] = [];
  for (let b = 0; b < pEdges.length - 1; b++) {
    const inBin: number[] = [];
    for (let i = 0; i < test.nRows; i++) if (k[i] >= pEdges[b] && k[i] < pEdges[b + 1]) inBin.push(s.thresholds[q99][i]);
    if (inBin.length) { lineX.push(0.5 * (pEdges[b] + pEdges[b + 1])); lineY.push(median(inBin)); }
  }
  const figRng = new Rng(ctx.seed + 7);
  const fig4: ReportFigure = {
    svg: scatterPlot({
      title: 'Outlier score against leading-jet pT', xLabel: 'leading-jet pT (GeV)', yLabel: 'outlier score P_out', rng: figRng,
      points: [{ name: 'QCD', x: k.subarray(0, nR), y: s.outlierScore.subarray(0, nR) }, { name: "Z' -> tt̄", x: k.subarray(nR), y: s.outlierScore.subarray(nR) }],
      lines: [{ name: '99% threshold (binned median)', x: lineX, y: lineY, color: '#000000', dashed: true }],
    }),
    caption: 'Paper Fig. 4: each event\'s outlier score against its leading-jet pT; the dashed line is the median per 25-GeV bin of the per-event 99% threshold.',
  };
  const sections: ReportSection[] = [
    sectionOf(table, [cal.text], [
      fig4,
      scoreHistogram('QCD', "Z' -> tt̄", s.outlierScore.subarray(0, nR), s.outlierScore.subarray(nR), median(s.thresholds[q99]), 0.99),
      pValueHistogram('QCD', "Z' -> tt̄", s.pValue.subarray(0, nR), s.pValue.subarray(nR)),
      rocFigure([{ name: 'F+M augmented', scores: s.pValue, isRef, auc: main.auc.auc }], 'QCD', "Z' -> tt̄"),
    ]),
    { heading: 'Fig. C1: generated against real QCD dijets', figures: [featureFigure(model, trainSet, figRng, 'QCD dijets in one pT bin')] },
  ];
  return {
    counts: { trainQcd: trainSet.nRows, testQcd: nR, testSignal: nA, calibrationQcd: calTable.nRows },
    tables: [table],
    checks: { maxTprDeviation: cal.maxDev, calibrated: cal.ok, maxTprDeviationPaperCut: cal.maxDevPaper, calibratedPaperCut: cal.okPaper },
    findings: [cal.text, exactFinding(exact.numbers, ctx.mode)],
    numbers: { ...exact.numbers },
    sections,
    models: { augmented: model },
    subtitle: "LHC-like dijets (simulated): QCD is the reference class, Z' -> tt̄ the anomalies.",
  };
}

export const MAGIC_FEATURES = ['fLength', 'fWidth', 'fConc', 'fConc1', 'fAsym', 'fM3long', 'fM3Trans', 'fAlpha'] as const;
export const MAGIC_CONDITIONS = ['fSize', 'fDist'] as const;
export const MAGIC_DEFAULT_PATH = '../shared/data/magic04.csv';

async function magicStudy(ctx: Context): Promise<StudyOutput> {
  const p = ctx.plan;
  const file = ctx.o.data ?? MAGIC_DEFAULT_PATH;
  if (!existsSync(file)) {
    throw new FluxmutError(
      `${resolve(file)}: the MAGIC data file is missing. Download magic04.data from the UCI repository (MAGIC Gamma Telescope, ` +
        `CC BY 4.0), add the header line "${[...MAGIC_FEATURES.slice(0, 2), 'fSize', ...MAGIC_FEATURES.slice(2), 'fDist', 'class'].join(',')}" ` +
        `(check the column order against magic04.names) and pass it with --data FILE.`,
      ExitCode.NoInput,
    );
  }
  const schema: Schema = { features: [...MAGIC_FEATURES], conditions: [...MAGIC_CONDITIONS] };
  const qs = DEMO_QUANTILES;
  const table = await timed(ctx, 'reading the MAGIC data', () => readTable(file));
  extract(table, schema); // names the file, row and column of anything unusable before we train
  const rng = new Rng(ctx.seed);
  const gammas = rowsWhere(table, 'class', 'g');
  const hadrons = rowsWhere(table, 'class', 'g', false);
  if (gammas.length < 60 || hadrons.length === 0) {
    throw new FluxmutError(`${file}: expected gammas (class g) and hadrons (class h), found ${gammas.length} and ${hadrons.length} rows`, ExitCode.BadInput);
  }
  rng.shuffle(gammas);
  rng.shuffle(hadrons);
  // Never more than 55% of the gammas for training and 15% for the held-out cut: the rest are the test gammas.
  const nTrain = Math.min(p.trainRows, Math.floor(gammas.length * 0.55));
  const nCal = Math.min(p.calibrationReference, Math.floor(gammas.length * 0.15));
  const nR = Math.min(p.testReference, gammas.length - nTrain - nCal);
  const nA = Math.min(p.testAnomalous, hadrons.length);
  const trainSet = selectRows(table, gammas.slice(0, nTrain).sort((a, b) => a - b));
  const calTable = selectRows(table, gammas.slice(nTrain + nR, nTrain + nR + nCal).sort((a, b) => a - b));
  const test = concatTables(selectRows(table, gammas.slice(nTrain, nTrain + nR)), selectRows(table, hadrons.slice(0, nA)));
  const isRef = mask(nR, nA);
  const aug = await train(ctx, trainSet, schema, 'augmented');
  const feat = await train(ctx, trainSet, schema, 'features');
  const sAug = await score(ctx, aug, test, 'gammas + hadrons, augmented', ctx.mode, calTable);
  const sFeat = await score(ctx, feat, test, 'gammas + hadrons, features only', ctx.mode, calTable);
  const main = fmRow(`F+M augmented, ${ctx.mode}, held-out cut`, sAug.pValue, isRef, qs, sAug.levels);
  const paperCut = fmRow(`F+M augmented, ${ctx.mode}, paper's cut (p > q)`, sAug.pValue, isRef, qs);
  const exact = await exactComparison(ctx, aug, test, nR, sAug, 'gammas + hadrons');
  const featRow = fmRow(`F+M features only (x'), ${ctx.mode}`, sFeat.pValue, isRef, qs, sFeat.levels);
  const augRow5 = fmRow(`F+M augmented ([x', x' - x]), ${ctx.mode}`, sAug.pValue, isRef, qs, sAug.levels);
  const tables: DemoTable[] = [
    {
      id: 'table1', title: 'Table 1: gammas (reference) against hadrons (MAGIC)',
      caption: `TPR = gammas kept, TNR = hadrons flagged. Test set: ${nR} held-out gammas, ${nA} hadrons; conditions fSize, fDist. ` +
        `Held-out cut: levels set on ${heldOutRows(sAug)} further gammas; paper's cut: p > q. The exact/cached rows use the paper's cut.`,
      rows: [main, paperCut, ...exact.rows],
    },
    { id: 'table5', title: 'Table 5: features only against the augmented space (MAGIC)', caption: 'The same training gammas and test set, both with the held-out cut.', rows: [featRow, augRow5] },
  ];
  const cal = calibrationCheck(main, paperCut, heldOutRows(sAug), sAug.levels);
  const abl = ablationCheck(augRow5, featRow);
  const { k } = extract(test, schema);
  const kRef = k.subarray(0, nR * 2), kAnom = k.subarray(nR * 2);
  const pick = (kk: Float64Array, j: number): Float64Array => Float64Array.from({ length: kk.length / 2 }, (_, i) => kk[i * 2 + j]);
  const fig3 = conditionHeatmaps(
    [{ name: 'gammas', k: kRef, score: sAug.outlierScore.subarray(0, nR) }, { name: 'hadrons', k: kAnom, score: sAug.outlierScore.subarray(nR) }],
    ['fDist', 'fSize'], quantileEdges(pick(k, 1), 8), quantileEdges(pick(k, 0), 8), 2, 1, 0,
  );
  const q95 = qs.indexOf(0.95);
  const figRng = new Rng(ctx.seed + 7);
  const sections: ReportSection[] = [
    sectionOf(tables[0], [cal.text], [
      fig3,
      scoreHistogram('gammas', 'hadrons', sAug.outlierScore.subarray(0, nR), sAug.outlierScore.subarray(nR), median(sAug.thresholds[q95]), 0.95),
      pValueHistogram('gammas', 'hadrons', sAug.pValue.subarray(0, nR), sAug.pValue.subarray(nR)),
      rocFigure([
        { name: 'F+M augmented', scores: sAug.pValue, isRef, auc: augRow5.auc.auc },
        { name: 'F+M features only', scores: sFeat.pValue, isRef, auc: featRow.auc.auc },
      ], 'gammas', 'hadrons'),
    ]),
    sectionOf(tables[1], [abl.text], []),
    { heading: 'Fig. C1: generated against real gammas', figures: [featureFigure(aug, trainSet, figRng, 'Gammas in one (fSize, fDist) bin')] },
  ];
  return {
    counts: { trainGammas: nTrain, testGammas: nR, testHadrons: nA, calibrationGammas: nCal },
    tables,
    checks: {
      maxTprDeviation: cal.maxDev, calibrated: cal.ok, maxTprDeviationPaperCut: cal.maxDevPaper, calibratedPaperCut: cal.okPaper,
      augmentedBeatsFeaturesAuc: abl.aucBetter, augmentedBeatsFeaturesTnr: abl.tnrBetter,
    },
    findings: [cal.text, abl.text, exactFinding(exact.numbers, ctx.mode)],
    numbers: { ...exact.numbers },
    sections,
    models: { augmented: aug, features: feat },
    subtitle: `MAGIC gamma telescope (${file}): gammas are the reference class, hadrons the anomalies.`,
  };
}

/**
 * How far the Appendix C perturbation moved the neutrons, per feature: the mean shift of the same
 * showers in units of the test photons' standard deviation (> 0: toward the photon mean).
 */
function perturbationShifts(test: Table, perturbedNeutrons: Table, nR: number, features: string[]): { name: string; shift: number }[] {
  return features.map((name) => {
    const v = getColumn(test, name).values as Float64Array;
    const w = getColumn(perturbedNeutrons, name).values as Float64Array;
    const ph = v.subarray(0, nR), ne = v.subarray(nR);
    const mu = mean(ph);
    const sd = Math.sqrt(mean(Float64Array.from(ph, (x) => (x - mu) * (x - mu))));
    const toward = Math.sign(mu - mean(ne)) || 1;
    const shift = mean(Float64Array.from(ne, (x, i) => (w[i] - x) * toward)) / (sd > 0 ? sd : 1);
    return { name, shift };
  }).sort((a, b) => Math.abs(b.shift) - Math.abs(a.shift));
}

/** Mean |L1_frac + ... + L4_frac - 1|: 0 for simulated showers, not after the perturbation (docs/simulation.md). */
function fractionSumDeviation(t: Table): number {
  const cols = ['L1_frac', 'L2_frac', 'L3_frac', 'L4_frac'].map((c) => getColumn(t, c).values as Float64Array);
  let dev = 0;
  for (let i = 0; i < t.nRows; i++) dev += Math.abs(cols[0][i] + cols[1][i] + cols[2][i] + cols[3][i] - 1);
  return t.nRows ? dev / t.nRows : 0;
}

/** The Table 2 pattern in words, from the numbers (whatever they turn out to be). */
function table2Finding(
  fmOrig: DemoRow, fmPert: DemoRow, bdtOrig: DemoRow, bdtPert: DemoRow, j: number, shifts: { name: string; shift: number }[],
  m: { nOrigScore: number; nPertScore: number; gbtMedOrig: number; gbtMedPert: number; fracOff: number },
): string {
  const pts = (a: DemoRow, b: DemoRow): number => 100 * (a.quantiles[j].tnr.rate - b.quantiles[j].tnr.rate);
  const dFm = pts(fmOrig, fmPert), dBdt = pts(bdtOrig, bdtPert);
  const q = fmOrig.quantiles[j].q;
  const verb = (d: number): string => (d > 0 ? `drops by ${d.toFixed(1)} points` : d < 0 ? `rises by ${(-d).toFixed(1)} points` : 'does not change');
  const bdtFall = bdtOrig.auc.auc - bdtPert.auc.auc, fmFall = fmOrig.auc.auc - fmPert.auc.auc;
  const who = Math.abs(dFm - dBdt) < 1 ? 'Both lose about equally at this cut.' : dBdt > dFm ? 'The supervised classifier loses more than F+M.' : 'F+M loses more than the supervised classifier.';
  const top = shifts.slice(0, 3).map((f) => `${f.name} ${f.shift >= 0 ? '+' : ''}${f.shift.toFixed(2)}σ`).join(', ');
  return (
    `Table 2: with the neutrons perturbed, F+M's TNR at q = ${q} ${verb(dFm)} (${pct(fmOrig.quantiles[j].tnr.rate)} -> ${pct(fmPert.quantiles[j].tnr.rate)}), ` +
    `the BDT's ${verb(dBdt)} (${pct(bdtOrig.quantiles[j].tnr.rate)} -> ${pct(bdtPert.quantiles[j].tnr.rate)}); AUC F+M ${fmOrig.auc.auc.toFixed(3)} -> ${fmPert.auc.auc.toFixed(3)} ` +
    `(${fmFall >= 0 ? '-' : '+'}${Math.abs(fmFall).toFixed(3)}), BDT ${bdtOrig.auc.auc.toFixed(3)} -> ${bdtPert.auc.auc.toFixed(3)} (${bdtFall >= 0 ? '-' : '+'}${Math.abs(bdtFall).toFixed(3)}). ` +
    `${who} Photons are untouched, so both TPRs are unchanged. ` +
    `What drives it: the Appendix C formula moves every neutron feature toward the photon mean by at most 2.5% of the neutrons' own range, ` +
    `which is wide because of the hadronic tails (wide, late, deep showers); the mean shift in units of the photons' spread is largest for ${top}. ` +
    `So the perturbed neutrons really are more photon-like (median F+M outlier score ${m.nOrigScore.toFixed(3)} -> ${m.nPertScore.toFixed(3)}), which F+M, ` +
    `never trained on neutrons, can only see as fewer outliers; the BDT's median neutron probability goes ${m.gbtMedOrig.toFixed(3)} -> ${m.gbtMedPert.toFixed(3)}: ` +
    `it was trained on the original neutrons, so its loss measures how far the complementary class moved out of what its training covered. ` +
    `One effect works the other way for F+M: the perturbed layer fractions no longer sum to 1 (mean |ΣL_frac - 1| = ${m.fracOff.toFixed(4)}), ` +
    `a constraint every photon satisfies exactly, so some perturbed neutrons look more unphoton-like to a model of photons than before; ` +
    `where F+M's TNR rises at a loose cut, this is the likely cause.`
  );
}

// ------------------------------------------------------------------------------------------------
// Tables as text, Markdown, HTML and JSON

function tableHeader(t: DemoTable): string[] {
  return ['method', 'AUC', ...t.rows[0].quantiles.flatMap((r) => [`TPR@${r.q}`, `TNR@${r.q}`])];
}

function tableCells(t: DemoTable): string[][] {
  return t.rows.map((row) => [row.label, formatAuc(row.auc), ...row.quantiles.flatMap((r) => [formatRate(r.tpr), formatRate(r.tnr)])]);
}

function sectionOf(t: DemoTable, text: string[], figures: ReportFigure[]): ReportSection {
  const table: ReportTable = { columns: tableHeader(t), rows: tableCells(t), caption: t.caption };
  return { heading: t.title, text, tables: [table], figures };
}

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
