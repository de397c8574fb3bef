import { ExitCode, FluxmutError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { hdbscan, type HdbscanOptions } from '../cluster/hdbscan.js';
import { NewPointScorer } from '../cluster/predict.js';
import type { FluxModel } from '../flux/model.js';
import { heldOutLevels, levelThreshold, randomisedPValue, sortedScores } from './calibration.js';
import { applyScaling, fitScaling, type Normalisation } from './normalise.js';

/**
 * Inference ("mutability", DESIGN.md steps 6-9) for a batch of objects.
 *
 * exact  — the paper's mode: per object, a reference cluster of N_ref points generated at its own
 *          kinematics, the object appended, HDBSCAN run, the object's GLOSH score compared with
 *          the reference points' scores of the same fit.
 * cached — ours: one reference cluster per cell of a grid in condition space (quantile bins,
 *          finer than the KDE bank's; kinematics drawn from the cell's training rows), fitted once; objects get the approximate new-point GLOSH score of
 *          src/cluster/predict.ts and are compared with the fit's reference scores.
 *
 * Scorers: `glosh` (default, the paper's) or `density`, the flow's own -log p(a|k), calibrated
 * the same way against the generated points' log-densities (which the sampling pass returns).
 */
export type Mode = 'exact' | 'cached';
export type Scorer = 'glosh' | 'density';

export interface ScoreOptions {
  mode?: Mode;
  scorer?: Scorer;
  quantiles?: number[];
  /** Reference-cluster size N_ref (paper: 1500). */
  nRef?: number;
  /** HDBSCAN parameters (paper: 1000 and 100). */
  minClusterSize?: number;
  minSamples?: number;
  glosh?: HdbscanOptions['glosh'];
  normalisation?: Normalisation;
  seed?: number;
  /** Objects whose reference clusters are generated in one sampling pass (exact mode). */
  batchObjects?: number;
  /** Cached mode: quantile bins per condition of the cache grid (default 8). */
  cacheBins?: number;
  /**
   * Held-out calibration (calibration.ts): real reference-class objects that took no part in
   * training (raw features m x N and conditions m x L, as for the objects). When given, they are
   * scored the same way and their p-values set the cut level of each quantile; otherwise the cut
   * is the paper's, p > q against the generated reference cluster.
   */
  calibration?: CalibrationRows;
  onProgress?: (done: number, total: number) => void;
  onWarning?: (message: string) => void;
}

export interface CalibrationRows {
  x: Float64Array;
  k: Float64Array;
  n: number;
  /** Where the rows came from (a file name), for messages and reports. */
  source?: string;
}

/** How the cut levels were set: against the generated reference cluster, or on held-out reference rows. */
export type CalibrationRecord =
  | { kind: 'generated' }
  | { kind: 'held-out'; rows: number; source?: string; pValues: Float64Array };

export interface ResolvedScoreOptions {
  mode: Mode;
  scorer: Scorer;
  quantiles: number[];
  nRef: number;
  minClusterSize: number;
  minSamples: number;
  glosh: NonNullable<HdbscanOptions['glosh']>;
  normalisation: Normalisation;
  seed: number;
  batchObjects: number;
  cacheBins: number;
}

export interface Scores {
  n: number;
  options: ResolvedScoreOptions;
  /** The object's outlier score: GLOSH P_out (paper eq. 5) or -log p(a|k). Larger = more outlying. */
  outlierScore: Float64Array;
  /** Randomised p-value against the reference scores (calibration.ts); near 1 = more outlying than almost all. */
  pValue: Float64Array;
  /**
   * Per quantile: the cut level on the p-value (an object is an outlier at q when p > level):
   * q itself with the generated cut, the held-out calibration level otherwise.
   */
  levels: number[];
  calibration: CalibrationRecord;
  /** Per quantile: each object's score cut, the reference scores' quantile at the cut level. */
  thresholds: Float64Array[];
  /** Per quantile: 1 where the object is an outlier at q (p-value > level). */
  isOutlier: Uint8Array[];
  /** 1 where a condition lies outside the training range. */
  outOfRange: Uint8Array;
  seconds: number;
}

export const PAPER_DEFAULTS = { nRef: 1500, minClusterSize: 1000, minSamples: 100 } as const;

export function resolveScoreOptions(options: ScoreOptions): ResolvedScoreOptions {
  const r: ResolvedScoreOptions = {
    mode: options.mode ?? 'exact',
    scorer: options.scorer ?? 'glosh',
    quantiles: options.quantiles ?? [0.68, 0.95, 0.99],
    nRef: options.nRef ?? PAPER_DEFAULTS.nRef,
    minClusterSize: options.minClusterSize ?? PAPER_DEFAULTS.minClusterSize,
    minSamples: options.minSamples ?? PAPER_DEFAULTS.minSamples,
    glosh: options.glosh ?? 'reference',
    normalisation: options.normalisation ?? 'robust',
    seed: options.seed ?? 1,
    batchObjects: options.batchObjects ?? 8,
    cacheBins: options.cacheBins ?? 8,
  };
  if (!Number.isInteger(r.cacheBins) || r.cacheBins < 1) throw new FluxmutError(`--cache-bins must be a positive integer, got ${r.cacheBins}`, ExitCode.Usage);
  if (r.mode !== 'exact' && r.mode !== 'cached') throw new FluxmutError(`unknown mode '${r.mode}'; use exact or cached`, ExitCode.Usage);
  if (r.scorer !== 'glosh' && r.scorer !== 'density') throw new FluxmutError(`unknown scorer '${r.scorer}'; use glosh or density`, ExitCode.Usage);
  if (!['standard', 'robust', 'hypersphere'].includes(r.normalisation)) {
    throw new FluxmutError(`unknown normalisation '${r.normalisation}'; use robust, standard or hypersphere`, ExitCode.Usage);
  }
  if (!Number.isInteger(r.nRef) || r.nRef < 10) throw new FluxmutError(`the reference cluster needs at least 10 points, got ${r.nRef}`, ExitCode.Usage);
  if (r.scorer === 'glosh' && r.minClusterSize > r.nRef) {
    throw new FluxmutError(`min_cluster_size ${r.minClusterSize} exceeds the reference-cluster size ${r.nRef}; lower it or raise --n-ref`, ExitCode.Usage);
  }
  for (const q of r.quantiles) if (!(q > 0 && q < 1)) throw new FluxmutError(`quantile ${q} must lie strictly between 0 and 1`, ExitCode.Usage);
  return r;
}

/**
 * A generator per object, addressed by (seed, object index), so an object's score does not
 * depend on which other objects are scored with it, nor on the batch size.
 */
export function objectRng(seed: number, index: number): Rng {
  let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 15), 0x27d4eb2d);
  return new Rng((h >>> 0) * 2097152 + ((seed * 31 + index) % 2097152));
}

function hdbscanOptions(o: ResolvedScoreOptions): HdbscanOptions {
  return { minClusterSize: o.minClusterSize, minSamples: o.minSamples, glosh: o.glosh };
}

/** Fills the p-value of object i from its reference scores (sorted ascending). */
function pValueOf(out: Scores, i: number, sorted: Float64Array, rng: Rng): void {
  out.pValue[i] = randomisedPValue(sorted, out.outlierScore[i], rng);
}

/** Fills the thresholds and decisions of object i at the cut levels (its p-value already set). */
function cutsOf(out: Scores, i: number, sorted: Float64Array): void {
  out.levels.forEach((level, j) => {
    out.thresholds[j][i] = levelThreshold(sorted, level);
    out.isOutlier[j][i] = out.pValue[i] > level ? 1 : 0;
  });
}

function negate(x: Float64Array): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = -x[i];
  return out;
}

/** A batch of objects in the form the scorers use: augmented vectors, raw conditions, generators. */
interface Batch {
  n: number;
  /** Augmented vectors (n x D), standardised as the flow expects. */
  a: Float32Array;
  /** Raw conditions (n x L). */
  k: Float64Array;
  /** The generator of object i (its tie-breaking draw and, in exact mode, its reference cluster). */
  rng: (i: number) => Rng;
  out: Scores;
}

function emptyScores(n: number, o: ResolvedScoreOptions): Scores {
  return {
    n,
    options: o,
    outlierScore: new Float64Array(n),
    pValue: new Float64Array(n),
    levels: [...o.quantiles],
    calibration: { kind: 'generated' },
    thresholds: o.quantiles.map(() => new Float64Array(n)),
    isOutlier: o.quantiles.map(() => new Uint8Array(n)),
    outOfRange: new Uint8Array(n),
    seconds: 0,
  };
}

/** Steps 6 (augmented vectors) and, for the density scorer, the objects' own scores; flags conditions out of range. */
function prepareBatch(
  model: FluxModel, x: Float64Array, k: Float64Array, n: number, o: ResolvedScoreOptions, what: string,
  rng: (i: number) => Rng, onWarning?: (message: string) => void, source?: string,
): Batch {
  const N = model.nFeatures;
  const L = model.nConditions;
  const where = source ? `${source}: ${what}` : what;
  if (x.length !== n * N) throw new FluxmutError(`${where}: expected ${n} x ${N} feature values, got ${x.length}`, ExitCode.BadInput);
  if (k.length !== n * L) throw new FluxmutError(`${where}: expected ${n} x ${L} condition values, got ${k.length}`, ExitCode.BadInput);
  const out = emptyScores(n, o);
  const batch: Batch = { n, a: new Float32Array(0), k, rng, out };
  if (n === 0) return batch;
  if (model.conditionScaler) {
    const oor = model.conditionScaler.outOfRange(k, L);
    out.outOfRange.set(oor.mask);
    if (oor.count > 0 && oor.first) {
      const f = oor.first;
      onWarning?.(
        `${oor.count} of ${n} ${what} have conditions outside the training range (first: row ${f.row + 1}, ` +
          `${f.name ?? `condition ${f.col}`} = ${f.value}, training range [${f.min}, ${f.max}]); they are scored by extrapolation ` +
          `from the edge bin${what === 'objects' ? ' and flagged in the out_of_range column' : ''}`,
      );
    }
  }
  const ks = model.scaleConditions(k);
  batch.a = model.augment(model.scaleFeatures(x), ks, n);
  if (o.scorer === 'density') {
    const density = model.logDensity(batch.a, ks, n);
    for (let i = 0; i < n; i++) out.outlierScore[i] = -density[i];
  }
  return batch;
}

/** Salt of the calibration rows' generators, so that they never share a stream with an object's. */
const CALIBRATION_SALT = 0x63a1b7e5;

/**
 * Scores n objects with raw features x (n x N) and raw conditions k (n x L), in original units.
 * With `options.calibration`, the held-out reference rows are scored first (same options, their
 * own generators) and set the cut levels (calibration.ts).
 */
export function scoreObjects(model: FluxModel, x: Float64Array, k: Float64Array, n: number, options: ScoreOptions = {}): Scores {
  const started = Date.now();
  const o = resolveScoreOptions(options);
  const objects = prepareBatch(model, x, k, n, o, 'objects', (i) => objectRng(o.seed, i), options.onWarning);
  const out = objects.out;
  if (n === 0) return out;
  const c = options.calibration;
  let calibration: Batch | null = null;
  if (c) {
    if (c.n < 1) throw new FluxmutError(`${c.source ?? 'calibration rows'}: no reference rows to calibrate on`, ExitCode.BadInput);
    calibration = prepareBatch(model, c.x, c.k, c.n, o, 'calibration rows', (i) => objectRng(o.seed ^ CALIBRATION_SALT, i), (m) =>
      options.onWarning?.(`${c.source ?? 'calibration'}: ${m}`), c.source,
    );
    const seen = rowsSeenInTraining(model, c.k, c.n);
    if (seen > c.n / 2) {
      options.onWarning?.(
        `${c.source ?? 'calibration'}: ${seen} of ${c.n} calibration rows have exactly the conditions of a row the model was trained on. ` +
          'Held-out calibration needs reference rows the model never saw: on its own training rows the model looks better than on new ones, ' +
          'so the cut levels would be biased. Give rows that were not in the training file (if the conditions take only a few discrete values, ignore this)',
      );
    }
  }
  const total = n + (calibration?.n ?? 0);
  const onProgress = options.onProgress;
  const setLevels = (cal: Batch): void => {
    out.levels = heldOutLevels(cal.out.pValue, o.quantiles);
    out.calibration = { kind: 'held-out', rows: cal.n, source: c?.source, pValues: cal.out.pValue };
  };
  if (o.mode === 'exact') {
    if (calibration) {
      scoreExact(model, calibration, o, (d) => onProgress?.(d, total));
      setLevels(calibration);
    }
    const offset = calibration?.n ?? 0;
    scoreExact(model, objects, o, (d) => onProgress?.(offset + d, total));
  } else {
    scoreCached(model, objects, calibration, o, setLevels, (d) => onProgress?.(d, total));
  }
  out.seconds = (Date.now() - started) / 1000;
  return out;
}

/** How many of the m condition vectors k (m x L) equal, to the last bit, one of the model's training rows. */
function rowsSeenInTraining(model: FluxModel, k: Float64Array, m: number): number {
  const L = model.nConditions;
  if (L === 0) return 0;
  const key = (v: Float64Array, i: number): string => Array.from(v.subarray(i * L, i * L + L)).join(',');
  const ref = model.referenceConditions;
  const training = new Set<string>();
  for (let i = 0; i < ref.length / L; i++) training.add(key(ref, i));
  let seen = 0;
  for (let i = 0; i < m; i++) if (training.has(key(k, i))) seen++;
  return seen;
}

function scoreExact(model: FluxModel, batch: Batch, o: ResolvedScoreOptions, onProgress: (done: number) => void): void {
  const { n, a, k, out } = batch;
  const D = model.dim;
  const L = model.nConditions;
  const nRef = o.nRef;
  const points = new Float64Array((nRef + 1) * D);
  for (let start = 0; start < n; start += o.batchObjects) {
    const end = Math.min(n, start + o.batchObjects);
    const rngs: Rng[] = [];
    const kRaws: Float64Array[] = [];
    for (let i = start; i < end; i++) {
      rngs.push(batch.rng(i));
      kRaws.push(k.subarray(i * L, i * L + L));
    }
    // Step 7: reference clusters at each object's kinematics, one sampling pass for the batch.
    const gen = model.generateReferences(kRaws, nRef, rngs);
    for (let i = start; i < end; i++) {
      const b = i - start;
      const ref = gen.a.subarray(b * nRef * D, (b + 1) * nRef * D);
      let sorted: Float64Array;
      if (o.scorer === 'density') {
        sorted = sortedScores(negate(gen.logProb.subarray(b * nRef, (b + 1) * nRef)));
      } else {
        // Step 8: normalise on the reference cluster, append the object, cluster, read GLOSH.
        const scaling = fitScaling(ref, nRef, D, o.normalisation);
        applyScaling(scaling, ref, nRef, D, points, 0);
        applyScaling(scaling, a.subarray(i * D, (i + 1) * D), 1, D, points, nRef * D);
        const fit = hdbscan(points, nRef + 1, D, hdbscanOptions(o));
        out.outlierScore[i] = fit.outlierScores[nRef];
        sorted = sortedScores(fit.outlierScores.subarray(0, nRef));
      }
      // Step 9: the object against the reference points' scores of the same fit.
      pValueOf(out, i, sorted, rngs[b]);
      cutsOf(out, i, sorted);
    }
    onProgress(end);
  }
}

/**
 * The cache grid: per condition, quantile edges of the training kinematics, finer than the KDE
 * bank's bins, so that each cached reference cluster is generated at kinematics close to those
 * of the objects compared with it (on MAGIC, bank-bin clusters agreed with the exact mode on 97.3%
 * of decisions at q = 0.95, two exact runs with different seeds on 99.0%).
 */
function cacheGrid(model: FluxModel, perCondition: number): { edges: Float64Array[]; cellOf: (k: ArrayLike<number>) => number } {
  const L = model.nConditions;
  const K = model.referenceConditions;
  const n = K.length / Math.max(1, L);
  const edges: Float64Array[] = [];
  for (let j = 0; j < L; j++) {
    const col = new Float64Array(n);
    for (let i = 0; i < n; i++) col[i] = K[i * L + j];
    col.sort();
    const e = new Float64Array(perCondition + 1);
    for (let b = 0; b <= perCondition; b++) e[b] = col[Math.min(n - 1, Math.round((b * (n - 1)) / perCondition))];
    edges.push(e);
  }
  const cellOf = (k: ArrayLike<number>): number => {
    let cell = 0;
    for (let j = 0; j < L; j++) {
      const e = edges[j];
      let b = 0;
      while (b < perCondition - 1 && k[j] >= e[b + 1]) b++;
      cell = cell * perCondition + b;
    }
    return cell;
  };
  return { edges, cellOf };
}

/**
 * Cached mode. The calibration rows (if any) share the cells' reference clusters with the
 * objects; each cell's sorted reference scores are kept (N_ref numbers per cell) so that the
 * objects' cuts can be set once every calibration row has its p-value.
 */
function scoreCached(
  model: FluxModel, objects: Batch, calibration: Batch | null, o: ResolvedScoreOptions,
  setLevels: (calibration: Batch) => void, onProgress: (done: number) => void,
): void {
  const D = model.dim;
  const L = model.nConditions;
  const grid = cacheGrid(model, o.cacheBins);
  const batches = calibration ? [objects, calibration] : [objects];
  // Per cell: [batch index, row] of every item in it.
  const byCell = new Map<number, [number, number][]>();
  batches.forEach((batch, b) => {
    for (let i = 0; i < batch.n; i++) {
      const cell = L > 0 ? grid.cellOf(batch.k.subarray(i * L, i * L + L)) : 0;
      const list = byCell.get(cell);
      if (list) list.push([b, i]);
      else byCell.set(cell, [[b, i]]);
    }
  });
  // Reference rows per cell (all rows the model saw): the kinematics each cell's reference cluster is generated at.
  const nTrain = model.referenceConditions.length / Math.max(1, L);
  const trainOfCell = new Map<number, number[]>();
  for (let r = 0; r < nTrain && L > 0; r++) {
    const cell = grid.cellOf(model.referenceConditions.subarray(r * L, r * L + L));
    const list = trainOfCell.get(cell);
    if (list) list.push(r);
    else trainOfCell.set(cell, [r]);
  }
  const sortedOfObject: Float64Array[] = new Array(objects.n);
  let done = 0;
  for (const [cell, items] of [...byCell.entries()].sort((p, q) => p[0] - q[0])) {
    // One reference cluster per cell, seeded by the cell so results do not depend on the other cells.
    const rng = objectRng(o.seed ^ 0x5bd1e995, cell);
    const rows = trainOfCell.get(cell) ?? [];
    let gen: { a: Float32Array; logProb: Float64Array };
    if (L > 0 && rows.length >= MIN_CELL_ROWS) {
      const kRef = new Float64Array(o.nRef * L);
      for (let r = 0; r < o.nRef; r++) {
        const row = rows[rng.int(rows.length)];
        kRef.set(model.referenceConditions.subarray(row * L, row * L + L), r * L);
      }
      gen = model.generateAtKinematics(kRef, o.nRef, rng);
    } else {
      // Too few training rows in the cell (or no conditions): the bank bin of the cell's first item.
      const [b0, i0] = items[0];
      const bin = L > 0 ? model.bank.binOf(batches[b0].k.subarray(i0 * L, i0 * L + L)) : 0;
      gen = model.generateBinReference(bin, o.nRef, rng);
    }
    let refScores: Float64Array;
    if (o.scorer === 'density') {
      refScores = sortedScores(negate(gen.logProb));
    } else {
      const scaling = fitScaling(gen.a, o.nRef, D, o.normalisation);
      const refPoints = applyScaling(scaling, gen.a, o.nRef, D);
      const fit = hdbscan(refPoints, o.nRef, D, hdbscanOptions(o));
      const scorer = new NewPointScorer(fit);
      const itemPoints = new Float64Array(items.length * D);
      items.forEach(([b, i], j) => applyScaling(scaling, batches[b].a.subarray(i * D, (i + 1) * D), 1, D, itemPoints, j * D));
      const scores = scorer.score(itemPoints).scores;
      items.forEach(([b, i], j) => { batches[b].out.outlierScore[i] = scores[j]; });
      refScores = sortedScores(fit.outlierScores);
    }
    for (const [b, i] of items) {
      pValueOf(batches[b].out, i, refScores, batches[b].rng(i));
      if (b === 0) sortedOfObject[i] = refScores;
    }
    done += items.length;
    onProgress(done);
  }
  if (calibration) setLevels(calibration);
  for (let i = 0; i < objects.n; i++) cutsOf(objects.out, i, sortedOfObject[i]);
}

/** A cache cell needs this many training rows to draw its kinematics from. */
const MIN_CELL_ROWS = 30;
