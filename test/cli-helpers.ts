/**
 * Helpers for the end-to-end CLI tests: run the built `fluxmut` (bin/fluxmut.js -> dist/) as a
 * user would, write small synthetic tables, read CSV output back without our own reader (so a
 * writer bug cannot hide behind a matching reader bug).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Rng } from '../src/core/rng.js';

export const REPO = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(REPO, 'bin', 'fluxmut.js');

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/fluxmut.js ...args` in `cwd` (stderr is not a TTY, so no progress bars). */
export function fluxmut(args: string[], cwd: string): RunResult {
  if (!existsSync(join(REPO, 'dist', 'cli', 'main.js'))) {
    throw new Error('dist/ is missing: run `npm run build:ts` (npm install does it) before the CLI tests');
  }
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Options that keep scoring fast on a tiny model (the paper's 1500/1000/100 is for real runs). */
export const FAST = ['--n-ref', '200', '--min-cluster-size', '100', '--min-samples', '10'];

export const FEATURES = ['f1', 'f2', 'f3'];
export const CONDITIONS = ['e', 'z'];

export interface SynthOptions {
  reference: number;
  anomalous: number;
  seed: number;
  /** Condition ranges [min, max] of e and z. */
  eRange?: [number, number];
  zRange?: [number, number];
}

/**
 * A labelled table: conditions e, z uniform; features depend on them (f1 ~ e, f2 ~ z/10) plus
 * unit noise; anomalies are shifted by 3 sigma in f1 and f3. A string column `id` rides along to
 * check that every input column is kept. Rows: reference first, then anomalous.
 */
export function synthCsv(o: SynthOptions): string {
  const rng = new Rng(o.seed);
  const [e0, e1] = o.eRange ?? [1, 5];
  const [z0, z1] = o.zRange ?? [0, 10];
  const lines = ['id,e,z,f1,f2,f3,class'];
  const n = o.reference + o.anomalous;
  for (let i = 0; i < n; i++) {
    const anomalous = i >= o.reference;
    const e = e0 + (e1 - e0) * rng.uniform();
    const z = z0 + (z1 - z0) * rng.uniform();
    const shift = anomalous ? 3 : 0;
    const f1 = e + 0.3 * rng.normal() + shift;
    const f2 = 0.1 * z + 0.5 * rng.normal();
    const f3 = rng.normal() + shift;
    lines.push([`obj${i}`, e.toFixed(5), z.toFixed(5), f1.toFixed(6), f2.toFixed(6), f3.toFixed(6), anomalous ? 'anom' : 'ref'].join(','));
  }
  return lines.join('\n') + '\n';
}

export function writeSynth(path: string, o: SynthOptions): void {
  writeFileSync(path, synthCsv(o));
}

/** A plain CSV (no quoting: our synthetic tables and the score columns never need it). */
export interface Csv {
  header: string[];
  rows: string[][];
  col(name: string): string[];
  num(name: string): number[];
}

export function readCsv(path: string): Csv {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/).filter((l) => l !== '');
  const header = lines[0].split(',');
  const rows = lines.slice(1).map((l) => l.split(','));
  const index = (name: string): number => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`${path}: no column ${name} in ${header.join(',')}`);
    return i;
  };
  return {
    header,
    rows,
    col: (name) => rows.map((r) => r[index(name)]),
    num: (name) => rows.map((r) => Number(r[index(name)])),
  };
}

/** The score columns DESIGN.md names, in order, for sorted quantiles. */
export function scoreColumns(quantiles: string[]): string[] {
  return ['outlier_score', 'p_value', ...quantiles.flatMap((q) => [`threshold_${q}`, `is_outlier_${q}`]), 'out_of_range'];
}

/** Lines of a stack trace ("    at f (file:1:2)") that a user must never see. */
export function stackLines(text: string): string[] {
  return text.split('\n').filter((l) => /^\s+at\s/.test(l));
}

/**
 * Mann-Whitney AUC of "score separates anomalous (positive) from reference": the probability that
 * an anomalous object scores above a reference one, ties counting one half. O(n^2) is fine here.
 */
export function mannWhitneyAuc(score: number[], isReference: boolean[]): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < score.length; i++) {
    if (isReference[i]) continue;
    for (let j = 0; j < score.length; j++) {
      if (!isReference[j]) continue;
      pairs++;
      if (score[i] > score[j]) wins += 1;
      else if (score[i] === score[j]) wins += 0.5;
    }
  }
  return wins / pairs;
}
