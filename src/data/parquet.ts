/**
 * Parquet reading (hyparquet) and writing (hyparquet-writer). Only flat tables are supported:
 * each top-level field one primitive column. Numeric physical types (INT32/INT64/FLOAT/DOUBLE)
 * become 'number' columns (nulls become NaN, which the numeric checks then reject by row);
 * BOOLEAN becomes the strings true/false, everything else text. Number columns are written as
 * DOUBLE so values round-trip exactly; text columns holding only true/false are written BOOLEAN.
 */
import { promises as fs } from 'node:fs';
import { parquetMetadata, parquetRead } from 'hyparquet';
import type { FileMetaData } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { ColumnSource } from 'hyparquet-writer';
import { FluxmutError } from '../core/errors.js';
import { openError } from './file-errors.js';
import type { Column, Table } from './table.js';

/** Reads a Parquet file into a Table (only `columns` when given; missing ones are an error). */
export async function readParquet(file: string, columns?: string[]): Promise<Table> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (e) {
    throw openError(file, e);
  }
  if (bytes.length === 0) throw new FluxmutError(`${file}: the file is empty; expected a Parquet file.`);
  const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let metadata: FileMetaData;
  try {
    metadata = parquetMetadata(buf);
  } catch (e) {
    throw new FluxmutError(`${file}: not a readable Parquet file (${(e as Error).message}).`);
  }
  const fields = topLevelFields(metadata);
  const available = fields.map((f) => f.name);
  for (const f of fields) {
    if (f.nested) {
      if (columns === undefined || columns.includes(f.name)) {
        throw new FluxmutError(
          `${file}: column '${f.name}' is nested (a list or struct); fluxmut reads flat tables only. ` +
            `Flatten it or select other columns.`,
        );
      }
    }
  }
  const names = columns ?? available;
  for (const n of names) {
    if (!available.includes(n)) {
      throw new FluxmutError(`${file}: no column '${n}'. Available columns: ${available.join(', ')}.`);
    }
  }
  const nRows = Number(metadata.num_rows);
  if (nRows === 0) throw new FluxmutError(`${file}: the Parquet file has no rows; nothing to read.`);
  // Chunks arrive per column and row group; place each at its rowStart.
  const cells = new Map<string, unknown[]>(names.map((n) => [n, new Array<unknown>(nRows)]));
  try {
    await parquetRead({
      file: buf,
      metadata,
      columns: names,
      onChunk: ({ columnName, columnData, rowStart, rowEnd }) => {
        const dest = cells.get(columnName);
        if (dest === undefined) return;
        const end = Math.min(rowEnd, nRows);
        for (let i = rowStart; i < end; i++) dest[i] = columnData[i - rowStart];
      },
    });
  } catch (e) {
    throw new FluxmutError(`${file}: cannot decode the Parquet data (${(e as Error).message}).`);
  }
  const out: Column[] = names.map((name) => toColumn(name, cells.get(name) as unknown[]));
  return { source: file, nRows, columns: out };
}

function topLevelFields(metadata: FileMetaData): { name: string; nested: boolean }[] {
  const schema = metadata.schema;
  const fields: { name: string; nested: boolean }[] = [];
  // The schema is a depth-first flattening; the root's direct children are the table's columns.
  let i = 1;
  const skip = (at: number): number => {
    const n = schema[at].num_children ?? 0;
    let next = at + 1;
    for (let c = 0; c < n; c++) next = skip(next);
    return next;
  };
  while (i < schema.length) {
    const el = schema[i];
    fields.push({ name: el.name, nested: (el.num_children ?? 0) > 0 || el.repetition_type === 'REPEATED' });
    i = skip(i);
  }
  return fields;
}

function toColumn(name: string, raw: ArrayLike<unknown>): Column {
  const n = raw.length;
  if (raw instanceof Float64Array) return { name, kind: 'number', values: raw };
  if (ArrayBuffer.isView(raw) && !(raw instanceof BigInt64Array) && !(raw instanceof BigUint64Array)) {
    return { name, kind: 'number', values: Float64Array.from(raw as ArrayLike<number>) };
  }
  let kind: 'number' | 'boolean' | 'other' | undefined;
  for (let i = 0; i < n; i++) {
    const v = raw[i];
    if (v === null || v === undefined) continue;
    const k = typeof v === 'number' || typeof v === 'bigint' ? 'number' : typeof v === 'boolean' ? 'boolean' : 'other';
    if (kind === undefined) kind = k;
    else if (kind !== k) kind = 'other';
    if (kind === 'other') break;
  }
  if (kind === 'number') {
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const v = raw[i];
      values[i] = v === null || v === undefined ? NaN : Number(v);
    }
    return { name, kind: 'number', values };
  }
  const values = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const v = raw[i];
    values[i] = v === null || v === undefined ? '' : v instanceof Date ? v.toISOString() : String(v);
  }
  return { name, kind: 'string', values };
}

function isBooleanText(values: string[]): boolean {
  if (values.length === 0) return false;
  for (const v of values) if (v !== 'true' && v !== 'false') return false;
  return true;
}

/** Writes `table` to `file` (not atomically: see writeTable, which calls this on a temp file). */
export async function writeParquet(file: string, table: Table): Promise<void> {
  const columnData: ColumnSource[] = table.columns.map((c): ColumnSource => {
    if (c.kind === 'number') return { name: c.name, data: c.values, type: 'DOUBLE', nullable: false };
    if (isBooleanText(c.values)) {
      return { name: c.name, data: c.values.map((v) => v === 'true'), type: 'BOOLEAN', nullable: false };
    }
    return { name: c.name, data: c.values, type: 'STRING', nullable: false };
  });
  const bytes = parquetWriteBuffer({ columnData, createdBy: 'fluxmut' });
  await fs.writeFile(file, new Uint8Array(bytes));
}
