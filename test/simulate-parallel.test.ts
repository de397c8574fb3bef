/**
 * Chunked and multi-threaded BCAL simulation: the rows depend on the seed only, not on the chunking
 * into worker threads. In-process here (vitest runs the TypeScript sources, where no compiled
 * worker exists); through the built command with real worker threads below.
 */
import { describe, it, expect } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../src/core/rng.js';
import { BCAL_CHUNK_ROWS, Sampler, samplerSeed, simulateBcal, simulateBcalBlock, simulateBcalChunk, simulateBcalParallel } from '../src/data/simulate/index.js';
import { fluxmut, REPO } from './cli-helpers.js';

describe('chunked BCAL blocks', () => {
  it('a block of up to one chunk is the single-sampler simulation of before; a larger one is its chunks in order', () => {
    const small = simulateBcalBlock('photon', 50, new Rng(3));
    // One chunk: the Sampler seeded from the block's generator directly.
    const direct = simulateBcalChunk('photon', 50, samplerSeed(new Rng(3)));
    expect(small.features).toEqual(direct.features);
    const n = BCAL_CHUNK_ROWS + 20;
    const big = simulateBcalBlock('neutron', n, new Rng(4));
    const rng = new Rng(4);
    const first = simulateBcalChunk('neutron', BCAL_CHUNK_ROWS, samplerSeed(rng));
    const second = simulateBcalChunk('neutron', 20, samplerSeed(rng.fork()));
    expect(big.E.length).toBe(n);
    expect(big.features.subarray(0, first.features.length)).toEqual(first.features);
    expect(big.features.subarray(first.features.length)).toEqual(second.features);
    expect(big.attempts).toBe(first.attempts + second.attempts);
  }, 30_000);

  it('new Sampler(rng) and new Sampler(samplerSeed(rng)) draw the same stream', () => {
    const a = new Sampler(new Rng(9));
    const b = new Sampler(samplerSeed(new Rng(9)));
    for (let i = 0; i < 100; i++) expect(a.normal()).toBe(b.normal());
  });

  it('simulateBcalParallel returns exactly the table of simulateBcal, perturbed or not', async () => {
    const opts = { photons: BCAL_CHUNK_ROWS + 5, neutrons: 300 };
    for (const perturb of [false, true]) {
      const seq = simulateBcal({ ...opts, perturb }, new Rng(5));
      const par = await simulateBcalParallel({ ...opts, perturb }, new Rng(5), { threads: 2 });
      expect(par.nRows).toBe(seq.nRows);
      expect(par.columns.map((c) => c.name)).toEqual(seq.columns.map((c) => c.name));
      par.columns.forEach((c, j) => expect(c.values, c.name).toEqual(seq.columns[j].values));
    }
  }, 60_000);
});

describe('fluxmut simulate bcal --threads (worker threads of the built command)', () => {
  it('writes the same file with 1 and 2 threads; --threads 0 is a usage error', () => {
    expect(existsSync(join(REPO, 'dist', 'data', 'simulate', 'worker.js'))).toBe(true); // so 2 threads really are workers
    const dir = mkdtempSync(join(tmpdir(), 'fluxmut-threads-'));
    try {
      const args = ['simulate', 'bcal', '--photons', String(BCAL_CHUNK_ROWS + 100), '--neutrons', '2000', '--seed', '7'];
      const one = fluxmut([...args, '--threads', '1', '--out', 'one.csv'], dir);
      const two = fluxmut([...args, '--threads', '2', '--out', 'two.csv'], dir);
      expect(one.code).toBe(0);
      expect(two.code).toBe(0);
      expect(readFileSync(join(dir, 'two.csv')).equals(readFileSync(join(dir, 'one.csv')))).toBe(true);
      const bad = fluxmut([...args, '--threads', '0', '--out', 'bad.csv'], dir);
      expect(bad.code).toBe(64);
      expect(bad.stderr).toMatch(/--threads must be an integer >= 1/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
