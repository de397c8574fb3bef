/**
 * Which columns of a table are features x, which are conditions k (the kinematics the model is
 * conditioned on, paper sec. 3), and optionally the class label and an object id; plus the
 * `--filter COLUMN=VALUE` selection of rows (e.g. the reference class, `class=g`).
 */
import { ExitCode, FluxmutError } from '../core/errors.js';
import { Matrix } from '../core/matrix.js';
import { parseNumberCell } from './cells.js';
import { columnNames, getColumn, numericValues, selectRows } from './table.js';
import type { Table } from './table.js';

export interface Schema {
  features: string[];
  conditions: string[];
  label?: string;
  id?: string;
}

/** Every column the schema uses, each with its role (for messages). */
function roles(schema: Schema): [string, string][] {
  const out: [string, string][] = [];
  for (const f of schema.features) out.push([f, 'feature']);
  for (const c of schema.conditions) out.push([c, 'condition']);
  if (schema.label !== undefined) out.push([schema.label, 'label']);
  if (schema.id !== undefined) out.push([schema.id, 'id']);
  return out;
}

/**
 * Checks the schema's own consistency (at least one feature, no column in two roles); `where`
 * names what the schema came from (a model file, the command line).
 */
export function checkSchema(schema: Schema, where = 'schema'): void {
  if (schema.features.length === 0) {
    throw new FluxmutError(`${where}: no feature columns given; name at least one feature (e.g. --features a,b,c).`, ExitCode.Usage);
  }
  const seen = new Map<string, string>();
  for (const [name, role] of roles(schema)) {
    if (name.trim() === '') throw new FluxmutError(`${where}: an empty column name is listed as a ${role}.`, ExitCode.Usage);
    const prev = seen.get(name);
    if (prev !== undefined) {
      throw new FluxmutError(
        `${where}: column '${name}' is used twice (as ${prev} and as ${role}); each column can have one role only.`,
        ExitCode.Usage,
      );
    }
    seen.set(name, role);
  }
}

/**
 * Validates a schema against a table: all columns present (else the available ones are listed),
 * features and conditions finite numbers in every row (else file, row, column and cell).
 */
export function validateSchema(table: Table, schema: Schema): void {
  checkSchema(schema, table.source);
  const available = new Set(columnNames(table));
  const missing = roles(schema).filter(([n]) => !available.has(n));
  if (missing.length > 0) {
    const list = missing.map(([n, r]) => `'${n}' (${r})`).join(', ');
    throw new FluxmutError(
      `${table.source}: missing column${missing.length > 1 ? 's' : ''} ${list}. ` +
        `Available columns: ${columnNames(table).join(', ')}.`,
    );
  }
  for (const name of [...schema.features, ...schema.conditions]) numericValues(table, getColumn(table, name));
}

export interface Extracted {
  /** Features, row-major rows x features.length. */
  x: Float64Array;
  /** Conditions, row-major rows x conditions.length. */
  k: Float64Array;
  rows: number;
  nFeatures: number;
  nConditions: number;
}

/** The features and conditions of every row as row-major float64 matrices (validated first). */
export function extract(table: Table, schema: Schema): Extracted {
  validateSchema(table, schema);
  const rows = table.nRows;
  const gather = (names: string[]): Float64Array => {
    const c = names.length;
    const out = new Float64Array(rows * c);
    names.forEach((n, j) => {
      const v = numericValues(table, getColumn(table, n));
      for (let i = 0; i < rows; i++) out[i * c + j] = v[i];
    });
    return out;
  };
  return {
    x: gather(schema.features),
    k: gather(schema.conditions),
    rows,
    nFeatures: schema.features.length,
    nConditions: schema.conditions.length,
  };
}

/** A row-major float64 block as a Float32 Matrix (the networks' precision). */
export function toMatrix(data: Float64Array, rows: number, cols: number): Matrix {
  return new Matrix(rows, cols, Float32Array.from(data));
}

/** A schema read from JSON (e.g. model.json), checked field by field; `where` names the file. */
export function schemaFromJSON(obj: unknown, where: string): Schema {
  const bad = (what: string): never => {
    throw new FluxmutError(`${where}: schema ${what}.`, ExitCode.BadModel);
  };
  if (typeof obj !== 'object' || obj === null) bad('is not an object');
  const o = obj as Record<string, unknown>;
  const names = (key: string): string[] => {
    const v = o[key];
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) bad(`field '${key}' must be a list of column names`);
    return (v as string[]).slice();
  };
  const opt = (key: string): string | undefined => {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') bad(`field '${key}' must be a column name`);
    return v as string;
  };
  const schema: Schema = { features: names('features'), conditions: names('conditions') };
  const label = opt('label');
  const id = opt('id');
  if (label !== undefined) schema.label = label;
  if (id !== undefined) schema.id = id;
  try {
    checkSchema(schema, where);
  } catch (e) {
    if (e instanceof FluxmutError) throw new FluxmutError(e.message, ExitCode.BadModel);
    throw e;
  }
  return schema;
}

export interface RowFilter {
  column: string;
  value: string;
}

/** Parses `COLUMN=VALUE` (split at the first '='; spaces around either side are ignored). */
export function parseFilter(text: string): RowFilter {
  const at = text.indexOf('=');
  const column = at < 0 ? '' : text.slice(0, at).trim();
  const value = at < 0 ? '' : text.slice(at + 1).trim();
  if (at < 0 || column === '' || value === '') {
    throw new FluxmutError(`--filter '${text}': expected COLUMN=VALUE, e.g. --filter class=g.`, ExitCode.Usage);
  }
  return { column, value };
}

/**
 * The rows matching every filter. Numbers compare as numbers ("1.0" matches 1); a filter that
 * matches no row is an error listing the values the column holds, since an empty selection is
 * almost always a typo.
 */
export function applyFilters(table: Table, filters: RowFilter[]): Table {
  let mask = new Uint8Array(table.nRows).fill(1);
  for (const f of filters) {
    const col = getColumn(table, f.column);
    const next = new Uint8Array(table.nRows);
    let hits = 0;
    if (col.kind === 'number') {
      const v = parseNumberCell(f.value);
      if (v !== undefined) {
        for (let i = 0; i < table.nRows; i++) {
          const eq = col.values[i] === v || (Number.isNaN(v) && Number.isNaN(col.values[i]));
          next[i] = mask[i] && eq ? 1 : 0;
          hits += next[i];
        }
      }
    } else {
      for (let i = 0; i < table.nRows; i++) {
        next[i] = mask[i] && col.values[i] === f.value ? 1 : 0;
        hits += next[i];
      }
    }
    if (hits === 0) {
      throw new FluxmutError(
        `${table.source}: filter ${f.column}=${f.value} matches no row${filters.length > 1 ? ' (after the filters before it)' : ''}. ` +
          `Values seen in column '${f.column}': ${distinctValues(table, f.column, mask, 20)}.`,
      );
    }
    mask = next;
  }
  return selectRows(table, mask);
}

/** Up to `limit` distinct values of a column among the masked rows, with their counts, for messages. */
function distinctValues(table: Table, name: string, mask: Uint8Array, limit: number): string {
  const col = getColumn(table, name);
  const counts = new Map<string, number>();
  for (let i = 0; i < table.nRows; i++) {
    if (!mask[i]) continue;
    const key = col.kind === 'number' ? String(col.values[i]) : JSON.stringify(col.values[i]);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const shown = [...counts.entries()].slice(0, limit).map(([v, n]) => `${v} (${n})`);
  const more = counts.size > limit ? `, ... ${counts.size - limit} more` : '';
  return shown.length === 0 ? '(no rows left)' : shown.join(', ') + more;
}
