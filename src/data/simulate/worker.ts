/**
 * Worker thread of parallel.ts: simulates the BCAL chunks it is sent and posts each block back
 * (its arrays transferred, not copied).
 */
import { parentPort } from 'node:worker_threads';
import { simulateBcalChunk, type BcalParticle } from './bcal.js';

export interface ChunkJob {
  particle: BcalParticle;
  rows: number;
  seed: Int32Array;
}

parentPort?.on('message', (job: ChunkJob) => {
  const b = simulateBcalChunk(job.particle, job.rows, job.seed);
  parentPort!.postMessage(b, [b.E.buffer, b.z.buffer, b.features.buffer] as ArrayBuffer[]);
});
