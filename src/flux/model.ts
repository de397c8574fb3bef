import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Activation } from '../core/kernels.js';
import { getKernels } from '../core/backend.js';
import { ExitCode, FluxmutError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { VERSION } from '../version.js';
import { MinMaxScaler, StandardScaler } from '../data/scalers.js';
import { extract, schemaFromJSON, type Schema } from '../data/schema.js';
import type { Table } from '../data/table.js';
import { loadParametersFromSafetensors, parametersToSafetensors } from '../nn/layers.js';
import { loadSafetensors, saveSafetensors, sha256File, type SafeTensor } from '../nn/safetensors.js';
import { ConditionalAutoencoder, trainCae, type CaeSpec } from './cae.js';
import { cmafTrainable, trainCmaf } from './cmaf-train.js';
import { madeMasks } from './made.js';
import { cmafLogProb, cmafSample, cmafToLatent, conditionRows, initCmaf, madeSpecOf, planSampling, type Cmaf, type CmafSpec, type SamplingPlan } from './maf.js';
import { LatentKdeBank, type ConditionBinning, type LatentKdeBankJson, type SavedTensor } from './kde-bank.js';
import type { EpochReport, TrainHistory } from './train.js';
import type { KdeBandwidth } from './kde.js';

/** Which space the flow, the KDE and the clustering live in (DESIGN.md step 3). */
export type Space = 'augmented' | 'features';
export type Preset = 'default' | 'paper';

export interface CaeOptions {
  hidden: number[];
  activation: Activation;
  latent: number;
  lr: number;
  epochs: number;
  batchSize: number;
  patience: number;
  huberDelta: number;
}

export interface CmafOptions {
  layers: number;
  hidden: number[];
  activation: Activation;
  lr: number;
  epochs: number;
  batchSize: number;
  patience: number;
  logScaleBound: number;
}

export interface BankOptions {
  /** One per condition; default: quantile bins, about 250 bank rows per bin. */
  binning?: ConditionBinning[];
  maxPerBin: number;
  minPerBin: number;
  /**
   * Whose latents fill the KDE bank. A flow that overfits maps its own training rows into a
   * tighter latent cloud than new rows of the class (on MAGIC with the default preset the
   * validation NLL sat ~0.07 nats per dimension above the training NLL), so a bank of training
   * latents generates reference clusters narrower than the class: real objects then look too
   * outlying and TPR falls below q.
   * - 'validation' (default): the held-out validation rows' latents only (unbiased, fewer per
   *   bin). On MAGIC (cached mode, 2467 test gammas) it kept |TPR - q| <= 1.3 points at
   *   q = 0.68, 0.95, 0.99 for both scorers and both spaces, where 'all' missed by up to 7.6.
   * - 'pooled': all reference rows, with the training rows' latents rescaled per dimension about
   *   their mean so that their spread equals that of the held-out latents. More rows per bin, but
   *   on MAGIC it over-widened the GLOSH reference (TPR 0.710 at q = 0.68).
   * - 'all': every row's latent as is (the paper's choice).
   */
  source: 'pooled' | 'validation' | 'all';
  /**
   * Kernel bandwidth of each bin's KDE: 'scott' (default, the paper's scipy rule), 'silverman',
   * or a fixed factor. In 16-30 latent dimensions with ~250-450 latents per bin Scott's factor
   * n^(-1/(d+4)) is 0.74-0.85, so each bin's KDE is close to a moment-matched Gaussian. A small
   * factor (a smoothed bootstrap of the bank latents) keeps their shape; which calibrates the
   * paper's cut better depends on the data (docs/method.md, departure 5).
   */
  bandwidth?: KdeBandwidth;
}

export interface FluxOptions {
  features: string[];
  /** Condition columns; empty for an unconditional model (one bin). */
  conditions: string[];
  space?: Space;
  preset?: Preset;
  seed?: number;
  /** Fraction of the training rows held out for early stopping (default 0.2). */
  validationFraction?: number;
  cae?: Partial<CaeOptions>;
  cmaf?: Partial<CmafOptions>;
  bank?: Partial<BankOptions>;
  onEpoch?: (report: EpochReport) => void;
  onStage?: (stage: string) => void;
}

/**
 * Network sizes. `default` is sized to train in a few minutes on a 2-core CPU; `paper` is the
 * paper's configuration (K = 12 MADE layers of 512 x 2, cMAF lr 1e-4).
 */
export const PRESETS: Record<Preset, { cae: CaeOptions; cmaf: CmafOptions; bank: BankOptions }> = {
  default: {
    // cAE lr 2e-3, 4x the paper's 5e-4 (kept by the paper preset): on MAGIC the cAE was still improving at
    // epoch 150 even at 2e-3 (best epoch 149), so the slower rate would end further from convergence in this budget.
    cae: { hidden: [64, 32], activation: 'elu', latent: 6, lr: 2e-3, epochs: 150, batchSize: 256, patience: 12, huberDelta: 1 },
    cmaf: { layers: 6, hidden: [96, 96], activation: 'relu', lr: 1e-3, epochs: 150, batchSize: 256, patience: 12, logScaleBound: 3 },
    bank: { maxPerBin: 2000, minPerBin: 100, source: 'validation' },
  },
  paper: {
    cae: { hidden: [128, 64], activation: 'elu', latent: 6, lr: 5e-4, epochs: 300, batchSize: 256, patience: 20, huberDelta: 1 },
    cmaf: { layers: 12, hidden: [512, 512], activation: 'relu', lr: 1e-4, epochs: 300, batchSize: 256, patience: 20, logScaleBound: 3 },
    bank: { maxPerBin: 2000, minPerBin: 100, source: 'validation' },
  },
};

export interface TrainingRecord {
  rows: number;
  trainRows: number;
  validationRows: number;
  seed: number;
  preset: Preset;
  cae: CaeOptions;
  cmaf: CmafOptions;
  history: { cae: TrainHistory; cmaf: TrainHistory };
  seconds: number;
}

const MODEL_FORMAT = 'fluxmut-model';
const MODEL_FORMAT_VERSION = 1;
const WEIGHT_FILES = ['cae.safetensors', 'cmaf.safetensors', 'bank.safetensors', 'conditions.safetensors'] as const;

interface ModelJson {
  format: typeof MODEL_FORMAT;
  formatVersion: number;
  fluxmutVersion: string;
  created: string;
  schema: Schema;
  space: Space;
  scalers: { features: unknown; conditions: unknown | null; augmented: unknown };
  cae: CaeSpec;
  cmaf: CmafSpec;
  bank: LatentKdeBankJson;
  training: TrainingRecord;
  files: Record<string, { sha256: string }>;
}

function f32(x: Float64Array): Float32Array {
  return Float32Array.from(x);
}

/**
 * A trained F+M model: preprocessing, cAE, cMAF and latent KDE bank. Inference goes through
 * the methods below, one per step of DESIGN.md, so each step can be used and tested alone.
 */
export class FluxModel {
  private plan: SamplingPlan | null = null;

  constructor(
    readonly schema: Schema,
    readonly space: Space,
    readonly featureScaler: StandardScaler,
    readonly conditionScaler: MinMaxScaler | null,
    /** Standardises the augmented vectors before the flow (ours: x' and x' - x differ in scale by orders of magnitude). */
    readonly augmentedScaler: StandardScaler,
    readonly cae: ConditionalAutoencoder,
    readonly flow: Cmaf,
    readonly bank: LatentKdeBank,
    /** Conditions (original units, rows x L) of the rows the bank was built from, row for row: the cached mode draws a bin's kinematics from them. */
    readonly bankConditions: Float64Array,
    /** Conditions (original units, rows x L) of every reference row the model saw: the kinematic distribution the cached mode samples. */
    readonly referenceConditions: Float64Array,
    readonly training: TrainingRecord,
  ) {}

  get nFeatures(): number {
    return this.schema.features.length;
  }

  get nConditions(): number {
    return this.schema.conditions.length;
  }

  /** Dimension of the space the flow models: 2N (augmented) or N (features only). */
  get dim(): number {
    return this.flow.spec.dim;
  }

  /** Step 1: standardised features (float32). */
  scaleFeatures(x: Float64Array): Float32Array {
    return f32(this.featureScaler.transform(x, this.nFeatures));
  }

  /** Step 1: conditions scaled to (0,1) over the training range (float32; empty without conditions). */
  scaleConditions(k: Float64Array): Float32Array {
    return this.conditionScaler ? f32(this.conditionScaler.transform(k, this.nConditions)) : new Float32Array(0);
  }

  /** Steps 2-3 (and 6): a = [x', x' - x] (or x' alone for the features-only ablation), standardised. */
  augment(xs: Float32Array, ks: Float32Array, n: number): Float32Array {
    return augmentWith(this.cae, this.augmentedScaler, this.space, xs, ks, n);
  }

  /** Per-row log p(a | k) of the flow (the density scorer). */
  logDensity(a: Float32Array, ks: Float32Array, n: number): Float64Array {
    return cmafLogProb(this.flow, a, conditionRows(ks, n, this.nConditions), n, getKernels());
  }

  /** Latents z of augmented rows (density direction). */
  toLatent(a: Float32Array, ks: Float32Array, n: number): Float32Array {
    return cmafToLatent(this.flow, a, conditionRows(ks, n, this.nConditions), n, getKernels()).z;
  }

  /**
   * Step 7: N_ref generated reference objects at one object's kinematics: latents from the KDE of
   * k's bin (original units), pushed through the flow's sampling direction at the exact scaled k.
   * Returns the augmented vectors and their log-densities (free from the sampling pass).
   */
  generateReference(kRaw: ArrayLike<number>, nRef: number, rng: Rng): { a: Float32Array; logProb: Float64Array } {
    const z = this.bank.sample(kRaw, nRef, rng);
    return this.sampleFlow(z, this.scaleConditions(Float64Array.from(kRaw as ArrayLike<number>)), nRef);
  }

  /** The flow's sampling direction for n latents at scaled conditions (one vector, or n x L); the plan is built once. */
  private sampleFlow(z: Float32Array, ks: Float32Array, n: number): { a: Float32Array; logProb: Float64Array } {
    if (this.plan === null) this.plan = planSampling(this.flow);
    return cmafSample(this.plan, z, ks, n, getKernels());
  }

  /**
   * Step 7 batched across objects: one reference cluster of nRef points per entry of `kRaws`
   * (each at its object's exact kinematics), generated in one sampling pass so the GEMMs are
   * large. Row block i of the result belongs to object i.
   */
  generateReferences(kRaws: ArrayLike<number>[], nRef: number, rngs: Rng[]): { a: Float32Array; logProb: Float64Array } {
    const L = this.nConditions;
    const D = this.dim;
    const m = kRaws.length;
    const z = new Float32Array(m * nRef * D);
    const ks = new Float32Array(m * nRef * L);
    for (let i = 0; i < m; i++) {
      z.set(this.bank.sample(kRaws[i], nRef, rngs[i]), i * nRef * D);
      const ki = this.scaleConditions(Float64Array.from(kRaws[i] as ArrayLike<number>));
      for (let r = 0; r < nRef; r++) ks.set(ki, (i * nRef + r) * L);
    }
    return this.sampleFlow(z, ks, m * nRef);
  }

  /**
   * A bin's reference cluster for the cached mode: latents from the bin's KDE, each pushed
   * through the flow at the kinematics of a training row of that bin drawn at random.
   */
  generateBinReference(bin: number, nRef: number, rng: Rng): { a: Float32Array; logProb: Float64Array; k: Float64Array } {
    const L = this.nConditions;
    const z = this.bank.sampleBin(bin, nRef, rng);
    // Kinematics from the bin's own rows; a bin without any borrows its KDE's (neighbouring) rows.
    const own = this.bank.rowsOfBin(bin);
    const rows = own.length > 0 ? own : this.bank.kdeRowsOfBin(bin);
    const k = new Float64Array(nRef * L);
    for (let r = 0; r < nRef && L > 0; r++) {
      const row = rows[rng.int(rows.length)];
      k.set(this.bankConditions.subarray(row * L, row * L + L), r * L);
    }
    return { ...this.sampleFlow(z, this.scaleConditions(k), nRef), k };
  }

  /**
   * A reference cluster at given kinematics, one row of `kRaw` (nRef x L, original units) per
   * generated point: each latent from the KDE of its own row's bin, pushed through the flow at
   * that row's exact k. The cached mode uses it with kinematics of training rows near its cell.
   */
  generateAtKinematics(kRaw: Float64Array, nRef: number, rng: Rng): { a: Float32Array; logProb: Float64Array } {
    const L = this.nConditions;
    const D = this.dim;
    const z = new Float32Array(nRef * D);
    const byBin = new Map<number, number[]>();
    for (let r = 0; r < nRef; r++) {
      const bin = L > 0 ? this.bank.binOf(kRaw.subarray(r * L, r * L + L)) : 0;
      const list = byBin.get(bin);
      if (list) list.push(r);
      else byBin.set(bin, [r]);
    }
    for (const [bin, rows] of [...byBin.entries()].sort((p, q) => p[0] - q[0])) {
      const zb = this.bank.sampleBin(bin, rows.length, rng);
      rows.forEach((r, i) => z.set(zb.subarray(i * D, (i + 1) * D), r * D));
    }
    return this.sampleFlow(z, this.scaleConditions(kRaw), nRef);
  }

  /** Writes model.json and the weight files into `dir`, via a temporary folder renamed at the end. */
  save(dir: string): void {
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    try {
      saveSafetensors(join(tmp, 'cae.safetensors'), parametersToSafetensors(this.cae.parameters()), { fluxmut: VERSION });
      saveSafetensors(join(tmp, 'cmaf.safetensors'), parametersToSafetensors(cmafTrainable(this.flow).params), { fluxmut: VERSION });
      saveSafetensors(join(tmp, 'bank.safetensors'), this.bank.toTensors() as Record<string, SafeTensor>, { fluxmut: VERSION });
      saveSafetensors(join(tmp, 'conditions.safetensors'), {
        conditions: { dtype: 'F64', shape: [this.bank.counts.reduce((a, b) => a + b, 0), this.nConditions], data: this.bankConditions },
        reference: { dtype: 'F64', shape: [this.training.rows, this.nConditions], data: this.referenceConditions },
      }, { fluxmut: VERSION });
      const files: ModelJson['files'] = {};
      for (const f of WEIGHT_FILES) files[f] = { sha256: sha256File(join(tmp, f)) };
      const json: ModelJson = {
        format: MODEL_FORMAT,
        formatVersion: MODEL_FORMAT_VERSION,
        fluxmutVersion: VERSION,
        created: new Date().toISOString(),
        schema: this.schema,
        space: this.space,
        scalers: {
          features: this.featureScaler.toJSON(),
          conditions: this.conditionScaler ? this.conditionScaler.toJSON() : null,
          augmented: this.augmentedScaler.toJSON(),
        },
        cae: this.cae.spec,
        cmaf: this.flow.spec,
        bank: this.bank.toJSON(),
        training: this.training,
        files,
      };
      writeFileSync(join(tmp, 'model.json'), JSON.stringify(json, null, 1) + '\n');
      rmSync(dir, { recursive: true, force: true });
      renameSync(tmp, dir);
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      if (err instanceof FluxmutError) throw err;
      throw new FluxmutError(`cannot write model directory ${dir}: ${(err as Error).message}`, ExitCode.CantCreate);
    }
  }

  /** Loads a model directory, verifying the checksum and every tensor's shape. */
  static load(dir: string): FluxModel {
    const jsonPath = join(dir, 'model.json');
    if (!existsSync(jsonPath)) {
      throw new FluxmutError(`${dir}: not a fluxmut model directory (no model.json); train one with 'fluxmut train ... --out ${dir}'`, ExitCode.NoInput);
    }
    let json: ModelJson;
    try {
      json = JSON.parse(readFileSync(jsonPath, 'utf8')) as ModelJson;
    } catch (err) {
      throw new FluxmutError(`${jsonPath}: not valid JSON (${(err as Error).message}); the model directory is corrupted, re-train it`, ExitCode.BadModel);
    }
    if (json?.format !== MODEL_FORMAT) throw new FluxmutError(`${jsonPath}: not a fluxmut model file (format '${String(json?.format)}')`, ExitCode.BadModel);
    if (json.formatVersion !== MODEL_FORMAT_VERSION) {
      throw new FluxmutError(`${jsonPath}: model format version ${json.formatVersion}, this fluxmut (${VERSION}) reads version ${MODEL_FORMAT_VERSION}`, ExitCode.BadModel);
    }
    const tensors: Record<string, Record<string, SafeTensor>> = {};
    for (const f of WEIGHT_FILES) {
      const path = join(dir, f);
      if (!existsSync(path)) throw new FluxmutError(`${path}: weight file is missing; the model directory is incomplete, re-train or restore it`, ExitCode.BadModel);
      const expected = json.files?.[f]?.sha256;
      const actual = sha256File(path);
      if (expected !== actual) {
        throw new FluxmutError(
          `${path}: checksum mismatch (model.json records sha256 ${expected ?? 'none'}, the file has ${actual}); the file was modified or corrupted, re-train or restore it`,
          ExitCode.BadModel,
        );
      }
      tensors[f] = loadSafetensors(path).tensors;
    }
    const schema = schemaFromJSON(json.schema, jsonPath);
    const featureScaler = StandardScaler.fromJSON(json.scalers.features, jsonPath);
    const conditionScaler = json.scalers.conditions === null ? null : MinMaxScaler.fromJSON(json.scalers.conditions, jsonPath);
    const augmentedScaler = StandardScaler.fromJSON(json.scalers.augmented, jsonPath);
    const rng = new Rng(0); // initial weights are overwritten by the file
    const cae = new ConditionalAutoencoder(json.cae, rng);
    loadParametersFromSafetensors(cae.parameters(), tensors['cae.safetensors'], join(dir, 'cae.safetensors'));
    const flow = initCmaf(json.cmaf, rng);
    loadParametersFromSafetensors(cmafTrainable(flow).params, tensors['cmaf.safetensors'], join(dir, 'cmaf.safetensors'));
    checkMasks(flow, join(dir, 'cmaf.safetensors'));
    const bank = LatentKdeBank.fromSaved(json.bank, tensors['bank.safetensors'] as Record<string, SavedTensor>);
    const cond = tensors['conditions.safetensors'].conditions;
    const rows = bank.counts.reduce((a, b) => a + b, 0);
    if (!cond || cond.dtype !== 'F64' || cond.shape[0] !== rows || cond.shape[1] !== schema.conditions.length) {
      throw new FluxmutError(`${join(dir, 'conditions.safetensors')}: expected tensor 'conditions' F64 [${rows}, ${schema.conditions.length}]; the file does not belong to this model, re-train it`, ExitCode.BadModel);
    }
    const ref = tensors['conditions.safetensors'].reference;
    if (!ref || ref.dtype !== 'F64' || ref.shape[0] !== json.training.rows || ref.shape[1] !== schema.conditions.length) {
      throw new FluxmutError(`${join(dir, 'conditions.safetensors')}: expected tensor 'reference' F64 [${json.training.rows}, ${schema.conditions.length}]; the file does not belong to this model, re-train it`, ExitCode.BadModel);
    }
    return new FluxModel(schema, json.space, featureScaler, conditionScaler, augmentedScaler, cae, flow, bank, cond.data as Float64Array, ref.data as Float64Array, json.training);
  }
}

/** A weight that the MADE mask forbids would silently break the autoregressive property. */
function checkMasks(flow: Cmaf, file: string): void {
  flow.mades.forEach((made, l) => {
    const masks = madeMasks(madeSpecOf(flow.spec, l));
    made.layers.forEach((layer, i) => {
      for (let j = 0; j < layer.w.length; j++) {
        if (masks[i][j] === 0 && layer.w[j] !== 0) {
          throw new FluxmutError(`${file}: tensor 'cmaf.${l}.${i}.weight' has a non-zero weight where the MADE mask is 0 (entry ${j}); the file is corrupted, re-train the model`, ExitCode.BadModel);
        }
      }
    });
  });
}

function rawAugmented(cae: ConditionalAutoencoder, space: Space, xs: Float32Array, ks: Float32Array, n: number): Float32Array {
  const N = cae.spec.features;
  const recon = cae.reconstruct(xs, ks, n);
  if (space === 'features') return recon;
  const a = new Float32Array(n * 2 * N);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < N; j++) {
      const xr = recon[r * N + j];
      a[r * 2 * N + j] = xr;
      a[r * 2 * N + N + j] = xr - xs[r * N + j]; // the residual, paper Sec. 3 / DESIGN.md step 3
    }
  }
  return a;
}

function augmentWith(cae: ConditionalAutoencoder, scaler: StandardScaler, space: Space, xs: Float32Array, ks: Float32Array, n: number): Float32Array {
  const raw = rawAugmented(cae, space, xs, ks, n);
  return scaler.transform(raw, raw.length / n);
}

/**
 * Rescales the training latents (in place), per dimension about their mean, so that their
 * standard deviation equals that of the held-out latents: the 'pooled' bank (BankOptions.source).
 */
export function rescaleToHeldOutSpread(zTrain: Float32Array, nTrain: number, zHeld: Float32Array, nHeld: number, D: number): Float64Array {
  const scale = new Float64Array(D);
  for (let j = 0; j < D; j++) {
    const stats = (z: Float32Array, n: number): [number, number] => {
      let m = 0;
      for (let i = 0; i < n; i++) m += z[i * D + j];
      m /= n;
      let v = 0;
      for (let i = 0; i < n; i++) v += (z[i * D + j] - m) ** 2;
      return [m, Math.sqrt(v / Math.max(1, n - 1))];
    };
    const [mt, st] = stats(zTrain, nTrain);
    const [, sh] = stats(zHeld, nHeld);
    scale[j] = st > 0 && sh > 0 ? sh / st : 1;
    for (let i = 0; i < nTrain; i++) zTrain[i * D + j] = mt + (zTrain[i * D + j] - mt) * scale[j];
  }
  return scale;
}

/** Quantile bins with about `rowsPerBin` training rows each, split evenly over the conditions. */
function defaultBinning(nRows: number, L: number, rowsPerBin = 250, maxPerCondition = 10): ConditionBinning[] {
  const perCondition = Math.max(1, Math.min(maxPerCondition, Math.floor(Math.pow(nRows / rowsPerBin, 1 / L))));
  return Array.from({ length: L }, () => ({ quantiles: perCondition }));
}

/**
 * Training ("flux", DESIGN.md steps 1-5) on reference-class rows only.
 */
export function trainFlux(table: Table, options: FluxOptions): FluxModel {
  const started = Date.now();
  const preset = options.preset ?? 'default';
  const base = PRESETS[preset];
  if (!base) throw new FluxmutError(`unknown preset '${preset}'; use default or paper`, ExitCode.Usage);
  const caeOpt: CaeOptions = { ...base.cae, ...options.cae };
  const cmafOpt: CmafOptions = { ...base.cmaf, ...options.cmaf };
  const space: Space = options.space ?? 'augmented';
  if (space !== 'augmented' && space !== 'features') throw new FluxmutError(`unknown space '${space}'; use augmented or features`, ExitCode.Usage);
  const seed = options.seed ?? 1;
  const rng = new Rng(seed);
  const schema: Schema = { features: options.features, conditions: options.conditions };
  const { x, k, rows, nFeatures: N, nConditions: L } = extract(table, schema);
  const valFraction = options.validationFraction ?? 0.2;
  const nVal = Math.round(rows * valFraction);
  const nTrain = rows - nVal;
  if (nTrain < 20 || nVal < 5) {
    throw new FluxmutError(`${table.source}: ${rows} training rows are too few to train and validate a model; give at least 50 reference-class rows`);
  }
  options.onStage?.('preprocessing');
  const perm = rng.permutation(rows);
  const trainIdx = perm.subarray(0, nTrain);
  const valIdx = perm.subarray(nTrain);
  const pick = (src: Float64Array, d: number, idx: Uint32Array): Float64Array => {
    const out = new Float64Array(idx.length * d);
    for (let i = 0; i < idx.length; i++) out.set(src.subarray(idx[i] * d, idx[i] * d + d), i * d);
    return out;
  };
  const xTr = pick(x, N, trainIdx), xVa = pick(x, N, valIdx);
  const kTr = pick(k, L, trainIdx), kVa = pick(k, L, valIdx);
  // Step 1: the feature scaler is fit on the training part only.
  const featureScaler = new StandardScaler().fit(xTr, N, schema.features);
  // Over all reference rows, so that no row of the training file is reported out of range.
  const conditionScaler = L > 0 ? new MinMaxScaler().fit(k, L, schema.conditions) : null;
  const scaleK = (kk: Float64Array): Float32Array => (conditionScaler ? f32(conditionScaler.transform(kk, L)) : new Float32Array(0));
  const xsTr = f32(featureScaler.transform(xTr, N)), xsVa = f32(featureScaler.transform(xVa, N));
  const ksTr = scaleK(kTr), ksVa = scaleK(kVa);

  // Step 2: the conditional autoencoder.
  options.onStage?.('cae');
  const caeSpec: CaeSpec = { features: N, conditions: L, latent: caeOpt.latent, hidden: caeOpt.hidden, activation: caeOpt.activation };
  const cae = new ConditionalAutoencoder(caeSpec, rng);
  const caeHistory = trainCae(cae, { x: xsTr, k: ksTr, n: nTrain }, { x: xsVa, k: ksVa, n: nVal }, caeOpt.huberDelta, {
    epochs: caeOpt.epochs, batchSize: caeOpt.batchSize, lr: caeOpt.lr, patience: caeOpt.patience, rng, stage: 'cAE', onEpoch: options.onEpoch,
  });

  // Step 3: the augmented space, standardised on the training rows.
  const rawTr = rawAugmented(cae, space, xsTr, ksTr, nTrain);
  const D = rawTr.length / nTrain;
  const augmentedScaler = new StandardScaler().fit(rawTr, D);
  const aTr = augmentedScaler.transform(rawTr, D);
  const aVa = augmentWith(cae, augmentedScaler, space, xsVa, ksVa, nVal);

  // Step 4: the cMAF.
  options.onStage?.('cmaf');
  const cmafSpec: CmafSpec = { dim: D, conditions: L, layers: cmafOpt.layers, hidden: cmafOpt.hidden, activation: cmafOpt.activation, logScaleBound: cmafOpt.logScaleBound };
  const flow = initCmaf(cmafSpec, rng);
  const cmafHistory = trainCmaf(flow, { a: aTr, k: ksTr, n: nTrain }, { a: aVa, k: ksVa, n: nVal }, {
    epochs: cmafOpt.epochs, batchSize: cmafOpt.batchSize, lr: cmafOpt.lr, patience: cmafOpt.patience, clipNorm: 10, rng, stage: 'cMAF', onEpoch: options.onEpoch,
  });

  // Step 5: reference rows pushed to z (held-out validation rows by default), binned in original units.
  options.onStage?.('bank');
  const bankOpt = { ...base.bank, ...options.bank };
  if (!['pooled', 'validation', 'all'].includes(bankOpt.source)) {
    throw new FluxmutError(`unknown bank source '${String(bankOpt.source)}'; use pooled, validation or all`, ExitCode.Usage);
  }
  const zVa = cmafToLatent(flow, aVa, ksVa, nVal, getKernels()).z;
  let bankK: Float64Array, bankRows: number, bankZ: Float32Array;
  if (bankOpt.source === 'validation') {
    bankK = kVa; bankRows = nVal; bankZ = zVa;
  } else {
    const zTr = cmafToLatent(flow, aTr, ksTr, nTrain, getKernels()).z;
    if (bankOpt.source === 'pooled') rescaleToHeldOutSpread(zTr, nTrain, zVa, nVal, D);
    bankK = new Float64Array(rows * L);
    bankK.set(kTr, 0);
    bankK.set(kVa, nTrain * L);
    bankZ = new Float32Array(rows * D);
    bankZ.set(zTr, 0);
    bankZ.set(zVa, nTrain * D);
    bankRows = rows;
  }
  const bank = LatentKdeBank.fit({ rows: bankRows, cols: D, data: bankZ }, L > 0 ? { rows: bankRows, cols: L, data: bankK } : null, rng, {
    binning: L > 0 ? bankOpt.binning ?? defaultBinning(bankRows, L) : undefined,
    maxPerBin: bankOpt.maxPerBin,
    minPerBin: Math.min(bankOpt.minPerBin, bankRows),
    bandwidth: bankOpt.bandwidth,
    conditionNames: schema.conditions,
  });

  const training: TrainingRecord = {
    rows,
    trainRows: nTrain,
    validationRows: nVal,
    seed,
    preset,
    cae: caeOpt,
    cmaf: cmafOpt,
    history: { cae: caeHistory, cmaf: cmafHistory },
    seconds: (Date.now() - started) / 1000,
  };
  return new FluxModel(schema, space, featureScaler, conditionScaler, augmentedScaler, cae, flow, bank, bankK, k, training);
}
