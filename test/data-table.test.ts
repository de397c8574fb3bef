import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { ExitCode, FluxmutError } from '../src/core/errors.js';
import {
  addColumn,
  booleanColumn,
  filterRows,
  getColumn,
  makeTable,
  numberColumn,
  numericMatrix,
  readCsv,
  readTable,
  selectRows,
  stringColumn,
  writeTable,
} from '../src/data/index.js';
import type { Column, Table } from '../src/data/index.js';

const MAGIC = fileURLToPath(new URL('../../shared/data/magic04.csv', import.meta.url));

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'fluxmut-data-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function vals(t: Table, name: string): (number | string)[] {
  return Array.from(getColumn(t, name).values as ArrayLike<number | string>);
}

function file(name: string, text?: string): string {
  const p = path.join(dir, name);
  if (text !== undefined) writeFileSync(p, text);
  return p;
}

/** The FluxmutError a promise rejects with (fails the test if it resolves or throws anything else). */
async function failure(p: Promise<unknown> | (() => unknown)): Promise<FluxmutError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(FluxmutError);
    return e as FluxmutError;
  }
  throw new Error('expected a FluxmutError, got success');
}

// Doubles chosen to break any formatting that is not shortest-round-trip exact.
const DOUBLES = [
  0.1, 1 / 3, -2 / 3, Math.PI, 1e-300, 5e-324, -0, 0, 1.7976931348623157e308, 123456789012345680000, 2 ** 53 + 2,
  0.30000000000000004, -1.5e-7, 1e21, NaN, Infinity, -Infinity,
];
const STRINGS = [
  'plain', 'with,comma', 'with "quotes"', 'multi\nline', ' lead space', 'trail space ', '', 'ünïcødé γ→e⁺e⁻',
  'tab\there', 'x', 'NaN-ish text', 'comma, and "both"', 'semi;colon', 'a', 'b', 'c', 'd',
];
const BOOLS = DOUBLES.map((_, i) => i % 3 === 0);

function sample(): Table {
  return makeTable([numberColumn('x', DOUBLES), stringColumn('s', STRINGS), booleanColumn('flag', BOOLS)]);
}

function expectSameTable(back: Table, orig: Table): void {
  expect(back.nRows).toBe(orig.nRows);
  expect(back.columns.map((c) => [c.name, c.kind])).toEqual(orig.columns.map((c) => [c.name, c.kind]));
  for (const c of orig.columns) {
    const b = getColumn(back, c.name);
    for (let i = 0; i < orig.nRows; i++) {
      // Object.is: -0 and NaN must come back as themselves, not merely ==.
      expect(Object.is(b.values[i], c.values[i]), `${c.name}[${i}]: ${b.values[i]} vs ${c.values[i]}`).toBe(true);
    }
  }
}

describe('CSV and Parquet round trips', () => {
  it('CSV keeps every double bit-exact, strings with delimiters/quotes/newlines, booleans as true/false', async () => {
    const p = file('rt.csv');
    await writeTable(p, sample());
    const back = await readTable(p);
    expectSameTable(back, sample());
    const text = readFileSync(p, 'utf8');
    expect(text.split('\n')[0]).toBe('x,s,flag');
    expect(text).toContain('"with ""quotes"""');
    expect(text.split('\n')[1]).toBe('0.1,plain,true');
  });

  it('TSV round trips too', async () => {
    const p = file('rt.tsv');
    await writeTable(p, sample());
    expect(readFileSync(p, 'utf8').split('\n')[0]).toBe('x\ts\tflag');
    expectSameTable(await readTable(p), sample());
  });

  it('Parquet keeps every double bit-exact, strings and booleans', async () => {
    const p = file('rt.parquet');
    await writeTable(p, sample());
    const bytes = readFileSync(p);
    expect(bytes.subarray(0, 4).toString()).toBe('PAR1');
    expect(bytes.subarray(bytes.length - 4).toString()).toBe('PAR1');
    expectSameTable(await readTable(p), sample());
  });

  it('reads Parquet written by other tools: ints, floats, nullable doubles, booleans', async () => {
    const p = file('foreign.parquet');
    const buf = parquetWriteBuffer({
      columnData: [
        { name: 'i32', data: [1, -2, 3], type: 'INT32' },
        { name: 'i64', data: [10n, 20n, -30n], type: 'INT64' },
        { name: 'f32', data: new Float32Array([0.5, 1.25, -2]), type: 'FLOAT' },
        { name: 'd', data: [1.5, null, 2.5], type: 'DOUBLE' },
        { name: 'b', data: [true, false, true], type: 'BOOLEAN' },
        { name: 's', data: ['u', 'v', 'w'], type: 'STRING' },
      ],
    });
    writeFileSync(p, new Uint8Array(buf));
    const t = await readTable(p);
    expect(t.nRows).toBe(3);
    expect(t.columns.map((c) => c.kind)).toEqual(['number', 'number', 'number', 'number', 'string', 'string']);
    expect(vals(t, 'i32')).toEqual([1, -2, 3]);
    expect(vals(t, 'i64')).toEqual([10, 20, -30]);
    expect(vals(t, 'f32')).toEqual([0.5, 1.25, -2]);
    expect(getColumn(t, 'b').values).toEqual(['true', 'false', 'true']);
    // A null is a missing value: fine to carry, an error to use as a number.
    const e = await failure(() => numericMatrix(t, ['i32', 'd']));
    expect(e.message).toContain(p);
    expect(e.message).toContain('row 2');
    expect(e.message).toContain("'d'");
    // Column selection at read time.
    const sel = await readTable(p, { columns: ['s', 'i32'] });
    expect(sel.columns.map((c) => c.name)).toEqual(['s', 'i32']);
    const miss = await failure(readTable(p, { columns: ['nope'] }));
    expect(miss.message).toContain("no column 'nope'");
    expect(miss.message).toContain('i32, i64, f32, d, b, s');
  });

  it('rejects a file that is not Parquet', async () => {
    const p = file('junk.parquet', 'this is not parquet at all, just text');
    const e = await failure(readTable(p));
    expect(e.exitCode).toBe(ExitCode.BadInput);
    expect(e.message).toContain(p);
  });
});

describe('MAGIC gamma telescope data', () => {
  it('reads 19020 rows x 11 columns with the header of magic04.names and the right class counts', async () => {
    const t0 = performance.now();
    const t = await readTable(MAGIC);
    const ms = performance.now() - t0;
    console.log(`readTable(magic04.csv): ${ms.toFixed(0)} ms (machine under shared load)`);
    expect(ms).toBeLessThan(2000);
    expect(t.nRows).toBe(19020);
    const names = ['fLength', 'fWidth', 'fSize', 'fConc', 'fConc1', 'fAsym', 'fM3long', 'fM3Trans', 'fAlpha', 'fDist', 'class'];
    expect(t.columns.map((c) => c.name)).toEqual(names);
    expect(t.columns.map((c) => c.kind)).toEqual([...Array(10).fill('number'), 'string']);
    const cls = getColumn(t, 'class').values as string[];
    expect(cls.filter((c) => c === 'g').length).toBe(12332);
    expect(cls.filter((c) => c === 'h').length).toBe(6688);

    // Independent parse: the file has no quoting, so split + parseFloat must agree everywhere.
    const lines = readFileSync(MAGIC, 'utf8').trim().split(/\r?\n/).slice(1);
    const m = numericMatrix(t, names.slice(0, 10));
    expect(m.rows).toBe(19020);
    expect(m.cols).toBe(10);
    let mismatches = 0;
    lines.forEach((line, i) => {
      const f = line.split(',');
      for (let j = 0; j < 10; j++) if (m.data[i * 10 + j] !== parseFloat(f[j])) mismatches++;
    });
    expect(mismatches).toBe(0);

    const g = filterRows(t, 'class', 'g');
    expect(g.nRows).toBe(12332);
  });

  it('rewrites MAGIC byte for byte', async () => {
    const p = file('magic.csv');
    await writeTable(p, await readTable(MAGIC));
    expect(readFileSync(p, 'utf8')).toBe(readFileSync(MAGIC, 'utf8'));
  });
});

describe('bad CSV input names file, row and column', () => {
  it('missing file: NoInput', async () => {
    const p = path.join(dir, 'does-not-exist.csv');
    const e = await failure(readTable(p));
    expect(e.exitCode).toBe(ExitCode.NoInput);
    expect(e.message).toContain(p);
  });

  it('empty file and whitespace-only file', async () => {
    for (const [name, text] of [['empty.csv', ''], ['blank.csv', '\n\n  \n']]) {
      const e = await failure(readTable(file(name, text)));
      expect(e.exitCode).toBe(ExitCode.BadInput);
      expect(e.message).toContain(name);
      expect(e.message).toMatch(/empty/);
    }
  });

  it('header without data rows', async () => {
    const e = await failure(readTable(file('header-only.csv', 'a,b,c\n')));
    expect(e.message).toContain('header-only.csv');
    expect(e.message).toMatch(/no data rows/);
  });

  it('ragged row: says which row, which line, and both field counts', async () => {
    const e = await failure(readTable(file('ragged.csv', 'a,b\n1,2\n3,4,5\n6,7\n')));
    expect(e.message).toContain('ragged.csv');
    expect(e.message).toContain('data row 2');
    expect(e.message).toContain('line 3');
    expect(e.message).toContain('3 fields');
    expect(e.message).toContain('header has 2');
    const short = await failure(readTable(file('short.csv', 'a,b,c\n1,2,3\n4,5\n')));
    expect(short.message).toContain('data row 2');
    expect(short.message).toContain('2 fields');
  });

  it('duplicate and empty column names', async () => {
    const e = await failure(readTable(file('dup.csv', 'a,b,a\n1,2,3\n')));
    expect(e.message).toContain('dup.csv');
    expect(e.message).toContain("'a'");
    expect(e.message).toMatch(/fields 1 and 3/);
    const empty = await failure(readTable(file('noname.csv', ',a\n0,1\n')));
    expect(empty.message).toMatch(/header field 1 is empty/);
  });

  it('missing requested column lists the available ones', async () => {
    const p = file('cols.csv', 'alpha,beta\n1,2\n');
    const e = await failure(readTable(p, { columns: ['alpha', 'gamma'] }));
    expect(e.message).toContain(p);
    expect(e.message).toContain("'gamma'");
    expect(e.message).toContain('alpha, beta');
    const t = await readTable(p);
    expect((await failure(() => numericMatrix(t, ['gamma']))).message).toContain('alpha, beta');
  });

  const cases: [string, string, RegExp][] = [
    ['abc', "'abc'", /is not a number/],
    ['NaN', "'NaN'", /not a finite number/],
    // A number column keeps values, not text: 'inf' is reported as the value it parsed to.
    ['inf', "'Infinity'", /not a finite number/],
    ['-Infinity', "'-Infinity'", /not a finite number/],
    ['', 'an empty cell', /is not a number/],
  ];
  for (const [cell, shown, why] of cases) {
    it(`cell '${cell}' in a numeric column: error at read (numeric option) and in numericMatrix`, async () => {
      const p = file(`bad-${cells(cell)}.csv`, `id,energy,x\n1,1.5,a\n2,2.5,b\n3,${cell},c\n4,4.5,d\n`);
      for (const e of [
        await failure(readTable(p, { numeric: ['energy'] })),
        await failure(async () => numericMatrix(await readTable(p), ['id', 'energy'])),
      ]) {
        expect(e.exitCode).toBe(ExitCode.BadInput);
        expect(e.message).toContain(p);
        expect(e.message).toContain('data row 3 (1-based, header not counted');
        expect(e.message).toContain("column 'energy'");
        expect(e.message).toContain(shown);
        expect(e.message).toMatch(why);
      }
    });
  }
  function cells(c: string): string {
    return c === '' ? 'empty' : c.replace(/[^a-z]/gi, '');
  }

  it('a text column asked for as numbers names the first text cell', async () => {
    const p = file('text.csv', 'a,b\n1,x\n2,y\n');
    const e = await failure(readTable(p, { numeric: ['b'] }));
    expect(e.message).toContain("data row 1 (1-based, header not counted; line 2");
    expect(e.message).toContain("'x'");
  });

  it('malformed quoting is reported, not crashed on', async () => {
    const e = await failure(readTable(file('quote.csv', 'a,b\n1,"unterminated\n2,3\n')));
    expect(e.message).toContain('quote.csv');
    expect(e.message).toMatch(/malformed CSV/);
  });

  it('unknown extension is a usage error', async () => {
    const e = await failure(readTable(file('data.xlsx', 'a\n1\n')));
    expect(e.exitCode).toBe(ExitCode.Usage);
    expect(e.message).toMatch(/\.csv, \.tsv or \.parquet/);
  });

  it('tolerates BOM, CRLF, blank lines and spaces in the header; strings option keeps ids as text', async () => {
    const t = await readTable(file('crlf.csv', '\uFEFF id , e\r\n007,1\r\n\r\n008,2\r\n'), { strings: ['id'] });
    expect(t.columns.map((c) => c.name)).toEqual(['id', 'e']);
    expect(t.nRows).toBe(2);
    expect(getColumn(t, 'id')).toEqual({ name: 'id', kind: 'string', values: ['007', '008'] });
    expect(vals(t, 'e')).toEqual([1, 2]);
  });
});

describe('quote-free fast path agrees with csv-parse', () => {
  it('gives identical tables on MAGIC and on CRLF/CR/blank-line/BOM text, and the same ragged-row line', () => {
    const texts = [
      readFileSync(MAGIC, 'utf8'),
      '\uFEFFa,b,c\r\n1,x,3\r\n\r\n4,,6\r\n',
      'a;b\r1;2\r3;4',
      'a,b\n\n\n1, 2 \n3,4\n\n',
    ];
    for (const text of texts) {
      const delimiter = text.startsWith('a;') ? ';' : ',';
      expect(readCsv(text, 'f.csv', { delimiter })).toEqual(readCsv(text, 'f.csv', { delimiter, engine: 'csv-parse' }));
    }
    const ragged = 'a,b\n1,2\n\n3\n';
    const msg = (engine: 'auto' | 'csv-parse'): string => {
      try {
        readCsv(ragged, 'r.csv', { engine });
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(msg('auto')).toContain('data row 2 (1-based, header not counted; line 4 of the file)');
    expect(msg('auto')).toBe(msg('csv-parse'));
  });
});

describe('atomic writes', () => {
  it('a failure mid-write leaves the previous file untouched and no temporary file behind', async () => {
    const sub = path.join(dir, 'atomic');
    mkdirSync(sub);
    const out = path.join(sub, 'scores.csv');
    writeFileSync(out, 'old,content\n1,2\n');
    const n = 10000;
    // A column that throws when row 5000 is serialised: after the first chunks hit the temp file.
    const values = new Proxy(new Array<string>(n).fill('v'), {
      get(target, prop, recv) {
        if (prop === '5000') throw new Error('disk full (simulated)');
        return Reflect.get(target, prop, recv);
      },
    });
    const bad: Table = { source: '<memory>', nRows: n, columns: [numberColumn('x', new Float64Array(n)), { name: 's', kind: 'string', values }] };
    const e = await failure(writeTable(out, bad));
    expect(e.exitCode).toBe(ExitCode.CantCreate);
    expect(e.message).toContain(out);
    expect(readFileSync(out, 'utf8')).toBe('old,content\n1,2\n');
    expect(readdirSync(sub)).toEqual(['scores.csv']);

    // Same for a new path: nothing is created.
    const fresh = path.join(sub, 'new.parquet');
    await failure(writeTable(fresh, bad));
    await failure(writeTable(path.join(sub, 'new.csv'), bad));
    expect(readdirSync(sub)).toEqual(['scores.csv']);
  });

  it('a directory in the way or a missing folder is CantCreate and leaves nothing behind', async () => {
    const sub = path.join(dir, 'atomic2');
    mkdirSync(path.join(sub, 'taken.csv'), { recursive: true });
    const e = await failure(writeTable(path.join(sub, 'taken.csv'), sample()));
    expect(e.exitCode).toBe(ExitCode.CantCreate);
    expect(readdirSync(sub)).toEqual(['taken.csv']);
    const e2 = await failure(writeTable(path.join(sub, 'no', 'such', 'dir.csv'), sample()));
    expect(e2.exitCode).toBe(ExitCode.CantCreate);
    expect(e2.message).toMatch(/does not exist/);
  });

  it('refuses an inconsistent table before touching the disk', async () => {
    const t: Table = { source: '<memory>', nRows: 3, columns: [numberColumn('x', [1, 2])] };
    const out = path.join(dir, 'inconsistent.csv');
    const e = await failure(writeTable(out, t));
    expect(e.message).toContain("'x' has 2 values");
    expect(readdirSync(dir)).not.toContain('inconsistent.csv');
  });
});

describe('row and column helpers', () => {
  const t = makeTable([numberColumn('e', [10, 20, 30, 40]), stringColumn('c', ['g', 'h', 'g', 'h'])]);

  it('selectRows by mask and by indices', () => {
    const byMask = selectRows(t, [true, false, false, true]);
    expect(vals(byMask, 'e')).toEqual([10, 40]);
    const byIdx = selectRows(t, [2, 0]);
    expect(vals(byIdx, 'e')).toEqual([30, 10]);
    expect(getColumn(byIdx, 'c').values).toEqual(['g', 'g']);
    const byU8 = selectRows(t, new Uint8Array([0, 1, 1, 0]));
    expect(vals(byU8, 'e')).toEqual([20, 30]);
  });

  it('filterRows compares text as text and numbers as numbers', () => {
    expect(vals(filterRows(t, 'c', 'h'), 'e')).toEqual([20, 40]);
    expect(filterRows(t, 'e', '20.0').nRows).toBe(1);
  });

  it('addColumn appends or replaces, and checks the length', () => {
    const score: Column = numberColumn('score', [0.1, 0.2, 0.3, 0.4]);
    const t2 = addColumn(t, score);
    expect(t2.columns.map((c) => c.name)).toEqual(['e', 'c', 'score']);
    expect(t.columns.length).toBe(2);
    const t3 = addColumn(t2, numberColumn('e', [1, 2, 3, 4]));
    expect(t3.columns.map((c) => c.name)).toEqual(['e', 'c', 'score']);
    expect(vals(t3, 'e')).toEqual([1, 2, 3, 4]);
    expect(() => addColumn(t, numberColumn('bad', [1]))).toThrow(FluxmutError);
  });

  it('numericMatrix is row-major in the requested column order', () => {
    const u = makeTable([numberColumn('a', [1, 2]), numberColumn('b', [3, 4]), stringColumn('n', ['5', '6'])]);
    const m = numericMatrix(u, ['b', 'a', 'n']);
    expect(Array.from(m.data)).toEqual([3, 1, 5, 4, 2, 6]);
    expect([m.rows, m.cols, m.names]).toEqual([2, 3, ['b', 'a', 'n']]);
  });
});
