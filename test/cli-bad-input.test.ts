/**
 * Bad input through the built command: every case must give a message on stderr that names the
 * file (and row and column where there is one), no stack trace, the documented exit code, and
 * nothing at the output path. Options: usage errors exit 64. `--help` lists every option.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProgram } from '../src/cli/main.js';
import { CONDITIONS, FAST, FEATURES, REPO, fluxmut, readCsv, stackLines, synthCsv, writeSynth } from './cli-helpers.js';

let dir = '';

/** The synthetic table with one cell replaced (data row `row`, 1-based, header not counted). */
function withCell(row: number, column: string, value: string): string {
  const lines = synthCsv({ reference: 60, anomalous: 0, seed: 21 }).trimEnd().split('\n');
  const j = lines[0].split(',').indexOf(column);
  const cells = lines[row].split(',');
  cells[j] = value;
  lines[row] = cells.join(',');
  return lines.join('\n') + '\n';
}

const BAD_TABLES: { name: string; text: () => string; message: RegExp }[] = [
  { name: 'nan', text: () => withCell(7, 'f2', 'NaN'), message: /nan\.csv: data row 7\b.*column 'f2'.*not a finite number/ },
  { name: 'inf', text: () => withCell(3, 'e', '-Inf'), message: /inf\.csv: data row 3\b.*column 'e'.*not a finite number/ },
  { name: 'nonnumeric', text: () => withCell(12, 'f3', 'abc'), message: /nonnumeric\.csv: data row 12\b.*column 'f3'.*'abc' is not a number/ },
  { name: 'emptycell', text: () => withCell(5, 'f1', ''), message: /emptycell\.csv: data row 5\b.*column 'f1'.*empty cell/ },
  {
    name: 'missing',
    text: () => synthCsv({ reference: 60, anomalous: 0, seed: 21 }).replace(/^id,e,z,f1,f2,f3,class/, 'id,e,z,f1,g2,f3,class'),
    message: /missing\.csv: missing column 'f2'.*Available columns: id, e, z, f1, g2, f3, class/,
  },
  { name: 'empty', text: () => '', message: /empty\.csv: the file is empty/ },
  { name: 'headeronly', text: () => 'id,e,z,f1,f2,f3,class\n', message: /headeronly\.csv: .*no data rows/ },
  {
    name: 'duplicate',
    text: () => synthCsv({ reference: 60, anomalous: 0, seed: 21 }).replace(/^id,e,z,f1,f2,f3,class/, 'id,e,z,f1,f2,f1,class'),
    message: /duplicate\.csv: column name 'f1' appears twice/,
  },
  { name: 'ragged', text: () => withCell(9, 'class', 'ref,extra'), message: /ragged\.csv: data row 9\b.*has 8 fields but the header has 7/ },
];

function expectCleanFailure(r: { code: number | null; stderr: string; stdout: string }, code: number, message: RegExp): void {
  expect(r.stderr).toMatch(message);
  expect(r.stderr).toMatch(/^fluxmut: /);
  expect(stackLines(r.stderr)).toEqual([]);
  expect(r.stderr).not.toMatch(/internal error/);
  expect(r.code).toBe(code);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fluxmut-cli-bad-'));
  writeSynth(join(dir, 'train.csv'), { reference: 500, anomalous: 0, seed: 31 });
  for (const t of BAD_TABLES) writeFileSync(join(dir, `${t.name}.csv`), t.text());
  const r = fluxmut(['train', '--data', 'train.csv', '--features', FEATURES.join(','), '--conditions', CONDITIONS.join(','), '--max-epochs', '2', '--out', 'model'], dir);
  if (r.code !== 0) throw new Error(`fluxmut train failed (${r.code}): ${r.stderr}`);
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('bad tables', () => {
  it.each(BAD_TABLES)('train on $name.csv: exit 65, the file/row/column named, no model written', ({ name, message }) => {
    const r = fluxmut(['train', '--data', `${name}.csv`, '--features', FEATURES.join(','), '--conditions', CONDITIONS.join(','), '--max-epochs', '1', '--out', `model-${name}`], dir);
    expectCleanFailure(r, 65, message);
    expect(existsSync(join(dir, `model-${name}`))).toBe(false);
  });

  it.each(BAD_TABLES)('score $name.csv: exit 65, the file/row/column named, no output written', ({ name, message }) => {
    const r = fluxmut(['score', '--model', 'model', '--data', `${name}.csv`, '--mode', 'cached', ...FAST, '--out', `scored-${name}.csv`], dir);
    expectCleanFailure(r, 65, message);
    expect(existsSync(join(dir, `scored-${name}.csv`))).toBe(false);
  });

  it('a NaN in a row that --filter drops, or in a column the model does not use, is not an error', () => {
    const text = withCell(4, 'f1', 'NaN').replace(/^(obj3,.*),ref$/m, '$1,other');
    writeFileSync(join(dir, 'nan-dropped.csv'), text);
    const t = fluxmut(['train', '--data', 'nan-dropped.csv', '--features', FEATURES.join(','), '--filter', 'class=ref', '--max-epochs', '1', '--out', 'model-dropped'], dir);
    expect(t.stderr).toBe('');
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/trained on 59 reference rows/);
    writeFileSync(join(dir, 'nan-unused.csv'), withCell(4, 'id', 'NaN'));
    const s = fluxmut(['score', '--model', 'model', '--data', 'nan-unused.csv', '--mode', 'cached', ...FAST, '--out', 'unused.csv'], dir);
    expect(s.code).toBe(0);
    expect(readCsv(join(dir, 'unused.csv')).col('id')[3]).toBe('NaN');
  }, 30_000);

  it('a data file that does not exist: exit 66, named', () => {
    const r = fluxmut(['score', '--model', 'model', '--data', 'nosuch.csv', ...FAST, '--out', 'x.csv'], dir);
    expectCleanFailure(r, 66, /nosuch\.csv: no such file/);
    expect(existsSync(join(dir, 'x.csv'))).toBe(false);
  });
});

describe('bad model directories', () => {
  function scoreWith(model: string, out: string): ReturnType<typeof fluxmut> {
    return fluxmut(['score', '--model', model, '--data', 'train.csv', '--mode', 'cached', ...FAST, '--out', out], dir);
  }

  it('a flipped byte in a weight file: checksum mismatch naming the file, exit 67, nothing written', () => {
    cpSync(join(dir, 'model'), join(dir, 'corrupt'), { recursive: true });
    const path = join(dir, 'corrupt', 'cmaf.safetensors');
    const bytes = readFileSync(path);
    bytes[bytes.length - 9] ^= 0x40;
    writeFileSync(path, bytes);
    const r = scoreWith('corrupt', 'corrupt.csv');
    expectCleanFailure(r, 67, /corrupt\/cmaf\.safetensors: checksum mismatch/);
    expect(existsSync(join(dir, 'corrupt.csv'))).toBe(false);
    expectCleanFailure(fluxmut(['inspect', 'corrupt'], dir), 67, /cmaf\.safetensors: checksum mismatch/);
  });

  it('a missing weight file: named, exit 67, nothing written', () => {
    cpSync(join(dir, 'model'), join(dir, 'incomplete'), { recursive: true });
    unlinkSync(join(dir, 'incomplete', 'bank.safetensors'));
    const r = scoreWith('incomplete', 'incomplete.csv');
    expectCleanFailure(r, 67, /incomplete\/bank\.safetensors: weight file is missing/);
    expect(existsSync(join(dir, 'incomplete.csv'))).toBe(false);
  });

  it('a corrupted model.json: named, exit 67', () => {
    cpSync(join(dir, 'model'), join(dir, 'badjson'), { recursive: true });
    writeFileSync(join(dir, 'badjson', 'model.json'), '{"format": "fluxmut-model",');
    expectCleanFailure(scoreWith('badjson', 'badjson.csv'), 67, /badjson\/model\.json: not valid JSON/);
    expect(existsSync(join(dir, 'badjson.csv'))).toBe(false);
  });

  it('a model directory that does not exist: named, exit 66, nothing written', () => {
    const r = scoreWith('no-such-model', 'none.csv');
    expectCleanFailure(r, 66, /no-such-model: not a fluxmut model directory/);
    expect(existsSync(join(dir, 'none.csv'))).toBe(false);
    expectCleanFailure(fluxmut(['inspect', 'no-such-model'], dir), 66, /no-such-model/);
  });
});

describe('conditions outside the training range', () => {
  it('are scored, flagged in out_of_range, and warned about once; exit 0', () => {
    // Rows 3, 4, 8 and 9 (1-based) sit far outside e in [1, 5] or z in [0, 10].
    const lines = synthCsv({ reference: 12, anomalous: 0, seed: 41, eRange: [2, 4], zRange: [2, 8] }).trimEnd().split('\n');
    const outside = new Map<number, [number, number]>([[3, [50, 5]], [4, [3, -20]], [8, [0.01, 5]], [9, [3, 99]]]);
    for (const [row, [e, z]] of outside) {
      const c = lines[row].split(',');
      c[1] = String(e);
      c[2] = String(z);
      lines[row] = c.join(',');
    }
    writeFileSync(join(dir, 'oor.csv'), lines.join('\n') + '\n');
    for (const mode of ['exact', 'cached']) {
      const r = fluxmut(['score', '--model', 'model', '--data', 'oor.csv', '--mode', mode, ...FAST, '--out', `oor-${mode}.csv`], dir);
      expect(r.code).toBe(0);
      const warnings = r.stderr.split('\n').filter((l) => l !== '');
      expect(warnings.length).toBe(1);
      expect(warnings[0]).toMatch(/^fluxmut: warning: oor\.csv: 4 of 12 objects have conditions outside the training range \(first: row 3, e = 50/);
      const s = readCsv(join(dir, `oor-${mode}.csv`));
      expect(s.col('out_of_range')).toEqual(Array.from({ length: 12 }, (_, i) => String(outside.has(i + 1))));
      for (const x of s.num('outlier_score')) expect(Number.isFinite(x)).toBe(true);
      for (const p of s.num('p_value')) expect(p > 0 && p < 1).toBe(true);
    }
  }, 30_000);
});

describe('usage errors (exit 64, nothing written)', () => {
  const score = ['score', '--model', 'model', '--data', 'train.csv'];
  const train = ['train', '--data', 'train.csv', '--features', FEATURES.join(',')];
  const evaluate = ['evaluate', '--model', 'model', '--data', 'train.csv', '--label-column', 'class', '--reference-class', 'ref'];
  const cases: { name: string; args: string[]; out: string; message: RegExp }[] = [
    { name: 'score --mode fast', args: [...score, '--mode', 'fast', '--out', 'u1.csv'], out: 'u1.csv', message: /--mode must be one of exact, cached, got 'fast'/ },
    { name: 'score --scorer knn', args: [...score, '--scorer', 'knn', '--out', 'u2.csv'], out: 'u2.csv', message: /--scorer must be one of glosh, density/ },
    { name: 'score --quantiles 1.5', args: [...score, '--quantiles', '1.5', '--out', 'u3.csv'], out: 'u3.csv', message: /quantiles must lie strictly between 0 and 1, got '1.5'/ },
    { name: 'score --quantiles 0.9,abc', args: [...score, '--quantiles', '0.9,abc', '--out', 'u4.csv'], out: 'u4.csv', message: /quantiles must lie strictly between 0 and 1/ },
    { name: 'score --quantiles ,', args: [...score, '--quantiles', ',', '--out', 'u5.csv'], out: 'u5.csv', message: /at least one quantile/ },
    { name: 'score --n-ref abc', args: [...score, '--n-ref', 'abc', '--out', 'u6.csv'], out: 'u6.csv', message: /--n-ref must be an integer >= 10, got 'abc'/ },
    { name: 'score --bogus', args: [...score, '--bogus', '--out', 'u7.csv'], out: 'u7.csv', message: /unknown option '--bogus'/ },
    { name: 'score without --out', args: [...score], out: 'u8.csv', message: /required option '--out <file>' not specified/ },
    { name: 'score --out x.txt', args: [...score, '--out', 'u9.txt'], out: 'u9.txt', message: /u9\.txt: unknown table format '\.txt'/ },
    { name: 'score min-cluster-size > n-ref', args: [...score, '--n-ref', '50', '--out', 'u10.csv'], out: 'u10.csv', message: /min_cluster_size 1000 exceeds the reference-cluster size 50/ },
    { name: 'train --space latent', args: [...train, '--space', 'latent', '--out', 'u11'], out: 'u11', message: /--space must be one of augmented, features/ },
    { name: 'train --preset big', args: [...train, '--preset', 'big', '--out', 'u12'], out: 'u12', message: /--preset must be one of default, paper/ },
    { name: 'train --max-epochs 0', args: [...train, '--max-epochs', '0', '--out', 'u13'], out: 'u13', message: /--max-epochs must be an integer >= 1/ },
    { name: 'train --filter garbage', args: [...train, '--filter', 'garbage', '--out', 'u14'], out: 'u14', message: /--filter 'garbage': expected COLUMN=VALUE/ },
    { name: 'train a feature twice', args: ['train', '--data', 'train.csv', '--features', 'f1,f2', '--conditions', 'f1', '--out', 'u15'], out: 'u15', message: /column 'f1' is used twice/ },
    { name: 'evaluate --limit 0', args: [...evaluate, '--limit', '0', '--report', 'u16'], out: 'u16', message: /--limit must be an integer >= 1/ },
    { name: 'evaluate --mode fast', args: [...evaluate, '--mode', 'fast', '--report', 'u17'], out: 'u17', message: /--mode must be one of exact, cached/ },
    { name: 'an unknown command', args: ['frobnicate'], out: 'u18', message: /unknown command 'frobnicate'/ },
  ];

  it.each(cases)('$name', ({ args, out, message }) => {
    const r = fluxmut(args, dir);
    expect(r.stderr).toMatch(message);
    expect(stackLines(r.stderr)).toEqual([]);
    expect(r.code).toBe(64);
    expect(existsSync(join(dir, out))).toBe(false);
  });

  it('an output folder that does not exist: exit 73, named', () => {
    const r = fluxmut([...score, '--mode', 'cached', ...FAST, '--out', 'no/such/folder/x.csv'], dir);
    expectCleanFailure(r, 73, /no\/such\/folder\/x\.csv: cannot write/);
  });

  it('train --out naming an existing file that is not a model directory: exit 73, the file untouched', () => {
    writeFileSync(join(dir, 'keep.txt'), 'precious\n');
    const r = fluxmut([...train, '--max-epochs', '1', '--out', 'keep.txt'], dir);
    expectCleanFailure(r, 73, /--out keep\.txt exists and is not a model directory/);
    expect(readFileSync(join(dir, 'keep.txt'), 'utf8')).toBe('precious\n');
  });
});

/** The README text from `heading` to the next heading of the same or a higher level. */
function readmeSection(readme: string, heading: string): string {
  const start = readme.indexOf(`\n${heading}`);
  if (start < 0) throw new Error(`README.md has no section '${heading}'`);
  const rest = readme.slice(start + 1);
  const end = rest.slice(heading.length).search(/\n#{1,3} /);
  return end < 0 ? rest : rest.slice(0, heading.length + end);
}

describe('--help', () => {
  const program = buildProgram();
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const named: Record<string, string[]> = {
    train: ['--data', '--features', '--conditions', '--filter', '--space', '--preset', '--seed', '--max-epochs', '--out'],
    score: ['--model', '--data', '--mode', '--scorer', '--quantiles', '--n-ref', '--min-cluster-size', '--min-samples', '--out'],
    evaluate: ['--model', '--data', '--label-column', '--reference-class', '--mode', '--limit', '--report'],
    inspect: [],
  };

  it.each(Object.keys(named))('fluxmut %s --help lists every option, exits 0; the README documents each one', (name) => {
    const r = fluxmut([name, '--help'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: fluxmut ${name} `));
    const cmd = program.commands.find((c) => c.name() === name)!;
    const longs = cmd.options.map((o) => o.long!);
    for (const o of named[name]) expect(longs).toContain(o);
    const section = readmeSection(readme, `### fluxmut ${name}`);
    for (const o of longs) {
      expect(r.stdout).toContain(`${o} `);
      expect(section).toContain(`\`${o}`);
    }
  });

  // Every other command (and subcommand) too: its --help and its README section list each option.
  const others = program.commands
    .filter((c) => !(c.name() in named))
    .flatMap((c) => (c.commands.length ? c.commands.map((sub) => [c.name(), sub.name()]) : [[c.name()]]))
    .map((words) => ({ name: words.join(' '), words }));

  it.each(others)('fluxmut $name --help and the README list every option', ({ words }) => {
    const r = fluxmut([...words, '--help'], dir);
    expect(r.code).toBe(0);
    let cmd = program;
    for (const w of words) cmd = cmd.commands.find((c) => c.name() === w)!;
    const section = readmeSection(readme, `### fluxmut ${words[0]}`);
    expect(cmd.options.length).toBeGreaterThan(0);
    for (const o of cmd.options) {
      expect(r.stdout).toContain(`${o.long} `);
      expect(section).toContain(`\`${o.long}`);
    }
  });

  it('fluxmut --help lists every command', () => {
    const r = fluxmut(['--help'], dir);
    expect(r.code).toBe(0);
    for (const c of ['train', 'score', 'evaluate', 'inspect', 'hdbscan', 'simulate']) expect(r.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
  });
});
