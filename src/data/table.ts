/**
 * The in-memory table every command reads and writes: named columns, each either float64 numbers
 * or strings, plus the file it came from so that every error can name file, row and column.
 * Readers and writers for each format live beside this file; here are the format-agnostic entry
 * points (chosen by file extension) and the checks that turn a table into numbers.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ExitCode, FluxmutError } from '../core/errors.js';
import { readCsv, writeCsv } from './csv.js';
import { openError } from './file-errors.js';
import { parseNumberCell } from './cells.js';
import { readParquet, writeParquet } from './parquet.js';

export { parseNumberCell };

export type Column =
  | { name: string; kind: 'number'; values: Float64Array }
  | { name: string; kind: 'string'; values: string[] };

export interface Table {
  /** The file the table was read from (or a description such as `<memory>`), used in errors. */
  source: string;
  nRows: number;
  columns: Column[];
}

export interface ReadOptions {
  /** Keep only these columns, in this order; a missing one is an error listing the available ones. */
  columns?: string[];
  /** Columns that must hold finite numbers in every row; checked at read time. */
  numeric?: string[];
  /** Columns to keep as text even when every cell looks like a number (ids such as "007"). */
  strings?: string[];
}

export type TableFormat = 'csv' | 'tsv' | 'parquet';

/** The format a path names by its extension, or an error that lists the supported ones. */
export function formatOf(file: string): TableFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.tsv' || ext === '.tab') return 'tsv';
  if (ext === '.parquet' || ext === '.pq') return 'parquet';
  throw new FluxmutError(
    `${file}: unknown table format '${ext || '(no extension)'}'. Use a file ending in .csv, .tsv or .parquet.`,
    ExitCode.Usage,
  );
}

/** Reads a CSV/TSV or Parquet file (by extension) into a Table. */
export async function readTable(file: string, opts: ReadOptions = {}): Promise<Table> {
  const format = formatOf(file);
  let table: Table;
  if (format === 'parquet') {
    table = await readParquet(file, opts.columns);
  } else {
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (e) {
      throw openError(file, e);
    }
    table = readCsv(text, file, { delimiter: format === 'tsv' ? '\t' : ',', strings: opts.strings });
  }
  if (opts.columns !== undefined) table = selectColumns(table, opts.columns);
  if (opts.strings !== undefined) {
    for (const name of opts.strings) getColumn(table, name);
  }
  for (const name of opts.numeric ?? []) {
    const col = getColumn(table, name);
    const values = numericValues(table, col);
    const i = table.columns.indexOf(col);
    table.columns[i] = { name, kind: 'number', values };
  }
  return table;
}


/**
 * Writes a table as CSV/TSV or Parquet (by extension). Atomic: the bytes go to a temporary file in
 * the same folder, which is renamed over `file` only once complete, so a failure never leaves a
 * half-written output (rename within one filesystem is atomic on POSIX).
 */
export async function writeTable(file: string, table: Table): Promise<void> {
  const format = formatOf(file);
  checkTable(table);
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    if (format === 'parquet') await writeParquet(tmp, table);
    else await writeCsv(tmp, table, format === 'tsv' ? '\t' : ',');
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    if (e instanceof FluxmutError) throw e;
    const code = (e as NodeJS.ErrnoException)?.code;
    const why =
      code === 'ENOENT'
        ? `folder ${dir} does not exist; create it first`
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'a directory of that name is in the way'
            : ((e as Error)?.message ?? String(e));
    throw new FluxmutError(`${file}: cannot write table (${why}).`, ExitCode.CantCreate);
  }
}

/** Consistency of an in-memory table: unique names, every column nRows long. */
export function checkTable(table: Table): void {
  const seen = new Set<string>();
  for (const col of table.columns) {
    if (seen.has(col.name)) {
      throw new FluxmutError(`${table.source}: column '${col.name}' appears twice; column names must be unique.`);
    }
    seen.add(col.name);
    if (col.values.length !== table.nRows) {
      throw new FluxmutError(
        `${table.source}: column '${col.name}' has ${col.values.length} values but the table has ${table.nRows} rows.`,
        ExitCode.Internal,
      );
    }
  }
}

export function columnNames(table: Table): string[] {
  return table.columns.map((c) => c.name);
}

export function hasColumn(table: Table, name: string): boolean {
  return table.columns.some((c) => c.name === name);
}

/** The column called `name`, or an error listing the available columns. */
export function getColumn(table: Table, name: string): Column {
  const col = table.columns.find((c) => c.name === name);
  if (col === undefined) {
    throw new FluxmutError(
      `${table.source}: no column '${name}'. Available columns: ${columnNames(table).join(', ')}.`,
    );
  }
  return col;
}

/** A new table holding only `names`, in that order (columns are shared, not copied). */
export function selectColumns(table: Table, names: string[]): Table {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new FluxmutError(`${table.source}: column '${n}' requested twice.`, ExitCode.Usage);
    seen.add(n);
  }
  return { source: table.source, nRows: table.nRows, columns: names.map((n) => getColumn(table, n)) };
}

/** A new table with `column` appended, or replacing a column of the same name in place. */
export function addColumn(table: Table, column: Column): Table {
  if (column.values.length !== table.nRows) {
    throw new FluxmutError(
      `${table.source}: new column '${column.name}' has ${column.values.length} values but the table has ${table.nRows} rows.`,
      ExitCode.Internal,
    );
  }
  const i = table.columns.findIndex((c) => c.name === column.name);
  const columns = table.columns.slice();
  if (i >= 0) columns[i] = column;
  else columns.push(column);
  return { source: table.source, nRows: table.nRows, columns };
}

export function numberColumn(name: string, values: ArrayLike<number>): Column {
  return { name, kind: 'number', values: Float64Array.from(values) };
}

export function stringColumn(name: string, values: string[]): Column {
  return { name, kind: 'string', values };
}

/** Booleans are stored as the strings `true`/`false` (CSV-friendly; Parquet BOOLEAN reads back the same). */
export function booleanColumn(name: string, values: ArrayLike<boolean>): Column {
  const out = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i] ? 'true' : 'false';
  return { name, kind: 'string', values: out };
}

/** A table from plain columns; `source` defaults to `<memory>`. */
export function makeTable(columns: Column[], source = '<memory>'): Table {
  const nRows = columns.length === 0 ? 0 : columns[0].values.length;
  const t = { source, nRows, columns };
  checkTable(t);
  return t;
}

/** The rows picked by a boolean mask (length nRows) or by a list of 0-based indices, in order. */
export function selectRows(table: Table, which: ArrayLike<boolean> | Uint8Array | Int32Array | number[]): Table {
  let idx: number[];
  if (isMask(which, table.nRows)) {
    idx = [];
    for (let i = 0; i < table.nRows; i++) if (which[i]) idx.push(i);
  } else {
    idx = Array.from(which as ArrayLike<number>);
    for (const i of idx) {
      if (!Number.isInteger(i) || i < 0 || i >= table.nRows) {
        throw new RangeError(`selectRows: index ${i} outside 0..${table.nRows - 1}`);
      }
    }
  }
  const columns: Column[] = table.columns.map((c) => {
    if (c.kind === 'number') {
      const v = new Float64Array(idx.length);
      for (let k = 0; k < idx.length; k++) v[k] = c.values[idx[k]];
      return { name: c.name, kind: 'number', values: v };
    }
    return { name: c.name, kind: 'string', values: idx.map((i) => c.values[i]) };
  });
  return { source: table.source, nRows: idx.length, columns };
}

function isMask(which: ArrayLike<unknown>, n: number): which is ArrayLike<boolean> {
  if (Array.isArray(which)) return which.length > 0 ? typeof which[0] === 'boolean' : n === 0;
  // A Uint8Array of length nRows is a 0/1 mask; any other typed array is a list of indices.
  return which instanceof Uint8Array && which.length === n;
}

/** The rows whose `column` equals `value` (compared as text for strings, as numbers for numbers). */
export function filterRows(table: Table, column: string, value: string | number): Table {
  const col = getColumn(table, column);
  const mask = new Uint8Array(table.nRows);
  if (col.kind === 'number') {
    const v = typeof value === 'number' ? value : parseNumberCell(value);
    if (v !== undefined) for (let i = 0; i < table.nRows; i++) mask[i] = col.values[i] === v ? 1 : 0;
  } else {
    const v = String(value);
    for (let i = 0; i < table.nRows; i++) mask[i] = col.values[i] === v ? 1 : 0;
  }
  return selectRows(table, mask);
}

/** How rows are counted in messages about this table: CSV rows exclude the header line. */
export function rowLabel(table: Table, row0: number): string {
  const ext = path.extname(table.source).toLowerCase();
  if (ext === '.csv' || ext === '.tsv' || ext === '.tab') {
    return `data row ${row0 + 1} (1-based, header not counted; line ${row0 + 2} of the file if no field spans lines)`;
  }
  return `row ${row0 + 1} (1-based)`;
}

function describeCell(text: string): string {
  return text.trim() === '' ? 'an empty cell' : `'${text.length > 40 ? text.slice(0, 40) + '...' : text}'`;
}

/** A column's values as finite float64, or a FluxmutError naming the file, row, column and cell. */
export function numericValues(table: Table, col: Column): Float64Array {
  if (col.kind === 'number') {
    const v = col.values;
    for (let i = 0; i < v.length; i++) {
      if (!Number.isFinite(v[i])) throw badCell(table, i, col.name, String(v[i]));
    }
    return v;
  }
  const out = new Float64Array(col.values.length);
  for (let i = 0; i < out.length; i++) {
    const x = parseNumberCell(col.values[i]);
    if (x === undefined || !Number.isFinite(x)) throw badCell(table, i, col.name, col.values[i]);
    out[i] = x;
  }
  return out;
}

function badCell(table: Table, row0: number, column: string, text: string): FluxmutError {
  const parsed = parseNumberCell(text);
  const what =
    parsed === undefined
      ? `${describeCell(text)} is not a number`
      : `'${text.trim()}' is not a finite number (NaN and infinities cannot be used)`;
  return new FluxmutError(
    `${table.source}: ${rowLabel(table, row0)}, column '${column}': ${what}. ` +
      `Column '${column}' is used as numeric input: fix or drop that row (and any other non-finite rows) and rerun.`,
  );
}

/**
 * The named columns (default: all) as a row-major float64 matrix: element (i, j) at
 * data[i * cols + j]. Every value must be finite; the first bad cell is reported by file, row,
 * column and content.
 */
export function numericMatrix(
  table: Table,
  names?: string[],
): { data: Float64Array; rows: number; cols: number; names: string[] } {
  const use = names ?? columnNames(table);
  const seen = new Set<string>();
  for (const n of use) {
    if (seen.has(n)) throw new FluxmutError(`${table.source}: column '${n}' requested twice.`, ExitCode.Usage);
    seen.add(n);
  }
  const cols = use.length;
  const rows = table.nRows;
  const data = new Float64Array(rows * cols);
  for (let j = 0; j < cols; j++) {
    const v = numericValues(table, getColumn(table, use[j]));
    for (let i = 0; i < rows; i++) data[i * cols + j] = v[i];
  }
  return { data, rows, cols, names: use.slice() };
}
