import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { ExitCode, FluxmutError } from '../src/core/errors.js';
import {
  applyFilters,
  checkSchema,
  extract,
  getColumn,
  makeTable,
  numberColumn,
  parseFilter,
  readTable,
  schemaFromJSON,
  stringColumn,
  toMatrix,
  validateSchema,
} from '../src/data/index.js';
import type { Table } from '../src/data/index.js';

const MAGIC = fileURLToPath(new URL('../../shared/data/magic04.csv', import.meta.url));

function failure(f: () => unknown): FluxmutError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(FluxmutError);
    return e as FluxmutError;
  }
  throw new Error('expected a FluxmutError');
}

const t: Table = makeTable(
  [
    numberColumn('e', [1, 2, 3]),
    numberColumn('x1', [10, 20, 30]),
    stringColumn('x2', ['0.5', '1.5', 'oops']),
    numberColumn('pos', [-1, 0, 1]),
    stringColumn('class', ['g', 'h', 'g']),
    stringColumn('id', ['a', 'b', 'c']),
  ],
  'events.csv',
);

describe('schema validation', () => {
  it('extracts row-major features and conditions in schema order', () => {
    const s = { features: ['x1', 'e'], conditions: ['pos'], label: 'class', id: 'id' };
    const { x, k, rows, nFeatures, nConditions } = extract(t, s);
    expect([rows, nFeatures, nConditions]).toEqual([3, 2, 1]);
    expect(Array.from(x)).toEqual([10, 1, 20, 2, 30, 3]);
    expect(Array.from(k)).toEqual([-1, 0, 1]);
    const m = toMatrix(x, rows, nFeatures);
    expect(m.shape).toEqual([3, 2]);
    expect(m.get(2, 0)).toBe(30);
  });

  it('missing columns: names each with its role and lists the available ones', () => {
    const e = failure(() => validateSchema(t, { features: ['x1', 'nope'], conditions: ['E_beam'] }));
    expect(e.message).toContain('events.csv');
    expect(e.message).toContain("'nope' (feature)");
    expect(e.message).toContain("'E_beam' (condition)");
    expect(e.message).toContain('e, x1, x2, pos, class, id');
  });

  it('a column used twice, or no features at all', () => {
    const e = failure(() => validateSchema(t, { features: ['x1', 'e'], conditions: ['e'] }));
    expect(e.message).toContain("'e'");
    expect(e.message).toMatch(/as feature and as condition/);
    const e2 = failure(() => checkSchema({ features: [], conditions: ['e'] }, '--features'));
    expect(e2.exitCode).toBe(ExitCode.Usage);
    expect(e2.message).toMatch(/no feature columns/);
  });

  it('a non-numeric feature names file, row and column', () => {
    const e = failure(() => extract(t, { features: ['x2'], conditions: ['e'] }));
    expect(e.message).toContain('events.csv');
    expect(e.message).toContain('data row 3');
    expect(e.message).toContain("column 'x2'");
    expect(e.message).toContain("'oops'");
  });

  it('schemaFromJSON accepts a good schema and rejects malformed ones as BadModel', () => {
    const good = { features: ['x1'], conditions: ['e', 'pos'], label: 'class' };
    expect(schemaFromJSON(JSON.parse(JSON.stringify(good)), 'model.json')).toEqual(good);
    for (const bad of [null, { features: 'x1', conditions: [] }, { features: ['x1'], conditions: [3] }, { features: ['a'], conditions: ['a'] }]) {
      const e = failure(() => schemaFromJSON(bad, 'm/model.json'));
      expect(e.exitCode).toBe(ExitCode.BadModel);
      expect(e.message).toContain('m/model.json');
    }
  });
});

describe('--filter COLUMN=VALUE', () => {
  it('parses and applies, text and numbers', () => {
    expect(parseFilter(' class = g ')).toEqual({ column: 'class', value: 'g' });
    expect(parseFilter('expr=a=b')).toEqual({ column: 'expr', value: 'a=b' });
    const g = applyFilters(t, [parseFilter('class=g')]);
    expect(getColumn(g, 'id').values).toEqual(['a', 'c']);
    const both = applyFilters(t, [parseFilter('class=g'), parseFilter('pos=1.0')]);
    expect(getColumn(both, 'id').values).toEqual(['c']);
  });

  it('rejects malformed filters as usage errors', () => {
    for (const s of ['class', '=g', 'class=', '']) {
      expect(failure(() => parseFilter(s)).exitCode).toBe(ExitCode.Usage);
    }
  });

  it('a filter that matches nothing lists the values seen with counts', () => {
    const e = failure(() => applyFilters(t, [parseFilter('class=gamma')]));
    expect(e.message).toContain('events.csv');
    expect(e.message).toContain('class=gamma');
    expect(e.message).toContain('"g" (2), "h" (1)');
    const e2 = failure(() => applyFilters(t, [parseFilter('nope=1')]));
    expect(e2.message).toContain("no column 'nope'");
  });

  it('MAGIC: class=g selects the 12332 gammas, whose features extract cleanly', async () => {
    const magic = await readTable(MAGIC);
    const g = applyFilters(magic, [parseFilter('class=g')]);
    expect(g.nRows).toBe(12332);
    const features = ['fLength', 'fWidth', 'fConc', 'fConc1', 'fAsym', 'fM3long', 'fM3Trans', 'fAlpha'];
    const ex = extract(g, { features, conditions: ['fSize', 'fDist'], label: 'class' });
    expect(ex.x.length).toBe(12332 * 8);
    expect(ex.k.length).toBe(12332 * 2);
    expect(ex.k[0]).toBe(2.6449);
    expect(ex.k[1]).toBe(81.8828);
  });
});
