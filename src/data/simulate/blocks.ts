import type { Column, Table } from '../table.js';

/** One class's simulated rows: per-row scalars (e.g. the conditions) and a row-major feature block. */
export interface ClassBlock {
  label: string;
  rows: number;
  /** One array of `rows` values per scalar column. */
  scalars: Float64Array[];
  /** rows x (number of feature names), row-major. */
  features: Float64Array;
}

/**
 * Two classes' rows stacked into a table, first then second: the scalar columns, the feature
 * columns and a string column `class` holding each row's label.
 */
export function stackClassBlocks(
  first: ClassBlock, second: ClassBlock, scalarNames: readonly string[], featureNames: readonly string[], source: string,
): Table {
  const nRows = first.rows + second.rows;
  const nf = featureNames.length;
  const columns: Column[] = scalarNames.map((name, j) => {
    const v = new Float64Array(nRows);
    v.set(first.scalars[j], 0);
    v.set(second.scalars[j], first.rows);
    return { name, kind: 'number', values: v };
  });
  featureNames.forEach((name, j) => {
    const v = new Float64Array(nRows);
    for (let i = 0; i < first.rows; i++) v[i] = first.features[i * nf + j];
    for (let i = 0; i < second.rows; i++) v[first.rows + i] = second.features[i * nf + j];
    columns.push({ name, kind: 'number', values: v });
  });
  const cls = new Array<string>(nRows);
  for (let i = 0; i < nRows; i++) cls[i] = i < first.rows ? first.label : second.label;
  columns.push({ name: 'class', kind: 'string', values: cls });
  return { source, nRows, columns };
}
