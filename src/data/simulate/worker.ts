/**
 * Worker thread of parallel.ts: simulates the BCAL chunks it is sent and posts each block back
 * (its arrays transferred, not copied).
 */
import { parentPort } from 'node:worker_threads';
import { simulateBcalChunk, type BcalChunkJob } from './bcal.js';

parentPort?.on('message', (job: BcalChunkJob) => {
  const b = simulateBcalChunk(job.particle, job.rows, job.seed);
  parentPort!.postMessage(b, [b.E.buffer, b.z.buffer, b.features.buffer] as ArrayBuffer[]);
});
