import type { Command } from 'commander';
import { ExitCode, FluxmutError } from '../core/errors.js';
import { hdbscan, type GloshMode, type SelectionMethod } from '../cluster/index.js';
import { makeTable, numberColumn, numericMatrix, readTable, writeTable } from '../data/table.js';

export interface HdbscanCommandOptions {
  input: string;
  out: string;
  minClusterSize: number;
  minSamples?: number;
  selection?: SelectionMethod;
  allowSingleCluster?: boolean;
  columns?: string[];
  glosh?: GloshMode;
}

/**
 * `fluxmut hdbscan`: clusters the rows of a numeric table and writes label, probability and
 * outlier_score (GLOSH) per row, in input order.
 */
export async function runHdbscan(o: HdbscanCommandOptions): Promise<{ rows: number; clusters: number; noise: number }> {
  const table = await readTable(o.input, o.columns ? { columns: o.columns } : {});
  if (table.nRows === 0) throw new FluxmutError(`${o.input}: no data rows; HDBSCAN needs at least 2 points.`, ExitCode.BadInput);
  const { data, rows, cols } = numericMatrix(table, o.columns);
  if (cols === 0) throw new FluxmutError(`${o.input}: no columns to cluster.`, ExitCode.BadInput);
  if (rows < 2) throw new FluxmutError(`${o.input}: ${rows} data row; HDBSCAN needs at least 2 points.`, ExitCode.BadInput);
  const fit = hdbscan(data, rows, cols, {
    minClusterSize: o.minClusterSize,
    minSamples: o.minSamples,
    clusterSelectionMethod: o.selection,
    allowSingleCluster: o.allowSingleCluster,
    glosh: o.glosh,
  });
  const out = makeTable([
    numberColumn('label', fit.labels),
    numberColumn('probability', fit.probabilities),
    numberColumn('outlier_score', fit.outlierScores),
  ]);
  await writeTable(o.out, out);
  let noise = 0;
  for (let i = 0; i < rows; i++) if (fit.labels[i] < 0) noise++;
  return { rows, clusters: fit.nClusters, noise };
}

function positiveInt(name: string, min: number): (v: string) => number {
  return (v: string) => {
    const x = Number(v);
    if (!/^\s*\d+\s*$/.test(v) || !Number.isInteger(x) || x < min) {
      throw new FluxmutError(`--${name} must be an integer >= ${min}, got '${v}'`, ExitCode.Usage);
    }
    return x;
  };
}

function oneOf<T extends string>(name: string, allowed: readonly T[]): (v: string) => T {
  return (v: string) => {
    if (!(allowed as readonly string[]).includes(v)) {
      throw new FluxmutError(`--${name} must be one of ${allowed.join(', ')}, got '${v}'`, ExitCode.Usage);
    }
    return v as T;
  };
}

export function register(program: Command): void {
  program
    .command('hdbscan')
    .description('cluster a numeric table with HDBSCAN; writes label, probability and GLOSH outlier_score per row')
    .requiredOption('--input <file>', 'input table (.csv, .tsv or .parquet); every column is a coordinate unless --columns is given')
    .requiredOption('--out <file>', 'output table with columns label, probability, outlier_score')
    .requiredOption('--min-cluster-size <m>', 'smallest cluster size (>= 2)', positiveInt('min-cluster-size', 2))
    .option('--min-samples <s>', 'neighbour rank of the core distance (default: min-cluster-size; clamped to rows - 1)', positiveInt('min-samples', 1))
    .option('--selection <method>', 'cluster selection: eom (excess of mass) or leaf', oneOf('selection', ['eom', 'leaf'] as const), 'eom')
    .option('--allow-single-cluster', 'allow the root to be selected as the only cluster', false)
    .option('--columns <names>', 'comma-separated coordinate columns', (v: string) => v.split(',').map((s) => s.trim()).filter((s) => s.length > 0))
    .option('--glosh <mode>', 'GLOSH λ_max: reference (hdbscan 0.8.29, direct children) or subtree (the paper)', oneOf('glosh', ['reference', 'subtree'] as const), 'reference')
    .action(async (opts: HdbscanCommandOptions) => {
      const r = await runHdbscan(opts);
      process.stderr.write(`hdbscan: ${r.rows} rows, ${r.clusters} clusters, ${r.noise} noise points -> ${opts.out}\n`);
    });
}
