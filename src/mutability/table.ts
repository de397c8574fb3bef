import { extract } from '../data/schema.js';
import { addColumn, booleanColumn, numberColumn, type Table } from '../data/table.js';
import type { FluxModel } from '../flux/model.js';
import { quantileLabel } from './calibration.js';
import { scoreObjects, type CalibrationRows, type ScoreOptions, type Scores } from './score.js';

/**
 * Scores every row of a table with a model (the model's feature and condition columns must be
 * present) and returns the table with the output columns DESIGN.md names appended:
 * outlier_score, p_value, threshold_<q> and is_outlier_<q> per quantile, out_of_range.
 */
export function scoreTable(model: FluxModel, table: Table, options: ScoreOptions = {}): { table: Table; scores: Scores } {
  const { x, k, rows } = extract(table, { features: model.schema.features, conditions: model.schema.conditions });
  const scores = scoreObjects(model, x, k, rows, options);
  return { table: withScoreColumns(table, scores), scores };
}

export function withScoreColumns(table: Table, scores: Scores): Table {
  let t = addColumn(table, numberColumn('outlier_score', scores.outlierScore));
  t = addColumn(t, numberColumn('p_value', scores.pValue));
  scores.options.quantiles.forEach((q, j) => {
    t = addColumn(t, numberColumn(`threshold_${quantileLabel(q)}`, scores.thresholds[j]));
    t = addColumn(t, booleanColumn(`is_outlier_${quantileLabel(q)}`, Array.from(scores.isOutlier[j], (v) => v === 1)));
  });
  return addColumn(t, booleanColumn('out_of_range', Array.from(scores.outOfRange, (v) => v === 1)));
}

/**
 * Held-out calibration rows (ScoreOptions.calibration) from a table of reference-class objects
 * that took no part in training; it needs the model's feature and condition columns.
 */
export function calibrationRows(model: FluxModel, table: Table): CalibrationRows {
  const { x, k, rows } = extract(table, { features: model.schema.features, conditions: model.schema.conditions });
  return { x, k, n: rows, source: table.source };
}

/** One line on how the cut levels were set, for summaries and reports. */
export function describeCalibration(scores: Scores): string {
  const c = scores.calibration;
  if (c.kind === 'generated') return 'cut against the generated reference cluster (p > q)';
  const levels = scores.options.quantiles.map((q, j) => `q=${q}: p > ${scores.levels[j].toFixed(4)}`).join(', ');
  return `cut calibrated on ${c.rows} held-out reference rows${c.source ? ` of ${c.source}` : ''} (${levels})`;
}
