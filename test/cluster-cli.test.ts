// `fluxmut hdbscan` end to end: the library function on a small CSV, and one spawn of the built CLI.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runHdbscan } from '../src/cli/hdbscan.js';
import { hdbscan } from '../src/cluster/index.js';
import { FluxmutError } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'fluxmut-hdbscan-'));

function writeBlobs(file: string, extra = false): Float64Array {
  const rng = new Rng(3);
  const n = 60;
  const X = new Float64Array(n * 2);
  const lines = [extra ? 'id,x,y' : 'x,y'];
  for (let i = 0; i < n; i++) {
    const c = i % 2 === 0 ? 0 : 8;
    X[2 * i] = c + rng.normal();
    X[2 * i + 1] = c + rng.normal();
    lines.push((extra ? `${1000 + i},` : '') + `${X[2 * i]},${X[2 * i + 1]}`);
  }
  writeFileSync(file, lines.join('\n') + '\n');
  return X;
}
function readOut(file: string): number[][] {
  const [head, ...rows] = readFileSync(file, 'utf8').trim().split('\n');
  expect(head.split(',')).toEqual(['label', 'probability', 'outlier_score']);
  return rows.map((r) => r.split(',').map(Number));
}

describe('fluxmut hdbscan', () => {
  it('writes label, probability and outlier_score per row, equal to the library fit', async () => {
    const input = join(dir, 'pts.csv');
    const X = writeBlobs(join(dir, 'pts-id.csv'), true);
    writeBlobs(input);
    const out = join(dir, 'res.csv');
    const r = await runHdbscan({ input: join(dir, 'pts-id.csv'), out, minClusterSize: 5, minSamples: 3, columns: ['x', 'y'] });
    expect(r.rows).toBe(60);
    const fit = hdbscan(X, 60, 2, { minClusterSize: 5, minSamples: 3 });
    const rows = readOut(out);
    rows.forEach(([l, p, s], i) => {
      expect(l).toBe(fit.labels[i]);
      expect(p).toBeCloseTo(fit.probabilities[i], 12);
      expect(s).toBeCloseTo(fit.outlierScores[i], 12);
    });
    expect(r.clusters).toBe(2);
  });

  it('rejects a non-numeric cell and a single-row file with a FluxmutError', async () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'x,y\n1,2\n3,abc\n4,5\n');
    await expect(runHdbscan({ input: bad, out: join(dir, 'o.csv'), minClusterSize: 2 })).rejects.toThrow(FluxmutError);
    const one = join(dir, 'one.csv');
    writeFileSync(one, 'x,y\n1,2\n');
    await expect(runHdbscan({ input: one, out: join(dir, 'o.csv'), minClusterSize: 2 })).rejects.toThrow(/at least 2 points/);
  });

  it('runs as `node bin/fluxmut.js hdbscan` (after npm run build:ts)', () => {
    try {
      execFileSync('npm', ['run', 'build:ts', '--silent'], { cwd: root, stdio: 'ignore' });
    } catch {
      // tsc still emits dist/ when files elsewhere in the tree have type errors.
    }
    const input = join(dir, 'cli.csv');
    writeBlobs(input);
    const out = join(dir, 'cli-out.csv');
    const ok = spawnSync('node', ['bin/fluxmut.js', 'hdbscan', '--input', input, '--min-cluster-size', '5', '--min-samples', '3', '--glosh', 'subtree', '--out', out], { cwd: root, encoding: 'utf8' });
    expect(ok.status, ok.stderr).toBe(0);
    expect(readOut(out)).toHaveLength(60);
    const bad = spawnSync('node', ['bin/fluxmut.js', 'hdbscan', '--input', input, '--min-cluster-size', '1', '--out', out], { cwd: root, encoding: 'utf8' });
    expect(bad.status).toBe(64);
    expect(bad.stderr).toMatch(/min-cluster-size must be an integer >= 2/);
    expect(bad.stderr).not.toMatch(/\n\s+at /); // no stack trace
  }, 120_000);
});
