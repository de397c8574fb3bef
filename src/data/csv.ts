/**
 * CSV/TSV reading (csv-parse) and writing. A header row is required. A column is 'number' when
 * every cell is a number literal (NaN and infinities included, so that they round-trip and are
 * rejected by name when used as input); any other column stays text, with the original cells kept
 * so that an error can quote the offending one.
 */
import { promises as fs } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { FluxmutError } from '../core/errors.js';
import type { Column, Table } from './table.js';
import { parseNumberCell } from './cells.js';

export interface CsvReadOptions {
  delimiter?: string;
  /** Columns kept as text even if every cell looks numeric. */
  strings?: string[];
  /** 'auto' (default) splits quote-free text directly and hands anything quoted to csv-parse. */
  engine?: 'auto' | 'csv-parse';
}

interface CsvRecord {
  record: string[];
  /** 1-based line of the file where the record ends. */
  info: { lines: number };
}

function parseQuoted(text: string, file: string, delimiter: string): CsvRecord[] {
  try {
    return parse(text, {
      delimiter,
      bom: true,
      relax_column_count: true,
      skip_empty_lines: true,
      info: true,
    }) as unknown as CsvRecord[];
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    throw new FluxmutError(`${file}: malformed CSV (${msg}). Check quoting on that line.`);
  }
}

/**
 * Text without a single quote character has no escaping, so splitting lines at line breaks and
 * fields at the delimiter is exactly what a CSV parser does, at a fraction of the cost (about 3x
 * faster than csv-parse on MAGIC). Same conventions as parseQuoted: BOM dropped, empty lines skipped.
 */
function splitPlain(text: string, delimiter: string): CsvRecord[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lines = body.split(/\r\n|\n|\r/);
  const out: CsvRecord[] = [];
  for (let l = 0; l < lines.length; l++) {
    if (lines[l] === '') continue;
    out.push({ record: lines[l].split(delimiter), info: { lines: l + 1 } });
  }
  return out;
}

/** Parses CSV text into a Table; `file` is used in error messages and as the table's source. */
export function readCsv(text: string, file: string, opts: CsvReadOptions = {}): Table {
  if (text.trim() === '') throw new FluxmutError(`${file}: the file is empty; expected a header row and data rows.`);
  const records = opts.engine === 'csv-parse' || text.includes('"') ? parseQuoted(text, file, opts.delimiter ?? ',') : splitPlain(text, opts.delimiter ?? ',');
  if (records.length === 0) throw new FluxmutError(`${file}: the file is empty; expected a header row and data rows.`);

  const header = records[0].record.map((h) => h.trim());
  const seen = new Map<string, number>();
  header.forEach((h, j) => {
    if (h === '') {
      throw new FluxmutError(
        `${file}: header field ${j + 1} is empty; every column needs a name ` +
          `(a pandas index column? write with index=False; a trailing delimiter? remove it).`,
      );
    }
    const prev = seen.get(h);
    if (prev !== undefined) {
      throw new FluxmutError(
        `${file}: column name '${h}' appears twice in the header (fields ${prev + 1} and ${j + 1}); rename one of them.`,
      );
    }
    seen.set(h, j);
  });
  const nRows = records.length - 1;
  if (nRows === 0) throw new FluxmutError(`${file}: the header has no data rows below it; nothing to read.`);

  const h = header.length;
  for (let r = 1; r < records.length; r++) {
    const k = records[r].record.length;
    if (k !== h) {
      throw new FluxmutError(
        `${file}: data row ${r} (1-based, header not counted; line ${records[r].info.lines} of the file) has ` +
          `${k} field${k === 1 ? '' : 's'} but the header has ${h}. Fix that row (a missing value or an unquoted delimiter?).`,
      );
    }
  }

  const keepText = new Set(opts.strings ?? []);
  const columns: Column[] = header.map((name, j) => {
    const cells = new Array<string>(nRows);
    for (let i = 0; i < nRows; i++) cells[i] = records[i + 1].record[j];
    if (!keepText.has(name)) {
      const values = new Float64Array(nRows);
      let numeric = true;
      for (let i = 0; i < nRows; i++) {
        const x = parseNumberCell(cells[i]);
        if (x === undefined) {
          numeric = false;
          break;
        }
        values[i] = x;
      }
      if (numeric) return { name, kind: 'number', values };
    }
    return { name, kind: 'string', values: cells };
  });
  return { source: file, nRows, columns };
}

/** Shortest text that parses back to exactly `x` (String() is round-trip exact for doubles); keeps -0. */
export function formatNumber(x: number): string {
  return Object.is(x, -0) ? '-0' : String(x);
}

/** Quotes a field when it would otherwise be misread: delimiter, quote, line break, edge spaces. */
export function quoteField(s: string, delimiter: string): string {
  if (
    s.includes(delimiter) ||
    s.includes('"') ||
    s.includes('\n') ||
    s.includes('\r') ||
    (s.length > 0 && (s[0] === ' ' || s[s.length - 1] === ' '))
  ) {
    return '"' + s.replace(/"/g, '""') + '"';
  }
  return s;
}

/** Serialises a table as CSV text, one chunk of rows at a time (passed to `emit`). */
export async function csvChunks(
  table: Table,
  delimiter: string,
  emit: (chunk: string) => Promise<void>,
  rowsPerChunk = 4096,
): Promise<void> {
  await emit(table.columns.map((c) => quoteField(c.name, delimiter)).join(delimiter) + '\n');
  const nc = table.columns.length;
  const fields = new Array<string>(nc);
  for (let start = 0; start < table.nRows; start += rowsPerChunk) {
    const end = Math.min(table.nRows, start + rowsPerChunk);
    const lines: string[] = [];
    for (let i = start; i < end; i++) {
      for (let j = 0; j < nc; j++) {
        const c = table.columns[j];
        fields[j] = c.kind === 'number' ? formatNumber(c.values[i]) : quoteField(String(c.values[i]), delimiter);
      }
      lines.push(fields.join(delimiter));
    }
    await emit(lines.join('\n') + '\n');
  }
}

/** Writes `table` to `file` (not atomically: see writeTable, which calls this on a temp file). */
export async function writeCsv(file: string, table: Table, delimiter = ','): Promise<void> {
  const handle = await fs.open(file, 'w');
  try {
    await csvChunks(table, delimiter, async (chunk) => {
      await handle.write(chunk);
    });
  } finally {
    await handle.close();
  }
}
