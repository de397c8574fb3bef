import type { Command } from 'commander';
import { ExitCode, FluxmutError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { formatOf, writeTable } from '../data/table.js';
import { simulateBcalParallel, simulateDijet } from '../data/simulate/index.js';
import { intArg } from './options.js';

/** The most rows of one class a single command simulates (memory: ~150 bytes per row). */
export const MAX_SIMULATED_ROWS = 10_000_000;

export interface SimulateBcalCommandOptions {
  photons: number;
  neutrons: number;
  perturb?: boolean;
  seed?: number;
  /** Threads to simulate on (default: every core); the rows do not depend on it. */
  threads?: number;
  out: string;
}

export interface SimulateDijetCommandOptions {
  qcd: number;
  signal: number;
  seed?: number;
  out: string;
}

function checkCounts(counts: Record<string, number>): void {
  let total = 0;
  for (const [name, n] of Object.entries(counts)) {
    if (!Number.isInteger(n) || n < 0) {
      throw new FluxmutError(`--${name} must be a non-negative integer, got ${n}`, ExitCode.Usage);
    }
    if (n > MAX_SIMULATED_ROWS) {
      throw new FluxmutError(`--${name} ${n} is more than ${MAX_SIMULATED_ROWS} rows; simulate in several files with different --seed values.`, ExitCode.Usage);
    }
    total += n;
  }
  if (total === 0) {
    const names = Object.keys(counts).map((k) => `--${k}`).join(' or ');
    throw new FluxmutError(`nothing to simulate: give ${names} a positive count.`, ExitCode.Usage);
  }
}

function checkOut(out: string | undefined): string {
  if (out === undefined || out.trim() === '') {
    throw new FluxmutError('--out <file> is required: the table to write (.csv, .tsv or .parquet).', ExitCode.Usage);
  }
  formatOf(out);
  return out;
}

function checkSeed(seed: number | undefined): number {
  const s = seed ?? 1;
  if (!Number.isSafeInteger(s)) throw new FluxmutError(`--seed must be an integer, got ${s}`, ExitCode.Usage);
  return s;
}

/** `fluxmut simulate bcal`: photons then neutrons, written to `out`. */
export async function runSimulateBcal(o: SimulateBcalCommandOptions): Promise<{ rows: number; seconds: number }> {
  const out = checkOut(o.out);
  checkCounts({ photons: o.photons, neutrons: o.neutrons });
  const seed = checkSeed(o.seed);
  const t0 = performance.now();
  const table = await simulateBcalParallel({ photons: o.photons, neutrons: o.neutrons, perturb: o.perturb === true }, new Rng(seed), { threads: o.threads });
  const seconds = (performance.now() - t0) / 1000;
  table.source = out;
  await writeTable(out, table);
  return { rows: table.nRows, seconds };
}

/** `fluxmut simulate dijet`: QCD then signal events, written to `out`. */
export async function runSimulateDijet(o: SimulateDijetCommandOptions): Promise<{ rows: number; seconds: number }> {
  const out = checkOut(o.out);
  checkCounts({ qcd: o.qcd, signal: o.signal });
  const seed = checkSeed(o.seed);
  const t0 = performance.now();
  const table = simulateDijet({ qcd: o.qcd, signal: o.signal }, new Rng(seed));
  const seconds = (performance.now() - t0) / 1000;
  table.source = out;
  await writeTable(out, table);
  return { rows: table.nRows, seconds };
}

function count(name: string): (v: string) => number {
  return (v: string) => {
    if (!/^\s*\d+\s*$/.test(v)) {
      throw new FluxmutError(`--${name} must be a non-negative integer, got '${v}'`, ExitCode.Usage);
    }
    return Number(v);
  };
}

function seedArg(v: string): number {
  if (!/^\s*-?\d+\s*$/.test(v) || !Number.isSafeInteger(Number(v))) {
    throw new FluxmutError(`--seed must be an integer, got '${v}'`, ExitCode.Usage);
  }
  return Number(v);
}

export function register(program: Command): void {
  const sim = program
    .command('simulate')
    .description('write simulated data sets: GlueX-like calorimeter showers (bcal) or LHC-like dijets (dijet)');
  sim
    .command('bcal')
    .description(
      'photon (reference) and neutron showers in a barrel calorimeter: columns E, z (conditions), 14 shower features, radius, class',
    )
    .requiredOption('--photons <n>', 'number of photon showers', count('photons'))
    .requiredOption('--neutrons <n>', 'number of neutron showers', count('neutrons'))
    .option('--perturb', "shift the neutrons' features toward the photons (the paper's Appendix C, P = 10%)", false)
    .option('--seed <n>', 'random seed', seedArg, 1)
    .option('--threads <n>', 'threads to simulate on (default: every core); the same seed gives the same rows with any number', intArg('--threads', 1))
    .requiredOption('--out <file>', 'output table (.csv, .tsv or .parquet)')
    .action(async (opts: SimulateBcalCommandOptions) => {
      const r = await runSimulateBcal(opts);
      process.stderr.write(`simulate bcal: ${r.rows} showers in ${r.seconds.toFixed(2)} s -> ${opts.out}\n`);
    });
  sim
    .command('dijet')
    .description('QCD (reference) and Z\' -> t tbar (signal) dijets: columns pT (leading jet, condition), 15 jet features, class')
    .requiredOption('--qcd <n>', 'number of QCD dijet events', count('qcd'))
    .requiredOption('--signal <n>', "number of Z' -> t tbar events", count('signal'))
    .option('--seed <n>', 'random seed', seedArg, 1)
    .requiredOption('--out <file>', 'output table (.csv, .tsv or .parquet)')
    .action(async (opts: SimulateDijetCommandOptions) => {
      const r = await runSimulateDijet(opts);
      process.stderr.write(`simulate dijet: ${r.rows} events in ${r.seconds.toFixed(2)} s -> ${opts.out}\n`);
    });
}
