import { ExitCode, FluxmutError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { getColumn, selectRows, type Table } from '../data/table.js';
import type { FluxModel } from '../flux/model.js';
import { describeCalibration, scoreTable } from '../mutability/table.js';
import type { ScoreOptions, Scores } from '../mutability/score.js';
import { auc, type AucResult } from './metrics.js';
import { makeReport, quantileResults, type BaselineResult, type EvalReport } from './report.js';

export interface EvaluateOptions extends ScoreOptions {
  /** Column holding the class of each row. */
  labelColumn: string;
  /** The value of labelColumn that marks the reference class; every other value is anomalous. */
  referenceClass: string;
  /** Evaluate on at most this many rows (a seeded random subset, class mix preserved in expectation). */
  limit?: number;
  /** Free text for the report's model line (e.g. the model directory). */
  modelName?: string;
  /** Seed of the reference clusters and tie-breaking, when it should differ from `seed` (which also picks the --limit subset). */
  scoreSeed?: number;
}

/** The reference-class mask of a labelled table; errors name the file, column and the values seen. */
export function referenceMask(table: Table, labelColumn: string, referenceClass: string): Uint8Array {
  const col = getColumn(table, labelColumn);
  const values = col.kind === 'string' ? col.values : Array.from(col.values, String);
  const mask = new Uint8Array(table.nRows);
  let count = 0;
  values.forEach((v, i) => {
    if (v === referenceClass) { mask[i] = 1; count++; }
  });
  if (count === 0) {
    const seen = [...new Set(values)].slice(0, 10).join(', ');
    throw new FluxmutError(`${table.source}: no row has ${labelColumn} = '${referenceClass}' (values seen: ${seen}); check --reference-class`, ExitCode.BadInput);
  }
  return mask;
}

/**
 * Scores a labelled table and measures the method (DESIGN.md step 9): per quantile, TPR on the
 * reference class (should equal q) and TNR on the rest, with binomial errors; the AUC of the
 * p-values with its Hanley-McNeil error; the time per object.
 */
export function evaluateModel(model: FluxModel, table: Table, options: EvaluateOptions): { report: EvalReport; scores: Scores; table: Table } {
  let t = table;
  if (options.limit !== undefined && options.limit < t.nRows) {
    if (!(options.limit > 0)) throw new FluxmutError(`--limit must be a positive number of rows, got ${options.limit}`, ExitCode.Usage);
    const perm = new Rng(options.seed ?? 1).permutation(t.nRows);
    const keep = Array.from(perm.subarray(0, options.limit)).sort((a, b) => a - b);
    t = selectRows(t, keep);
  }
  const isRef = referenceMask(t, options.labelColumn, options.referenceClass);
  const { table: scored, scores } = scoreTable(model, t, { ...options, seed: options.scoreSeed ?? options.seed });
  const nRef = isRef.reduce((a, b) => a + b, 0);
  const aucResult = nRef > 0 && nRef < t.nRows ? auc(scores.pValue, isRef) : null;
  const report = makeReport({
    title: `fluxmut evaluation: ${options.referenceClass} (reference) against the rest`,
    dataset: `${table.source}: ${t.nRows} objects (${nRef} ${options.labelColumn}=${options.referenceClass}, ${t.nRows - nRef} other)`,
    model: `${options.modelName ?? 'model'}: space ${model.space}, cMAF K=${model.flow.spec.layers} ${model.flow.spec.hidden.join('x')}, latent ${model.cae.spec.latent}`,
    mode: scores.options.mode,
    scorer: scores.options.scorer,
    nObjects: t.nRows,
    secondsPerObject: scores.seconds / Math.max(1, t.nRows),
    auc: aucResult,
    quantiles: quantileResults(scores.options.quantiles, scores.isOutlier, isRef),
    baselines: scores.calibration.kind === 'held-out' ? [paperCut(scores, isRef, aucResult)] : [],
    extra: {
      nRef: scores.options.nRef,
      minClusterSize: scores.options.minClusterSize,
      minSamples: scores.options.minSamples,
      normalisation: scores.options.normalisation,
      cacheBins: scores.options.cacheBins,
      seed: scores.options.seed,
      outOfRange: scores.outOfRange.reduce((a, b) => a + b, 0),
      calibration: describeCalibration(scores),
    },
  });
  return { report, scores, table: scored };
}

/**
 * With a held-out cut, the same objects under the paper's cut (p > q against the generated
 * reference cluster): the difference in TPR is how far the generated cluster is from the class.
 */
function paperCut(scores: Scores, isRef: Uint8Array, aucResult: AucResult | null): BaselineResult {
  const qs = scores.options.quantiles;
  const flags = qs.map((q) => Uint8Array.from(scores.pValue, (p) => (p > q ? 1 : 0)));
  return {
    name: "F+M, paper's cut (p > q)",
    auc: aucResult,
    quantiles: quantileResults(qs, flags, isRef),
    note: 'the same scores and p-values, cut at q against the generated reference cluster instead of at the held-out levels',
  };
}
