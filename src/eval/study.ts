import { Rng } from '../core/rng.js';
import { extract } from '../data/schema.js';
import { StandardScaler } from '../data/scalers.js';
import { selectRows, type Table } from '../data/table.js';
import { trainFlux, type FluxModel, type FluxOptions, type Space } from '../flux/model.js';
import { referenceFidelity, type FidelityReport } from '../mutability/fidelity.js';
import type { Mode, Scorer, Scores } from '../mutability/score.js';
import { fitGbt, fitGmm, gbtScore, gmmScore, knnDistance } from './baselines.js';
import { evaluateModel, referenceMask } from './evaluate.js';
import { baselineResult, type BaselineResult, type EvalReport } from './report.js';

/**
 * A complete one-class study on a labelled table (issue "first real result"): a fixed seeded
 * split of the reference class into train / validation / test (anomalous rows only ever in
 * test), models trained in the augmented and the features-only space, every combination of
 * mode and scorer evaluated (the exact mode on a seeded subset, it costs ~0.1 s per object),
 * the decision agreement of the cached with the exact mode, the fidelity of the generated
 * reference clusters, and baselines on the same split.
 */
export interface StudyOptions {
  features: string[];
  conditions: string[];
  labelColumn: string;
  referenceClass: string;
  /** Fractions of the reference class for train and validation; the rest is test (default 0.6, 0.2). */
  trainFraction?: number;
  validationFraction?: number;
  seed?: number;
  spaces?: Space[];
  /** Objects scored in exact mode (a seeded subset of the test set, class mix preserved in expectation). */
  exactLimit?: number;
  quantiles?: number[];
  flux?: Partial<FluxOptions>;
  onStage?: (message: string) => void;
  onEpoch?: FluxOptions['onEpoch'];
  onProgress?: (done: number, total: number) => void;
}

export interface StudyRun {
  space: Space;
  mode: Mode;
  scorer: Scorer;
  report: EvalReport;
}

export interface StudyResult {
  split: { train: number; validation: number; testReference: number; testAnomalous: number };
  runs: StudyRun[];
  /**
   * Per space and quantile, on the exact-mode subset (GLOSH): the fraction of decisions on which
   * the cached mode agrees with the exact mode, and, as the yardstick, the fraction on which two
   * exact runs with different seeds (different reference clusters) agree.
   */
  agreement: { space: Space; q: number; agreement: number; exactReseeded: number; n: number }[];
  fidelity: { space: Space; report: FidelityReport }[];
  baselines: BaselineResult[];
  models: Partial<Record<Space, FluxModel>>;
  trainingSeconds: Partial<Record<Space, number>>;
}

function standardised(table: Table, names: string[], scaler?: StandardScaler): { x: Float64Array; scaler: StandardScaler } {
  const { x } = extract(table, { features: names, conditions: [] });
  const s = scaler ?? new StandardScaler().fit(x, names.length);
  return { x: s.transform(x, names.length), scaler: s };
}

export function runStudy(table: Table, o: StudyOptions): StudyResult {
  const seed = o.seed ?? 1;
  const rng = new Rng(seed);
  const qs = o.quantiles ?? [0.68, 0.95, 0.99];
  const isRef = referenceMask(table, o.labelColumn, o.referenceClass);
  const refRows: number[] = [];
  const anomRows: number[] = [];
  isRef.forEach((v, i) => (v ? refRows : anomRows).push(i));
  rng.shuffle(refRows);
  const nTrain = Math.round((o.trainFraction ?? 0.6) * refRows.length);
  const nVal = Math.round((o.validationFraction ?? 0.2) * refRows.length);
  const fitRows = refRows.slice(0, nTrain + nVal).sort((a, b) => a - b);
  const testRows = [...refRows.slice(nTrain + nVal), ...anomRows].sort((a, b) => a - b);
  const fitTable = selectRows(table, fitRows);
  const testTable = selectRows(table, testRows);
  const exactLimit = Math.min(o.exactLimit ?? 600, testTable.nRows);

  const result: StudyResult = {
    split: { train: nTrain, validation: nVal, testReference: refRows.length - nTrain - nVal, testAnomalous: anomRows.length },
    runs: [], agreement: [], fidelity: [], baselines: [], models: {}, trainingSeconds: {},
  };
  for (const space of o.spaces ?? (['augmented', 'features'] as Space[])) {
    o.onStage?.(`training the ${space}-space model on ${fitRows.length} reference rows`);
    // The validation fraction of the rows handed to training reproduces the fixed train/validation split.
    const model = trainFlux(fitTable, {
      ...o.flux, features: o.features, conditions: o.conditions, space, seed,
      validationFraction: nVal / (nTrain + nVal), onEpoch: o.onEpoch,
    });
    result.models[space] = model;
    result.trainingSeconds[space] = model.training.seconds;
    let exactGlosh: Scores | null = null;
    for (const scorer of ['glosh', 'density'] as Scorer[]) {
      for (const mode of ['cached', 'exact'] as Mode[]) {
        o.onStage?.(`scoring: ${space} space, ${mode} mode, ${scorer}`);
        const { report, scores } = evaluateModel(model, testTable, {
          labelColumn: o.labelColumn, referenceClass: o.referenceClass, mode, scorer, quantiles: qs, seed,
          limit: mode === 'exact' ? exactLimit : undefined, modelName: `${space} space`, onProgress: o.onProgress,
        });
        result.runs.push({ space, mode, scorer, report });
        if (mode === 'exact' && scorer === 'glosh') exactGlosh = scores;
      }
    }
    o.onStage?.(`exact against cached decisions on the exact-mode subset (${space})`);
    const cached = evaluateModel(model, testTable, { labelColumn: o.labelColumn, referenceClass: o.referenceClass, mode: 'cached', quantiles: qs, seed, limit: exactLimit });
    const exact = exactGlosh!;
    // Same subset (the subset depends on the seed given to evaluateModel's limit), other reference clusters.
    const reseeded = evaluateModel(model, testTable, {
      labelColumn: o.labelColumn, referenceClass: o.referenceClass, mode: 'exact', quantiles: qs, seed, limit: exactLimit,
      scoreSeed: seed + 1000,
    });
    qs.forEach((q, j) => {
      let agree = 0;
      let again = 0;
      for (let i = 0; i < exactLimit; i++) {
        if (cached.scores.isOutlier[j][i] === exact.isOutlier[j][i]) agree++;
        if (reseeded.scores.isOutlier[j][i] === exact.isOutlier[j][i]) again++;
      }
      result.agreement.push({ space, q, agreement: agree / exactLimit, exactReseeded: again / exactLimit, n: exactLimit });
    });
    o.onStage?.(`fidelity of generated reference clusters against held-out reference rows (${space})`);
    const testRef = selectRows(testTable, referenceMask(testTable, o.labelColumn, o.referenceClass));
    const { x, k, rows } = extract(testRef, { features: o.features, conditions: o.conditions });
    result.fidelity.push({ space, report: referenceFidelity(model, x, k, rows, new Rng(seed + 1), { minRows: 60 }) });
  }

  o.onStage?.('baselines');
  const columns = [...o.features, ...o.conditions];
  const trainRef = selectRows(table, refRows.slice(0, nTrain).sort((a, b) => a - b));
  const { x: xTrain, scaler } = standardised(trainRef, columns);
  const { x: xTest } = standardised(testTable, columns, scaler);
  const testIsRef = referenceMask(testTable, o.labelColumn, o.referenceClass);
  const d = columns.length;
  const gmm = fitGmm(xTrain, d, { components: 16, rng: new Rng(seed) });
  result.baselines.push(baselineResult('Gaussian mixture (16 components, one-class)', gmmScore(gmm, xTest), testIsRef, qs));
  result.baselines.push(baselineResult('kNN distance (k = 5, one-class)', knnDistance(xTrain, xTest, d, { k: 5 }), testIsRef, qs));
  // The supervised ceiling sees anomalous rows: half of them train it, the other half are its test.
  const half = anomRows.slice().sort((a, b) => a - b).filter((_, i) => i % 2 === 0);
  const supTrain = selectRows(table, [...refRows.slice(0, nTrain), ...half].sort((a, b) => a - b));
  const { x: xs } = standardised(supTrain, columns, scaler);
  const gbt = fitGbt(xs, d, referenceMask(supTrain, o.labelColumn, o.referenceClass), { rounds: 200, depth: 3 });
  const heldOut = new Set(half);
  const supTestRows = testRows.filter((r) => !heldOut.has(r));
  const supTest = selectRows(table, supTestRows);
  const { x: xst } = standardised(supTest, columns, scaler);
  result.baselines.push(baselineResult('Gradient-boosted trees (supervised: trained on half of the anomalous rows)', gbtScore(gbt, xst),
    referenceMask(supTest, o.labelColumn, o.referenceClass), qs, { note: 'tested on the other half of the anomalous rows' }));
  return result;
}
