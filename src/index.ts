// The public entry point of the fluxmut library: train(table, options), Model.load(dir),
// model.score(table, options), evaluate(...), simulate.bcal(...), plus the building blocks.
import type { Table } from './data/table.js';
import { trainFlux, FluxModel, type FluxOptions } from './flux/model.js';
import { scoreTable } from './mutability/table.js';
import type { ScoreOptions, Scores } from './mutability/score.js';
import { evaluateModel, type EvaluateOptions } from './eval/evaluate.js';
import type { EvalReport } from './eval/report.js';

export { Matrix } from './core/matrix.js';
export { Rng } from './core/rng.js';
export { FluxmutError, ExitCode } from './core/errors.js';
export { VERSION } from './version.js';
export * as simulate from './data/simulate/index.js';
export { readTable, writeTable, makeTable, numberColumn, stringColumn, type Table, type Column } from './data/table.js';
export { hdbscan, NewPointScorer, ExactRefitScorer, type HdbscanOptions, type HdbscanResult } from './cluster/index.js';
export { FluxModel, trainFlux, PRESETS, type FluxOptions, type Space, type Preset } from './flux/model.js';
export { scoreObjects, type ScoreOptions, type Scores, type Mode, type Scorer, type CalibrationRows } from './mutability/score.js';
export { calibrationRows } from './mutability/table.js';
export { referenceFidelity, type FidelityReport } from './mutability/fidelity.js';
export { evaluateModel, type EvaluateOptions } from './eval/evaluate.js';
export { runStudy, type StudyOptions, type StudyResult } from './eval/study.js';
export type { EvalReport } from './eval/report.js';

/** A trained model with the inference steps attached: the user-facing handle. */
export class Model {
  constructor(readonly flux: FluxModel) {}

  static load(dir: string): Model {
    return new Model(FluxModel.load(dir));
  }

  save(dir: string): void {
    this.flux.save(dir);
  }

  /** Every input column plus outlier_score, p_value, threshold_<q>, is_outlier_<q>, out_of_range. */
  score(table: Table, options: ScoreOptions = {}): { table: Table; scores: Scores } {
    return scoreTable(this.flux, table, options);
  }

  evaluate(table: Table, options: EvaluateOptions): EvalReport {
    return evaluateModel(this.flux, table, options).report;
  }
}

/** Trains a model on reference-class rows only (DESIGN.md steps 1-5). */
export function train(table: Table, options: FluxOptions): Model {
  return new Model(trainFlux(table, options));
}

/** Scores a labelled table and returns the report (TPR/TNR per quantile with errors, AUC, time per object). */
export function evaluate(model: Model, table: Table, options: EvaluateOptions): EvalReport {
  return model.evaluate(table, options);
}
