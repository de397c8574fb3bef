/**
 * BCAL showers on several threads. A block of photons or neutrons is simulated in chunks of
 * BCAL_CHUNK_ROWS rows, each from its own seed (bcal.ts bcalChunkJobs), so the rows do not depend on
 * how many threads simulate them: `simulateBcalParallel` returns exactly the table of
 * `simulateBcal` with the same generator. Measured with `npm run bench simulate`: see README.
 *
 * The worker threads run the compiled worker.js beside this module (dist/ after `npm install`).
 * Where it is absent (this module run from its TypeScript source, e.g. under vitest) the chunks
 * run one after the other in this thread, with the same result.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { FluxmutError } from '../../core/errors.js';
import type { Rng } from '../../core/rng.js';
import type { Table } from '../table.js';
import { bcalChunkJobs, bcalTableOfChunks, simulateBcalChunk, type BcalBlock, type BcalChunkJob, type BcalOptions } from './bcal.js';
import { perturbBcal } from './perturb.js';

const WORKER = new URL('./worker.js', import.meta.url);

export interface ParallelOptions {
  /** Threads to simulate on (default: every core Node reports); 1 runs in this thread. */
  threads?: number;
}

/** simulateBcal (index.ts) on several threads: the same table for the same generator. */
export async function simulateBcalParallel(opts: BcalOptions, rng: Rng, options: ParallelOptions = {}): Promise<Table> {
  const threads = options.threads ?? availableParallelism();
  if (!(Number.isInteger(threads) && threads >= 1)) throw new FluxmutError(`threads must be a positive integer, got ${threads}`);
  const jobs = bcalChunkJobs(opts, rng);
  const t = bcalTableOfChunks(jobs, await runJobs(jobs, threads));
  return opts.perturb ? perturbBcal(t) : t;
}

/** Whether chunks can go to worker threads (the compiled worker exists). */
export function workersAvailable(): boolean {
  return existsSync(fileURLToPath(WORKER));
}

async function runJobs(jobs: BcalChunkJob[], threads: number): Promise<BcalBlock[]> {
  const n = Math.min(threads, jobs.length);
  if (n <= 1 || !workersAvailable()) return jobs.map((j) => simulateBcalChunk(j.particle, j.rows, j.seed));
  const results: BcalBlock[] = new Array(jobs.length);
  const workers = Array.from({ length: n }, () => new Worker(WORKER));
  try {
    let next = 0;
    await Promise.all(workers.map((w) => new Promise<void>((resolve, reject) => {
      let current = -1;
      const give = (): void => {
        if (next >= jobs.length) { resolve(); return; }
        current = next++;
        w.postMessage(jobs[current]);
      };
      w.on('message', (b: BcalBlock) => { results[current] = b; give(); });
      w.on('error', (e) => reject(new FluxmutError(`simulation worker failed: ${e.message}`)));
      w.on('exit', (code) => { if (code !== 0) reject(new FluxmutError(`simulation worker exited with code ${code}`)); });
      give();
    })));
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}
